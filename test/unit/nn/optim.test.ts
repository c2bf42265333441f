import { describe, expect, it } from 'vitest';
import { Adam, AdamW, SGD, clipGradNorm, linearWarmup, warmupCosine } from '../../../core/nn/optim';
import { Rng } from '../../../core/util/rng';
import { Parameter, setFrozen } from '../../../core/nn/tensor';

function param(values: number[], grad: number[]): Parameter {
  const p = new Parameter('p', [values.length], 'f64');
  p.data.set(values);
  p.grad.set(grad);
  return p;
}

describe('optimizers against hand-computed steps', () => {
  it('SGD with momentum', () => {
    const p = param([1], [0.5]);
    const opt = new SGD([p], { momentum: 0.9 });
    opt.step(0.1); // v = 0.5, θ = 1 − 0.05
    expect(p.data[0]).toBeCloseTo(0.95, 15);
    opt.step(0.1); // v = 0.9·0.5 + 0.5 = 0.95, θ = 0.95 − 0.095
    expect(p.data[0]).toBeCloseTo(0.855, 15);
  });

  it('Adam: first step moves by lr·sign(g); second step by hand', () => {
    const p = param([1, -2], [0.3, -4]);
    const opt = new Adam([p]);
    opt.step(0.01);
    expect(p.data[0]).toBeCloseTo(1 - 0.01 * (0.3 / (0.3 + 1e-8)), 12);
    expect(p.data[1]).toBeCloseTo(-2 + 0.01, 8);
    p.grad.set([0.1, 0.1]);
    opt.step(0.01);
    const m = 0.9 * 0.1 * 0.3 + 0.1 * 0.1;
    const v = 0.999 * 0.001 * 0.09 + 0.001 * 0.01;
    const upd = (0.01 * (m / (1 - 0.81))) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8);
    expect(p.data[0]).toBeCloseTo(1 - 0.01 * (0.3 / (0.3 + 1e-8)) - upd, 12);
  });

  it('AdamW decays decoupled from the gradient; Adam weight decay is L2 in the gradient', () => {
    const p = param([2], [0]);
    new AdamW([p], { weightDecay: 0.1 }).step(0.5); // g = 0: only θ ← θ − lr·wd·θ
    expect(p.data[0]).toBeCloseTo(2 - 0.5 * 0.1 * 2, 12);
    const q = param([2], [0]);
    new Adam([q], { weightDecay: 0.1 }).step(0.5); // g = 0.2 → first Adam step moves by lr
    expect(q.data[0]).toBeCloseTo(1.5, 6);
  });

  it('skips frozen parameters', () => {
    const a = param([1], [1]);
    const b = param([1], [1]);
    b.name = 'frozen.weight';
    expect(setFrozen([a, b], 'frozen', true)).toBe(1);
    new AdamW([a, b]).step(0.1);
    expect(a.data[0]).not.toBe(1);
    expect(b.data[0]).toBe(1);
  });
});

describe('schedules and clipping', () => {
  it('linear warmup then cosine to minLr', () => {
    expect(warmupCosine(0, 1, 10, 110)).toBeCloseTo(0.1, 15);
    expect(warmupCosine(9, 1, 10, 110)).toBeCloseTo(1, 15);
    expect(warmupCosine(60, 1, 10, 110, 0.1)).toBeCloseTo(0.55, 15);
    expect(warmupCosine(110, 1, 10, 110, 0.1)).toBe(0.1);
    expect(linearWarmup(4, 2, 5)).toBeCloseTo(2, 15);
    expect(linearWarmup(50, 2, 5)).toBe(2);
  });

  it('clips by global norm across parameters', () => {
    const a = param([0, 0], [3, 0]);
    const b = param([0], [4]);
    expect(clipGradNorm([a, b], 1)).toBeCloseTo(5, 15);
    expect(a.grad[0]).toBeCloseTo(0.6, 6);
    expect(b.grad[0]).toBeCloseTo(0.8, 6);
    expect(clipGradNorm([a, b], 10)).toBeCloseTo(1, 5); // under the limit: unchanged
    expect(b.grad[0]).toBeCloseTo(0.8, 6);
  });
});

describe('seeded generator', () => {
  it('same seed, same sequence; normals have mean 0 and variance 1', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xs);
    expect(new Rng(43).nextU32()).not.toBe(xs[0]);
    const r = new Rng(1);
    const n = 20000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.04);
  });
});
