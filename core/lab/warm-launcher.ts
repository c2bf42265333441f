// A launcher that keeps one job process started ahead of need. Starting a job process costs seconds (Node,
// tsx and the job kinds' modules load before it says `ready`: ~1.7 s of CPU here, 4–6 s of wall time on a
// loaded machine), while a short run computes for well under a second; `qlab worker` was spending most of its
// time starting processes. The spare is started at once and after each spawn(), so a claimed run gets a
// process that is already waiting for its start message. What the spare says before it is handed out (its
// `ready`, any output, an early exit) is kept and replayed to whoever takes it, in order. The next spare starts
// once the process handed out is up (its first message), so two never load at once. A spare that died while
// waiting is never handed out. close() kills the spare.
import type { ParentMessage } from './protocol';
import type { JobLauncher, JobProcess } from './launcher';

type OutputListener = (stream: 'stdout' | 'stderr', text: string) => void;

/** A JobProcess that records its events until a listener is attached, then replays them in order. */
class BufferedJobProcess implements JobProcess {
  private messages: unknown[] | null = [];
  private messageListener: ((msg: unknown) => void) | undefined;
  private output: [stream: 'stdout' | 'stderr', text: string][] | null = [];
  private outputListener: OutputListener | undefined;
  private exit: [code: number | null, signal: string | null] | undefined;
  private exitListener: ((code: number | null, signal: string | null) => void) | undefined;
  exited = false;
  /** Whether the process has said anything yet (its `ready`), or exited. */
  private spoke = false;
  private onSpoke: (() => void)[] = [];

  constructor(private readonly inner: JobProcess) {
    inner.onMessage((m) => {
      this.markSpoke();
      if (this.messageListener) this.messageListener(m);
      else this.messages?.push(m);
    });
    inner.onOutput?.((stream, text) => {
      if (this.outputListener) this.outputListener(stream, text);
      else this.output?.push([stream, text]);
    });
    inner.onExit((code, signal) => {
      this.exited = true;
      this.markSpoke();
      if (this.exitListener) this.exitListener(code, signal);
      else this.exit = [code, signal];
    });
  }
  private markSpoke(): void {
    if (this.spoke) return;
    this.spoke = true;
    const waiting = this.onSpoke;
    this.onSpoke = [];
    waiting.forEach((cb) => cb());
  }
  /** Calls cb once the process has said its first word (or exited); at once if it already has. */
  whenStarted(cb: () => void): void {
    if (this.spoke) cb();
    else this.onSpoke.push(cb);
  }
  get pid(): number | undefined {
    return this.inner.pid;
  }
  send(msg: ParentMessage): void {
    this.inner.send(msg);
  }
  kill(signal?: NodeJS.Signals): void {
    this.inner.kill(signal);
  }
  onMessage(cb: (msg: unknown) => void): void {
    const kept = this.messages ?? [];
    this.messages = null;
    this.messageListener = cb;
    for (const m of kept) cb(m);
  }
  onExit(cb: (code: number | null, signal: string | null) => void): void {
    this.exitListener = cb;
    if (this.exit) {
      const [code, signal] = this.exit;
      this.exit = undefined;
      cb(code, signal);
    }
  }
  onOutput(cb: OutputListener): void {
    const kept = this.output ?? [];
    this.output = null;
    this.outputListener = cb;
    for (const [stream, text] of kept) cb(stream, text);
  }
}

export class WarmLauncher implements JobLauncher {
  readonly name: string;
  private spare: BufferedJobProcess | undefined;
  private closed = false;

  constructor(private readonly inner: JobLauncher) {
    this.name = `${inner.name}+spare`;
    this.refill();
  }

  spawn(): JobProcess {
    if (this.closed) throw new Error('the launcher is closed');
    let p = this.spare;
    this.spare = undefined;
    if (p === undefined || p.exited) p = new BufferedJobProcess(this.inner.spawn());
    // the next spare starts once this one is up: two processes loading at once on a busy machine would slow
    // the run that is waiting now
    p.whenStarted(() => this.refill());
    return p;
  }

  private refill(): void {
    if (this.closed || this.spare !== undefined) return;
    try {
      this.spare = new BufferedJobProcess(this.inner.spawn());
    } catch {
      this.spare = undefined; // spawn() will try again, and report the error to its caller
    }
  }

  close(): void {
    this.closed = true;
    this.spare?.kill('SIGKILL');
    this.spare = undefined;
    this.inner.close?.();
  }
}
