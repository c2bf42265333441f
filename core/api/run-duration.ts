// How long a run took: one definition for every place that shows or sorts durations (the runs table, the run
// page, the CLI) — and the stores' duration sort (core/lab/run-query.ts, run-query-pg.ts) computes the same
// in SQL. Isomorphic, no dependencies.
import type { RunStatus } from './lab-types';

/** What a duration needs of a run (RunSummary has it). */
export interface RunTimes {
  readonly status: RunStatus;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  /** The run's last sign of life: its last heartbeat, else its last metric's time. */
  readonly lastSeenAt?: string | null;
}

/**
 * When the run's time stops (ms since the epoch), or null before it started:
 * - interrupted: its last sign of life (last heartbeat, else last metric), else its finish — a lab that
 *   notices a dead job days later writes that moment as the finish, which is not time the run ran;
 * - otherwise its finish when it has one;
 * - queued or running without one: `now` (a re-queued retry counts from its first start);
 * - ended without one: its last sign of life, else its start — never now.
 */
export function runEndMs(run: RunTimes, now: number): number | null {
  if (!run.startedAt) return null;
  const seen = run.lastSeenAt ? Date.parse(run.lastSeenAt) : null;
  const finished = run.finishedAt ? Date.parse(run.finishedAt) : null;
  if (run.status === 'interrupted') return seen ?? finished ?? Date.parse(run.startedAt);
  if (finished !== null) return finished;
  if (run.status === 'queued' || run.status === 'running') return now;
  return seen ?? Date.parse(run.startedAt);
}

/** Milliseconds the run took (or has taken so far, while it is queued or running); null before it started. */
export function runDurationMs(run: RunTimes, now = Date.now()): number | null {
  const end = runEndMs(run, now);
  if (end === null || !run.startedAt) return null;
  const ms = end - Date.parse(run.startedAt);
  return Number.isFinite(ms) ? Math.max(0, ms) : null;
}
