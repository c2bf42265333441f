// The job worker: receives `start`, runs one job kind with a JobContext that batches metrics, and streams the
// protocol's messages back. Transport-agnostic: main.ts plugs in Electron's parentPort or Node's IPC channel.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeZodError } from '../../api/lab-api';
import type { JobContext, JobKind, LogLevel, MetricPoint } from '../../methods/job';
import { loadJobKinds } from '../kinds';
import {
  ArtifactNameSchema,
  JobResultSchema,
  ParentMessageSchema,
  serializeError,
  type StartMessage,
  type WireMetricPoint,
  type WorkerMessage,
} from '../protocol';

export interface WorkerPort {
  /** Resolves once the message has been handed to the transport. */
  send(msg: WorkerMessage): Promise<void>;
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
  let buffer: WireMetricPoint[] = [];
  let pendingProgress: { fraction: number; message: string | null } | null = null;
  let flushTimer: ReturnType<typeof setInterval> | undefined;
  let heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  let lastFlush = Date.now();
  let lastHeartbeat = Date.now();
  let heartbeatMs = 2000;

  const flush = (): void => {
    lastFlush = Date.now();
    if (buffer.length > 0) {
      const points = buffer;
      buffer = [];
      void port.send({ type: 'metrics', points });
    }
    if (pendingProgress) {
      void port.send({ type: 'progress', ...pendingProgress });
      pendingProgress = null;
    }
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

    const ctx: JobContext = {
      runId: msg.runId,
      seed: msg.seed,
      signal: abort.signal,
      workDir: msg.workDir,
      cacheDir,
      progress(fraction: number, message?: string): void {
        if (!Number.isFinite(fraction)) throw new Error('progress: fraction must be a finite number');
        pendingProgress = { fraction: Math.min(1, Math.max(0, fraction)), message: message ?? null };
        due();
      },
      metrics(points: MetricPoint[]): void {
        const now = Date.now();
        for (const p of points) {
          // NaN cannot be stored or charted; a job producing it should say so rather than lose the point silently.
          if (!Number.isFinite(p.value))
            throw new Error(`metrics: ${p.key} at step ${p.step} is not finite (${p.value})`);
          if (!Number.isSafeInteger(p.step) || p.step < 0) {
            throw new Error(`metrics: ${p.key} step must be a non-negative integer, got ${p.step}`);
          }
          buffer.push({ key: p.key, step: p.step, value: p.value, wallTime: now });
        }
        if (buffer.length >= maxBatch) flush();
        else due();
      },
      log(level: LogLevel, message: string): void {
        void port.send({ type: 'log', level, message: message.slice(0, 20_000) });
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
    const wire = JobResultSchema.safeParse({
      summary: result.summary,
      report: result.report ?? [],
      backend: backendOf(result),
    });
    if (!wire.success) {
      throw new Error(
        `the job returned an invalid result: ${describeZodError(wire.error, 'result').message}`,
      );
    }
    await finish({ type: 'result', result: wire.data }, 0);
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
    start(msg).catch((err: unknown) => void fail(err));
  });

  void port.send({ type: 'ready', pid: process.pid });
}
