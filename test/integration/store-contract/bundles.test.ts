// Bundles across stores: runs (a sweep with children, a failed run; metrics with ±Infinity, tags, notes,
// artifacts) built in a SQLite lab are exported, imported into a PostgreSQL lab (artifact bytes into the
// database, another lab directory) and read back identically through the RunStore; a second import changes
// nothing; the PostgreSQL lab's export imports into a fresh SQLite lab and reads back identically again.
// Skipped, with a message, only when no PostgreSQL server can be started.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalArtifactStore, type ArtifactStore } from '../../../core/lab/artifact-store';
import { PgArtifactStore } from '../../../core/lab/artifact-store-pg';
import { exportBundle, importBundle } from '../../../core/lab/bundle';
import type { RunStore, StoredRun } from '../../../core/lab/run-store';
import { PgRunStore } from '../../../core/lab/store-pg';
import { SqliteRunStore } from '../../../core/lab/store-sqlite';
import { isSkipped, startPostgres, type PgServer } from '../../helpers/servers';

const server = await startPostgres();
const pgServer: PgServer | undefined = isSkipped(server) ? undefined : server;
if (isSkipped(server))
  console.warn(`\n*** bundles across stores: PostgreSQL SKIPPED: ${server.skipped} ***\n`);
else process.env.PGPASSWORD = server.password;

const tmp = mkdtempSync(join(tmpdir(), 'qlab-bundle-stores-'));
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers) await c();
  pgServer?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

interface Lab {
  store: RunStore;
  artifacts: ArtifactStore;
  dir: string;
}
async function sqliteLab(name: string): Promise<Lab> {
  const dir = join(tmp, name);
  mkdirSync(dir);
  const store = SqliteRunStore.open(join(dir, 'lab.sqlite'));
  closers.push(() => store.close());
  return { store, artifacts: new LocalArtifactStore(dir), dir };
}
async function pgLab(name: string): Promise<Lab> {
  const dir = join(tmp, name);
  mkdirSync(dir);
  const store = await PgRunStore.open(await pgServer!.createDatabase());
  closers.push(() => store.close());
  return { store, artifacts: new PgArtifactStore(store, dir), dir };
}

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const at = (s: number) => new Date(Date.parse('2026-03-04T05:06:07.089Z') + s * 1000).toISOString();

/** A sweep (parent + two children) and a failed run, with every kind of row and two artifact files. */
async function fill(l: Lab): Promise<string[]> {
  const s = l.store;
  await s.createRun({
    id: ID(1),
    kind: 'sweep',
    name: 'the sweep',
    config: { lr: [0.1, 0.01], z: { b: 1, a: 'ü' } },
    seed: 42,
    createdAt: at(0),
    codeVersion: 'v1',
    tags: ['b', 'B', 'a-b', 'ab'],
  });
  await s.claimRun(ID(1), at(1), { cpu: 'x' });
  for (const k of [0, 1]) {
    await s.createChildRun({
      id: ID(10 + k),
      parentId: ID(1),
      kind: 'sweep',
      name: `point ${k}`,
      config: { lr: k },
      seed: k,
      at: at(2 + k),
      codeVersion: 'v1',
      host: { cpu: 'x' },
    });
    await s.appendMetrics(ID(10 + k), [
      { key: 'loss', step: 0, value: 1.5, wallTime: 1000.25 },
      { key: 'loss', step: 1, value: 0.1 + k, wallTime: 1001 },
      { key: 'grad', step: 0, value: k ? -Infinity : Infinity, wallTime: 1002 },
      { key: 'Zeta', step: 3, value: 1e-300, wallTime: 1003 },
    ]);
    await s.finishChild(
      ID(10 + k),
      { summary: { acc: 0.5 + k / 4 }, report: [], backend: {} },
      'succeeded',
      at(5),
      null,
    );
  }
  await s.setResult(ID(1), {
    summary: { best: 0.75, note: 'a, "b"' },
    report: [{ type: 'text', title: 'T', text: 'x' }],
    backend: { name: 'cpu' },
  });
  await s.addNote(ID(1), 'first note', at(6));
  await s.addNote(ID(1), 'second **note**', at(7));
  const file = (id: string, name: string, bytes: Buffer) => {
    const dir = join(l.dir, 'artifacts', id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, name), bytes);
    return s.addArtifact(
      id,
      {
        name,
        kind: 'file',
        path: `artifacts/${id}/${name}`,
        bytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      },
      at(8),
    );
  };
  await file(ID(1), 'model.bin', Buffer.from(Array.from({ length: 3_000_000 }, (_, i) => (i * 31) & 255)));
  await file(ID(10), 'empty.txt', Buffer.alloc(0));
  await s.endRun(ID(1), {
    status: 'succeeded',
    at: at(9),
    error: null,
    children: { status: 'failed', error: 'x' },
  });

  await s.createRun({
    id: ID(2),
    kind: 'other',
    name: '',
    config: {},
    seed: 7,
    createdAt: at(10),
    codeVersion: 'v2',
    tags: [],
  });
  await s.claimRun(ID(2), at(11), {});
  await s.appendMetrics(ID(2), [{ key: 'x', step: 5, value: -2.5, wallTime: 5 }]);
  await s.endRun(ID(2), {
    status: 'failed',
    at: at(12),
    error: 'Boom: it broke',
    children: { status: 'failed', error: 'x' },
  });
  return [ID(1), ID(10), ID(11), ID(2)];
}

/** What each run reads back: everything stored, artifact paths aside (each store has its own), plus the bytes. */
async function readAll(l: Lab, ids: string[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const id of ids) {
    const r = (await l.store.readStoredRun(id)) as StoredRun;
    expect(r, id).toBeDefined();
    const bytes: string[] = [];
    for (const a of r.artifacts) {
      const f = await l.artifacts.open(a.path, { runId: id, name: a.name, bytes: a.bytes, sha256: a.sha256 });
      bytes.push(createHash('sha256').update(readFileSync(f)).digest('hex'));
    }
    out.push({
      ...r,
      artifacts: r.artifacts.map(({ path: _path, ...a }) => a),
      bytes,
      summary: await l.store.getSummary(id),
      metricsApi: await l.store.metricSummaries(id),
    });
  }
  return out;
}

describe.skipIf(pgServer === undefined)('bundles between SQLite and PostgreSQL labs', () => {
  it('SQLite → PostgreSQL → SQLite reads back identically; a second import is a no-op', async () => {
    const src = await sqliteLab('src');
    const ids = await fill(src);
    const want = await readAll(src, ids);
    // sanity: what was built is what the test thinks
    expect((want[0] as StoredRun).tags).toEqual(['B', 'a-b', 'ab', 'b']);
    expect((want[1] as StoredRun).metrics.grad).toEqual([[0, 1002, Infinity]]);

    const b1 = join(tmp, 'one.qlab');
    const ex = await exportBundle(src.store, src.artifacts, [ID(11), ID(2)], b1);
    expect(ex.runIds).toEqual(ids);
    expect(ex.artifacts).toBe(2);

    const hub = await pgLab('hub');
    const r1 = await importBundle(hub.store, hub.artifacts, hub.dir, b1);
    expect(r1).toEqual({ imported: ids, skipped: [], artifacts: 2 });
    expect(await readAll(hub, ids)).toEqual(want);
    // the bytes are in the database, not in the hub's folder
    const stored = (await hub.store.readStoredRun(ID(1)))!.artifacts[0];
    expect(stored.path).toMatch(/^db:[0-9a-f]{64}$/);

    const r2 = await importBundle(hub.store, hub.artifacts, hub.dir, b1);
    expect(r2).toEqual({ imported: [], skipped: ids, artifacts: 0 });
    expect(await readAll(hub, ids)).toEqual(want);
    expect(await hub.store.countRuns({ includeChildren: true })).toBe(4);

    const b2 = join(tmp, 'two.qlab');
    await exportBundle(hub.store, hub.artifacts, [ID(1), ID(2)], b2);
    const back = await sqliteLab('back');
    expect(await importBundle(back.store, back.artifacts, back.dir, b2)).toEqual({
      imported: ids,
      skipped: [],
      artifacts: 2,
    });
    expect(await readAll(back, ids)).toEqual(want);
    expect(readFileSync(join(back.dir, 'artifacts', ID(1), 'model.bin'))).toEqual(
      readFileSync(join(src.dir, 'artifacts', ID(1), 'model.bin')),
    );
    // and into the PostgreSQL lab again: still nothing new
    expect((await importBundle(hub.store, hub.artifacts, hub.dir, b2)).imported).toEqual([]);
  }, 120_000);
});
