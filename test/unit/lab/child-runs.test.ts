// Child runs below the service: the 002 migration on an existing database, the store's parent/child queries,
// the protocol's child messages, the worker's ChildRun and the inline stand-in for bare contexts.
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ListRunsRequestSchema } from '../../../core/api/lab-api';
import { WorkerMessageSchema, type WorkerMessage } from '../../../core/lab/protocol';
import { DEFAULT_MIGRATIONS_DIR, loadMigrations, Store } from '../../../core/lab/store';
import { runWorker } from '../../../core/lab/worker/runner';
import {
  childOrInline,
  type JobContext,
  type JobKind,
  type LogLevel,
  type MetricPoint,
} from '../../../core/methods/job';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'qlab-children-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function topRun(store: Store, createdAt = new Date().toISOString(), id = randomUUID()): string {
  store.insertRun({
    id,
    kind: 'k',
    name: `run ${id.slice(0, 4)}`,
    config: { a: 1 },
    seed: 7,
    createdAt,
    codeVersion: 'test',
    tags: ['t'],
  });
  return id;
}

function childRun(store: Store, parentId: string, name: string, at: string, config: unknown = {}): string {
  const id = randomUUID();
  store.insertChildRun({
    id,
    parentId,
    kind: 'k',
    name,
    config,
    seed: 9,
    at,
    codeVersion: 'test',
    host: { h: 1 },
  });
  return id;
}

describe('migration 002 (child runs)', () => {
  it('upgrades a version-1 database that holds runs, keeping them as top-level runs', () => {
    const v1 = join(dir, 'v1');
    mkdirSync(v1);
    copyFileSync(join(DEFAULT_MIGRATIONS_DIR, '001_init.sql'), join(v1, '001_init.sql'));
    const file = join(dir, 'lab.sqlite');
    const old = Store.open(file, v1);
    expect(old.schemaVersion).toBe(1);
    // Written with raw SQL: the current Store's queries expect the 002 column.
    old.db
      .prepare(
        `INSERT INTO runs (id, kind, name, status, config, seed, created_at, code_version)
         VALUES (?, 'k', 'old run', 'succeeded', '{"x":2}', 5, '2024-01-01T00:00:00.000Z', 'v1')`,
      )
      .run('00000000-0000-4000-8000-000000000001');
    old.db
      .prepare("INSERT INTO metrics (run_id, key, step, wall_time, value) VALUES (?, 'loss', 0, 0, 0.5)")
      .run('00000000-0000-4000-8000-000000000001');
    old.close();

    const store = Store.open(file);
    // upgraded through 002 to the newest version (later migrations add more; this test is about 002)
    const latest = loadMigrations(DEFAULT_MIGRATIONS_DIR).length;
    expect(latest).toBeGreaterThanOrEqual(2);
    expect(store.schemaVersion).toBe(latest);
    expect(store.db.pragma('user_version', { simple: true })).toBe(latest);
    const s = store.getSummary('00000000-0000-4000-8000-000000000001');
    expect(s).toMatchObject({ name: 'old run', status: 'succeeded', parentId: null, childCount: 0 });
    expect(store.points('00000000-0000-4000-8000-000000000001', 'loss')).toEqual([
      { step: 0, value: 0.5, wallTime: 0 },
    ]);
    expect(store.listRuns().map((r) => r.name)).toEqual(['old run']);
    const fks = store.db.prepare("SELECT * FROM pragma_foreign_key_list('runs')").all() as {
      from: string;
      table: string;
      on_delete: string;
    }[];
    expect(fks).toEqual([
      expect.objectContaining({ from: 'parent_id', table: 'runs', on_delete: 'CASCADE' }),
    ]);
    const idx = store.db.prepare("SELECT name FROM pragma_index_list('runs')").all() as { name: string }[];
    expect(idx.map((i) => i.name)).toContain('runs_by_parent');
    store.close();
  });
});

describe('store: parent and child runs', () => {
  it('lists top-level runs by default, children by parentId (oldest first), or both', () => {
    const store = Store.open(join(dir, 'lab.sqlite'));
    const p = topRun(store, '2025-01-01T00:00:00.000Z');
    const other = topRun(store, '2025-01-02T00:00:00.000Z');
    expect(() => childRun(store, p, 'c0', '2025-01-01T00:00:01.000Z')).toThrow(/queued, not running/);
    store.claimRun(p, '2025-01-01T00:00:00.500Z', {});
    const c0 = childRun(store, p, 'c0', '2025-01-01T00:00:01.000Z', { lr: 1 });
    const c1 = childRun(store, p, 'c1', '2025-01-01T00:00:02.000Z', { lr: 2 });
    // Children do not nest.
    expect(() => childRun(store, c0, 'cc', '2025-01-01T00:00:03.000Z')).toThrow(/is itself a child/);
    expect(() => childRun(store, randomUUID(), 'x', '2025-01-01T00:00:03.000Z')).toThrow(/no parent run/);

    expect(store.listRuns().map((r) => r.id)).toEqual([other, p]);
    expect(store.listRuns().map((r) => r.childCount)).toEqual([0, 2]);
    expect(store.listRuns({ parentId: p }).map((r) => r.name)).toEqual(['c0', 'c1']);
    expect(store.listRuns({ parentId: p, limit: 1 }).map((r) => r.id)).toEqual([c0]);
    expect(store.listRuns({ includeChildren: true }).map((r) => r.id)).toEqual([other, c1, c0, p]);
    expect(store.listRuns({ parentId: p, status: 'queued' })).toEqual([]);
    expect(store.listRuns({ parentId: other })).toEqual([]);

    const child = store.getDetail(c1);
    expect(child).toMatchObject({
      status: 'running',
      parentId: p,
      childCount: 0,
      config: { lr: 2 },
      seed: 9,
      startedAt: '2025-01-01T00:00:02.000Z',
      host: { h: 1 },
      children: [],
    });
    const parent = store.getDetail(p);
    expect(parent?.children.map((c) => [c.id, c.parentId])).toEqual([
      [c0, p],
      [c1, p],
    ]);
    store.close();
  });

  it('ends the unfinished children of a run, beats their heartbeat with the parent, deletes them with it', () => {
    const store = Store.open(join(dir, 'lab.sqlite'));
    const p = topRun(store);
    store.claimRun(p, '2025-01-01T00:00:00.000Z', {});
    const done = childRun(store, p, 'done', '2025-01-01T00:00:01.000Z');
    const open = childRun(store, p, 'open', '2025-01-01T00:00:02.000Z');
    store.finishRun(done, 'succeeded', '2025-01-01T00:00:03.000Z', null);
    store.heartbeat(p, '2025-01-01T00:00:04.000Z');
    expect(store.getDetail(open)?.heartbeatAt).toBe('2025-01-01T00:00:04.000Z');
    expect(store.getDetail(done)?.heartbeatAt).toBe('2025-01-01T00:00:01.000Z');
    expect(store.finishChildren(p, 'cancelled', '2025-01-01T00:00:05.000Z', 'parent cancelled')).toEqual([
      open,
    ]);
    expect(store.getSummary(open)).toMatchObject({ status: 'cancelled', error: 'parent cancelled' });
    expect(store.getSummary(done)).toMatchObject({ status: 'succeeded', error: null });
    store.addMetrics(open, [{ key: 'loss', step: 0, value: 1, wallTime: 0 }]);
    store.db.prepare('DELETE FROM runs WHERE id = ?').run(p);
    expect(store.countRuns()).toBe(0);
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM metrics').get()).toEqual({ n: 0 });
    store.close();
  });

  it('at start-up interrupts children by their parent, not by their own heartbeat', () => {
    const store = Store.open(join(dir, 'lab.sqlite'));
    const old = '2025-01-01T00:00:00.000Z';
    const live = topRun(store);
    const dead = topRun(store);
    store.claimRun(live, old, {});
    store.claimRun(dead, old, {});
    const liveChild = childRun(store, live, 'a', old);
    const deadChild = childRun(store, dead, 'b', old);
    store.heartbeat(live, '2025-01-01T00:10:00.000Z');
    store.db.prepare('UPDATE runs SET heartbeat_at = ? WHERE id = ?').run(old, liveChild);
    const cut = store.interruptStale('2025-01-01T00:05:00.000Z', '2025-01-01T00:11:00.000Z');
    expect(cut.sort()).toEqual([dead, deadChild].sort());
    expect(store.status(liveChild)).toBe('running');
    expect(store.getSummary(deadChild)?.error).toMatch(/parent run ended/);
    store.close();
  });
});

describe('protocol and request schemas for children', () => {
  const id = randomUUID();
  const ok = (m: unknown) => WorkerMessageSchema.safeParse(m).success;
  it('accepts child messages and runId on progress/metrics/log; refuses malformed ones', () => {
    expect(ok({ type: 'child-start', childId: id, name: 'p0', kind: 'k', config: { a: 1 }, seed: 3 })).toBe(
      true,
    );
    expect(ok({ type: 'child-start', childId: 'x', name: 'p0', kind: 'k', config: {}, seed: 3 })).toBe(false);
    expect(ok({ type: 'child-start', childId: id, name: '', kind: 'k', config: {}, seed: 3 })).toBe(false);
    expect(ok({ type: 'child-start', childId: id, name: 'p', kind: 'k', config: {}, seed: -1 })).toBe(false);
    const result = { summary: { acc: 0.5 }, report: [], backend: {} };
    expect(ok({ type: 'child-end', childId: id, status: 'succeeded', result, error: null })).toBe(true);
    expect(ok({ type: 'child-end', childId: id, status: 'cancelled', result, error: null })).toBe(false);
    expect(ok({ type: 'metrics', points: [{ key: 'a', step: 0, value: 1, wallTime: 0 }], runId: id })).toBe(
      true,
    );
    expect(ok({ type: 'metrics', points: [{ key: 'a', step: 0, value: 1, wallTime: 0 }], runId: 'r' })).toBe(
      false,
    );
    expect(ok({ type: 'progress', fraction: 0.5, message: null, runId: id })).toBe(true);
    expect(ok({ type: 'log', level: 'info', message: 'm', runId: id })).toBe(true);
  });

  it('listRuns takes a parentId (a UUID) or includeChildren, not both', () => {
    expect(ListRunsRequestSchema.safeParse({ parentId: id }).success).toBe(true);
    expect(ListRunsRequestSchema.safeParse({ includeChildren: true }).success).toBe(true);
    expect(ListRunsRequestSchema.safeParse({ parentId: 'abc' }).success).toBe(false);
    const both = ListRunsRequestSchema.safeParse({ parentId: id, includeChildren: true });
    expect(both.success).toBe(false);
    expect(both.error?.issues[0].path).toEqual(['includeChildren']);
  });
});

// ---- the worker's ChildRun, over a fake port ----

const sweep: JobKind = {
  kind: 'sweep',
  title: 'sweep',
  description: '',
  schema: z.object({ misuse: z.enum(['none', 'after-finish', 'bad-result']).default('none') }).strict(),
  defaults: {},
  async run(config, ctx) {
    const { misuse } = config as { misuse: string };
    if (!ctx.child) throw new Error('no ctx.child');
    ctx.metrics([{ key: 'parent', step: 0, value: 1 }]);
    const a = ctx.child('a', { lr: 0.1 });
    const b = ctx.child('b', { lr: 0.2 }, { seed: 11 });
    a.metrics([{ key: 'loss', step: 0, value: 0.5 }]);
    b.metrics([{ key: 'loss', step: 0, value: 0.25 }]);
    a.progress(2, 'clamped');
    b.log('warn', 'b says');
    a.metrics([{ key: 'loss', step: 1, value: 0.4 }]);
    a.finish({ summary: { loss: 0.4 } });
    if (misuse === 'after-finish') a.metrics([{ key: 'loss', step: 2, value: 0.3 }]);
    if (misuse === 'bad-result') b.finish({ summary: { bad: Number.NaN } });
    b.fail('diverged');
    return { summary: { children: 2 } };
  },
};

function harness(kind: JobKind) {
  const sent: WorkerMessage[] = [];
  let deliver: (m: unknown) => void = () => undefined;
  let done: () => void = () => undefined;
  const exited = new Promise<void>((r) => (done = r));
  runWorker(
    {
      send: async (m) => {
        expect(WorkerMessageSchema.safeParse(m).success, JSON.stringify(m)).toBe(true);
        sent.push(m as WorkerMessage);
      },
      onMessage: (cb) => (deliver = cb),
    },
    {
      exit: () => done(),
      flushMs: 10_000,
      loadKinds: async () => new Map([[kind.kind, kind]]),
      catchProcessErrors: false,
    },
  );
  const start = (config: unknown) =>
    deliver({
      type: 'start',
      runId: randomUUID(),
      kind: kind.kind,
      config,
      seed: 3,
      workDir: join(dir, 'work'),
      labDir: dir,
    });
  return { sent, start, exited };
}

describe('worker: ChildRun', () => {
  it('sends child-start first, then the child’s data tagged with its id, its metrics before child-end', async () => {
    const h = harness(sweep);
    h.start({});
    await h.exited;
    const starts = h.sent.filter((m) => m.type === 'child-start');
    expect(starts.map((m) => m.type === 'child-start' && [m.name, m.kind, m.config, m.seed])).toEqual([
      ['a', 'sweep', { lr: 0.1 }, 3],
      ['b', 'sweep', { lr: 0.2 }, 11],
    ]);
    const [a, b] = starts.map((m) => (m.type === 'child-start' ? m.childId : ''));
    expect(a).not.toBe(b);
    const about = (id: string) =>
      h.sent
        .filter(
          (m) =>
            (m.type === 'child-start' || m.type === 'child-end' ? m.childId : 'runId' in m && m.runId) === id,
        )
        .map((m) => (m.type === 'metrics' ? `metrics:${m.points.map((p) => p.value).join(',')}` : m.type));
    expect(about(a)).toEqual(['child-start', 'metrics:0.5,0.4', 'progress', 'child-end']);
    expect(about(b)).toEqual(['child-start', 'log', 'metrics:0.25', 'child-end']);
    const progressA = h.sent.find((m) => m.type === 'progress' && m.runId === a);
    expect(progressA).toMatchObject({ fraction: 1, message: 'clamped' });
    const ends = h.sent.filter((m) => m.type === 'child-end');
    expect(ends).toEqual([
      {
        type: 'child-end',
        childId: a,
        status: 'succeeded',
        result: { summary: { loss: 0.4 }, report: [], backend: {} },
        error: null,
      },
      {
        type: 'child-end',
        childId: b,
        status: 'failed',
        result: { summary: {}, report: [], backend: {} },
        error: 'diverged',
      },
    ]);
    const parentPoints = h.sent.filter((m) => m.type === 'metrics' && m.runId === undefined);
    expect(parentPoints).toHaveLength(1);
    expect(
      h.sent
        .filter((m) => m.type !== 'heartbeat')
        .slice(-2)
        .map((m) => m.type),
    ).toEqual(['result', 'done']);
  });

  it('fails the job on a call to an ended child or an invalid child result, naming the child', async () => {
    for (const [misuse, re] of [
      ['after-finish', /^child a: metrics after it ended$/],
      ['bad-result', /^child b returned an invalid result: result\.summary\.bad: /],
    ] as const) {
      const h = harness(sweep);
      h.start({ misuse });
      await h.exited;
      const failed = h.sent.find((m) => m.type === 'failed');
      expect(failed?.type === 'failed' && failed.error.message).toMatch(re);
    }
  });
});

describe('childOrInline', () => {
  function bareContext() {
    const points: MetricPoint[] = [];
    const logs: [LogLevel, string][] = [];
    const ctx: JobContext = {
      runId: 'r',
      seed: 5,
      signal: new AbortController().signal,
      workDir: dir,
      cacheDir: dir,
      progress: () => undefined,
      metrics: (p) => points.push(...p),
      log: (level, message) => logs.push([level, message]),
      artifact: async () => undefined,
    };
    return { ctx, points, logs };
  }

  it('without ctx.child records the point in the parent under "<name>/<key>"', () => {
    const { ctx, points, logs } = bareContext();
    const c = childOrInline(ctx, 'q4', { qubits: 4 }, { seed: 8 });
    expect(c.seed).toBe(8);
    c.metrics([{ key: 'acc', step: 2, value: 0.75 }]);
    c.log('info', 'hello');
    c.finish({ summary: { acc: 0.75 } });
    expect(points).toEqual([{ key: 'q4/acc', step: 2, value: 0.75 }]);
    expect(logs).toEqual([
      ['info', '[q4] hello'],
      ['info', '[q4] finished: {"acc":0.75}'],
    ]);
    expect(() => c.metrics([])).toThrow(/q4: metrics after it ended/);
  });

  it('with ctx.child hands over to it', () => {
    const { ctx } = bareContext();
    const calls: unknown[] = [];
    ctx.child = (name, config, opts) => {
      calls.push([name, config, opts]);
      return childOrInline({ ...ctx, child: undefined }, name, config, opts);
    };
    childOrInline(ctx, 'p', { a: 1 });
    expect(calls).toEqual([['p', { a: 1 }, {}]]);
  });
});
