// Copies a desktop lab (an SQLite store) into a shared PostgreSQL store: every run with its children, metrics,
// metric summaries, artifacts rows, tags, notes and the file roots of runs created over HTTP or IPC (so a queued
// guarded run stays guarded on the workers), field for field. Run ids are UUIDs, so runs from several labs stay
// distinct; a run the target already has is skipped (with its children), so running it twice copies nothing
// twice. Each run (with its children) is one PostgreSQL transaction. Artifact files are not copied: their rows
// keep the paths relative to the lab directory.
import pg from 'pg';
import { Store } from './store';
import { PgRunStore } from './store-pg';

export interface MigrateResult {
  copied: number;
  skipped: number;
  points: number;
}

interface Row {
  [k: string]: unknown;
}

const CHUNK = 5000;

export async function migrateSqliteToPostgres(
  sqliteFile: string,
  pgUrl: string,
  onProgress?: (done: number, total: number) => void,
): Promise<MigrateResult> {
  const src = Store.open(sqliteFile);
  // PgRunStore.open creates or migrates the target schema first
  await (await PgRunStore.open(pgUrl)).close();
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  const result: MigrateResult = { copied: 0, skipped: 0, points: 0 };
  try {
    const db = src.db;
    const tops = db.prepare('SELECT id FROM runs WHERE parent_id IS NULL ORDER BY rowid').all() as {
      id: string;
    }[];
    let done = 0;
    for (const { id } of tops) {
      const exists = await client.query('SELECT 1 FROM runs WHERE id = $1', [id]);
      if (exists.rowCount) {
        result.skipped++;
        onProgress?.(++done, tops.length);
        continue;
      }
      const runs = db
        .prepare('SELECT * FROM runs WHERE id = ? OR parent_id = ? ORDER BY (parent_id IS NOT NULL), rowid')
        .all(id, id) as Row[];
      await client.query('BEGIN');
      try {
        for (const r of runs) {
          await client.query(
            `INSERT INTO runs (id, kind, name, status, config, seed, created_at, started_at, finished_at, heartbeat_at,
               code_version, host, backend, error, progress, progress_message, summary, report, cancel_requested, parent_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
            [
              r.id,
              r.kind,
              r.name,
              r.status,
              r.config,
              r.seed,
              r.created_at,
              r.started_at,
              r.finished_at,
              r.heartbeat_at,
              r.code_version,
              r.host,
              r.backend,
              r.error,
              r.progress,
              r.progress_message,
              r.summary,
              r.report,
              r.cancel_requested === 1,
              r.parent_id,
            ],
          );
          const rid = r.id as string;
          const metrics = db
            .prepare('SELECT key, step, wall_time, value FROM metrics WHERE run_id = ?')
            .iterate(rid);
          let chunk: Row[] = [];
          const flush = async () => {
            if (chunk.length === 0) return;
            await client.query(
              `INSERT INTO metrics (run_id, key, step, wall_time, value)
               SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::float8[], $5::float8[])`,
              [
                rid,
                chunk.map((m) => m.key),
                chunk.map((m) => m.step),
                chunk.map((m) => m.wall_time),
                chunk.map((m) => m.value),
              ],
            );
            result.points += chunk.length;
            chunk = [];
          };
          for (const m of metrics as Iterable<Row>) {
            chunk.push(m);
            if (chunk.length >= CHUNK) await flush();
          }
          await flush();
          for (const s of db.prepare('SELECT * FROM metric_summary WHERE run_id = ?').all(rid) as Row[]) {
            await client.query(
              'INSERT INTO metric_summary (run_id, key, count, last_step, last, min, max) VALUES ($1, $2, $3, $4, $5, $6, $7)',
              [rid, s.key, s.count, s.last_step, s.last, s.min, s.max],
            );
          }
          for (const a of db.prepare('SELECT * FROM artifacts WHERE run_id = ?').all(rid) as Row[]) {
            await client.query(
              'INSERT INTO artifacts (run_id, name, kind, path, bytes, sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
              [rid, a.name, a.kind, a.path, a.bytes, a.sha256, a.created_at],
            );
          }
          for (const t of db.prepare('SELECT tag FROM tags WHERE run_id = ?').all(rid) as Row[]) {
            await client.query('INSERT INTO tags (run_id, tag) VALUES ($1, $2)', [rid, t.tag]);
          }
          for (const n of db
            .prepare('SELECT text, created_at FROM notes WHERE run_id = ? ORDER BY id')
            .all(rid) as Row[]) {
            await client.query('INSERT INTO notes (run_id, text, created_at) VALUES ($1, $2, $3)', [
              rid,
              n.text,
              n.created_at,
            ]);
          }
          // a queued run created over HTTP or IPC stays guarded wherever it is launched from now on
          const roots = db.prepare('SELECT roots FROM run_file_roots WHERE run_id = ?').get(rid) as
            { roots: string } | undefined;
          if (roots !== undefined) {
            await client.query('INSERT INTO run_file_roots (run_id, roots) VALUES ($1, $2::text[])', [
              rid,
              JSON.parse(roots.roots) as string[],
            ]);
          }
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new Error(`run ${id}: ${(err as Error).message} (nothing of this run was copied)`);
      }
      result.copied++;
      onProgress?.(++done, tops.length);
    }
  } finally {
    await client.end();
    src.close();
  }
  return result;
}
