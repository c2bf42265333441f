import { describe, expect, it } from 'vitest';
import {
  splitLegacyBandwidth,
  chartTitle,
  energyCurves,
  isNoisy,
  meanStd,
  modelColor,
  seedStd,
  seedCurves,
  smooth,
  splitSeed,
  wantsLogScale,
  wholeSteps,
  xAxisTitle,
} from '../../../renderer/src/lib/chart-series';

describe('chart series', () => {
  it('folds seeds into one mean ± std line per model, each seed on demand', () => {
    const series = [
      { key: 'quantum/seed0/val_acc', steps: [1, 2], values: [0.5, 0.7] },
      { key: 'quantum/seed1/val_acc', steps: [1, 2], values: [0.7, 0.9] },
      { key: 'mlp/seed0/val_acc', steps: [1, 2], values: [0.6, 0.6] },
      { key: 'mlp/seed1/val_acc', steps: [1, 2], values: [0.6, 0.8] },
    ];
    const curves = seedCurves(series);
    expect(curves.map((c) => [c.label, c.seeds])).toEqual([
      ['quantum', 2],
      ['mlp', 2],
    ]);
    expect(curves[0].values).toEqual([0.6, 0.8]);
    expect(curves[0].min![0]).toBeCloseTo(0.5);
    expect(curves[0].max![1]).toBeCloseTo(0.9);
    expect(curves[0].color).toBe(modelColor('quantum'));
    expect(curves[1].color).not.toBe(curves[0].color);
    // the tooltip's spread: quantum at x = 2 is 0.8 ± 0.1
    expect(seedStd(curves[0], 1)).toBeCloseTo(0.1);
    expect(seedStd(seedCurves([series[0]])[0], 1)).toBeNull();
    const all = seedCurves(series, true);
    expect(all.filter((c) => c.faint).map((c) => c.label)).toEqual([
      'quantum seed0',
      'quantum seed1',
      'mlp seed0',
      'mlp seed1',
    ]);
    // Learning-rate candidates stay apart; only the seed is folded.
    expect(splitSeed('quantum/seed1/lr0/val_acc')).toEqual({
      line: 'quantum/lr0',
      seed: 'seed1',
      model: 'quantum',
    });
    expect(seedCurves([{ key: 'base/pretrain_loss', steps: [1], values: [2] }])[0].label).toBe('base');
  });

  it('averages over the seeds present at each x', () => {
    const m = meanStd([
      { key: 'a', steps: [1, 2, 3], values: [1, 2, 3] },
      { key: 'b', steps: [1, 2], values: [3, 4] },
    ]);
    expect(m.steps).toEqual([1, 2, 3]);
    expect(m.values).toEqual([2, 3, 3]);
    expect(m.max).toEqual([3, 4, 3]);
  });

  it('names the x axis from the key', () => {
    expect(xAxisTitle('qhead', 'quantum/seed0/val_acc')).toBe('epoch');
    expect(xAxisTitle('qdllm', 'teacher/finetune_step_loss')).toBe('step');
    expect(xAxisTitle('qtha', 'qtha/seed0/train_loss')).toBe('step');
    expect(xAxisTitle('qhead', 'energy/sim_train_J')).toBe('qubits');
    expect(xAxisTitle('qhead', 'quantum/train_seconds')).toBe('seconds');
    // vqc-fit's loss and accuracies are per epoch, its step_loss per batch.
    expect(xAxisTitle('vqc-fit', 'quantum/loss')).toBe('epoch');
    expect(xAxisTitle('vqc-fit', 'mlp/test_acc')).toBe('epoch');
    expect(xAxisTitle('vqc-fit', 'quantum/step_loss')).toBe('step');
    // The harness' unseeded <model>/train_loss is per batch step; its seeded curves per epoch.
    expect(xAxisTitle('qdllm', 'quantum/train_loss')).toBe('step');
    expect(xAxisTitle('qdllm', 'quantum/seed0/lr1/train_loss')).toBe('epoch');
    // sim-bench's bandwidth is drawn against the state's width.
    expect(xAxisTitle('sim-bench', 'gate_bandwidth_fraction')).toBe('qubits');
    expect(xAxisTitle('sim-bench', 'gate_bandwidth_fraction_batched')).toBe('qubits');
  });

  it("draws an older sim-bench run's batched point (x = 100 + qubits) as its own line at x = qubits", () => {
    const old = { key: 'gate_bandwidth_fraction', steps: [16, 20, 110], values: [0.4, 0.3, 0.6] };
    expect(splitLegacyBandwidth('sim-bench', [old])).toEqual([
      { key: 'gate_bandwidth_fraction', steps: [16, 20], values: [0.4, 0.3] },
      { key: 'gate_bandwidth_fraction_batched', steps: [10], values: [0.6] },
    ]);
    // a new run's series, and other kinds, pass unchanged
    const fresh = [
      { key: 'gate_bandwidth_fraction', steps: [16, 20], values: [0.4, 0.3] },
      { key: 'gate_bandwidth_fraction_batched', steps: [10], values: [0.6] },
    ];
    expect(splitLegacyBandwidth('sim-bench', fresh)).toEqual(fresh);
    expect(splitLegacyBandwidth('qffn', [old])).toEqual([old]);
    // the curves: two lines, every x a width
    const curves = seedCurves(splitLegacyBandwidth('sim-bench', [old]));
    expect(curves.map((c) => [c.label, c.steps])).toEqual([
      ['gate_bandwidth_fraction', [16, 20]],
      ['gate_bandwidth_fraction_batched', [10]],
    ]);
  });

  it("tells a model's learning-rate candidates apart by dash, in its one colour", () => {
    const key = (m: string, s: number, j: number) => `${m}/seed${s}/lr${j}/val_acc`;
    const series = ['quantum', 'mlp', 'logreg'].flatMap((m) =>
      [0, 1].flatMap((s) => [0, 1, 2].map((j) => ({ key: key(m, s, j), steps: [1, 2], values: [s, j] }))),
    );
    const curves = seedCurves(series);
    expect(curves).toHaveLength(9);
    // every line has its own colour and dash pair, and a model's lines share its colour
    expect(new Set(curves.map((c) => `${c.color}:${c.dash}`)).size).toBe(9);
    expect(new Set(curves.filter((c) => c.label.startsWith('mlp/')).map((c) => c.color))).toEqual(
      new Set([modelColor('mlp')]),
    );
    expect(curves.filter((c) => c.label.startsWith('quantum/')).map((c) => c.dash)).toEqual([0, 1, 2]);
    expect(chartTitle('val_acc', curves)).toBe(
      'val_acc by learning-rate candidate — mean ± std over 2 seeds',
    );
    expect(chartTitle('loss', seedCurves([{ key: 'quantum/loss', steps: [1, 2], values: [1, 2] }]))).toBe(
      'quantum: loss',
    );
    const two = ['quantum', 'mlp'].map((m) => ({ key: `${m}/loss`, steps: [1, 2], values: [1, 2] }));
    expect(chartTitle('loss', seedCurves(two))).toBe('loss');
  });

  it('gives the models of one kind distinct colours, the quantum model the first', () => {
    const kinds = [
      ['quantum', 'mlp', 'logreg', 'bow'],
      ['quantum', 'mlp', 'transformer', 'teacher'],
      ['qtha', 'lora-r', 'lora-2r', 'full', 'base'],
      ['qffn', 'classical', 'uncompressed', 'base'],
    ];
    for (const models of kinds) expect(new Set(models.map(modelColor)).size).toBe(models.length);
    expect(['quantum', 'qtha', 'qffn'].map(modelColor)).toEqual([0, 0, 0]);
  });

  it('ticks whole numbers when every x is one', () => {
    const c = (steps: number[]) => ({ label: 'x', steps, values: steps, color: 0 });
    expect(wholeSteps([c([1, 2, 3])])).toBe(true);
    expect(wholeSteps([c([1, 2.5])])).toBe(false);
  });

  it('turns log scale on past three decades of positive values, smooths, spots noise', () => {
    const c = (values: number[]) => ({ label: 'x', steps: values.map((_, i) => i), values, color: 0 });
    expect(wantsLogScale([c([1e-4, 1e38])])).toBe(true);
    expect(wantsLogScale([c([1, 999])])).toBe(false);
    expect(wantsLogScale([c([0, 1e9])])).toBe(false);
    expect(smooth([1, 1, 1], 0.9)).toEqual([1, 1, 1].map(() => expect.closeTo(1)));
    expect(smooth([0, 10], 0)).toEqual([0, 10]);
    const zigzag = Array.from({ length: 100 }, (_, i) => (i % 2 ? 1 : 2));
    expect(isNoisy([c(zigzag)], 'step')).toBe(true);
    expect(isNoisy([c(zigzag)], 'epoch')).toBe(false);
    // a small qffn run: 40 steps of jumpy loss start smoothed; a handful of points do not
    expect(isNoisy([c(zigzag.slice(0, 40))], 'step')).toBe(true);
    expect(isNoisy([c(zigzag.slice(0, 10))], 'step')).toBe(false);
  });

  it("draws qhead's energy curves on one chart, the fit's band around its line", () => {
    const q = [4, 6, 8];
    const e = (name: string, f: (n: number) => number) => ({
      key: `energy/${name}_J`,
      steps: q,
      values: q.map(f),
    });
    const curves = energyCurves([
      e('sim_forward', (n) => 2 ** n * 1e-9),
      e('qpu_forward', (n) => 1e5 * n),
      e('sim_train', (n) => 2 ** n * 1e-8),
      e('sim_train_lo', (n) => 2 ** n * 1e-9),
      e('sim_train_hi', (n) => 2 ** n * 1e-7),
      e('qpu_train', (n) => 1e6 * n),
      { key: 'energy/measured_forward_s', steps: q, values: [1, 2, 3] },
    ]);
    expect(curves.map((c) => c.label)).toEqual(['sim forward', 'qpu forward', 'sim train', 'qpu train']);
    // simulation and QPU by colour, forward and training by dash: four distinct styles
    expect(curves.map((c) => [c.color, c.dash])).toEqual([
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    const train = curves[2];
    expect(train.min).toEqual(q.map((n) => 2 ** n * 1e-9));
    expect(train.max).toEqual(q.map((n) => 2 ** n * 1e-7));
    expect(curves[0].min).toBeUndefined();
    expect(wantsLogScale(curves)).toBe(true);
  });
});
