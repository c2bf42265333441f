// The runs table's pages (LabApi.queryRuns): the top-level runs filtered, searched, sorted and grouped in
// SQLite, one window of at most MAX_QUERY_WINDOW runs per call (offset paging: the table jumps anywhere in
// its scrollbar), so a lab of 50,000 runs never ships them all to the renderer. The fixed columns sort by
// SQL expressions; the headline, a summary figure, a config field and the search text go through small JS
// functions registered on the connection, so they mean exactly what the renderer shows.
import type Database from 'better-sqlite3';
import {
  MAX_QUERY_IDS,
  type RunGroupBy,
  type RunGroupCount,
  type RunPage,
  type RunQuery,
  type RunSummary,
} from '../api/lab-api';
import {
  configValue,
  headlineOfSummary,
  matchesWords,
  MAX_SUMMARY_KEYS,
  planRunQuery,
  searchWords,
  summaryValue,
  type SqlValue,
} from './run-query-plan';
import { cachedOrder, type OrderSource } from './run-order-cache';

export { DEFAULT_QUERY_WINDOW } from './run-query-plan';

const registered = new WeakSet<Database.Database>();

/** A request with the `now` that unfinished runs' durations run to (default: the time of the query). */
type TimedQuery = RunQuery & { now?: string };

/** The JS functions the queries call; registered once per connection. */
function register(db: Database.Database): void {
  if (registered.has(db)) return;
  const opts = { deterministic: true } as const;
  // Whether every word of the query is in the run's name, kind, status, id, error, tags or summary keys (as the
  // renderer's matchesSearch did): lower-cased by JS, not SQLite's ASCII-only lower().
  db.function(
    'qlab_search',
    opts,
    (
      name: unknown,
      kind: unknown,
      status: unknown,
      id: unknown,
      error: unknown,
      tags: unknown,
      summary: unknown,
      words: unknown,
    ) => {
      const f = { name, kind, status, id, error, tags, summary };
      return matchesWords(f, String(words).split(' ')) ? 1 : 0;
    },
  );
  db.function('qlab_lower', opts, (s: unknown) => (typeof s === 'string' ? s.toLowerCase() : null));
  db.function('qlab_headline', opts, (summary: unknown) => headlineOfSummary(summary));
  db.function('qlab_summary', opts, (summary: unknown, key: unknown) => summaryValue(summary, key));
  db.function('qlab_config', opts, (config: unknown, path: unknown) => configValue(config, path));
  registered.add(db);
}

const TAGS_OF = `(SELECT group_concat(tag, ',') FROM (SELECT tag FROM tags WHERE run_id = runs.id ORDER BY tag))`;
/** Tags in any order, for search. */
const TAG_TEXT = `(SELECT group_concat(tag, ' ') FROM tags WHERE run_id = runs.id)`;
const HAS_CHILDREN = `EXISTS (SELECT 1 FROM runs AS c WHERE c.parent_id = runs.id)`;

interface Where {
  sql: string[];
  args: SqlValue[];
}

/**
 * The WHERE of every query: top-level runs, the filters, every search word, and the group when given. A
 * sweep's section (group by sweep, value = the parent's id) is the sweep's points: its child runs, all of
 * them (the filters chose the parent).
 */
function whereOf(q: RunQuery): Where {
  if (q.group?.by === 'sweep' && q.group.value !== 'single')
    return { sql: ['runs.parent_id = ?'], args: [q.group.value] };
  const w: Where = { sql: ['runs.parent_id IS NULL'], args: [] };
  if (q.kind !== undefined) {
    w.sql.push('runs.kind = ?');
    w.args.push(q.kind);
  }
  if (q.status !== undefined) {
    w.sql.push('runs.status = ?');
    w.args.push(q.status);
  }
  if (q.tag !== undefined) {
    w.sql.push('runs.id IN (SELECT run_id FROM tags WHERE tag = ?)');
    w.args.push(q.tag);
  }
  const words = searchWords(q.search);
  if (words.length > 0) {
    w.sql.push(
      `qlab_search(runs.name, runs.kind, runs.status, runs.id, runs.error, ${TAG_TEXT}, runs.summary, ?) = 1`,
    );
    w.args.push(words.join(' '));
  }
  if (q.group !== undefined) groupWhere(w, q.group.by, q.group.value);
  return w;
}

function groupWhere(w: Where, by: RunGroupBy, value: string): void {
  switch (by) {
    case 'kind':
      w.sql.push('runs.kind = ?');
      w.args.push(value);
      return;
    case 'tag':
      if (value === '') w.sql.push('NOT EXISTS (SELECT 1 FROM tags WHERE run_id = runs.id)');
      else {
        w.sql.push('runs.id IN (SELECT run_id FROM tags WHERE tag = ?)');
        w.args.push(value);
      }
      return;
    case 'sweep':
      // 'single': the top-level runs without children (a sweep's value is handled by whereOf)
      if (value === 'single') w.sql.push(`NOT ${HAS_CHILDREN}`);
      return;
  }
}

/** The last metric's wall time as a Julian day (only read where coalesce gets that far). */
const LAST_METRIC_JULIANDAY = `(SELECT round(max(m.wall_time)) / 86400000.0 + 2440587.5 FROM metrics AS m WHERE m.run_id = runs.id)`;
/**
 * When a started run's time stops, as core/api/run-duration.ts's runEndMs has it (one `?`: now): interrupted →
 * last heartbeat, last metric, finish, start; else its finish; else queued or running → now; else last
 * heartbeat, last metric, start.
 */
const END_JULIANDAY = `CASE
  WHEN runs.status = 'interrupted' THEN coalesce(julianday(runs.heartbeat_at), ${LAST_METRIC_JULIANDAY}, julianday(runs.finished_at), julianday(runs.started_at))
  WHEN runs.finished_at IS NOT NULL THEN julianday(runs.finished_at)
  WHEN runs.status IN ('queued', 'running') THEN julianday(?)
  ELSE coalesce(julianday(runs.heartbeat_at), ${LAST_METRIC_JULIANDAY}, julianday(runs.started_at)) END`;

/** The expression a column sorts by (null = missing, sorted last whatever the direction). */
function sortExpr(column: string, args: SqlValue[], now: string): string {
  switch (column) {
    case 'status':
      return 'runs.status';
    case 'kind':
      return 'runs.kind';
    case 'name':
      return `qlab_lower(CASE WHEN runs.name = '' THEN runs.id ELSE runs.name END)`;
    case 'progress':
      return 'runs.progress';
    case 'duration':
      args.push(now);
      // whole milliseconds (julianday's float error is far below half a millisecond), so equal durations tie
      // exactly, as they do in PostgreSQL's interval arithmetic
      return `CASE WHEN runs.started_at IS NULL THEN NULL ELSE max(0, round((${END_JULIANDAY} - julianday(runs.started_at)) * 86400000)) END`;
    case 'headline':
      return 'qlab_headline(runs.summary)';
    case 'tags':
      return TAGS_OF;
    default:
      if (column.startsWith('summary:')) {
        args.push(column.slice('summary:'.length));
        return 'qlab_summary(runs.summary, ?)';
      }
      if (column.startsWith('config:')) {
        args.push(column.slice('config:'.length));
        return 'qlab_config(runs.config, ?)';
      }
      return 'NULL';
  }
}

/**
 * Ids of the matching runs in table order, `limit` from `offset`. Created (the default) walks the index;
 * any other column sorts numbers before strings and missing values last whatever the direction, ties
 * newest first then by id, as the renderer's sortRunsBy does.
 */
function orderedIds(db: Database.Database, q: RunQuery, w: Where, offset: number, limit: number): string[] {
  const column = q.sort ?? 'created';
  const dir = (q.dir ?? 'desc') === 'asc' ? 'ASC' : 'DESC';
  const where = w.sql.join(' AND ');
  let sql: string;
  const args: SqlValue[] = [];
  if (column === 'created') {
    sql = `SELECT runs.id FROM runs WHERE ${where} ORDER BY runs.created_at ${dir}, runs.id LIMIT ? OFFSET ?`;
    args.push(...w.args);
  } else {
    const expr = sortExpr(column, args, (q as TimedQuery).now ?? new Date().toISOString());
    args.push(...w.args);
    sql =
      `SELECT id FROM (SELECT runs.id AS id, runs.created_at AS created_at, ${expr} AS v FROM runs WHERE ${where}) ` +
      `ORDER BY v IS NULL, typeof(v) = 'text', v ${dir}, created_at DESC, id LIMIT ? OFFSET ?`;
  }
  args.push(limit, offset);
  return db
    .prepare(sql)
    .pluck()
    .all(...args) as string[];
}

/**
 * A query whose order SQLite must compute row by row (a computed column, or a search), for the order cache
 * (run-order-cache.ts): every matching id in order with the value it sorts by, read once and kept until a
 * write changes a run's membership or value, so scrolling such a table pages through a slice instead of
 * sorting 50,000 runs a window, even while a run writes its progress and metrics.
 */
function orderSource(db: Database.Database, q: RunQuery, w: Where): OrderSource {
  const column = q.sort ?? 'created';
  const dir = (q.dir ?? 'desc') === 'asc' ? 'ASC' : 'DESC';
  const where = w.sql.join(' AND ');
  const exprArgs: SqlValue[] = [];
  const expr =
    column === 'created'
      ? 'runs.created_at'
      : sortExpr(column, exprArgs, (q as TimedQuery).now ?? new Date().toISOString());
  const order =
    column === 'created'
      ? `ORDER BY created_at ${dir}, id`
      : `ORDER BY v IS NULL, typeof(v) = 'text', v ${dir}, created_at DESC, id`;
  return {
    key: JSON.stringify([column, dir, w.sql, w.args]),
    volatile: column === 'duration',
    all: () =>
      db
        .prepare(
          `SELECT id, v FROM (SELECT runs.id AS id, runs.created_at AS created_at, ${expr} AS v FROM runs WHERE ${where}) ${order}`,
        )
        .all(...exprArgs, ...w.args) as { id: string; v: SqlValue }[],
    rows: (ids) => {
      const out = new Map<string, SqlValue>();
      for (let i = 0; i < ids.length; i += 500) {
        const part = ids.slice(i, i + 500);
        const rows = db
          .prepare(
            `SELECT runs.id AS id, ${expr} AS v FROM runs WHERE ${where} AND runs.id IN (${part.map(() => '?').join(',')})`,
          )
          .all(...exprArgs, ...w.args, ...part) as { id: string; v: SqlValue }[];
        for (const r of rows) out.set(r.id, r.v);
      }
      return out;
    },
  };
}

function count(db: Database.Database, w: Where): number {
  return db
    .prepare(`SELECT COUNT(*) FROM runs WHERE ${w.sql.join(' AND ')}`)
    .pluck()
    .get(...w.args) as number;
}

/**
 * Matching runs per group: kinds and tags in name order ('' = untagged last); by sweep, one group per matching
 * top-level run with children (newest first; its count is its points, its `run` the parent), then the single runs.
 */
function groupCounts(
  db: Database.Database,
  q: RunQuery,
  by: RunGroupBy,
  summaryOf: (id: string) => RunSummary | undefined,
): RunGroupCount[] {
  const w = whereOf({ ...q, group: undefined });
  const where = w.sql.join(' AND ');
  const rows = (sql: string, args: SqlValue[] = w.args) =>
    db.prepare(sql).all(...args) as { value: string; count: number }[];
  switch (by) {
    case 'kind':
      return rows(
        `SELECT runs.kind AS value, COUNT(*) AS count FROM runs WHERE ${where} GROUP BY runs.kind ORDER BY runs.kind`,
      );
    case 'tag': {
      const tagged = rows(
        `SELECT t.tag AS value, COUNT(*) AS count FROM runs JOIN tags AS t ON t.run_id = runs.id WHERE ${where} GROUP BY t.tag ORDER BY t.tag`,
      );
      const untagged = count(db, {
        sql: [...w.sql, 'NOT EXISTS (SELECT 1 FROM tags WHERE run_id = runs.id)'],
        args: w.args,
      });
      return untagged > 0 ? [...tagged, { value: '', count: untagged }] : tagged;
    }
    case 'sweep': {
      const sweeps: RunGroupCount[] = [];
      for (const g of rows(
        `SELECT runs.id AS value, (SELECT COUNT(*) FROM runs AS c WHERE c.parent_id = runs.id) AS count FROM runs ` +
          `WHERE ${where} AND ${HAS_CHILDREN} ORDER BY runs.created_at DESC, runs.id`,
      )) {
        const run = summaryOf(g.value);
        if (run) sweeps.push({ ...g, run });
      }
      const single = count(db, { sql: [...w.sql, `NOT ${HAS_CHILDREN}`], args: w.args });
      return single > 0 ? [...sweeps, { value: 'single', count: single }] : sweeps;
    }
  }
}

/**
 * One page of the runs table. `summaryOf` turns an id into its summary (the store's getSummary), so the
 * page's runs are exactly what listRuns and the live events carry.
 */
export function queryRuns(
  db: Database.Database,
  req: RunQuery,
  summaryOf: (id: string) => RunSummary | undefined,
  now?: string,
): RunPage {
  register(db);
  const q: TimedQuery = now === undefined ? req : { ...req, now };
  const w = whereOf(q);
  const { offset, limit } = planRunQuery(q);
  // One read transaction: the count, the window and the extras see the same runs.
  return db.transaction((): RunPage => {
    const expensive = (q.sort ?? 'created') !== 'created' || (q.search ?? '').trim() !== '';
    const order = expensive ? cachedOrder(db, orderSource(db, q, w)) : null;
    const total = order ? order.length : count(db, w);
    const all =
      w.sql.length === 1 && w.args.length === 0
        ? total
        : count(db, { sql: ['runs.parent_id IS NULL'], args: [] });
    const ids =
      limit === 0 || offset >= total
        ? []
        : order
          ? order.slice(offset, offset + limit)
          : orderedIds(db, q, w, offset, limit);
    const page: RunPage = {
      total,
      all,
      offset,
      runs: ids.map(summaryOf).filter((r): r is RunSummary => r !== undefined),
    };
    if (q.withGroups !== undefined) page.groups = groupCounts(db, q, q.withGroups, summaryOf);
    if (q.withIds === true)
      page.ids = order ? order.slice(0, MAX_QUERY_IDS) : orderedIds(db, q, w, 0, MAX_QUERY_IDS);
    if (q.withFacets === true) {
      // Distinct values off their indexes first, then one top-level run looked up for each.
      page.kinds = db
        .prepare(
          'SELECT d.kind FROM (SELECT DISTINCT kind FROM runs) AS d WHERE EXISTS (SELECT 1 FROM runs WHERE kind = d.kind AND parent_id IS NULL) ORDER BY d.kind',
        )
        .pluck()
        .all() as string[];
      page.tags = db
        .prepare(
          'SELECT d.tag FROM (SELECT DISTINCT tag FROM tags) AS d WHERE EXISTS (SELECT 1 FROM tags AS t JOIN runs ON runs.id = t.run_id WHERE t.tag = d.tag AND runs.parent_id IS NULL) ORDER BY d.tag',
        )
        .pluck()
        .all() as string[];
    }
    if (q.withSummaryKeys === true) {
      // Keys in first-seen order over the matching runs newest first (ties by id), each run's in its order.
      page.summaryKeys = db
        .prepare(
          `SELECT key FROM (SELECT j.key AS key, m.c AS c, m.i AS i, j.id AS o, ` +
            `row_number() OVER (PARTITION BY j.key ORDER BY m.c DESC, m.i, j.id) AS k ` +
            `FROM (SELECT runs.summary AS s, runs.created_at AS c, runs.id AS i FROM runs WHERE ${w.sql.join(' AND ')}) AS m, json_each(m.s) AS j) ` +
            `WHERE k = 1 ORDER BY c DESC, i, o LIMIT ${MAX_SUMMARY_KEYS}`,
        )
        .pluck()
        .all(...w.args) as string[];
    }
    return page;
  })();
}
