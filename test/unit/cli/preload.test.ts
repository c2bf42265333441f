// The preload is the only code with both Electron and page access: keep it a small, allow-listed bridge.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { LAB_API_METHODS } from '../../../core/api/lab-api';
import { EVENT_CHANNEL, INVOKE_CHANNEL_PREFIX } from '../../../electron/main/ipc';

const PRELOAD = fileURLToPath(new URL('../../../electron/preload/index.ts', import.meta.url));

const source = readFileSync(new URL('../../../electron/preload/index.ts', import.meta.url), 'utf8');
const code = source.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');

describe('electron/preload/index.ts', () => {
  it("imports only 'electron' and the method names from the zod-free lab-types", () => {
    const specifiers = [
      ...code.matchAll(
        /\bfrom\s+['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]|\brequire\s*\(\s*['"]([^'"]+)['"]/g,
      ),
    ].map((m) => m[1] ?? m[2] ?? m[3]);
    expect(specifiers).toEqual(['electron', '../../core/api/lab-types']);
    expect(code).toMatch(/import \{ LAB_API_METHODS \} from '\.\.\/\.\.\/core\/api\/lab-types';/);
    expect(code).not.toMatch(/\brequire\s*\(/);
    expect(code).not.toMatch(/\bimport\s*\(/);
  });

  it('mentions no fs, child_process, remote, shell or process access', () => {
    for (const word of [
      'fs',
      'child_process',
      'remote',
      'shell',
      'process',
      'webFrame',
      'sendSync',
      'eval',
    ]) {
      expect(code, word).not.toMatch(new RegExp(`\\b${word}\\b`));
    }
  });

  it('exposes exactly one object, qlabBridge, with invoke and onEvent', () => {
    const exposed = [...code.matchAll(/exposeInMainWorld\(\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
    expect(exposed).toEqual(['qlabBridge']);
    const body = /const bridge = \{([\s\S]*?)\n\};/.exec(code)?.[1] ?? '';
    const members = [...body.matchAll(/^ {2}(\w+)\s*[(:]/gm)].map((m) => m[1]);
    expect(members).toEqual(['invoke', 'onEvent']);
  });

  it('allow-lists exactly the LabApi request methods, on the channels the main process handles', () => {
    expect(code).toContain('const METHODS: readonly string[] = LAB_API_METHODS;');
    expect(code).toContain(`\`${INVOKE_CHANNEL_PREFIX}\${method}\``);
    expect(code).toContain(`const EVENT_CHANNEL = '${EVENT_CHANNEL}'`);
    // the method is checked against the list before anything is sent
    expect(code.indexOf('METHODS.includes(method)')).toBeGreaterThan(0);
    expect(code.indexOf('METHODS.includes(method)')).toBeLessThan(code.indexOf('ipcRenderer.invoke'));
  });

  it('bundles (as the build does) to code that requires only electron, pulls no zod, and lets exactly LAB_API_METHODS through', async () => {
    const out = await build({
      entryPoints: [PRELOAD],
      bundle: true,
      write: false,
      format: 'cjs',
      platform: 'node',
      external: ['electron'],
      logLevel: 'silent',
    });
    const bundled = out.outputFiles[0].text;
    expect([...bundled.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1])).toEqual([
      'electron',
    ]);
    expect(bundled).not.toMatch(/\bzod\b|ZodError|safeParse/);
    expect(bundled.length).toBeLessThan(8000);
    // run the bundle against a stand-in electron: every listed method reaches its channel, nothing else does
    let exposed: { invoke(m: string, a?: unknown): Promise<unknown> } | undefined;
    const sent: string[] = [];
    const electron = {
      contextBridge: { exposeInMainWorld: (_: string, api: typeof exposed) => (exposed = api) },
      ipcRenderer: {
        invoke: async (channel: string) => {
          sent.push(channel);
          return { ok: true, value: channel };
        },
        on: () => undefined,
        removeListener: () => undefined,
      },
    };
    const mod = { exports: {} };
    new Function('require', 'module', 'exports', bundled)(
      (id: string) => {
        if (id !== 'electron') throw new Error(`the preload required ${id}`);
        return electron;
      },
      mod,
      mod.exports,
    );
    for (const m of LAB_API_METHODS) expect(await exposed!.invoke(m)).toBe(`${INVOKE_CHANNEL_PREFIX}${m}`);
    await expect(exposed!.invoke('openExternal')).rejects.toMatchObject({ code: 'invalid', field: 'method' });
    await expect(exposed!.invoke('toString')).rejects.toMatchObject({ code: 'invalid' });
    expect(sent).toEqual(LAB_API_METHODS.map((m) => `${INVOKE_CHANNEL_PREFIX}${m}`));
  });
});
