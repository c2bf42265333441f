// The wizard's sweep section: axes from each kind's metadata (sweepable fields and the seed), values checked
// by the kind's schema as they are typed (errors beside the axis, nothing sent), the run count against
// MAX_SWEEP_RUNS, Start calling createSweep with the axes, the server's refusal beside the axis it names,
// the command line that `qlab sweep` reads back to the same axes, and the child runs a kind's own config
// creates (from its metadata).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readRunFile, readSweepFile } from '../../../core/cli/config-file';
import { LabError } from '../../../core/api/lab-types';
import { listKindMetas } from '../../../core/methods/catalog';
import { MAX_SWEEP_RUNS, parseAxisValues, type CreateSweepRequest } from '../../../core/api/sweep';
import { parseVary } from '../../../core/cli/sweep';
import { wizardFor } from '../../../renderer/src/lib/wizard';
import type { Config } from '../../../renderer/src/lib/wizard/spec';
import {
  SEED_AXIS_SPEC,
  formatValues,
  parseSweepValues,
  sweepCommand,
} from '../../../renderer/src/lib/wizard/sweep';
import {
  SWEEP_CHECK_MS,
  SWEEP_GENERAL,
  WizardState,
  sweepKey,
} from '../../../renderer/src/state/wizard.svelte';
import { FakeLabApi } from './fake-api';

/** The wizard on its review step; the sweep check runs at once unless a delay is given (see the debounce tests). */
function open(kind: string, api = new FakeLabApi(), sweepCheckMs = 0) {
  const meta = listKindMetas().find((m) => m.kind === kind)!;
  const defaults = JSON.parse(JSON.stringify(meta.schema.parse({}))) as Config;
  const w = new WizardState(api, wizardFor(kind, defaults)!, defaults, { sweepCheckMs });
  for (let i = 0; i < w.spec.steps.length; i++) w.next();
  expect(w.isReview).toBe(true);
  return { w, api, meta };
}

describe('sweep axes from the metadata', () => {
  it.each(listKindMetas().map((m) => [m.kind, m] as const))(
    '%s offers exactly its sweepable fields and the seed',
    (kind, meta) => {
      const { w } = open(kind);
      const sweepable = [...new Set(meta.fields.filter((f) => f.sweepable).map((f) => f.key))];
      const offered = w.sweepAxisSpecs.map((a) => a.field);
      expect(offered.at(-1)).toBe('seed');
      // every offered field is sweepable; the ones left out belong to a variant not chosen
      for (const f of offered.slice(0, -1)) expect(sweepable).toContain(f);
      const hidden = sweepable.filter((k) => !offered.includes(k));
      for (const k of hidden)
        expect(meta.fields.filter((f) => f.key === k).every((f) => f.variant !== undefined)).toBe(true);
      expect(w.isSweep).toBe(false);
      expect(w.plan).toMatchObject({ runs: 1 });
    },
  );
});

describe('vqc-fit sweep', () => {
  it('counts runs as the product, calls createSweep with the axes, and names no run count without a sweep', async () => {
    const { w, api } = open('vqc-fit');
    w.editSweep('layers', '1, 2');
    w.editSweep('seed', '1..2');
    expect(w.sweepErrors).toEqual({});
    expect(w.sweepSize).toBe(4);
    expect(w.plan).toMatchObject({ runs: 4, childRuns: 0 });
    expect(w.sweepCommandLine).toBe('qlab sweep vqc-fit.json --vary layers=1,2 --vary seed=1,2');
    w.editReview('name', 'grid');
    const run = await w.submit();
    expect(run?.childCount).toBe(4);
    const req = api.calls.find((c) => c.method === 'createSweep')?.arg as CreateSweepRequest;
    expect(req.name).toBe('grid');
    expect(req.axes).toEqual([
      { field: 'layers', values: [1, 2] },
      { field: 'seed', values: [1, 2] },
    ]);
    expect(req.config).toEqual(w.config);
    expect(api.calls.some((c) => c.method === 'createRun')).toBe(false);
    // cleared: a single run again
    w.editSweep('layers', '');
    w.editSweep('seed', ' ');
    expect(w.isSweep).toBe(false);
    await w.submit();
    expect(api.calls.filter((c) => c.method === 'createRun')).toHaveLength(1);
  });

  it('checks each value against the field schema as it is typed, beside the axis, and sends nothing', async () => {
    const { w, api } = open('vqc-fit');
    w.editSweep('qubits', '2, 40');
    expect(w.sweepErrors[sweepKey('qubits')]).toBe(
      'qubits=40: config.qubits: Too big: expected number to be <=16',
    );
    w.editSweep('layers', 'two');
    expect(w.sweepErrors[sweepKey('layers')]).toBe('layers: "two" is not a number');
    w.editSweep('dataset', 'circles, spirals-x');
    expect(w.sweepErrors[sweepKey('dataset')]).toMatch(/"spirals-x" is not one of/);
    w.editSweep('seed', '-1');
    expect(w.sweepErrors[sweepKey('seed')]).toMatch(/a seed must be an integer from 0 to 4294967295/);
    expect(w.stepErrors(w.step).length).toBeGreaterThanOrEqual(4);
    expect(await w.submit()).toBeNull();
    expect(api.calls.filter((c) => /^create/.test(c.method))).toEqual([]);
    // fixed one by one
    w.editSweep('qubits', '2, 3');
    w.editSweep('layers', '1');
    w.editSweep('dataset', 'circles, moons');
    w.editSweep('seed', '5');
    expect(w.sweepErrors).toEqual({});
    expect(w.sweepSize).toBe(4);
  });

  it(`refuses a grid over ${MAX_SWEEP_RUNS} runs before Start, naming the limit`, async () => {
    const { w, api } = open('vqc-fit');
    w.editSweep('seed', '1..100');
    w.editSweep('layers', '1..11');
    expect(w.sweepSize).toBe(1100);
    expect(w.sweepProblem).toBe(
      'this sweep would create 1,100 runs (11 × 100), over the limit of 1,000 runs per sweep',
    );
    expect(w.plan).toBeNull();
    expect(await w.submit()).toBeNull();
    expect(api.calls.filter((c) => c.method === 'createSweep')).toEqual([]);
    w.editSweep('layers', '1..10');
    expect(w.sweepProblem).toBeNull();
    expect(w.sweepSize).toBe(1000);
  });

  it("shows the server's refusal beside the axis it names, or on the sweep's line", async () => {
    const api = new FakeLabApi();
    const { w } = open('vqc-fit', api);
    w.editSweep('layers', '1, 2');
    w.editSweep('lr', '0.1, 0.01');
    api.createError = new LabError(
      'invalid',
      'point 3 of 4 (layers=2 lr=0.1): config.lr: something the server checks',
      'axes[1].values[0]',
    );
    expect(await w.submit()).toBeNull();
    expect(w.sweepErrors[sweepKey('lr')]).toBe(
      'point 3 of 4 (layers=2 lr=0.1): config.lr: something the server checks',
    );
    expect(w.isReview).toBe(true);
    w.editSweep('lr', '0.1');
    expect(w.sweepErrors[sweepKey('lr')]).toBeUndefined();
    api.createError = new LabError('invalid', 'axes: the grid is too large', 'axes');
    await w.submit();
    expect(w.sweepErrors[SWEEP_GENERAL]).toBe('axes: the grid is too large');
  });

  it('saves the base config as a file qlab run reads', () => {
    const { w } = open('vqc-fit');
    w.editReview('name', 'my grid/1');
    w.editReview('seed', '7');
    w.editReview('tags', 'a, b');
    const f = w.configFile();
    expect(f.filename).toBe('my-grid-1.json');
    expect(JSON.parse(f.content)).toEqual({
      kind: 'vqc-fit',
      name: 'my grid/1',
      seed: 7,
      tags: ['a', 'b'],
      config: w.config,
    });
  });
});

describe('the sweep as a file', () => {
  it('qlab sweep reads the saved sweep file back to the request Start sends; qlab run refuses it', () => {
    const { w } = open('vqc-fit');
    expect(w.sweepFile()).toBeNull();
    w.editReview('name', 'grid');
    w.editReview('seed', '3');
    w.editSweep('lr', '0.1, 0.01');
    w.editSweep('dataset', 'moons, 1');
    expect(w.sweepErrors[sweepKey('dataset')]).toMatch(/"1" is not one of/);
    w.editSweep('dataset', 'moons, xor');
    const f = w.sweepFile()!;
    expect(f.filename).toBe('grid.sweep.json');
    const dir = mkdtempSync(join(tmpdir(), 'wizard-sweep-file-'));
    try {
      writeFileSync(join(dir, f.filename), f.content);
      const read = readSweepFile(join(dir, f.filename));
      const req = w.sweepRequest()!;
      expect({ ...read.run, axes: read.axes }).toEqual(req);
      expect(() => readRunFile(join(dir, f.filename))).toThrow(/axes/);
      // the config file is a run file
      writeFileSync(join(dir, 'grid.json'), w.configFile().content);
      expect(readRunFile(join(dir, 'grid.json'))).toEqual({
        kind: 'vqc-fit',
        name: 'grid',
        seed: 3,
        config: w.config,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("clone and edit of a sweep's parent", () => {
  it('loadSweep puts the stored axes in the Sweep section as their inputs read them; the request is the sweep', () => {
    const { w } = open('vqc-fit', new FakeLabApi(), SWEEP_CHECK_MS);
    const axes = [
      { field: 'layers', values: [1, 2] },
      { field: 'dataset', values: ['circles', 'moons'] },
      { field: 'seed', values: [1, 2, 3] },
    ];
    w.editSweep('qubits', '2, 3'); // what was there before is replaced
    expect(w.loadSweep([...axes, { field: 'no.such.field', values: [1] }])).toEqual(['no.such.field']);
    expect(w.sweepDrafts).toMatchObject({
      qubits: '',
      layers: '1, 2',
      dataset: 'circles, moons',
      seed: '1..3',
    });
    expect(w.sweepPending).toBe(false); // checked at once: Start is not held back
    expect(w.sweepErrors).toEqual({});
    // the same axes, in the kind's field order as every wizard sweep (the same points, perhaps in another order)
    const kindOrder = [axes[1], axes[0], axes[2]];
    expect(w.sweepAxes).toEqual(kindOrder);
    expect(w.sweepSize).toBe(12);
    expect(w.sweepRequest()?.axes).toEqual(kindOrder);
  });
});

describe('a grid point no single value shows', () => {
  it('qhead: measured Q_m above the qubits only in one combination is named as createSweep names it', () => {
    const { w } = open('qhead');
    const qm = w.sweepAxisSpecs.find((a) => /measured/i.test(a.label))!.field;
    w.editSweep('head.qubits', '4, 6');
    w.editSweep(qm, '5');
    // 5 measured ≤ 6 qubits passes alone against the base (4 qubits fails): the per-value check flags it
    expect(w.sweepErrors[sweepKey(qm)]).toMatch(new RegExp(`^${qm.replace('.', '\\.')}=5: `));
    w.editSweep(qm, '2, 3');
    w.editSweep('head.qubits', '2, 4');
    expect(w.sweepErrors).toEqual({});
    expect(w.sweepProblem).toMatch(/^point 2 of 4 \(head\.qubits=2 head\.measured=3\): /);
    // with seeds (the last axis, varying fastest) the point is numbered as the server walks the full grid
    w.editSweep('seed', '1, 2');
    expect(w.sweepProblem).toMatch(/^point 3 of 8 \(head\.qubits=2 head\.measured=3 seed=1\): /);
  });
});

describe("a kind's own child runs, from its metadata", () => {
  it('qffn: the fraction/depth sweep in the config is counted as child runs, and per point in a lab sweep', () => {
    const { w } = open('qffn');
    const fractions = w.spec.steps
      .flatMap((s) => s.fields)
      .find((f) => f.path.join('.') === 'sweep.fractions')!;
    const depths = w.spec.steps.flatMap((s) => s.fields).find((f) => f.path.join('.') === 'sweep.depths')!;
    w.edit(fractions.id, '0.25, 0.5');
    w.edit(depths.id, '');
    expect(w.plan).toMatchObject({ runs: 1, childRuns: 2 });
    expect(w.plan!.lines[0]).toMatch(/creates 2 child runs under it/);
    w.editSweep('seed', '1..3');
    expect(w.plan).toMatchObject({ runs: 3, childRuns: 0, innerPoints: 6 });
    expect(w.plan!.lines[0]).toMatch(/6 points in all/);
    w.editSweep('steps', '150, 200');
    expect(w.sweepErrors).toEqual({});
    expect(w.plan).toMatchObject({ runs: 6, innerPoints: 12 });
  });
});

describe('the command line', () => {
  it('reads back (qlab sweep --vary) to the same axes', () => {
    const axes = [
      { field: 'lr', values: [0.1, 0.01, 1e-5] },
      { field: 'dataset', values: ['circles', 'moons'] },
      { field: 'seed', values: [1, 2, 3, 4, 5] },
      { field: 'prompts', values: [['a,b', 'c'], ['d']] },
      { field: 'name', values: ['7', 'x y', "it's"] },
      { field: 'flag', values: [true, false] },
    ];
    const line = sweepCommand('run.json', axes);
    expect(line).toContain('--vary seed=1..5');
    // undo the shell's quoting of each word, then the CLI's parser
    const words = [...line.matchAll(/--vary ('(?:[^']|'\\'')*'|\S+)/g)].map((m) =>
      m[1].startsWith("'") ? m[1].slice(1, -1).replace(/'\\''/g, "'") : m[1],
    );
    expect(words.map((w) => parseVary(w))).toEqual(axes);
    expect(parseAxisValues(formatValues([3, 4]))).toEqual([3, 4]);
  });

  it('seed ranges parse like the CLI and stay bounded', () => {
    expect(parseSweepValues(SEED_AXIS_SPEC, '1..5, 9')).toEqual({ values: [1, 2, 3, 4, 5, 9] });
    expect(parseSweepValues(SEED_AXIS_SPEC, '1..100000')).toEqual({
      error: 'the range 1..100000 has 100000 values, over the limit of 1000',
    });
    expect(parseSweepValues(SEED_AXIS_SPEC, '3, 3')).toEqual({ error: '3 is given twice' });
  });
});

describe(`the sweep check runs once the typing pauses (${SWEEP_CHECK_MS} ms), and Start waits for it`, () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('Start is disabled from a keystroke until the check of that text has run; each key restarts the wait', () => {
    const { w } = open('vqc-fit', new FakeLabApi(), SWEEP_CHECK_MS);
    expect(w.startBlocked).toBe(false);
    w.editSweep('qubits', '2, 4');
    expect(w.sweepPending).toBe(true);
    expect(w.startBlocked).toBe(true);
    expect(w.isSweep).toBe(false); // nothing about the sweep is read from unchecked text
    vi.advanceTimersByTime(SWEEP_CHECK_MS - 1);
    expect(w.startBlocked).toBe(true);
    w.editSweep('qubits', '2, 40');
    vi.advanceTimersByTime(SWEEP_CHECK_MS - 1);
    expect(w.sweepPending).toBe(true);
    expect(w.startBlocked).toBe(true);
    expect(w.sweepErrors).toEqual({});
    vi.advanceTimersByTime(1);
    expect(w.sweepPending).toBe(false);
    expect(w.sweepErrors[sweepKey('qubits')]).toBe(
      'qubits=40: config.qubits: Too big: expected number to be <=16',
    );
    expect(w.startBlocked).toBe(true); // now for the marked value
    w.editSweep('qubits', '2, 4');
    expect(w.startBlocked).toBe(true); // the fix is not trusted before its check
    vi.advanceTimersByTime(SWEEP_CHECK_MS);
    expect(w.startBlocked).toBe(false);
    expect(w.isSweep).toBe(true);
    expect(w.sweepSize).toBe(2);
    // emptied: a single run again, once checked
    w.editSweep('qubits', '');
    expect(w.startBlocked).toBe(true);
    vi.advanceTimersByTime(SWEEP_CHECK_MS);
    expect(w.startBlocked).toBe(false);
    expect(w.isSweep).toBe(false);
  });

  it('Start pressed inside the pause checks the text first: a bad value is never sent', async () => {
    const { w, api } = open('vqc-fit', new FakeLabApi(), SWEEP_CHECK_MS);
    w.editSweep('qubits', '2, 40');
    expect(await w.submit()).toBeNull();
    expect(api.calls.filter((c) => /^create/.test(c.method))).toEqual([]);
    expect(w.sweepErrors[sweepKey('qubits')]).toMatch(/qubits=40/);
    w.editSweep('qubits', '2, 3');
    const run = await w.submit();
    expect(run?.childCount).toBe(2);
    const req = api.calls.find((c) => c.method === 'createSweep')?.arg as CreateSweepRequest;
    expect(req.axes).toEqual([{ field: 'qubits', values: [2, 3] }]);
  });
});
