// The runs table's pure parts: columns, sorting, search, grouping, each kind's headline figures and queue
// places. The state class (state/runs.svelte.ts) composes them; the tests call them directly.
import type { ConfigFieldValue, RunSummary } from '../../../core/api/lab-api';
import { runDurationMs } from '../../../core/api/run-duration';
import { formatTime, formatValue } from './format';

export type SortDir = 'asc' | 'desc';
export type GroupBy = '' | 'kind' | 'tag' | 'sweep';

/** A column of the table: a fixed one, or a summary figure ('summary:<key>') the user chose. */
export interface Column {
  readonly id: string;
  readonly label: string;
}

export const FIXED_COLUMNS: readonly Column[] = [
  { id: 'status', label: 'status' },
  { id: 'kind', label: 'kind' },
  { id: 'name', label: 'name' },
  { id: 'progress', label: 'progress' },
  { id: 'created', label: 'created' },
  { id: 'duration', label: 'duration' },
  { id: 'headline', label: 'headline' },
  { id: 'tags', label: 'tags' },
];

export const SUMMARY_PREFIX = 'summary:';
/** A chosen column naming a config field (`config:model.layers`); a plain key names a summary figure. */
export const CONFIG_PREFIX = 'config:';

/** One run's flattened config (LabApi.getRunConfigs), by run id. */
export type RunConfigs = ReadonlyMap<string, Readonly<Record<string, ConfigFieldValue>>>;

/** The cell of a chosen column: a config field or a summary figure; undefined where the run has none. */
export function extraValue(
  run: RunSummary,
  column: string,
  configs?: RunConfigs,
): number | string | boolean | null | undefined {
  if (column.startsWith(CONFIG_PREFIX)) return configs?.get(run.id)?.[column.slice(CONFIG_PREFIX.length)];
  return run.summary[column];
}

/**
 * Seconds a run took (or has taken so far, while it is queued or running); null before it started. A run that
 * ended without a finish time stops at its last heartbeat (core/api/run-duration.ts, as the lab sorts).
 */
export function durationSeconds(run: RunSummary, now = Date.now()): number | null {
  const ms = runDurationMs(run, now);
  return ms === null ? null : ms / 1000;
}

/** Short duration: "42 s", "3 min 5 s", "2 h 10 min", "—". */
export function formatSeconds(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '—';
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export { headline, type Headline } from '../../../core/api/run-headline';
import { headline } from '../../../core/api/run-headline';

/** A run's fixed cells as the table shows them (text only; the page adds the markup). */
export interface RowCells {
  readonly created: string;
  readonly duration: string;
  /** Progress in whole percent. */
  readonly percent: number;
  readonly headline: readonly { readonly label: string; readonly text: string }[];
  readonly tags: string;
}

const cellsCache = new WeakMap<RunSummary, RowCells>();

/**
 * The fixed cells of a run's row, formatted once per run object (a live update brings a new object): a row
 * scrolling back into view costs no date, duration or number formatting. A queued or running run's duration
 * grows with the clock, so its cells are made afresh each time.
 */
export function rowCells(run: RunSummary, now = Date.now()): RowCells {
  const hit = cellsCache.get(run);
  if (hit) return hit;
  const cells: RowCells = {
    created: formatTime(run.createdAt),
    duration: formatSeconds(durationSeconds(run, now)),
    percent: Math.round(run.progress * 100),
    headline: headline(run.summary).map((h) => ({ label: h.label, text: formatValue(h.value) })),
    tags: run.tags.join(', '),
  };
  if (run.status !== 'queued' && run.status !== 'running') cellsCache.set(run, cells);
  return cells;
}

/** Whether a run matches a free-text query (every word somewhere in its name, kind, status, tags, id or summary). */
export function matchesSearch(run: RunSummary, query: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const text = searchText(run);
  return words.every((w) => text.includes(w));
}

const searchCache = new WeakMap<RunSummary, string>();
function searchText(run: RunSummary): string {
  let t = searchCache.get(run);
  if (t === undefined) {
    t = [run.name, run.kind, run.status, run.id, run.error ?? '', ...run.tags, ...Object.keys(run.summary)]
      .join(' ')
      .toLowerCase();
    searchCache.set(run, t);
  }
  return t;
}

/** The value a column sorts by (numbers before strings; missing values last whatever the direction). */
export function sortValue(
  run: RunSummary,
  column: string,
  now = Date.now(),
  configs?: RunConfigs,
): number | string | null {
  switch (column) {
    case 'status':
      return run.status;
    case 'kind':
      return run.kind;
    case 'name':
      return (run.name || run.id).toLowerCase();
    case 'progress':
      return run.progress;
    case 'created':
      return run.createdAt;
    case 'duration':
      return durationSeconds(run, now);
    case 'headline': {
      const h = headline(run.summary, 1)[0];
      return h === undefined ? null : h.value;
    }
    case 'tags':
      return run.tags.length > 0 ? run.tags.join(',') : null;
    default:
      if (column.startsWith(SUMMARY_PREFIX)) return run.summary[column.slice(SUMMARY_PREFIX.length)] ?? null;
      if (column.startsWith(CONFIG_PREFIX)) {
        const v = extraValue(run, column, configs);
        return v === undefined || v === null ? null : typeof v === 'boolean' ? String(v) : v;
      }
      return null;
  }
}

/** Runs sorted by a column; ties keep newest first, then id, so the order is stable. */
export function sortRunsBy(
  runs: readonly RunSummary[],
  column: string,
  dir: SortDir,
  configs?: RunConfigs,
): RunSummary[] {
  const now = Date.now();
  const keyed = runs.map((run) => ({ run, v: sortValue(run, column, now, configs) }));
  const sign = dir === 'asc' ? 1 : -1;
  keyed.sort((a, b) => {
    if (a.v === null || b.v === null) {
      if (a.v !== b.v) return a.v === null ? 1 : -1;
    } else if (a.v !== b.v) {
      if (typeof a.v === 'number' && typeof b.v === 'number') return sign * (a.v - b.v);
      if (typeof a.v === 'number') return -1;
      if (typeof b.v === 'number') return 1;
      return sign * (a.v < b.v ? -1 : 1);
    }
    if (a.run.createdAt !== b.run.createdAt) return a.run.createdAt < b.run.createdAt ? 1 : -1;
    return a.run.id.localeCompare(b.run.id);
  });
  return keyed.map((k) => k.run);
}

/**
 * The group(s) a top-level run belongs to: by kind, by each tag ('untagged' without one); by sweep, a parent
 * heads its own section (its points are the section's runs) and the rest are 'single runs'.
 */
export function groupsOf(run: RunSummary, by: GroupBy): string[] {
  switch (by) {
    case 'kind':
      return [run.kind];
    case 'tag':
      return run.tags.length > 0 ? run.tags : ['untagged'];
    case 'sweep':
      return [run.childCount > 0 ? `sweep ${run.name || run.id}` : 'single runs'];
    default:
      return [''];
  }
}

/** Runs split into groups in order of first appearance, each keeping the given order. */
export function groupRuns(runs: readonly RunSummary[], by: GroupBy): { label: string; runs: RunSummary[] }[] {
  const groups = new Map<string, RunSummary[]>();
  for (const run of runs)
    for (const g of groupsOf(run, by)) {
      let list = groups.get(g);
      if (!list) groups.set(g, (list = []));
      list.push(run);
    }
  return [...groups].map(([label, list]) => ({ label, runs: list }));
}

/**
 * Each queued run's place in the queue (1 = next to start), given every queued run (a sweep's points too) as
 * the lab lists them, newest first: the scheduler claims the oldest first, and within one millisecond in the
 * order they were stored, which is the lab's list reversed (the stable sort keeps it).
 */
export function queuePlaces(runs: readonly RunSummary[]): Map<string, number> {
  const queued = runs
    .filter((r) => r.status === 'queued')
    .reverse()
    .sort((a, b) => (a.createdAt === b.createdAt ? 0 : a.createdAt < b.createdAt ? -1 : 1));
  return new Map(queued.map((r, i) => [r.id, i + 1]));
}

/** Summary keys the chooser offers for these runs (numeric figures first seen first), per kind when given. */
export function summaryKeys(runs: readonly RunSummary[], kind = ''): string[] {
  const keys = new Set<string>();
  for (const r of runs) if (!kind || r.kind === kind) for (const k of Object.keys(r.summary)) keys.add(k);
  return [...keys];
}

/** Config columns the chooser offers (`config:<path>`, in first-seen order), per kind when given. */
export function configKeys(runs: readonly RunSummary[], configs: RunConfigs, kind = ''): string[] {
  const keys = new Set<string>();
  for (const r of runs) {
    if (kind && r.kind !== kind) continue;
    for (const k of Object.keys(configs.get(r.id) ?? {})) keys.add(CONFIG_PREFIX + k);
  }
  return [...keys];
}
