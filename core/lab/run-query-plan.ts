// The runs table's query (LabApi.queryRuns) as a plan both stores execute: which filters, which search words,
// what each column sorts by, and the small JS functions that give a computed column (name, headline, a summary
// figure, a config field) and the search its meaning. SQLite registers these functions on its connection
// (run-query.ts); PostgreSQL cannot call them, so its module (run-query-pg.ts) reads the inputs and applies the
// same functions and the same comparator here. One definition, so the two stores sort, search, group and page
// alike, and alike with the renderer's own table functions (renderer/src/lib/runs-table.ts).
import {
  flattenConfig,
  MAX_QUERY_WINDOW,
  type RunGroupBy,
  type RunQuery,
  type RunStatus,
} from '../api/lab-api';
import { headlineValue } from '../api/run-headline';

/** Runs a window holds unless the request says otherwise. */
export const DEFAULT_QUERY_WINDOW = 100;
/** At most this many search words count (the rest are ignored). */
export const MAX_SEARCH_WORDS = 32;
/** The column chooser lists at most this many summary keys. */
export const MAX_SUMMARY_KEYS = 2000;

export type SqlValue = number | string | null;

/**
 * What a column sorts by. `column`: a value each store computes in SQL (text compared bytewise, numbers as
 * numbers); `name`/`headline`/`summary`/`config`: a value of the JS functions below.
 */
export type SortKey =
  | { by: 'created' }
  | { by: 'column'; column: 'status' | 'kind' | 'progress' | 'duration' | 'tags' }
  | { by: 'name' }
  | { by: 'headline' }
  | { by: 'summary'; key: string }
  | { by: 'config'; path: string }
  | { by: 'none' };

export interface RunQueryPlan {
  kind?: string;
  status?: RunStatus;
  tag?: string;
  /** Lower-cased search words, each of which must appear in the run's search text. */
  words: string[];
  group?: { by: RunGroupBy; value: string };
  sort: SortKey;
  dir: 'asc' | 'desc';
  offset: number;
  limit: number;
  /** The order must be computed row by row (a computed column or a search): stores cache it. */
  expensive: boolean;
  withGroups?: RunGroupBy;
  withIds: boolean;
  withFacets: boolean;
  withSummaryKeys: boolean;
  /** `now` for the duration of runs still going (ISO). */
  now: string;
}

export function searchWords(search: string | undefined): string[] {
  return (search ?? '').toLowerCase().split(/\s+/).filter(Boolean).slice(0, MAX_SEARCH_WORDS);
}

function sortKeyOf(column: string): SortKey {
  switch (column) {
    case 'created':
      return { by: 'created' };
    case 'status':
    case 'kind':
    case 'progress':
    case 'duration':
    case 'tags':
      return { by: 'column', column };
    case 'name':
      return { by: 'name' };
    case 'headline':
      return { by: 'headline' };
    default:
      if (column.startsWith('summary:')) return { by: 'summary', key: column.slice('summary:'.length) };
      if (column.startsWith('config:')) return { by: 'config', path: column.slice('config:'.length) };
      return { by: 'none' };
  }
}

/** A parsed request (RunQuerySchema) → the plan; `now` fixes the duration of unfinished runs. */
export function planRunQuery(q: RunQuery, now: string = new Date().toISOString()): RunQueryPlan {
  const words = searchWords(q.search);
  const sort = sortKeyOf(q.sort ?? 'created');
  return {
    kind: q.kind,
    status: q.status,
    tag: q.tag,
    words,
    group: q.group,
    sort,
    dir: (q.dir ?? 'desc') === 'asc' ? 'asc' : 'desc',
    offset: q.offset ?? 0,
    limit: Math.min(q.limit ?? DEFAULT_QUERY_WINDOW, MAX_QUERY_WINDOW),
    expensive: sort.by !== 'created' || words.length > 0,
    withGroups: q.withGroups,
    withIds: q.withIds === true,
    withFacets: q.withFacets === true,
    withSummaryKeys: q.withSummaryKeys === true,
    now,
  };
}

// ---- the values computed columns sort by ----

function parseObject(json: unknown): Record<string, unknown> | null {
  if (typeof json !== 'string') return null;
  try {
    const v = JSON.parse(json) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function sqlValue(v: unknown): SqlValue {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  return null;
}

/**
 * A bounded memo by input string: sorting or searching 50,000 runs calls these once a row, and most rows'
 * summaries do not change between two pages.
 */
function memo<T>(f: (s: string) => T, cap = 200_000): (s: string) => T {
  const m = new Map<string, T>();
  return (s) => {
    let v = m.get(s);
    if (v === undefined && !m.has(s)) {
      if (m.size >= cap) m.clear();
      v = f(s);
      m.set(s, v);
    }
    return v as T;
  };
}

const summaryKeysText = memo((summary: string) => Object.keys(parseObject(summary) ?? {}).join(' '));
const headlineMemo = memo((summary: string): SqlValue => {
  const o = parseObject(summary) as Record<string, number | string> | null;
  return o === null ? null : sqlValue(headlineValue(o));
});

/** The fields a search looks in (tags in any order, space-separated; summary as its JSON text). */
export interface SearchFields {
  name: unknown;
  kind: unknown;
  status: unknown;
  id: unknown;
  error: unknown;
  tags: unknown;
  summary: unknown;
}

/**
 * Whether every word is in the run's name, kind, status, id, error, tags or summary keys (as the renderer's
 * matchesSearch): lower-cased by JS, whose case mapping neither SQLite's ASCII lower() nor PostgreSQL's
 * locale-dependent lower() reproduce.
 */
export function matchesWords(f: SearchFields, words: readonly string[]): boolean {
  const keys = typeof f.summary === 'string' ? summaryKeysText(f.summary) : '';
  const text =
    `${String(f.name)} ${String(f.kind)} ${String(f.status)} ${String(f.id)} ${String(f.error ?? '')} ${String(f.tags ?? '')} ${keys}`.toLowerCase();
  return words.every((w) => text.includes(w));
}

/** The name column's value: the name (the id when it has none), lower-cased. */
export function nameValue(name: unknown, id: unknown): SqlValue {
  const s = typeof name === 'string' && name !== '' ? name : id;
  return typeof s === 'string' ? s.toLowerCase() : null;
}

/** The headline column's value (the first headline figure of the summary JSON). */
export function headlineOfSummary(summary: unknown): SqlValue {
  return typeof summary === 'string' ? headlineMemo(summary) : null;
}

/** One summary figure of the summary JSON (booleans as text), or null. */
export function summaryValue(summary: unknown, key: unknown): SqlValue {
  const o = parseObject(summary);
  return o === null || typeof key !== 'string' || !Object.hasOwn(o, key) ? null : sqlValue(o[key]);
}

/** One flattened config field (`optimizer.lr`, `layers[1]`) of the config JSON, or null. */
export function configValue(config: unknown, path: unknown): SqlValue {
  if (typeof config !== 'string' || typeof path !== 'string') return null;
  let v: unknown;
  try {
    v = JSON.parse(config);
  } catch {
    return null;
  }
  const flat = flattenConfig(v);
  return Object.hasOwn(flat, path) ? sqlValue(flat[path]) : null;
}

// ---- the order ----

/**
 * Text in code point order, which is UTF-8 byte order (SQLite's BINARY collation, PostgreSQL's "C"); JS's `<`
 * compares UTF-16 units, which puts U+E000–U+FFFF after the astral planes.
 */
export function compareText(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** A row of the order: its sort value, creation time (ISO) and id. */
export interface OrderRow {
  id: string;
  createdAt: string;
  v: SqlValue;
}

/**
 * The table's order, as SQLite's `ORDER BY v IS NULL, typeof(v) = 'text', v <dir>, created_at DESC, id`:
 * missing values last whatever the direction, numbers before text, text bytewise; ties newest first, then id.
 * `created` sorts by creation time in the direction, then id.
 */
export function compareRows(sort: SortKey, dir: 'asc' | 'desc'): (a: OrderRow, b: OrderRow) => number {
  const sign = dir === 'asc' ? 1 : -1;
  if (sort.by === 'created')
    return (a, b) => sign * compareText(a.createdAt, b.createdAt) || compareText(a.id, b.id);
  return (a, b) => {
    const x = a.v;
    const y = b.v;
    if (x === null || y === null) {
      if (x !== y) return x === null ? 1 : -1;
    } else if (typeof x === 'number') {
      if (typeof y !== 'number') return -1;
      if (x !== y) return sign * (x < y ? -1 : 1);
    } else {
      if (typeof y === 'number') return 1;
      const c = compareText(x, y);
      if (c !== 0) return sign * c;
    }
    return compareText(b.createdAt, a.createdAt) || compareText(a.id, b.id);
  };
}

/** A computed column's value from the inputs a store read (the JSON columns as text). */
export function computedValue(
  sort: SortKey,
  row: { id: string; name?: unknown; summary?: unknown; config?: unknown; v?: SqlValue },
): SqlValue {
  switch (sort.by) {
    case 'name':
      return nameValue(row.name, row.id);
    case 'headline':
      return headlineOfSummary(row.summary);
    case 'summary':
      return summaryValue(row.summary, sort.key);
    case 'config':
      return configValue(row.config, sort.path);
    case 'none':
      return null;
    default:
      return row.v ?? null;
  }
}

/**
 * Group counts in the table's order: kinds and tags bytewise ('' = untagged last); by sweep only 'single' is
 * counted here (each sweep is a group of its own, listed before it by the store).
 */
export function orderGroups(by: RunGroupBy, counts: Map<string, number>): { value: string; count: number }[] {
  const rank = (v: string) => (by === 'sweep' ? (v === 'single' ? 1 : 0) : v === '' ? 1 : 0);
  return [...counts]
    .filter(([, count]) => count > 0)
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => rank(a.value) - rank(b.value) || compareText(a.value, b.value));
}
