// Set-up shared by the LabService integration tests: a fresh lab directory per test with the fixture job kinds
// (test/fixtures/lab-kinds.ts) registered, the lab opened on it recording every event and closed after the test,
// and in-process or recording job launchers for driving the service's process handling.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach } from 'vitest';
import type { LabEvent } from '../../core/api/lab-api';
import { EXTRA_KINDS_ENV } from '../../core/lab/kinds';
import { ChildProcessLauncher, type JobLauncher, type JobProcess } from '../../core/lab/launcher';
import type { ParentMessage } from '../../core/lab/protocol';
import { openLab, type LabService, type OpenLabOptions } from '../../core/lab/service';

/** The fixture job kinds (test-stream, test-crash, test-sweep), loaded by the lab through EXTRA_KINDS_ENV. */
export const LAB_KINDS_FIXTURE = fileURLToPath(new URL('../fixtures/lab-kinds.ts', import.meta.url));

export interface LabFixture {
  /** This test's lab directory (new for every test, removed after it). */
  readonly dir: string;
  /** Every event of the lab last opened with open(), in order (new for every test). */
  readonly events: LabEvent[];
  /** Opens a lab on `dir` that records its events; it is closed after the test. */
  open(opts?: Omit<OpenLabOptions, 'labDir'>): Promise<LabService>;
}

/**
 * Registers the hooks (call it once at a test file's top level): the fixture kinds before all tests, a new
 * `<prefix>…` directory before each, and after each the lab closed and the directory removed.
 */
export function labFixture(prefix: string): LabFixture {
  let dir = '';
  let events: LabEvent[] = [];
  let lab: LabService | undefined;
  beforeAll(() => {
    process.env[EXTRA_KINDS_ENV] = LAB_KINDS_FIXTURE;
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    events = [];
  });
  afterEach(async () => {
    // close() is a no-op on a lab the test closed itself
    await lab?.close();
    lab = undefined;
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    get events() {
      return events;
    },
    async open(opts = {}) {
      lab = await openLab({ labDir: dir, ...opts });
      lab.onEvent((e) => events.push(e));
      return lab;
    },
  };
}

/** A child_process launcher that remembers the processes it started, so a test can kill -9 one. */
export class RecordingLauncher implements JobLauncher {
  readonly name = 'recording';
  readonly procs: JobProcess[] = [];
  private readonly inner = new ChildProcessLauncher();
  spawn(): JobProcess {
    const p = this.inner.spawn();
    this.procs.push(p);
    return p;
  }
}

/**
 * An in-process job process: says `ready`, answers `start` with the worker messages `script` gives for the run
 * id, then exits by itself unless `exitAfter` is false (it then waits for the lab to kill it).
 */
export class ScriptedProcess implements JobProcess {
  readonly pid = undefined;
  private msg: ((m: unknown) => void)[] = [];
  private exit: ((c: number | null, s: string | null) => void)[] = [];
  private gone = false;
  constructor(
    private readonly script: (runId: string) => unknown[],
    private readonly exitAfter = true,
  ) {
    setTimeout(() => this.msg.forEach((cb) => cb({ type: 'ready', pid: 1 })), 5);
  }
  send(m: ParentMessage): void {
    if (m.type !== 'start') return;
    setTimeout(() => {
      for (const x of this.script(m.runId)) {
        if (this.gone) return;
        this.msg.forEach((cb) => cb(x));
      }
      if (this.exitAfter) this.kill('SIGTERM');
    }, 5);
  }
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.gone) return;
    this.gone = true;
    setTimeout(() => this.exit.forEach((cb) => cb(null, signal)), 5);
  }
  onMessage(cb: (m: unknown) => void): void {
    this.msg.push(cb);
  }
  onExit(cb: (c: number | null, s: string | null) => void): void {
    this.exit.push(cb);
  }
}

/** Calls `fn` every `intervalMs` until it returns non-null, then returns that; throws naming `what` after `ms`. */
export async function pollFor<T>(
  what: string,
  ms: number,
  fn: () => Promise<T | null>,
  intervalMs = 150,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Polls `cond` every 20 ms until it holds; throws after `timeoutMs`. */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
