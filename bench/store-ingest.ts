// Metric ingest into each RunStore in the same run: SQLite (the lab's file, WAL, synchronous=NORMAL) and a
// throwaway PostgreSQL server (test/helpers/servers.ts) with its default durability (fsync on, synchronous
// commit on) and with synchronous_commit off (commits no longer wait for the WAL flush, as SQLite's NORMAL
// does not). Each batch is one RunStore.appendMetrics call (one transaction / statement), as a job's batches
// are. Prints points/s per store and batch size, the median of the repeats.
//   npx tsx bench/store-ingest.ts [--points 100000] [--repeats 3]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { RunStore } from '../core/lab/run-store';
import { PgRunStore } from '../core/lab/store-pg';
import { SqliteRunStore } from '../core/lab/store-sqlite';
import { median, METRIC_KEYS, startBenchPostgres, timeMetricIngest } from './store-shared';

const { values } = parseArgs({
  options: { points: { type: 'string', default: '100000' }, repeats: { type: 'string', default: '3' } },
});
const total = Number(values.points);
const repeats = Number(values.repeats);
const BATCHES = [50, 500, 5000];
const runId = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

const dir = mkdtempSync(join(tmpdir(), 'qlab-bench-store-'));
const server = await startBenchPostgres();
try {
  const stores: [string, () => Promise<RunStore>][] = [
    [
      'sqlite (WAL, synchronous=NORMAL)',
      async () => SqliteRunStore.open(join(mkdtempSync(join(dir, 's-')), 'lab.sqlite')),
    ],
  ];
  if (server) {
    stores.push([
      'postgres (fsync on, synchronous_commit on)',
      async () => PgRunStore.open(await server.createDatabase()),
    ]);
    stores.push([
      'postgres (synchronous_commit off)',
      async () => {
        const url = await server.createDatabase();
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        await c.query(`ALTER DATABASE "${new URL(url).pathname.slice(1)}" SET synchronous_commit = off`);
        await c.end();
        return PgRunStore.open(url);
      },
    ]);
  }
  console.log(
    `metric ingest, ${total} points (${METRIC_KEYS.length} keys) per measurement, median of ${repeats}`,
  );
  console.log('store | batch | points/s');
  let runNo = 0;
  for (const [name, open] of stores) {
    const store = await open();
    try {
      for (const batch of BATCHES) {
        const rates: number[] = [];
        for (let r = 0; r < repeats; r++)
          rates.push(await timeMetricIngest(store, runId(++runNo), total, batch));
        console.log(`${name} | ${batch} | ${Math.round(median(rates))}`);
      }
    } finally {
      await store.close();
    }
  }
} finally {
  server?.stop();
  rmSync(dir, { recursive: true, force: true });
}
