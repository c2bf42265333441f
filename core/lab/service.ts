// The LabService: the facade of the lab. It validates each request once, reads and writes through the
// RunStore seam (SQLite or PostgreSQL), enqueues new runs on the JobQueue seam, and forwards the events that the
// scheduler's per-run supervisors publish on the event bus (scheduler.ts, supervisor.ts, event-bus.ts).
// Node only; no Electron import (the desktop app passes its own launcher).
import { randomInt, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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
  RunQuerySchema,
  type RunQuery,
  type Calibration,
  type CalibrateRequest,
  CalibrateRequestSchema,
  type RunPage,
  CompareRequestSchema,
  CreateRunRequestSchema,
  flattenConfig,
  ExportRequestSchema,
  LabError,
  ListRunsRequestSchema,
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
  type RunSummary,
  type Series,
  type SeriesRequest,
  type TagsRequest,
  type NoteRequest,
  type CompareRequest,
} from '../api/lab-api';
import {
  CreateSweepRequestSchema,
  describePoint,
  SEED_AXIS,
  sweepGrid,
  withField,
  type CreateSweepRequest,
} from '../api/sweep';
import type { JobKind } from '../methods/job';
import { exportBundle } from './bundle';
import { importUploadInThread, importUploadInto, type StoreSpec } from './bundle-import';
import { chromiumPrinter, pdfHeader, type PdfPrinter } from './export-pdf';
import {
  IMPORTS_DIR,
  SETTINGS_FILE,
  addFileRoot,
  checkConfigFiles,
  checkFileInRoots,
  fileRoots,
  readSettings,
  removeFileRoot,
} from './file-roots';
import { checkDataFiles } from './data-file-check';
import {
  measureCalibration,
  measureGgufInJob,
  realGgufFile,
  readCalibration,
  withGguf,
  writeCalibration,
} from './calibration';
import { codeVersion } from './host';
import { loadJobKinds } from './kinds';
import { ChildProcessLauncher, type JobLauncher } from './launcher';
import { CHART_POINTS, compareRuns, exportRuns, type ExportSource } from './report';
import { readLogTail } from './run-log';
import { LocalArtifactStore, type ArtifactStore } from './artifact-store';
import { PgArtifactStore } from './artifact-store-pg';
import { EventBus } from './event-bus';
import { LocalJobQueue, type JobQueue } from './job-queue';
import { WarmLauncher } from './warm-launcher';
import type { RunStore } from './run-store';
import { Scheduler } from './scheduler';
import { endRunWithChildren } from './supervisor';
import { isTerminal } from './store';
import type { PgRunStore } from './store-pg';
import { SqliteRunStore } from './store-sqlite';

export interface OpenLabOptions {
  labDir: string;
  launcher?: JobLauncher;
  /** How many jobs run at once (default 1). */
  concurrency?: number;
  /** A `running` run whose heartbeat is older than this at open becomes `interrupted` (default 15 s). */
  heartbeatStaleMs?: number;
  /** Where NNN_name.sql files are; defaults to the repository's migrations/ (bundles pass their copy). */
  migrationsDir?: string;
  /**
   * The run store (default: SQLite in <labDir>/lab.sqlite, migrated from migrationsDir); the lab closes it when
   * it closes. A shared store (PostgreSQL) keeps runs, metrics and rows; files stay under labDir.
   */
  store?: RunStore;
  /** How runs reach the scheduler (default: the store itself, LocalJobQueue). */
  queue?: JobQueue;
  /** Where job files go (default: <labDir>/artifacts, LocalArtifactStore). */
  artifacts?: ArtifactStore;
  /** This process's name in each run it starts (host info `worker`), e.g. `qlab worker --name host-a`. */
  workerName?: string;
  /**
   * Keep one job process started ahead of need (WarmLauncher), so a claimed run starts without waiting for a
   * process to load (`qlab worker` turns it on; default false). Only for a lab that schedules.
   */
  warmSpare?: boolean;
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

const POLL_MS = 250;
const DEFAULT_MAX_POINTS = 500;
/** Log lines getRunLog returns unless asked for fewer or more. */
const DEFAULT_LOG_LINES = 1000;

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

export interface LabServiceParts {
  labDir: string;
  store: RunStore;
  kinds: Map<string, JobKind>;
  launcher: JobLauncher;
  queue: JobQueue;
  artifacts: ArtifactStore;
  concurrency: number;
  heartbeatMs: number;
  workerName?: string;
  /** Whether stale runs with retries left may be re-queued by this lab (Scheduler's canRetry). */
  canRetry?: boolean;
  warn?: (message: string) => void;
}

/**
 * The facade: validates each request once, reads and writes through the RunStore, and hands runs to the
 * scheduler through the JobQueue; events come from the bus that the scheduler's run supervisors publish on.
 */
export class LabService implements LabApi {
  readonly labDir: string;
  private readonly store: RunStore;
  private readonly kinds: Map<string, JobKind>;
  private readonly queue: JobQueue;
  private readonly artifacts: ArtifactStore;
  private readonly heartbeatMs: number;
  readonly bus = new EventBus();
  readonly scheduler: Scheduler;
  private readonly waiters = new Map<string, ((s: RunSummary) => void)[]>();
  private waitTimer: ReturnType<typeof setInterval> | undefined;
  private waitPolling = false;
  private closed = false;
  private started = false;
  /** Set by openLab from its options (null: headless Chromium, made on first use). */
  pdfPrinter: PdfPrinter | null = null;
  /** Set by openLab from its options (null: file roots are not editable through the LabApi). */
  pickFolder: (() => Promise<string | null>) | null = null;
  /**
   * How a bundle-import thread reopens this lab's store (set by openLab for its own SQLite store); null:
   * bundles are imported on this thread (a store passed in, e.g. PostgreSQL, is not reopened elsewhere).
   */
  storeSpec: StoreSpec | null = null;
  /** How this lab starts job processes (the calibration times one start through it). */
  private readonly launcher: JobLauncher;
  /** PDFs are printed one at a time (each print starts a browser). */
  private pdfQueue: Promise<unknown> = Promise.resolve();

  warn: (message: string) => void = (m) => process.stderr.write(`qlab: warning: ${m}\n`);

  constructor(parts: LabServiceParts) {
    this.labDir = parts.labDir;
    this.store = parts.store;
    this.kinds = parts.kinds;
    this.queue = parts.queue;
    this.artifacts = parts.artifacts;
    this.heartbeatMs = parts.heartbeatMs;
    this.launcher = parts.launcher;
    if (parts.warn) this.warn = parts.warn;
    this.scheduler = new Scheduler({
      labDir: parts.labDir,
      store: parts.store,
      bus: this.bus,
      queue: parts.queue,
      artifacts: parts.artifacts,
      launcher: parts.launcher,
      kinds: parts.kinds,
      concurrency: parts.concurrency,
      heartbeatMs: parts.heartbeatMs,
      workerName: parts.workerName,
      canRetry: parts.canRetry,
      warn: (m) => this.warn(m),
    });
    // A run that reaches a terminal status (here or, seen by polling, elsewhere) releases its waiters.
    this.bus.on((e) => {
      if (e.type !== 'run-updated' || !isTerminal(e.run.status)) return;
      const list = this.waiters.get(e.run.id);
      if (list) {
        this.waiters.delete(e.run.id);
        list.forEach((w) => w(e.run));
      }
    });
  }

  /** Starts running queued runs (a passive lab never calls it). */
  startScheduling(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.scheduler.start();
  }

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
    return await this.store.listRuns(filter);
  }

  async queryRuns(req: RunQuery): Promise<RunPage> {
    const q = parseRequest(RunQuerySchema, req ?? {});
    return await this.store.queryRuns(q);
  }

  async getCalibration(): Promise<Calibration | null> {
    return readCalibration(this.labDir);
  }

  /** One measurement at a time: a second request while one runs gets the same result. */
  #calibrating: Promise<Calibration> | null = null;
  async calibrate(req?: CalibrateRequest, opts: { localFiles?: boolean } = {}): Promise<Calibration> {
    this.assertOpen();
    const files = req === undefined ? undefined : parseRequest(CalibrateRequestSchema, req).ggufFiles;
    if (files) return this.#calibrateGguf(files, opts.localFiles === true);
    this.#calibrating ??= measureCalibration(undefined, { launcher: this.launcher })
      .then((c) => {
        writeCalibration(this.labDir, c);
        return c;
      })
      .finally(() => {
        this.#calibrating = null;
      });
    return this.#calibrating;
  }

  /** Aborted when the lab closes: a GGUF timing's job process is stopped then, not left to its time limit. */
  #ggufAbort: AbortController | null = null;
  #ggufStop(): AbortSignal {
    if (!this.#ggufAbort) {
      const ac = new AbortController();
      this.#ggufAbort = ac;
      this.onClose(async () => ac.abort());
    }
    return this.#ggufAbort.signal;
  }

  /**
   * Times GGUF models as the QD-LLM teacher runs them and stores their rates beside the rest (measured first
   * when the lab has no calibration). Each file is checked against the lab's file roots (not for `localFiles`,
   * the CLI's own files) and opened under them; each is timed in a job process.
   */
  async #calibrateGguf(files: readonly string[], localFiles: boolean): Promise<Calibration> {
    const roots = localFiles ? null : fileRoots(this.labDir);
    // keyed by the real path; the name as given is kept beside it (a relative name, a symlink)
    const checked = files.map((f, i) => {
      const field = `ggufFiles[${i}]`;
      const path = roots ? checkFileInRoots(this.labDir, roots, f, field) : realGgufFile(resolve(f), field);
      return { field, path, names: [roots ? f : resolve(f)] };
    });
    const base = readCalibration(this.labDir) ?? (await this.calibrate());
    const timed = [];
    const details = [];
    for (const f of checked) {
      try {
        // in a job process: a file that crashes llama.cpp, or a large model's memory, is not the lab's
        const m = await measureGgufInJob(this.launcher, { ...f, within: roots, signal: this.#ggufStop() });
        timed.push(m.gguf);
        details.push(m.detail);
      } catch (e) {
        const message = (e as Error).message;
        throw new LabError(
          'invalid',
          message.startsWith(f.field) ? message : `${f.field}: ${message}`,
          f.field,
        );
      }
    }
    // merged into what is stored now (another calibration may have finished meanwhile)
    const merged = withGguf(readCalibration(this.labDir) ?? base, timed, details.join('; '));
    writeCalibration(this.labDir, merged);
    return merged;
  }

  async getRun(id: string): Promise<RunDetail> {
    const runId = parseRequest(RunIdSchema, id, 'id');
    const detail = await this.store.getDetail(runId);
    if (!detail) throw new LabError('not-found', `id: no run ${runId}`, 'id');
    // A row always pointed at a complete file; say so when the file has since gone.
    for (const x of detail.artifacts) {
      const p = await this.store.artifactPath(runId, x.name);
      if (p === undefined || !(await this.artifacts.exists(p))) x.missing = true;
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
    await checkDataFiles(
      kind,
      config,
      opts.localFiles === true ? process.cwd() : join(this.labDir, IMPORTS_DIR),
    );
    const id = randomUUID();
    await this.store.createRun({
      id,
      kind: kind.kind,
      name: r.name?.trim() || `${kind.kind}-${id.slice(0, 8)}`,
      config,
      seed: r.seed ?? randomInt(0, 2 ** 32),
      createdAt: now(),
      codeVersion: codeVersion(),
      tags: [...new Set(r.tags ?? [])],
      // stored with the run: whichever process launches its job (this lab, another on the same lab directory,
      // a worker of the distributed lab) sends them with the start message
      fileRoots: roots,
      retries: r.retries ?? 0,
    });
    const summary = await this.summaryOrThrow(id);
    this.bus.emit({ type: 'run-created', run: summary });
    await this.queue.enqueue(id, 1);
    return summary;
  }

  /**
   * A lab-level sweep: every point of the axes' grid is validated by the kind's schema first (nothing is
   * written when one is invalid), then the parent and one queued child run per point are created in one store
   * transaction, and each child is enqueued as its own job (local scheduler: run at the lab's concurrency;
   * BullMQ: any worker takes it). The parent ends when its last child ends (RunStore.createSweep).
   */
  async createSweep(req: CreateSweepRequest, opts: { localFiles?: boolean } = {}): Promise<RunSummary> {
    this.assertOpen();
    const r = parseRequest(CreateSweepRequestSchema, req);
    const bad = configValueProblem(r.config) ?? configValueProblem(r.axes, 'axes');
    if (bad) throw new LabError('invalid', `${bad.field}: ${bad.message}`, bad.field);
    const kind = this.kinds.get(r.kind);
    if (!kind) {
      const known = [...this.kinds.keys()].join(', ') || 'none';
      throw new LabError('invalid', `kind: unknown job kind "${r.kind}" (known: ${known})`, 'kind');
    }
    // Only fields the kind marks sweepable (each level gives a valid run of the same shape), and the run seed.
    const fields = new Map((kind.meta?.fields ?? []).map((f) => [f.key, f]));
    const sweepable = [...fields.values()].filter((f) => f.sweepable).map((f) => f.key);
    r.axes.forEach((a, i) => {
      if (a.field === SEED_AXIS) {
        a.values.forEach((v, j) => {
          if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** 32 - 1)
            throw new LabError(
              'invalid',
              `axes[${i}].values[${j}]: a seed must be an integer in [0, 2^32 - 1], got ${JSON.stringify(v)}`,
              `axes[${i}].values[${j}]`,
            );
        });
      } else if (fields.get(a.field)?.sweepable !== true) {
        throw new LabError(
          'invalid',
          `axes[${i}].field: ${kind.kind} cannot sweep "${a.field}" (${fields.has(a.field) ? 'the kind does not mark it sweepable' : 'no such field'}; sweepable: ${[...sweepable, SEED_AXIS].join(', ')})`,
          `axes[${i}].field`,
        );
      }
    });
    const base = JSON.parse(JSON.stringify(parseRequest(kind.schema, r.config, 'config'))) as unknown;
    const baseSeed = r.seed ?? randomInt(0, 2 ** 32);
    const grid = sweepGrid(r.axes);
    const dataChecked = new Set<string>();
    // each distinct data file once, after the grid's configs (the check reads files asynchronously)
    const dataChecks: { config: unknown; at: string }[] = [];
    const fileAxes = r.axes.filter((a) => fields.get(a.field)?.file === true).map((a) => a.field);
    let roots: string[] | null = null;
    const points = grid.map((point, n) => {
      let config = base;
      for (const [field, value] of Object.entries(point))
        if (field !== SEED_AXIS) config = withField(config, field, value);
      const at = `point ${n + 1} of ${grid.length} (${describePoint(point)})`;
      const parsed = kind.schema.safeParse(config);
      if (!parsed.success) {
        const { message, field } = describeZodError(parsed.error, 'config');
        // an error in a varied field names the axis value that made it
        const i = r.axes.findIndex(
          (a) => field === `config.${a.field}` || field.startsWith(`config.${a.field}.`),
        );
        const where =
          i < 0
            ? field
            : `axes[${i}].values[${(r.axes[i].values as unknown[]).indexOf(point[r.axes[i].field])}]`;
        throw new LabError('invalid', `${at}: ${message}`, where);
      }
      try {
        const checked = JSON.parse(JSON.stringify(parsed.data)) as unknown;
        const pointRoots = opts.localFiles !== true ? checkConfigFiles(this.labDir, kind, checked) : null;
        roots ??= pointRoots;
        const key = JSON.stringify(fileAxes.map((f) => point[f]));
        if (!dataChecked.has(key)) {
          dataChecks.push({ config: checked, at });
          dataChecked.add(key);
        }
        const seed = point[SEED_AXIS] === undefined ? baseSeed : (point[SEED_AXIS] as number);
        return { config: checked, seed, label: describePoint(point) };
      } catch (err) {
        if (err instanceof LabError) throw new LabError(err.code, `${at}: ${err.message}`, err.field);
        throw err;
      }
    });
    for (const d of dataChecks) {
      try {
        await checkDataFiles(
          kind,
          d.config,
          opts.localFiles === true ? process.cwd() : join(this.labDir, IMPORTS_DIR),
        );
      } catch (err) {
        if (err instanceof LabError) throw new LabError(err.code, `${d.at}: ${err.message}`, err.field);
        throw err;
      }
    }
    const id = randomUUID();
    const name = r.name?.trim() || `${kind.kind}-sweep-${id.slice(0, 8)}`;
    const createdAt = now();
    const version = codeVersion();
    const children = points.map((p) => ({
      id: randomUUID(),
      kind: kind.kind,
      name: `${name} ${p.label}`.slice(0, 200),
      config: p.config,
      seed: p.seed,
      createdAt,
      codeVersion: version,
      tags: [],
    }));
    await this.store.createSweep(
      {
        id,
        kind: kind.kind,
        name,
        config: base,
        seed: baseSeed,
        createdAt,
        codeVersion: version,
        tags: [...new Set(r.tags ?? [])],
        sweep: { axes: r.axes },
        fileRoots: roots,
      },
      children,
    );
    const summary = await this.summaryOrThrow(id);
    this.bus.emit({ type: 'run-created', run: summary });
    for (const c of children) {
      const s = await this.store.getSummary(c.id);
      if (s) this.bus.emit({ type: 'run-created', run: s });
    }
    for (const c of children) await this.queue.enqueue(c.id);
    return summary;
  }

  /**
   * Cancels a sweep: queued points end at once, running points here are cancelled, running points elsewhere
   * through the store (their owners poll every 250 ms; an owner gone silent has its point ended here); the
   * parent ends `cancelled` with its last point.
   */
  private async cancelSweep(runId: string): Promise<RunSummary> {
    const r = await this.store.cancelSweep(runId, now());
    if (r === null) return await this.summaryOrThrow(runId);
    for (const c of r.cancelled) await this.settled(c);
    const stops: Promise<unknown>[] = [];
    for (const c of r.running) {
      if (this.scheduler.active.has(c)) {
        stops.push(this.scheduler.cancelLocal(c));
        continue;
      }
      const d = await this.store.getDetail(c);
      const beat = d?.heartbeatAt ? Date.parse(d.heartbeatAt) : 0;
      if (Date.now() - beat > this.heartbeatMs * 5) {
        stops.push(
          endRunWithChildren(
            this.store,
            c,
            'cancelled',
            'cancelled; its lab process was no longer running',
          ).then(() => this.settled(c)),
        );
      }
    }
    await Promise.all(stops);
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && !isTerminal((await this.store.status(runId)) ?? 'failed')) {
      await new Promise((res) => setTimeout(res, 50));
    }
    await this.settled(runId);
    return await this.summaryOrThrow(runId);
  }

  async cancelRun(id: string): Promise<RunSummary> {
    const runId = parseRequest(RunIdSchema, id, 'id');
    const status = await this.store.status(runId);
    if (status === undefined) throw new LabError('not-found', `id: no run ${runId}`, 'id');
    if (isTerminal(status)) throw new LabError('conflict', `run ${runId} has already ${status}`, 'id');
    if (await this.store.sweepSpec(runId)) return this.cancelSweep(runId);
    const parentId = await this.store.parentOf(runId);
    // A sweep's point is a run of its own and may be cancelled alone; a job's child is one point of its job.
    if (parentId && (await this.store.sweepSpec(parentId)) === null) {
      // A child is one point of its parent's job; only the whole job can be stopped.
      throw new LabError(
        'conflict',
        `run ${runId} is a child of run ${parentId}; cancel the parent to stop it`,
        'id',
      );
    }
    if (
      status === 'queued' &&
      (await this.store.finishRun(runId, 'cancelled', now(), 'cancelled before it started'))
    ) {
      await this.settled(runId);
      return await this.summaryOrThrow(runId);
    }
    if (await this.scheduler.cancelLocal(runId)) return await this.summaryOrThrow(runId);
    // Running in another process: ask its owner through the store, or close it if the owner is gone.
    const detail = await this.store.getDetail(runId);
    const beat = detail?.heartbeatAt ? Date.parse(detail.heartbeatAt) : 0;
    if (Date.now() - beat > this.heartbeatMs * 5) {
      const ended = await endRunWithChildren(
        this.store,
        runId,
        'cancelled',
        'cancelled; its lab process was no longer running',
      );
      for (const c of ended) await this.settled(c);
      await this.settled(runId);
      return await this.summaryOrThrow(runId);
    }
    await this.store.requestCancel(runId);
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && !isTerminal((await this.store.status(runId)) ?? 'failed')) {
      await new Promise((r) => setTimeout(r, 100));
    }
    return await this.summaryOrThrow(runId);
  }

  async getSeries(req: SeriesRequest): Promise<Series> {
    const r = parseRequest(SeriesRequestSchema, req);
    if (!(await this.store.hasRun(r.runId)))
      throw new LabError('not-found', `runId: no run ${r.runId}`, 'runId');
    return await this.store.series(r.runId, r.key, r.maxPoints ?? DEFAULT_MAX_POINTS);
  }

  async compareRuns(req: CompareRequest): Promise<Comparison> {
    const r = parseRequest(CompareRequestSchema, req);
    // One batched read for all the runs (a 1,000-run sweep), not a full detail each.
    const rows = await this.store.compareRows(r.ids);
    return compareRuns(
      rows.map((row, i) => {
        if (!row) throw new LabError('not-found', `ids[${i}]: no run ${r.ids[i]}`, `ids[${i}]`);
        return row;
      }),
    );
  }

  async exportRuns(req: ExportRequest): Promise<ExportedFile> {
    const r = parseRequest(ExportRequestSchema, req);
    return exportRuns(r.format, await this.exportSource(await this.details(r.ids)));
  }

  /**
   * What the (synchronous) exporters read, read from the store first: every stored point of each run's
   * metrics and their chart series at CHART_POINTS.
   */
  private async exportSource(runs: RunDetail[]): Promise<ExportSource> {
    const points = new Map<string, { step: number; value: number; wallTime: number }[]>();
    const series = new Map<string, Series>();
    for (const r of runs) {
      for (const m of r.metrics) {
        points.set(`${r.id}\n${m.key}`, await this.store.points(r.id, m.key));
        series.set(`${r.id}\n${m.key}`, await this.store.series(r.id, m.key, CHART_POINTS));
      }
    }
    const empty = (runId: string, key: string): Series => ({ runId, key, count: 0, points: [] });
    return {
      runs,
      points: (runId, key) => points.get(`${runId}\n${key}`) ?? [],
      series: (runId, key, maxPoints) => {
        if (maxPoints !== CHART_POINTS) {
          throw new LabError(
            'internal',
            `an export asked for a ${maxPoints}-point series; the lab reads ${CHART_POINTS}`,
          );
        }
        return series.get(`${runId}\n${key}`) ?? empty(runId, key);
      },
    };
  }

  async setTags(req: TagsRequest): Promise<RunSummary> {
    const r = parseRequest(TagsRequestSchema, req);
    if (!(await this.store.hasRun(r.runId)))
      throw new LabError('not-found', `runId: no run ${r.runId}`, 'runId');
    await this.store.setTags(r.runId, [...new Set(r.tags)]);
    const summary = await this.summaryOrThrow(r.runId);
    this.bus.emit({ type: 'run-updated', run: summary });
    return summary;
  }

  async addNote(req: NoteRequest): Promise<NoteInfo> {
    const r = parseRequest(NoteRequestSchema, req);
    if (!(await this.store.hasRun(r.runId)))
      throw new LabError('not-found', `runId: no run ${r.runId}`, 'runId');
    return await this.store.addNote(r.runId, r.text, now());
  }

  async updateNote(req: NoteUpdateRequest): Promise<NoteInfo> {
    const r = parseRequest(NoteUpdateRequestSchema, req);
    if (!(await this.store.hasRun(r.runId)))
      throw new LabError('not-found', `runId: no run ${r.runId}`, 'runId');
    const note = await this.store.updateNote(r.runId, r.noteId, r.text);
    if (!note) throw new LabError('not-found', `noteId: run ${r.runId} has no note ${r.noteId}`, 'noteId');
    return note;
  }

  async deleteNote(req: NoteDeleteRequest): Promise<{ runId: string; noteId: number }> {
    const r = parseRequest(NoteDeleteRequestSchema, req);
    if (!(await this.store.hasRun(r.runId)))
      throw new LabError('not-found', `runId: no run ${r.runId}`, 'runId');
    if (!(await this.store.deleteNote(r.runId, r.noteId)))
      throw new LabError('not-found', `noteId: run ${r.runId} has no note ${r.noteId}`, 'noteId');
    return { runId: r.runId, noteId: r.noteId };
  }

  async exportPdf(req: PdfRequest): Promise<ExportedFile> {
    const r = parseRequest(PdfRequestSchema, req);
    const runs = await this.details(r.ids);
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
      const res = await exportBundle(this.store, this.artifacts, [...new Set(r.ids)], out);
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
    // On a worker thread with its own store connection where the store can be reopened (bundle-import.ts):
    // decoding, inflating and hashing up to 64 MiB would otherwise stall this thread (Electron's main process).
    const res = this.storeSpec
      ? await importUploadInThread({ labDir: this.labDir, store: this.storeSpec, data: r.data, name })
      : await importUploadInto(this.store, this.artifacts, this.labDir, r.data, name);
    for (const id of res.imported) {
      const s = await this.store.getSummary(id);
      if (s) this.bus.emit({ type: 'run-created', run: s });
    }
    return { imported: res.imported, skipped: res.skipped, artifacts: res.artifacts };
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
    return (await this.store.configs([...new Set(r.ids)])).map((row) => ({
      runId: row.id,
      fields: flattenConfig(JSON.parse(row.config) as unknown),
    }));
  }

  async getRunLog(req: RunLogRequest): Promise<RunLog> {
    const r = parseRequest(RunLogRequestSchema, req);
    if (!(await this.store.hasRun(r.runId)))
      throw new LabError('not-found', `runId: no run ${r.runId}`, 'runId');
    try {
      const tail = readLogTail(join(this.labDir, 'logs', `${r.runId}.log`), r.maxLines ?? DEFAULT_LOG_LINES);
      return { runId: r.runId, ...tail };
    } catch (err) {
      throw new LabError('internal', `could not read the log of run ${r.runId}: ${(err as Error).message}`);
    }
  }

  onEvent(listener: (event: LabEvent) => void): () => void {
    return this.bus.on(listener);
  }

  // ---- beyond LabApi ----

  /** Resolves with the run's summary once it is succeeded, failed, cancelled or interrupted. */
  async waitForRun(id: string): Promise<RunSummary> {
    const runId = parseRequest(RunIdSchema, id, 'id');
    const summary = await this.store.getSummary(runId);
    if (!summary) throw new LabError('not-found', `id: no run ${runId}`, 'id');
    if (isTerminal(summary.status) || this.closed) return summary;
    return new Promise((resolveWait) => {
      const list = this.waiters.get(runId) ?? [];
      list.push(resolveWait);
      this.waiters.set(runId, list);
      this.ensureWaitPolling();
    });
  }

  /**
   * A local file with a stored artifact's bytes, for shells that serve or open it, checked against the
   * artifact's size and SHA-256 as it is read (a LabError naming it when they no longer match: a damaged
   * artifact is never served). Undefined for no such artifact.
   */
  async artifactFile(runId: string, name: string): Promise<string | undefined> {
    const rel = await this.store.artifactPath(runId, name);
    if (rel === undefined) return undefined;
    const row = (await this.store.artifacts(runId)).find((a) => a.name === name);
    if (!row) return undefined;
    return this.artifacts.open(rel, { runId, name, bytes: row.bytes, sha256: row.sha256 });
  }

  /** Stops scheduling, ends running jobs (their runs become `interrupted`) and closes the store. */
  private readonly closers: (() => Promise<void>)[] = [];

  /** Runs `fn` when the lab closes (before the store closes). */
  onClose(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.closers.splice(0)) await c().catch(() => undefined);
    await this.scheduler.close();
    clearInterval(this.waitTimer);
    this.waitTimer = undefined;
    for (const [id, list] of this.waiters) {
      const s = await this.store.getSummary(id).catch(() => undefined);
      if (s) list.forEach((w) => w(s));
    }
    this.waiters.clear();
    this.bus.clear();
    await this.store.close();
  }

  // ---- waiting ----

  /** Settles a run whose status changed: publishes it (and so releases its waiters). */
  private async settled(id: string): Promise<void> {
    const summary = await this.store.getSummary(id);
    if (summary) this.bus.emit({ type: 'run-updated', run: summary });
  }

  /** Waits on runs owned by another process are served by polling the store. */
  private ensureWaitPolling(): void {
    if (this.waitTimer !== undefined || this.closed) return;
    this.waitTimer = setInterval(() => {
      if (this.waiters.size === 0) {
        clearInterval(this.waitTimer);
        this.waitTimer = undefined;
        return;
      }
      if (this.waitPolling) return;
      this.waitPolling = true;
      void (async () => {
        try {
          for (const id of [...this.waiters.keys()]) {
            const status = await this.store.status(id);
            if (status === undefined || isTerminal(status)) await this.settled(id);
          }
        } catch {
          // the store was closed under us; close() resolves the waiters
        } finally {
          this.waitPolling = false;
        }
      })();
    }, POLL_MS);
  }

  private async summaryOrThrow(id: string): Promise<RunSummary> {
    const s = await this.store.getSummary(id);
    if (!s) throw new LabError('not-found', `id: no run ${id}`, 'id');
    return s;
  }

  private async details(ids: string[]): Promise<RunDetail[]> {
    const out: RunDetail[] = [];
    for (const [i, id] of ids.entries()) {
      const d = await this.store.getDetail(id);
      if (!d) throw new LabError('not-found', `ids[${i}]: no run ${id}`, `ids[${i}]`);
      out.push(d);
    }
    return out;
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
  const store = opts.store ?? SqliteRunStore.open(join(labDir, 'lab.sqlite'), opts.migrationsDir);
  // Heartbeats come several times per stale period, so a live run is never taken for a dead one.
  const heartbeatMs = Math.max(50, Math.min(2000, Math.floor(staleMs / 4)));
  const warn = opts.onWarning;
  const service = new LabService({
    labDir,
    store,
    kinds,
    launcher:
      opts.warmSpare === true && (opts.schedule ?? true)
        ? new WarmLauncher(opts.launcher ?? new ChildProcessLauncher())
        : (opts.launcher ?? new ChildProcessLauncher()),
    queue:
      opts.queue ??
      new LocalJobQueue(store, {
        adoptQueued: opts.adoptQueued ?? true,
        onError: (m) => service.warn(m),
      }),
    // On PostgreSQL the bytes live in the database, so a hub reads what any worker wrote.
    artifacts:
      opts.artifacts ??
      (store.engine === 'postgres'
        ? new PgArtifactStore(store as PgRunStore, labDir)
        : new LocalArtifactStore(labDir)),
    concurrency,
    heartbeatMs,
    workerName: opts.workerName,
    // a passive lab on a shared store without the shared queue cannot hand a re-queued run to the workers
    canRetry: store.engine === 'sqlite' || opts.queue !== undefined || (opts.schedule ?? true),
    warn,
  });
  try {
    await service.scheduler.recoverStale(staleMs);
    await service.scheduler.cleanOrphanedWorkDirs();
  } catch (err) {
    await store.close();
    throw err;
  }
  // Live curves of runs that other processes (workers) write reach this lab's listeners as they commit.
  if (store.engine === 'postgres' && 'listenMetrics' in store) {
    const stop = await (store as PgRunStore).listenMetrics((runId, points) => {
      if (points) service.bus.emit({ type: 'metrics', runId, points });
    });
    service.onClose(stop);
  }
  fileRoots(labDir); // makes <labDir>/imports, the folder API requests may always read from
  service.scheduler.watchStale(staleMs);
  if (opts.pdfPrinter) service.pdfPrinter = opts.pdfPrinter;
  if (opts.pickFolder) service.pickFolder = opts.pickFolder;
  // the lab's own store (not one passed in) and its artifacts: a bundle-import thread can open them again
  if (opts.store === undefined && opts.artifacts === undefined)
    service.storeSpec = { engine: 'sqlite', file: store.location, migrationsDir: opts.migrationsDir };
  if (opts.schedule ?? true) service.startScheduling();
  return service;
}
