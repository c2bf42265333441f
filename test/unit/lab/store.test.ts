import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_MIGRATIONS_DIR,
  Store,
  loadMigrations,
  type StoredMetricPoint,
} from '../../../core/lab/store';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'qlab-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function newRun(store: Store, id = randomUUID()): string {
  store.insertRun({
    id,
    kind: 'k',
    name: 'n',
    config: { a: 1 },
    seed: 7,
    createdAt: new Date().toISOString(),
    codeVersion: 'test',
    tags: ['t1'],
  });
  return id;
}

const pt = (key: string, step: number, value: number): StoredMetricPoint => ({
  key,
  step,
  value,
  wallTime: 0,
});

describe('migrations', () => {
  it('creates the schema on a fresh file and records the version', () => {
    const file = join(dir, 'lab.sqlite');
    const store = Store.open(file);
    const latest = loadMigrations(DEFAULT_MIGRATIONS_DIR).length;
    expect(store.schemaVersion).toBe(latest);
    expect(store.db.pragma('user_version', { simple: true })).toBe(latest);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    const tables = (
      store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
        name: string;
      }[]
    ).map((t) => t.name);
    for (const t of ['runs', 'metrics', 'metric_summary', 'artifacts', 'tags', 'notes'])
      expect(tables).toContain(t);
    const metricsSql = (
      store.db.prepare("SELECT sql FROM sqlite_master WHERE name = 'metrics'").get() as { sql: string }
    ).sql;
    expect(metricsSql).toMatch(/WITHOUT ROWID/);
    store.close();
  });

  it('reopens idempotently and keeps the data', () => {
    const file = join(dir, 'lab.sqlite');
    const a = Store.open(file);
    const id = newRun(a);
    a.close();
    const b = Store.open(file);
    expect(b.getSummary(id)?.tags).toEqual(['t1']);
    expect(b.countRuns()).toBe(1);
    b.close();
  });

  it('applies only pending migrations, in one transaction', () => {
    const migDir = join(dir, 'migs');
    mkdirSync(migDir);
    copyFileSync(join(DEFAULT_MIGRATIONS_DIR, '001_init.sql'), join(migDir, '001_init.sql'));
    const file = join(dir, 'lab.sqlite');
    Store.open(file, migDir).close();
    // A broken second migration must roll back entirely: no half-created table, version unchanged.
    writeFileSync(join(migDir, '002_more.sql'), 'CREATE TABLE extra (x INTEGER);\nTHIS IS NOT SQL;');
    expect(() => Store.open(file, migDir)).toThrow();
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(1);
    expect(raw.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'extra'").get()).toEqual({
      n: 0,
    });
    raw.close();
    writeFileSync(join(migDir, '002_more.sql'), 'CREATE TABLE extra (x INTEGER);');
    const s = Store.open(file, migDir);
    expect(s.schemaVersion).toBe(2);
    s.close();
  });

  it('refuses a database newer than the code and leaves its bytes unchanged', () => {
    const file = join(dir, 'lab.sqlite');
    const s = Store.open(file);
    newRun(s);
    s.close();
    const raw = new Database(file);
    raw.pragma('user_version = 99');
    raw.close();
    const before = readFileSync(file);
    expect(() => Store.open(file)).toThrow(/schema version 99, newer than this code/);
    expect(Buffer.compare(readFileSync(file), before)).toBe(0);
  });

  it('rejects badly named or out-of-sequence migration files', () => {
    const migDir = join(dir, 'bad');
    mkdirSync(migDir);
    writeFileSync(join(migDir, '002_skip.sql'), 'SELECT 1;');
    expect(() => loadMigrations(migDir)).toThrow(/out of sequence/);
    rmSync(join(migDir, '002_skip.sql'));
    writeFileSync(join(migDir, 'init.sql'), 'SELECT 1;');
    expect(() => loadMigrations(migDir)).toThrow(/NNN_name\.sql/);
  });
});

describe('metric batches and summaries', () => {
  it('keeps count/last/min/max equal to a recomputation over all points', () => {
    const s = Store.open(join(dir, 'lab.sqlite'));
    const id = newRun(s);
    // Batches arrive out of step order and with interleaved keys; summaries must still match the table.
    const values = (step: number) => Math.sin(step * 0.37) * 10 + step * 0.01;
    const steps = Array.from({ length: 300 }, (_, i) => i).sort(
      (a, b) => ((a * 7919) % 300) - ((b * 7919) % 300),
    );
    for (let i = 0; i < steps.length; i += 37) {
      s.addMetrics(
        id,
        steps.slice(i, i + 37).flatMap((st) => [pt('a', st, values(st)), pt('b', st, -st)]),
      );
    }
    const sum = s.metricSummaries(id);
    const expectA = Array.from({ length: 300 }, (_, i) => values(i));
    expect(sum.find((m) => m.key === 'a')).toEqual({
      key: 'a',
      count: 300,
      lastStep: 299,
      last: values(299),
      min: Math.min(...expectA),
      max: Math.max(...expectA),
    });
    expect(sum.find((m) => m.key === 'b')).toEqual({
      key: 'b',
      count: 300,
      lastStep: 299,
      last: -299,
      min: -299,
      max: 0,
    });
    s.close();
  });

  it('ignores a repeated step (first write wins) without corrupting the summary', () => {
    const s = Store.open(join(dir, 'lab.sqlite'));
    const id = newRun(s);
    expect(s.addMetrics(id, [pt('a', 0, 1), pt('a', 1, 2)])).toHaveLength(2);
    const inserted = s.addMetrics(id, [pt('a', 1, 100), pt('a', 2, 3)]);
    expect(inserted.map((p) => p.step)).toEqual([2]);
    expect(s.metricSummaries(id)[0]).toMatchObject({ count: 3, max: 3, last: 3, lastStep: 2 });
    expect(s.points(id, 'a').map((p) => p.value)).toEqual([1, 2, 3]);
    s.close();
  });

  it('rolls a batch back entirely when one point fails', () => {
    const s = Store.open(join(dir, 'lab.sqlite'));
    const id = newRun(s);
    s.addMetrics(id, [pt('a', 0, 1)]);
    // NaN is bound as NULL, which the NOT NULL column refuses: the whole batch must vanish.
    expect(() => s.addMetrics(id, [pt('a', 1, 2), pt('a', 2, Number.NaN)])).toThrow();
    expect(s.points(id, 'a')).toHaveLength(1);
    expect(s.metricSummaries(id)[0].count).toBe(1);
    s.close();
  });

  it('refuses metrics for a run that does not exist (foreign keys are on)', () => {
    const s = Store.open(join(dir, 'lab.sqlite'));
    expect(() => s.addMetrics(randomUUID(), [pt('a', 0, 1)])).toThrow(/FOREIGN KEY/);
    s.close();
  });
});

describe('downsampling', () => {
  it('returns min/max/last per equal-width step bucket, exactly', () => {
    const s = Store.open(join(dir, 'lab.sqlite'));
    const id = newRun(s);
    // 1000 points, steps 0..999, value = (step * 37) % 101: irregular, so min/max/last are distinct per bucket.
    const f = (step: number) => (step * 37) % 101;
    s.addMetrics(
      id,
      Array.from({ length: 1000 }, (_, i) => pt('v', i, f(i))),
    );
    const series = s.series(id, 'v', 7);
    const width = Math.ceil(1000 / 7); // 143
    expect(series.count).toBe(1000);
    expect(series.points).toHaveLength(Math.ceil(1000 / width));
    series.points.forEach((p, b) => {
      const steps = Array.from({ length: 1000 }, (_, i) => i).filter((i) => Math.floor(i / width) === b);
      const vals = steps.map(f);
      expect(p).toEqual({
        step: steps[steps.length - 1],
        min: Math.min(...vals),
        max: Math.max(...vals),
        last: f(steps[steps.length - 1]),
      });
    });
    s.close();
  });

  it('returns every point when they fit, and handles sparse steps and offsets', () => {
    const s = Store.open(join(dir, 'lab.sqlite'));
    const id = newRun(s);
    s.addMetrics(id, [pt('v', 100, 1), pt('v', 150, 5), pt('v', 400, -2)]);
    expect(s.series(id, 'v', 500).points).toEqual([
      { step: 100, min: 1, max: 1, last: 1 },
      { step: 150, min: 5, max: 5, last: 5 },
      { step: 400, min: -2, max: -2, last: -2 },
    ]);
    // Range 301 in 2 buckets of 151: [100, 250] and [251, 400].
    expect(s.series(id, 'v', 2).points).toEqual([
      { step: 150, min: 1, max: 5, last: 5 },
      { step: 400, min: -2, max: -2, last: -2 },
    ]);
    expect(s.series(id, 'missing', 10)).toEqual({ runId: id, key: 'missing', count: 0, points: [] });
    s.close();
  });

  it('never returns more than maxPoints buckets', () => {
    const s = Store.open(join(dir, 'lab.sqlite'));
    const id = newRun(s);
    s.addMetrics(
      id,
      Array.from({ length: 5000 }, (_, i) => pt('v', i * 3 + 11, i)),
    );
    for (const max of [2, 3, 10, 99, 500, 4999, 5000, 10_000]) {
      const n = s.series(id, 'v', max).points.length;
      expect(n).toBeLessThanOrEqual(max);
      expect(n).toBeGreaterThanOrEqual(Math.min(max, 5000) / 2);
    }
    s.close();
  });
});

describe('runs', () => {
  it('claims a queued run once and never rewrites a finished one', () => {
    const s = Store.open(join(dir, 'lab.sqlite'));
    const id = newRun(s);
    expect(s.claimRun(id, new Date().toISOString(), { os: 'x' })).toBe(true);
    expect(s.claimRun(id, new Date().toISOString(), { os: 'x' })).toBe(false);
    expect(s.finishRun(id, 'succeeded', new Date().toISOString(), null)).toBe(true);
    expect(s.finishRun(id, 'failed', new Date().toISOString(), 'late')).toBe(false);
    expect(s.getSummary(id)).toMatchObject({ status: 'succeeded', progress: 1, error: null });
    s.close();
  });

  it('interrupts only running runs with a stale heartbeat', () => {
    const s = Store.open(join(dir, 'lab.sqlite'));
    const stale = newRun(s);
    const fresh = newRun(s);
    const queued = newRun(s);
    s.claimRun(stale, '2020-01-01T00:00:00.000Z', {});
    s.claimRun(fresh, new Date().toISOString(), {});
    const ids = s.interruptStale(new Date(Date.now() - 15_000).toISOString(), new Date().toISOString());
    expect(ids).toEqual([stale]);
    expect(s.status(stale)).toBe('interrupted');
    expect(s.getSummary(stale)?.error).toMatch(/no heartbeat since 2020-01-01/);
    expect(s.status(fresh)).toBe('running');
    expect(s.status(queued)).toBe('queued');
    s.close();
  });

  it('filters lists by kind, status and tag, newest first', () => {
    const s = Store.open(join(dir, 'lab.sqlite'));
    const a = newRun(s);
    const b = newRun(s);
    s.setTags(b, ['x', 'y']);
    expect(s.listRuns().map((r) => r.id)).toEqual([b, a]);
    expect(s.listRuns({ tag: 'x' }).map((r) => r.id)).toEqual([b]);
    expect(s.listRuns({ tag: 't1' }).map((r) => r.id)).toEqual([a]);
    expect(s.listRuns({ status: 'running' })).toEqual([]);
    expect(s.listRuns({ kind: 'k', limit: 1 })).toHaveLength(1);
    expect(s.queuedIds()).toEqual([a, b]);
    s.close();
  });
});
