// The runs table at 100,000 runs on both stores in the same run: SQLite (the lab's file) and a throwaway
// PostgreSQL server (test/helpers/servers.ts, default durability), each seeded with the same runs through
// RunStore.insertStoredRuns (batched: one transaction per 5,000 runs), then RunStore.queryRuns timed for what
// the table asks: the first page, a page deep in the list sorted by a computed column (first after a change,
// when the order is computed, and again unchanged, when it is kept) and by an SQL column, a search, and group
// counts. Metric ingest (points/s, batches of 500) is measured beside it on the same stores. Each figure is the
// median of the repeats. A first request runs on a newly opened store (nothing kept); "retagged since" changes
// another run before each repeat, as a live lab does (SQLite keeps a computed order through changes that
// cannot move it; PostgreSQL reads it again after any commit).
//   npm run bench:store -- [--runs 100000] [--repeats 5]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { RunQuerySchema, type RunQuery } from '../core/api/lab-api';
import type { RunStore, StoredRun } from '../core/lab/run-store';
import { PgRunStore } from '../core/lab/store-pg';
import { SqliteRunStore } from '../core/lab/store-sqlite';
import { median, startBenchPostgres, timeMetricIngest } from './store-shared';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '100000' },
    repeats: { type: 'string', default: '5' },
    points: { type: 'string', default: '100000' },
  },
});
const RUNS = Number(values.runs);
const REPEATS = Number(values.repeats);
const POINTS = Number(values.points);
const SWEEPS = Math.floor(RUNS / 200);
/** The offset of the deep page: nine tenths down the table. */
const DEEP = Math.floor(RUNS * 0.9);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const KINDS = ['qhead', 'qdllm', 'qffn', 'sim-bench', 'vqc-fit'];
const TAGS = ['baseline', 'paper', 'ablation', 'lr-sweep', 'Zeta', 'draft'];
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'needle', 'run', 'test', 'Ünicode'];
const uuid = (n: number, tag = 8) => `00000000-0000-4000-${tag}000-${n.toString(16).padStart(12, '0')}`;

/** The runs, in batches of `size` (parents before their children), the same for every store. */
function* runs(size: number): Generator<StoredRun[]> {
  const r = rng(5);
  const t0 = Date.parse('2026-01-01T00:00:00.000Z');
  const iso = (ms: number) => new Date(ms).toISOString();
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  let batch: StoredRun[] = [];
  const row = (id: string, parent: string | null, i: number, kind: string): StoredRun => {
    const created = t0 + i * 1000 + (parent ? 500 : 0);
    const status = r() < 0.8 ? 'succeeded' : pick(['failed', 'cancelled', 'interrupted'] as const);
    const summary: Record<string, number | string> = {};
    if (kind === 'qhead') summary.quantum_test_acc = Math.round(r() * 1000) / 1000;
    else summary.test_ppl_mean = Math.round(r() * 100000) / 100;
    summary.loss = Math.round(r() * 1e6) / 1e6;
    if (r() < 0.3) summary.teacher_test_acc = Math.round(r() * 1000) / 1000;
    if (r() < 0.1) summary.note = pick(WORDS);
    return {
      run: {
        id,
        kind,
        name: `${pick(WORDS)} ${pick(WORDS)} ${i}`,
        status,
        config: JSON.stringify({
          qubits: 2 + Math.floor(r() * 10),
          optimizer: { lr: pick([0.1, 0.01, 0.001]) },
          layers: [4, 4],
        }),
        seed: i,
        created_at: iso(created),
        started_at: iso(created + 100),
        finished_at: iso(created + 100 + Math.floor(r() * 600_000)),
        heartbeat_at: null,
        code_version: 'bench',
        host: '{}',
        backend: '{}',
        error: status === 'failed' ? 'Out of memory in layer 3' : null,
        progress: 1,
        progress_message: null,
        summary: JSON.stringify(summary),
        report: '[]',
        parent_id: parent,
      },
      tags: parent ? [] : TAGS.filter(() => r() < 0.12),
      notes: [],
      metricSummary: [],
      metrics: {},
      artifacts: [],
    };
  };
  for (let i = 0; i < RUNS; i++) {
    const kind = pick(KINDS);
    const id = uuid(i);
    batch.push(row(id, null, i, kind));
    // every 200th run is a sweep of 4 points
    if (i % 200 === 0) for (let k = 0; k < 4; k++) batch.push(row(uuid(i * 4 + k, 9), id, i, kind));
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

async function seed(store: RunStore): Promise<number> {
  const t0 = performance.now();
  for (const b of runs(5000)) await store.insertStoredRuns(b);
  return (performance.now() - t0) / 1000;
}

/** A change to one run (as a live lab makes between two requests): kept orders no longer apply. */
let bump = 0;
async function touch(store: RunStore): Promise<void> {
  await store.setTags(uuid(bump++ % RUNS), ['touched']);
}

/**
 * `fresh`: each repeat on a newly opened store (no order kept from before: what a first request costs);
 * `kept`: asked once, then repeated unchanged; `changed`: another run retagged before each repeat.
 */
type Mode = 'fresh' | 'kept' | 'changed';

async function timeQuery(
  store: RunStore,
  reopen: () => Promise<RunStore>,
  q: RunQuery,
  mode: Mode,
): Promise<{ ms: number; total: number }> {
  const parsed = RunQuerySchema.parse(q);
  const ms: number[] = [];
  let total = 0;
  if (mode !== 'fresh') await store.queryRuns(parsed); // the order is kept from here on
  for (let i = 0; i < REPEATS; i++) {
    if (mode === 'changed') await touch(store);
    const s = mode === 'fresh' ? await reopen() : store;
    try {
      const t0 = performance.now();
      const page = await s.queryRuns(parsed);
      ms.push(performance.now() - t0);
      total = page.total;
      if (q.limit !== 0 && page.runs.length === 0 && page.total > (q.offset ?? 0))
        throw new Error('empty page');
    } finally {
      if (s !== store) await s.close();
    }
  }
  return { ms: median(ms), total };
}

const QUERIES: { label: string; q: RunQuery; mode: Mode }[] = [
  {
    label: 'first page, newest first, with the filter choices',
    q: { limit: 100, withFacets: true },
    mode: 'fresh',
  },
  {
    label: 'deep page by headline, first request',
    q: { sort: 'headline', dir: 'asc', offset: DEEP, limit: 100 },
    mode: 'fresh',
  },
  {
    label: 'deep page by headline, another run retagged since',
    q: { sort: 'headline', dir: 'asc', offset: DEEP, limit: 100 },
    mode: 'changed',
  },
  {
    label: 'deep page by headline, unchanged since',
    q: { sort: 'headline', dir: 'asc', offset: DEEP, limit: 100 },
    mode: 'kept',
  },
  {
    label: 'deep page by duration, first request',
    q: { sort: 'duration', offset: DEEP, limit: 100 },
    mode: 'fresh',
  },
  { label: "search 'needle gamma', first request", q: { search: 'needle gamma', limit: 100 }, mode: 'fresh' },
  { label: 'group counts by tag', q: { withGroups: 'tag', limit: 0 }, mode: 'fresh' },
  {
    label: 'group counts by kind within a tag',
    q: { tag: 'paper', withGroups: 'kind', limit: 0 },
    mode: 'fresh',
  },
];

const dir = mkdtempSync(join(tmpdir(), 'qlab-bench-query-'));
const server = await startBenchPostgres();
const stores: { name: string; open: () => Promise<RunStore>; analyze?: string }[] = [
  { name: 'SQLite', open: async () => SqliteRunStore.open(join(dir, 'lab.sqlite')) },
];
if (server) {
  const url = await server.createDatabase();
  stores.push({ name: 'PostgreSQL', open: () => PgRunStore.open(url), analyze: url });
}

const results = new Map<string, Map<string, string>>();
const put = (row: string, store: string, v: string) => {
  if (!results.has(row)) results.set(row, new Map());
  results.get(row)!.set(store, v);
};
try {
  for (const s of stores) {
    const store = await s.open();
    try {
      const secs = await seed(store);
      if (s.analyze !== undefined) {
        // what autovacuum does after a bulk load, so the planner knows the tables' sizes
        const c = new pg.Client({ connectionString: s.analyze });
        await c.connect();
        await c.query('ANALYZE');
        await c.end();
      }
      const n = await store.countRuns({ includeChildren: true });
      console.log(`${s.name}: seeded ${n} runs in ${secs.toFixed(1)} s (${Math.round(n / secs)} runs/s)`);
      put(
        `seed ${RUNS.toLocaleString('en-US')} runs (+${(SWEEPS * 4).toLocaleString('en-US')} sweep points; PostgreSQL then ANALYZE), batches of 5,000`,
        s.name,
        `${secs.toFixed(1)} s`,
      );
      for (const { label, q, mode } of QUERIES) {
        const r = await timeQuery(store, s.open, q, mode);
        console.log(`${s.name}: ${label}: ${r.ms.toFixed(1)} ms (${r.total} matching)`);
        put(label, s.name, `${r.ms.toFixed(r.ms < 10 ? 1 : 0)} ms`);
      }
      const pps = await timeMetricIngest(store, uuid(0xffffff, 7), POINTS, 500);
      console.log(`${s.name}: metric ingest, batches of 500: ${Math.round(pps)} points/s`);
      put(
        `metric ingest, batches of 500 (${POINTS.toLocaleString('en-US')} points)`,
        s.name,
        `${Math.round(pps).toLocaleString('en-US')} points/s`,
      );
    } finally {
      await store.close();
    }
  }
} finally {
  server?.stop();
  rmSync(dir, { recursive: true, force: true });
}

const names = stores.map((s) => s.name);
console.log(
  `\n| ${RUNS.toLocaleString('en-US')} top-level runs, median of ${REPEATS}; deep page at offset ${DEEP.toLocaleString('en-US')} | ${names.join(' | ')} |`,
);
console.log(`| --- | ${names.map(() => '---:').join(' | ')} |`);
for (const [row, m] of results) console.log(`| ${row} | ${names.map((n) => m.get(n) ?? '—').join(' | ')} |`);
