// The batched head-scorer path (HeadScorer.batch: one simulator call per circuit over every sequence of a step)
// against the per-slot reference (one call per sequence and head): the same loss, logits and gradients (f64 to
// round-off, f32 within the kernels' summation-order noise), mapped and unmapped Gaussian heads and a unitary-kernel
// head, grouped-query attention; KV-cached decoding (per slot) reproduces the batched full-sequence logits.
import { describe, expect, it } from 'vitest';
import { GaussianKernelScorer, UnitaryKernelScorer } from '../../../core/nn/quantum-scorer';
import { zeroGrad, type Dtype } from '../../../core/nn/tensor';
import { Transformer, type TransformerConfig } from '../../../core/nn/transformer';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import { Rng } from '../../../core/util/rng';

const B = 3;
const T = 7;
const CFG: TransformerConfig = {
  flavour: 'llama',
  vocabSize: 19,
  hiddenSize: 24, // 4 heads of hd 6 over 2 kv heads
  intermediateSize: 32,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  maxSeqLen: T,
  initStd: 0.3,
};
const rng = new Rng(11);
const tokens = Int32Array.from({ length: B * T }, () => rng.int(CFG.vocabSize));
const targets = Int32Array.from({ length: B * T }, () => rng.int(CFG.vocabSize));
targets[4] = -100;

/** Simulator calls (forward, vjp) a model's scorers made. */
const calls = new Map<Transformer, { expval: number; vjp: number }>();

function build(dtype: Dtype, batch: boolean): Transformer {
  const sim = createCpuSimulator({ precision: dtype });
  const n = { expval: 0, vjp: 0 };
  const [expval, vjp] = [sim.expvalSync.bind(sim), sim.vjpSync.bind(sim)];
  sim.expvalSync = (r) => (n.expval++, expval(r));
  sim.vjpSync = (r, d) => (n.vjp++, vjp(r, d));
  const m = new Transformer(CFG, { dtype, seed: 3 });
  // unmapped (hd = 6 qubits) on heads 0 and 3 of block 0 (kv heads 0 and 1), mapped (6 → 5 qubits) on head 1 of block 1
  const heads: [number, number, number | undefined][] = [
    [0, 0, undefined],
    [0, 3, undefined],
    [1, 1, 5],
  ];
  for (const [l, h, qubits] of heads)
    m.setHeadScorer(
      l,
      h,
      new GaussianKernelScorer(`s${l}.${h}`, 6, sim, { depth: 2, dtype, seed: 7 * l + h, batch, qubits }),
    );
  // the learned-unitary kernel (SWAP test, one row per causal pair) on head 2 of block 1
  m.setHeadScorer(
    1,
    2,
    new UnitaryKernelScorer('s1.2', 6, sim, { depth: 2, dtype, seed: 9, beta: 3, batch }),
  );
  calls.set(m, n);
  return m;
}

function step(m: Transformer): { loss: number; logits: Float64Array; grads: Float64Array[] } {
  m.training = true;
  const ps = m.parameters();
  zeroGrad(ps);
  const loss = m.lmForward(tokens, B, T, targets);
  const logits = Float64Array.from(m.logits!.subarray(0, B * T * CFG.vocabSize));
  m.lmBackward();
  return { loss, logits, grads: ps.map((p) => Float64Array.from(p.grad)) };
}

/** Largest |a − b| / (1 + |b|) over the arrays. */
function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return w;
}

describe('batched head scorers equal the per-slot reference', () => {
  it.each([
    ['f64', 1e-12],
    ['f32', 2e-5],
  ] as const)('%s: loss, logits and every gradient', (dtype, tol) => {
    const batched = build(dtype, true);
    const perSlot = build(dtype, false);
    expect(batched.headScorer(0, 0)!.batch).not.toBeNull();
    expect(perSlot.headScorer(0, 0)!.batch).toBeNull();
    for (let i = 0; i < 2; i++) {
      const a = step(batched);
      const b = step(perSlot);
      expect(Math.abs(a.loss - b.loss)).toBeLessThanOrEqual(tol * (1 + Math.abs(b.loss)));
      expect(maxRel(a.logits, b.logits)).toBeLessThanOrEqual(tol);
      const names = batched.parameters().map((p) => p.name);
      expect(names).toEqual(perSlot.parameters().map((p) => p.name));
      a.grads.forEach((g, j) => {
        expect(g.some((x) => x !== 0) || !/^s\d/.test(names[j])).toBe(true); // every scorer parameter gets gradient
        expect(maxRel(g, b.grads[j]), names[j]).toBeLessThanOrEqual(tol);
      });
      // 3 Gaussian heads × 2 circuits and 1 unitary head: one call each per step batched, one per sequence per slot
      expect(calls.get(batched)).toEqual({ expval: 7 * (i + 1), vjp: 7 * (i + 1) });
      expect(calls.get(perSlot)).toEqual({ expval: 7 * B * (i + 1), vjp: 7 * B * (i + 1) });
      // one plain SGD step on both, so the second round compares moved weights too
      for (const m of [batched, perSlot])
        for (const p of m.parameters()) for (let k = 0; k < p.size; k++) p.data[k] -= 0.05 * p.grad[k];
    }
  });

  it('KV-cached decoding (per slot) reproduces the batched full-sequence logits', () => {
    const m = build('f64', true);
    m.training = false;
    const seq = tokens.slice(0, T);
    m.lmForward(seq, 1, T);
    const full = Float64Array.from(m.logits!.subarray(0, T * CFG.vocabSize));
    const cache = m.createKvCache();
    const V = CFG.vocabSize;
    const out = new Float64Array(T * V);
    out.set(m.forwardCached(cache, seq.slice(0, 3)).subarray(0, 3 * V));
    for (let t = 3; t < T; t++) out.set(m.forwardCached(cache, seq.slice(t, t + 1)).subarray(0, V), t * V);
    expect(maxRel(out, full)).toBeLessThanOrEqual(1e-12);
    // and the batched model generates what the per-slot one does
    expect(m.generate([1, 2], 4)).toEqual(build('f64', false).generate([1, 2], 4));
  });
});
