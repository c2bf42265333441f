// The RunStore on PostgreSQL (npm `pg`, a connection pool): the shared store of a group's hub and workers.
// Same tables and meanings as the SQLite store (migrations/postgres/ mirrors migrations/ version for version);
// every multi-row write is one transaction or one statement, so a crash or a lost connection leaves each
// operation whole or absent. Credentials never travel in the URL the lab is given on a command line: the
// password comes from PGPASSWORD or a pgpass file (PGPASSFILE, ~/.pgpass), which `pg` reads itself.
import pg from 'pg';
import type { RunPage, RunQuery, RunStatus, RunSummary, Series } from '../api/lab-api';
import { queryRunsPg, type PgOrderCache } from './run-query-pg';
import { planRunQuery } from './run-query-plan';
import { LAST_METRIC_MS_PG, summaryOfRow } from './run-row';
import type { RunEnding, RunResult, RunStore, StoredRun } from './run-store';
import type {
  CompareRow,
  ListFilter,
  NewArtifact,
  NewChildRun,
  NewRun,
  NewSweep,
  StoredMetricPoint,
} from './store';
import { DEFAULT_MIGRATIONS_DIR, isTerminal, loadMigrations } from './store';
import type { SweepSpec } from '../api/sweep';
import { sweepOutcome } from './sweep-outcome';
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';

/** Where the PostgreSQL migrations live (beside the SQLite ones, same numbering). */
export const DEFAULT_PG_MIGRATIONS_DIR = join(DEFAULT_MIGRATIONS_DIR, 'postgres');

/** Any number for pg_advisory_xact_lock: migrations from several processes at once run one after another. */
const MIGRATION_LOCK = 0x71_6c_61_62; // 'qlab'

const OID_INT8 = 20;
const OID_TIMESTAMPTZ = 1184;
const parseTimestamptz = pg.types.getTypeParser(OID_TIMESTAMPTZ) as (v: string) => Date;
/** bigint columns and COUNT(*) as numbers (all below 2^53 here), times as the ISO strings the lab wrote. */
const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === OID_INT8) return (v: string) => Number(v);
    if (oid === OID_TIMESTAMPTZ) return (v: string) => parseTimestamptz(v).toISOString();
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as unknown as pg.CustomTypesConfig;

/** The URL without its password (for messages and `location`). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** A new run's tags and allowed file roots, inside the transaction that creates it (createRun, createSweep). */
async function insertTagsAndRoots(
  c: pg.PoolClient,
  id: string,
  tags: readonly string[],
  fileRoots: readonly string[] | null | undefined,
): Promise<void> {
  if (tags.length > 0) {
    await c.query(
      'INSERT INTO tags (run_id, tag) SELECT $1, t FROM unnest($2::text[]) AS t ON CONFLICT DO NOTHING',
      [id, [...tags]],
    );
  }
  if (fileRoots != null) {
    await c.query('INSERT INTO run_file_roots (run_id, roots) VALUES ($1, $2::text[])', [id, [...fileRoots]]);
  }
}

interface PgRunRow {
  id: string;
  kind: string;
  name: string;
  status: RunStatus;
  config: unknown;
  seed: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  heartbeat_at: string | null;
  code_version: string;
  host: Record<string, unknown>;
  backend: Record<string, unknown>;
  error: string | null;
  progress: number;
  progress_message: string | null;
  summary: Record<string, number | string>;
  report: RunResult['report'];
  parent_id: string | null;
  /** A sweep parent's axes (json column); null for every other run. */
  sweep: SweepSpec | null;
  retries: number;
  attempt: number;
  child_count: number;
  /** Computed by RUN_SELECT where a duration needs it (run-row.ts). */
  last_metric_ms: number | null;
  tags: string[];
}

/** Every read of runs goes through this: child count and tags (sorted bytewise, as SQLite does) per row. */
const RUN_SELECT = `SELECT runs.*,
  (SELECT COUNT(*) FROM runs AS c WHERE c.parent_id = runs.id)::int AS child_count,
  ${LAST_METRIC_MS_PG} AS last_metric_ms,
  COALESCE((SELECT array_agg(t.tag ORDER BY t.tag COLLATE "C") FROM tags AS t WHERE t.run_id = runs.id), '{}') AS tags
  FROM runs`;

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
/**
 * A running row's last sign of life (what an interrupted run's finish records; core/api/run-duration.ts reads
 * the same): its last heartbeat, else its last metric's wall time (whole ms, as run-query-pg's duration sort
 * rounds it), else its start, else $1 (now).
 */
const LAST_SIGN_OF_LIFE = `COALESCE(runs.heartbeat_at,
  (SELECT to_timestamp(round(max(m.wall_time)) / 1000.0) FROM metrics AS m WHERE m.run_id = runs.id),
  runs.started_at, $1::timestamptz)`;
/** The NOTIFY channel of metric batches. */
const CHANNEL = 'qlab_metrics';

type Queryable = Pick<pg.PoolClient, 'query'>;

export interface PgStoreOptions {
  migrationsDir?: string;
  /** Pool size (default 10). */
  max?: number;
  /** Where pool errors (a dropped idle connection) go; default: stderr. */
  onError?: (message: string) => void;
  /** How long an operation is retried while the server is unreachable (default 30 s). */
  retryMs?: number;
}

/** SQLSTATE classes and socket errors of a server that went away (not of a bad statement). */
export function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string') {
    if (/^08/.test(code) || code === '57P01' || code === '57P02' || code === '57P03') return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTCONN'].includes(code))
      return true;
  }
  const msg = err instanceof Error ? err.message : '';
  return /Connection terminated|connection (is )?(closed|ended)|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(
    msg,
  );
}

export class PgRunStore implements RunStore {
  readonly engine = 'postgres' as const;
  readonly location: string;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    readonly schemaVersion: number,
    private readonly retryMs: number,
  ) {
    this.location = redactUrl(url);
  }

  /**
   * Connects and applies pending migrations in one transaction under an advisory lock (DDL is transactional
   * in PostgreSQL); a database whose schema is newer than the code is refused and left untouched.
   */
  static async open(url: string, opts: PgStoreOptions = {}): Promise<PgRunStore> {
    const migrations = loadMigrations(opts.migrationsDir ?? DEFAULT_PG_MIGRATIONS_DIR);
    const latest = migrations[migrations.length - 1].version;
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.max ?? 10,
      types: TYPES,
      application_name: 'qlab',
      connectionTimeoutMillis: 10_000,
    });
    const onError = opts.onError ?? ((m: string) => process.stderr.write(`qlab: warning: ${m}\n`));
    // An idle connection dropped by a server restart must not end the process; the pool reconnects.
    pool.on('error', (err) =>
      onError(`PostgreSQL connection lost (${err.message}); reconnecting on next use`),
    );
    // A connection that breaks while checked out (say between two statements of a transaction, when a restart
    // sends 57P01) emits 'error' on its client, where pg-pool listens only while the client is idle: unheard,
    // it ended the whole process (a worker died on every PostgreSQL restart). The statement in flight or the
    // next one fails with a connection error instead, which tx() retries, dropping the broken client.
    pool.on('connect', (client) => client.on('error', () => undefined));
    try {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        await client.query(
          'CREATE TABLE IF NOT EXISTS qlab_schema (version integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
        );
        const r = await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM qlab_schema');
        const current = r.rows[0].v ?? 0;
        if (current > latest) {
          throw new Error(
            `${redactUrl(url)} has schema version ${current}, newer than this code (version ${latest}); update the lab to open it (the database was left untouched)`,
          );
        }
        for (const m of migrations.filter((x) => x.version > current)) {
          await client.query(m.sql);
          await client.query('INSERT INTO qlab_schema (version) VALUES ($1)', [m.version]);
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
      return new PgRunStore(pool, url, latest, opts.retryMs ?? 30_000);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
  }

  private closing = false;
  /** Tells this store's own notices from other processes' ones. */
  private readonly origin = randomUUID();

  /**
   * The NOTIFY payload of a metric batch (sent after the batch commits, to every listening process): the
   * points when they fit PostgreSQL's 8000-byte limit, else only the run id (listeners read the series).
   */
  private notice(runId: string, points: readonly StoredMetricPoint[]): string {
    const full = JSON.stringify({ o: this.origin, r: runId, p: points.map((x) => [x.key, x.step, x.value]) });
    return full.length < 7900 ? full : JSON.stringify({ o: this.origin, r: runId, p: null });
  }

  /**
   * Metric batches that other processes (workers) write, as they commit (LISTEN on a dedicated connection,
   * re-established after a lost connection). Returns the function that stops listening.
   */
  async listenMetrics(
    cb: (runId: string, points: { key: string; step: number; value: number }[] | null) => void,
  ): Promise<() => Promise<void>> {
    let client: pg.Client | undefined;
    let stopped = false;
    const connect = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: this.url, types: TYPES, application_name: 'qlab-listen' });
      c.on('notification', (n) => {
        try {
          const m = JSON.parse(n.payload ?? '{}') as {
            o?: string;
            r?: string;
            p?: [string, number, number][] | null;
          };
          if (m.o === this.origin || typeof m.r !== 'string') return;
          cb(m.r, m.p ? m.p.map(([key, step, value]) => ({ key, step, value })) : null);
        } catch {
          // not ours
        }
      });
      c.on('error', () => {
        if (stopped) return;
        client = undefined;
        setTimeout(() => void connect().catch(() => undefined), 500);
      });
      await c.connect();
      await c.query(`LISTEN ${CHANNEL}`);
      client = c;
    };
    await connect();
    return async () => {
      stopped = true;
      await client?.end().catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.pool.end();
  }

  /** A query on the pool is retried while the server is unreachable; inside a transaction, tx() retries. */
  private async q<T extends pg.QueryResultRow>(sql: string, args: unknown[] = [], c: Queryable = this.pool) {
    if (c !== this.pool) return (await c.query<T>(sql, args)).rows;
    return this.retry(async () => (await this.pool.query<T>(sql, args)).rows);
  }

  /** Runs fn in one transaction on one connection (ROLLBACK on any error); the whole transaction is retried. */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.retry(async () => {
      const c = await this.pool.connect();
      let broken = false;
      try {
        await c.query('BEGIN');
        const out = await fn(c);
        await c.query('COMMIT');
        return out;
      } catch (err) {
        broken = isTransient(err);
        if (!broken) await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        // a connection that failed is dropped from the pool, not handed out again
        c.release(broken ? true : undefined);
      }
    });
  }

  /**
   * Retries an operation that failed because the server went away (restart, failover, network) with growing
   * pauses for up to retryMs. Safe because every write is idempotent or one transaction: a metric batch
   * replayed after a lost commit acknowledgement inserts nothing twice (primary key), a status change only
   * applies to a run not yet finished.
   */
  private async retry<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.retryMs;
    for (let pause = 100; ; pause = Math.min(pause * 2, 2000)) {
      try {
        return await fn();
      } catch (err) {
        if (this.closing || !isTransient(err) || Date.now() + pause > deadline) throw err;
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  }

  // ---- runs ----

  async createRun(run: NewRun): Promise<void> {
    await this.tx(async (c) => {
      await c.query(
        `INSERT INTO runs (id, kind, name, status, config, seed, created_at, code_version, retries)
         VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8)`,
        [
          run.id,
          run.kind,
          run.name,
          JSON.stringify(run.config),
          run.seed,
          run.createdAt,
          run.codeVersion,
          run.retries ?? 0,
        ],
      );
      await insertTagsAndRoots(c, run.id, run.tags, run.fileRoots);
    });
  }

  async createSweep(parent: NewSweep, children: readonly NewRun[]): Promise<void> {
    await this.tx(async (c) => {
      await c.query(
        `INSERT INTO runs (id, kind, name, status, config, seed, created_at, started_at, code_version, sweep)
         VALUES ($1, $2, $3, 'running', $4, $5, $6, $6, $7, $8)`,
        [
          parent.id,
          parent.kind,
          parent.name,
          JSON.stringify(parent.config),
          parent.seed,
          parent.createdAt,
          parent.codeVersion,
          JSON.stringify(parent.sweep),
        ],
      );
      // the children's jobs open their files under the parent's roots (fileRoots reads a child's parent's row)
      await insertTagsAndRoots(c, parent.id, parent.tags, parent.fileRoots);
      // one statement for all the children, inserted (and so numbered by seq) in grid order
      await c.query(
        `INSERT INTO runs (id, kind, name, status, config, seed, created_at, code_version, parent_id)
         SELECT id, kind, name, 'queued', config::json, seed, created_at::timestamptz, code_version, $8
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[])
           WITH ORDINALITY AS x(id, kind, name, config, seed, created_at, code_version, n)
         ORDER BY n`,
        [
          children.map((x) => x.id),
          children.map((x) => x.kind),
          children.map((x) => x.name),
          children.map((x) => JSON.stringify(x.config)),
          children.map((x) => x.seed),
          children.map((x) => x.createdAt),
          children.map((x) => x.codeVersion),
          parent.id,
        ],
      );
      const tagged = children.filter((x) => x.tags.length > 0);
      for (const x of tagged) {
        await c.query(
          'INSERT INTO tags (run_id, tag) SELECT $1, t FROM unnest($2::text[]) AS t ON CONFLICT DO NOTHING',
          [x.id, x.tags],
        );
      }
    });
  }

  async sweepSpec(id: string): Promise<SweepSpec | null | undefined> {
    const [r] = await this.q<{ sweep: SweepSpec | null }>('SELECT sweep FROM runs WHERE id = $1', [id]);
    return r === undefined ? undefined : r.sweep;
  }

  /**
   * Locks the sweep parent of `id` (when its parent is a sweep) for the rest of the transaction. Every
   * transaction that ends a sweep's child takes the parent's lock first, so the ends of two last children on
   * two workers are serialized and the second sees the first (READ COMMITTED reads afresh per statement): one
   * of them ends the parent, never neither. Parent before child everywhere, so no deadlock with cancelSweep.
   */
  private async lockSweepOf(c: Queryable, parentId: string | null): Promise<boolean> {
    if (parentId === null) return false;
    const rows = await this.q(
      'SELECT 1 FROM runs WHERE id = $1 AND sweep IS NOT NULL FOR UPDATE',
      [parentId],
      c,
    );
    return rows.length === 1;
  }

  /** Inside a transaction that holds the parent's lock: sweep progress, or its end after the last child. */
  private async settleSweep(c: Queryable, parentId: string, at: string): Promise<boolean> {
    const [p] = await this.q<{ status: RunStatus; sweep: SweepSpec | null; cancel_requested: boolean }>(
      'SELECT status, sweep, cancel_requested FROM runs WHERE id = $1',
      [parentId],
      c,
    );
    if (!p || p.sweep === null || p.status !== 'running') return false;
    const rows = await this.q<{
      id: string;
      status: RunStatus;
      config: unknown;
      seed: number;
      summary: Record<string, number | string>;
      error: string | null;
    }>(
      'SELECT id, status, config, seed, summary, error FROM runs WHERE parent_id = $1 ORDER BY created_at, seq',
      [parentId],
      c,
    );
    const ended = rows.filter((r) => isTerminal(r.status)).length;
    if (ended < rows.length) {
      await this.q(
        'UPDATE runs SET progress = $1, progress_message = $2 WHERE id = $3',
        [ended / rows.length, `${ended} of ${rows.length} points ended`, parentId],
        c,
      );
      return false;
    }
    const o = sweepOutcome(p.sweep, rows, p.cancel_requested);
    await this.writeResult(c, parentId, o);
    await this.q(
      `UPDATE runs SET status = $1, finished_at = $2, error = $3, progress = 1, progress_message = $4
       WHERE id = $5 AND status = 'running'`,
      [o.status, at, o.error, `${rows.length} of ${rows.length} points ended`, parentId],
      c,
    );
    return true;
  }

  /** Runs `fn` (which ends run `id`) in a transaction that holds the run's sweep parent first, then settles it. */
  private async ending<T>(id: string, at: string, fn: (c: Queryable) => Promise<T>): Promise<T> {
    const parentId = (await this.parentOf(id)) ?? null;
    return this.tx(async (c) => {
      const sweep = await this.lockSweepOf(c, parentId);
      const out = await fn(c);
      if (sweep) await this.settleSweep(c, parentId!, at);
      return out;
    });
  }

  async cancelSweep(id: string, at: string): Promise<{ cancelled: string[]; running: string[] } | null> {
    return this.tx(async (c) => {
      const [p] = await this.q<{ status: RunStatus }>(
        'SELECT status FROM runs WHERE id = $1 AND sweep IS NOT NULL FOR UPDATE',
        [id],
        c,
      );
      if (!p || p.status !== 'running') return null;
      await this.q('UPDATE runs SET cancel_requested = true WHERE id = $1', [id], c);
      const cancelled = await this.q<{ id: string }>(
        `UPDATE runs SET status = 'cancelled', finished_at = $1,
           error = 'the sweep was cancelled before this run started'
         WHERE parent_id = $2 AND status = 'queued' RETURNING id`,
        [at, id],
        c,
      );
      const running = await this.q<{ id: string }>(
        `UPDATE runs SET cancel_requested = true WHERE parent_id = $1 AND status = 'running' RETURNING id`,
        [id],
        c,
      );
      await this.settleSweep(c, id, at);
      return { cancelled: cancelled.map((r) => r.id), running: running.map((r) => r.id) };
    });
  }

  async createChildRun(run: NewChildRun): Promise<void> {
    await this.tx(async (c) => {
      // FOR SHARE: the parent cannot end between this check and the insert
      const [parent] = await this.q<{ status: RunStatus; parent_id: string | null }>(
        'SELECT status, parent_id FROM runs WHERE id = $1 FOR SHARE',
        [run.parentId],
        c,
      );
      if (!parent) throw new Error(`child ${run.id}: no parent run ${run.parentId}`);
      if (parent.parent_id !== null)
        throw new Error(`child ${run.id}: run ${run.parentId} is itself a child`);
      if (parent.status !== 'running') {
        throw new Error(`child ${run.id}: parent run ${run.parentId} is ${parent.status}, not running`);
      }
      await c.query(
        `INSERT INTO runs (id, kind, name, status, config, seed, created_at, started_at, heartbeat_at,
           code_version, host, parent_id)
         VALUES ($1, $2, $3, 'running', $4, $5, $6, $6, $6, $7, $8, $9)`,
        [
          run.id,
          run.kind,
          run.name,
          JSON.stringify(run.config),
          run.seed,
          run.at,
          run.codeVersion,
          JSON.stringify(run.host),
          run.parentId,
        ],
      );
    });
  }

  async claimNext(
    startedAt: string,
    host: Record<string, unknown>,
    only?: readonly string[],
  ): Promise<string | undefined> {
    const filter = only === undefined ? '' : 'AND id = ANY($3::text[])';
    const args: unknown[] = [startedAt, JSON.stringify(host)];
    if (only !== undefined) args.push([...only]);
    // SKIP LOCKED: claimers on other machines take the next row instead of waiting for this one. A row another
    // claimer took between our snapshot and its lock drops out (status re-checked), so an empty answer while
    // queued runs remain is retried.
    for (let attempt = 0; attempt < 5; attempt++) {
      const rows = await this.q<{ id: string }>(
        `UPDATE runs SET status = 'running', started_at = $1, heartbeat_at = $1, host = $2, progress = 0
         WHERE id = (SELECT id FROM runs WHERE status = 'queued' ${filter}
                     ORDER BY created_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED)
           AND status = 'queued'
         RETURNING id`,
        args,
      );
      if (rows.length > 0) return rows[0].id;
      const left = await this.q<{ n: number }>(
        `SELECT COUNT(*) AS n FROM runs WHERE status = 'queued' ${only === undefined ? '' : 'AND id = ANY($1::text[])'}`,
        only === undefined ? [] : [[...only]],
      );
      if (left[0].n === 0) return undefined;
    }
    return undefined;
  }

  async claimRun(id: string, startedAt: string, host: Record<string, unknown>): Promise<boolean> {
    const rows = await this.q(
      `UPDATE runs SET status = 'running', started_at = $1, heartbeat_at = $1, host = $2, progress = 0
       WHERE id = $3 AND status = 'queued' RETURNING id`,
      [startedAt, JSON.stringify(host), id],
    );
    return rows.length === 1;
  }

  async queuedIds(): Promise<string[]> {
    return (
      await this.q<{ id: string }>("SELECT id FROM runs WHERE status = 'queued' ORDER BY created_at, seq")
    ).map((r) => r.id);
  }

  private async finishOne(
    c: Queryable,
    id: string,
    status: RunStatus,
    at: string,
    error: string | null,
  ): Promise<boolean> {
    const progress = status === 'succeeded' ? ', progress = 1' : '';
    const rows = await this.q(
      `UPDATE runs SET status = $1, finished_at = $2, error = $3${progress}
       WHERE id = $4 AND status IN ('queued', 'running') RETURNING id`,
      [status, at, error, id],
      c,
    );
    return rows.length === 1;
  }

  async finishRun(id: string, status: RunStatus, at: string, error: string | null): Promise<boolean> {
    if ((await this.parentOf(id)) == null) return this.finishOne(this.pool, id, status, at, error);
    return this.ending(id, at, (c) => this.finishOne(c, id, status, at, error));
  }

  async endRun(id: string, e: RunEnding): Promise<string[]> {
    return this.ending(id, e.at, async (c) => {
      await this.finishOne(c, id, e.status, e.at, e.error);
      const rows = await this.q<{ id: string }>(
        `UPDATE runs SET status = $1, finished_at = $2, error = $3
         WHERE parent_id = $4 AND status IN ('queued', 'running') RETURNING id`,
        [e.children.status, e.at, e.children.error, id],
        c,
      );
      return rows.map((r) => r.id);
    });
  }

  async finishChild(
    id: string,
    result: RunResult,
    status: RunStatus,
    at: string,
    error: string | null,
  ): Promise<boolean> {
    return this.ending(id, at, async (c) => {
      await this.writeResult(c, id, result);
      return this.finishOne(c, id, status, at, error);
    });
  }

  private async writeResult(c: Queryable, id: string, r: RunResult): Promise<void> {
    await this.q(
      'UPDATE runs SET summary = $1, report = $2, backend = $3 WHERE id = $4',
      [JSON.stringify(r.summary), JSON.stringify(r.report), JSON.stringify(r.backend), id],
      c,
    );
  }

  async setResult(id: string, r: RunResult): Promise<void> {
    await this.writeResult(this.pool, id, r);
  }

  async setProgress(id: string, fraction: number, message: string | null, at: string): Promise<void> {
    await this.q('UPDATE runs SET progress = $1, progress_message = $2, heartbeat_at = $3 WHERE id = $4', [
      fraction,
      message,
      at,
      id,
    ]);
  }

  async heartbeat(id: string, at: string): Promise<void> {
    await this.q(
      `UPDATE runs SET heartbeat_at = $1 WHERE id = $2 OR (parent_id = $2 AND status = 'running')`,
      [at, id],
    );
  }

  async requestCancel(id: string): Promise<void> {
    await this.q('UPDATE runs SET cancel_requested = true WHERE id = $1', [id]);
  }

  async cancelRequested(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    return (
      await this.q<{ id: string }>('SELECT id FROM runs WHERE cancel_requested AND id = ANY($1::text[])', [
        [...ids],
      ])
    ).map((r) => r.id);
  }

  /** As the SQLite store's: an interrupted run's finish is its last sign of life (LAST_SIGN_OF_LIFE), not now. */
  async interruptStale(
    cutoff: string,
    now: string,
    except: readonly string[] = [],
    retry = true,
  ): Promise<string[]> {
    return this.tx(async (c) => {
      // running sweeps first (parent before child, as every transaction that ends a sweep's child)
      const sweeps = await this.q<{ id: string }>(
        `SELECT id FROM runs WHERE sweep IS NOT NULL AND status = 'running' ORDER BY id FOR UPDATE`,
        [],
        c,
      );
      const rows = await this.q<{ id: string; parent_id: string | null }>(
        // a run with retries left goes back to the queue as its next attempt (postgres/006_run_attempts.sql)
        `UPDATE runs SET
           status = CASE WHEN attempt <= retries THEN 'queued' ELSE 'interrupted' END,
           attempt = CASE WHEN attempt <= retries THEN attempt + 1 ELSE attempt END,
           finished_at = CASE WHEN attempt <= retries THEN NULL ELSE ${LAST_SIGN_OF_LIFE} END,
           error = CASE WHEN attempt <= retries THEN NULL ELSE
             'the lab stopped while this run was running (no heartbeat since '
             || COALESCE(to_char(heartbeat_at AT TIME ZONE 'UTC', ${ISO}), 'start') || ')' END
         WHERE status = 'running' AND sweep IS NULL AND (heartbeat_at IS NULL OR heartbeat_at < $2)
           AND (parent_id IS NULL OR parent_id = ANY($4::text[]))
           AND NOT (id = ANY($3::text[])) AND ($5::boolean OR attempt > retries) RETURNING id, parent_id`,
        [now, cutoff, [...except], sweeps.map((r) => r.id), retry],
        c,
      );
      // A job's child lives exactly as long as its parent's job: judge it by the parent, not its own heartbeat.
      // (A sweep's children are runs of their own, judged above; a sweep parent ends with its last child.)
      const children = await this.q<{ id: string }>(
        `UPDATE runs SET status = 'interrupted', finished_at = ${LAST_SIGN_OF_LIFE},
           error = 'its parent run ended while this child was running'
         WHERE status = 'running' AND parent_id IS NOT NULL
           AND (SELECT p.status FROM runs AS p WHERE p.id = runs.parent_id AND p.sweep IS NULL) <> 'running'
         RETURNING id`,
        [now],
        c,
      );
      // a sweep whose last point was interrupted ended when that point last showed life, not now
      for (const p of new Set(rows.map((r) => r.parent_id))) {
        if (p === null) continue;
        const [last] = await this.q<{ at: string | null }>(
          'SELECT max(finished_at) AS at FROM runs WHERE parent_id = $1',
          [p],
          c,
        );
        await this.settleSweep(c, p, last?.at ?? now);
      }
      return [...rows, ...children].map((r) => r.id);
    });
  }

  // ---- reading runs ----

  async hasRun(id: string): Promise<boolean> {
    return (await this.q('SELECT 1 FROM runs WHERE id = $1', [id])).length > 0;
  }

  async status(id: string): Promise<RunStatus | undefined> {
    return (await this.q<{ status: RunStatus }>('SELECT status FROM runs WHERE id = $1', [id]))[0]?.status;
  }

  async parentOf(id: string): Promise<string | null | undefined> {
    return (await this.q<{ parent_id: string | null }>('SELECT parent_id FROM runs WHERE id = $1', [id]))[0]
      ?.parent_id;
  }

  async fileRoots(id: string): Promise<string[] | null> {
    const [r] = await this.q<{ roots: string[] }>(
      `SELECT f.roots FROM runs r JOIN run_file_roots f ON f.run_id IN (r.id, r.parent_id)
       WHERE r.id = $1 ORDER BY f.run_id = r.id DESC LIMIT 1`,
      [id],
    );
    return r === undefined ? null : r.roots;
  }

  private toSummary(r: PgRunRow): RunSummary {
    return summaryOfRow(r, r.tags);
  }

  async getSummary(id: string): Promise<RunSummary | undefined> {
    const [r] = await this.q<PgRunRow>(`${RUN_SELECT} WHERE id = $1`, [id]);
    return r ? this.toSummary(r) : undefined;
  }

  async getDetail(id: string) {
    const [r] = await this.q<PgRunRow>(`${RUN_SELECT} WHERE id = $1`, [id]);
    if (!r) return undefined;
    return {
      ...this.toSummary(r),
      config: r.config,
      seed: r.seed,
      codeVersion: r.code_version,
      host: r.host,
      backend: r.backend,
      heartbeatAt: r.heartbeat_at,
      attempt: r.attempt,
      retries: r.retries,
      metrics: await this.metricSummaries(id),
      artifacts: await this.artifacts(id),
      notes: await this.notes(id),
      report: r.report,
      children: r.child_count > 0 ? await this.listRuns({ parentId: id, limit: 100_000 }) : [],
      ...(r.sweep === null ? {} : { sweep: r.sweep }),
    };
  }

  private whereOf(filter: ListFilter): { sql: string; args: unknown[] } {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => {
      args.push(v);
      return `$${args.length}`;
    };
    if (filter.kind !== undefined) where.push(`kind = ${arg(filter.kind)}`);
    if (filter.status !== undefined) where.push(`status = ${arg(filter.status)}`);
    if (filter.tag !== undefined)
      where.push(`id IN (SELECT run_id FROM tags WHERE tag = ${arg(filter.tag)})`);
    if (filter.parentId !== undefined) where.push(`parent_id = ${arg(filter.parentId)}`);
    else if (filter.includeChildren !== true) where.push('parent_id IS NULL');
    return { sql: where.length ? 'WHERE ' + where.join(' AND ') : '', args };
  }

  async listRuns(filter: ListFilter = {}): Promise<RunSummary[]> {
    const { sql: where, args } = this.whereOf(filter);
    const order = filter.parentId !== undefined ? 'ASC' : 'DESC';
    args.push(filter.limit ?? 1000, filter.offset ?? 0);
    const rows = await this.q<PgRunRow>(
      `${RUN_SELECT} ${where} ORDER BY created_at ${order}, seq ${order} LIMIT $${args.length - 1} OFFSET $${args.length}`,
      args,
    );
    return rows.map((r) => this.toSummary(r));
  }

  async countRuns(filter?: ListFilter): Promise<number> {
    if (filter === undefined) return (await this.q<{ n: number }>('SELECT COUNT(*) AS n FROM runs'))[0].n;
    const { sql: where, args } = this.whereOf(filter);
    return (await this.q<{ n: number }>(`SELECT COUNT(*) AS n FROM runs ${where}`, args))[0].n;
  }

  /** Orders of the runs table computed on the JS side (run-query-pg.ts), kept while the database is unchanged. */
  private readonly orders: PgOrderCache = new Map();

  /**
   * One page of the runs table (run-query-pg.ts) in one read-only snapshot. The cache version is the WAL
   * insert position read before the snapshot: any commit anywhere moves it, so a kept order is never older
   * than the data it was read from.
   */
  async queryRuns(q: RunQuery, now?: string): Promise<RunPage> {
    const plan = planRunQuery(q, now);
    return this.retry(async () => {
      const c = await this.pool.connect();
      let broken = false;
      try {
        const [{ v }] = (await c.query<{ v: string }>('SELECT pg_current_wal_insert_lsn()::text AS v')).rows;
        await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const page = await queryRunsPg(
          {
            rows: async <T>(sql: string, args: unknown[] = []) => (await c.query(sql, args)).rows as T[],
            summaries: async (ids) => {
              if (ids.length === 0) return [];
              const rows = await c.query<PgRunRow>(`${RUN_SELECT} WHERE id = ANY($1::text[])`, [ids]);
              const byId = new Map(rows.rows.map((r) => [r.id, this.toSummary(r)]));
              return ids.map((id) => byId.get(id)).filter((r): r is RunSummary => r !== undefined);
            },
          },
          plan,
          this.orders,
          v,
        );
        await c.query('COMMIT');
        return page;
      } catch (err) {
        broken = isTransient(err);
        if (!broken) await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        c.release(broken ? true : undefined);
      }
    });
  }

  async configs(ids: readonly string[]): Promise<{ id: string; config: string }[]> {
    if (ids.length === 0) return [];
    return this.q<{ id: string; config: string }>(
      'SELECT id, config::text AS config FROM runs WHERE id = ANY($1::text[])',
      [[...ids]],
    );
  }

  // ---- tags and notes ----

  async setTags(id: string, tags: readonly string[]): Promise<void> {
    await this.tx(async (c) => {
      await c.query('DELETE FROM tags WHERE run_id = $1', [id]);
      if (tags.length > 0) {
        await c.query(
          'INSERT INTO tags (run_id, tag) SELECT $1, t FROM unnest($2::text[]) AS t ON CONFLICT DO NOTHING',
          [id, [...tags]],
        );
      }
    });
  }

  async addNote(id: string, text: string, at: string) {
    const [r] = await this.q<{ id: number }>(
      'INSERT INTO notes (run_id, text, created_at) VALUES ($1, $2, $3) RETURNING id',
      [id, text, at],
    );
    return { id: r.id, text, createdAt: at };
  }

  async updateNote(runId: string, noteId: number, text: string) {
    const [r] = await this.q<{ id: number; text: string; createdAt: string }>(
      'UPDATE notes SET text = $1 WHERE id = $2 AND run_id = $3 RETURNING id, text, created_at AS "createdAt"',
      [text, noteId, runId],
    );
    return r ?? null;
  }

  async deleteNote(runId: string, noteId: number) {
    return (
      (await this.q('DELETE FROM notes WHERE id = $1 AND run_id = $2 RETURNING id', [noteId, runId]))
        .length === 1
    );
  }

  /** Each run's summary, seed, code version, config and metric summaries (three queries for all ids). */
  async compareRows(ids: readonly string[]): Promise<(CompareRow | undefined)[]> {
    if (ids.length === 0) return [];
    const rows = await this.q<PgRunRow>(`${RUN_SELECT} WHERE id = ANY($1::text[])`, [[...ids]]);
    const metrics = await this.q<{
      run_id: string;
      key: string;
      count: number;
      lastStep: number;
      last: number;
      min: number;
      max: number;
    }>(
      `SELECT run_id, key, count, last_step AS "lastStep", last, min, max FROM metric_summary
       WHERE run_id = ANY($1::text[]) ORDER BY key COLLATE "C"`,
      [[...ids]],
    );
    const byRun = new Map<string, CompareRow['metrics']>();
    for (const m of metrics) {
      let list = byRun.get(m.run_id);
      if (!list) byRun.set(m.run_id, (list = []));
      list.push({ key: m.key, count: m.count, lastStep: m.lastStep, last: m.last, min: m.min, max: m.max });
    }
    const byId = new Map(
      rows.map((r) => [
        r.id,
        {
          ...this.toSummary(r),
          seed: r.seed,
          codeVersion: r.code_version,
          config: r.config,
          metrics: byRun.get(r.id) ?? [],
        },
      ]),
    );
    return ids.map((id) => byId.get(id));
  }

  async notes(id: string) {
    return this.q<{ id: number; text: string; createdAt: string }>(
      'SELECT id, text, created_at AS "createdAt" FROM notes WHERE run_id = $1 ORDER BY id',
      [id],
    );
  }

  // ---- metrics ----

  /**
   * One statement: the batch goes in through unnest (in its order, so the first of two equal (key, step) in a
   * batch wins, as in SQLite), conflicting points are skipped, and the per-key summaries of what went in are
   * upserted from the same statement's RETURNING, so both commit or neither does.
   */
  async appendMetrics(runId: string, points: readonly StoredMetricPoint[]): Promise<StoredMetricPoint[]> {
    if (points.length === 0) return [];
    const n = points.length;
    const keys = new Array<string>(n);
    const steps = new Array<number>(n);
    const walls = new Array<number>(n);
    const values = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const p = points[i];
      keys[i] = p.key;
      steps[i] = p.step;
      walls[i] = p.wallTime;
      values[i] = p.value;
    }
    const rows = await this.q<{ key: string; step: number }>(
      `WITH ins AS (
         INSERT INTO metrics (run_id, key, step, wall_time, value)
         SELECT $1, u.k, u.s, u.w, u.v
         FROM unnest($2::text[], $3::bigint[], $4::float8[], $5::float8[]) WITH ORDINALITY AS u(k, s, w, v, o)
         ORDER BY u.o
         ON CONFLICT DO NOTHING
         RETURNING key, step, value),
       agg AS (
         SELECT key, COUNT(*) AS count, MAX(step) AS last_step,
                (array_agg(value ORDER BY step DESC))[1] AS last, MIN(value) AS min, MAX(value) AS max
         FROM ins GROUP BY key),
       up AS (
         INSERT INTO metric_summary (run_id, key, count, last_step, last, min, max)
         SELECT $1, key, count, last_step, last, min, max FROM agg
         ON CONFLICT (run_id, key) DO UPDATE SET
           count = metric_summary.count + excluded.count,
           last = CASE WHEN excluded.last_step >= metric_summary.last_step THEN excluded.last ELSE metric_summary.last END,
           last_step = GREATEST(metric_summary.last_step, excluded.last_step),
           min = LEAST(metric_summary.min, excluded.min),
           max = GREATEST(metric_summary.max, excluded.max)
         RETURNING 1)
       SELECT key, step FROM ins, (SELECT pg_notify('${CHANNEL}', $6::text)) AS note`,
      [runId, keys, steps, walls, values, this.notice(runId, points)],
    );
    if (rows.length === n) return [...points];
    // Which of the batch went in: each returned (key, step) matches its first occurrence in the batch.
    const got = new Set(rows.map((r) => `${r.step}\n${r.key}`));
    const inserted: StoredMetricPoint[] = [];
    for (const p of points) {
      const k = `${p.step}\n${p.key}`;
      if (got.delete(k)) inserted.push(p);
    }
    return inserted;
  }

  async metricSummaries(runId: string) {
    return this.q<{ key: string; count: number; lastStep: number; last: number; min: number; max: number }>(
      `SELECT key, count, last_step AS "lastStep", last, min, max FROM metric_summary WHERE run_id = $1
       ORDER BY key COLLATE "C"`,
      [runId],
    );
  }

  async points(runId: string, key: string) {
    return this.q<{ step: number; value: number; wallTime: number }>(
      'SELECT step, value, wall_time AS "wallTime" FROM metrics WHERE run_id = $1 AND key = $2 ORDER BY step',
      [runId, key],
    );
  }

  async series(runId: string, key: string, maxPoints: number): Promise<Series> {
    const [range] = await this.q<{ n: number; lo: number | null; hi: number | null }>(
      'SELECT COUNT(*) AS n, MIN(step) AS lo, MAX(step) AS hi FROM metrics WHERE run_id = $1 AND key = $2',
      [runId, key],
    );
    if (range.n === 0 || range.lo === null || range.hi === null) return { runId, key, count: 0, points: [] };
    const width = Math.max(1, Math.ceil((range.hi - range.lo + 1) / maxPoints));
    const points = await this.q<Series['points'][number]>(
      `WITH agg AS (
         SELECT (step - $3::bigint) / $4::bigint AS bucket, MIN(value) AS mn, MAX(value) AS mx, MAX(step) AS last_step
         FROM metrics WHERE run_id = $1 AND key = $2 GROUP BY bucket)
       SELECT agg.last_step AS step, agg.mn AS min, agg.mx AS max, m.value AS last
       FROM agg JOIN metrics m ON m.run_id = $1 AND m.key = $2 AND m.step = agg.last_step
       ORDER BY agg.last_step`,
      [runId, key, range.lo, width],
    );
    return { runId, key, count: range.n, points };
  }

  // ---- artifacts ----

  async addArtifact(runId: string, a: NewArtifact, at: string): Promise<void> {
    await this.q(
      `INSERT INTO artifacts (run_id, name, kind, path, bytes, sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (run_id, name) DO UPDATE SET kind = excluded.kind, path = excluded.path,
         bytes = excluded.bytes, sha256 = excluded.sha256, created_at = excluded.created_at`,
      [runId, a.name, a.kind, a.path, a.bytes, a.sha256, at],
    );
  }

  async artifacts(runId: string) {
    return this.q<{ name: string; kind: string; bytes: number; sha256: string }>(
      'SELECT name, kind, bytes, sha256 FROM artifacts WHERE run_id = $1 ORDER BY name COLLATE "C"',
      [runId],
    );
  }

  // ---- whole runs (bundles, bulk copies) ----

  async readStoredRun(id: string): Promise<StoredRun | undefined> {
    const [run] = await this.q<StoredRun['run']>(
      `SELECT id, kind, name, status, config::text AS config, seed, created_at, started_at, finished_at,
         heartbeat_at, code_version, host::text AS host, backend::text AS backend, error, progress,
         progress_message, summary::text AS summary, report::text AS report, parent_id
       FROM runs WHERE id = $1`,
      [id],
    );
    if (!run) return undefined;
    const metrics: StoredRun['metrics'] = {};
    for (const p of await this.q<{ key: string; step: number; wall_time: number; value: number }>(
      'SELECT key, step, wall_time, value FROM metrics WHERE run_id = $1 ORDER BY key COLLATE "C", step',
      [id],
    ))
      (metrics[p.key] ??= []).push([p.step, p.wall_time, p.value]);
    return {
      run,
      tags: (
        await this.q<{ tag: string }>('SELECT tag FROM tags WHERE run_id = $1 ORDER BY tag COLLATE "C"', [id])
      ).map((t) => t.tag),
      notes: await this.q<StoredRun['notes'][number]>(
        'SELECT text, created_at FROM notes WHERE run_id = $1 ORDER BY id',
        [id],
      ),
      metricSummary: await this.q<StoredRun['metricSummary'][number]>(
        'SELECT key, count, last_step, last, min, max FROM metric_summary WHERE run_id = $1 ORDER BY key COLLATE "C"',
        [id],
      ),
      metrics,
      artifacts: await this.q<StoredRun['artifacts'][number]>(
        'SELECT name, kind, path, bytes, sha256, created_at FROM artifacts WHERE run_id = $1 ORDER BY name COLLATE "C"',
        [id],
      ),
    };
  }

  /**
   * One transaction, a few statements per table however many runs (arrays through unnest, in the given
   * order, so `seq` follows it); metric points 20,000 per statement. Values go as text so -0 and ±Infinity
   * keep their meaning.
   */
  async insertStoredRuns(runs: readonly StoredRun[]): Promise<void> {
    if (runs.length === 0) return;
    const f8 = (v: number) => (Object.is(v, -0) ? '-0' : String(v));
    const col = <K extends keyof StoredRun['run']>(k: K) => runs.map((r) => r.run[k]);
    await this.tx(async (c) => {
      await c.query(
        `INSERT INTO runs (id, kind, name, status, config, seed, created_at, started_at, finished_at, heartbeat_at,
           code_version, host, backend, error, progress, progress_message, summary, report, parent_id)
         SELECT u.id, u.kind, u.name, u.status, u.config::json, u.seed, u.created_at, u.started_at, u.finished_at,
           u.heartbeat_at, u.code_version, u.host::json, u.backend::json, u.error, u.progress::float8,
           u.progress_message, u.summary::json, u.report::json, u.parent_id
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::timestamptz[],
           $8::timestamptz[], $9::timestamptz[], $10::timestamptz[], $11::text[], $12::text[], $13::text[],
           $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[])
           WITH ORDINALITY AS u(id, kind, name, status, config, seed, created_at, started_at, finished_at,
             heartbeat_at, code_version, host, backend, error, progress, progress_message, summary, report,
             parent_id, o)
         ORDER BY u.o`,
        [
          col('id'),
          col('kind'),
          col('name'),
          col('status'),
          col('config'),
          col('seed'),
          col('created_at'),
          col('started_at'),
          col('finished_at'),
          col('heartbeat_at'),
          col('code_version'),
          col('host'),
          col('backend'),
          col('error'),
          runs.map((r) => f8(r.run.progress)),
          col('progress_message'),
          col('summary'),
          col('report'),
          col('parent_id'),
        ],
      );
      const flat = <T>(f: (r: StoredRun) => T[]) => runs.flatMap(f);
      const tags = flat((r) => r.tags.map((t) => [r.run.id, t]));
      if (tags.length > 0)
        await c.query(
          'INSERT INTO tags (run_id, tag) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING',
          [tags.map((t) => t[0]), tags.map((t) => t[1])],
        );
      const notes = flat((r) => r.notes.map((n) => ({ id: r.run.id, ...n })));
      if (notes.length > 0)
        await c.query(
          `INSERT INTO notes (run_id, text, created_at)
           SELECT u.r, u.t, u.c FROM unnest($1::text[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS u(r, t, c, o)
           ORDER BY u.o`,
          [notes.map((n) => n.id), notes.map((n) => n.text), notes.map((n) => n.created_at)],
        );
      const ms = flat((r) => r.metricSummary.map((m) => ({ id: r.run.id, ...m })));
      if (ms.length > 0)
        await c.query(
          `INSERT INTO metric_summary (run_id, key, count, last_step, last, min, max)
           SELECT u.r, u.k, u.n, u.s, u.l::float8, u.lo::float8, u.hi::float8
           FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[])
             AS u(r, k, n, s, l, lo, hi)`,
          [
            ms.map((m) => m.id),
            ms.map((m) => m.key),
            ms.map((m) => m.count),
            ms.map((m) => m.last_step),
            ms.map((m) => f8(m.last)),
            ms.map((m) => f8(m.min)),
            ms.map((m) => f8(m.max)),
          ],
        );
      const CHUNK = 20_000;
      let ids: string[] = [];
      let keys: string[] = [];
      let steps: number[] = [];
      let walls: string[] = [];
      let values: string[] = [];
      const flush = async () => {
        if (ids.length === 0) return;
        await c.query(
          `INSERT INTO metrics (run_id, key, step, wall_time, value)
           SELECT u.r, u.k, u.s, u.w::float8, u.v::float8
           FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[]) AS u(r, k, s, w, v)`,
          [ids, keys, steps, walls, values],
        );
        ids = [];
        keys = [];
        steps = [];
        walls = [];
        values = [];
      };
      for (const r of runs)
        for (const [key, pts] of Object.entries(r.metrics))
          for (const [step, wall, value] of pts) {
            ids.push(r.run.id);
            keys.push(key);
            steps.push(step);
            walls.push(f8(wall));
            values.push(f8(value));
            if (ids.length >= CHUNK) await flush();
          }
      await flush();
      const arts = flat((r) => r.artifacts.map((a) => ({ id: r.run.id, ...a })));
      if (arts.length > 0)
        await c.query(
          `INSERT INTO artifacts (run_id, name, kind, path, bytes, sha256, created_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::timestamptz[])`,
          [
            arts.map((a) => a.id),
            arts.map((a) => a.name),
            arts.map((a) => a.kind),
            arts.map((a) => a.path),
            arts.map((a) => a.bytes),
            arts.map((a) => a.sha256),
            arts.map((a) => a.created_at),
          ],
        );
    });
  }

  // ---- artifact bytes (artifact-store-pg.ts) ----

  /**
   * Stores a blob (content-addressed by its SHA-256) in one transaction: its chunks from `chunks` (called again
   * when a lost connection retries the transaction), hashed as they are sent and committed only when size and
   * hash match. A blob already stored whole is left as it is; writers of the same blob wait for each other.
   */
  async putBlob(sha256: string, bytes: number, chunks: () => Iterable<Buffer>): Promise<void> {
    await this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [sha256]);
      const [have] = (
        await c.query<{ n: number; b: number }>(
          'SELECT COUNT(*)::int AS n, COALESCE(SUM(length(data)), 0)::bigint AS b FROM artifact_blobs WHERE sha256 = $1',
          [sha256],
        )
      ).rows;
      if (have.n > 0 && have.b === bytes) return;
      await c.query('DELETE FROM artifact_blobs WHERE sha256 = $1', [sha256]);
      const h = createHash('sha256');
      let seq = 0;
      let total = 0;
      for (const chunk of chunks()) {
        h.update(chunk);
        total += chunk.length;
        await c.query('INSERT INTO artifact_blobs (sha256, seq, data) VALUES ($1, $2, $3)', [
          sha256,
          seq++,
          chunk,
        ]);
      }
      if (seq === 0)
        await c.query("INSERT INTO artifact_blobs (sha256, seq, data) VALUES ($1, 0, '')", [sha256]);
      const got = h.digest('hex');
      if (total !== bytes || got !== sha256)
        throw new Error(
          `artifact bytes changed while stored: ${total} bytes with sha256 ${got}, expected ${bytes} with ${sha256}`,
        );
    });
  }

  /** One chunk of a stored blob (undefined past its last). */
  async blobChunk(sha256: string, seq: number): Promise<Buffer | undefined> {
    return (
      await this.q<{ data: Buffer }>('SELECT data FROM artifact_blobs WHERE sha256 = $1 AND seq = $2', [
        sha256,
        seq,
      ])
    )[0]?.data;
  }

  async hasBlob(sha256: string): Promise<boolean> {
    return (await this.q('SELECT 1 FROM artifact_blobs WHERE sha256 = $1 AND seq = 0', [sha256])).length > 0;
  }

  async artifactPath(runId: string, name: string): Promise<string | undefined> {
    return (
      await this.q<{ path: string }>('SELECT path FROM artifacts WHERE run_id = $1 AND name = $2', [
        runId,
        name,
      ])
    )[0]?.path;
  }
}
