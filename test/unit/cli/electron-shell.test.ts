// The desktop shell's logic with Electron replaced by small fakes (the Electron binary is not installed).
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LAB_API_METHODS, LabError, type LabApi, type LabEvent } from '../../../core/api/lab-api';
import {
  connectLabWindow,
  EVENT_CHANNEL,
  forwardLabEvents,
  invokeChannel,
  registerLabIpc,
  type InvokeEventLike,
} from '../../../electron/main/ipc';
import {
  appEntryUrl,
  appProtocolReply,
  contentSecurityPolicy,
  guardContents,
  isAllowedRequest,
  isAppUrl,
  safeWebPreferences,
  type AppLocation,
} from '../../../electron/main/security';
import {
  UtilityProcessLauncher,
  type UtilityChild,
  type UtilityForkOptions,
} from '../../../electron/main/utility-launcher';
import { FakeLabApi, makeRun } from '../renderer/fake-api';

const ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const run = makeRun({ id: ID, kind: 'k', name: 'n', createdAt: '2025-01-01T00:00:00.000Z' });

/** A LabApi that records calls; getRun of an unknown id rejects like the service. */
function fakeApi(): {
  api: LabApi;
  calls: [string, unknown][];
  emit: (e: LabEvent) => void;
  listeners: number;
} {
  const calls: [string, unknown][] = [];
  const listeners = new Set<(e: LabEvent) => void>();
  const rec =
    (name: string, value: unknown) =>
    async (arg?: unknown): Promise<never> => {
      calls.push([name, arg]);
      return value as never;
    };
  const api: LabApi = {
    listKinds: rec('listKinds', []),
    listRuns: rec('listRuns', [run]),
    queryRuns: rec('queryRuns', { total: 1, all: 1, offset: 0, runs: [run] }),
    getCalibration: rec('getCalibration', null),
    calibrate: rec('calibrate', {}),
    getRun: async (id) => {
      calls.push(['getRun', id]);
      throw new LabError('not-found', `id: no run ${id}`, 'id');
    },
    createRun: rec('createRun', run),
    cancelRun: rec('cancelRun', run),
    createSweep: rec('createSweep', run),
    getSeries: rec('getSeries', {}),
    compareRuns: rec('compareRuns', {}),
    exportRuns: rec('exportRuns', {}),
    setTags: rec('setTags', run),
    addNote: rec('addNote', {}),
    getRunConfigs: rec('getRunConfigs', []),
    getRunLog: rec('getRunLog', {}),
    updateNote: rec('updateNote', {}),
    deleteNote: rec('deleteNote', {}),
    exportPdf: rec('exportPdf', {}),
    exportBundle: rec('exportBundle', {}),
    importBundle: rec('importBundle', {}),
    getFileRoots: rec('getFileRoots', {}),
    pickFileRoot: rec('pickFileRoot', {}),
    removeFileRoot: rec('removeFileRoot', {}),
    onEvent: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  return {
    api,
    calls,
    emit: (e) => listeners.forEach((l) => l(e)),
    get listeners() {
      return listeners.size;
    },
  };
}

class FakeIpcMain {
  readonly handlers = new Map<string, (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>>();
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  call(channel: string, url: string, ...args: unknown[]): Promise<unknown> {
    const h = this.handlers.get(channel);
    if (!h) throw new Error(`no handler for ${channel}`);
    return h({ senderFrame: { url } }, ...args);
  }
}

const fileLoc: AppLocation = { kind: 'app', rendererDir: '/opt/qlab/out/renderer' };
const APP = 'app://qlab/index.html';

describe('IPC handlers', () => {
  it('registers one channel per allow-listed method and removes them again', () => {
    const ipc = new FakeIpcMain();
    const remove = registerLabIpc(ipc, fakeApi().api, () => true);
    expect([...ipc.handlers.keys()].sort()).toEqual(LAB_API_METHODS.map(invokeChannel).sort());
    remove();
    expect(ipc.handlers.size).toBe(0);
  });

  it('validates the argument before the service sees it and returns errors as values naming the field', async () => {
    const ipc = new FakeIpcMain();
    const { api, calls } = fakeApi();
    registerLabIpc(ipc, api, (u) => isAppUrl(u, fileLoc));
    expect(await ipc.call('qlab:createRun', APP, { kind: 'k', config: {}, seed: -1 })).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'invalid', field: 'seed' }),
    });
    expect(await ipc.call('qlab:getRun', APP, { id: 'x' })).toMatchObject({
      ok: false,
      error: { field: 'id' },
    });
    expect(await ipc.call('qlab:getRun', APP, 'x')).toMatchObject({ ok: false, error: { field: 'id' } });
    expect(await ipc.call('qlab:listKinds', APP, { extra: 1 })).toMatchObject({
      ok: false,
      error: { code: 'invalid' },
    });
    expect(await ipc.call('qlab:listRuns', APP, {}, {})).toMatchObject({
      ok: false,
      error: { field: 'arg' },
    });
    expect(calls).toEqual([]);
    // valid calls go through; service errors come back with their code and field
    expect(await ipc.call('qlab:listRuns', APP, { status: 'queued' })).toEqual({ ok: true, value: [run] });
    expect(await ipc.call('qlab:getRun', APP, { id: ID })).toEqual({
      ok: false,
      error: { code: 'not-found', message: `id: no run ${ID}`, field: 'id' },
    });
    expect(await ipc.call('qlab:cancelRun', APP, ID)).toEqual({ ok: true, value: run });
    expect(calls).toEqual([
      ['listRuns', { status: 'queued' }],
      ['getRun', ID],
      ['cancelRun', ID],
    ]);
  });

  it('validates and passes on getRunConfigs and getRunLog like every other method', async () => {
    const ipc = new FakeIpcMain();
    const { api, calls } = fakeApi();
    registerLabIpc(ipc, api, (u) => isAppUrl(u, fileLoc));
    expect(await ipc.call('qlab:getRunConfigs', APP, { ids: ['x'] })).toMatchObject({
      ok: false,
      error: { field: 'ids[0]' },
    });
    expect(await ipc.call('qlab:getRunLog', APP, { runId: ID, maxLines: 0 })).toMatchObject({
      ok: false,
      error: { field: 'maxLines' },
    });
    expect(calls).toEqual([]);
    expect(await ipc.call('qlab:getRunConfigs', APP, { ids: [ID] })).toEqual({ ok: true, value: [] });
    expect(await ipc.call('qlab:getRunLog', APP, { runId: ID })).toEqual({ ok: true, value: {} });
    expect(calls).toEqual([
      ['getRunConfigs', { ids: [ID] }],
      ['getRunLog', { runId: ID }],
    ]);
  });

  it('refuses calls from any frame that is not the app page', async () => {
    const ipc = new FakeIpcMain();
    const { api, calls } = fakeApi();
    registerLabIpc(ipc, api, (u) => isAppUrl(u, fileLoc));
    for (const url of ['https://evil.example/', 'file:///tmp/other.html', '']) {
      expect(await ipc.call('qlab:listRuns', url)).toMatchObject({ ok: false, error: { field: 'sender' } });
    }
    expect(calls).toEqual([]);
  });

  it('forwards events to the window until it is destroyed', () => {
    const fake = fakeApi();
    const sent: [string, LabEvent][] = [];
    let destroyed = false;
    forwardLabEvents(fake.api, { isDestroyed: () => destroyed, send: (c, e) => void sent.push([c, e]) });
    const ev: LabEvent = { type: 'run-created', run };
    fake.emit(ev);
    expect(sent).toEqual([[EVENT_CHANNEL, ev]]);
    destroyed = true;
    fake.emit(ev);
    expect(sent).toHaveLength(1);
    expect(fake.listeners).toBe(0);
  });
});

describe('the desktop transport with the run watch', () => {
  afterEach(() => vi.useRealTimers());

  it('brings runs another process wrote to the window within a second, and undoes everything on quit', async () => {
    vi.useFakeTimers();
    const api = new FakeLabApi();
    const old = makeRun({ status: 'succeeded' });
    api.runs = [old];
    const ipc = new FakeIpcMain();
    const sent: [string, LabEvent][] = [];
    const disconnect = connectLabWindow(
      ipc,
      api,
      { isDestroyed: () => false, send: (c, e) => void sent.push([c, e]) },
      (url) => url === APP,
      1000,
    );
    expect([...ipc.handlers.keys()]).toEqual(LAB_API_METHODS.map(invokeChannel));
    await vi.advanceTimersByTimeAsync(10);
    expect(sent).toEqual([]); // the first read is the baseline
    // `qlab run --detach` in a terminal writes a run to the same store.
    const fresh = makeRun({ status: 'queued', name: 'from the CLI' });
    api.runs = [fresh, old];
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toEqual([[EVENT_CHANNEL, { type: 'run-created', run: fresh }]]);
    // The service's own events still reach the window; calls go through to the lab.
    api.emit({ type: 'log', runId: fresh.id, level: 'info', message: 'hello' });
    expect(sent).toHaveLength(2);
    expect(await ipc.call(invokeChannel('listRuns'), APP, {})).toEqual({ ok: true, value: [fresh, old] });
    disconnect();
    expect(ipc.handlers.size).toBe(0);
    api.runs = [makeRun(), fresh, old];
    await vi.advanceTimersByTimeAsync(3000);
    expect(sent).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('window security', () => {
  it('uses a sandboxed, isolated renderer without Node', () => {
    expect(safeWebPreferences('/p.cjs')).toMatchObject({
      preload: '/p.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
    });
  });

  it('accepts only the app page for navigation and only local requests', () => {
    expect(isAppUrl(APP, fileLoc)).toBe(true);
    expect(isAppUrl(`${APP}#/runs/${ID}`, fileLoc)).toBe(true);
    expect(isAppUrl('app://qlab/other.html', fileLoc)).toBe(false);
    expect(isAppUrl('app://other/index.html', fileLoc)).toBe(false);
    // The app is never loaded from file: any more, and no file: URL is allowed at all.
    expect(isAppUrl('file:///opt/qlab/out/renderer/index.html', fileLoc)).toBe(false);
    expect(isAllowedRequest('file:///opt/qlab/out/renderer/assets/a.js', fileLoc)).toBe(false);
    expect(isAllowedRequest('file:///etc/passwd', fileLoc)).toBe(false);
    expect(isAppUrl('https://example.com/', fileLoc)).toBe(false);
    expect(isAppUrl('not a url', fileLoc)).toBe(false);
    expect(appEntryUrl(fileLoc)).toBe(APP);
    expect(isAllowedRequest('app://qlab/assets/a.js', fileLoc)).toBe(true);
    expect(isAllowedRequest('app://evil/assets/a.js', fileLoc)).toBe(false);
    expect(isAllowedRequest('https://cdn.example/x.js', fileLoc)).toBe(false);
    const dev: AppLocation = { kind: 'dev', url: 'http://localhost:5173/' };
    expect(isAppUrl('http://localhost:5173/#/x', dev)).toBe(true);
    expect(isAppUrl('http://localhost:5174/', dev)).toBe(false);
    expect(isAllowedRequest('ws://localhost:5173/', dev)).toBe(true);
    expect(isAllowedRequest('http://example.com/', dev)).toBe(false);
  });

  it('has a CSP with no remote sources', () => {
    const csp = contentSecurityPolicy(null);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toMatch(/https?:|\*/);
    expect(contentSecurityPolicy('http://localhost:5173')).toContain(
      "connect-src 'self' ws://localhost:5173",
    );
  });

  it('blocks navigation away, new windows and webviews', () => {
    const emitter = new EventEmitter();
    let openHandler: ((d: { url: string }) => { action: 'deny' }) | null = null;
    guardContents(
      {
        on: (event: string, listener: (...args: never[]) => void) =>
          emitter.on(event, listener as (...args: unknown[]) => void),
        setWindowOpenHandler: (h) => {
          openHandler = h;
        },
        getURL: () => APP,
      },
      fileLoc,
    );
    const attempt = (event: string, url?: string): boolean => {
      let prevented = false;
      emitter.emit(event, { preventDefault: () => (prevented = true) }, url);
      return prevented;
    };
    expect(attempt('will-navigate', 'https://evil.example/')).toBe(true);
    expect(attempt('will-redirect', 'https://evil.example/')).toBe(true);
    expect(attempt('will-navigate', `${APP}#/compare`)).toBe(false);
    expect(attempt('will-attach-webview')).toBe(true);
    // will-frame-navigate covers subframes too; its details carry the url.
    const frame = (url: string): boolean => {
      let prevented = false;
      emitter.emit('will-frame-navigate', { url, preventDefault: () => (prevented = true) });
      return prevented;
    };
    expect(frame('https://evil.example/')).toBe(true);
    expect(frame('file:///etc/passwd')).toBe(true);
    expect(frame(`${APP}#/runs`)).toBe(false);
    expect(openHandler).not.toBeNull();
    expect(openHandler!({ url: APP })).toEqual({ action: 'deny' });
  });

  it('opens a note’s http(s) and mailto: links in the system browser from the app page only; every window refused', () => {
    const open = (pageUrl: string, withExternal = true) => {
      let openHandler: ((d: { url: string }) => { action: 'deny' }) | null = null;
      const opened: string[] = [];
      guardContents(
        {
          on: () => undefined,
          setWindowOpenHandler: (h) => {
            openHandler = h;
          },
          getURL: () => pageUrl,
        },
        fileLoc,
        withExternal ? (url) => opened.push(url) : undefined,
      );
      return (url: string) => {
        expect(openHandler!({ url })).toEqual({ action: 'deny' });
        return opened;
      };
    };
    const fromApp = open(`${APP}#/runs/abc`);
    for (const url of [
      'https://arxiv.org/abs/1234.5678',
      'http://example.com/a?b=1#c',
      'mailto:me@example.com',
    ]) {
      expect(fromApp(url).at(-1)).toBe(url);
    }
    const refused = [
      'file:///etc/passwd',
      `${APP}#/runs`,
      'javascript:alert(1)',
      'data:text/html,<script>x</script>',
      'vscode://file/x',
      'smb://host/share',
      'https://user@evil.example/',
      'not a url',
    ];
    for (const url of refused) expect(fromApp(url)).toHaveLength(3);
    // another page (the hidden PDF window's report) hands nothing to the system
    const fromReport = open('file:///tmp/qlab-pdf-x/report.html');
    expect(fromReport('https://arxiv.org/')).toEqual([]);
    // no opener given: refused as before
    expect(open(`${APP}#/runs`, false)('https://arxiv.org/')).toEqual([]);
  });
});

class FakeUtility extends EventEmitter implements UtilityChild {
  pid: number | undefined = 4242;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly posted: unknown[] = [];
  killed = 0;
  postMessage(message: unknown): void {
    this.posted.push(message);
  }
  kill(): boolean {
    this.killed++;
    return true;
  }
  exit(code: number): void {
    this.pid = undefined;
    this.emit('exit', code);
  }
}

describe('UtilityProcessLauncher', () => {
  function launch() {
    const children: FakeUtility[] = [];
    const forks: [string, string[], UtilityForkOptions][] = [];
    const signals: [number, string][] = [];
    const launcher = new UtilityProcessLauncher({
      entry: '/app/out/main/worker.js',
      env: { QLAB_X: '1' },
      fork: (path, args, options) => {
        forks.push([path, args, options]);
        const c = new FakeUtility();
        children.push(c);
        return c;
      },
      killPid: (pid, sig) => void signals.push([pid, sig]),
    });
    return { proc: launcher.spawn(), child: () => children[0], forks, signals };
  }

  it('forks the bundled worker entry with piped output and the extra environment', () => {
    const { forks, proc } = launch();
    expect(forks).toHaveLength(1);
    expect(forks[0][0]).toBe('/app/out/main/worker.js');
    expect(forks[0][2]).toMatchObject({ stdio: 'pipe', env: expect.objectContaining({ QLAB_X: '1' }) });
    expect(proc.pid).toBe(4242);
  });

  it('passes messages both ways and reports output', async () => {
    const { proc, child } = launch();
    const got: unknown[] = [];
    const out: string[] = [];
    proc.onMessage((m) => got.push(m));
    proc.onOutput?.((s, t) => out.push(`${s}:${t}`));
    proc.send({ type: 'cancel' });
    expect(child().posted).toEqual([{ type: 'cancel' }]);
    child().emit('message', { type: 'ready' });
    child().stderr.write('boom\n');
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([{ type: 'ready' }]);
    expect(out).toEqual(['stderr:boom\n']);
  });

  it('reports exit once, after messages that were already queued, and sends nothing afterwards', async () => {
    const { proc, child } = launch();
    const order: string[] = [];
    proc.onMessage(() => order.push('message'));
    proc.onExit((code, signal) => order.push(`exit ${code} ${signal}`));
    child().exit(3);
    child().emit('message', { type: 'done' }); // delivered after 'exit' by Electron's event order
    child().exit(3);
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toEqual(['message', 'exit 3 null']);
    proc.send({ type: 'cancel' });
    expect(child().posted).toEqual([]);
  });

  it('kills with SIGTERM through Electron and with other signals by pid', () => {
    const { proc, child, signals } = launch();
    proc.kill();
    expect(child().killed).toBe(1);
    proc.kill('SIGKILL');
    expect(signals).toEqual([[4242, 'SIGKILL']]);
    child().exit(0);
    proc.kill('SIGKILL');
    expect(signals).toHaveLength(1);
  });
});

describe('the app:// protocol', () => {
  it('serves only regular files really inside the renderer folder', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'qlab-app-'));
    try {
      const r = join(dir, 'renderer');
      mkdirSync(join(r, 'assets'), { recursive: true });
      writeFileSync(join(r, 'index.html'), '<title>qlab</title>');
      writeFileSync(join(r, 'assets', 'a.js'), 'x');
      writeFileSync(join(dir, 'secret.txt'), 'secret');
      symlinkSync(join(dir, 'secret.txt'), join(r, 'link.txt'));
      symlinkSync('/dev/zero', join(r, 'zero.js'));
      const get = (u: string) => appProtocolReply(r, u);
      expect((await get('app://qlab/')).body.toString()).toContain('qlab');
      expect(await get('app://qlab/assets/a.js')).toMatchObject({
        status: 200,
        mimeType: 'text/javascript; charset=utf-8',
      });
      for (const u of [
        'app://qlab/link.txt',
        'app://qlab/zero.js',
        'app://qlab/../secret.txt',
        'app://qlab/%2e%2e/secret.txt',
        'app://qlab/assets',
        'app://other/index.html',
        'file:///etc/passwd',
      ]) {
        const x = await get(u);
        expect(x.status, u).toBe(404);
        expect(x.body.toString()).not.toContain('secret');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
