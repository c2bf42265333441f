// The scheduler: consumes a JobQueue (local or distributed, one contract) with at most `concurrency` jobs at
// once, starting a job process and a RunSupervisor for each claimed run; forwards cancel requests made by other
// processes through the store to the supervisor that holds the run; finds runs whose lab process died (stale
// heartbeats) and ends them; and on close interrupts what it runs.
import { appendFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RunStatus } from '../api/lab-api';
import type { JobKind } from '../methods/job';
import type { ArtifactStore } from './artifact-store';
import type { EventBus } from './event-bus';
import { hostInfo } from './host';
import type { JobQueue } from './job-queue';
import type { JobLauncher, JobProcess } from './launcher';
import { TERMINAL_STATUSES, type RunStore } from './run-store';
import { RunSupervisor, type LogLevel } from './supervisor';

/** How often runs left `running` by a dead lab process are looked for, at most (also capped by staleMs / 2). */
const STALE_CHECK_MS = 5000;
/** How often cancel requests from other processes are looked for while jobs run here. */
const POLL_MS = 250;

export interface SchedulerDeps {
  labDir: string;
  store: RunStore;
  bus: EventBus;
  queue: JobQueue;
  artifacts: ArtifactStore;
  launcher: JobLauncher;
  kinds: Map<string, JobKind>;
  concurrency: number;
  heartbeatMs: number;
  /** Recorded in each run's host info as `worker` (qlab worker --name). */
  workerName?: string;
  /**
   * Whether this lab may put a stale run with retries left back in the queue (default true). False for a
   * passive lab on a shared store without the shared queue: it could not hand the run to the workers, so it
   * leaves such runs to the hub or a worker.
   */
  canRetry?: boolean;
  warn(message: string): void;
}

function now(): string {
  return new Date().toISOString();
}

export class Scheduler {
  /** Supervisors of the runs this process runs now. */
  readonly active = new Map<string, RunSupervisor>();
  private closed = false;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private staleTimer: ReturnType<typeof setInterval> | undefined;
  private polling = false;
  /** When this process last wrote the heartbeats of the runs it holds (ensurePolling), and whether it is. */
  private lastBeat = 0;
  private beating = false;
  private logWarned = false;

  constructor(private readonly deps: SchedulerDeps) {}

  /** Starts taking runs from the queue. */
  start(): void {
    const name = this.deps.workerName;
    this.deps.queue.consume((id) => this.runOne(id), {
      concurrency: this.deps.concurrency,
      host: () => (name === undefined ? hostInfo() : { ...hostInfo(), worker: name }),
    });
  }

  /** Appends a line to a run's log file (best effort) and publishes it. */
  readonly log = (runId: string, level: LogLevel, message: string): void => {
    try {
      const dir = join(this.deps.labDir, 'logs');
      mkdirSync(dir, { recursive: true });
      appendFileSync(join(dir, `${runId}.log`), `${now()} ${level} ${message}\n`);
    } catch (err) {
      // a full disk must not take the run down with it; the event below still goes out
      if (!this.logWarned)
        this.deps.warn(`could not write the run log of ${runId}: ${(err as Error).message}`);
      this.logWarned = true;
    }
    this.deps.bus.emit({ type: 'log', runId, level, message });
  };

  /** Runs one claimed run to its end: resolves when it has its final status. */
  private async runOne(id: string): Promise<void> {
    const { store, bus } = this.deps;
    const run = await store.getDetail(id);
    if (!run) return;
    const settle = async () => {
      const s = await store.getSummary(id);
      if (s) bus.emit({ type: 'run-updated', run: s });
    };
    if (this.closed) {
      // claimed while the lab was closing: it never started
      await store.finishRun(id, 'interrupted', now(), 'the lab was closed before this run started');
      return;
    }
    if (!this.deps.kinds.has(run.kind)) {
      await store.finishRun(id, 'failed', now(), `kind: this lab has no job kind "${run.kind}"`);
      await settle();
      return;
    }
    // The file roots stored with a run created over HTTP or IPC, whichever lab process or worker created it: its
    // job opens its files only inside them. A store error here fails the run rather than running it unguarded.
    let fileRoots: string[] | null;
    try {
      fileRoots = await store.fileRoots(id);
    } catch (err) {
      await store.finishRun(
        id,
        'failed',
        now(),
        `could not read the run's file roots: ${(err as Error).message}`,
      );
      await settle();
      return;
    }
    let proc: JobProcess;
    try {
      proc = this.deps.launcher.spawn();
    } catch (err) {
      await store.finishRun(
        id,
        'failed',
        now(),
        `could not start the job process: ${(err as Error).message}`,
      );
      await settle();
      return;
    }
    const sup = new RunSupervisor(
      {
        store,
        bus,
        artifacts: this.deps.artifacts,
        labDir: this.deps.labDir,
        heartbeatMs: this.deps.heartbeatMs,
        log: this.log,
        warn: this.deps.warn,
        fileRoots,
      },
      run,
      proc,
      join(this.deps.labDir, 'work', id),
      () => this.closed,
    );
    this.active.set(id, sup);
    sup.start();
    this.ensurePolling();
    await settle();
    await sup.ended;
    this.active.delete(id);
    if (!this.closed || sup.isClosing) this.removeWorkDir(id);
  }

  /** Cancels a run this process runs; resolves when it has ended (false: not running here). */
  async cancelLocal(id: string): Promise<boolean> {
    const sup = this.active.get(id);
    if (!sup) return false;
    sup.cancel();
    await sup.ended;
    return true;
  }

  /** One timer serves cancel requests made through the store by other processes, while jobs run here. */
  private ensurePolling(): void {
    if (this.pollTimer !== undefined || this.closed) return;
    this.pollTimer = setInterval(() => {
      if (this.active.size === 0) {
        clearInterval(this.pollTimer);
        this.pollTimer = undefined;
        return;
      }
      const ids = [...this.active.keys()];
      // This process beats for the runs it holds, as their jobs do: a job process still starting (seconds on
      // a loaded machine, before it can send a heartbeat) or computing without yielding is alive as long as
      // this process is, and must not be taken for dead by another lab's stale check (and re-queued). Beats go
      // out on their own, so a slow write never delays the cancel check below.
      if (!this.beating && Date.now() - this.lastBeat >= this.deps.heartbeatMs) {
        this.lastBeat = Date.now();
        this.beating = true;
        const at = now();
        void Promise.all(ids.map((id) => this.deps.store.heartbeat(id, at)))
          .catch(() => undefined) // the store was closed under us, or is away (retried next period)
          .finally(() => (this.beating = false));
      }
      if (this.polling) return;
      this.polling = true;
      void this.deps.store
        .cancelRequested(ids)
        .then((c) => c.forEach((id) => this.active.get(id)?.cancel()))
        .catch(() => undefined) // the store was closed under us
        .finally(() => (this.polling = false));
    }, POLL_MS);
  }

  /**
   * Runs left `running` by a dead lab process or worker (stale heartbeat; never the ones running here): those
   * with retries left go back to the queue as their next attempt and are enqueued again, the rest become
   * `interrupted`. Returns the runs it interrupted.
   */
  async recoverStale(staleMs: number): Promise<string[]> {
    const { store, queue } = this.deps;
    const cutoff = new Date(Date.now() - staleMs).toISOString();
    const ids = await store.interruptStale(
      cutoff,
      now(),
      [...this.active.keys()],
      this.deps.canRetry ?? true,
    );
    const interrupted: string[] = [];
    for (const id of ids) {
      const d = await store.getDetail(id);
      if (d === undefined || TERMINAL_STATUSES.includes(d.status)) {
        interrupted.push(id);
        continue;
      }
      // re-queued (perhaps already claimed again by a worker that was quicker than this loop)
      const attempt = d.attempt ?? 2;
      this.removeWorkDir(id);
      this.log(
        id,
        'warn',
        `attempt ${attempt - 1} sent no heartbeat for ${staleMs} ms (its job process, lab or worker is gone): ` +
          `re-queued as attempt ${attempt} of ${1 + (d.retries ?? 0)}`,
      );
      await queue.enqueue(id, attempt);
      const s = await store.getSummary(id);
      if (s) this.deps.bus.emit({ type: 'run-updated', run: s });
    }
    return interrupted;
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
      void (async () => {
        try {
          for (const id of await this.recoverStale(staleMs)) {
            this.deps.warn(
              `run ${id} had no heartbeat for ${staleMs} ms; its lab process is gone: interrupted`,
            );
            this.removeWorkDir(id);
            const s = await this.deps.store.getSummary(id);
            if (s) this.deps.bus.emit({ type: 'run-updated', run: s });
          }
        } catch (err) {
          this.deps.warn(
            `checking for stale runs failed: ${err instanceof Error ? err.message : String(err)}`,
          );
        } finally {
          checking = false;
        }
      })();
    }, every);
    this.staleTimer.unref();
  }

  /** Removes scratch folders (`work/<id>`) no live run owns: left behind by a lab process that was killed. */
  async cleanOrphanedWorkDirs(): Promise<void> {
    const root = join(this.deps.labDir, 'work');
    let names: string[];
    try {
      names = readdirSync(root);
    } catch {
      return; // no work/ yet
    }
    for (const name of names) {
      let status: RunStatus | undefined;
      try {
        status = await this.deps.store.status(name);
      } catch {
        status = undefined; // not a run id
      }
      if (status === 'running' || status === 'queued' || this.active.has(name)) continue;
      this.removeWorkDir(name);
    }
  }

  /** Best effort: a folder that cannot be removed is a warning, never the end of the lab. */
  private removeWorkDir(id: string): void {
    const dir = join(this.deps.labDir, 'work', id);
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      this.deps.warn(`could not remove the scratch folder ${dir}: ${(err as Error).message}`);
    }
  }

  /** Stops taking runs and ends the running jobs (their runs become `interrupted`). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // no new run is claimed from here on; a claim in progress finishes first
    await this.deps.queue.stop();
    const running = [...this.active.values()];
    for (const s of running) s.interrupt();
    let grace: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(running.map((s) => s.ended)),
      new Promise((r) => (grace = setTimeout(r, 3000))),
    ]);
    clearTimeout(grace);
    for (const s of [...this.active.values()]) await s.forceEnd();
    // the handlers see their supervisors end and clean up; let them run before the store closes
    await new Promise((r) => setImmediate(r));
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    clearInterval(this.staleTimer);
    this.staleTimer = undefined;
    this.deps.launcher.close?.();
  }
}
