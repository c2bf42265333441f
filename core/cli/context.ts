// What a command needs from its process: output streams, environment, working directory, and how to
// open the lab. Injected so commands run in-process in tests.
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { Calibration, CalibrateRequest, CreateRunRequest, LabApi, RunSummary } from '../api/lab-api';
import type { CreateSweepRequest } from '../api/sweep';
import type { EndpointSpec } from '../lab/endpoints';
import { CliError } from './errors';

export interface OutStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
}

/** The part of LabService the CLI uses: the LabApi plus lifetime and waiting. */
export interface CliLab extends LabApi {
  /** `localFiles`: the CLI's user names their own files; the lab's file roots bind HTTP and IPC callers only. */
  createRun(req: CreateRunRequest, opts?: { localFiles?: boolean }): Promise<RunSummary>;
  createSweep(req: CreateSweepRequest, opts?: { localFiles?: boolean }): Promise<RunSummary>;
  calibrate(req?: CalibrateRequest, opts?: { localFiles?: boolean }): Promise<Calibration>;
  close(): Promise<void>;
  waitForRun(id: string): Promise<RunSummary>;
}

export interface OpenOptions {
  /** false: no scheduler; the lab reads, tags, notes and cancels but starts no job. */
  schedule?: boolean;
  /** false: start only runs created here, leaving runs queued by another live lab process to it. */
  adoptQueued?: boolean;
  /** The run store (--store / QLAB_STORE; default SQLite in the lab directory). */
  storeSpec?: EndpointSpec;
  /** The job queue (--queue / QLAB_QUEUE; default the local queue). */
  queueSpec?: EndpointSpec;
  /** Jobs at once (qlab worker --concurrency). */
  concurrency?: number;
  /** This process's name in the runs it starts (qlab worker --name). */
  workerName?: string;
  /** Keep one job process started ahead of need (qlab worker). */
  warmSpare?: boolean;
}

export interface CliContext {
  stdout: OutStream;
  stderr: OutStream;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** schedule: false opens the store and kinds without a scheduler (commands that only read or cancel). */
  openLab(labDir: string, opts?: OpenOptions): Promise<CliLab>;
}

/** --lab-dir, else QLAB_HOME, else ~/.qlab; relative paths are taken from the working directory. */
export function resolveLabDir(flag: string | undefined, ctx: Pick<CliContext, 'env' | 'cwd'>): string {
  const raw = flag ?? (ctx.env.QLAB_HOME || undefined);
  if (raw === undefined) return join(homedir(), '.qlab');
  if (raw.trim() === '') throw new CliError('the lab directory must not be empty (--lab-dir or QLAB_HOME)');
  return isAbsolute(raw) ? raw : resolve(ctx.cwd, raw);
}

/** Resolves at the first SIGINT or SIGTERM (a long-running command's way to stop), then stops listening. */
export function untilSignal(): Promise<void> {
  return new Promise((ok) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      ok();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
