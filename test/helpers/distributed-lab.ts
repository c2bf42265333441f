// A distributed lab on one machine for integration tests: throwaway PostgreSQL and Redis servers
// (./servers.ts), a hub opened through the CLI's open path (`qlab serve --store postgres://… --queue redis://…`
// opens the same way; it schedules nothing) and `qlab worker` processes with distinct names on the same store
// and queue. close() stops whatever was started — workers (SIGTERM, awaited), the hub, both servers, the lab
// folder — and may be called after a start that failed half-way.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliLab } from '../../core/cli/context';
import { defaultOpenLab } from '../../core/cli/main';
import { EXTRA_KINDS_ENV } from '../../core/lab/kinds';
import { LAB_KINDS_FIXTURE } from './lab';
import {
  isSkipped,
  startPostgres,
  startRedis,
  type PgOptions,
  type PgServer,
  type RedisServer,
} from './servers';

export const QLAB = fileURLToPath(new URL('../../bin/qlab.js', import.meta.url));

export type LabServers =
  { pg: PgServer; redis: RedisServer; why: '' } | { pg: undefined; redis: undefined; why: string };

/**
 * PostgreSQL, then Redis. When either cannot start, `why` says so (and is printed, headed by `what`, for the
 * suite to skip itself visibly) and nothing is left running.
 */
export async function startPgAndRedis(what: string, opts: PgOptions = {}): Promise<LabServers> {
  const pg = await startPostgres(opts);
  const redis = isSkipped(pg) ? pg : await startRedis();
  if (isSkipped(pg) || isSkipped(redis)) {
    if (!isSkipped(pg)) pg.stop();
    const why = isSkipped(pg) ? pg.skipped : (redis as { skipped: string }).skipped;
    console.warn(`\n*** ${what}: SKIPPED: ${why} ***\n`);
    return { pg: undefined, redis: undefined, why };
  }
  return { pg, redis, why: '' };
}

/** A hub on `storeUrl` and `queueUrl` that runs nothing itself (`qlab serve`'s open path). */
export function openHub(labDir: string, storeUrl: string, queueUrl: string): Promise<CliLab> {
  return defaultOpenLab(labDir, {
    schedule: false,
    storeSpec: { value: storeUrl, from: 'argv' },
    queueSpec: { value: queueUrl, from: 'argv' },
  });
}

/** `qlab worker --store … --queue … --name … --lab-dir …` with stdout and stderr piped. */
export function spawnWorker(o: {
  storeUrl: string;
  queueUrl: string;
  name: string;
  labDir: string;
  concurrency?: number;
  env?: NodeJS.ProcessEnv;
}): ChildProcess {
  const args = [QLAB, 'worker', '--store', o.storeUrl, '--queue', o.queueUrl];
  args.push('--name', o.name, '--lab-dir', o.labDir);
  if (o.concurrency !== undefined) args.push('--concurrency', String(o.concurrency));
  return spawn(process.execPath, args, { env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface DistributedLabOptions {
  /** The test kinds (test-stream, …) in the hub and the workers (EXTRA_KINDS_ENV). */
  testKinds?: boolean;
  /** `--concurrency` of each worker (the worker's default when left out). */
  concurrency?: number;
}

export class DistributedLab {
  readonly labDir: string;
  storeUrl = '';
  hub: CliLab | undefined;
  /** The worker processes by name, the latest under each name. */
  readonly workers = new Map<string, ChildProcess>();
  /** Per worker: resolves when it has opened the store and queue (it prints its banner then). */
  readonly ready = new Map<string, Promise<void>>();

  /** A lab on `servers`, or undefined when they were skipped. */
  static on(
    servers: LabServers,
    prefix: string,
    opts: DistributedLabOptions = {},
  ): DistributedLab | undefined {
    const { pg, redis } = servers;
    return pg && redis ? new DistributedLab({ pg, redis }, prefix, opts) : undefined;
  }

  /** A new lab folder (`qlab-<prefix>-…`) on `servers`; start() opens the hub and workers. */
  constructor(
    readonly servers: { pg: PgServer; redis: RedisServer },
    prefix: string,
    readonly opts: DistributedLabOptions = {},
  ) {
    this.labDir = mkdtempSync(join(tmpdir(), `qlab-${prefix}-`));
  }

  /** The environment of the lab's processes: the database password, the test kinds if asked for. */
  env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      PGPASSWORD: this.servers.pg.password,
      ...(this.opts.testKinds ? { [EXTRA_KINDS_ENV]: LAB_KINDS_FIXTURE } : {}),
    };
  }

  /** A new database, the hub on it (in this process), and one worker per name, waited for until ready. */
  async start(workerNames: readonly string[]): Promise<void> {
    this.storeUrl = await this.servers.pg.createDatabase();
    process.env.PGPASSWORD = this.servers.pg.password;
    if (this.opts.testKinds) process.env[EXTRA_KINDS_ENV] = LAB_KINDS_FIXTURE;
    this.hub = await openHub(this.labDir, this.storeUrl, this.servers.redis.url);
    for (const n of workerNames) this.startWorker(n);
    await Promise.all(workerNames.map((n) => this.ready.get(n)));
  }

  /** A `qlab worker` process named `name` on the lab's store, queue and folder; its stderr is kept for errors. */
  startWorker(name: string): ChildProcess {
    const p = spawnWorker({
      storeUrl: this.storeUrl,
      queueUrl: this.servers.redis.url,
      name,
      labDir: this.labDir,
      concurrency: this.opts.concurrency,
      env: this.env(),
    });
    let err = '';
    let out = '';
    const up = new Promise<void>((resolve, reject) => {
      p.stdout!.on('data', (d: Buffer) => {
        out = (out + d.toString()).slice(-4000);
        if (out.includes(`qlab worker ${name}:`)) resolve();
      });
      p.once('exit', (code) =>
        reject(new Error(`worker ${name} exited (${code}) before it was ready: ${err}`)),
      );
    });
    up.catch(() => undefined); // awaited by start() only; a worker started later is not waited for
    this.ready.set(name, up);
    p.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    p.on('exit', (code, sig) => {
      if (code !== 0 && sig === null) console.warn(`worker ${name} exited ${code}: ${err.slice(-800)}`);
    });
    this.workers.set(name, p);
    return p;
  }

  /** SIGTERM to every worker still running, awaited. */
  stopWorkers(): Promise<void> {
    return stopProcesses([...this.workers.values()]);
  }

  /** Workers, hub, servers and folder, each stopped even when one before it fails. */
  async close(): Promise<void> {
    try {
      await this.stopWorkers();
      await this.hub?.close();
    } finally {
      this.servers.pg.stop();
      this.servers.redis.stop();
      rmSync(this.labDir, { recursive: true, force: true });
    }
  }
}

export function isRunning(p: ChildProcess): boolean {
  return p.exitCode === null && p.signalCode === null;
}

/** SIGTERM to each process still running, and their exits awaited. */
export async function stopProcesses(ps: readonly (ChildProcess | undefined)[]): Promise<void> {
  const running = ps.filter((p): p is ChildProcess => p !== undefined && isRunning(p));
  for (const p of running) p.kill('SIGTERM');
  await Promise.all(running.map((p) => new Promise((r) => (isRunning(p) ? p.once('exit', r) : r(null)))));
}
