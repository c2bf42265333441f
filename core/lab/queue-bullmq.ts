// The distributed JobQueue: BullMQ on Redis. The hub enqueues one BullMQ job per run (job id = run id, so a
// run is enqueued at most once however often it is announced); `qlab worker` processes on other machines
// consume with a BullMQ Worker. Each job first claims its run in the shared RunStore (queued → running), so a
// run cancelled before it started, or a job redelivered after a stall, runs nothing. BullMQ's stalled-job check
// notices a worker that died (its lock lapses); the run itself is ended, or re-queued as its next attempt when
// it has retries left, by the store's heartbeat check.
// Credentials: the Redis URL carries host, port and database only; a password comes from QLAB_REDIS_PASSWORD
// (or REDISCLI_AUTH), never from a command line. rediss:// turns on TLS.
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { JobQueue } from './job-queue';
import type { RunStore } from './run-store';

export const DEFAULT_QUEUE_NAME = 'qlab-runs';

/** ioredis options from a redis:// or rediss:// URL, the password from the environment. */
export function redisConnection(url: string, env: NodeJS.ProcessEnv = process.env): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`queue: not a URL: ${url}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new Error(`queue: a Redis URL starts with redis:// or rediss://, got ${u.protocol}//`);
  }
  if (u.password) {
    throw new Error(
      'queue: the Redis URL must not hold a password (it would be kept in shell history); set QLAB_REDIS_PASSWORD instead',
    );
  }
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0)
    throw new Error(`queue: Redis database must be a number, got ${u.pathname.slice(1)}`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    username: u.username || undefined,
    password: env.QLAB_REDIS_PASSWORD ?? env.REDISCLI_AUTH ?? undefined,
    db,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    // BullMQ workers block on Redis; ioredis must not give up on a command while Redis restarts
    maxRetriesPerRequest: null,
  };
}

/**
 * One BullMQ job per start of a run: the run id for its first attempt, `<id>.<n>` for the n-th (a run re-queued
 * after its worker died). BullMQ ignores a job id it already holds, so announcing a run twice adds nothing, and
 * the dead attempt's job (failed by the stalled-job check) does not hide the next one.
 */
export function bullJobId(runId: string, attempt: number): string {
  return attempt <= 1 ? runId : `${runId}.${attempt}`;
}

export interface BullJobQueueOptions {
  url: string;
  store: RunStore;
  /** BullMQ queue name (default qlab-runs); hub and workers must agree. */
  queueName?: string;
  /** How long a worker's job lock lasts without renewal; a dead worker's job stalls after it (default 10 s). */
  lockDurationMs?: number;
  onError?: (message: string) => void;
}

export class BullJobQueue implements JobQueue {
  readonly name = 'bullmq';
  private readonly queue: Queue;
  private worker: Worker | undefined;
  private readonly connection: ConnectionOptions;
  private readonly queueName: string;

  constructor(private readonly opts: BullJobQueueOptions) {
    this.connection = redisConnection(opts.url);
    this.queueName = opts.queueName ?? DEFAULT_QUEUE_NAME;
    this.queue = new Queue(this.queueName, { connection: this.connection });
    this.queue.on('error', (err) => this.opts.onError?.(`queue: ${err.message}`));
  }

  async enqueue(runId: string, attempt?: number): Promise<void> {
    const n = attempt ?? (await this.opts.store.getDetail(runId))?.attempt ?? 1;
    await this.queue.add(
      'run',
      { runId, attempt: n },
      { jobId: bullJobId(runId, n), attempts: 1, removeOnComplete: 10_000, removeOnFail: 10_000 },
    );
  }

  /** Enqueues every run the store holds as queued (ids already enqueued are ignored by BullMQ). */
  async adoptQueued(): Promise<number> {
    const ids = await this.opts.store.queuedIds();
    for (const id of ids) await this.enqueue(id);
    return ids.length;
  }

  consume(
    handler: (runId: string) => Promise<void>,
    opts: { concurrency: number; host: () => Record<string, unknown> },
  ): void {
    if (this.worker) throw new Error('queue: already consuming');
    const lockDuration = this.opts.lockDurationMs ?? 10_000;
    this.worker = new Worker(
      this.queueName,
      async (job) => {
        const runId = (job.data as { runId?: unknown }).runId;
        if (typeof runId !== 'string') return 'bad-job';
        if (!(await this.opts.store.claimRun(runId, new Date().toISOString(), opts.host())))
          return 'not-queued';
        await handler(runId);
        return 'ran';
      },
      {
        connection: this.connection,
        concurrency: opts.concurrency,
        lockDuration,
        stalledInterval: lockDuration,
        // a job that stalled once (its worker died) is not run again by BullMQ: its run is already claimed, and
        // the store's heartbeat check either ends it `interrupted` or, when it has retries left, puts it back in
        // the store's queue and enqueues a new job for its next attempt (Scheduler.recoverStale)
        maxStalledCount: 0,
      },
    );
    this.worker.on('error', (err) => this.opts.onError?.(`queue worker: ${err.message}`));
  }

  /** Stops taking jobs without waiting for the ones in flight (the scheduler ends those itself). */
  async stop(): Promise<void> {
    await this.worker?.close(true);
    await this.queue.close();
  }
}
