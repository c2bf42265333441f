// The preload is the only code with both Electron and page access: keep it a small, allow-listed bridge.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAB_API_METHODS } from '../../../core/api/lab-api';
import { EVENT_CHANNEL, INVOKE_CHANNEL_PREFIX } from '../../../electron/main/ipc';

const source = readFileSync(new URL('../../../electron/preload/index.ts', import.meta.url), 'utf8');
const code = source.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');

describe('electron/preload/index.ts', () => {
  it("imports only 'electron'", () => {
    const specifiers = [
      ...code.matchAll(
        /\bfrom\s+['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]|\brequire\s*\(\s*['"]([^'"]+)['"]/g,
      ),
    ].map((m) => m[1] ?? m[2] ?? m[3]);
    expect(specifiers).toEqual(['electron']);
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
    const list = /const METHODS = \[([\s\S]*?)\] as const;/.exec(code)?.[1] ?? '';
    const methods = [...list.matchAll(/'([^']+)'/g)].map((m) => m[1]);
    expect(methods).toEqual([...LAB_API_METHODS]);
    expect(code).toContain(`\`${INVOKE_CHANNEL_PREFIX}\${method}\``);
    expect(code).toContain(`const EVENT_CHANNEL = '${EVENT_CHANNEL}'`);
    // the method is checked against the list before anything is sent
    expect(code.indexOf('METHODS as readonly string[]).includes(method)')).toBeLessThan(
      code.indexOf('ipcRenderer.invoke'),
    );
  });
});
