// A bare JobContext for running a job kind in-process (no lab, no worker): it records what the job reports so
// a test can assert on metrics, logs, progress and artifacts, and can cancel the run through `controller`.
import type { JobContext, LogLevel, MetricPoint } from '../../core/methods/job';

export interface FakeJobContext {
  ctx: JobContext;
  /** Every metric point, in the order reported. */
  points: MetricPoint[];
  /** Every log line as `<level>: <message>`. */
  logs: string[];
  /** Every log message without its level. */
  messages: string[];
  /** Every progress fraction, in order. */
  progress: number[];
  /** Names passed to ctx.artifact, in order (the data is dropped). */
  artifacts: string[];
  /** Aborting it cancels the run (ctx.signal). */
  controller: AbortController;
}

export interface FakeJobContextOptions {
  /** Scratch directory (default: cacheDir). */
  workDir?: string;
}

/** The run id every fake context carries: no job kind reads it, the lab's store needs a UUID. */
export const FAKE_RUN_ID = '00000000-0000-4000-8000-000000000000';

export function fakeJobContext(
  cacheDir: string,
  seed: number,
  opts: FakeJobContextOptions = {},
): FakeJobContext {
  const points: MetricPoint[] = [];
  const logs: string[] = [];
  const messages: string[] = [];
  const progress: number[] = [];
  const artifacts: string[] = [];
  const controller = new AbortController();
  const ctx: JobContext = {
    runId: FAKE_RUN_ID,
    seed,
    signal: controller.signal,
    workDir: opts.workDir ?? cacheDir,
    cacheDir,
    progress: (f) => progress.push(f),
    metrics: (p) => points.push(...p),
    log: (level: LogLevel, m) => {
      logs.push(`${level}: ${m}`);
      messages.push(m);
    },
    artifact: async (name) => {
      artifacts.push(name);
    },
  };
  return { ctx, points, logs, messages, progress, artifacts, controller };
}
