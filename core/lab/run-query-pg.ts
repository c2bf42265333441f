// The runs table's pages (LabApi.queryRuns) on PostgreSQL, with the meaning run-query.ts gives them on SQLite
// (the plan and its JS functions are shared: run-query-plan.ts). Filters, groups, counts, facets and the
// columns PostgreSQL can compute exactly (status, kind, progress, duration, tags) run in SQL, text compared
// `COLLATE "C"` (bytewise, as SQLite's BINARY; the database's own collation may be a locale's). What only JS
// defines the same way everywhere — the search (JS case mapping), the name (lower-cased by JS), the headline,
// a summary figure, a config field — is computed here from the stored text, sorted with the shared
// comparator, and the order kept while the database is unchanged (its WAL insert position has not moved),
// so scrolling such a table slices one order instead of reading 100,000 rows a window.
import { MAX_QUERY_IDS, type RunGroupBy, type RunPage, type RunSummary } from '../api/lab-api';
import {
  compareRows,
  computedValue,
  matchesWords,
  MAX_SUMMARY_KEYS,
  orderGroups,
  compareText,
  type OrderRow,
  type RunQueryPlan,
  type SqlValue,
} from './run-query-plan';

/** What the query needs of the store: reads inside one snapshot, and the page's summaries. */
export interface PgQueryConnection {
  rows<T>(sql: string, args?: unknown[]): Promise<T[]>;
  /** Summaries of these ids, in this order (unknown ids left out). */
  summaries(ids: string[]): Promise<RunSummary[]>;
}

/** Orders kept per store (newest last); `version` is the database's WAL insert position when read. */
export type PgOrderCache = Map<string, { version: string; ids: string[] }>;
const CACHED_ORDERS = 4;

/** A WHERE under construction: conditions and their $n arguments. */
class Where {
  readonly sql: string[] = ['runs.parent_id IS NULL'];
  readonly args: unknown[] = [];
  arg(v: unknown): string {
    this.args.push(v);
    return `$${this.args.length}`;
  }
  add(cond: string): this {
    this.sql.push(cond);
    return this;
  }
  copy(): Where {
    const w = new Where();
    w.sql.splice(0, w.sql.length, ...this.sql);
    w.args.push(...this.args);
    return w;
  }
  get text(): string {
    return this.sql.join(' AND ');
  }
}

const HAS_CHILDREN = 'EXISTS (SELECT 1 FROM runs AS c WHERE c.parent_id = runs.id)';
const TAGS_SORTED = `(SELECT string_agg(t.tag, ',' ORDER BY t.tag COLLATE "C") FROM tags AS t WHERE t.run_id = runs.id)`;
/** Every run's tags in one pass (joined to the candidates; a subquery per row is 100,000 lookups). */
const TAGS_BY_RUN = `(SELECT run_id, string_agg(tag, ' ') AS text, array_agg(tag) AS list FROM tags GROUP BY run_id)`;
/** The ids of runs with children, in one pass. */
const PARENTS = `(SELECT DISTINCT parent_id AS id FROM runs WHERE parent_id IS NOT NULL)`;

/** The filters of the plan (not the search, which is JS): top-level runs, kind, status, tag. */
function baseWhere(p: RunQueryPlan): Where {
  const w = new Where();
  if (p.kind !== undefined) w.add(`runs.kind = ${w.arg(p.kind)}`);
  if (p.status !== undefined) w.add(`runs.status = ${w.arg(p.status)}`);
  if (p.tag !== undefined) w.add(`runs.id IN (SELECT run_id FROM tags WHERE tag = ${w.arg(p.tag)})`);
  return w;
}

function addGroup(w: Where, by: RunGroupBy, value: string): Where {
  switch (by) {
    case 'kind':
      return w.add(`runs.kind = ${w.arg(value)}`);
    case 'tag':
      return value === ''
        ? w.add('NOT EXISTS (SELECT 1 FROM tags WHERE run_id = runs.id)')
        : w.add(`runs.id IN (SELECT run_id FROM tags WHERE tag = ${w.arg(value)})`);
    case 'sweep':
      // 'single': top-level runs without children; a sweep's section (its parent's id) is set up by pointsOf
      return value === 'single' ? w.add(`NOT ${HAS_CHILDREN}`) : w;
  }
}

/** A sweep's section: its points (the child runs of the parent `id`), all of them: the filters chose the parent. */
function pointsOf(id: string): Where {
  const w = new Where();
  w.sql[0] = `runs.parent_id = ${w.arg(id)}`;
  return w;
}

/** The SQL value of a column PostgreSQL sorts itself; null when JS computes it. */
function sqlColumn(p: RunQueryPlan, w: Where): string | null {
  const s = p.sort;
  if (s.by === 'none') return 'NULL';
  if (s.by !== 'column') return null;
  switch (s.column) {
    case 'status':
      return 'runs.status COLLATE "C"';
    case 'kind':
      return 'runs.kind COLLATE "C"';
    case 'progress':
      return 'runs.progress';
    case 'tags':
      return `${TAGS_SORTED} COLLATE "C"`;
    case 'duration':
      // whole milliseconds, as SQLite's expression gives them
      return `CASE WHEN runs.started_at IS NULL THEN NULL ELSE GREATEST(0, round(extract(epoch FROM (${endOf(w.arg(p.now))} - runs.started_at)) * 1000))::float8 END`;
  }
}

/** The last metric's wall time (only read where coalesce gets that far). */
const LAST_METRIC_AT = `(SELECT to_timestamp(round(max(m.wall_time)) / 1000.0) FROM metrics AS m WHERE m.run_id = runs.id)`;
/** When a started run's time stops, as core/api/run-duration.ts's runEndMs and SQLite's END_JULIANDAY have it. */
function endOf(now: string): string {
  return `(CASE
    WHEN runs.status = 'interrupted' THEN coalesce(runs.heartbeat_at, ${LAST_METRIC_AT}, runs.finished_at, runs.started_at)
    WHEN runs.finished_at IS NOT NULL THEN runs.finished_at
    WHEN runs.status IN ('queued', 'running') THEN ${now}::timestamptz
    ELSE coalesce(runs.heartbeat_at, ${LAST_METRIC_AT}, runs.started_at) END)`;
}

/** A run as the JS side reads it: what the search and the computed column need. */
interface Candidate extends OrderRow {
  kind: string;
  tags: string[];
  sweep: boolean;
}

export async function queryRunsPg(
  c: PgQueryConnection,
  plan: RunQueryPlan,
  cache: PgOrderCache,
  version: string,
): Promise<RunPage> {
  const sweepId = plan.group?.by === 'sweep' && plan.group.value !== 'single' ? plan.group.value : null;
  if (sweepId !== null && plan.withGroups !== undefined) {
    // The groups are the table's (its filters and search), whichever section this page is of.
    const [page, head] = [
      await queryRunsPg(c, { ...plan, withGroups: undefined }, cache, version),
      await queryRunsPg(
        c,
        {
          ...plan,
          group: undefined,
          limit: 0,
          offset: 0,
          withIds: false,
          withFacets: false,
          withSummaryKeys: false,
        },
        cache,
        version,
      ),
    ];
    return { ...page, groups: head.groups };
  }
  const p: RunQueryPlan =
    sweepId === null ? plan : { ...plan, kind: undefined, status: undefined, tag: undefined, words: [] };
  const base = sweepId === null ? baseWhere(p) : pointsOf(sweepId);
  const matching = p.group ? addGroup(base.copy(), p.group.by, p.group.value) : base;
  const searching = p.words.length > 0;
  const count = async (w: Where) =>
    (await c.rows<{ n: number }>(`SELECT COUNT(*)::int AS n FROM runs WHERE ${w.text}`, w.args))[0].n;

  /** Every run of `w` the search matches, with its sort value (JS-side path). */
  const groupsBy = (by: RunGroupBy) => p.withGroups === by || p.group?.by === by;
  const candidates = async (w: Where): Promise<Candidate[]> => {
    const q = w.copy();
    const col = sqlColumn(p, q);
    const s = p.sort;
    const rows = await c.rows<{
      id: string;
      created_at: string;
      name: string;
      kind: string;
      status: string;
      error: string | null;
      summary: string;
      config: string | null;
      tag_text: string | null;
      tags: string[];
      sweep: boolean;
      v: SqlValue;
    }>(
      // Only what this query reads (100,000 rows a call): the creation time as the ISO text the lab wrote (no
      // Date per row), the search's fields, the computed column's input, what the groups need.
      `SELECT runs.id, to_char(runs.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
         ${searching || s.by === 'name' ? 'runs.name' : 'NULL'} AS name,
         ${searching || groupsBy('kind') ? 'runs.kind' : 'NULL'} AS kind,
         ${searching ? 'runs.status' : 'NULL'} AS status,
         ${searching ? 'runs.error' : 'NULL'} AS error,
         ${searching || s.by === 'headline' || s.by === 'summary' ? 'runs.summary::text' : 'NULL'} AS summary,
         ${s.by === 'config' ? 'runs.config::text' : 'NULL'} AS config,
         ${searching ? 'tg.text' : 'NULL'} AS tag_text,
         ${groupsBy('tag') ? `COALESCE(tg.list, '{}')` : `'{}'::text[]`} AS tags,
         ${groupsBy('sweep') ? 'sw.id IS NOT NULL' : 'false'} AS sweep,
         ${col ?? 'NULL'} AS v
       FROM runs
         ${searching || groupsBy('tag') ? `LEFT JOIN ${TAGS_BY_RUN} AS tg ON tg.run_id = runs.id` : ''}
         ${groupsBy('sweep') ? `LEFT JOIN ${PARENTS} AS sw ON sw.id = runs.id` : ''}
       WHERE ${q.text}`,
      q.args,
    );
    const out: Candidate[] = [];
    for (const r of rows) {
      if (
        searching &&
        !matchesWords(
          {
            name: r.name,
            kind: r.kind,
            status: r.status,
            id: r.id,
            error: r.error,
            tags: r.tag_text,
            summary: r.summary,
          },
          p.words,
        )
      )
        continue;
      out.push({
        id: r.id,
        createdAt: r.created_at,
        v:
          col !== null
            ? r.v
            : computedValue(s, { id: r.id, name: r.name, summary: r.summary, config: r.config }),
        kind: r.kind,
        tags: r.tags,
        sweep: r.sweep,
      });
    }
    return out;
  };

  const inGroup = (r: Candidate): boolean => {
    if (!p.group) return true;
    const { by, value } = p.group;
    if (by === 'kind') return r.kind === value;
    if (by === 'tag') return value === '' ? r.tags.length === 0 : r.tags.includes(value);
    return value === 'single' ? !r.sweep : true;
  };

  // The order: SQL for created and the SQL columns without a search; otherwise the JS side, kept by version.
  const jsOrder = searching || (p.sort.by !== 'created' && sqlColumn(p, new Where()) === null);
  let order: string[] | null = null;
  let found: Candidate[] | null = null;
  if (jsOrder) {
    const key = JSON.stringify([p.sort, p.dir, p.kind, p.status, p.tag, p.group, p.words]);
    const hit = cache.get(key);
    if (hit && hit.version === version && !(searching && p.withGroups !== undefined)) {
      cache.delete(key);
      cache.set(key, hit);
      order = hit.ids;
    } else {
      // With a search, the groups need the matches outside the group too: read them once for both.
      found = await candidates(searching ? base : matching);
      const rows = found.filter(inGroup);
      rows.sort(compareRows(p.sort, p.dir));
      order = rows.map((r) => r.id);
      cache.delete(key);
      cache.set(key, { version, ids: order });
      while (cache.size > CACHED_ORDERS) cache.delete(cache.keys().next().value!);
    }
  }

  const orderedIds = async (offset: number, limit: number): Promise<string[]> => {
    const w = matching.copy();
    const dir = p.dir === 'asc' ? 'ASC' : 'DESC';
    let orderBy: string;
    if (p.sort.by === 'created') orderBy = `runs.created_at ${dir}, runs.id COLLATE "C"`;
    else {
      const col = sqlColumn(p, w) as string;
      orderBy = `(${col}) IS NULL, ${col} ${dir}, runs.created_at DESC, runs.id COLLATE "C"`;
    }
    return (
      await c.rows<{ id: string }>(
        `SELECT runs.id FROM runs WHERE ${w.text} ORDER BY ${orderBy} LIMIT ${w.arg(limit)} OFFSET ${w.arg(offset)}`,
        w.args,
      )
    ).map((r) => r.id);
  };

  const total = order ? order.length : await count(matching);
  const unfiltered = p.kind === undefined && p.status === undefined && p.tag === undefined && !p.group;
  const all = unfiltered && !searching ? total : await count(new Where());
  const ids =
    p.limit === 0 || p.offset >= total
      ? []
      : order
        ? order.slice(p.offset, p.offset + p.limit)
        : await orderedIds(p.offset, p.limit);
  const page: RunPage = { total, all, offset: p.offset, runs: await c.summaries(ids) };

  if (p.withGroups !== undefined) {
    const by = p.withGroups;
    const counts = new Map<string, number>();
    const bump = (v: string, n = 1) => counts.set(v, (counts.get(v) ?? 0) + n);
    /** By sweep: the matching top-level runs with children (each its own group). */
    const sweeps: { id: string; createdAt: string }[] = [];
    if (searching) {
      for (const r of found ?? (await candidates(base))) {
        if (by === 'kind') bump(r.kind);
        else if (by === 'tag') for (const t of r.tags.length > 0 ? r.tags : ['']) bump(t);
        else if (r.sweep) sweeps.push(r);
        else bump('single');
      }
    } else if (by === 'kind') {
      for (const r of await c.rows<{ value: string; n: number }>(
        `SELECT runs.kind AS value, COUNT(*)::int AS n FROM runs WHERE ${base.text} GROUP BY runs.kind`,
        base.args,
      ))
        bump(r.value, r.n);
    } else if (by === 'tag') {
      for (const r of await c.rows<{ value: string; n: number }>(
        `SELECT t.tag AS value, COUNT(*)::int AS n FROM runs JOIN tags AS t ON t.run_id = runs.id WHERE ${base.text} GROUP BY t.tag`,
        base.args,
      ))
        bump(r.value, r.n);
      bump('', await count(base.copy().add('NOT EXISTS (SELECT 1 FROM tags WHERE run_id = runs.id)')));
    } else {
      for (const r of await c.rows<{ id: string; created_at: string }>(
        `SELECT runs.id, runs.created_at FROM runs WHERE ${base.text} AND ${HAS_CHILDREN}`,
        base.args,
      ))
        sweeps.push({ id: r.id, createdAt: r.created_at });
      bump('single', await count(base.copy().add(`NOT ${HAS_CHILDREN}`)));
    }
    page.groups = orderGroups(by, counts);
    if (by === 'sweep' && sweeps.length > 0) {
      // One group per sweep, newest first (ties by id), with its points' count and its parent run.
      const time = (x: { createdAt: string }) => Date.parse(String(x.createdAt));
      sweeps.sort((a, b) => time(b) - time(a) || compareText(a.id, b.id));
      const ids = sweeps.map((r) => r.id);
      const points = new Map(
        (
          await c.rows<{ id: string; n: number }>(
            'SELECT parent_id AS id, COUNT(*)::int AS n FROM runs WHERE parent_id = ANY($1::text[]) GROUP BY parent_id',
            [ids],
          )
        ).map((r) => [r.id, r.n]),
      );
      const runs = new Map((await c.summaries(ids)).map((r) => [r.id, r]));
      const groups = ids.flatMap((id) => {
        const run = runs.get(id);
        return run ? [{ value: id, count: points.get(id) ?? 0, run }] : [];
      });
      page.groups = [...groups, ...page.groups];
    }
  }
  if (p.withIds) page.ids = order ? order.slice(0, MAX_QUERY_IDS) : await orderedIds(0, MAX_QUERY_IDS);
  if (p.withFacets) {
    // Distinct values by skipping through their index (PostgreSQL has no loose index scan of its own), then
    // one top-level run looked up for each, as SQLite does.
    const kinds = await c.rows<{ v: string }>(
      `WITH RECURSIVE d AS (SELECT min(kind) AS v FROM runs
         UNION ALL SELECT (SELECT min(kind) FROM runs WHERE kind > d.v) FROM d WHERE d.v IS NOT NULL)
       SELECT v FROM d WHERE v IS NOT NULL AND EXISTS (SELECT 1 FROM runs WHERE kind = d.v AND parent_id IS NULL)`,
    );
    const tags = await c.rows<{ v: string }>(
      `WITH RECURSIVE d AS (SELECT min(tag) AS v FROM tags
         UNION ALL SELECT (SELECT min(tag) FROM tags WHERE tag > d.v) FROM d WHERE d.v IS NOT NULL)
       SELECT v FROM d WHERE v IS NOT NULL
         AND EXISTS (SELECT 1 FROM tags AS t JOIN runs ON runs.id = t.run_id WHERE t.tag = d.v AND runs.parent_id IS NULL)`,
    );
    page.kinds = kinds.map((r) => r.v).sort(compareText);
    page.tags = tags.map((r) => r.v).sort(compareText);
  }
  if (p.withSummaryKeys) {
    // First seen over the matching runs newest first (ties by id), each run's keys in the order written.
    const w = searching ? new Where() : matching.copy();
    if (searching) w.add(`runs.id = ANY(${w.arg(order)}::text[])`);
    page.summaryKeys = (
      await c.rows<{ key: string }>(
        `SELECT key FROM (SELECT j.key, m.c, m.i, j.o,
             row_number() OVER (PARTITION BY j.key ORDER BY m.c DESC, m.i COLLATE "C", j.o) AS k
           FROM (SELECT runs.summary AS s, runs.created_at AS c, runs.id AS i FROM runs WHERE ${w.text}) AS m,
             json_each(m.s) WITH ORDINALITY AS j(key, value, o)) AS x
         WHERE k = 1 ORDER BY c DESC, i COLLATE "C", o LIMIT ${MAX_SUMMARY_KEYS}`,
        w.args,
      )
    ).map((r) => r.key);
  }
  return page;
}
