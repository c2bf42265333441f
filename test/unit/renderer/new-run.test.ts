import { describe, expect, it } from 'vitest';
import { LabError } from '../../../core/api/lab-api';
import {
  errorTarget,
  formRows,
  getAt,
  parseLeaf,
  parseTags,
  pathToField,
  setAt,
} from '../../../renderer/src/lib/config-form';
import { NewRunState } from '../../../renderer/src/state/new-run.svelte';
import { parseHash, routeHash, type Route } from '../../../renderer/src/lib/route';
import { FakeLabApi } from './fake-api';

const DEFAULTS = {
  qubits: 3,
  optimizer: { name: 'adam', lr: 0.05, nested: { on: true } },
  layers: [1, 2],
  note: null,
};

describe('config form helpers', () => {
  it('lists nested objects as groups and everything else as typed leaves', () => {
    const rows = formRows(DEFAULTS);
    expect(rows.map((r) => `${r.row}:${r.field}:${r.row === 'leaf' ? r.type : ''}:${r.depth}`)).toEqual([
      'leaf:qubits:number:0',
      'group:optimizer::0',
      'leaf:optimizer.name:string:1',
      'leaf:optimizer.lr:number:1',
      'group:optimizer.nested::1',
      'leaf:optimizer.nested.on:boolean:2',
      'leaf:layers:json:0',
      'leaf:note:json:0',
    ]);
    expect(pathToField(['a', 3, 'b'])).toBe('a[3].b');
  });

  it('setAt copies along the path and leaves the original alone', () => {
    const next = setAt(DEFAULTS, ['optimizer', 'nested', 'on'], false) as typeof DEFAULTS;
    expect(next.optimizer.nested.on).toBe(false);
    expect(DEFAULTS.optimizer.nested.on).toBe(true);
    expect(next.layers).toBe(DEFAULTS.layers); // untouched branches are shared
    expect(getAt(setAt(DEFAULTS, ['layers', 1], 7), ['layers'])).toEqual([1, 7]);
  });

  it('parses leaves and reports what is wrong', () => {
    expect(parseLeaf('number', ' 1e-3 ')).toEqual({ value: 0.001 });
    expect(parseLeaf('number', 'abc')).toEqual({ error: 'must be a number' });
    expect(parseLeaf('number', '')).toEqual({ error: 'must be a number' });
    expect(parseLeaf('boolean', 'true')).toEqual({ value: true });
    expect(parseLeaf('json', '[1,2]')).toEqual({ value: [1, 2] });
    expect('error' in parseLeaf('json', '[1,')).toBe(true);
    expect(parseTags(' a, b  a,,c ')).toEqual(['a', 'b', 'c']);
  });

  it('routes an error field to the nearest form field', () => {
    const fields = [
      'kind',
      'name',
      'seed',
      'tags',
      'config',
      'config.name',
      'config.layers',
      'config.optimizer.lr',
    ];
    expect(errorTarget('name', fields)).toBe('name');
    expect(errorTarget('config.name', fields)).toBe('config.name');
    expect(errorTarget('optimizer.lr', fields)).toBe('config.optimizer.lr');
    expect(errorTarget('config.layers[1]', fields)).toBe('config.layers');
    expect(errorTarget('config.unknownKey', fields)).toBe('config');
    // A bare name that is no top-level field is taken as a config path.
    expect(errorTarget('elsewhere', fields)).toBe('config');
    expect(errorTarget('elsewhere', ['name', 'seed'])).toBeNull();
  });
});

describe('NewRunState', () => {
  async function ready(): Promise<{ api: FakeLabApi; form: NewRunState }> {
    const api = new FakeLabApi();
    api.kinds = [
      { kind: 'sim-bench', title: 'Bench', description: '', defaults: { n: 4 } },
      { kind: 'vqc-fit', title: 'Fit', description: '', defaults: DEFAULTS },
    ];
    const form = new NewRunState(api);
    await form.load('vqc-fit');
    return { api, form };
  }

  it('starts from the kind defaults and sends the edited config, name, seed and tags', async () => {
    const { api, form } = await ready();
    expect(form.kind).toBe('vqc-fit');
    expect(form.drafts['config.optimizer.lr']).toBe('0.05');
    const lr = form.rows.find((r) => r.field === 'optimizer.lr');
    if (!lr || lr.row !== 'leaf') throw new Error('no lr row');
    form.editLeaf(lr, '0.1');
    form.name = ' first ';
    form.seedText = '42';
    form.tagsText = 'a, b';
    const run = await form.submit();
    expect(run).not.toBeNull();
    expect(api.calls.at(-1)).toEqual({
      method: 'createRun',
      arg: {
        kind: 'vqc-fit',
        name: 'first',
        seed: 42,
        tags: ['a', 'b'],
        config: { ...DEFAULTS, optimizer: { ...DEFAULTS.optimizer, lr: 0.1 } },
      },
    });
  });

  it('keeps local errors next to their field and sends nothing', async () => {
    const { api, form } = await ready();
    const q = form.rows.find((r) => r.field === 'qubits');
    if (!q || q.row !== 'leaf') throw new Error('no qubits row');
    form.editLeaf(q, 'three');
    form.seedText = '-1';
    expect(await form.submit()).toBeNull();
    expect(form.errors['config.qubits']).toBe('qubits: must be a number');
    expect(form.errors.seed).toMatch(/^seed:/);
    expect(api.calls.filter((c) => c.method === 'createRun')).toHaveLength(0);
    form.editLeaf(q, '5');
    form.seedText = '';
    expect(await form.submit()).not.toBeNull();
  });

  it('shows a server validation error next to the field it names', async () => {
    const { api, form } = await ready();
    api.createError = new LabError('invalid', 'config.optimizer.lr: must be positive', 'config.optimizer.lr');
    expect(await form.submit()).toBeNull();
    expect(form.errors['config.optimizer.lr']).toBe('config.optimizer.lr: must be positive');
    api.createError = new LabError('internal', 'disk full');
    await form.submit();
    expect(form.general).toBe('disk full');
    expect(form.errors['config.optimizer.lr']).toBeUndefined();
    api.createError = new LabError('invalid', 'qubits: too many', 'qubits');
    await form.submit();
    const q = form.rows.find((r) => r.field === 'qubits');
    if (!q || q.row !== 'leaf') throw new Error('no qubits row');
    expect(form.errors['config.qubits']).toBe('qubits: too many');
    form.editLeaf(q, '2');
    expect(form.errors['config.qubits']).toBeUndefined();
    api.createError = null;
    expect(await form.submit()).not.toBeNull();
  });

  it('round-trips through the JSON editor and refuses invalid JSON', async () => {
    const { api, form } = await ready();
    form.setMode('json');
    form.jsonText = '{"qubits": 5}';
    form.setMode('form');
    expect(form.mode).toBe('form');
    expect(form.rows.map((r) => r.field)).toEqual(['qubits']);
    form.setMode('json');
    form.jsonText = '{"qubits": ';
    form.setMode('form');
    expect(form.mode).toBe('json');
    expect(form.errors.config).toMatch(/^config: invalid JSON/);
    expect(await form.submit()).toBeNull();
    form.jsonText = '{"qubits": 6}';
    api.createError = new LabError('invalid', 'config.qubits: too many', 'config.qubits');
    expect(await form.submit()).toBeNull();
    expect(form.errors.config).toBe('config.qubits: too many');
    api.createError = null;
    expect(await form.submit()).not.toBeNull();
    expect((api.calls.at(-1)!.arg as { config: unknown }).config).toEqual({ qubits: 6 });
    form.selectKind('sim-bench');
    expect(form.config).toEqual({ n: 4 });
  });
});

describe('routes', () => {
  it('round-trip through the hash', () => {
    const routes: Route[] = [
      { page: 'runs' },
      { page: 'new', kind: 'vqc-fit' },
      { page: 'new', kind: null },
      { page: 'new', kind: 'qhead', from: 'run-1' },
      { page: 'run', id: 'abc' },
      { page: 'compare', ids: ['a', 'b', 'c'] },
    ];
    for (const r of routes) expect(parseHash(routeHash(r))).toEqual(r);
    expect(parseHash('#/nowhere')).toEqual({ page: 'runs' });
    expect(parseHash('')).toEqual({ page: 'runs' });
  });
});
