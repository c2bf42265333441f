// One interface over the ways a job process is started: child_process.fork here (CLI, browser mode), Electron's
// utilityProcess.fork in the desktop app (written in electron/, against this same interface).
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { relaxedSimdExecArgv } from '../nn/wasm/relaxed-simd';
import type { ParentMessage } from './protocol';

export interface JobProcess {
  readonly pid: number | undefined;
  send(msg: ParentMessage): void;
  kill(signal?: NodeJS.Signals): void;
  onMessage(cb: (msg: unknown) => void): void;
  /** Called once, after the process has exited and every message it sent has been delivered. */
  onExit(cb: (code: number | null, signal: string | null) => void): void;
  /** Optional: the process's stdout/stderr text, for logs and crash reasons. */
  onOutput?(cb: (stream: 'stdout' | 'stderr', text: string) => void): void;
}

export interface JobLauncher {
  readonly name: string;
  spawn(): JobProcess;
  /** Optional: ends what the launcher keeps ready (a warm spare process); called when the lab closes. */
  close?(): void;
}

/** The worker entry as a source file; bundlers ship their own copy and pass its path. */
export const WORKER_ENTRY = fileURLToPath(new URL('./worker/main.ts', import.meta.url));

/** tsx's loader as an absolute URL, so the child resolves it whatever its working directory. */
function tsxLoaderUrl(): string {
  const require = createRequire(import.meta.url);
  return pathToFileURL(require.resolve('tsx')).href;
}

export interface ChildProcessLauncherOptions {
  /** Worker entry file; a .ts entry is run through tsx. */
  entry?: string;
  /** Extra environment for the child (merged over process.env). */
  env?: Record<string, string>;
}

class ChildJobProcess implements JobProcess {
  private readonly outputListeners: ((stream: 'stdout' | 'stderr', text: string) => void)[] = [];
  constructor(private readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (t: string) => this.outputListeners.forEach((cb) => cb('stdout', t)));
    child.stderr?.on('data', (t: string) => this.outputListeners.forEach((cb) => cb('stderr', t)));
  }
  get pid(): number | undefined {
    return this.child.pid;
  }
  send(msg: ParentMessage): void {
    // A child that has already gone cannot be told anything; its exit is reported through onExit.
    if (this.child.connected) this.child.send(msg, (err) => void err);
  }
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
  onMessage(cb: (msg: unknown) => void): void {
    this.child.on('message', (m: unknown) => cb(m));
  }
  onExit(cb: (code: number | null, signal: string | null) => void): void {
    let fired = false;
    const fire = (code: number | null, signal: string | null) => {
      if (!fired) {
        fired = true;
        cb(code, signal);
      }
    };
    // 'close' comes after 'exit' once stdio and the IPC channel are drained, so no message is lost.
    this.child.once('close', (code, signal) => fire(code, signal));
    // A process that never started gets 'error' and possibly no 'close'.
    this.child.once('error', () => {
      if (this.child.pid === undefined) fire(null, null);
    });
  }
  onOutput(cb: (stream: 'stdout' | 'stderr', text: string) => void): void {
    this.outputListeners.push(cb);
  }
}

export class ChildProcessLauncher implements JobLauncher {
  readonly name = 'child_process';
  private readonly entry: string;
  private readonly env: Record<string, string>;
  constructor(opts: ChildProcessLauncherOptions = {}) {
    this.entry = opts.entry ?? WORKER_ENTRY;
    this.env = opts.env ?? {};
  }
  spawn(): JobProcess {
    // V8's relaxed-SIMD flag (the gemm's FMA) from the job's start where this Node has it only behind the flag
    const execArgv = [
      ...relaxedSimdExecArgv(),
      ...(/\.[cm]?ts$/.test(this.entry) ? ['--import', tsxLoaderUrl()] : []),
    ];
    const child = fork(this.entry, [], {
      execArgv,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    // Spawn failures (missing node, bad entry) arrive as 'error'; 'close' still follows with the exit code.
    child.on('error', () => undefined);
    return new ChildJobProcess(child);
  }
}
