// A runs row as the RunSummary every list, page and event carries: one mapping for both stores (SQLite hands
// the summary JSON as text, PostgreSQL's driver parses its `json` column), so a field added to RunSummary is
// added once.
import type { RunStatus, RunSummary } from '../api/lab-api';

/** The columns a summary reads (`child_count` computed by each store's run SELECT). */
export interface SummaryRow {
  id: string;
  kind: string;
  name: string;
  status: RunStatus;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  heartbeat_at: string | null;
  /** The last metric's wall time (ms), read by each store's run SELECT only where it is needed (LAST_METRIC_MS). */
  last_metric_ms?: number | null;
  progress: number;
  progress_message: string | null;
  summary: string | Record<string, number | string>;
  error: string | null;
  parent_id: string | null;
  child_count: number;
}

// A run's last sign of life is its heartbeat; a started run that ended without one (an old or imported run)
// falls back to its last metric's wall time. Read only for such rows: a scan of the run's metrics otherwise.
const NEEDS_LAST_METRIC = `runs.heartbeat_at IS NULL AND runs.started_at IS NOT NULL AND (runs.status = 'interrupted' OR (runs.finished_at IS NULL AND runs.status NOT IN ('queued', 'running')))`;
/** SQLite: the last metric's wall time (ms) of a run that needs it (else NULL), as `last_metric_ms`. */
export const LAST_METRIC_MS_SQLITE = `CASE WHEN ${NEEDS_LAST_METRIC} THEN (SELECT round(max(m.wall_time)) FROM metrics AS m WHERE m.run_id = runs.id) END`;
/** PostgreSQL: the same. */
export const LAST_METRIC_MS_PG = `CASE WHEN ${NEEDS_LAST_METRIC} THEN (SELECT round(max(m.wall_time)) FROM metrics AS m WHERE m.run_id = runs.id)::float8 END`;

export function summaryOfRow(r: SummaryRow, tags: string[]): RunSummary {
  return {
    id: r.id,
    kind: r.kind,
    name: r.name,
    status: r.status,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    lastSeenAt:
      r.heartbeat_at ??
      (r.last_metric_ms === null || r.last_metric_ms === undefined
        ? null
        : new Date(Math.round(r.last_metric_ms)).toISOString()),
    progress: r.progress,
    progressMessage: r.progress_message,
    tags,
    summary:
      typeof r.summary === 'string' ? (JSON.parse(r.summary) as Record<string, number | string>) : r.summary,
    error: r.error,
    parentId: r.parent_id,
    childCount: r.child_count,
  };
}
