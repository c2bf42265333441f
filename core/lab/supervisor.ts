// The per-run supervisor: one job process running one claimed run. It answers the worker's `ready` with the
// run, records what the worker streams (progress, metric batches, logs, child runs, artifacts, heartbeats,
// result) in the RunStore in the order it was sent, publishes each change on the event bus, and when the
// process is gone decides the run's final status from what it said before it went.
import type { LabEvent, RunDetail, RunStatus } from '../api/lab-api';
import type { ArtifactStore } from './artifact-store';
import type { EventBus } from './event-bus';
import type { JobProcess } from './launcher';
import { WorkerMessageSchema, type SerializedError, type WorkerMessage } from './protocol';
import type { RunStore } from './run-store';
import { describeZodError } from '../api/lab-api';
import { existsSync } from 'node:fs';

/** How long a cancelled job gets to stop by itself before it is killed. */
const CANCEL_GRACE_MS = 800;
/** After `done`, a worker that does not exit by itself is ended. */
const DONE_GRACE_MS = 500;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface SupervisorDeps {
  store: RunStore;
  bus: EventBus;
  artifacts: ArtifactStore;
  labDir: string;
  heartbeatMs: number;
  /** Appends a line to the run's log (and publishes it). */
  log(runId: string, level: LogLevel, message: string): void;
  warn(message: string): void;
  /**
   * The file roots stored with the run (RunStore.fileRoots), sent with its start message: the job then opens
   * the files its config names only inside them. null or absent: a run from the command line, unguarded.
   */
  fileRoots?: readonly string[] | null;
}

function now(): string {
  return new Date().toISOString();
}

export class RunSupervisor {
  readonly id: string;
  /** Resolves once the run has its final status (or the lab closed under it). */
  readonly ended: Promise<void>;
  private markEnded = () => undefined as void;
  private cancelRequested = false;
  /** Set by interrupt(): the lab is closing and the run ends `interrupted`. */
  private closing = false;
  /** A reason found by the parent (invalid message, bad artifact, store error); the run fails with it. */
  private failure: string | null = null;
  private failed: SerializedError | null = null;
  private gotResult = false;
  private gotDone = false;
  private stderrTail = '';
  /** Child runs started by this job and not yet ended, and those it has ended. */
  private readonly openChildren = new Set<string>();
  private readonly endedChildren = new Set<string>();
  private readonly timers: ReturnType<typeof setTimeout>[] = [];
  /** The job's messages and then its exit, recorded one after another. */
  private chain: Promise<void> = Promise.resolve();
  private finished = false;
  /** Points a later attempt sent again that an earlier attempt had stored (skipped by the metrics key). */
  private replayed = 0;

  constructor(
    private readonly deps: SupervisorDeps,
    private readonly run: RunDetail,
    private readonly proc: JobProcess,
    private readonly workDir: string,
    /** Whether the lab is closed (events are then no longer published for the run's end). */
    private readonly labClosed: () => boolean,
  ) {
    this.id = run.id;
    this.ended = new Promise<void>((r) => (this.markEnded = r));
  }

  /** Wires the process: its output to the run log, its messages in order, then its exit. */
  start(): void {
    const { log } = this.deps;
    this.proc.onOutput?.((stream, text) => {
      if (stream === 'stderr') this.stderrTail = (this.stderrTail + text).slice(-2000);
      for (const line of text.split('\n')) {
        if (line.trim()) log(this.id, stream === 'stderr' ? 'warn' : 'info', line);
      }
    });
    this.proc.onMessage((m) => (this.chain = this.chain.then(() => this.onMessage(m))));
    this.proc.onExit((code, signal) => (this.chain = this.chain.then(() => this.finalize(code, signal))));
  }

  /** Asks the job to stop; kills it after a grace period. */
  cancel(): void {
    if (this.cancelRequested) return;
    this.cancelRequested = true;
    this.proc.send({ type: 'cancel' });
    this.timers.push(setTimeout(() => this.proc.kill('SIGKILL'), CANCEL_GRACE_MS));
  }

  /** The lab is closing: the job is killed and the run ends `interrupted`. */
  interrupt(): void {
    this.closing = true;
    this.proc.kill('SIGKILL');
  }

  /** Ends the run now, as if its process had exited (the lab is closing and the exit never came). */
  forceEnd(): Promise<void> {
    return this.finalize(null, 'SIGKILL');
  }

  get isClosing(): boolean {
    return this.closing;
  }

  private emit(event: LabEvent): void {
    this.deps.bus.emit(event);
  }

  private async onMessage(raw: unknown): Promise<void> {
    if (this.finished) return;
    const parsed = WorkerMessageSchema.safeParse(raw);
    if (!parsed.success) {
      this.abort(`the job process sent an invalid message (${describeZodError(parsed.error).message})`);
      return;
    }
    try {
      await this.handle(parsed.data);
    } catch (err) {
      this.abort(`the lab could not record the job's ${parsed.data.type} message: ${(err as Error).message}`);
    }
  }

  private async handle(msg: WorkerMessage): Promise<void> {
    const { store, log } = this.deps;
    const run = this.run;
    switch (msg.type) {
      case 'ready':
        if (this.cancelRequested) return;
        if ((run.attempt ?? 1) > 1) {
          log(
            run.id,
            'info',
            `attempt ${run.attempt} of ${1 + (run.retries ?? 0)}: the job starts again from the beginning with the ` +
              'same config and seed; the points earlier attempts stored are kept and not written twice',
          );
        }
        this.proc.send({
          type: 'start',
          runId: run.id,
          kind: run.kind,
          config: run.config,
          seed: run.seed,
          workDir: this.workDir,
          labDir: this.deps.labDir,
          heartbeatMs: this.deps.heartbeatMs,
          ...(this.deps.fileRoots != null ? { fileRoots: [...this.deps.fileRoots] } : {}),
          // a run with a parent that a scheduler starts is a lab-level sweep's point: no children of its own
          ...(run.parentId !== null ? { childRuns: false } : {}),
        });
        return;
      case 'progress': {
        const target = this.target(msg.runId, 'progress');
        await store.setProgress(target, msg.fraction, msg.message, now());
        await this.emitUpdated(target);
        return;
      }
      case 'metrics': {
        const target = this.target(msg.runId, 'metrics');
        const inserted = await store.appendMetrics(target, msg.points);
        if (inserted.length < msg.points.length) {
          // a later attempt replays the steps its predecessor stored: counted and told once, at the end
          if ((run.attempt ?? 1) > 1) this.replayed += msg.points.length - inserted.length;
          else log(target, 'warn', `${msg.points.length - inserted.length} repeated metric step(s) ignored`);
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
        log(this.target(msg.runId, 'log'), msg.level, msg.message);
        return;
      case 'child-start': {
        if (msg.kind !== run.kind && !msg.kind.startsWith(`${run.kind}/`)) {
          throw new Error(
            `child ${msg.childId}: kind "${msg.kind}" is neither the parent's kind "${run.kind}" nor "${run.kind}/…"`,
          );
        }
        if (
          this.openChildren.has(msg.childId) ||
          this.endedChildren.has(msg.childId) ||
          (await store.hasRun(msg.childId))
        ) {
          throw new Error(`child ${msg.childId}: a run with this id already exists`);
        }
        await store.createChildRun({
          id: msg.childId,
          parentId: run.id,
          kind: msg.kind,
          name: msg.name,
          config: msg.config,
          seed: msg.seed,
          at: now(),
          codeVersion: run.codeVersion,
          host: run.host,
        });
        this.openChildren.add(msg.childId);
        const s = await store.getSummary(msg.childId);
        if (s) this.emit({ type: 'run-created', run: s });
        await this.emitUpdated(run.id);
        return;
      }
      case 'child-end': {
        const child = this.target(msg.childId, 'child-end');
        await store.finishChild(
          child,
          msg.result,
          msg.status,
          now(),
          msg.status === 'failed' ? (msg.error ?? 'failed') : null,
        );
        this.openChildren.delete(child);
        this.endedChildren.add(child);
        await this.emitUpdated(child);
        return;
      }
      case 'artifact': {
        const placed = await this.deps.artifacts.accept(run.id, msg);
        await store.addArtifact(run.id, { name: msg.name, kind: msg.kind, ...placed }, now());
        return;
      }
      case 'heartbeat':
        await store.heartbeat(run.id, now());
        return;
      case 'result':
        await store.setResult(run.id, msg.result);
        this.gotResult = true;
        return;
      case 'failed':
        this.failed = msg.error;
        if (msg.error.stack) log(run.id, 'error', msg.error.stack);
        return;
      case 'done':
        this.gotDone = true;
        this.timers.push(setTimeout(() => this.proc.kill('SIGKILL'), DONE_GRACE_MS));
        return;
    }
  }

  /** The run a message is about: the job's own run, or one of its open children (anything else fails the run). */
  private target(childId: string | undefined, what: string): string {
    if (childId === undefined) return this.id;
    if (this.openChildren.has(childId)) return childId;
    if (this.endedChildren.has(childId))
      throw new Error(`${what} for child ${childId}, which has already ended`);
    throw new Error(`${what} for an unknown child run ${childId} (no child-start came for it)`);
  }

  private abort(reason: string): void {
    if (this.failure === null) this.failure = reason;
    this.proc.kill('SIGKILL');
  }

  /**
   * The job process is gone: give the run its final status. Never rejects: it runs from a process-exit
   * callback, where an exception would end the whole lab; what it cannot finish is logged as a warning.
   */
  private async finalize(code: number | null, signal: string | null): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.timers.forEach(clearTimeout);
    try {
      await this.finish(code, signal);
    } catch (err) {
      this.deps.warn(`finishing run ${this.id} failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.markEnded();
    }
  }

  private async finish(code: number | null, signal: string | null): Promise<void> {
    let status: RunStatus;
    let error: string | null = null;
    if (this.closing) {
      status = 'interrupted';
      error = 'the lab was closed while this run was running';
    } else if (this.cancelRequested) {
      status = 'cancelled';
    } else if (this.failure !== null) {
      status = 'failed';
      error = this.failure;
    } else if (this.failed !== null) {
      status = 'failed';
      error =
        this.failed.name && this.failed.name !== 'Error'
          ? `${this.failed.name}: ${this.failed.message}`
          : this.failed.message;
    } else if (this.gotResult && (this.gotDone || code === 0)) {
      status = 'succeeded';
      const lost = await this.lostFiles();
      if (lost !== null) {
        status = 'failed';
        error = lost;
        this.deps.warn(`run ${this.id}: ${lost}`);
      }
    } else {
      status = 'failed';
      const how = signal ? `was killed by signal ${signal}` : `exited with code ${code ?? 'unknown'}`;
      const tail = this.stderrTail.trim().split('\n').slice(-3).join(' | ');
      error = `the job process ${how} before reporting a result${tail ? ` (stderr: ${tail.slice(-500)})` : ''}`;
    }
    if (this.labClosed() && !this.closing) return;
    if ((this.run.attempt ?? 1) > 1) {
      this.deps.log(
        this.id,
        'info',
        `attempt ${this.run.attempt}: ${this.replayed} point(s) already stored by earlier attempts were skipped`,
      );
    }
    // Taken for dead (no heartbeat reached the store for the stale period) and re-queued meanwhile: the run
    // belongs to its next attempt now, whose end is the one recorded.
    const current =
      (this.run.retries ?? 0) > 0 ? (await this.deps.store.getDetail(this.id))?.attempt : undefined;
    if (this.run.attempt !== undefined && current !== undefined && current !== this.run.attempt) {
      this.deps.log(
        this.id,
        'warn',
        `attempt ${this.run.attempt} ended (${status}) after the run was re-queued as attempt ${current}; its end is not recorded`,
      );
      return;
    }
    const ended = await endRunWithChildren(this.deps.store, this.id, status, error);
    if (!this.closing) {
      for (const c of ended) await this.emitUpdated(c);
      await this.emitUpdated(this.id);
      // a sweep's point: its parent's progress (or end, after the last point) changed in the same transaction
      if (this.run.parentId !== null) await this.emitUpdated(this.run.parentId);
    }
  }

  /** Why a run that reported success lost what it wrote (lab folder or artifact files deleted), or null. */
  private async lostFiles(): Promise<string | null> {
    const { store, artifacts, labDir } = this.deps;
    if (store.engine === 'sqlite' && !existsSync(store.location)) {
      return `the lab directory ${labDir} (or its lab.sqlite) was deleted while this run was running`;
    }
    const missing: string[] = [];
    for (const x of await store.artifacts(this.id)) {
      const p = await store.artifactPath(this.id, x.name);
      if (p === undefined || !(await artifacts.exists(p))) missing.push(x.name);
    }
    return missing.length === 0
      ? null
      : `artifact file(s) ${missing.join(', ')} were deleted while this run was running`;
  }

  private async emitUpdated(id: string): Promise<void> {
    const s = await this.deps.store.getSummary(id);
    if (s) this.emit({ type: 'run-updated', run: s });
  }
}

/**
 * Gives a top-level run its terminal status and its unfinished children theirs, in one store transaction;
 * returns the children it ended. Children live inside their parent's job, so they end with it; a parent that
 * succeeded without ending a child leaves that child unfinished, which is the child's failure.
 */
export function endRunWithChildren(
  store: RunStore,
  id: string,
  status: RunStatus,
  error: string | null,
): Promise<string[]> {
  const childStatus: RunStatus = status === 'succeeded' ? 'failed' : status;
  const reason =
    status === 'succeeded'
      ? "the parent's job ended without finishing this child"
      : `its parent run ${status}${error ? `: ${error}` : ''}`;
  return store.endRun(id, {
    status,
    at: now(),
    error,
    children: { status: childStatus, error: reason.slice(0, 20_000) },
  });
}
