// One contract, two stores: every case runs against the SQLite store and against a real PostgreSQL server
// (started here as the postgres user in a temporary data directory on a loopback port, stopped after). Each
// case also records what it read; the last block asserts both stores read exactly the same, so a behaviour
// cannot differ between them silently. The PostgreSQL half is skipped, with a message, only when no server
// can be started on this machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { runDurationMs } from '../../../core/api/run-duration';
import type { RunStore, StoredMetricPoint } from '../../../core/lab/run-store';
import { loadMigrations, DEFAULT_MIGRATIONS_DIR } from '../../../core/lab/store';
import { DEFAULT_PG_MIGRATIONS_DIR, PgRunStore } from '../../../core/lab/store-pg';
import { SqliteRunStore } from '../../../core/lab/store-sqlite';
import { isSkipped, startPostgres, type PgServer } from '../../helpers/servers';

const server = await startPostgres();
const pgServer: PgServer | undefined = isSkipped(server) ? undefined : server;
if (isSkipped(server)) {
  console.warn(`\n*** store contract: the PostgreSQL cases are SKIPPED: ${server.skipped} ***\n`);
} else {
  // The password reaches the client through the environment, never through the URL.
  process.env.PGPASSWORD = server.password;
}
const tmp = mkdtempSync(join(tmpdir(), 'qlab-contract-'));
afterAll(() => {
  pgServer?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

interface Engine {
  name: 'sqlite' | 'postgres';
  skip: boolean;
  open(): Promise<RunStore>;
}
const engines: Engine[] = [
  {
    name: 'sqlite',
    skip: false,
    open: async () => SqliteRunStore.open(join(mkdtempSync(join(tmp, 'sq-')), 'lab.sqlite')),
  },
  {
    name: 'postgres',
    skip: pgServer === undefined,
    open: async () => PgRunStore.open(await pgServer!.createDatabase()),
  },
];

/** What each case read, per engine, compared across engines at the end. */
const seen: Record<string, Record<string, unknown>> = { sqlite: {}, postgres: {} };

const T0 = Date.parse('2026-01-02T03:04:05.678Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const pt = (key: string, step: number, value: number, wallTime = 1000 + step): StoredMetricPoint => ({
  key,
  step,
  value,
  wallTime,
});

/** Fixed ids, so what two stores read can be compared field for field. */
const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

async function addRun(
  s: RunStore,
  n: number,
  over: Partial<{ kind: string; createdAt: string; tags: string[]; config: unknown; seed: number }> = {},
): Promise<string> {
  const id = ID(n);
  await s.createRun({
    id,
    kind: over.kind ?? 'k',
    name: `run ${n}`,
    config: over.config ?? { b: 2, a: 1 },
    seed: over.seed ?? n,
    createdAt: over.createdAt ?? at(n),
    codeVersion: 'v1',
    tags: over.tags ?? [],
  });
  return id;
}

async function running(s: RunStore, n: number): Promise<string> {
  const id = await addRun(s, n);
  expect(await s.claimRun(id, at(100 + n), { hostname: 'h' })).toBe(true);
  return id;
}

const child = (id: string, parentId: string, ms: number) => ({
  id,
  parentId,
  kind: 'k/point',
  name: `child ${id.slice(-2)}`,
  config: { lr: ms },
  seed: ms,
  at: at(ms),
  codeVersion: 'v1',
  host: { hostname: 'h' },
});

for (const engine of engines) {
  describe.skipIf(engine.skip)(`RunStore contract: ${engine.name}`, () => {
    const record = (name: string, value: unknown) => (seen[engine.name][name] = value);
    let store: RunStore | undefined;
    const open = async () => (store = await engine.open());
    afterAll(async () => store?.close());
    const fresh = async () => {
      await store?.close();
      return open();
    };

    it('creates a queued run and reads it back exactly (config text and key order, seed, times, tags)', async () => {
      const s = await fresh();
      const config = { zeta: 1, alpha: { y: [1, 2.5, 'x'], x: null }, big: 1e300, tiny: 5e-324 };
      const id = await addRun(s, 1, { config, seed: 2 ** 32 - 1, tags: ['b', 'a', 'B'] });
      const d = await s.getDetail(id);
      expect(d).toMatchObject({
        id,
        status: 'queued',
        seed: 2 ** 32 - 1,
        createdAt: at(1),
        startedAt: null,
        tags: ['B', 'a', 'b'], // bytewise, as SQLite sorts
        summary: {},
        report: [],
        children: [],
        childCount: 0,
        parentId: null,
      });
      expect(JSON.stringify(d!.config)).toBe(JSON.stringify(config));
      expect(await s.configs([id, ID(999)])).toEqual([{ id, config: JSON.stringify(config) }]);
      expect(await s.hasRun(id)).toBe(true);
      expect(await s.hasRun(ID(999))).toBe(false);
      expect(await s.getSummary(ID(999))).toBeUndefined();
      expect(await s.status(id)).toBe('queued');
      expect(await s.parentOf(id)).toBeNull();
      expect(await s.parentOf(ID(999))).toBeUndefined();
      record('create', d);
    });

    it('lists newest first with filters, pages with offset, and breaks equal times by creation order', async () => {
      const s = await fresh();
      const same = at(50);
      for (let n = 1; n <= 12; n++) {
        await addRun(s, n, {
          kind: n % 3 === 0 ? 'other' : 'k',
          createdAt: n > 8 ? same : at(n),
          tags: n % 2 === 0 ? ['even'] : [],
        });
      }
      const all = await s.listRuns();
      expect(all.map((r) => r.id)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1].map(ID));
      const page2 = await s.listRuns({ limit: 5, offset: 5 });
      expect(page2.map((r) => r.id)).toEqual([7, 6, 5, 4, 3].map(ID));
      expect((await s.listRuns({ kind: 'other' })).map((r) => r.id)).toEqual([12, 9, 6, 3].map(ID));
      expect((await s.listRuns({ tag: 'even', limit: 3 })).map((r) => r.id)).toEqual([12, 10, 8].map(ID));
      expect(await s.countRuns({ tag: 'even' })).toBe(6);
      expect(await s.countRuns({ kind: 'other', status: 'queued' })).toBe(4);
      expect(await s.countRuns()).toBe(12);
      expect(await s.queuedIds()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map(ID));
      record('list', { all, page2 });
    });

    it('claims the oldest queued run first, only among the given ids when asked, never twice', async () => {
      const s = await fresh();
      for (let n = 1; n <= 4; n++) await addRun(s, n);
      expect(await s.claimNext(at(200), { hostname: 'a' }, [ID(3), ID(4)])).toBe(ID(3));
      expect(await s.claimNext(at(201), { hostname: 'a' })).toBe(ID(1));
      expect(await s.claimNext(at(202), { hostname: 'a' }, [ID(1), ID(3)])).toBeUndefined();
      expect(await s.claimRun(ID(1), at(203), {})).toBe(false);
      expect(await s.finishRun(ID(2), 'cancelled', at(204), 'cancelled before it started')).toBe(true);
      expect(await s.claimRun(ID(2), at(205), {})).toBe(false);
      expect(await s.claimNext(at(206), { hostname: 'b' })).toBe(ID(4));
      expect(await s.claimNext(at(207), { hostname: 'b' })).toBeUndefined();
      const d = await s.getDetail(ID(3));
      expect(d).toMatchObject({
        status: 'running',
        startedAt: at(200),
        heartbeatAt: at(200),
        host: { hostname: 'a' },
      });
      record('claim', await s.listRuns());
    });

    it('claims each of 40 queued runs exactly once under 8 concurrent claimers', async () => {
      const s = await fresh();
      for (let n = 1; n <= 40; n++) await addRun(s, n);
      // On PostgreSQL each claimer is its own connection pool, as separate worker machines would be.
      const claimers: RunStore[] =
        engine.name === 'postgres'
          ? await Promise.all(Array.from({ length: 8 }, () => PgRunStore.open(s.location)))
          : Array.from({ length: 8 }, () => s);
      const got: string[] = [];
      await Promise.all(
        claimers.map(async (c, i) => {
          for (;;) {
            const id = await c.claimNext(at(300), { hostname: `w${i}` });
            if (id === undefined) return;
            got.push(id);
          }
        }),
      );
      if (engine.name === 'postgres') await Promise.all(claimers.map((c) => c.close()));
      expect(got.length).toBe(40);
      expect(new Set(got).size).toBe(40);
      expect(await s.countRuns({ status: 'running' })).toBe(40);
    });

    it('appends metric batches idempotently (first write wins) and keeps the summaries exact', async () => {
      const s = await fresh();
      const id = await running(s, 1);
      const batch = [
        pt('loss', 2, 0.5),
        pt('loss', 0, 2),
        pt('loss', 1, 1),
        pt('acc', 0, 0.1),
        pt('loss', 1, 99),
      ];
      const first = await s.appendMetrics(id, batch);
      // the repeated (loss, 1) in the same batch is skipped: the first one stays
      expect(first).toEqual(batch.slice(0, 4));
      expect(await s.appendMetrics(id, batch)).toEqual([]);
      const more = await s.appendMetrics(id, [pt('loss', 3, -1), pt('loss', 0, 1000), pt('acc', 5, 0.9)]);
      expect(more).toEqual([pt('loss', 3, -1), pt('acc', 5, 0.9)]);
      // a late step below the last one changes min/max/count but not `last`
      await s.appendMetrics(id, [pt('loss', -4, 7)]);
      const sums = await s.metricSummaries(id);
      expect(sums).toEqual([
        { key: 'acc', count: 2, lastStep: 5, last: 0.9, min: 0.1, max: 0.9 },
        { key: 'loss', count: 5, lastStep: 3, last: -1, min: -1, max: 7 },
      ]);
      const pts = await s.points(id, 'loss');
      expect(pts.map((p) => [p.step, p.value])).toEqual([
        [-4, 7],
        [0, 2],
        [1, 1],
        [2, 0.5],
        [3, -1],
      ]);
      expect(pts[1].wallTime).toBe(1000);
      expect(await s.appendMetrics(id, [])).toEqual([]);
      record('metrics', { sums, pts, detail: (await s.getDetail(id))!.metrics });
    });

    it('downsamples a series into equal step buckets with min, max and the last value', async () => {
      const s = await fresh();
      const id = await running(s, 1);
      const n = 1000;
      const batch: StoredMetricPoint[] = [];
      for (let i = 0; i < n; i++) batch.push(pt('y', i, i % 2 === 0 ? i : -i));
      await s.appendMetrics(id, batch);
      const ser = await s.series(id, 'y', 10);
      expect(ser.count).toBe(n);
      expect(ser.points.length).toBe(10);
      for (let b = 0; b < 10; b++) {
        const lo = b * 100;
        const hi = lo + 99;
        // evens positive, odds negative: max is the largest even, min the most negative odd, last is step hi
        expect(ser.points[b]).toEqual({ step: hi, min: -hi, max: hi - 1, last: -hi });
      }
      const few = await s.series(id, 'y', 5000);
      expect(few.points.length).toBe(n);
      expect(await s.series(id, 'none', 10)).toEqual({ runId: id, key: 'none', count: 0, points: [] });
      record('series', { ser, few: few.points.slice(0, 5) });
    });

    it('children: created running under a running parent only; heartbeats, result and ending with the parent', async () => {
      const s = await fresh();
      const parent = await running(s, 1);
      const queued = await addRun(s, 2);
      const c1 = ID(101);
      const c2 = ID(102);
      const c3 = ID(103);
      await s.createChildRun(child(c1, parent, 110));
      await s.createChildRun(child(c2, parent, 110)); // same instant: creation order decides
      await expect(s.createChildRun(child(ID(150), queued, 111))).rejects.toThrow(/is queued, not running/);
      await expect(s.createChildRun(child(ID(151), c1, 111))).rejects.toThrow(/is itself a child/);
      await expect(s.createChildRun(child(ID(152), ID(999), 111))).rejects.toThrow(/no parent run/);
      await s.heartbeat(parent, at(120));
      expect((await s.getDetail(c2))!.heartbeatAt).toBe(at(120));
      const result = {
        summary: { loss: 0.25, note: 'ok' },
        report: [{ type: 'text' as const, title: 't', text: 'x' }],
        backend: { sim: 'cpu' },
      };
      expect(await s.finishChild(c1, result, 'succeeded', at(130), null)).toBe(true);
      expect(await s.finishChild(c1, result, 'failed', at(131), 'again')).toBe(false);
      await s.createChildRun(child(c3, parent, 132));
      const ended = await s.endRun(parent, {
        status: 'cancelled',
        at: at(140),
        error: null,
        children: { status: 'cancelled', error: 'its parent run cancelled' },
      });
      expect(ended.sort()).toEqual([c2, c3]);
      // a finished run is never rewritten, and ending it again ends nothing
      expect(await s.finishRun(parent, 'succeeded', at(150), null)).toBe(false);
      expect(
        await s.endRun(parent, {
          status: 'failed',
          at: at(151),
          error: 'x',
          children: { status: 'failed', error: 'x' },
        }),
      ).toEqual([]);
      const d = await s.getDetail(parent);
      expect(d).toMatchObject({ status: 'cancelled', finishedAt: at(140), childCount: 3 });
      expect(d!.children.map((c) => [c.id, c.status])).toEqual([
        [c1, 'succeeded'],
        [c2, 'cancelled'],
        [c3, 'cancelled'],
      ]);
      expect(await s.getDetail(c1)).toMatchObject({
        summary: result.summary,
        report: result.report,
        backend: result.backend,
        progress: 1,
      });
      expect((await s.listRuns()).map((r) => r.id)).toEqual([queued, parent]);
      expect((await s.listRuns({ includeChildren: true })).length).toBe(5);
      expect(await s.parentOf(c2)).toBe(parent);
      record('children', { d, c1: await s.getDetail(c1) });
    });

    it('passes cancel requests to the owner and recovers stale runs (not the excepted ones), children with them', async () => {
      const s = await fresh();
      const stale = await running(s, 1);
      const fresh1 = await running(s, 2);
      const mine = await running(s, 3);
      const neverBeat = await addRun(s, 4);
      await s.claimRun(neverBeat, at(104), {});
      await s.createChildRun(child(ID(101), stale, 105));
      await s.heartbeat(stale, at(500));
      await s.heartbeat(fresh1, at(2000));
      await s.heartbeat(mine, at(10));
      await s.requestCancel(fresh1);
      expect(await s.cancelRequested([stale, fresh1, mine])).toEqual([fresh1]);
      expect(await s.cancelRequested([])).toEqual([]);
      const got = await s.interruptStale(at(1000), at(3000), [mine]);
      expect(got.sort()).toEqual([stale, neverBeat, ID(101)].sort());
      const d = await s.getDetail(stale);
      expect(d).toMatchObject({
        status: 'interrupted',
        finishedAt: at(500), // its last heartbeat, not the moment the lab noticed (3000)
        error: `the lab stopped while this run was running (no heartbeat since ${at(500)})`,
      });
      expect(await s.getDetail(ID(101))).toMatchObject({
        error: 'its parent run ended while this child was running',
        finishedAt: at(500), // the parent's heartbeat beat for its running child too
      });
      expect((await s.getDetail(neverBeat))!.finishedAt).toBe(at(104)); // claimed (its first heartbeat), then silent
      expect(await s.status(mine)).toBe('running');
      expect(await s.status(fresh1)).toBe('running');
      record('stale', await s.listRuns({ includeChildren: true }));
    });

    it('an interrupted run finishes at its last heartbeat, else its last metric, else its start; the duration rule agrees', async () => {
      const s = await fresh();
      const beat = await running(s, 1); // started at(101)
      const metricOnly = await running(s, 2); // started at(102)
      const silent = await running(s, 3); // started at(103)
      await s.heartbeat(beat, at(500));
      await s.appendMetrics(metricOnly, [pt('loss', 0, 1, T0 + 600), pt('loss', 1, 0.5, T0 + 700.4)]);
      await s.appendMetrics(beat, [pt('loss', 0, 1, T0 + 900)]); // after its heartbeat: the heartbeat decides
      // rows written by an older lab (or imported) can lack a heartbeat; clear it behind the store's back
      const clear = [metricOnly, silent];
      if (engine.name === 'postgres') {
        const c = new pg.Client({ connectionString: s.location });
        await c.connect();
        await c.query('UPDATE runs SET heartbeat_at = NULL WHERE id = ANY($1::text[])', [clear]);
        await c.end();
      } else {
        const db = (s as SqliteRunStore).store.db;
        for (const id of clear) db.prepare('UPDATE runs SET heartbeat_at = NULL WHERE id = ?').run(id);
      }
      const noticed = 3 * 86_400_000; // the lab comes back three days later
      expect((await s.interruptStale(at(noticed - 60_000), at(noticed))).sort()).toEqual(
        [beat, metricOnly, silent].sort(),
      );
      const want: [string, string, number][] = [
        [beat, at(500), 399],
        [metricOnly, at(700), 598],
        [silent, at(103), 0],
      ];
      for (const [id, finishedAt, ms] of want) {
        const r = (await s.getSummary(id))!;
        expect(r, id).toMatchObject({ status: 'interrupted', finishedAt });
        expect(runDurationMs(r, T0 + noticed), id).toBe(ms);
        expect(runDurationMs({ ...r, lastSeenAt: null }, T0 + noticed), `${id} by its stored finish`).toBe(
          ms,
        );
      }
      record('interruptedAtLastSign', await Promise.all(want.map(([id]) => s.getSummary(id))));
    });

    it('progress, results, tags, notes and artifacts', async () => {
      const s = await fresh();
      const id = await running(s, 1);
      await s.setProgress(id, 0.5, 'half', at(400));
      expect(await s.getSummary(id)).toMatchObject({ progress: 0.5, progressMessage: 'half' });
      expect((await s.getDetail(id))!.heartbeatAt).toBe(at(400));
      await s.setResult(id, { summary: { a: 1 }, report: [], backend: { b: 'x' } });
      await s.setTags(id, ['z', 'y', 'y']);
      expect((await s.getSummary(id))!.tags).toEqual(['y', 'z']);
      await s.setTags(id, []);
      expect((await s.getSummary(id))!.tags).toEqual([]);
      const n1 = await s.addNote(id, 'first', at(401));
      const n2 = await s.addNote(id, 'second ✓', at(402));
      expect(n2.id).toBeGreaterThan(n1.id);
      expect(await s.notes(id)).toEqual([n1, n2]);
      expect(await s.updateNote(id, n1.id, 'first, edited')).toEqual({ ...n1, text: 'first, edited' });
      expect(await s.updateNote(ID(999), n1.id, 'x')).toBeNull();
      expect(await s.deleteNote(id, n2.id)).toBe(true);
      expect(await s.deleteNote(id, n2.id)).toBe(false);
      await s.addNote(id, 'second ✓', at(402));
      await s.appendMetrics(id, [pt('b', 0, 1), pt('a', 1, 2)]);
      const rows = await s.compareRows([ID(999), id]);
      expect(rows[0]).toBeUndefined();
      expect(rows[1]).toMatchObject({ id, seed: 1, codeVersion: 'v1', config: { b: 2, a: 1 } });
      expect(rows[1]!.metrics.map((m) => m.key)).toEqual(['a', 'b']);
      record('compareRows', rows);
      await s.addArtifact(
        id,
        { name: 'b.txt', kind: 'text', path: 'artifacts/x/b.txt', bytes: 3, sha256: 'aa' },
        at(403),
      );
      await s.addArtifact(
        id,
        { name: 'a.bin', kind: 'bin', path: 'artifacts/x/a.bin', bytes: 2 ** 40, sha256: 'bb' },
        at(404),
      );
      await s.addArtifact(
        id,
        { name: 'b.txt', kind: 'text', path: 'artifacts/x/b2.txt', bytes: 4, sha256: 'cc' },
        at(405),
      );
      expect(await s.artifacts(id)).toEqual([
        { name: 'a.bin', kind: 'bin', bytes: 2 ** 40, sha256: 'bb' },
        { name: 'b.txt', kind: 'text', bytes: 4, sha256: 'cc' },
      ]);
      expect(await s.artifactPath(id, 'b.txt')).toBe('artifacts/x/b2.txt');
      expect(await s.artifactPath(id, 'nope')).toBeUndefined();
      const d = await s.getDetail(id);
      expect(d).toMatchObject({ summary: { a: 1 }, backend: { b: 'x' } });
      record('misc', { d: { ...d, notes: d!.notes.map((n) => ({ ...n, id: 0 })) } });
    });

    it("keeps the file roots of a run created over the API with it; children read their parent's; none otherwise", async () => {
      const s = await fresh();
      const roots = ['/lab/imports', '/data/sets with space', '/é/ü'];
      const guarded = ID(1);
      await s.createRun({
        id: guarded,
        kind: 'k',
        name: 'guarded',
        config: {},
        seed: 1,
        createdAt: at(1),
        codeVersion: 'v1',
        tags: [],
        fileRoots: roots,
      });
      const plain = await addRun(s, 2);
      await s.createRun({
        id: ID(3),
        kind: 'k',
        name: 'null roots',
        config: {},
        seed: 3,
        createdAt: at(3),
        codeVersion: 'v1',
        tags: [],
        fileRoots: null,
      });
      expect(await s.fileRoots(guarded)).toEqual(roots);
      expect(await s.fileRoots(plain)).toBeNull();
      expect(await s.fileRoots(ID(3))).toBeNull();
      expect(await s.fileRoots(ID(999))).toBeNull();
      // the roots travel with the run, not with its claimer: still there once it runs
      expect(await s.claimRun(guarded, at(10), { hostname: 'h' })).toBe(true);
      expect(await s.claimRun(plain, at(11), { hostname: 'h' })).toBe(true);
      await s.createChildRun(child(ID(51), guarded, 20));
      await s.createChildRun(child(ID(52), plain, 21));
      expect(await s.fileRoots(ID(51))).toEqual(roots);
      expect(await s.fileRoots(ID(52))).toBeNull();
      record(
        'fileRoots',
        await Promise.all([guarded, plain, ID(3), ID(51), ID(52)].map((id) => s.fileRoots(id))),
      );
    });

    it('refuses a store whose schema is newer than the code, leaving it untouched', async () => {
      const s = await fresh();
      const id = await addRun(s, 1);
      const latest = loadMigrations(
        engine.name === 'postgres' ? DEFAULT_PG_MIGRATIONS_DIR : DEFAULT_MIGRATIONS_DIR,
      ).length;
      expect(s.schemaVersion).toBe(latest);
      if (engine.name === 'postgres') {
        const url = s.location; // no password in it: PGPASSWORD carries that
        await s.close();
        store = undefined;
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        await c.query('INSERT INTO qlab_schema (version) VALUES ($1)', [latest + 1]);
        await expect(PgRunStore.open(url)).rejects.toThrow(/newer than this code/);
        const left = await c.query('SELECT COUNT(*) AS n FROM runs');
        expect(Number(left.rows[0].n)).toBe(1);
        await c.end();
      } else {
        const file = s.location;
        await s.close();
        store = undefined;
        const raw = (await import('better-sqlite3')).default(file);
        raw.pragma(`user_version = ${latest + 1}`);
        raw.close();
        expect(() => SqliteRunStore.open(file)).toThrow(/newer than this code/);
      }
      void id;
    });
  });
}

describe.skipIf(pgServer === undefined)('both stores read the same', () => {
  it('every recorded read is equal between SQLite and PostgreSQL', () => {
    expect(Object.keys(seen.postgres).sort()).toEqual(Object.keys(seen.sqlite).sort());
    expect(Object.keys(seen.sqlite).length).toBeGreaterThanOrEqual(7);
    for (const k of Object.keys(seen.sqlite)) expect(seen.postgres[k], k).toEqual(seen.sqlite[k]);
  });

  it('the PostgreSQL migrations mirror the SQLite ones version for version', () => {
    const a = loadMigrations(DEFAULT_MIGRATIONS_DIR).map((m) => `${m.version}_${m.name}`);
    const b = loadMigrations(DEFAULT_PG_MIGRATIONS_DIR).map((m) => `${m.version}_${m.name}`);
    expect(b).toEqual(a);
  });
});
