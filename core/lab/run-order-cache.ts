// The SQLite runs table's computed orders (a headline, summary or config sort, a search), kept until a write
// changes what they read. Sorting 50,000 runs by a computed column takes 0.5–1.3 s, and a running run writes
// its progress, heartbeat and metrics every few hundred milliseconds; dropping the order at every write made a
// headline-sorted table sort again on every scroll while a run was active.
//
// So this connection journals which runs its own writes touch (temporary triggers on `runs` and `tags`: the
// tables every filter, search and sort expression of run-query.ts reads), and a cached order is checked
// against the runs journaled since it was read: each one's membership and sort value are read again (one
// indexed row each) and compared with what the order holds. Only a change there (a new or deleted run, a
// status that leaves a filter, a summary written at the end, a renamed or retagged run) reads the order
// again. A write by another connection (`qlab run --detach`, a second `qlab serve`) is seen through PRAGMA
// data_version and reads the order again, as does any write under an order that depends on the clock (a
// duration sort: a running run's duration grows without a write).
import type Database from 'better-sqlite3';
import type { SqlValue } from './run-query-plan';

/** What the cache needs to know of one query. */
export interface OrderSource {
  /** The query's identity: sort, direction, filters, search, group. */
  key: string;
  /** Every matching run in order, with the value it sorts by. */
  all(): { id: string; v: SqlValue }[];
  /** Of these runs, those that match now, each with the value it sorts by now. */
  rows(ids: string[]): Map<string, SqlValue>;
  /** The order depends on the clock: any write reads it again. */
  volatile: boolean;
}

interface Entry {
  dataVersion: number;
  /** The journal's last sequence number when the order was read or last checked. */
  seq: number;
  ids: string[];
  values: Map<string, SqlValue>;
}

/** Orders per connection, most recently used last. */
const orders = new WeakMap<Database.Database, Map<string, Entry>>();
/** Connections whose journal is set up (false: it could not be, e.g. a read-only connection). */
const journaled = new WeakMap<Database.Database, boolean>();
const CACHED_ORDERS = 4;
/** Runs checked one by one at most; past this many changed runs the order is read again. */
const MAX_CHECKED = 500;

const stats = new WeakMap<Database.Database, { reads: number; kept: number }>();
/** For tests: how many orders a connection read in full, and how many checks kept one. */
export function orderCacheStats(db: Database.Database): { reads: number; kept: number } {
  let s = stats.get(db);
  if (!s) stats.set(db, (s = { reads: 0, kept: 0 }));
  return s;
}

/**
 * The journal: temporary (this connection only, gone when it closes) table and triggers. A run appears once,
 * with the sequence number of its latest change, so the table is bounded by the number of runs.
 */
function journal(db: Database.Database): boolean {
  let ok = journaled.get(db);
  if (ok !== undefined) return ok;
  try {
    db.exec(`
      CREATE TEMP TABLE IF NOT EXISTS qlab_run_changes (id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS temp.qlab_run_changes_seq ON qlab_run_changes (seq);
      CREATE TEMP TRIGGER IF NOT EXISTS qlab_rc_runs_ins AFTER INSERT ON main.runs BEGIN
        INSERT OR REPLACE INTO qlab_run_changes (id, seq)
          SELECT x, (SELECT coalesce(max(seq), 0) + 1 FROM qlab_run_changes)
          FROM (SELECT NEW.id AS x UNION ALL SELECT NEW.parent_id) WHERE x IS NOT NULL;
      END;
      CREATE TEMP TRIGGER IF NOT EXISTS qlab_rc_runs_upd AFTER UPDATE ON main.runs BEGIN
        INSERT OR REPLACE INTO qlab_run_changes (id, seq)
          SELECT x, (SELECT coalesce(max(seq), 0) + 1 FROM qlab_run_changes)
          FROM (SELECT NEW.id AS x UNION SELECT OLD.id UNION SELECT NEW.parent_id UNION SELECT OLD.parent_id)
          WHERE x IS NOT NULL;
      END;
      CREATE TEMP TRIGGER IF NOT EXISTS qlab_rc_runs_del AFTER DELETE ON main.runs BEGIN
        INSERT OR REPLACE INTO qlab_run_changes (id, seq)
          SELECT x, (SELECT coalesce(max(seq), 0) + 1 FROM qlab_run_changes)
          FROM (SELECT OLD.id AS x UNION ALL SELECT OLD.parent_id) WHERE x IS NOT NULL;
      END;
      CREATE TEMP TRIGGER IF NOT EXISTS qlab_rc_tags_ins AFTER INSERT ON main.tags BEGIN
        INSERT OR REPLACE INTO qlab_run_changes (id, seq)
          VALUES (NEW.run_id, (SELECT coalesce(max(seq), 0) + 1 FROM qlab_run_changes));
      END;
      CREATE TEMP TRIGGER IF NOT EXISTS qlab_rc_tags_upd AFTER UPDATE ON main.tags BEGIN
        INSERT OR REPLACE INTO qlab_run_changes (id, seq)
          SELECT x, (SELECT coalesce(max(seq), 0) + 1 FROM qlab_run_changes)
          FROM (SELECT NEW.run_id AS x UNION SELECT OLD.run_id);
      END;
      CREATE TEMP TRIGGER IF NOT EXISTS qlab_rc_tags_del AFTER DELETE ON main.tags BEGIN
        INSERT OR REPLACE INTO qlab_run_changes (id, seq)
          VALUES (OLD.run_id, (SELECT coalesce(max(seq), 0) + 1 FROM qlab_run_changes));
      END;
    `);
    ok = true;
  } catch {
    ok = false;
  }
  journaled.set(db, ok);
  return ok;
}

function lastSeq(db: Database.Database): number {
  return db.prepare('SELECT coalesce(max(seq), 0) FROM temp.qlab_run_changes').pluck().get() as number;
}

/** Whether the order still holds: every changed run is in it exactly when it matches, at the value it has. */
function stillHolds(entry: Entry, changed: string[], now: Map<string, SqlValue>): boolean {
  for (const id of changed) {
    const was = entry.values.has(id);
    if (was !== now.has(id)) return false;
    if (was && !Object.is(entry.values.get(id), now.get(id))) return false;
  }
  return true;
}

/**
 * Every matching id in order for `src`, from the cache while no write has changed it. Call inside the read
 * transaction that reads the page, so the order and the page see the same runs.
 */
export function cachedOrder(db: Database.Database, src: OrderSource): string[] {
  const withJournal = journal(db);
  const dataVersion = db.pragma('data_version', { simple: true }) as number;
  const seq = withJournal ? lastSeq(db) : -1;
  let cache = orders.get(db);
  if (!cache) orders.set(db, (cache = new Map()));
  const hit = cache.get(src.key);
  if (hit) cache.delete(src.key);
  if (hit && hit.dataVersion === dataVersion && withJournal) {
    if (hit.seq === seq) {
      cache.set(src.key, hit);
      return hit.ids;
    }
    if (!src.volatile) {
      const changed = db
        .prepare('SELECT id FROM temp.qlab_run_changes WHERE seq > ? LIMIT ?')
        .pluck()
        .all(hit.seq, MAX_CHECKED + 1) as string[];
      if (changed.length <= MAX_CHECKED && stillHolds(hit, changed, src.rows(changed))) {
        hit.seq = seq;
        cache.set(src.key, hit);
        orderCacheStats(db).kept++;
        prune(db, cache);
        return hit.ids;
      }
    }
  }
  const rows = src.all();
  orderCacheStats(db).reads++;
  const entry: Entry = {
    dataVersion,
    seq,
    ids: rows.map((r) => r.id),
    values: new Map(rows.map((r) => [r.id, r.v])),
  };
  cache.set(src.key, entry);
  while (cache.size > CACHED_ORDERS) cache.delete(cache.keys().next().value!);
  if (withJournal) prune(db, cache);
  return entry.ids;
}

/**
 * Drops journal entries every cached order has seen, all but the newest: the next change's number is one past
 * the largest left, so numbers never go back.
 */
function prune(db: Database.Database, cache: Map<string, Entry>): void {
  let min = Infinity;
  for (const e of cache.values()) min = Math.min(min, e.seq);
  if (Number.isFinite(min) && min > 0)
    db.prepare(
      'DELETE FROM temp.qlab_run_changes WHERE seq <= ? AND seq < (SELECT max(seq) FROM temp.qlab_run_changes)',
    ).run(min);
}
