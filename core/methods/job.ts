// The contract between the lab (which schedules and stores runs) and a job kind (which does the work).
// A job kind is data plus a run function; the lab never looks inside it.
import type { z } from 'zod';
import type { KindMeta } from './metadata/meta';

export interface MetricPoint {
  key: string;
  step: number;
  value: number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What a running job can do; implemented by the worker process, which batches and forwards to the lab. */
export interface JobContext {
  readonly runId: string;
  readonly seed: number;
  /** Aborted when the run is cancelled; long loops check `signal.aborted` between steps. */
  readonly signal: AbortSignal;
  /** A directory the job may write scratch files to (deleted afterwards unless kept as artifacts). */
  readonly workDir: string;
  /**
   * A directory shared by every run of the lab (<labDir>/cache) for results worth keeping across runs,
   * e.g. a frozen teacher's outputs keyed by teacher and dataset. Write files atomically (temp + rename).
   */
  readonly cacheDir: string;
  /** Fraction done in [0, 1], with an optional short message. */
  progress(fraction: number, message?: string): void;
  /** Metric points; the worker batches them (one store transaction per batch). */
  metrics(points: MetricPoint[]): void;
  log(level: LogLevel, message: string): void;
  /** Stores a file with the run (written to a temp name and renamed, then recorded with its sha256). */
  artifact(name: string, kind: string, data: Uint8Array | string): Promise<void>;
  /**
   * Starts a child run of this run (one point of a sweep): its own row, config, metrics and result, listed
   * under this run. Present in the lab's worker; absent in bare contexts (unit tests), where
   * `childOrInline` below records the point in this run instead. Children do not nest.
   */
  child?(name: string, config: unknown, opts?: ChildRunOptions): ChildRun;
}

export interface ChildRunOptions {
  /** The child's seed (default: the parent's). */
  seed?: number;
}

/** One child run, driven by its parent's job. Every call after finish/fail throws. */
export interface ChildRun {
  /** The child's run id (a UUID made in the worker). */
  readonly runId: string;
  readonly seed: number;
  progress(fraction: number, message?: string): void;
  metrics(points: MetricPoint[]): void;
  log(level: LogLevel, message: string): void;
  /** Ends the child as succeeded with its result (summary and report). */
  finish(result: JobResult): void;
  /** Ends the child as failed with a one-sentence reason. */
  fail(message: string): void;
}

/** A section of a run's report: a table (rows of cells) or a paragraph of text. */
export type ReportSection =
  | { type: 'table'; title: string; columns: string[]; rows: (string | number | null)[][] }
  | { type: 'text'; title: string; text: string };

export interface JobResult {
  /** Final figures shown in run lists and comparisons. */
  summary: Record<string, number | string>;
  /** Tables and text for the run's report. */
  report?: ReportSection[];
  /** What executed the run (simulator backend, gpu.js mode, threads…), stored with the run. */
  backend?: Record<string, unknown>;
}

export interface JobKind<C = unknown> {
  /** Stable identifier stored with each run, e.g. "sim-bench". */
  kind: string;
  title: string;
  description: string;
  /** Validates an untrusted config; fills defaults. */
  schema: z.ZodType<C>;
  /** A complete, runnable default config (what the wizard starts from). */
  defaults: C;
  /** What the kind says about itself (fields, presets, sizes), importable without Node; core/methods/meta.ts. */
  meta?: KindMeta<C>;
  run(config: C, ctx: JobContext): Promise<JobResult>;
}

/**
 * A job kind from its isomorphic metadata and its run function: name, title, description, schema and
 * defaults come from the metadata, and the config type C from its schema (through defineKindMeta).
 */
export function defineJobKind<C>(def: {
  meta: KindMeta<C>;
  run(config: C, ctx: JobContext): Promise<JobResult>;
}): JobKind<C> {
  const { meta, run } = def;
  const { kind, title, description, schema } = meta;
  return { kind, title, description, schema, defaults: schema.parse({}), meta, run };
}

/**
 * A child run where the context can make one, else a stand-in that records the point in the parent: its metrics
 * under "<name>/<key>", its logs prefixed with the name, its result as a log line. Sweeps call this so they
 * run the same way in the lab and in tests with a bare context.
 */
export function childOrInline(
  ctx: JobContext,
  name: string,
  config: unknown,
  opts: ChildRunOptions = {},
): ChildRun {
  if (ctx.child) return ctx.child(name, config, opts);
  let ended = false;
  const open = (what: string): void => {
    if (ended) throw new Error(`child ${name}: ${what} after it ended`);
  };
  return {
    runId: ctx.runId,
    seed: opts.seed ?? ctx.seed,
    // The parent's own progress already covers its points.
    progress(): void {
      open('progress');
    },
    metrics(points: MetricPoint[]): void {
      open('metrics');
      ctx.metrics(points.map((p) => ({ key: `${name}/${p.key}`, step: p.step, value: p.value })));
    },
    log(level: LogLevel, message: string): void {
      open('log');
      ctx.log(level, `[${name}] ${message}`);
    },
    finish(result: JobResult): void {
      open('finish');
      ended = true;
      ctx.log('info', `[${name}] finished: ${JSON.stringify(result.summary)}`);
    },
    fail(message: string): void {
      open('fail');
      ended = true;
      ctx.log('warn', `[${name}] failed: ${message}`);
    },
  };
}
