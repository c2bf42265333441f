// The RunStore seam: every read and write the lab makes on its experiment store, as domain-level async
// operations. Two implementations keep one contract (test/integration/store-contract): SQLite (store-sqlite.ts,
// the embedded default of the desktop app and of one machine) and PostgreSQL (store-pg.ts, the shared store of
// a group's hub and workers). Each operation that writes several rows is one transaction inside the store, so
// callers never open transactions themselves.
import type {
  ArtifactInfo,
  MetricSummary,
  NoteInfo,
  ReportSection,
  RunDetail,
  RunPage,
  RunQuery,
  RunStatus,
  RunSummary,
  Series,
} from '../api/lab-api';
import type { SweepSpec } from '../api/sweep';
import type {
  CompareRow,
  ListFilter,
  NewArtifact,
  NewChildRun,
  NewRun,
  NewSweep,
  StoredMetricPoint,
} from './store';

export type { ListFilter, NewArtifact, NewChildRun, NewRun, NewSweep, StoredMetricPoint } from './store';

/** What a job reports at its end (the worker protocol's `result`). */
export interface RunResult {
  summary: Record<string, number | string>;
  report: ReportSection[];
  backend: Record<string, unknown>;
}

/** A terminal status for a run, and what its unfinished children get with it. */
export interface RunEnding {
  status: RunStatus;
  at: string;
  error: string | null;
  /** Unfinished (queued or running) children of the run end with this status and error. */
  children: { status: RunStatus; error: string | null };
}

export interface RunStore {
  /** 'sqlite' or 'postgres'. */
  readonly engine: 'sqlite' | 'postgres';
  /** Where the store is, for messages: a file path, or a URL without its password. */
  readonly location: string;
  /** The schema version the store is at (the number of applied migrations). */
  readonly schemaVersion: number;
  close(): Promise<void>;

  // ---- runs ----
  /** A new `queued` run with its tags. */
  createRun(run: NewRun): Promise<void>;
  /**
   * A lab-level sweep in one transaction: the parent, `running` from the start with no job of its own, and its
   * children, each a `queued` run of the kind (claimed like any run). When a child ends, by whatever operation
   * and in whatever process, the same transaction updates the parent's progress, and the last child's end ends
   * the parent with sweepOutcome's status and result (sweep-outcome.ts).
   */
  createSweep(parent: NewSweep, children: readonly NewRun[]): Promise<void>;
  /** A sweep parent's axes; null for any other run, undefined for no such run. */
  sweepSpec(id: string): Promise<SweepSpec | null | undefined>;
  /**
   * Cancels a running sweep in one transaction: queued children end `cancelled`, running ones get a cancel
   * request (returned, for their owners to stop), and the parent ends `cancelled` once no child runs (at once
   * when none does). Null when `id` is not a running sweep.
   */
  cancelSweep(id: string, at: string): Promise<{ cancelled: string[]; running: string[] } | null>;
  /** A child run, `running` from the start, under a running top-level parent (else it throws). */
  createChildRun(run: NewChildRun): Promise<void>;
  /**
   * Claims the oldest queued run (creation order) for this process: queued → running with its start time, a
   * first heartbeat and the host. `only`: consider just these ids. Two processes never claim the same run.
   */
  claimNext(
    startedAt: string,
    host: Record<string, unknown>,
    only?: readonly string[],
  ): Promise<string | undefined>;
  /** queued → running for one run; false when another process claimed or cancelled it first. */
  claimRun(id: string, startedAt: string, host: Record<string, unknown>): Promise<boolean>;
  /** Queued run ids in creation order. */
  queuedIds(): Promise<string[]>;
  /** Sets a terminal status on a queued or running run (a finished run is never rewritten); false otherwise. */
  finishRun(id: string, status: RunStatus, at: string, error: string | null): Promise<boolean>;
  /**
   * Ends a run and its unfinished children in one transaction; returns the children it ended (the run itself
   * keeps its status when it had already ended).
   */
  endRun(id: string, ending: RunEnding): Promise<string[]>;
  /** A child's result and terminal status together, in one transaction. */
  finishChild(
    id: string,
    result: RunResult,
    status: RunStatus,
    at: string,
    error: string | null,
  ): Promise<boolean>;
  setResult(id: string, result: RunResult): Promise<void>;
  setProgress(id: string, fraction: number, message: string | null, at: string): Promise<void>;
  /** The run's heartbeat, which also beats for its running children (they live in the same job). */
  heartbeat(id: string, at: string): Promise<void>;
  /** Marks a run for cancelling by the process that owns it (that process polls cancelRequested). */
  requestCancel(id: string): Promise<void>;
  /** Those of `ids` with a cancel request. */
  cancelRequested(ids: readonly string[]): Promise<string[]>;
  /**
   * Top-level runs left `running` with a heartbeat older than `cutoff` (or none), other than `except`, become
   * `interrupted`, and so do running children whose parent is no longer running; returns their ids. A stale
   * run with retries left (attempt <= retries) goes back to `queued` with attempt + 1 instead (also returned:
   * the caller enqueues it again); with `retry` false such runs are left as they are (a lab that cannot hand
   * them to whoever runs them leaves them to one that can).
   */
  interruptStale(cutoff: string, now: string, except?: readonly string[], retry?: boolean): Promise<string[]>;

  // ---- reading runs ----
  hasRun(id: string): Promise<boolean>;
  status(id: string): Promise<RunStatus | undefined>;
  /** The run's parent id (null for a top-level run, undefined for no such run). */
  parentOf(id: string): Promise<string | null | undefined>;
  /**
   * The file roots (real paths) the run's job must open its files under, stored with a run created over HTTP
   * or IPC (NewRun.fileRoots); a child run without its own has its parent's. null: the run is not guarded
   * (created from the command line), or there is no such run.
   */
  fileRoots(id: string): Promise<string[] | null>;
  getSummary(id: string): Promise<RunSummary | undefined>;
  getDetail(id: string): Promise<RunDetail | undefined>;
  /** Newest first (a parent's children oldest first); `offset` pages through the same order. */
  listRuns(filter?: ListFilter): Promise<RunSummary[]>;
  /** How many runs the same filter selects, without limit or offset. */
  countRuns(filter?: ListFilter): Promise<number>;
  /**
   * One page of the runs table (LabApi.queryRuns, already validated): filtered, searched, sorted, grouped,
   * the same on both stores (run-query-plan.ts). `now`: where unfinished runs' durations end (default: now).
   */
  queryRuns(q: RunQuery, now?: string): Promise<RunPage>;
  /** Everything stored of one run, as stored (bundles); undefined for no such run. */
  readStoredRun(id: string): Promise<StoredRun | undefined>;
  /**
   * Inserts runs exactly as given (parents before their children), in one transaction: all or none. The
   * runs must be new (an id the store has fails the whole batch).
   */
  insertStoredRuns(runs: readonly StoredRun[]): Promise<void>;
  /** What a comparison reads of each run, in `ids` order (undefined for an unknown id). */
  compareRows(ids: readonly string[]): Promise<(CompareRow | undefined)[]>;
  /** Stored config JSON text of each listed run that exists. */
  configs(ids: readonly string[]): Promise<{ id: string; config: string }[]>;

  // ---- tags and notes ----
  setTags(id: string, tags: readonly string[]): Promise<void>;
  addNote(id: string, text: string, at: string): Promise<NoteInfo>;
  /** Changes a note's text; null when the run has no note with that id. */
  updateNote(runId: string, noteId: number, text: string): Promise<NoteInfo | null>;
  /** Deletes a note; false when the run has no note with that id. */
  deleteNote(runId: string, noteId: number): Promise<boolean>;
  notes(id: string): Promise<NoteInfo[]>;

  // ---- metrics ----
  /**
   * Appends one batch in one transaction with the per-key summaries; a point whose (run, key, step) is already
   * stored is skipped (first write wins), so replaying a batch changes nothing. Returns the points inserted.
   */
  appendMetrics(runId: string, points: readonly StoredMetricPoint[]): Promise<StoredMetricPoint[]>;
  metricSummaries(runId: string): Promise<MetricSummary[]>;
  /** Every stored point of one key in step order (exports). */
  points(runId: string, key: string): Promise<{ step: number; value: number; wallTime: number }[]>;
  /** At most maxPoints equal-width step buckets, each with its min, max and the value at its last step. */
  series(runId: string, key: string, maxPoints: number): Promise<Series>;

  // ---- artifacts ----
  /** Records (or replaces) the row of a file already in place. */
  addArtifact(runId: string, artifact: NewArtifact, at: string): Promise<void>;
  artifacts(runId: string): Promise<ArtifactInfo[]>;
  /** The stored path, relative to the lab directory. */
  artifactPath(runId: string, name: string): Promise<string | undefined>;
}

/** A run's row as stored: JSON columns as their stored text, times as ISO strings (bundles, bulk copies). */
export interface StoredRunRow {
  id: string;
  kind: string;
  name: string;
  status: RunStatus;
  config: string;
  seed: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  heartbeat_at: string | null;
  code_version: string;
  host: string;
  backend: string;
  error: string | null;
  progress: number;
  progress_message: string | null;
  summary: string;
  report: string;
  parent_id: string | null;
}

/** The stored columns of a run, in StoredRunRow's order. */
export const STORED_RUN_COLUMNS = [
  'id',
  'kind',
  'name',
  'status',
  'config',
  'seed',
  'created_at',
  'started_at',
  'finished_at',
  'heartbeat_at',
  'code_version',
  'host',
  'backend',
  'error',
  'progress',
  'progress_message',
  'summary',
  'report',
  'parent_id',
] as const satisfies readonly (keyof StoredRunRow)[];

/** Everything stored of one run (a bundle's record): row, tags, notes, metrics and artifact rows. */
export interface StoredRun {
  run: StoredRunRow;
  /** Bytewise order. */
  tags: string[];
  /** Oldest first. */
  notes: { text: string; created_at: string }[];
  /** By key, bytewise. */
  metricSummary: { key: string; count: number; last_step: number; last: number; min: number; max: number }[];
  /** key → [step, wallTime, value] in step order (keys bytewise). */
  metrics: Record<string, [number, number, number][]>;
  /** By name, bytewise; `path` is the artifact store's. */
  artifacts: {
    name: string;
    kind: string;
    path: string;
    bytes: number;
    sha256: string;
    created_at: string;
  }[];
}

export const TERMINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled', 'interrupted'];
