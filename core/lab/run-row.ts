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
  progress: number;
  progress_message: string | null;
  summary: string | Record<string, number | string>;
  error: string | null;
  parent_id: string | null;
  child_count: number;
}

export function summaryOfRow(r: SummaryRow, tags: string[]): RunSummary {
  return {
    id: r.id,
    kind: r.kind,
    name: r.name,
    status: r.status,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
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
