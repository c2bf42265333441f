// `qlab bundle export` / `qlab bundle import` through the CLI entry, in this process, on temporary labs.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../../core/lab/store';
import { dumpLab as dump, qlabIn, seedLab } from '../../helpers/seed-lab';

let dir: string;
let srcLab: string;
let parent: string;
let child: string;

const qlab = qlabIn(() => dir);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qlab-cli-bundle-'));
  srcLab = join(dir, 'src');
  ({ parent, child } = seedLab(srcLab, { bytes: Buffer.from('model bytes'), losses: [0.5] }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('qlab bundle', () => {
  it('exports by id prefix and imports into an empty lab; a second import changes nothing', async () => {
    const ex = await qlab('bundle', 'export', parent.slice(0, 8), '--out', 'runs.qlab', '--lab-dir', srcLab);
    expect(ex.code, ex.stderr).toBe(0);
    expect(ex.stdout).toMatch(/^exported 2 run\(s\) and 1 artifact file\(s\) to runs\.qlab/);

    const dst = join(dir, 'dst');
    const im = await qlab('bundle', 'import', 'runs.qlab', '--lab-dir', dst, '--json');
    expect(im.code, im.stderr).toBe(0);
    expect(JSON.parse(im.stdout)).toEqual({ imported: [parent, child], skipped: [], artifacts: 1 });
    expect(dump(dst)).toEqual(dump(srcLab));
    expect(readFileSync(join(dst, 'artifacts', child, 'm.bin'), 'utf8')).toBe('model bytes');

    const again = await qlab('bundle', 'import', 'runs.qlab', '--lab-dir', dst);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(
      'imported 0 run(s) and 0 artifact file(s); 2 already in the lab, left as they were\n',
    );
    expect(dump(dst)).toEqual(dump(srcLab));
  });

  it('refuses a damaged bundle with one line, exit 2, and nothing written', async () => {
    const ex = await qlab('bundle', 'export', child, '--out', 'b.qlab', '--lab-dir', srcLab);
    expect(ex.code, ex.stderr).toBe(0);
    const b = readFileSync(join(dir, 'b.qlab'));
    writeFileSync(join(dir, 'cut.qlab'), b.subarray(0, b.length - 3));
    const dst = join(dir, 'dst2');
    const r = await qlab('bundle', 'import', 'cut.qlab', '--lab-dir', dst);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^qlab: .*cut\.qlab is truncated \(its end marker is missing\)\n$/);
    expect(r.stdout).toBe('');
    // The lab did not exist: none is left behind.
    expect(existsSync(dst)).toBe(false);
    // An existing lab (without an artifacts folder yet) keeps exactly what it had.
    const dst3 = join(dir, 'dst3');
    Store.open(join(dst3, 'lab.sqlite')).close();
    const before = readdirSync(dst3).sort();
    // Damage the artifact entry (the last one), so the refusal comes after the staging folder was made.
    const mLen = b.readUInt32BE(b.length - 44);
    const manifest = JSON.parse(b.subarray(b.length - 44 - mLen, b.length - 44).toString('utf8')) as {
      entries: { name: string; offset: number }[];
    };
    const art = manifest.entries[manifest.entries.length - 1];
    expect(art.name).toBe(`artifacts/${child}/m.bin`);
    const c = Buffer.from(b);
    c[art.offset] ^= 0xff;
    writeFileSync(join(dir, 'bad.qlab'), c);
    const r2 = await qlab('bundle', 'import', 'bad.qlab', '--lab-dir', dst3);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/bad checksum for entry artifacts\//);
    expect(readdirSync(dst3).sort()).toEqual(before);
    expect(dump(dst3)).toMatchObject({ runs: [], metrics: [], artifacts: [] });
  });

  it('usage errors exit 2 with one line', async () => {
    const cases: [string[], RegExp][] = [
      [['bundle'], /needs 'export <id…> --out FILE' or 'import FILE'/],
      [['bundle', 'pack'], /unknown 'qlab bundle' command 'pack'/],
      [['bundle', 'export', parent, '--lab-dir', srcLab], /needs --out FILE/],
      [['bundle', 'export', 'zzzz', '--out', 'x.qlab', '--lab-dir', srcLab], /not a run id/],
      [['bundle', 'export', 'ffff0000', '--out', 'x.qlab', '--lab-dir', srcLab], /no run matches 'ffff0000'/],
      [['bundle', 'export', parent, '--out', 'x.qlab', '--lab-dir', join(dir, 'nolab')], /no lab at/],
      [
        ['bundle', 'export', parent, '--out', 'no/such/x.qlab', '--lab-dir', srcLab],
        /folder .* does not exist/,
      ],
      [['bundle', 'export', parent, '--out', '.', '--lab-dir', srcLab], /is a folder/],
      [['bundle', 'import', '--lab-dir', srcLab], /needs a bundle file/],
      [['bundle', 'import', 'missing.qlab', '--lab-dir', srcLab], /no bundle file .*missing\.qlab/],
    ];
    for (const [args, msg] of cases) {
      const r = await qlab(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
