import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from '../../../core/lab/artifact-store';
import { BUNDLE_FORMAT_VERSION, exportBundle, importBundle } from '../../../core/lab/bundle';
import { SqliteRunStore } from '../../../core/lab/store-sqlite';
import { Store } from '../../../core/lab/store';
import { dumpStore } from '../../helpers/seed-lab';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'qlab-bundle-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function openLab(name: string): { store: Store; labDir: string } {
  const labDir = join(dir, name);
  mkdirSync(labDir, { recursive: true });
  return { store: Store.open(join(labDir, 'lab.sqlite')), labDir };
}

/** The bundle functions on a lab's SQLite store and local artifact folder, through the RunStore seam. */
const exportB = (store: Store, labDir: string, ids: string[], out: string) =>
  exportBundle(
    new SqliteRunStore(store, join(labDir, 'lab.sqlite')),
    new LocalArtifactStore(labDir),
    ids,
    out,
  );
const importB = (store: Store, labDir: string, file: string) =>
  importBundle(
    new SqliteRunStore(store, join(labDir, 'lab.sqlite')),
    new LocalArtifactStore(labDir),
    labDir,
    file,
  );

function addArtifact(store: Store, labDir: string, runId: string, name: string, bytes: Buffer): void {
  const folder = join(labDir, 'artifacts', runId);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, name), bytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  store.addArtifact(
    runId,
    { name, kind: 'file', path: `artifacts/${runId}/${name}`, bytes: bytes.length, sha256 },
    '2026-01-01T00:00:03.000Z',
  );
}

/** A finished sweep (parent with two children) and a failed top-level run, with every kind of row. */
function fillSource(store: Store, labDir: string): { parent: string; children: string[]; other: string } {
  const parent = randomUUID();
  store.insertRun({
    id: parent,
    kind: 'sweep',
    name: 'the sweep',
    config: { lr: [0.1, 0.01] },
    seed: 42,
    createdAt: '2026-01-01T00:00:00.000Z',
    codeVersion: 'v1',
    tags: ['a', 'b'],
  });
  store.claimRun(parent, '2026-01-01T00:00:01.000Z', { cpu: 'x' });
  const children = [randomUUID(), randomUUID()];
  children.forEach((c, i) => {
    store.insertChildRun({
      id: c,
      parentId: parent,
      kind: 'point',
      name: `point ${i}`,
      config: { lr: i },
      seed: i,
      at: `2026-01-01T00:00:0${2 + i}.000Z`,
      codeVersion: 'v1',
      host: { cpu: 'x' },
    });
    store.addMetrics(c, [
      { key: 'loss', step: 0, value: 1.5 + i, wallTime: 1000.25 },
      { key: 'loss', step: 1, value: 0.1 + 0.2, wallTime: 1001.5 },
      { key: 'acc', step: 1, value: -0, wallTime: 1001.5 },
      { key: 'grad', step: 3, value: Infinity, wallTime: 1002 },
    ]);
    addArtifact(store, labDir, c, 'weights.bin', Buffer.from([0, 1, 2, 255, i]));
  });
  store.addMetrics(parent, [{ key: 'best', step: 0, value: Math.PI, wallTime: 5 }]);
  store.finishChildren(parent, 'succeeded', '2026-01-01T00:01:00.000Z', null);
  store.setResult(parent, { best: 0.3 }, [{ title: 'T', blocks: [] }] as never, { backend: 'cpu' });
  addArtifact(store, labDir, parent, 'report.html', Buffer.from('<p>ok</p>'));
  store.addNote(parent, 'first note', '2026-01-01T00:02:00.000Z');
  store.finishRun(parent, 'succeeded', '2026-01-01T00:01:01.000Z', null);

  const other = randomUUID();
  store.insertRun({
    id: other,
    kind: 'k',
    name: 'other',
    config: {},
    seed: 1,
    createdAt: '2026-01-02T00:00:00.000Z',
    codeVersion: 'v1',
    tags: [],
  });
  store.addNote(other, 'a note on the failed run', '2026-01-02T00:00:05.000Z');
  store.finishRun(other, 'failed', '2026-01-02T00:00:09.000Z', 'it broke');
  // A big-ish series so the bundle holds many points.
  store.addMetrics(
    other,
    Array.from({ length: 5000 }, (_, s) => ({
      key: 'x',
      step: s,
      value: Math.sin(s) / 3,
      wallTime: s * 1.5,
    })),
  );
  return { parent, children, other };
}

/** Every file under the lab directory except the database's own files, with its bytes (hex). */
function files(labDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        out[relative(labDir, p) + '/'] = '';
        walk(p);
      } else if (!e.name.startsWith('lab.sqlite')) out[relative(labDir, p)] = readFileSync(p).toString('hex');
    }
  };
  walk(labDir);
  return out;
}

function counts(store: Store): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of ['runs', 'metrics', 'metric_summary', 'artifacts', 'tags', 'notes']) {
    out[t] = (store.db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
  }
  return out;
}

// ---- a small reader/writer of the format, to build damaged bundles ----
interface Unpacked {
  version: number;
  manifest: { runs: string[]; entries: { name: string }[]; [k: string]: unknown };
  entries: { name: string; raw: Buffer }[];
}
function unpack(file: string): Unpacked {
  const b = readFileSync(file);
  const mLen = b.readUInt32BE(b.length - 44);
  const manifest = JSON.parse(b.subarray(b.length - 44 - mLen, b.length - 44).toString('utf8')) as {
    runs: string[];
    entries: { name: string; offset: number; stored: number }[];
  };
  return {
    version: b.readUInt32BE(8),
    manifest,
    entries: manifest.entries.map((e) => ({
      name: e.name,
      raw: inflateRawSync(b.subarray(e.offset, e.offset + e.stored)),
    })),
  };
}
function pack(
  u: Unpacked,
  file: string,
  tweak: (e: { name: string; size: number; stored: number; sha256: string }) => void = () => {},
): void {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.write('QLABBNDL', 0, 'latin1');
  header.writeUInt32BE(u.version, 8);
  parts.push(header);
  let pos = 12;
  const entries = u.entries.map((e) => {
    const stored = deflateRawSync(e.raw);
    const entry = {
      name: e.name,
      offset: pos,
      stored: stored.length,
      size: e.raw.length,
      sha256: createHash('sha256').update(e.raw).digest('hex'),
    };
    tweak(entry);
    parts.push(stored);
    pos += stored.length;
    return entry;
  });
  const m = Buffer.from(JSON.stringify({ ...u.manifest, entries }), 'utf8');
  parts.push(m);
  const trailer = Buffer.alloc(44);
  trailer.writeUInt32BE(m.length, 0);
  createHash('sha256').update(m).digest().copy(trailer, 4);
  trailer.write('QLABEND1', 36, 'latin1');
  parts.push(trailer);
  writeFileSync(file, Buffer.concat(parts));
}

describe('run bundles', () => {
  it('export → import into an empty lab reproduces every row, point and artifact byte for byte; a second import changes nothing', async () => {
    const src = openLab('src');
    const { parent, children, other } = fillSource(src.store, src.labDir);
    const out = join(dir, 'runs.qlab');
    // Naming one child brings its parent and sibling along.
    const ex = await exportB(src.store, src.labDir, [children[1], other], out);
    expect(ex.runIds).toEqual([parent, ...children, other]);
    expect(ex.artifacts).toBe(3);
    expect(statSync(out).size).toBe(ex.bytes);

    const dst = openLab('dst');
    const r1 = await importB(dst.store, dst.labDir, out);
    expect(r1.imported).toEqual([parent, ...children, other]);
    expect(r1.skipped).toEqual([]);
    expect(dumpStore(dst.store)).toEqual(dumpStore(src.store));
    expect(files(dst.labDir)).toEqual(files(src.labDir));
    // Infinity survives (JSON has no literal for it).
    expect(dst.store.points(children[0], 'grad')[0].value).toBe(Infinity);

    const before = { rows: dumpStore(dst.store), files: files(dst.labDir) };
    const r2 = await importB(dst.store, dst.labDir, out);
    expect(r2.imported).toEqual([]);
    expect(r2.skipped).toEqual([parent, ...children, other]);
    expect(dumpStore(dst.store)).toEqual(before.rows);
    expect(files(dst.labDir)).toEqual(before.files);
    src.store.close();
    dst.store.close();
  });

  it('refuses an unfinished run at export', async () => {
    const src = openLab('src');
    const id = randomUUID();
    src.store.insertRun({
      id,
      kind: 'k',
      name: 'n',
      config: {},
      seed: 1,
      createdAt: '2026-01-01T00:00:00.000Z',
      codeVersion: 'v',
      tags: [],
    });
    await expect(exportB(src.store, src.labDir, [id], join(dir, 'x.qlab'))).rejects.toThrow(
      /queued; only finished/,
    );
    expect(readdirSync(dir).filter((f) => f.includes('x.qlab'))).toEqual([]);
    src.store.close();
  });

  describe('damaged bundles are refused with one message and nothing written', () => {
    let good: string;
    let u: Unpacked;
    let childId: string;
    beforeEach(async () => {
      const src = openLab('src');
      const { children, other } = fillSource(src.store, src.labDir);
      childId = children[0];
      good = join(dir, 'good.qlab');
      await exportB(src.store, src.labDir, [children[0], other], good);
      src.store.close();
      u = unpack(good);
    });

    async function expectRefused(file: string, message: RegExp): Promise<void> {
      const dst = openLab('dst');
      // A lab that already holds something, so "nothing written" is checked against real rows.
      const keep = randomUUID();
      dst.store.insertRun({
        id: keep,
        kind: 'k',
        name: 'kept',
        config: {},
        seed: 1,
        createdAt: '2026-01-01T00:00:00.000Z',
        codeVersion: 'v',
        tags: ['t'],
      });
      addArtifact(dst.store, dst.labDir, keep, 'a.txt', Buffer.from('keep'));
      const before = { counts: counts(dst.store), files: files(dst.labDir) };
      await expect(importB(dst.store, dst.labDir, file)).rejects.toThrow(message);
      expect(counts(dst.store)).toEqual(before.counts);
      expect(files(dst.labDir)).toEqual(before.files);
      dst.store.close();
    }

    const bytes = () => readFileSync(good);
    const write = (name: string, b: Buffer) => {
      const p = join(dir, name);
      writeFileSync(p, b);
      return p;
    };

    it('truncated (cut at the end, in the middle, to nothing)', async () => {
      const b = bytes();
      await expectRefused(write('t1.qlab', b.subarray(0, b.length - 1)), /truncated/);
      await expectRefused(write('t2.qlab', b.subarray(0, Math.floor(b.length / 2))), /truncated/);
      await expectRefused(write('t3.qlab', b.subarray(0, 5)), /truncated/);
    });

    it('a bad checksum in an entry or in the manifest', async () => {
      const b = Buffer.from(bytes());
      b[20] ^= 0xff;
      await expectRefused(write('c1.qlab', b), /bad checksum for entry/);
      const c = Buffer.from(bytes());
      c[c.length - 50] ^= 0x01;
      await expectRefused(write('c2.qlab', c), /bad checksum for the manifest/);
      // An entry whose bytes decompress fine but differ from what the manifest says.
      const art = u.entries.find((e) => e.name.startsWith('artifacts/'))!;
      const origSha = createHash('sha256').update(art.raw).digest('hex');
      const flipped = Buffer.from(art.raw);
      flipped[0] ^= 0x01;
      const u3 = { ...u, entries: u.entries.map((e) => (e === art ? { name: e.name, raw: flipped } : e)) };
      pack(u3, join(dir, 'c3.qlab'), (e) => {
        if (e.name === art.name) e.sha256 = origSha;
      });
      await expectRefused(join(dir, 'c3.qlab'), /bad checksum for entry artifacts\//);
    });

    it('an unknown format version', async () => {
      const b = Buffer.from(bytes());
      b.writeUInt32BE(BUNDLE_FORMAT_VERSION + 1, 8);
      await expectRefused(write('v.qlab', b), /format version 2; this lab reads version 1/);
      await expectRefused(
        write('n.qlab', Buffer.from('not a bundle at all, just text')),
        /not a qlab bundle/,
      );
    });

    it('paths that escape the lab directory', async () => {
      const evil = {
        ...u,
        entries: [...u.entries, { name: `artifacts/${childId}/../../../escape.txt`, raw: Buffer.from('x') }],
      };
      pack(evil, join(dir, 'p1.qlab'));
      await expectRefused(
        join(dir, 'p1.qlab'),
        /entry name .* is not allowed \(it must stay inside the lab directory\)/,
      );
      const abs = { ...u, entries: [...u.entries, { name: '/etc/passwd', raw: Buffer.from('x') }] };
      pack(abs, join(dir, 'p2.qlab'));
      await expectRefused(join(dir, 'p2.qlab'), /not allowed/);
      // An artifact row naming a path in the run record.
      const rec = u.entries.find((e) => e.name === `runs/${childId}.json`)!;
      const json = JSON.parse(rec.raw.toString('utf8')) as { artifacts: { name: string }[] };
      json.artifacts[0].name = '../../lab.sqlite';
      const bad = {
        ...u,
        entries: u.entries.map((e) =>
          e === rec ? { name: e.name, raw: Buffer.from(JSON.stringify(json)) } : e,
        ),
      };
      pack(bad, join(dir, 'p3.qlab'));
      await expectRefused(join(dir, 'p3.qlab'), /artifacts\.0\.name/);
    });

    it('oversized entries, refused from the manifest before anything is allocated', async () => {
      pack(u, join(dir, 'o1.qlab'), (e) => {
        if (e.name.startsWith('artifacts/')) e.size = 4 * 1024 ** 3;
      });
      await expectRefused(join(dir, 'o1.qlab'), /over the 1073741824-byte limit/);
      pack(u, join(dir, 'o2.qlab'), (e) => {
        if (e.name.startsWith('runs/')) e.size = 2 ** 40;
      });
      await expectRefused(join(dir, 'o2.qlab'), /over the 536870912-byte limit/);
    });

    it('rows the lab refuses inside the transaction roll back every run and staged file', async () => {
      // The last run's record repeats a point: its INSERT fails after the others (and the artifacts) were staged.
      const last = u.manifest.runs[u.manifest.runs.length - 1];
      const rec = u.entries.find((e) => e.name === `runs/${last}.json`)!;
      const json = JSON.parse(rec.raw.toString('utf8')) as { metrics: Record<string, unknown[]> };
      json.metrics.x.push(json.metrics.x[0]);
      const bad = {
        ...u,
        entries: u.entries.map((e) =>
          e === rec ? { name: e.name, raw: Buffer.from(JSON.stringify(json)) } : e,
        ),
      };
      pack(bad, join(dir, 'r.qlab'));
      await expectRefused(join(dir, 'r.qlab'), /the lab refused its rows .*nothing was imported/);
    });
  });
});
