// JobLauncher for the desktop app: each job runs in an Electron utility process forked from the bundled
// worker entry (out/main/worker.js). Electron is reached only through the `fork` function passed in, so this
// file is unit-testable without the Electron binary.
import type { JobLauncher, JobProcess } from '../../core/lab/launcher';
import type { ParentMessage } from '../../core/lab/protocol';

/** The part of Electron's UtilityProcess used here. */
export interface UtilityChild {
  readonly pid: number | undefined;
  readonly stdout: NodeJS.ReadableStream | null;
  readonly stderr: NodeJS.ReadableStream | null;
  postMessage(message: unknown): void;
  kill(): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  on(event: 'error', listener: (type: string, location: string, report: string) => void): unknown;
}

export interface UtilityForkOptions {
  serviceName: string;
  stdio: 'pipe';
  env: Record<string, string | undefined>;
}

export type UtilityFork = (modulePath: string, args: string[], options: UtilityForkOptions) => UtilityChild;

/** Sends a signal to a pid; injected so tests can observe it. */
export type KillPid = (pid: number, signal: NodeJS.Signals) => void;

class UtilityJobProcess implements JobProcess {
  private exited = false;
  private fatal: string | null = null;
  private readonly outputListeners: ((stream: 'stdout' | 'stderr', text: string) => void)[] = [];
  /** The pid is cleared by Electron on exit; keep the first one seen for late kills and logs. */
  private readonly firstPid: number | undefined;

  constructor(
    private readonly child: UtilityChild,
    private readonly killPid: KillPid,
  ) {
    this.firstPid = child.pid;
    child.on('exit', () => {
      this.exited = true;
    });
    // V8 fatal errors arrive as 'error' before 'exit'; keep the location as the crash reason.
    child.on('error', (type, location) => {
      this.fatal = `${type} at ${location}`;
    });
    for (const name of ['stdout', 'stderr'] as const) {
      const stream = child[name];
      stream?.setEncoding?.('utf8');
      stream?.on('data', (chunk: string | Buffer) => {
        const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
        for (const cb of this.outputListeners) cb(name, text);
      });
    }
  }

  get pid(): number | undefined {
    return this.child.pid ?? (this.exited ? undefined : this.firstPid);
  }

  send(msg: ParentMessage): void {
    if (!this.exited) this.child.postMessage(msg);
  }

  /** UtilityProcess.kill() only sends SIGTERM; other signals (SIGKILL after a cancel timeout) go by pid. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.exited) return;
    const pid = this.child.pid ?? this.firstPid;
    if (signal === 'SIGTERM' || pid === undefined) this.child.kill();
    else this.killPid(pid, signal);
  }

  onMessage(cb: (msg: unknown) => void): void {
    this.child.on('message', (m) => cb(m));
  }

  onExit(cb: (code: number | null, signal: string | null) => void): void {
    let fired = false;
    this.child.on('exit', (code) => {
      if (fired) return;
      fired = true;
      // Electron gives no 'close' after the message pipe drains; a tick lets queued messages land first.
      setTimeout(() => {
        if (this.fatal !== null)
          for (const l of this.outputListeners) l('stderr', `fatal error: ${this.fatal}\n`);
        cb(code, null);
      }, 20);
    });
  }

  onOutput(cb: (stream: 'stdout' | 'stderr', text: string) => void): void {
    this.outputListeners.push(cb);
  }
}

export interface UtilityProcessLauncherOptions {
  fork: UtilityFork;
  /** Absolute path of the bundled worker entry. */
  entry: string;
  env?: Record<string, string>;
  killPid?: KillPid;
}

export class UtilityProcessLauncher implements JobLauncher {
  readonly name = 'utilityProcess';
  private readonly opts: UtilityProcessLauncherOptions;
  constructor(opts: UtilityProcessLauncherOptions) {
    this.opts = opts;
  }
  spawn(): JobProcess {
    const child = this.opts.fork(this.opts.entry, [], {
      serviceName: 'qlab job',
      stdio: 'pipe',
      env: { ...process.env, ...this.opts.env },
    });
    return new UtilityJobProcess(child, this.opts.killPid ?? ((pid, sig) => process.kill(pid, sig)));
  }
}
