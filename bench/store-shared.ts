// What the store benchmarks (store-ingest.ts, store-query.ts) share: a throwaway PostgreSQL server with its
// default durability, the median, and one timed metric ingest into a new run.
import type { RunStore, StoredMetricPoint } from '../core/lab/run-store';
import { isSkipped, startPostgres, type PgServer } from '../test/helpers/servers';

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** PostgreSQL with fsync and synchronous commit on (PGPASSWORD set), or undefined with the reason printed. */
export async function startBenchPostgres(): Promise<PgServer | undefined> {
  const server = await startPostgres({ fast: false });
  if (isSkipped(server)) {
    console.log(`PostgreSQL skipped: ${server.skipped}`);
    return undefined;
  }
  process.env.PGPASSWORD = server.password;
  return server;
}

export const METRIC_KEYS = ['loss', 'acc', 'lr', 'grad_norm'];

/**
 * Creates and claims run `id`, then appends `points` metric points (rounded up to a whole step of
 * METRIC_KEYS) in calls of `batch` — each one RunStore.appendMetrics, as a job's batches are. Returns points
 * per second of the appends alone; throws unless the store then counts every point.
 */
export async function timeMetricIngest(
  store: RunStore,
  id: string,
  points: number,
  batch: number,
): Promise<number> {
  const at = new Date().toISOString();
  await store.createRun({
    id,
    kind: 'bench',
    name: 'b',
    config: {},
    seed: 0,
    createdAt: at,
    codeVersion: 'b',
    tags: [],
  });
  await store.claimRun(id, at, {});
  const all: StoredMetricPoint[] = [];
  for (let step = 0; all.length < points; step++)
    for (const key of METRIC_KEYS)
      all.push({ key, step, value: Math.sin(step) + key.length, wallTime: Date.now() });
  const t0 = performance.now();
  for (let i = 0; i < all.length; i += batch) await store.appendMetrics(id, all.slice(i, i + batch));
  const s = (performance.now() - t0) / 1000;
  const n = (await store.metricSummaries(id)).reduce((a, m) => a + m.count, 0);
  if (n !== all.length) throw new Error(`stored ${n} of ${all.length} points`);
  return all.length / s;
}
