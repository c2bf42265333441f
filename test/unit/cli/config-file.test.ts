import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyOverrides, parseRunFile, readRunFile } from '../../../core/cli/config-file';
import { locateJsonError, parseJsonLocated } from '../../../core/cli/json-locate';
import { resolveLabDir } from '../../../core/cli/context';

describe('locateJsonError', () => {
  it('gives the line and column of the first offending character', () => {
    // trailing comma: the error is at the closing brace on line 3, column 1
    expect(locateJsonError('{\n  "a": 1,\n}')).toMatchObject({ line: 3, column: 1 });
    // missing colon after "b" on line 2
    expect(locateJsonError('{"a": 1,\n   "b" 2}')).toMatchObject({ line: 2, column: 8 });
    expect(locateJsonError('[1, 2,]')).toMatchObject({ line: 1, column: 7 });
    expect(locateJsonError('{"a": tru}')).toMatchObject({ line: 1, column: 10 });
    expect(locateJsonError('')).toMatchObject({ line: 1, column: 1, message: 'unexpected end of input' });
    expect(locateJsonError('{"a": "x\ny"}')).toMatchObject({ line: 1, column: 9 });
    expect(locateJsonError('{} x')).toMatchObject({ line: 1, column: 4 });
    expect(locateJsonError('{"a": 01}')).toMatchObject({ line: 1, column: 8 });
  });

  it('agrees with JSON.parse on which texts are valid (random mutations of a config)', () => {
    const base = JSON.stringify(
      { kind: 'k', seed: 3, tags: ['a', 'b'], config: { x: -1.5e3, y: [true, null, 'q\\"'] } },
      null,
      1,
    );
    const alphabet = '{}[]",:0123456789-+.eEtrufalsn \n\\x';
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let invalid = 0;
    for (let i = 0; i < 3000; i++) {
      const chars = [...base];
      const edits = 1 + rand(3);
      for (let e = 0; e < edits; e++) {
        const at = rand(chars.length);
        const op = rand(3);
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, alphabet[rand(alphabet.length)]);
        else chars[at] = alphabet[rand(alphabet.length)];
      }
      const text = chars.join('');
      let nativeOk = true;
      try {
        JSON.parse(text);
      } catch {
        nativeOk = false;
      }
      const r = parseJsonLocated(text);
      expect(r.ok).toBe(nativeOk);
      if (!r.ok) {
        invalid++;
        // The checker must itself find the error (the fallback message means it thought the text valid).
        expect(r.error.message).not.toBe('invalid JSON');
        const lines = text.split('\n');
        expect(r.error.line).toBeLessThanOrEqual(lines.length);
        expect(r.error.column).toBeLessThanOrEqual(lines[r.error.line - 1].length + 1);
      }
    }
    expect(invalid).toBeGreaterThan(1000);
  });
});

describe('run config files', () => {
  it('parses a complete file into a createRun request', () => {
    const req = parseRunFile(
      JSON.stringify({ kind: 'sim-bench', name: 'n', seed: 4, tags: ['t'], config: { qubits: 4 } }),
      'f.json',
    );
    expect(req).toEqual({ kind: 'sim-bench', name: 'n', seed: 4, tags: ['t'], config: { qubits: 4 } });
    expect(parseRunFile('{"kind":"k"}', 'f.json')).toEqual({ kind: 'k', config: {} });
  });

  it('names the file, line and column for bad JSON', () => {
    expect(() => parseRunFile('{\n  "kind": "k",\n}', 'cfg.json')).toThrow(
      /^cfg\.json:3:1: invalid JSON: expected a double-quoted property name, found '}'$/,
    );
  });

  it('names the field for envelope errors', () => {
    expect(() => parseRunFile('{"config":{}}', 'c.json')).toThrow(/^c\.json: kind: /);
    expect(() => parseRunFile('{"kind":"k","seed":-1}', 'c.json')).toThrow(/^c\.json: seed: /);
    expect(() => parseRunFile('{"kind":"k","seed":1.5}', 'c.json')).toThrow(/^c\.json: seed: /);
    expect(() => parseRunFile('{"kind":"k","tags":["a",""]}', 'c.json')).toThrow(/^c\.json: tags\[1\]: /);
    expect(() => parseRunFile('{"kind":"k","confg":{}}', 'c.json')).toThrow(/^c\.json: \(root\): .*confg/);
    expect(() => parseRunFile('{"kind":"k","config":[1]}', 'c.json')).toThrow(/^c\.json: config: /);
    expect(() => parseRunFile('[]', 'c.json')).toThrow(/^c\.json: \(root\): /);
  });

  it('reports a missing file and a directory in one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qlab-cfg-'));
    expect(() => readRunFile(join(dir, 'nope.json'))).toThrow(/^config file not found: .*nope\.json$/);
    expect(() => readRunFile(dir)).toThrow(/^config file is a directory/);
    writeFileSync(join(dir, 'ok.json'), '\ufeff{"kind":"k"}');
    expect(readRunFile(join(dir, 'ok.json'))).toEqual({ kind: 'k', config: {} }); // an editor's BOM is dropped
    expect(locateJsonError('\ufeff{}')).toMatchObject({ line: 1, column: 1 });
  });

  it('applies --name and --tag over the file', () => {
    const req = applyOverrides({ kind: 'k', config: {}, tags: ['a'] }, 'renamed', ['b', 'a']);
    expect(req).toEqual({ kind: 'k', config: {}, tags: ['a', 'b'], name: 'renamed' });
    expect(() => applyOverrides({ kind: 'k', config: {} }, '', [])).toThrow(/--name/);
  });
});

describe('resolveLabDir', () => {
  it('prefers --lab-dir, then QLAB_HOME, then ~/.qlab; relative paths from the working directory', () => {
    expect(resolveLabDir('x', { env: { QLAB_HOME: '/h' }, cwd: '/w' })).toBe('/w/x');
    expect(resolveLabDir(undefined, { env: { QLAB_HOME: '/h' }, cwd: '/w' })).toBe('/h');
    expect(resolveLabDir(undefined, { env: {}, cwd: '/w' })).toMatch(/\.qlab$/);
    expect(() => resolveLabDir(' ', { env: {}, cwd: '/w' })).toThrow(/must not be empty/);
  });
});
