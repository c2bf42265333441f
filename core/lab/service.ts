// The LabService: owns the store and the scheduler, runs each job in its own process through a JobLauncher,
// writes what the worker streams (one transaction per metric batch) and forwards it as LabEvents.
// Node only; no Electron import (the desktop app passes its own launcher).
import { createHash, randomInt, randomUUID } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { z } from 'zod';
import {
  BundleExportRequestSchema,
  BundleImportRequestSchema,
  FileRootRequestSchema,
  MAX_BUNDLE_TRANSFER_BYTES,
  NoteDeleteRequestSchema,
  NoteUpdateRequestSchema,
  PdfRequestSchema,
  type BundleExportRequest,
  type BundleImportRequest,
  type BundleImportResult,
  type FileRootRequest,
  type FileRootsInfo,
  type NoteDeleteRequest,
  type NoteUpdateRequest,
  type PdfRequest,
  CompareRequestSchema,
  CreateRunRequestSchema,
  flattenConfig,
  ExportRequestSchema,
  LabError,
  ListRunsRequestSchema,
  RunQuerySchema,
  type RunQuery,
  type Calibration,
  type RunPage,
  NoteRequestSchema,
  RunConfigsRequestSchema,
  RunIdSchema,
  RunLogRequestSchema,
  type RunConfigFields,
  type RunConfigsRequest,
  type RunLog,
  type RunLogRequest,
  SeriesRequestSchema,
  TagsRequestSchema,
  configValueProblem,
  describeZodError,
  type Comparison,
  type CreateRunRequest,
  type ExportedFile,
  type ExportRequest,
  type KindInfo,
  type LabApi,
  type LabEvent,
  type ListRunsRequest,
  type NoteInfo,
  type RunDetail,
  type RunStatus,
  type RunSummary,
  type Series,
  type SeriesRequest,
  type TagsRequest,
  type NoteRequest,
  type CompareRequest,
} from '../api/lab-api';
import type { JobKind } from '../methods/job';
import { exportBundle, importBundle } from './bundle';
import { chromiumPrinter, pdfHeader, type PdfPrinter } from './export-pdf';
import {
  IMPORTS_DIR,
  SETTINGS_FILE,
  addFileRoot,
  checkConfigFiles,
  fileRoots,
  readSettings,
  removeFileRoot,
} from './file-roots';
import { queryRuns as queryRunPage } from './run-query';
import { checkDataFiles } from './data-file-check';
import { measureCalibration, readCalibration, writeCalibration } from './calibration';
import { codeVersion, hostInfo } from './host';
import { loadJobKinds } from './kinds';
import { ChildProcessLauncher, type JobLauncher, type JobProcess } from './launcher';
import { WorkerMessageSchema, type SerializedError, type WorkerMessage } from './protocol';
import { compareRuns, exportRuns } from './report';
import { readLogTail } from './run-log';
import { Store, isTerminal } from './store';

export interface OpenLabOptions {
  labDir: string;
  launcher?: JobLauncher;
  /** How many jobs run at once (default 1). */
  concurrency?: number;
  /** A `running` run whose heartbeat is older than this at open becomes `interrupted` (default 15 s). */
  heartbeatStaleMs?: number;
  /** Where NNN_name.sql files are; defaults to the repository's migrations/ (bundles pass their copy). */
  migrationsDir?: string;
  /** Overrides the job kinds (default: registry + QLAB_EXTRA_KINDS). */
  kinds?: Map<string, JobKind>;
  /** false: a passive lab that reads, writes tags/notes and cancels, but starts no job (default true). */
  schedule?: boolean;
  /**
   * false: start only runs created through this service, leaving runs queued by another lab process (e.g. a
   * live `qlab serve`) to their owner (default true: adopt every queued run in the store).
   */
  adoptQueued?: boolean;
  /**
   * Where best-effort failures go (a scratch folder that cannot be removed, a log that cannot be written):
   * one line each; default: `qlab: warning: …` on stderr. The lab keeps running either way.
   */
  onWarning?: (message: string) => void;
  /** Prints exportPdf's HTML (default: headless Chromium; the desktop app passes Electron's printToPDF). */
  pdfPrinter?: PdfPrinter;
  /**
   * Asks the user for a folder to add to the file roots (the desktop app's dialog); resolves with null when
   * dismissed. Without it (browser mode) pickFileRoot and removeFileRoot are refused: the roots are edited in
   * settings.json or with `qlab roots`.
   */
  pickFolder?: () => Promise<string | null>;
}

/** How often runs left `running` by a dead lab process are looked for, at most (also capped by staleMs / 2). */
const STALE_CHECK_MS = 5000;

/** How long a cancelled job gets to stop by itself before it is killed. */
const CANCEL_GRACE_MS = 800;
/** After `done`, a worker that does not exit by itself is ended. */
const DONE_GRACE_MS = 500;
const POLL_MS = 250;
const DEFAULT_MAX_POINTS = 500;
/** Log lines getRunLog returns unless asked for fewer or more. */
const DEFAULT_LOG_LINES = 1000;

interface ActiveRun {
  id: string;
  proc: JobProcess;
  workDir: string;
  cancelRequested: boolean;
  /** Set by close(): the run ends `interrupted`. */
  closing: boolean;
  /** A reason found by the parent (invalid message, bad artifact, store error); the run fails with it. */
  failure: string | null;
  failed: SerializedError | null;
  gotResult: boolean;
  gotDone: boolean;
  stderrTail: string;
  /** Child runs started by this job and not yet ended, and those it has ended. */
  openChildren: Set<string>;
  endedChildren: Set<string>;
  timers: ReturnType<typeof setTimeout>[];
  exited: Promise<void>;
  markExited: () => void;
}

function now(): string {
  return new Date().toISOString();
}

function parseRequest<T>(schema: z.ZodType<T>, value: unknown, root = ''): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const { message, field } = describeZodError(r.error, root);
    throw new LabError('invalid', message, field);
  }
  return r.data;
}

export class LabService implements LabApi {
  private readonly active = new Map<string, ActiveRun>();
  private readonly listeners = new Set<(event: LabEvent) => void>();
  private readonly waiters = new Map<string, ((s: RunSummary) => void)[]>();
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private staleTimer: ReturnType<typeof setInterval> | undefined;
  private logWarned = false;
  private closed = false;
  /** Set by openLab from its options. */
  warn: (message: string) => void = (m) => process.stderr.write(`qlab: warning: ${m}\n`);
  /** Runs created here; when adoptQueued is off, the only ones this service starts. */
  private readonly created = new Set<string>();
  /** Set by openLab from its options. */
  scheduling = { enabled: true, adoptQueued: true };
  /** Set by openLab from its options (null: headless Chromium, made on first use). */
  pdfPrinter: PdfPrinter | null = null;
  /** Set by openLab from its options (null: file roots are not editable through the LabApi). */
  pickFolder: (() => Promise<string | null>) | null = null;
  /**
   * Runs created here over HTTP or IPC whose config names files: the roots their job must open them under
   * (sent with the start message). In memory: a run such a lab leaves queued and another process starts is
   * not guarded in its job (its paths were still checked and made real at creation).
   */
  private readonly guardedRuns = new Map<string, string[]>();
  /** PDFs are printed one at a time (each print starts a browser). */
  private pdfQueue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly labDir: string,
    private readonly store: Store,
    private readonly kinds: Map<string, JobKind>,
    private readonly launcher: JobLauncher,
    private readonly concurrency: number,
    private readonly heartbeatMs: number,
  ) {}

  // ---- LabApi ----

  async listKinds(): Promise<KindInfo[]> {
    return [...this.kinds.values()].map((k) => ({
      kind: k.kind,
      title: k.title,
      description: k.description,
      defaults: k.defaults,
    }));
  }

  async listRuns(req?: ListRunsRequest): Promise<RunSummary[]> {
    const filter = parseRequest(ListRunsRequestSchema, req ?? {});
    return this.store.listRuns(filter);
  }

  async queryRuns(req: RunQuery): Promise<RunPage> {
    const q = parseRequest(RunQuerySchema, req ?? {});
    return queryRunPage(this.store.db, q, (id) => this.store.getSummary(id));
  }

  async getCalibration(): Promise<Calibration | null> {
    return readCalibration(this.labDir);
  }

  /** One measurement at a time: a second request while one runs gets the same result. */
  #calibrating: Promise<Calibration> | null = null;
  async calibrate(): Promise<Calibration> {
    this.assertOpen();
    this.#calibrating ??= measureCalibration()
      .then((c) => {
        writeCalibration(this.labDir, c);
        return c;
      })
      .finally(() => {
        this.#calibrating = null;
      });
    return this.#calibrating;
  }

  async getRun(id: string): Promise<RunDetail> {
    const runId = parseRequest(RunIdSchema, id, 'id');
    const detail = this.store.getDetail(runId);
    if (!detail) throw new LabError('not-found', `id: no run ${runId}`, 'id');
    // A row always pointed at a complete file; say so when the file has since gone.
    for (const x of detail.artifacts) {
      const p = this.artifactFile(runId, x.name);
      if (p === undefined || !existsSync(p)) x.missing = true;
    }
    return detail;
  }

  /**
   * `localFiles`: the caller is a local user naming their own files (the CLI), so file fields are not
   * checked against the lab's file roots. Requests over HTTP or IPC never set it (dispatch passes one argument).
   */
  async createRun(req: CreateRunRequest, opts: { localFiles?: boolean } = {}): Promise<RunSummary> {
    this.assertOpen();
    const r = parseRequest(CreateRunRequestSchema, req);
    const bad = configValueProblem(r.config);
    if (bad) throw new LabError('invalid', `${bad.field}: ${bad.message}`, bad.field);
    const kind = this.kinds.get(r.kind);
    if (!kind) {
      const known = [...this.kinds.keys()].join(', ') || 'none';
      throw new LabError('invalid', `kind: unknown job kind "${r.kind}" (known: ${known})`, 'kind');
    }
    // Round-trip through JSON now so what runs is exactly what is stored.
    const config = JSON.parse(JSON.stringify(parseRequest(kind.schema, r.config, 'config'))) as unknown;
    const roots = opts.localFiles !== true ? checkConfigFiles(this.labDir, kind, config) : null;
    // The data files themselves (readable, regular, their columns there), now rather than when the run starts.
    checkDataFiles(kind, config, opts.localFiles === true ? process.cwd() : join(this.labDir, IMPORTS_DIR));
    const id = randomUUID();
    if (roots !== null) {
      // runs another process ended or took meanwhile never reach this process's settled()
      for (const other of this.guardedRuns.keys()) {
        if (!this.active.has(other) && this.store.status(other) !== 'queued') this.guardedRuns.delete(other);
      }
      this.guardedRuns.set(id, roots);
    }
    this.store.insertRun({
      id,
      kind: kind.kind,
      name: r.name?.trim() || `${kind.kind}-${id.slice(0, 8)}`,
      config,
      seed: r.seed ?? randomInt(0, 2 ** 32),
      createdAt: now(),
      codeVersion: codeVersion(),
      tags: [...new Set(r.tags ?? [])],
    });
    this.created.add(id);
    const summary = this.summaryOrThrow(id);
    this.emit({ type: 'run-created', run: summary });
    setImmediate(() => this.pump());
    return summary;
  }

  async cancelRun(id: string): Promise<RunSummary> {
    const runId = parseRequest(RunIdSchema, id, 'id');
    const status = this.store.status(runId);
    if (status === undefined) throw new LabError('not-found', `id: no run ${runId}`, 'id');
    if (isTerminal(status)) throw new LabError('conflict', `run ${runId} has already ${status}`, 'id');
    const parentId = this.store.parentOf(runId);
    if (parentId) {
      // A child is one point of its parent's job; only the whole job can be stopped.
      throw new LabError(
        'conflict',
        `run ${runId} is a child of run ${parentId}; cancel the parent to stop it`,
        'id',
      );
    }
    if (
      status === 'queued' &&
      this.store.finishRun(runId, 'cancelled', now(), 'cancelled before it started')
    ) {
      this.settled(runId);
      return this.summaryOrThrow(runId);
    }
    const a = this.active.get(runId);
    if (a) {
      this.startCancel(a);
      await a.exited;
      return this.summaryOrThrow(runId);
    }
    // Running in another process: ask its owner through the store, or close it if the owner is gone.
    const detail = this.store.getDetail(runId);
    const beat = detail?.heartbeatAt ? Date.parse(detail.heartbeatAt) : 0;
    if (Date.now() - beat > this.heartbeatMs * 5) {
      const ended = this.endRun(runId, 'cancelled', 'cancelled; its lab process was no longer running');
      for (const c of ended) this.settled(c);
      this.settled(runId);
      return this.summaryOrThrow(runId);
    }
    this.store.requestCancel(runId);
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && !isTerminal(this.store.status(runId) ?? 'failed')) {
      await new Promise((r) => setTimeout(r, 100));
    }
    return this.summaryOrThrow(runId);
  }

  async getSeries(req: SeriesRequest): Promise<Series> {
    const r = parseRequest(SeriesRequestSchema, req);
    if (!this.store.hasRun(r.runId)) throw new LabError('not-found', `runId: no run ${r.runId}`, 'runId');
    return this.store.series(r.runId, r.key, r.maxPoints ?? DEFAULT_MAX_POINTS);
  }

  async compareRuns(req: CompareRequest): Promise<Comparison> {
    const r = parseRequest(CompareRequestSchema, req);
    // One batched read for all the runs (a 1,000-run sweep), not a full detail each.
    const rows = this.store.compareRows(r.ids);
    return compareRuns(
      rows.map((row, i) => {
        if (!row) throw new LabError('not-found', `ids[${i}]: no run ${r.ids[i]}`, `ids[${i}]`);
        return row;
      }),
    );
  }

  async exportRuns(req: ExportRequest): Promise<ExportedFile> {
    const r = parseRequest(ExportRequestSchema, req);
    return exportRuns(r.format, {
      runs: this.details(r.ids),
      points: (runId, key) => this.store.points(runId, key),
      series: (runId, key, maxPoints) => this.store.series(runId, key, maxPoints),
    });
  }

  async setTags(req: TagsRequest): Promise<RunSummary> {
    const r = parseRequest(TagsRequestSchema, req);
    if (!this.store.hasRun(r.runId)) throw new LabError('not-found', `runId: no run ${r.runId}`, 'runId');
    this.store.setTags(r.runId, [...new Set(r.tags)]);
    const summary = this.summaryOrThrow(r.runId);
    this.emit({ type: 'run-updated', run: summary });
    return summary;
  }

  async addNote(req: NoteRequest): Promise<NoteInfo> {
    const r = parseRequest(NoteRequestSchema, req);
    if (!this.store.hasRun(r.runId)) throw new LabError('not-found', `runId: no run ${r.runId}`, 'runId');
    return this.store.addNote(r.runId, r.text, now());
  }

  async updateNote(req: NoteUpdateRequest): Promise<NoteInfo> {
    const r = parseRequest(NoteUpdateRequestSchema, req);
    if (!this.store.hasRun(r.runId)) throw new LabError('not-found', `runId: no run ${r.runId}`, 'runId');
    const note = this.store.updateNote(r.runId, r.noteId, r.text);
    if (!note) throw new LabError('not-found', `noteId: run ${r.runId} has no note ${r.noteId}`, 'noteId');
    return note;
  }

  async deleteNote(req: NoteDeleteRequest): Promise<{ runId: string; noteId: number }> {
    const r = parseRequest(NoteDeleteRequestSchema, req);
    if (!this.store.hasRun(r.runId)) throw new LabError('not-found', `runId: no run ${r.runId}`, 'runId');
    if (!this.store.deleteNote(r.runId, r.noteId))
      throw new LabError('not-found', `noteId: run ${r.runId} has no note ${r.noteId}`, 'noteId');
    return { runId: r.runId, noteId: r.noteId };
  }

  async exportPdf(req: PdfRequest): Promise<ExportedFile> {
    const r = parseRequest(PdfRequestSchema, req);
    const runs = this.details(r.ids);
    const html = await this.exportRuns({ ids: r.ids, format: 'html' });
    const printer = (this.pdfPrinter ??= chromiumPrinter());
    const job = this.pdfQueue.then(() => printer.print(html.content, pdfHeader(runs)));
    this.pdfQueue = job.catch(() => undefined);
    let bytes: Uint8Array;
    try {
      bytes = await job;
    } catch (err) {
      throw new LabError('internal', `cannot print the PDF: ${(err as Error).message.split('\n')[0]}`);
    }
    return {
      filename: html.filename.replace(/\.html?$/, '') + '.pdf',
      mimeType: 'application/pdf',
      content: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
      encoding: 'base64',
    };
  }

  async exportBundle(req: BundleExportRequest): Promise<ExportedFile> {
    const r = parseRequest(BundleExportRequestSchema, req);
    const dir = mkdtempSync(join(tmpdir(), 'qlab-bundle-'));
    try {
      const out = join(dir, 'runs.qlab');
      const res = exportBundle(this.store, this.labDir, [...new Set(r.ids)], out);
      if (res.bytes > MAX_BUNDLE_TRANSFER_BYTES) {
        throw new LabError(
          'invalid',
          `ids: the bundle is ${res.bytes} bytes, over the ${MAX_BUNDLE_TRANSFER_BYTES}-byte limit for a download; use 'qlab bundle export <id…> --out FILE'`,
          'ids',
        );
      }
      const stamp = now().slice(0, 10);
      return {
        filename: `qlab-${res.runIds.length === 1 ? res.runIds[0].slice(0, 8) : `${res.runIds.length}-runs`}-${stamp}.qlab`,
        mimeType: 'application/octet-stream',
        content: readFileSync(out).toString('base64'),
        encoding: 'base64',
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async importBundle(req: BundleImportRequest): Promise<BundleImportResult> {
    this.assertOpen();
    const r = parseRequest(BundleImportRequestSchema, req);
    const name = r.filename ?? 'the uploaded bundle';
    const dir = mkdtempSync(join(tmpdir(), 'qlab-upload-'));
    const file = join(dir, 'upload.qlab');
    try {
      writeFileSync(file, Buffer.from(r.data, 'base64'));
      let res: BundleImportResult;
      try {
        res = importBundle(this.store, this.labDir, file);
      } catch (err) {
        // bundle.ts names the file it read: name the upload instead of a temporary path
        if (err instanceof LabError)
          throw new LabError(err.code, err.message.split(file).join(name), err.field ?? 'bundle');
        throw err;
      }
      for (const id of res.imported) {
        const s = this.store.getSummary(id);
        if (s) this.emit({ type: 'run-created', run: s });
      }
      return { imported: res.imported, skipped: res.skipped, artifacts: res.artifacts };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async getFileRoots(): Promise<FileRootsInfo> {
    const listed = readSettings(this.labDir).fileRoots;
    return {
      roots: [
        { path: join(this.labDir, IMPORTS_DIR), source: 'imports', exists: true },
        ...listed.map((p) => ({
          path: p,
          source: 'settings' as const,
          exists: statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false,
        })),
      ],
      editable: this.pickFolder !== null,
      settingsFile: join(this.labDir, SETTINGS_FILE),
    };
  }

  async pickFileRoot(): Promise<FileRootsInfo> {
    const pick = this.fileRootEditor();
    const dir = await pick();
    if (dir !== null) addFileRoot(this.labDir, dir);
    return this.getFileRoots();
  }

  async removeFileRoot(req: FileRootRequest): Promise<FileRootsInfo> {
    const r = parseRequest(FileRootRequestSchema, req);
    this.fileRootEditor();
    removeFileRoot(this.labDir, r.path);
    return this.getFileRoots();
  }

  /** The folder dialog; refused where there is none (browser mode: a page must not widen what it may read). */
  private fileRootEditor(): () => Promise<string | null> {
    if (this.pickFolder === null) {
      throw new LabError(
        'conflict',
        `file roots are chosen in the desktop app; here list them in ${join(this.labDir, SETTINGS_FILE)} ("fileRoots") or with 'qlab roots add <folder>'`,
        'fileRoots',
      );
    }
    return this.pickFolder;
  }

  async getRunConfigs(req: RunConfigsRequest): Promise<RunConfigFields[]> {
    const r = parseRequest(RunConfigsRequestSchema, req);
    return this.store
      .configs([...new Set(r.ids)])
      .map((row) => ({ runId: row.id, fields: flattenConfig(JSON.parse(row.config) as unknown) }));
  }

  async getRunLog(req: RunLogRequest): Promise<RunLog> {
    const r = parseRequest(RunLogRequestSchema, req);
    if (!this.store.hasRun(r.runId)) throw new LabError('not-found', `runId: no run ${r.runId}`, 'runId');
    try {
      const tail = readLogTail(join(this.labDir, 'logs', `${r.runId}.log`), r.maxLines ?? DEFAULT_LOG_LINES);
      return { runId: r.runId, ...tail };
    } catch (err) {
      throw new LabError('internal', `could not read the log of run ${r.runId}: ${(err as Error).message}`);
    }
  }

  onEvent(listener: (event: LabEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- beyond LabApi ----

  /** Resolves with the run's summary once it is succeeded, failed, cancelled or interrupted. */
  async waitForRun(id: string): Promise<RunSummary> {
    const runId = parseRequest(RunIdSchema, id, 'id');
    const summary = this.store.getSummary(runId);
    if (!summary) throw new LabError('not-found', `id: no run ${runId}`, 'id');
    if (isTerminal(summary.status) || this.closed) return summary;
    return new Promise((resolveWait) => {
      const list = this.waiters.get(runId) ?? [];
      list.push(resolveWait);
      this.waiters.set(runId, list);
      this.ensurePolling();
    });
  }

  /** Path of a stored artifact file, for shells that serve or open it. */
  artifactFile(runId: string, name: string): string | undefined {
    const rel = this.store.artifactPath(runId, name);
    return rel === undefined ? undefined : join(this.labDir, rel);
  }

  /** Stops scheduling, ends running jobs (their runs become `interrupted`) and closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const running = [...this.active.values()];
    for (const a of running) {
      a.closing = true;
      a.proc.kill('SIGKILL');
    }
    let grace: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(running.map((a) => a.exited)),
      new Promise((r) => (grace = setTimeout(r, 3000))),
    ]);
    clearTimeout(grace);
    for (const a of [...this.active.values()]) this.finalize(a, null, 'SIGKILL');
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    clearInterval(this.staleTimer);
    this.staleTimer = undefined;
    for (const [id, list] of this.waiters) {
      const s = this.store.getSummary(id);
      if (s) list.forEach((w) => w(s));
    }
    this.waiters.clear();
    this.listeners.clear();
    this.store.close();
  }

  // ---- start-up and scheduling ----

  /** Marks runs left `running` by a dead lab as interrupted. */
  recoverStale(staleMs: number): string[] {
    const cutoff = new Date(Date.now() - staleMs).toISOString();
    return this.store.interruptStale(cutoff, now(), [...this.active.keys()]);
  }

  /**
   * Looks for stale runs again every min(5 s, staleMs / 2): a lab restarted soon after another one was killed
   * finds that one's runs still fresh at open, and they must not stay `running` for good.
   */
  watchStale(staleMs: number): void {
    if (this.staleTimer !== undefined) return;
    const every = Math.max(50, Math.min(STALE_CHECK_MS, Math.floor(staleMs / 2)));
    this.staleTimer = setInterval(() => {
      if (this.closed) return;
      this.guard('checking for stale runs', () => {
        const ids = this.recoverStale(staleMs);
        for (const id of ids) {
          this.warn(`run ${id} had no heartbeat for ${staleMs} ms; its lab process is gone: interrupted`);
          this.removeWorkDir(id);
          this.settled(id);
        }
      });
    }, every);
    this.staleTimer.unref();
  }

  /** Removes scratch folders (`work/<id>`) no live run owns: left behind by a lab process that was killed. */
  cleanOrphanedWorkDirs(): void {
    const root = join(this.labDir, 'work');
    let names: string[];
    try {
      names = readdirSync(root);
    } catch {
      return; // no work/ yet
    }
    for (const name of names) {
      let status: RunStatus | undefined;
      try {
        status = this.store.status(name);
      } catch {
        status = undefined; // not a run id
      }
      if (status === 'running' || status === 'queued' || this.active.has(name)) continue;
      this.removeWorkDir(name);
    }
  }

  /** Best effort: a folder that cannot be removed is a warning, never the end of the lab. */
  private removeWorkDir(id: string): void {
    const dir = join(this.labDir, 'work', id);
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      this.warn(`could not remove the scratch folder ${dir}: ${(err as Error).message}`);
    }
  }

  /** Runs `fn`; an exception is logged as a warning instead of reaching the event loop (and ending the process). */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.warn(`${what} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Starts queued runs, oldest first, up to the concurrency limit. */
  pump(): void {
    if (!this.scheduling.enabled) return;
    while (!this.closed && this.active.size < this.concurrency) {
      const next = this.store
        .queuedIds()
        .find((id) => !this.active.has(id) && (this.scheduling.adoptQueued || this.created.has(id)));
      if (next === undefined) return;
      if (!this.store.claimRun(next, now(), hostInfo())) continue;
      this.launch(next);
    }
  }

  private launch(id: string): void {
    const detail = this.store.getDetail(id);
    if (!detail) return;
    if (!this.kinds.has(detail.kind)) {
      this.store.finishRun(id, 'failed', now(), `kind: this lab has no job kind "${detail.kind}"`);
      this.settled(id);
      return;
    }
    const workDir = join(this.labDir, 'work', id);
    let proc: JobProcess;
    try {
      proc = this.launcher.spawn();
    } catch (err) {
      this.store.finishRun(id, 'failed', now(), `could not start the job process: ${(err as Error).message}`);
      this.settled(id);
      return;
    }
    let markExited = () => undefined as void;
    const exited = new Promise<void>((r) => (markExited = r));
    const a: ActiveRun = {
      id,
      proc,
      workDir,
      cancelRequested: false,
      closing: false,
      failure: null,
      failed: null,
      gotResult: false,
      gotDone: false,
      stderrTail: '',
      openChildren: new Set(),
      endedChildren: new Set(),
      timers: [],
      exited,
      markExited,
    };
    this.active.set(id, a);
    proc.onOutput?.((stream, text) => {
      if (stream === 'stderr') a.stderrTail = (a.stderrTail + text).slice(-2000);
      for (const line of text.split('\n')) {
        if (line.trim()) this.log(id, stream === 'stderr' ? 'warn' : 'info', line);
      }
    });
    proc.onMessage((m) => this.onWorkerMessage(a, detail, m));
    proc.onExit((code, signal) => this.finalize(a, code, signal));
    this.ensurePolling();
    this.emitUpdated(id);
  }

  private onWorkerMessage(a: ActiveRun, run: RunDetail, raw: unknown): void {
    if (!this.active.has(a.id)) return;
    const parsed = WorkerMessageSchema.safeParse(raw);
    if (!parsed.success) {
      this.abortRun(a, `the job process sent an invalid message (${describeZodError(parsed.error).message})`);
      return;
    }
    try {
      this.handle(a, run, parsed.data);
    } catch (err) {
      this.abortRun(
        a,
        `the lab could not record the job's ${parsed.data.type} message: ${(err as Error).message}`,
      );
    }
  }

  private handle(a: ActiveRun, run: RunDetail, msg: WorkerMessage): void {
    switch (msg.type) {
      case 'ready':
        if (a.cancelRequested) return;
        a.proc.send({
          type: 'start',
          runId: run.id,
          kind: run.kind,
          config: run.config,
          seed: run.seed,
          workDir: a.workDir,
          labDir: this.labDir,
          heartbeatMs: this.heartbeatMs,
          ...(this.guardedRuns.has(run.id) ? { fileRoots: this.guardedRuns.get(run.id) } : {}),
        });
        this.guardedRuns.delete(run.id);
        return;
      case 'progress': {
        const target = this.target(a, msg.runId, 'progress');
        this.store.setProgress(target, msg.fraction, msg.message, now());
        this.emitUpdated(target);
        return;
      }
      case 'metrics': {
        const target = this.target(a, msg.runId, 'metrics');
        const inserted = this.store.addMetrics(target, msg.points);
        if (inserted.length < msg.points.length) {
          this.log(target, 'warn', `${msg.points.length - inserted.length} repeated metric step(s) ignored`);
        }
        if (inserted.length > 0) {
          this.emit({
            type: 'metrics',
            runId: target,
            points: inserted.map((p) => ({ key: p.key, step: p.step, value: p.value })),
          });
        }
        return;
      }
      case 'log':
        this.log(this.target(a, msg.runId, 'log'), msg.level, msg.message);
        return;
      case 'child-start': {
        if (msg.kind !== run.kind && !msg.kind.startsWith(`${run.kind}/`)) {
          throw new Error(
            `child ${msg.childId}: kind "${msg.kind}" is neither the parent's kind "${run.kind}" nor "${run.kind}/…"`,
          );
        }
        if (
          a.openChildren.has(msg.childId) ||
          a.endedChildren.has(msg.childId) ||
          this.store.hasRun(msg.childId)
        ) {
          throw new Error(`child ${msg.childId}: a run with this id already exists`);
        }
        this.store.insertChildRun({
          id: msg.childId,
          parentId: a.id,
          kind: msg.kind,
          name: msg.name,
          config: msg.config,
          seed: msg.seed,
          at: now(),
          codeVersion: run.codeVersion,
          host: run.host,
        });
        a.openChildren.add(msg.childId);
        this.emitCreated(msg.childId);
        this.emitUpdated(a.id);
        return;
      }
      case 'child-end': {
        const child = this.target(a, msg.childId, 'child-end');
        this.store.db.transaction(() => {
          this.store.setResult(child, msg.result.summary, msg.result.report, msg.result.backend);
          this.store.finishRun(
            child,
            msg.status,
            now(),
            msg.status === 'failed' ? (msg.error ?? 'failed') : null,
          );
        })();
        a.openChildren.delete(child);
        a.endedChildren.add(child);
        this.settled(child);
        return;
      }
      case 'artifact':
        this.acceptArtifact(a, msg);
        return;
      case 'heartbeat':
        this.store.heartbeat(a.id, now());
        return;
      case 'result':
        this.store.setResult(a.id, msg.result.summary, msg.result.report, msg.result.backend);
        a.gotResult = true;
        return;
      case 'failed':
        a.failed = msg.error;
        if (msg.error.stack) this.log(a.id, 'error', msg.error.stack);
        return;
      case 'done':
        a.gotDone = true;
        a.timers.push(setTimeout(() => a.proc.kill('SIGKILL'), DONE_GRACE_MS));
        return;
    }
  }

  /** The run a message is about: the job's own run, or one of its open children (anything else fails the run). */
  private target(a: ActiveRun, childId: string | undefined, what: string): string {
    if (childId === undefined) return a.id;
    if (a.openChildren.has(childId)) return childId;
    if (a.endedChildren.has(childId))
      throw new Error(`${what} for child ${childId}, which has already ended`);
    throw new Error(`${what} for an unknown child run ${childId} (no child-start came for it)`);
  }

  /** Checks the worker's temp file (inside this run's folder, size, hash), renames it, then records the row. */
  private acceptArtifact(a: ActiveRun, msg: Extract<WorkerMessage, { type: 'artifact' }>): void {
    const dir = resolve(this.labDir, 'artifacts', a.id);
    const tmp = resolve(msg.tmpPath);
    if (dirname(tmp) !== dir || !basename(tmp).startsWith('.tmp-')) {
      throw new Error(`artifact ${msg.name}: temp file ${msg.tmpPath} is not in the run's artifact folder`);
    }
    if (!existsSync(tmp)) throw new Error(`artifact ${msg.name}: temp file ${msg.tmpPath} does not exist`);
    const bytes = statSync(tmp).size;
    if (bytes !== msg.bytes)
      throw new Error(`artifact ${msg.name}: ${bytes} bytes on disk, ${msg.bytes} announced`);
    const sha256 = createHash('sha256').update(readFileSync(tmp)).digest('hex');
    if (sha256 !== msg.sha256) throw new Error(`artifact ${msg.name}: sha256 does not match the file`);
    const final = join(dir, msg.name);
    renameSync(tmp, final);
    const rel = relative(this.labDir, final).split(sep).join('/');
    this.store.addArtifact(a.id, { name: msg.name, kind: msg.kind, path: rel, bytes, sha256 }, now());
  }

  private abortRun(a: ActiveRun, reason: string): void {
    if (a.failure === null) a.failure = reason;
    a.proc.kill('SIGKILL');
  }

  private startCancel(a: ActiveRun): void {
    if (a.cancelRequested) return;
    a.cancelRequested = true;
    a.proc.send({ type: 'cancel' });
    a.timers.push(setTimeout(() => a.proc.kill('SIGKILL'), CANCEL_GRACE_MS));
  }

  /**
   * The job process is gone: decide the run's final status from what it said before it went. Never throws:
   * it runs from a process-exit callback in the lab's (or Electron's main) process, where an exception would
   * end the whole lab; what it cannot finish is logged as a warning.
   */
  private finalize(a: ActiveRun, code: number | null, signal: string | null): void {
    if (this.active.get(a.id) !== a) return;
    this.active.delete(a.id);
    a.timers.forEach(clearTimeout);
    try {
      this.guard(`finishing run ${a.id}`, () => this.finish(a, code, signal));
      if (!this.closed || a.closing) this.removeWorkDir(a.id);
    } finally {
      a.markExited();
      if (!this.closed) setImmediate(() => this.guard('starting queued runs', () => this.pump()));
    }
  }

  private finish(a: ActiveRun, code: number | null, signal: string | null): void {
    let status: RunStatus;
    let error: string | null = null;
    if (a.closing) {
      status = 'interrupted';
      error = 'the lab was closed while this run was running';
    } else if (a.cancelRequested) {
      status = 'cancelled';
    } else if (a.failure !== null) {
      status = 'failed';
      error = a.failure;
    } else if (a.failed !== null) {
      status = 'failed';
      error =
        a.failed.name && a.failed.name !== 'Error'
          ? `${a.failed.name}: ${a.failed.message}`
          : a.failed.message;
    } else if (a.gotResult && (a.gotDone || code === 0)) {
      status = 'succeeded';
      const lost = this.lostFiles(a.id);
      if (lost !== null) {
        status = 'failed';
        error = lost;
        this.warn(`run ${a.id}: ${lost}`);
      }
    } else {
      status = 'failed';
      const how = signal ? `was killed by signal ${signal}` : `exited with code ${code ?? 'unknown'}`;
      const tail = a.stderrTail.trim().split('\n').slice(-3).join(' | ');
      error = `the job process ${how} before reporting a result${tail ? ` (stderr: ${tail.slice(-500)})` : ''}`;
    }
    if (!this.closed || a.closing) {
      const ended = this.endRun(a.id, status, error);
      if (!a.closing) {
        for (const c of ended) this.settled(c);
        this.settled(a.id);
      }
    }
  }

  /** Why a run that reported success lost what it wrote (lab folder or artifact files deleted), or null. */
  private lostFiles(id: string): string | null {
    if (!existsSync(join(this.labDir, 'lab.sqlite'))) {
      return `the lab directory ${this.labDir} (or its lab.sqlite) was deleted while this run was running`;
    }
    const missing = this.store
      .artifacts(id)
      .filter((x) => {
        const p = this.artifactFile(id, x.name);
        return p === undefined || !existsSync(p);
      })
      .map((x) => x.name);
    return missing.length === 0
      ? null
      : `artifact file(s) ${missing.join(', ')} were deleted while this run was running`;
  }

  /**
   * Gives a top-level run its terminal status and its unfinished children theirs, in one transaction; returns
   * the children it ended. Children live inside their parent's job, so they end with it; a parent that
   * succeeded without ending a child leaves that child unfinished, which is the child's failure.
   */
  private endRun(id: string, status: RunStatus, error: string | null): string[] {
    const at = now();
    return this.store.db.transaction(() => {
      this.store.finishRun(id, status, at, error);
      const childStatus: RunStatus = status === 'succeeded' ? 'failed' : status;
      const reason =
        status === 'succeeded'
          ? "the parent's job ended without finishing this child"
          : `its parent run ${status}${error ? `: ${error}` : ''}`;
      return this.store.finishChildren(id, childStatus, at, reason.slice(0, 20_000));
    })();
  }

  // ---- events and waiting ----

  private settled(id: string): void {
    // every final state passes here (cancelled while queued, a launch that failed, a job's end)
    this.guardedRuns.delete(id);
    const summary = this.store.getSummary(id);
    if (!summary) return;
    this.emit({ type: 'run-updated', run: summary });
    const list = this.waiters.get(id);
    if (list) {
      this.waiters.delete(id);
      list.forEach((w) => w(summary));
    }
  }

  /** One timer serves cross-process cancel requests and waits on runs owned by another process. */
  private ensurePolling(): void {
    if (this.pollTimer !== undefined || this.closed) return;
    this.pollTimer = setInterval(() => {
      if (this.active.size === 0 && this.waiters.size === 0) {
        clearInterval(this.pollTimer);
        this.pollTimer = undefined;
        return;
      }
      try {
        for (const id of this.store.cancelRequested([...this.active.keys()])) {
          const a = this.active.get(id);
          if (a) this.startCancel(a);
        }
        for (const id of [...this.waiters.keys()]) {
          const status = this.store.status(id);
          if (status === undefined || isTerminal(status)) this.settled(id);
        }
      } catch {
        // the store was closed under us; close() resolves the waiters
      }
    }, POLL_MS);
  }

  private log(runId: string, level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
    try {
      const dir = join(this.labDir, 'logs');
      mkdirSync(dir, { recursive: true });
      appendFileSync(join(dir, `${runId}.log`), `${now()} ${level} ${message}\n`);
    } catch (err) {
      // a full disk must not take the run down with it; the event below still goes out
      if (!this.logWarned) this.warn(`could not write the run log of ${runId}: ${(err as Error).message}`);
      this.logWarned = true;
    }
    this.emit({ type: 'log', runId, level, message });
  }

  private emitCreated(id: string): void {
    const s = this.store.getSummary(id);
    if (s) this.emit({ type: 'run-created', run: s });
  }

  private emitUpdated(id: string): void {
    const s = this.store.getSummary(id);
    if (s) this.emit({ type: 'run-updated', run: s });
  }

  private emit(event: LabEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // one broken listener must not stop the others or the run
      }
    }
  }

  private summaryOrThrow(id: string): RunSummary {
    const s = this.store.getSummary(id);
    if (!s) throw new LabError('not-found', `id: no run ${id}`, 'id');
    return s;
  }

  private details(ids: string[]): RunDetail[] {
    return ids.map((id, i) => {
      const d = this.store.getDetail(id);
      if (!d) throw new LabError('not-found', `ids[${i}]: no run ${id}`, `ids[${i}]`);
      return d;
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new LabError('conflict', 'the lab is closed');
  }
}

export async function openLab(opts: OpenLabOptions): Promise<LabService> {
  const labDir = resolve(opts.labDir);
  const concurrency = opts.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new LabError(
      'invalid',
      `concurrency: must be a positive integer, got ${concurrency}`,
      'concurrency',
    );
  }
  const staleMs = opts.heartbeatStaleMs ?? 15_000;
  const kinds = opts.kinds ?? (await loadJobKinds());
  let existing;
  try {
    existing = statSync(labDir, { throwIfNoEntry: false });
  } catch {
    throw new LabError(
      'invalid',
      `cannot create the lab directory ${labDir}: a part of its path is a file, not a folder`,
      'labDir',
    );
  }
  if (existing && !existing.isDirectory()) {
    throw new LabError('invalid', `lab directory ${labDir} exists and is not a folder`, 'labDir');
  }
  try {
    mkdirSync(labDir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'EEXIST' || code === 'ENOTDIR'
        ? 'a part of its path is a file, not a folder'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : (code ?? (e as Error).message);
    throw new LabError('invalid', `cannot create the lab directory ${labDir}: ${why}`, 'labDir');
  }
  const store = Store.open(join(labDir, 'lab.sqlite'), opts.migrationsDir);
  // Heartbeats come several times per stale period, so a live run is never taken for a dead one.
  const heartbeatMs = Math.max(50, Math.min(2000, Math.floor(staleMs / 4)));
  const service = new LabService(
    labDir,
    store,
    kinds,
    opts.launcher ?? new ChildProcessLauncher(),
    concurrency,
    heartbeatMs,
  );
  service.scheduling = { enabled: opts.schedule ?? true, adoptQueued: opts.adoptQueued ?? true };
  if (opts.onWarning) service.warn = opts.onWarning;
  if (opts.pdfPrinter) service.pdfPrinter = opts.pdfPrinter;
  if (opts.pickFolder) service.pickFolder = opts.pickFolder;
  service.recoverStale(staleMs);
  service.cleanOrphanedWorkDirs();
  fileRoots(labDir); // makes <labDir>/imports, the folder API requests may always read from
  service.watchStale(staleMs);
  service.pump();
  return service;
}
