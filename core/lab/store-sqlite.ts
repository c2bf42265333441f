// The RunStore on SQLite: the embedded Store (store.ts, better-sqlite3) behind the async contract. Every call
// runs synchronously inside the lab process and resolves at once; the behaviour is Store's, unchanged.
import type { RunQuery, RunStatus } from '../api/lab-api';
import { queryRuns } from './run-query';
import {
  STORED_RUN_COLUMNS,
  type RunEnding,
  type RunResult,
  type RunStore,
  type StoredRun,
} from './run-store';
import {
  DEFAULT_MIGRATIONS_DIR,
  Store,
  type ListFilter,
  type NewArtifact,
  type NewChildRun,
  type NewRun,
  type NewSweep,
} from './store';
import type { StoredMetricPoint } from './store';

export class SqliteRunStore implements RunStore {
  readonly engine = 'sqlite' as const;
  readonly location: string;
  readonly schemaVersion: number;

  constructor(
    readonly store: Store,
    file: string,
  ) {
    this.location = file;
    this.schemaVersion = store.schemaVersion;
  }

  /** Opens (creating and migrating) the SQLite file; see Store.open. */
  static open(file: string, migrationsDir: string = DEFAULT_MIGRATIONS_DIR): SqliteRunStore {
    return new SqliteRunStore(Store.open(file, migrationsDir), file);
  }

  async close(): Promise<void> {
    this.store.close();
  }

  async createRun(run: NewRun): Promise<void> {
    this.store.insertRun(run);
  }
  async createSweep(parent: NewSweep, children: readonly NewRun[]): Promise<void> {
    this.store.insertSweep(parent, children);
  }
  async sweepSpec(id: string) {
    return this.store.sweepSpec(id);
  }
  async cancelSweep(id: string, at: string) {
    return this.store.cancelSweep(id, at);
  }
  async createChildRun(run: NewChildRun): Promise<void> {
    this.store.insertChildRun(run);
  }
  async claimNext(startedAt: string, host: Record<string, unknown>, only?: readonly string[]) {
    return this.store.claimNext(startedAt, host, only);
  }
  async claimRun(id: string, startedAt: string, host: Record<string, unknown>) {
    return this.store.claimRun(id, startedAt, host);
  }
  async queuedIds() {
    return this.store.queuedIds();
  }
  async finishRun(id: string, status: RunStatus, at: string, error: string | null) {
    return this.store.finishRun(id, status, at, error);
  }
  async endRun(id: string, ending: RunEnding) {
    return this.store.endRun(id, ending);
  }
  async finishChild(id: string, result: RunResult, status: RunStatus, at: string, error: string | null) {
    return this.store.finishChild(id, result, status, at, error);
  }
  async setResult(id: string, r: RunResult) {
    this.store.setResult(id, r.summary, r.report, r.backend);
  }
  async setProgress(id: string, fraction: number, message: string | null, at: string) {
    this.store.setProgress(id, fraction, message, at);
  }
  async heartbeat(id: string, at: string) {
    this.store.heartbeat(id, at);
  }
  async requestCancel(id: string) {
    this.store.requestCancel(id);
  }
  async cancelRequested(ids: readonly string[]) {
    return this.store.cancelRequested([...ids]);
  }
  async interruptStale(cutoff: string, now: string, except: readonly string[] = [], retry = true) {
    return this.store.interruptStale(cutoff, now, except, retry);
  }

  async hasRun(id: string) {
    return this.store.hasRun(id);
  }
  async status(id: string) {
    return this.store.status(id);
  }
  async parentOf(id: string) {
    return this.store.parentOf(id);
  }
  async fileRoots(id: string) {
    return this.store.fileRoots(id);
  }
  async getSummary(id: string) {
    return this.store.getSummary(id);
  }
  async getDetail(id: string) {
    return this.store.getDetail(id);
  }
  async listRuns(filter: ListFilter = {}) {
    return this.store.listRuns(filter);
  }
  async countRuns(filter: ListFilter = {}) {
    return this.store.countRuns(filter);
  }
  async queryRuns(q: RunQuery, now?: string) {
    return queryRuns(this.store.db, q, (id) => this.store.getSummary(id), now);
  }
  async configs(ids: readonly string[]) {
    return this.store.configs(ids);
  }

  async setTags(id: string, tags: readonly string[]) {
    this.store.setTags(id, [...tags]);
  }
  async addNote(id: string, text: string, at: string) {
    return this.store.addNote(id, text, at);
  }
  async updateNote(runId: string, noteId: number, text: string) {
    return this.store.updateNote(runId, noteId, text);
  }
  async deleteNote(runId: string, noteId: number) {
    return this.store.deleteNote(runId, noteId);
  }
  async readStoredRun(id: string): Promise<StoredRun | undefined> {
    const db = this.store.db;
    const run = db.prepare(`SELECT ${STORED_RUN_COLUMNS.join(', ')} FROM runs WHERE id = ?`).get(id) as
      StoredRun['run'] | undefined;
    if (!run) return undefined;
    const metrics: StoredRun['metrics'] = {};
    const pts = db
      .prepare('SELECT step, wall_time, value FROM metrics WHERE run_id = ? AND key = ? ORDER BY step')
      .raw();
    for (const key of db
      .prepare('SELECT DISTINCT key FROM metrics WHERE run_id = ? ORDER BY key')
      .pluck()
      .all(id) as string[])
      metrics[key] = pts.all(id, key) as [number, number, number][];
    return {
      run,
      tags: db.prepare('SELECT tag FROM tags WHERE run_id = ? ORDER BY tag').pluck().all(id) as string[],
      notes: db
        .prepare('SELECT text, created_at FROM notes WHERE run_id = ? ORDER BY id')
        .all(id) as StoredRun['notes'],
      metricSummary: db
        .prepare(
          'SELECT key, count, last_step, last, min, max FROM metric_summary WHERE run_id = ? ORDER BY key',
        )
        .all(id) as StoredRun['metricSummary'],
      metrics,
      artifacts: db
        .prepare(
          'SELECT name, kind, path, bytes, sha256, created_at FROM artifacts WHERE run_id = ? ORDER BY name',
        )
        .all(id) as StoredRun['artifacts'],
    };
  }

  async insertStoredRuns(runs: readonly StoredRun[]): Promise<void> {
    const db = this.store.db;
    const insRun = db.prepare(
      `INSERT INTO runs (${STORED_RUN_COLUMNS.join(', ')}) VALUES (${STORED_RUN_COLUMNS.map((c) => '@' + c).join(', ')})`,
    );
    const insTag = db.prepare('INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)');
    const insNote = db.prepare('INSERT INTO notes (run_id, text, created_at) VALUES (?, ?, ?)');
    const insSummary = db.prepare(
      'INSERT INTO metric_summary (run_id, key, count, last_step, last, min, max) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const insPoint = db.prepare(
      'INSERT INTO metrics (run_id, key, step, wall_time, value) VALUES (?, ?, ?, ?, ?)',
    );
    const insArt = db.prepare(
      'INSERT INTO artifacts (run_id, name, kind, path, bytes, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    db.transaction(() => {
      for (const r of runs) {
        const id = r.run.id;
        insRun.run(r.run);
        for (const t of r.tags) insTag.run(id, t);
        for (const n of r.notes) insNote.run(id, n.text, n.created_at);
        for (const m of r.metricSummary)
          insSummary.run(id, m.key, m.count, m.last_step, m.last, m.min, m.max);
        for (const [key, pts] of Object.entries(r.metrics))
          for (const [step, wall, value] of pts) insPoint.run(id, key, step, wall, value);
        for (const a of r.artifacts) insArt.run(id, a.name, a.kind, a.path, a.bytes, a.sha256, a.created_at);
      }
    }).immediate();
  }
  async compareRows(ids: readonly string[]) {
    return this.store.compareRows(ids);
  }
  async notes(id: string) {
    return this.store.notes(id);
  }

  async appendMetrics(runId: string, points: readonly StoredMetricPoint[]) {
    return this.store.addMetrics(runId, points as StoredMetricPoint[]);
  }
  async metricSummaries(runId: string) {
    return this.store.metricSummaries(runId);
  }
  async points(runId: string, key: string) {
    return this.store.points(runId, key);
  }
  async series(runId: string, key: string, maxPoints: number) {
    return this.store.series(runId, key, maxPoints);
  }

  async addArtifact(runId: string, a: NewArtifact, at: string) {
    this.store.addArtifact(runId, a, at);
  }
  async artifacts(runId: string) {
    return this.store.artifacts(runId);
  }
  async artifactPath(runId: string, name: string) {
    return this.store.artifactPath(runId, name);
  }
}
