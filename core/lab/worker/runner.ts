// The job worker: receives `start`, runs one job kind with a JobContext that batches metrics, and streams the
// protocol's messages back. Transport-agnostic: main.ts plugs in Electron's parentPort or Node's IPC channel.
import { setFileGuard } from '../../util/file-guard';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeZodError } from '../../api/lab-api';
import type {
  ChildRun,
  ChildRunOptions,
  JobContext,
  JobKind,
  JobResult,
  LogLevel,
  MetricPoint,
} from '../../methods/job';
import { loadJobKinds } from '../kinds';
import {
  ArtifactNameSchema,
  JobResultSchema,
  ParentMessageSchema,
  serializeError,
  type CalibrateGgufMessage,
  type GgufCalibratedMessage,
  type StartMessage,
  type WireMetricPoint,
  type WorkerMessage,
} from '../protocol';

export interface WorkerPort {
  /** Resolves once the message has been handed to the transport. */
  send(msg: WorkerMessage | GgufCalibratedMessage): Promise<void>;
  onMessage(cb: (msg: unknown) => void): void;
}

export interface WorkerOptions {
  /** Ends the process; called after `done` has been sent. */
  exit(code: number): void;
  /** Points are sent when this many are buffered, or every flushMs, whichever comes first. */
  maxBatch?: number;
  flushMs?: number;
  loadKinds?: () => Promise<Map<string, JobKind>>;
  /** Report uncaught errors of the job as `failed` (default true; tests running in-process turn it off). */
  catchProcessErrors?: boolean;
}

/** Kinds may report what executed them as an extra `backend` object on their result. */
function backendOf(result: object): Record<string, unknown> {
  const b = (result as { backend?: unknown }).backend;
  return typeof b === 'object' && b !== null && !Array.isArray(b) ? (b as Record<string, unknown>) : {};
}

export function runWorker(port: WorkerPort, opts: WorkerOptions): void {
  const maxBatch = opts.maxBatch ?? 2000;
  const flushMs = opts.flushMs ?? 200;
  const abort = new AbortController();
  let started = false;
  let finishing = false;
  // Keyed by run id: '' is the run itself, a UUID one of its children. One metrics message per run per flush.
  const buffers = new Map<string, WireMetricPoint[]>();
  let buffered = 0;
  const pendingProgress = new Map<string, { fraction: number; message: string | null }>();
  let flushTimer: ReturnType<typeof setInterval> | undefined;
  let heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  let lastFlush = Date.now();
  let lastHeartbeat = Date.now();
  let heartbeatMs = 2000;

  /** Sends one run's buffered points and progress ('' = the run itself). */
  const flushRun = (runId: string): void => {
    const points = buffers.get(runId);
    if (points && points.length > 0) {
      buffers.delete(runId);
      buffered -= points.length;
      void port.send(runId ? { type: 'metrics', points, runId } : { type: 'metrics', points });
    }
    const p = pendingProgress.get(runId);
    if (p) {
      pendingProgress.delete(runId);
      void port.send(runId ? { type: 'progress', ...p, runId } : { type: 'progress', ...p });
    }
  };

  const flush = (): void => {
    lastFlush = Date.now();
    for (const runId of new Set([...buffers.keys(), ...pendingProgress.keys()])) flushRun(runId);
  };

  /** Checks and buffers points for one run; sends when the buffers are full. */
  const bufferPoints = (runId: string, points: MetricPoint[], due: () => void): void => {
    const now = Date.now();
    let list = buffers.get(runId);
    if (!list) {
      list = [];
      buffers.set(runId, list);
    }
    for (const p of points) {
      // NaN cannot be stored or charted; a job producing it should say so rather than lose the point silently.
      if (!Number.isFinite(p.value))
        throw new Error(`metrics: ${p.key} at step ${p.step} is not finite (${p.value})`);
      if (!Number.isSafeInteger(p.step) || p.step < 0) {
        throw new Error(`metrics: ${p.key} step must be a non-negative integer, got ${p.step}`);
      }
      list.push({ key: p.key, step: p.step, value: p.value, wallTime: now });
    }
    buffered += points.length;
    if (buffered >= maxBatch) flush();
    else due();
  };

  /** The wire form of a job's result, or an error naming the bad field. */
  const wireResult = (result: JobResult, what: string) => {
    const wire = JobResultSchema.safeParse({
      summary: result.summary,
      report: result.report ?? [],
      backend: backendOf(result),
    });
    if (!wire.success) {
      throw new Error(
        `${what} returned an invalid result: ${describeZodError(wire.error, 'result').message}`,
      );
    }
    return wire.data;
  };

  const finish = async (last: WorkerMessage | null, code: number): Promise<void> => {
    if (finishing) return;
    finishing = true;
    clearInterval(flushTimer);
    clearInterval(heartbeatTimer);
    flush();
    if (last) await port.send(last);
    await port.send({ type: 'done' });
    opts.exit(code);
  };

  const fail = (err: unknown): Promise<void> => finish({ type: 'failed', error: serializeError(err) }, 1);

  if (opts.catchProcessErrors ?? true) {
    process.on('uncaughtException', (err) => void fail(err));
    process.on('unhandledRejection', (err) => void fail(err));
  }

  const start = async (msg: StartMessage): Promise<void> => {
    setFileGuard(msg.fileRoots ?? null);
    const kinds = await (opts.loadKinds ?? loadJobKinds)();
    const kind = kinds.get(msg.kind);
    if (!kind) throw new Error(`kind: unknown job kind "${msg.kind}" in the worker`);
    const parsed = kind.schema.safeParse(msg.config);
    if (!parsed.success) {
      const { message } = describeZodError(parsed.error, 'config');
      throw new Error(message);
    }
    await mkdir(msg.workDir, { recursive: true });
    const cacheDir = join(msg.labDir, 'cache');
    await mkdir(cacheDir, { recursive: true });
    const artifactDir = join(msg.labDir, 'artifacts', msg.runId);
    heartbeatMs = msg.heartbeatMs ?? 2000;
    const heartbeat = (): void => {
      lastHeartbeat = Date.now();
      void port.send({ type: 'heartbeat' });
    };
    flushTimer = setInterval(flush, flushMs);
    heartbeatTimer = setInterval(heartbeat, heartbeatMs);
    // A job whose loop only awaits already-settled promises never lets the timers run, so the calls
    // below also flush and beat when they are due: live curves and heartbeats do not wait for the end.
    const due = (): void => {
      const now = Date.now();
      if (now - lastFlush >= flushMs) flush();
      if (now - lastHeartbeat >= heartbeatMs) heartbeat();
    };

    const setProgress = (runId: string, fraction: number, message: string | undefined): void => {
      if (!Number.isFinite(fraction)) throw new Error('progress: fraction must be a finite number');
      pendingProgress.set(runId, {
        fraction: Math.min(1, Math.max(0, fraction)),
        message: message?.slice(0, 500) ?? null,
      });
    };

    const startChild = (
      name: string,
      config: unknown,
      opts: ChildRunOptions,
      dueFn: () => void,
    ): ChildRun => {
      if (finishing) throw new Error(`child ${name}: the run has already ended`);
      if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
        throw new Error('child: name must be 1 to 200 characters');
      }
      const seed = opts.seed ?? msg.seed;
      if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) {
        throw new Error(`child ${name}: seed must be an integer in [0, 2^32 - 1], got ${seed}`);
      }
      // Through JSON now, so the child's stored config is exactly what the job passed (and is JSON at all).
      const json = JSON.stringify(config);
      if (json === undefined) throw new Error(`child ${name}: config must be JSON-serializable`);
      const childId = randomUUID();
      let ended = false;
      const open = (what: string): void => {
        if (ended) throw new Error(`child ${name}: ${what} after it ended`);
        if (finishing) throw new Error(`child ${name}: ${what} after the run ended`);
      };
      void port.send({
        type: 'child-start',
        childId,
        name,
        kind: msg.kind,
        config: JSON.parse(json) as unknown,
        seed,
      });
      const end = (status: 'succeeded' | 'failed', result: JobResult, error: string | null): void => {
        const wire = wireResult(result, `child ${name}`);
        ended = true;
        // Its last points and progress go before child-end, so the parent never sees data for an ended child.
        flushRun(childId);
        void port.send({ type: 'child-end', childId, status, result: wire, error });
      };
      return {
        runId: childId,
        seed,
        progress(fraction: number, message?: string): void {
          open('progress');
          setProgress(childId, fraction, message);
          dueFn();
        },
        metrics(points: MetricPoint[]): void {
          open('metrics');
          bufferPoints(childId, points, dueFn);
        },
        log(level: LogLevel, message: string): void {
          open('log');
          void port.send({ type: 'log', level, message: message.slice(0, 20_000), runId: childId });
        },
        finish(result: JobResult): void {
          open('finish');
          end('succeeded', result, null);
        },
        fail(message: string): void {
          open('fail');
          end('failed', { summary: {} }, String(message).slice(0, 20_000) || 'failed');
        },
      };
    };

    const ctx: JobContext = {
      runId: msg.runId,
      seed: msg.seed,
      signal: abort.signal,
      workDir: msg.workDir,
      cacheDir,
      progress(fraction: number, message?: string): void {
        setProgress('', fraction, message);
        due();
      },
      metrics(points: MetricPoint[]): void {
        bufferPoints('', points, due);
      },
      log(level: LogLevel, message: string): void {
        void port.send({ type: 'log', level, message: message.slice(0, 20_000) });
      },
      child(name: string, config: unknown, opts: ChildRunOptions = {}): ChildRun {
        return startChild(name, config, opts, due);
      },
      async artifact(name: string, artifactKind: string, data: Uint8Array | string): Promise<void> {
        const checked = ArtifactNameSchema.safeParse(name);
        if (!checked.success) throw new Error(describeZodError(checked.error, 'artifact name').message);
        const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
        await mkdir(artifactDir, { recursive: true });
        const tmpPath = join(artifactDir, `.tmp-${name}-${randomUUID()}`);
        await writeFile(tmpPath, bytes);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        await port.send({
          type: 'artifact',
          name,
          kind: artifactKind,
          tmpPath,
          bytes: bytes.byteLength,
          sha256,
        });
      },
    };

    // a sweep's child cannot have children (one level only): its inner points are recorded inline
    if (msg.childRuns === false) delete ctx.child;
    let result;
    try {
      result = await kind.run(parsed.data, ctx);
    } catch (err) {
      // A job that stops because it was cancelled is not a failure; the parent records the cancel.
      if (abort.signal.aborted) return finish(null, 0);
      throw err;
    }
    if (abort.signal.aborted) return finish(null, 0);
    flush();
    await finish({ type: 'result', result: wireResult(result, 'the job') }, 0);
  };

  /** The lab's GGUF calibration, here rather than in the lab's process (protocol.ts CalibrateGgufMessage). */
  const calibrateGguf = async (msg: CalibrateGgufMessage): Promise<void> => {
    const { measureGgufFile } = await import('../calibration');
    const m = await measureGgufFile(msg.path, msg.field, msg.fileRoots);
    await port.send({ type: 'gguf-calibrated', gguf: m.gguf, detail: m.detail });
    await finish(null, 0);
  };

  port.onMessage((raw) => {
    const parsed = ParentMessageSchema.safeParse(raw);
    if (!parsed.success) {
      void fail(new Error(`invalid message from the lab: ${describeZodError(parsed.error).message}`));
      return;
    }
    const msg = parsed.data;
    if (msg.type === 'cancel') {
      abort.abort(new Error('cancelled'));
      if (!started) void finish(null, 0);
      return;
    }
    // A start after a cancel (the two crossed) must not begin a job the lab has already given up on.
    if (started || finishing || abort.signal.aborted) return;
    started = true;
    if (msg.type === 'calibrate-gguf') calibrateGguf(msg).catch((err: unknown) => void fail(err));
    else start(msg).catch((err: unknown) => void fail(err));
  });

  void port.send({ type: 'ready', pid: process.pid });
}
