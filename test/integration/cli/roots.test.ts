// `qlab roots`: the file roots listed, added (as real paths) and removed from the command line — the way
// browser mode edits them, since the page may not.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { qlabIn } from '../../helpers/seed-lab';

const dir = mkdtempSync(join(tmpdir(), 'qlab-cli-roots-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const qlab = qlabIn(() => dir);

describe('qlab roots', () => {
  it('lists, adds (a symlink as its target) and removes folders; refuses a missing folder', async () => {
    const lab = join(dir, 'lab');
    const data = join(dir, 'data');
    mkdirSync(data);
    symlinkSync(data, join(dir, 'link'));
    expect((await qlab('roots', '--lab-dir', lab)).stdout).toBe(
      `${join(lab, 'imports')}  (imports folder, always)\n`,
    );
    const add = await qlab('roots', 'add', 'link', '--lab-dir', lab);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toBe(`${join(lab, 'imports')}  (imports folder, always)\n${data}\n`);
    expect(JSON.parse(readFileSync(join(lab, 'settings.json'), 'utf8'))).toEqual({ fileRoots: [data] });

    const missing = await qlab('roots', 'add', 'nowhere', '--lab-dir', lab);
    expect(missing).toEqual({
      code: 2,
      stdout: '',
      stderr: `qlab: ${join(dir, 'nowhere')}: no such folder\n`,
    });

    const notListed = await qlab('roots', 'remove', 'lab', '--lab-dir', lab);
    expect(notListed.code).toBe(2);
    expect(notListed.stderr).toContain('is not listed in');

    const rm = await qlab('roots', 'remove', 'link', '--lab-dir', lab, '--json');
    expect(rm.code, rm.stderr).toBe(0);
    expect(JSON.parse(rm.stdout)).toEqual({
      settingsFile: join(lab, 'settings.json'),
      roots: [{ path: join(lab, 'imports'), source: 'imports', exists: true }],
    });
    expect((await qlab('roots', 'frob', '--lab-dir', lab)).code).toBe(2);
  });
});
