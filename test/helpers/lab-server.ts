// The real `qlab serve` on a temporary lab dir, for the browser end-to-end tests: started on a free port, its
// output kept for error messages, and stopped (SIGTERM, then SIGKILL) with its lab dir removed afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CHROMIUM = process.env.QLAB_CHROMIUM ?? '/usr/bin/chromium';

/** Throws, saying what to do, when the built renderer or Chromium is missing. */
export function checkBrowserPrerequisites(): void {
  if (!existsSync(join(ROOT, 'out/renderer/index.html')))
    throw new Error('out/renderer is missing: run `npx electron-vite build` first');
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
}

/**
 * One LabApi call to a token-protected `qlab serve` (`base`: its origin with a trailing slash), as the browser
 * page makes it: POST /api/<method> with a bearer token. The value, or an error naming the method.
 */
export async function callLabApi(
  base: string,
  token: string,
  method: string,
  arg: unknown,
): Promise<unknown> {
  const r = await fetch(`${base}api/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify(arg),
  });
  const body = (await r.json()) as { ok: boolean; value?: unknown; error?: { message: string } };
  if (!body.ok) throw new Error(`${method}: ${body.error?.message}`);
  return body.value;
}

export class LabServer {
  /** The lab dir ('' until start()). */
  labDir = '';
  /** Everything the server printed. */
  log = '';
  /** The server's token (every `qlab serve` requires one; the printed URL carries it as ?token=). */
  token = '';
  /** The server's origin with a trailing slash, without the token (for building /api/… URLs). */
  origin = '';
  private child: ChildProcess | null = null;

  constructor(private readonly prefix: string) {}

  /**
   * Makes a `<prefix>…` lab dir, starts `qlab serve --port 0` on it and resolves with the URL it prints, token
   * included (`http://127.0.0.1:<port>/?token=…`): open it as it is, append `#/route` for a page. `prepare`
   * runs on the empty lab dir first.
   */
  start(
    prepare?: (labDir: string) => void,
    opts: { labDir?: string; env?: Record<string, string> } = {},
  ): Promise<string> {
    // `labDir`: serve an existing lab again (a restart after kill()).
    this.labDir = opts.labDir ?? mkdtempSync(join(tmpdir(), this.prefix));
    this.log = '';
    // E.g. runs written straight into the store before the server opens it.
    prepare?.(this.labDir);
    return new Promise((resolveUrl, reject) => {
      const child = spawn(
        process.execPath,
        [
          join(ROOT, 'bin/qlab.js'),
          'serve',
          '--port',
          '0',
          '--lab-dir',
          this.labDir,
          // another build of the renderer (e.g. an A/B of two builds); default: out/renderer
          ...(process.env.QLAB_E2E_RENDERER_DIR ? ['--renderer-dir', process.env.QLAB_E2E_RENDERER_DIR] : []),
        ],
        {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, FORCE_COLOR: '0', ...opts.env },
        },
      );
      this.child = child;
      const timer = setTimeout(
        () => reject(new Error(`qlab serve printed no URL in 30 s:\n${this.log}`)),
        30_000,
      );
      child.stdout.on('data', (chunk: Buffer) => {
        this.log += chunk.toString();
        const m = /qlab serving on (http:\/\/\S+)/.exec(this.log);
        if (m) {
          clearTimeout(timer);
          const url = new URL(m[1]);
          this.token = url.searchParams.get('token') ?? '';
          this.origin = `${url.origin}/`;
          resolveUrl(m[1]);
        }
      });
      child.stderr.on('data', (c: Buffer) => (this.log += c.toString()));
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`qlab serve exited with code ${code}:\n${this.log}`));
      });
    });
  }

  /** One LabApi call to this server (callLabApi). */
  api(method: string, arg: unknown): Promise<unknown> {
    return callLabApi(this.origin, this.token, method, arg);
  }

  /** The server's process id (null before start()). */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** kill -9: the server dies at once, with no chance to clean up; the lab dir stays (start it again on it). */
  async kill(): Promise<void> {
    const server = this.child;
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGKILL');
    await exited;
  }

  /** Stops the server (SIGKILL if it is still up 300 ms after SIGTERM) and removes the lab dir. */
  async stop(): Promise<void> {
    const server = this.child;
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    if (this.labDir) rmSync(this.labDir, { recursive: true, force: true });
  }
}
