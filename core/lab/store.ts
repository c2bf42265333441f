// The experiment store: one SQLite file (better-sqlite3, WAL, foreign keys on) owned by one writer, the LabService.
// Every method is synchronous; each metric batch is one transaction that also updates metric_summary.
import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAST_METRIC_MS_SQLITE, summaryOfRow } from './run-row';
import type {
  ArtifactInfo,
  ComparedRun,
  MetricSummary,
  NoteInfo,
  ReportSection,
  RunDetail,
  RunStatus,
  RunSummary,
  Series,
} from '../api/lab-api';
import type { SweepSpec } from '../api/sweep';
import type { StoredRunRow } from './run-store';
import { sweepOutcome, type SweepChildRow } from './sweep-outcome';

/** Where the SQL migrations live when the code runs from the repository (tsx, tests). */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Reads NNN_name.sql files in order; numbering must run 1, 2, 3… with no gaps or duplicates. */
export function loadMigrations(dir: string): Migration[] {
  if (!existsSync(dir)) throw new Error(`migrations folder not found: ${dir}`);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const m = /^(\d{3})_([a-z0-9_-]+)\.sql$/i.exec(file);
    if (!m) throw new Error(`migration file name must look like NNN_name.sql: ${file}`);
    const version = Number(m[1]);
    if (version !== migrations.length + 1) {
      throw new Error(`migration ${file} is out of sequence: expected number ${migrations.length + 1}`);
    }
    migrations.push({ version, name: m[2], sql: readFileSync(join(dir, file), 'utf8') });
  }
  if (migrations.length === 0) throw new Error(`no migrations found in ${dir}`);
  return migrations;
}

/** PRAGMA user_version straight from the file header (bytes 60..63, big-endian), without opening SQLite. */
function headerUserVersion(file: string): number | null {
  if (!existsSync(file)) return null;
  const fd = openSync(file, 'r');
  try {
    const header = Buffer.alloc(100);
    const n = readSync(fd, header, 0, 100, 0);
    if (n < 100) return null;
    if (header.toString('latin1', 0, 15) !== 'SQLite format 3') {
      throw new Error(`${file} is not an SQLite database`);
    }
    return header.readUInt32BE(60);
  } finally {
    closeSync(fd);
  }
}

/** A run as compareRuns reads it: its comparison row plus config and metric summaries (RunDetail has them all). */
export interface CompareRow extends ComparedRun {
  config: unknown;
  metrics: MetricSummary[];
}

export interface NewRun {
  id: string;
  kind: string;
  name: string;
  config: unknown;
  seed: number;
  createdAt: string;
  codeVersion: string;
  tags: string[];
  /**
   * The lab's file roots (real paths) for a run created over HTTP or IPC: whoever launches its job reads them
   * back (fileRoots) and the job opens its files only inside them. Absent or null: the run is not guarded.
   */
  fileRoots?: readonly string[] | null;
  /** How often the run may start again when its job stops without a word (stale heartbeat); default 0. */
  retries?: number;
}

/** A lab-level sweep's parent: `running` from its creation (it has no job), with its axes. */
export interface NewSweep extends NewRun {
  sweep: SweepSpec;
}

/** A child run: created `running` by its parent's job process, never queued. */
export interface NewChildRun {
  id: string;
  parentId: string;
  kind: string;
  name: string;
  config: unknown;
  seed: number;
  /** Creation and start time (the same instant: a child starts when it is created). */
  at: string;
  codeVersion: string;
  host: Record<string, unknown>;
}

export interface StoredMetricPoint {
  key: string;
  step: number;
  value: number;
  /** ms since the Unix epoch. */
  wallTime: number;
}

export interface NewArtifact {
  name: string;
  kind: string;
  /** Relative to the lab directory. */
  path: string;
  bytes: number;
  sha256: string;
}

export interface ListFilter {
  kind?: string;
  status?: RunStatus;
  tag?: string;
  limit?: number;
  /** Only this run's children, oldest first; without it only top-level runs, newest first. */
  parentId?: string;
  /** Top-level runs and children together, newest first. */
  includeChildren?: boolean;
  /** Skips this many runs of the same order first (paging). */
  offset?: number;
}

/** A row of runs as SQLite returns it: the stored columns (StoredRunRow, shared with bundles and bulk copies) and
 * the ones only the store reads. */
interface RunRow extends StoredRunRow {
  cancel_requested: number;
  /** A sweep parent's axes (JSON); null for every other run. */
  sweep: string | null;
  retries: number;
  attempt: number;
  /** Computed by RUN_SELECT, not a column. */
  child_count: number;
  /** Computed by RUN_SELECT where a duration needs it (run-row.ts). */
  last_metric_ms: number | null;
}

/** Every read of runs goes through this, so each summary carries its child count. */
const RUN_SELECT = `SELECT runs.*, (SELECT COUNT(*) FROM runs AS c WHERE c.parent_id = runs.id) AS child_count,
  ${LAST_METRIC_MS_SQLITE} AS last_metric_ms FROM runs`;

/**
 * A running row's last sign of life as the ISO text the lab writes: its last heartbeat, else its last metric's
 * wall time (whole ms, as run-query's duration sort rounds it), else its start, else the `?` bound after it (now).
 * Ends with one `?`.
 */
const LAST_SIGN_OF_LIFE = `COALESCE(runs.heartbeat_at,
  (SELECT strftime('%Y-%m-%dT%H:%M:%S', CAST(round(max(m.wall_time)) AS INTEGER) / 1000, 'unixepoch')
     || printf('.%03dZ', CAST(round(max(m.wall_time)) AS INTEGER) % 1000) FROM metrics AS m WHERE m.run_id = runs.id),
  runs.started_at, ?)`;
const TERMINAL: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled', 'interrupted'];
export function isTerminal(status: RunStatus): boolean {
  return TERMINAL.includes(status);
}

export class Store {
  readonly db: Database.Database;
  readonly schemaVersion: number;
  private readonly insertMetric: Database.Statement;
  private readonly upsertSummary: Database.Statement;
  private readonly metricBatch: (runId: string, points: StoredMetricPoint[]) => StoredMetricPoint[];

  private constructor(db: Database.Database, schemaVersion: number) {
    this.db = db;
    this.schemaVersion = schemaVersion;
    // First write wins on a repeated (run, key, step): the summary can then be kept incrementally.
    this.insertMetric = db.prepare(
      'INSERT INTO metrics (run_id, key, step, wall_time, value) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
    // In an UPDATE every right-hand side sees the old row, so `last` compares against the old last_step.
    this.upsertSummary = db.prepare(
      `INSERT INTO metric_summary (run_id, key, count, last_step, last, min, max) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, key) DO UPDATE SET
         count = count + excluded.count,
         last = CASE WHEN excluded.last_step >= last_step THEN excluded.last ELSE last END,
         last_step = MAX(last_step, excluded.last_step),
         min = MIN(min, excluded.min),
         max = MAX(max, excluded.max)`,
    );
    this.metricBatch = db.transaction((runId: string, points: StoredMetricPoint[]) => {
      const inserted: StoredMetricPoint[] = [];
      const acc = new Map<
        string,
        { count: number; lastStep: number; last: number; min: number; max: number }
      >();
      for (const p of points) {
        if (this.insertMetric.run(runId, p.key, p.step, p.wallTime, p.value).changes === 0) continue;
        inserted.push(p);
        const a = acc.get(p.key);
        if (!a) {
          acc.set(p.key, { count: 1, lastStep: p.step, last: p.value, min: p.value, max: p.value });
        } else {
          a.count++;
          if (p.step >= a.lastStep) {
            a.lastStep = p.step;
            a.last = p.value;
          }
          if (p.value < a.min) a.min = p.value;
          if (p.value > a.max) a.max = p.value;
        }
      }
      for (const [key, a] of acc)
        this.upsertSummary.run(runId, key, a.count, a.lastStep, a.last, a.min, a.max);
      return inserted;
    });
  }

  /**
   * Opens (creating if needed) the database and applies pending migrations in one transaction.
   * A database whose schema is newer than the code is refused before SQLite touches the file.
   */
  static open(file: string, migrationsDir: string = DEFAULT_MIGRATIONS_DIR): Store {
    const migrations = loadMigrations(migrationsDir);
    const latest = migrations[migrations.length - 1].version;
    const tooNew = (v: number) =>
      new Error(
        `${file} has schema version ${v}, newer than this code (version ${latest}); update the lab to open it (the file was left untouched)`,
      );
    const onDisk = headerUserVersion(file);
    if (onDisk !== null && onDisk > latest) throw tooNew(onDisk);
    mkdirSync(dirname(file), { recursive: true });
    const db = new Database(file);
    try {
      // Re-check through SQLite: a pending WAL may hold a newer header than the main file.
      const current = db.pragma('user_version', { simple: true }) as number;
      if (current > latest) throw tooNew(current);
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      const pending = migrations.filter((m) => m.version > current);
      if (pending.length > 0) {
        db.transaction(() => {
          for (const m of pending) db.exec(m.sql);
          // user_version lives in the header page, so it commits or rolls back with the migrations.
          db.pragma(`user_version = ${latest}`);
        }).immediate();
      }
      return new Store(db, latest);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---- runs ----

  insertRun(run: NewRun): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO runs (id, kind, name, status, config, seed, created_at, code_version, retries)
           VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?)`,
        )
        .run(
          run.id,
          run.kind,
          run.name,
          JSON.stringify(run.config),
          run.seed,
          run.createdAt,
          run.codeVersion,
          run.retries ?? 0,
        );
      const tag = this.db.prepare('INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)');
      for (const t of run.tags) tag.run(run.id, t);
      if (run.fileRoots != null) {
        this.db
          .prepare('INSERT INTO run_file_roots (run_id, roots) VALUES (?, ?)')
          .run(run.id, JSON.stringify(run.fileRoots));
      }
    })();
  }

  /**
   * The file roots a run's job must open its files under: its own, else (a child) its parent's; null for a
   * run created without them (the command line) or no such run.
   */
  fileRoots(id: string): string[] | null {
    const r = this.db
      .prepare(
        `SELECT f.roots FROM runs r JOIN run_file_roots f ON f.run_id IN (r.id, r.parent_id)
         WHERE r.id = ? ORDER BY f.run_id = r.id DESC LIMIT 1`,
      )
      .get(id) as { roots: string } | undefined;
    return r === undefined ? null : (JSON.parse(r.roots) as string[]);
  }

  /** Inserts a child run as `running` under its parent (which must exist and be running). */
  insertChildRun(run: NewChildRun): void {
    const parent = this.db.prepare('SELECT status, parent_id FROM runs WHERE id = ?').get(run.parentId) as
      { status: RunStatus; parent_id: string | null } | undefined;
    if (!parent) throw new Error(`child ${run.id}: no parent run ${run.parentId}`);
    if (parent.parent_id !== null) throw new Error(`child ${run.id}: run ${run.parentId} is itself a child`);
    if (parent.status !== 'running') {
      throw new Error(`child ${run.id}: parent run ${run.parentId} is ${parent.status}, not running`);
    }
    this.db
      .prepare(
        `INSERT INTO runs (id, kind, name, status, config, seed, created_at, started_at, heartbeat_at,
           code_version, host, parent_id)
         VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        run.id,
        run.kind,
        run.name,
        JSON.stringify(run.config),
        run.seed,
        run.at,
        run.at,
        run.at,
        run.codeVersion,
        JSON.stringify(run.host),
        run.parentId,
      );
  }

  /**
   * A lab-level sweep in one transaction: the parent (`running`, no job of its own, its axes in `sweep`) and
   * its children, each a `queued` run of the parent's kind that any process may claim.
   */
  insertSweep(parent: NewSweep, children: readonly NewRun[]): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO runs (id, kind, name, status, config, seed, created_at, started_at, code_version, sweep)
           VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          parent.id,
          parent.kind,
          parent.name,
          JSON.stringify(parent.config),
          parent.seed,
          parent.createdAt,
          parent.createdAt,
          parent.codeVersion,
          JSON.stringify(parent.sweep),
        );
      const tag = this.db.prepare('INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)');
      for (const t of parent.tags) tag.run(parent.id, t);
      // the children's jobs open their files under the parent's roots (fileRoots reads a child's parent's row)
      if (parent.fileRoots != null) {
        this.db
          .prepare('INSERT INTO run_file_roots (run_id, roots) VALUES (?, ?)')
          .run(parent.id, JSON.stringify(parent.fileRoots));
      }
      const child = this.db.prepare(
        `INSERT INTO runs (id, kind, name, status, config, seed, created_at, code_version, parent_id)
         VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?)`,
      );
      for (const c of children) {
        child.run(
          c.id,
          c.kind,
          c.name,
          JSON.stringify(c.config),
          c.seed,
          c.createdAt,
          c.codeVersion,
          parent.id,
        );
        for (const t of c.tags) tag.run(c.id, t);
      }
    })();
  }

  /** A sweep parent's axes; null for another run, undefined for no such run. */
  sweepSpec(id: string): SweepSpec | null | undefined {
    const r = this.db.prepare('SELECT sweep FROM runs WHERE id = ?').get(id) as
      { sweep: string | null } | undefined;
    if (!r) return undefined;
    return r.sweep === null ? null : (JSON.parse(r.sweep) as SweepSpec);
  }

  /**
   * Called inside the transaction that ended a child: when `parentId` is a running sweep, its progress becomes
   * the share of children ended, and when none is left unfinished the parent ends with sweepOutcome's status
   * and result. Returns whether it ended the parent.
   */
  private settleSweep(parentId: string, at: string): boolean {
    const p = this.db
      .prepare('SELECT status, sweep, cancel_requested FROM runs WHERE id = ?')
      .get(parentId) as { status: RunStatus; sweep: string | null; cancel_requested: number } | undefined;
    if (!p || p.sweep === null || p.status !== 'running') return false;
    const rows = this.db
      .prepare(
        'SELECT id, status, config, seed, summary, error FROM runs WHERE parent_id = ? ORDER BY created_at, rowid',
      )
      .all(parentId) as {
      id: string;
      status: RunStatus;
      config: string;
      seed: number;
      summary: string;
      error: string | null;
    }[];
    const ended = rows.filter((r) => isTerminal(r.status)).length;
    if (ended < rows.length) {
      this.db
        .prepare('UPDATE runs SET progress = ?, progress_message = ? WHERE id = ?')
        .run(ended / rows.length, `${ended} of ${rows.length} points ended`, parentId);
      return false;
    }
    const children: SweepChildRow[] = rows.map((r) => ({
      id: r.id,
      status: r.status,
      config: JSON.parse(r.config) as unknown,
      seed: r.seed,
      summary: JSON.parse(r.summary) as Record<string, number | string>,
      error: r.error,
    }));
    const o = sweepOutcome(JSON.parse(p.sweep) as SweepSpec, children, p.cancel_requested === 1);
    this.setResult(parentId, o.summary, o.report, o.backend);
    this.db
      .prepare(
        `UPDATE runs SET status = ?, finished_at = ?, error = ?, progress = 1, progress_message = ?
         WHERE id = ? AND status = 'running'`,
      )
      .run(o.status, at, o.error, `${rows.length} of ${rows.length} points ended`, parentId);
    return true;
  }

  /**
   * Cancels a running sweep in one transaction: its queued children end `cancelled`, its running children get
   * a cancel request (their owners stop them; the last one to end ends the parent `cancelled`), and the parent
   * ends at once when no child is left running. Null when `id` is not a running sweep.
   */
  cancelSweep(id: string, at: string): { cancelled: string[]; running: string[] } | null {
    return this.db.transaction(() => {
      const p = this.db.prepare('SELECT status, sweep FROM runs WHERE id = ?').get(id) as
        { status: RunStatus; sweep: string | null } | undefined;
      if (!p || p.sweep === null || p.status !== 'running') return null;
      this.db.prepare('UPDATE runs SET cancel_requested = 1 WHERE id = ?').run(id);
      const cancelled = (
        this.db
          .prepare(
            `UPDATE runs SET status = 'cancelled', finished_at = ?, error = 'the sweep was cancelled before this run started'
             WHERE parent_id = ? AND status = 'queued' RETURNING id`,
          )
          .all(at, id) as { id: string }[]
      ).map((r) => r.id);
      const running = (
        this.db
          .prepare(
            `UPDATE runs SET cancel_requested = 1 WHERE parent_id = ? AND status = 'running' RETURNING id`,
          )
          .all(id) as { id: string }[]
      ).map((r) => r.id);
      this.settleSweep(id, at);
      return { cancelled, running };
    })();
  }

  /** Gives every unfinished child of a run a terminal status; returns their ids. */
  finishChildren(parentId: string, status: RunStatus, finishedAt: string, error: string | null): string[] {
    return (
      this.db
        .prepare(
          `UPDATE runs SET status = ?, finished_at = ?, error = ?
           WHERE parent_id = ? AND status IN ('queued', 'running') RETURNING id`,
        )
        .all(status, finishedAt, error, parentId) as { id: string }[]
    ).map((r) => r.id);
  }

  /** The run's parent id (null for a top-level run, undefined for no such run). */
  parentOf(id: string): string | null | undefined {
    const r = this.db.prepare('SELECT parent_id FROM runs WHERE id = ?').get(id) as
      { parent_id: string | null } | undefined;
    return r?.parent_id;
  }

  hasRun(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(id) !== undefined;
  }

  private row(id: string): RunRow | undefined {
    return this.db.prepare(`${RUN_SELECT} WHERE id = ?`).get(id) as RunRow | undefined;
  }

  private tagsOf(id: string): string[] {
    return (
      this.db.prepare('SELECT tag FROM tags WHERE run_id = ? ORDER BY tag').all(id) as { tag: string }[]
    ).map((r) => r.tag);
  }

  /** A run row as a RunSummary; `tags` when the caller has read them already (compareRows, in bulk). */
  private toSummary(r: RunRow, tags: string[] = this.tagsOf(r.id)): RunSummary {
    return summaryOfRow(r, tags);
  }

  getSummary(id: string): RunSummary | undefined {
    const r = this.row(id);
    return r ? this.toSummary(r) : undefined;
  }

  /**
   * What a comparison reads of each run, in `ids` order (undefined for an unknown id): its summary row, seed,
   * code version, config and metric summaries, in three queries per 500 ids rather than getDetail's set per
   * run (1,000 runs: about 0.13 s instead of 0.6 s).
   */
  compareRows(ids: readonly string[]): (CompareRow | undefined)[] {
    const byId = new Map<string, CompareRow>();
    const CHUNK = 500;
    for (let at = 0; at < ids.length; at += CHUNK) {
      const chunk = ids.slice(at, at + CHUNK);
      const marks = chunk.map(() => '?').join(',');
      const rows = this.db.prepare(`${RUN_SELECT} WHERE id IN (${marks})`).all(...chunk) as RunRow[];
      const tags = new Map<string, string[]>();
      for (const t of this.db
        .prepare(`SELECT run_id, tag FROM tags WHERE run_id IN (${marks}) ORDER BY tag`)
        .all(...chunk) as { run_id: string; tag: string }[]) {
        let list = tags.get(t.run_id);
        if (!list) tags.set(t.run_id, (list = []));
        list.push(t.tag);
      }
      const metrics = new Map<string, MetricSummary[]>();
      for (const m of this.db
        .prepare(
          `SELECT run_id, key, count, last_step AS lastStep, last, min, max FROM metric_summary WHERE run_id IN (${marks}) ORDER BY key`,
        )
        .all(...chunk) as (MetricSummary & { run_id: string })[]) {
        let list = metrics.get(m.run_id);
        if (!list) metrics.set(m.run_id, (list = []));
        list.push({ key: m.key, count: m.count, lastStep: m.lastStep, last: m.last, min: m.min, max: m.max });
      }
      for (const r of rows)
        byId.set(r.id, {
          ...this.toSummary(r, tags.get(r.id) ?? []),
          seed: r.seed,
          codeVersion: r.code_version,
          config: JSON.parse(r.config) as unknown,
          metrics: metrics.get(r.id) ?? [],
        });
    }
    return ids.map((id) => byId.get(id));
  }

  getDetail(id: string): RunDetail | undefined {
    const r = this.row(id);
    if (!r) return undefined;
    return {
      ...this.toSummary(r),
      config: JSON.parse(r.config) as unknown,
      seed: r.seed,
      codeVersion: r.code_version,
      host: JSON.parse(r.host) as Record<string, unknown>,
      backend: JSON.parse(r.backend) as Record<string, unknown>,
      heartbeatAt: r.heartbeat_at,
      attempt: r.attempt,
      retries: r.retries,
      metrics: this.metricSummaries(id),
      artifacts: this.artifacts(id),
      notes: this.notes(id),
      report: JSON.parse(r.report) as ReportSection[],
      children: r.child_count > 0 ? this.listRuns({ parentId: id, limit: 100_000 }) : [],
      ...(r.sweep === null ? {} : { sweep: JSON.parse(r.sweep) as SweepSpec }),
    };
  }

  status(id: string): RunStatus | undefined {
    const r = this.db.prepare('SELECT status FROM runs WHERE id = ?').get(id) as
      { status: RunStatus } | undefined;
    return r?.status;
  }

  /** The WHERE clause (with its arguments) that a list filter selects. */
  private whereOf(filter: ListFilter): { sql: string; args: (string | number)[] } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.kind !== undefined) {
      where.push('kind = ?');
      args.push(filter.kind);
    }
    if (filter.status !== undefined) {
      where.push('status = ?');
      args.push(filter.status);
    }
    if (filter.tag !== undefined) {
      where.push('id IN (SELECT run_id FROM tags WHERE tag = ?)');
      args.push(filter.tag);
    }
    if (filter.parentId !== undefined) {
      where.push('parent_id = ?');
      args.push(filter.parentId);
    } else if (filter.includeChildren !== true) {
      where.push('parent_id IS NULL');
    }
    return { sql: where.length ? 'WHERE ' + where.join(' AND ') : '', args };
  }

  listRuns(filter: ListFilter = {}): RunSummary[] {
    const { sql: where, args } = this.whereOf(filter);
    // A parent's children read in the order the sweep made them; lists show the newest first.
    const order = filter.parentId !== undefined ? 'ASC' : 'DESC';
    const sql = `${RUN_SELECT} ${where} ORDER BY created_at ${order}, rowid ${order} LIMIT ? OFFSET ?`;
    args.push(filter.limit ?? 1000, filter.offset ?? 0);
    return (this.db.prepare(sql).all(...args) as RunRow[]).map((r) => this.toSummary(r));
  }

  /** Queued runs in creation order (rowid breaks ties within one millisecond). */
  queuedIds(): string[] {
    return (
      this.db.prepare("SELECT id FROM runs WHERE status = 'queued' ORDER BY created_at, rowid").all() as {
        id: string;
      }[]
    ).map((r) => r.id);
  }

  /** queued → running; false when another process claimed or cancelled it first. */
  claimRun(id: string, startedAt: string, host: Record<string, unknown>): boolean {
    return (
      this.db
        .prepare(
          `UPDATE runs SET status = 'running', started_at = ?, heartbeat_at = ?, host = ?, progress = 0
           WHERE id = ? AND status = 'queued'`,
        )
        .run(startedAt, startedAt, JSON.stringify(host), id).changes === 1
    );
  }

  /** Claims the oldest queued run (of `only`, when given) in one write transaction; undefined when none. */
  claimNext(startedAt: string, host: Record<string, unknown>, only?: readonly string[]): string | undefined {
    return this.db
      .transaction(() => {
        const row = (
          only === undefined
            ? this.db
                .prepare("SELECT id FROM runs WHERE status = 'queued' ORDER BY created_at, rowid LIMIT 1")
                .get()
            : this.db
                .prepare(
                  `SELECT id FROM runs WHERE status = 'queued' AND id IN (SELECT value FROM json_each(?))
                   ORDER BY created_at, rowid LIMIT 1`,
                )
                .get(JSON.stringify(only))
        ) as { id: string } | undefined;
        if (row === undefined) return undefined;
        return this.claimRun(row.id, startedAt, host) ? row.id : undefined;
      })
      .immediate();
  }

  /** Ends a run and its unfinished children in one transaction; returns the children it ended. */
  endRun(
    id: string,
    ending: {
      status: RunStatus;
      at: string;
      error: string | null;
      children: { status: RunStatus; error: string | null };
    },
  ): string[] {
    return this.db.transaction(() => {
      this.finishRun(id, ending.status, ending.at, ending.error);
      return this.finishChildren(id, ending.children.status, ending.at, ending.children.error);
    })();
  }

  /** A child's result and terminal status in one transaction. */
  finishChild(
    id: string,
    result: {
      summary: Record<string, number | string>;
      report: ReportSection[];
      backend: Record<string, unknown>;
    },
    status: RunStatus,
    at: string,
    error: string | null,
  ): boolean {
    return this.db.transaction(() => {
      this.setResult(id, result.summary, result.report, result.backend);
      return this.finishRun(id, status, at, error);
    })();
  }

  /**
   * Sets a terminal status; only a non-terminal run changes (a finished run is never rewritten). A sweep's
   * child that ends settles its parent in the same transaction (the last one ends it).
   */
  finishRun(id: string, status: RunStatus, finishedAt: string, error: string | null): boolean {
    const progress = status === 'succeeded' ? ', progress = 1' : '';
    return this.db.transaction(() => {
      const row = this.db
        .prepare(
          `UPDATE runs SET status = ?, finished_at = ?, error = ?${progress}
           WHERE id = ? AND status IN ('queued', 'running') RETURNING parent_id`,
        )
        .get(status, finishedAt, error, id) as { parent_id: string | null } | undefined;
      if (row === undefined) return false;
      if (row.parent_id !== null) this.settleSweep(row.parent_id, finishedAt);
      return true;
    })();
  }

  setProgress(id: string, fraction: number, message: string | null, at: string): void {
    this.db
      .prepare('UPDATE runs SET progress = ?, progress_message = ?, heartbeat_at = ? WHERE id = ?')
      .run(fraction, message, at, id);
  }

  /** The run's heartbeat also beats for its running children, which live in the same process. */
  heartbeat(id: string, at: string): void {
    this.db
      .prepare(`UPDATE runs SET heartbeat_at = ? WHERE id = ? OR (parent_id = ? AND status = 'running')`)
      .run(at, id, id);
  }

  setResult(
    id: string,
    summary: Record<string, number | string>,
    report: ReportSection[],
    backend: Record<string, unknown>,
  ): void {
    this.db
      .prepare('UPDATE runs SET summary = ?, report = ?, backend = ? WHERE id = ?')
      .run(JSON.stringify(summary), JSON.stringify(report), JSON.stringify(backend), id);
  }

  requestCancel(id: string): void {
    this.db.prepare('UPDATE runs SET cancel_requested = 1 WHERE id = ?').run(id);
  }

  cancelRequested(ids: string[]): string[] {
    if (ids.length === 0) return [];
    const marks = ids.map(() => '?').join(', ');
    return (
      this.db.prepare(`SELECT id FROM runs WHERE cancel_requested = 1 AND id IN (${marks})`).all(...ids) as {
        id: string;
      }[]
    ).map((r) => r.id);
  }

  /**
   * Runs left `running` by a process that died: heartbeat older than the cutoff (or none) → interrupted.
   * `except`: runs this lab process runs itself (alive by definition, whatever their heartbeat says). An
   * interrupted run's finish is its last sign of life (LAST_SIGN_OF_LIFE), not `now`: a lab that notices a dead
   * job days later did not watch it run for those days (core/api/run-duration.ts reads the same).
   */
  interruptStale(cutoff: string, now: string, except: readonly string[] = [], retry = true): string[] {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare(
          // a run with retries left goes back to the queue as its next attempt (migrations/006_run_attempts.sql)
          `UPDATE runs SET
             status = CASE WHEN attempt <= retries THEN 'queued' ELSE 'interrupted' END,
             attempt = CASE WHEN attempt <= retries THEN attempt + 1 ELSE attempt END,
             finished_at = CASE WHEN attempt <= retries THEN NULL ELSE ${LAST_SIGN_OF_LIFE} END,
             error = CASE WHEN attempt <= retries THEN NULL ELSE
               'the lab stopped while this run was running (no heartbeat since ' || COALESCE(heartbeat_at, 'start') || ')' END
           WHERE status = 'running' AND sweep IS NULL AND (heartbeat_at IS NULL OR heartbeat_at < ?)
             AND (parent_id IS NULL OR parent_id IN (SELECT id FROM runs WHERE sweep IS NOT NULL))
             AND id NOT IN (SELECT value FROM json_each(?)) AND (? OR attempt > retries) RETURNING id, parent_id`,
        )
        .all(now, cutoff, JSON.stringify(except), retry ? 1 : 0) as {
        id: string;
        parent_id: string | null;
      }[];
      // A job's child lives exactly as long as its parent's job: judge it by the parent, not its own heartbeat.
      // (A sweep's children are runs of their own, judged by their own heartbeat above; a sweep parent has no
      // job and ends with its last child.)
      const children = this.db
        .prepare(
          `UPDATE runs SET status = 'interrupted', finished_at = ${LAST_SIGN_OF_LIFE},
             error = 'its parent run ended while this child was running'
           WHERE status = 'running' AND parent_id IS NOT NULL
             AND (SELECT p.status FROM runs AS p WHERE p.id = runs.parent_id AND p.sweep IS NULL) <> 'running'
           RETURNING id`,
        )
        .all(now) as { id: string }[];
      // a sweep whose last point was interrupted ended when that point last showed life, not now
      const lastEnd = this.db.prepare('SELECT max(finished_at) AS at FROM runs WHERE parent_id = ?');
      for (const p of new Set(rows.map((r) => r.parent_id)))
        if (p !== null) this.settleSweep(p, (lastEnd.get(p) as { at: string | null }).at ?? now);
      return [...rows, ...children].map((r) => r.id);
    })();
  }

  setTags(id: string, tags: string[]): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM tags WHERE run_id = ?').run(id);
      const ins = this.db.prepare('INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)');
      for (const t of tags) ins.run(id, t);
    })();
  }

  addNote(id: string, text: string, at: string): NoteInfo {
    const info = this.db
      .prepare('INSERT INTO notes (run_id, text, created_at) VALUES (?, ?, ?)')
      .run(id, text, at);
    return { id: Number(info.lastInsertRowid), text, createdAt: at };
  }

  /** Replaces a note's text; null when the run has no note with that id. */
  updateNote(runId: string, noteId: number, text: string): NoteInfo | null {
    const row = this.db
      .prepare(
        'UPDATE notes SET text = ? WHERE id = ? AND run_id = ? RETURNING id, text, created_at AS createdAt',
      )
      .get(text, noteId, runId) as NoteInfo | undefined;
    return row ?? null;
  }

  /** Deletes a note; false when the run has no note with that id. */
  deleteNote(runId: string, noteId: number): boolean {
    return this.db.prepare('DELETE FROM notes WHERE id = ? AND run_id = ?').run(noteId, runId).changes === 1;
  }

  notes(id: string): NoteInfo[] {
    return this.db
      .prepare('SELECT id, text, created_at AS createdAt FROM notes WHERE run_id = ? ORDER BY id')
      .all(id) as NoteInfo[];
  }

  // ---- metrics ----

  /** Writes one batch in one transaction (summary included); returns the points actually inserted. */
  addMetrics(runId: string, points: StoredMetricPoint[]): StoredMetricPoint[] {
    if (points.length === 0) return [];
    return this.metricBatch(runId, points);
  }

  metricSummaries(runId: string): MetricSummary[] {
    return this.db
      .prepare(
        `SELECT key, count, last_step AS lastStep, last, min, max FROM metric_summary WHERE run_id = ? ORDER BY key`,
      )
      .all(runId) as MetricSummary[];
  }

  metricKeys(runId: string): string[] {
    return this.metricSummaries(runId).map((m) => m.key);
  }

  /** Every stored point of one key, in step order (exports only; charts use `series`). */
  points(runId: string, key: string): { step: number; value: number; wallTime: number }[] {
    return this.db
      .prepare(
        'SELECT step, value, wall_time AS wallTime FROM metrics WHERE run_id = ? AND key = ? ORDER BY step',
      )
      .all(runId, key) as { step: number; value: number; wallTime: number }[];
  }

  /**
   * Downsampled in SQL: steps are cut into at most maxPoints equal-width buckets; each bucket gives its min,
   * max and the value at its last step (reported as the point's step).
   */
  series(runId: string, key: string, maxPoints: number): Series {
    const range = this.db
      .prepare(
        'SELECT COUNT(*) AS n, MIN(step) AS lo, MAX(step) AS hi FROM metrics WHERE run_id = ? AND key = ?',
      )
      .get(runId, key) as { n: number; lo: number | null; hi: number | null };
    if (range.n === 0 || range.lo === null || range.hi === null) return { runId, key, count: 0, points: [] };
    const width = Math.max(1, Math.ceil((range.hi - range.lo + 1) / maxPoints));
    const points = this.db
      .prepare(
        `WITH agg AS (
           SELECT (step - CAST(@lo AS INTEGER)) / CAST(@w AS INTEGER) AS bucket,
                  MIN(value) AS mn, MAX(value) AS mx, MAX(step) AS last_step
           FROM metrics WHERE run_id = @run AND key = @key GROUP BY bucket)
         SELECT agg.last_step AS step, agg.mn AS min, agg.mx AS max, m.value AS last
         FROM agg JOIN metrics m ON m.run_id = @run AND m.key = @key AND m.step = agg.last_step
         ORDER BY agg.last_step`,
      )
      .all({ run: runId, key, lo: range.lo, w: width }) as Series['points'];
    return { runId, key, count: range.n, points };
  }

  // ---- artifacts ----

  addArtifact(runId: string, a: NewArtifact, at: string): void {
    this.db
      .prepare(
        `INSERT INTO artifacts (run_id, name, kind, path, bytes, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, name) DO UPDATE SET kind = excluded.kind, path = excluded.path,
           bytes = excluded.bytes, sha256 = excluded.sha256, created_at = excluded.created_at`,
      )
      .run(runId, a.name, a.kind, a.path, a.bytes, a.sha256, at);
  }

  artifacts(runId: string): ArtifactInfo[] {
    return this.db
      .prepare('SELECT name, kind, bytes, sha256 FROM artifacts WHERE run_id = ? ORDER BY name')
      .all(runId) as ArtifactInfo[];
  }

  artifactPath(runId: string, name: string): string | undefined {
    const r = this.db.prepare('SELECT path FROM artifacts WHERE run_id = ? AND name = ?').get(runId, name) as
      { path: string } | undefined;
    return r?.path;
  }

  /** Stored config JSON of each listed run that exists (ids read 500 at a time). */
  configs(ids: readonly string[]): { id: string; config: string }[] {
    const out: { id: string; config: string }[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const sql = `SELECT id, config FROM runs WHERE id IN (${chunk.map(() => '?').join(',')})`;
      out.push(...(this.db.prepare(sql).all(...chunk) as { id: string; config: string }[]));
    }
    return out;
  }

  /** Without a filter: every run, children included; with one: the runs listRuns would page through. */
  countRuns(filter?: ListFilter): number {
    if (filter === undefined) {
      return (this.db.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n;
    }
    const { sql: where, args } = this.whereOf(filter);
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM runs ${where}`).get(...args) as { n: number }).n;
  }
}
