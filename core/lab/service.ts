// The LabService: owns the store and the scheduler, runs each job in its own process through a JobLauncher,
// writes what the worker streams (one transaction per metric batch) and forwards it as LabEvents.
// Node only; no Electron import (the desktop app passes its own launcher).
import { createHash, randomInt, randomUUID } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { z } from 'zod';
import {
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
  type RunStatus,
  type RunSummary,
  type Series,
  type SeriesRequest,
  type TagsRequest,
  type NoteRequest,
  type CompareRequest,
} from '../api/lab-api';
import type { JobKind } from '../methods/job';
import { checkConfigFiles, fileRoots } from './file-roots';
import { codeVersion, hostInfo } from './host';
import { loadJobKinds } from './kinds';
import { ChildProcessLauncher, type JobLauncher, type JobProcess } from './launcher';
import { WorkerMessageSchema, type SerializedError, type WorkerMessage } from './protocol';
import { CHART_POINTS, compareRuns, exportRuns, type ExportSource } from './report';
import { readLogTail } from './run-log';
import type { RunStore } from './run-store';
import { isTerminal } from './store';
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
  /** The job's messages and then its exit, recorded one after another. */
  chain: Promise<void>;
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

  constructor(
    readonly labDir: string,
    private readonly store: RunStore,
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
    return await this.store.listRuns(filter);
  }

  async getRun(id: string): Promise<RunDetail> {
    const runId = parseRequest(RunIdSchema, id, 'id');
    const detail = await this.store.getDetail(runId);
    if (!detail) throw new LabError('not-found', `id: no run ${runId}`, 'id');
    // A row always pointed at a complete file; say so when the file has since gone.
    for (const x of detail.artifacts) {
      const p = await this.artifactFile(runId, x.name);
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
    if (opts.localFiles !== true) checkConfigFiles(this.labDir, kind, config);
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
    });
    this.created.add(id);
    const summary = await this.summaryOrThrow(id);
    this.emit({ type: 'run-created', run: summary });
    setImmediate(() => this.pump());
    return summary;
  }

  async cancelRun(id: string): Promise<RunSummary> {
    const runId = parseRequest(RunIdSchema, id, 'id');
    const status = await this.store.status(runId);
    if (status === undefined) throw new LabError('not-found', `id: no run ${runId}`, 'id');
    if (isTerminal(status)) throw new LabError('conflict', `run ${runId} has already ${status}`, 'id');
    const parentId = await this.store.parentOf(runId);
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
      (await this.store.finishRun(runId, 'cancelled', now(), 'cancelled before it started'))
    ) {
      await this.settled(runId);
      return await this.summaryOrThrow(runId);
    }
    const a = this.active.get(runId);
    if (a) {
      this.startCancel(a);
      await a.exited;
      return await this.summaryOrThrow(runId);
    }
    // Running in another process: ask its owner through the store, or close it if the owner is gone.
    const detail = await this.store.getDetail(runId);
    const beat = detail?.heartbeatAt ? Date.parse(detail.heartbeatAt) : 0;
    if (Date.now() - beat > this.heartbeatMs * 5) {
      const ended = await this.endRun(runId, 'cancelled', 'cancelled; its lab process was no longer running');
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
    return compareRuns(await this.details(r.ids));
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
    this.emit({ type: 'run-updated', run: summary });
    return summary;
  }

  async addNote(req: NoteRequest): Promise<NoteInfo> {
    const r = parseRequest(NoteRequestSchema, req);
    if (!(await this.store.hasRun(r.runId)))
      throw new LabError('not-found', `runId: no run ${r.runId}`, 'runId');
    return await this.store.addNote(r.runId, r.text, now());
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
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
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
      this.ensurePolling();
    });
  }

  /** Path of a stored artifact file, for shells that serve or open it. */
  async artifactFile(runId: string, name: string): Promise<string | undefined> {
    const rel = await this.store.artifactPath(runId, name);
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
    for (const a of [...this.active.values()]) await this.finalize(a, null, 'SIGKILL');
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    clearInterval(this.staleTimer);
    this.staleTimer = undefined;
    // a pump or a poll in flight finishes its store call before the store closes
    await this.pumping;
    for (const [id, list] of this.waiters) {
      const s = await this.store.getSummary(id).catch(() => undefined);
      if (s) list.forEach((w) => w(s));
    }
    this.waiters.clear();
    this.listeners.clear();
    await this.store.close();
  }

  // ---- start-up and scheduling ----

  /** Marks runs left `running` by a dead lab as interrupted. */
  async recoverStale(staleMs: number): Promise<string[]> {
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
    let checking = false;
    this.staleTimer = setInterval(() => {
      if (this.closed || checking) return;
      checking = true;
      void this.guard('checking for stale runs', async () => {
        const ids = await this.recoverStale(staleMs);
        for (const id of ids) {
          this.warn(`run ${id} had no heartbeat for ${staleMs} ms; its lab process is gone: interrupted`);
          this.removeWorkDir(id);
          await this.settled(id);
        }
      }).finally(() => (checking = false));
    }, every);
    this.staleTimer.unref();
  }

  /** Removes scratch folders (`work/<id>`) no live run owns: left behind by a lab process that was killed. */
  async cleanOrphanedWorkDirs(): Promise<void> {
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
        status = await this.store.status(name);
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
  private async guard(what: string, fn: () => unknown): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.warn(`${what} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private pumping: Promise<void> | undefined;
  private pumpAgain = false;

  /**
   * Starts queued runs, oldest first, up to the concurrency limit; each is claimed in the store first, so two
   * lab processes on one store never start the same run. One pump runs at a time; a call during it makes it
   * look again when it is done. Never rejects.
   */
  pump(): Promise<void> {
    if (!this.scheduling.enabled || this.closed) return Promise.resolve();
    if (this.pumping) {
      this.pumpAgain = true;
      return this.pumping;
    }
    this.pumping = this.guard('starting queued runs', async () => {
      do {
        this.pumpAgain = false;
        while (!this.closed && this.active.size < this.concurrency) {
          const only = this.scheduling.adoptQueued ? undefined : [...this.created];
          if (only !== undefined && only.length === 0) break;
          const id = await this.store.claimNext(now(), hostInfo(), only);
          if (id === undefined) break;
          await this.launch(id);
        }
      } while (this.pumpAgain && !this.closed);
    }).finally(() => (this.pumping = undefined));
    return this.pumping;
  }

  private async launch(id: string): Promise<void> {
    const detail = await this.store.getDetail(id);
    if (!detail) return;
    if (this.closed) {
      // claimed while the lab was closing: it never started
      await this.store.finishRun(id, 'interrupted', now(), 'the lab was closed before this run started');
      return;
    }
    if (!this.kinds.has(detail.kind)) {
      await this.store.finishRun(id, 'failed', now(), `kind: this lab has no job kind "${detail.kind}"`);
      await this.settled(id);
      return;
    }
    const workDir = join(this.labDir, 'work', id);
    let proc: JobProcess;
    try {
      proc = this.launcher.spawn();
    } catch (err) {
      await this.store.finishRun(
        id,
        'failed',
        now(),
        `could not start the job process: ${(err as Error).message}`,
      );
      await this.settled(id);
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
      chain: Promise.resolve(),
    };
    this.active.set(id, a);
    proc.onOutput?.((stream, text) => {
      if (stream === 'stderr') a.stderrTail = (a.stderrTail + text).slice(-2000);
      for (const line of text.split('\n')) {
        if (line.trim()) this.log(id, stream === 'stderr' ? 'warn' : 'info', line);
      }
    });
    // Messages are recorded one after another, in the order the job sent them; the exit is handled after them.
    proc.onMessage((m) => (a.chain = a.chain.then(() => this.onWorkerMessage(a, detail, m))));
    proc.onExit((code, signal) => (a.chain = a.chain.then(() => this.finalize(a, code, signal))));
    this.ensurePolling();
    await this.emitUpdated(id);
  }

  private async onWorkerMessage(a: ActiveRun, run: RunDetail, raw: unknown): Promise<void> {
    if (!this.active.has(a.id)) return;
    const parsed = WorkerMessageSchema.safeParse(raw);
    if (!parsed.success) {
      this.abortRun(a, `the job process sent an invalid message (${describeZodError(parsed.error).message})`);
      return;
    }
    try {
      await this.handle(a, run, parsed.data);
    } catch (err) {
      this.abortRun(
        a,
        `the lab could not record the job's ${parsed.data.type} message: ${(err as Error).message}`,
      );
    }
  }

  private async handle(a: ActiveRun, run: RunDetail, msg: WorkerMessage): Promise<void> {
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
        });
        return;
      case 'progress': {
        const target = this.target(a, msg.runId, 'progress');
        await this.store.setProgress(target, msg.fraction, msg.message, now());
        await this.emitUpdated(target);
        return;
      }
      case 'metrics': {
        const target = this.target(a, msg.runId, 'metrics');
        const inserted = await this.store.appendMetrics(target, msg.points);
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
          (await this.store.hasRun(msg.childId))
        ) {
          throw new Error(`child ${msg.childId}: a run with this id already exists`);
        }
        await this.store.createChildRun({
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
        await this.emitCreated(msg.childId);
        await this.emitUpdated(a.id);
        return;
      }
      case 'child-end': {
        const child = this.target(a, msg.childId, 'child-end');
        await this.store.finishChild(
          child,
          msg.result,
          msg.status,
          now(),
          msg.status === 'failed' ? (msg.error ?? 'failed') : null,
        );
        a.openChildren.delete(child);
        a.endedChildren.add(child);
        await this.settled(child);
        return;
      }
      case 'artifact':
        await this.acceptArtifact(a, msg);
        return;
      case 'heartbeat':
        await this.store.heartbeat(a.id, now());
        return;
      case 'result':
        await this.store.setResult(a.id, msg.result);
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
  private async acceptArtifact(
    a: ActiveRun,
    msg: Extract<WorkerMessage, { type: 'artifact' }>,
  ): Promise<void> {
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
    await this.store.addArtifact(a.id, { name: msg.name, kind: msg.kind, path: rel, bytes, sha256 }, now());
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
   * The job process is gone: decide the run's final status from what it said before it went. Never rejects:
   * it runs from a process-exit callback in the lab's (or Electron's main) process, where an exception would
   * end the whole lab; what it cannot finish is logged as a warning.
   */
  private async finalize(a: ActiveRun, code: number | null, signal: string | null): Promise<void> {
    if (this.active.get(a.id) !== a) return;
    this.active.delete(a.id);
    a.timers.forEach(clearTimeout);
    try {
      await this.guard(`finishing run ${a.id}`, () => this.finish(a, code, signal));
      if (!this.closed || a.closing) this.removeWorkDir(a.id);
    } finally {
      a.markExited();
      if (!this.closed) setImmediate(() => void this.pump());
    }
  }

  private async finish(a: ActiveRun, code: number | null, signal: string | null): Promise<void> {
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
      const lost = await this.lostFiles(a.id);
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
      const ended = await this.endRun(a.id, status, error);
      if (!a.closing) {
        for (const c of ended) await this.settled(c);
        await this.settled(a.id);
      }
    }
  }

  /** Why a run that reported success lost what it wrote (lab folder or artifact files deleted), or null. */
  private async lostFiles(id: string): Promise<string | null> {
    if (this.store.engine === 'sqlite' && !existsSync(this.store.location)) {
      return `the lab directory ${this.labDir} (or its lab.sqlite) was deleted while this run was running`;
    }
    const missing: string[] = [];
    for (const x of await this.store.artifacts(id)) {
      const p = await this.artifactFile(id, x.name);
      if (p === undefined || !existsSync(p)) missing.push(x.name);
    }
    return missing.length === 0
      ? null
      : `artifact file(s) ${missing.join(', ')} were deleted while this run was running`;
  }

  /**
   * Gives a top-level run its terminal status and its unfinished children theirs, in one transaction; returns
   * the children it ended. Children live inside their parent's job, so they end with it; a parent that
   * succeeded without ending a child leaves that child unfinished, which is the child's failure.
   */
  private endRun(id: string, status: RunStatus, error: string | null): Promise<string[]> {
    const childStatus: RunStatus = status === 'succeeded' ? 'failed' : status;
    const reason =
      status === 'succeeded'
        ? "the parent's job ended without finishing this child"
        : `its parent run ${status}${error ? `: ${error}` : ''}`;
    return this.store.endRun(id, {
      status,
      at: now(),
      error,
      children: { status: childStatus, error: reason.slice(0, 20_000) },
    });
  }

  // ---- events and waiting ----

  private async settled(id: string): Promise<void> {
    const summary = await this.store.getSummary(id);
    if (!summary) return;
    this.emit({ type: 'run-updated', run: summary });
    const list = this.waiters.get(id);
    if (list) {
      this.waiters.delete(id);
      list.forEach((w) => w(summary));
    }
  }

  private polling = false;

  /** One timer serves cross-process cancel requests and waits on runs owned by another process. */
  private ensurePolling(): void {
    if (this.pollTimer !== undefined || this.closed) return;
    this.pollTimer = setInterval(() => {
      if (this.active.size === 0 && this.waiters.size === 0) {
        clearInterval(this.pollTimer);
        this.pollTimer = undefined;
        return;
      }
      if (this.polling) return;
      this.polling = true;
      void (async () => {
        try {
          for (const id of await this.store.cancelRequested([...this.active.keys()])) {
            const a = this.active.get(id);
            if (a) this.startCancel(a);
          }
          for (const id of [...this.waiters.keys()]) {
            const status = await this.store.status(id);
            if (status === undefined || isTerminal(status)) await this.settled(id);
          }
        } catch {
          // the store was closed under us; close() resolves the waiters
        } finally {
          this.polling = false;
        }
      })();
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

  private async emitCreated(id: string): Promise<void> {
    const s = await this.store.getSummary(id);
    if (s) this.emit({ type: 'run-created', run: s });
  }

  private async emitUpdated(id: string): Promise<void> {
    const s = await this.store.getSummary(id);
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
  try {
    await service.recoverStale(staleMs);
    await service.cleanOrphanedWorkDirs();
  } catch (err) {
    await store.close();
    throw err;
  }
  fileRoots(labDir); // makes <labDir>/imports, the folder API requests may always read from
  service.watchStale(staleMs);
  await service.pump();
  return service;
}
