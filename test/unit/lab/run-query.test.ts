// queryRuns (core/lab/run-query.ts): the runs table's pages sorted, searched, filtered and grouped in SQLite
// must equal, window for window, what the renderer's own pure functions make of the same runs
// (test/unit/renderer/reference-query.ts): a backend checked against its reference.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flattenConfig, RunQuerySchema, type RunQuery, type RunSummary } from '../../../core/api/lab-api';
import { durationSeconds, type RunConfigs } from '../../../renderer/src/lib/runs-table';
import { queryRuns } from '../../../core/lab/run-query';
import { Store } from '../../../core/lab/store';
import { referenceQueryRuns } from '../renderer/reference-query';

let dir = '';
let store: Store;
let all: RunSummary[] = [];
let configs: RunConfigs = new Map();

/** A small deterministic generator, so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qlab-run-query-'));
  store = Store.open(join(dir, 'lab.sqlite'));
  const r = rng(7);
  const t0 = Date.parse('2026-10-01T00:00:00.000Z');
  const iso = (ms: number) => new Date(ms).toISOString();
  const kinds = ['qhead', 'qdllm', 'sim-bench', 'vqc-fit'];
  const tagPool = ['a', 'b', 'Zeta', 'paper'];
  const names = ['', 'Alpha', 'beta run', 'Ünicode', 'needle', 'gamma'];
  const statuses = ['succeeded', 'failed', 'queued', 'cancelled'] as const;
  const finish = store.db.prepare(
    'UPDATE runs SET status = ?, started_at = ?, finished_at = ?, progress = ?, summary = ?, error = ? WHERE id = ?',
  );
  store.db.transaction(() => {
    for (let i = 0; i < 600; i++) {
      const id = crypto.randomUUID();
      const kind = kinds[Math.floor(r() * kinds.length)];
      // Several runs share a millisecond: ties must break the same way.
      const at = t0 + Math.floor(i / 3) * 1000;
      store.insertRun({
        id,
        kind,
        name: names[Math.floor(r() * names.length)] + (r() < 0.5 ? ` ${i}` : ''),
        config: {
          qubits: Math.floor(r() * 6) + 2,
          model: { layers: r() < 0.2 ? 'deep' : Math.floor(r() * 4) },
          list: [1, i % 3],
        },
        seed: i,
        createdAt: iso(at),
        codeVersion: 't',
        tags: tagPool.filter(() => r() < 0.3),
      });
      if (i % 50 === 0) {
        store.db.prepare("UPDATE runs SET status = 'running' WHERE id = ?").run(id);
        // a sweep: two children (never listed at the top level)
        for (let k = 0; k < 2; k++)
          store.insertChildRun({
            id: crypto.randomUUID(),
            parentId: id,
            kind,
            name: `point ${k}`,
            config: {},
            seed: k,
            at: iso(at + 600 + k),
            codeVersion: 't',
            host: {},
          });
      }
      const status = i % 50 === 0 ? 'succeeded' : statuses[Math.floor(r() * statuses.length)];
      const summary: Record<string, number | string> = {};
      if (r() < 0.7)
        summary[kind === 'qhead' ? 'quantum_test_acc' : 'test_ppl_mean'] = Math.round(r() * 1000) / 1000;
      if (r() < 0.5) summary.loss = r() < 0.1 ? 'n/a' : r();
      if (r() < 0.2) summary.first = 'text';
      if (status === 'queued') continue;
      finish.run(
        status,
        r() < 0.1 ? null : iso(at + 500),
        iso(at + 500 + Math.floor(r() * 100_000)),
        Math.round(r() * 100) / 100,
        JSON.stringify(summary),
        status === 'failed' ? 'Out of memory in layer' : null,
        id,
      );
    }
  })();
  all = store.listRuns({ includeChildren: true, limit: 100_000 });
  configs = new Map(
    store.configs(all.map((r) => r.id)).map((c) => [c.id, flattenConfig(JSON.parse(c.config))]),
  );
});

afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const sql = (q: RunQuery) => queryRuns(store.db, RunQuerySchema.parse(q), (id) => store.getSummary(id));
const ids = (runs: RunSummary[]) => runs.map((r) => r.id);

describe('queryRuns', () => {
  const columns = [
    'created',
    'status',
    'kind',
    'name',
    'progress',
    'duration',
    'headline',
    'tags',
    'summary:loss',
    'summary:first',
    'config:qubits',
    'config:model.layers',
    'config:list',
  ];
  for (const sort of columns)
    for (const dir of ['asc', 'desc'] as const)
      it(`sorts by ${sort} ${dir} as the renderer does, window by window`, () => {
        const whole = referenceQueryRuns(all, { sort, dir, limit: 1000 }, configs);
        expect(whole.total).toBe(600);
        for (const offset of [0, 97, 550]) {
          const got = sql({ sort, dir, offset, limit: 100 });
          expect(got.total).toBe(600);
          expect(ids(got.runs)).toEqual(ids(whole.runs.slice(offset, offset + 100)));
        }
      });

  it('filters and searches (every word, any case, in name, kind, status, id, error, tags and summary keys)', () => {
    const queries: RunQuery[] = [
      { kind: 'qhead' },
      { status: 'failed' },
      { tag: 'paper' },
      { search: 'needle' },
      { search: 'NEEDLE qhead' },
      { search: 'memory' },
      { search: 'zeta' },
      { search: 'quantum_test' },
      { search: 'ünicode' },
      { search: 'nothing-matches-this' },
      { kind: 'qdllm', tag: 'a', search: 'beta', sort: 'name', dir: 'asc' },
    ];
    for (const q of queries) {
      const want = referenceQueryRuns(all, { ...q, limit: 1000 });
      const got = sql({ ...q, limit: 1000 });
      expect(got.total, JSON.stringify(q)).toBe(want.total);
      expect(ids(got.runs), JSON.stringify(q)).toEqual(ids(want.runs));
    }
    expect(sql({ search: 'needle' }).total).toBeGreaterThan(0);
  });

  it('counts groups and pages within one group (a run under each of its tags; untagged; sweeps)', () => {
    for (const by of ['kind', 'tag', 'sweep'] as const) {
      const want = referenceQueryRuns(all, { withGroups: by, limit: 0 });
      const got = sql({ withGroups: by, limit: 0 });
      expect(got.groups, by).toEqual(want.groups);
      for (const g of got.groups!) {
        const q: RunQuery = {
          group: { by, value: g.value },
          sort: 'headline',
          dir: 'desc',
          offset: 3,
          limit: 40,
        };
        const page = sql(q);
        expect(page.total).toBe(g.count);
        expect(ids(page.runs)).toEqual(ids(referenceQueryRuns(all, q).runs));
      }
    }
    // By sweep: one section per parent (12 parents of 2 points each, newest first), then the single runs.
    const sweeps = sql({ withGroups: 'sweep', limit: 0 }).groups!;
    expect(sweeps.length).toBe(13);
    expect(
      sweeps.slice(0, 12).every((g) => g.count === 2 && g.run?.id === g.value && g.run.childCount === 2),
    ).toBe(true);
    expect(sweeps.slice(0, 12).map((g) => g.run!.createdAt)).toEqual(
      sweeps
        .slice(0, 12)
        .map((g) => g.run!.createdAt)
        .sort()
        .reverse(),
    );
    expect(sweeps[12]).toEqual({ value: 'single', count: 588 });
    const points = sql({ group: { by: 'sweep', value: sweeps[0].value }, limit: 10 });
    expect(points.runs.map((r) => r.parentId)).toEqual([sweeps[0].value, sweeps[0].value]);
    expect(points.all).toBe(600);
    // Children never show at the top level.
    expect(sql({ limit: 0 }).all).toBe(600);
  });

  it('lists every matching id for select all, the facets and the summary keys', () => {
    const got = sql({
      tag: 'a',
      sort: 'name',
      withIds: true,
      withFacets: true,
      withSummaryKeys: true,
      limit: 1,
    });
    const want = referenceQueryRuns(all, {
      tag: 'a',
      sort: 'name',
      withIds: true,
      withFacets: true,
      limit: 1,
    });
    expect(got.ids).toEqual(want.ids);
    expect(got.ids!.length).toBe(got.total);
    expect(got.kinds).toEqual(want.kinds);
    expect(got.tags).toEqual(['Zeta', 'a', 'b', 'paper']);
    // first seen over the matching runs newest first, each run's keys in its order (not only the same set)
    expect(got.summaryKeys).toEqual(referenceQueryRuns(all, { tag: 'a', withSummaryKeys: true }).summaryKeys);
  });

  it('refuses a bad request naming the field', () => {
    expect(() => RunQuerySchema.parse({ sort: 'nope' })).toThrow(/summary:<key>/);
    expect(RunQuerySchema.safeParse({ limit: 1001 }).success).toBe(false);
    expect(RunQuerySchema.safeParse({ offset: -1 }).success).toBe(false);
    expect(RunQuerySchema.safeParse({ group: { by: 'colour', value: 'x' } }).success).toBe(false);
    // A window past the end is empty, not an error.
    expect(sql({ offset: 10_000 }).runs).toEqual([]);
  });
});

// A run that ended without a finish time (or whose finish the lab wrote late, on noticing a dead job) must not
// count to now: its time stops at its last heartbeat, else its last metric, else its start — in the renderer's
// durations (core/api/run-duration.ts) and in the lab's duration sort alike.
describe('durations of runs that ended without a finish time', () => {
  const t0 = Date.parse('2026-09-01T00:00:00.000Z');
  const iso = (s: number) => new Date(t0 + s * 1000).toISOString();
  const NOW = iso(1000);
  let d = '';
  let st: Store;
  // name → [status, finished (s after start), heartbeat (s), last metric (s)] and its duration at NOW
  const cases: [string, string, number | null, number | null, number | null, number][] = [
    ['no trace', 'failed', null, null, null, 0],
    ['finished', 'succeeded', 100, 100, null, 100],
    ['interrupted, no finish', 'interrupted', null, 200, 150, 200],
    ['cancelled, metrics only', 'cancelled', null, null, 300, 300],
    ['interrupted, noticed days later', 'interrupted', 10 * 86400, 400, null, 400],
    ['failed, finish and a later heartbeat', 'failed', 500, 600, null, 500],
    ['running', 'running', null, 50, null, 1000],
  ];

  beforeAll(() => {
    d = mkdtempSync(join(tmpdir(), 'qlab-run-duration-'));
    st = Store.open(join(d, 'lab.sqlite'));
    const put = st.db.prepare(
      'UPDATE runs SET status = ?, started_at = ?, finished_at = ?, heartbeat_at = ? WHERE id = ?',
    );
    const metric = st.db.prepare(
      'INSERT INTO metrics (run_id, key, step, wall_time, value) VALUES (?, ?, ?, ?, ?)',
    );
    cases.forEach(([name, status, fin, hb, lm], i) => {
      const id = crypto.randomUUID();
      st.insertRun({
        id,
        kind: 'k',
        name,
        config: {},
        seed: i,
        createdAt: iso(-i),
        codeVersion: 't',
        tags: [],
      });
      const s = (x: number | null) => (x === null ? null : iso(x));
      put.run(status, iso(0), s(fin), s(hb), id);
      if (lm !== null) {
        metric.run(id, 'loss', 0, t0 + 1000, 1);
        metric.run(id, 'loss', 1, t0 + lm * 1000 + 0.4, 0.5);
      }
    });
  });

  afterAll(() => {
    st.close();
    rmSync(d, { recursive: true, force: true });
  });

  it('each run lists its last sign of life and the renderer stops its duration there', () => {
    const runs = st.listRuns({ limit: 100 });
    for (const [name, , , hb, lm, seconds] of cases) {
      const r = runs.find((x) => x.name === name)!;
      expect(r.lastSeenAt, name).toBe(hb !== null ? iso(hb) : lm !== null ? iso(lm) : null);
      expect(durationSeconds(r, Date.parse(NOW)), name).toBe(seconds);
    }
  });

  it('the lab sorts by the same durations', () => {
    for (const dir of ['asc', 'desc'] as const) {
      const got = queryRuns(
        st.db,
        { ...RunQuerySchema.parse({ sort: 'duration', dir }), now: NOW } as RunQuery,
        (id) => st.getSummary(id),
      );
      const want = [...cases].sort((a, b) => (dir === 'asc' ? a[5] - b[5] : b[5] - a[5])).map((c) => c[0]);
      expect(got.runs.map((r) => r.name)).toEqual(want);
    }
  });
});
