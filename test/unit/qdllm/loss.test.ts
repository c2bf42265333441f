import { describe, expect, it } from 'vitest';
import {
  distillLossBackward,
  distillLossForward,
  distillWeights,
  type DistillLossOptions,
  type DistillMode,
} from '../../../core/nn/distill-loss';

// Teacher logits [2 ln 3, 0] at T = 2 give p_t = softmax([ln 3, 0]) = [3/4, 1/4]; student logits [0, 0] give
// p_s = [1/2, 1/2] at any temperature; label 0.
const teacher = Float64Array.from([2 * Math.log(3), 0]);
const student = Float64Array.from([0, 0]);
const labels = Int32Array.from([0]);
const KL = 0.75 * Math.log(0.75 / 0.5) + 0.25 * Math.log(0.25 / 0.5);
const JS =
  0.5 * (0.75 * Math.log(0.75 / 0.625) + 0.25 * Math.log(0.25 / 0.375)) +
  0.5 * (0.5 * Math.log(0.5 / 0.625) + 0.5 * Math.log(0.5 / 0.375));
const CE = Math.log(2);

const opts = (mode: DistillMode, alpha = 0.9, temperature = 2): DistillLossOptions => ({
  alpha,
  temperature,
  mode,
});

function numericGrad(
  z: Float64Array,
  t: Float64Array,
  y: Int32Array,
  N: number,
  C: number,
  o: DistillLossOptions,
) {
  const g = new Float64Array(z.length);
  const h = 1e-6;
  for (let i = 0; i < z.length; i++) {
    const p = Float64Array.from(z);
    const m = Float64Array.from(z);
    p[i] += h;
    m[i] -= h;
    g[i] = (distillLossForward(p, t, y, N, C, o).loss - distillLossForward(m, t, y, N, C, o).loss) / (2 * h);
  }
  return g;
}

describe('QD-LLM distillation loss', () => {
  it('matches hand-computed CE, KL and JS and the paper weighting', () => {
    const v = distillLossForward(student, teacher, labels, 1, 2, opts('all'));
    expect(v.ce).toBeCloseTo(CE, 12);
    expect(v.kl).toBeCloseTo(KL, 12);
    expect(v.js).toBeCloseTo(JS, 12);
    expect(v.loss).toBeCloseTo(0.1 * CE + 0.9 * (4 * KL + JS), 12);
    expect(distillLossForward(student, teacher, labels, 1, 2, opts('ce')).loss).toBeCloseTo(CE, 12);
    expect(distillLossForward(student, teacher, labels, 1, 2, opts('kl')).loss).toBeCloseTo(4 * KL, 12);
    expect(distillLossForward(student, teacher, labels, 1, 2, opts('js')).loss).toBeCloseTo(JS, 12);
    // α = 0 leaves CE alone, α = 1 the teacher terms alone
    expect(distillLossForward(student, teacher, labels, 1, 2, opts('all', 0)).loss).toBeCloseTo(CE, 12);
    expect(distillLossForward(student, teacher, labels, 1, 2, opts('all', 1)).loss).toBeCloseTo(
      4 * KL + JS,
      12,
    );
  });

  it('has the hand-computed gradient for CE and T²·KL', () => {
    // ∂CE/∂z = p_s − onehot = [−1/2, 1/2]; ∂(T²KL)/∂z = T·(p_s,T − p_t,T) = 2·[−1/4, 1/4]
    const dce = new Float64Array(2);
    distillLossBackward(dce, student, teacher, labels, 1, 2, opts('ce'));
    expect(dce[0]).toBeCloseTo(-0.5, 12);
    expect(dce[1]).toBeCloseTo(0.5, 12);
    const dkl = new Float64Array(2);
    distillLossBackward(dkl, student, teacher, labels, 1, 2, opts('kl'));
    expect(dkl[0]).toBeCloseTo(-0.5, 12);
    expect(dkl[1]).toBeCloseTo(0.5, 12);
  });

  it('agrees with central finite differences in every mode (N = 3, C = 4, f64)', () => {
    const N = 3;
    const C = 4;
    const z = Float64Array.from({ length: N * C }, (_, i) => Math.sin(1.7 * i) * 1.5);
    const t = Float64Array.from({ length: N * C }, (_, i) => Math.cos(0.9 * i + 0.3) * 2);
    const y = Int32Array.from([2, 0, 3]);
    for (const mode of ['ce', 'kl', 'js', 'all'] as const) {
      for (const T of [1, 2, 3.5]) {
        const o = opts(mode, 0.7, T);
        const g = new Float64Array(N * C);
        distillLossBackward(g, z, t, y, N, C, o);
        const num = numericGrad(z, t, y, N, C, o);
        for (let i = 0; i < g.length; i++) expect(Math.abs(g[i] - num[i])).toBeLessThan(1e-8);
      }
    }
  });

  it('adds into the gradient buffer and refuses α outside [0, 1]', () => {
    const g = Float64Array.from([1, 1]);
    distillLossBackward(g, student, teacher, labels, 1, 2, opts('ce'));
    expect(g[0]).toBeCloseTo(0.5, 12);
    expect(() => distillWeights(opts('all', 1.2))).toThrow(/alpha: must be in \[0, 1\]/);
    expect(() => distillWeights(opts('all', 0.5, 0))).toThrow(/temperature/);
  });
});
