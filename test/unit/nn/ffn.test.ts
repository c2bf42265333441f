// The model-side seams: feed-forward modules (SwiGLU, GELU, low-rank) against central differences, the
// transformer's replaceFeedForward / setHeadScorer checks, and the head seam against the classical fast path.
import { describe, expect, it } from 'vitest';
import {
  GeluMlp,
  LowRankLinear,
  lowRankMlp,
  lowRankMlpParamCount,
  SwigluMlp,
  type FeedForward,
} from '../../../core/nn/ffn';
import { DotProductScorer } from '../../../core/nn/head-scorer';
import { countParameters, zeroGrad } from '../../../core/nn/tensor';
import { Transformer } from '../../../core/nn/transformer';
import { dot, gradCheck, randArr } from './gradcheck';
import { TINY_BATCH, tinyTransformer as tiny } from '../../helpers/tiny-transformer';

const N = 3;
const C = 6;
const FF = 10;

/** Checks a FeedForward's input and parameter gradients of Σ out ⊙ w against central differences. */
function checkFfn(f: FeedForward, tol = 1e-6): void {
  let k = 10;
  for (const p of f.parameters()) p.data.set(randArr(p.size, k++));
  f.prepare(N);
  const x = randArr(N * C, 1);
  const w = randArr(N * C, 2);
  const out = new Float64Array(N * C);
  const dx = new Float64Array(N * C);
  zeroGrad(f.parameters());
  f.forward(out, x, N);
  f.backward(dx, w, x, N);
  const pairs = f
    .parameters()
    .map((p) => [p.data, Float64Array.from(p.grad)] as [Float64Array, Float64Array]);
  const r = gradCheck([[x, dx], ...pairs], () => {
    f.forward(out, x, N);
    return dot(out, w);
  });
  expect(r.maxRel, r.at).toBeLessThan(tol);
}

describe('feed-forward modules against central differences (f64, input and every parameter)', () => {
  it('SwiGLU MLP (llama)', () => checkFfn(new SwigluMlp('mlp', C, FF, { dtype: 'f64' })));
  it('GELU MLP with biases (gpt2)', () => checkFfn(new GeluMlp('mlp', C, FF, { dtype: 'f64', bias: true })));
  it('low-rank MLP, SwiGLU and GELU with biases', () => {
    checkFfn(lowRankMlp('mlp', C, FF, { rank: 2, activation: 'swiglu', dtype: 'f64' }));
    checkFfn(lowRankMlp('mlp', C, FF, { rank: 3, activation: 'gelu', bias: true, dtype: 'f64' }));
  });
  it('low-rank Linear equals the dense product of its factors', () => {
    const l = new LowRankLinear('l', 5, 4, 2, { bias: true, dtype: 'f64' });
    l.bias!.data.set(randArr(4, 3));
    const x = randArr(N * 5, 4);
    const out = new Float64Array(N * 4);
    l.forward(out, x, N);
    for (let n = 0; n < N; n++)
      for (let o = 0; o < 4; o++) {
        let s = l.bias!.data[o];
        for (let i = 0; i < 5; i++)
          for (let r = 0; r < 2; r++) s += l.B.data[o * 2 + r] * l.A.data[r * 5 + i] * x[n * 5 + i];
        expect(out[n * 4 + o]).toBeCloseTo(s, 12);
      }
  });
  it('parameter counts of the low-rank MLP', () => {
    const sw = lowRankMlp('m', C, FF, { rank: 2, activation: 'swiglu', dtype: 'f64' });
    expect(countParameters(sw.parameters())).toBe(lowRankMlpParamCount(C, FF, 2, 'swiglu'));
    const ge = lowRankMlp('m', C, FF, { rank: 2, activation: 'gelu', bias: true, dtype: 'f64' });
    expect(countParameters(ge.parameters())).toBe(lowRankMlpParamCount(C, FF, 2, 'gelu', true));
  });
});

const { B, T, tokens, targets } = TINY_BATCH;

function lossAndGrads(m: Transformer): { loss: number; logits: Float64Array; grads: Float64Array[] } {
  zeroGrad(m.parameters());
  const loss = m.lmForward(tokens, B, T, targets);
  const logits = Float64Array.from(m.logits!);
  m.lmBackward();
  return { loss, logits, grads: m.parameters().map((p) => Float64Array.from(p.grad)) };
}

describe('transformer seams', () => {
  it('a low-rank MLP swaps in by replaceFeedForward; its maps are named and replaceable like the dense ones', () => {
    const m = new Transformer(tiny(), { dtype: 'f64', seed: 3 });
    const lr = lowRankMlp('model.layers.1.mlp', 8, 12, { rank: 2, activation: 'swiglu', dtype: 'f64' });
    m.replaceFeedForward(1, lr);
    expect(m.feedForward(1)).toBe(lr);
    const names = m.namedLinears().map(([n]) => n);
    expect(names).toContain('model.layers.1.mlp.up_proj');
    expect(m.parameters().map((p) => p.name)).toContain('model.layers.1.mlp.down_proj.A');
    const dense = new LowRankLinear('model.layers.1.mlp.up_proj', 8, 12, 3, { dtype: 'f64' });
    m.replaceLinear('model.layers.1.mlp.up_proj', dense);
    expect((lr as SwigluMlp).up).toBe(dense);
    expect(() => m.replaceLinear('model.layers.1.mlp.up_proj', new LowRankLinear('x', 8, 11, 1))).toThrow(
      /model\.layers\.1\.mlp\.up_proj: shape must stay \(12, 8\)/,
    );
    expect(() => m.replaceLinear('model.layers.1.mlp.fc_proj', dense)).toThrow(/not a replaceable linear/);
    const pairs = m.parameters().map((p) => [p.data, p.grad] as [Float64Array, Float64Array]);
    zeroGrad(m.parameters());
    m.lmForward(tokens, B, T, targets);
    m.lmBackward();
    const frozen = pairs.map(([d, g]) => [d, Float64Array.from(g)] as [Float64Array, Float64Array]);
    const r = gradCheck(frozen, () => m.lmForward(tokens, B, T, targets), { samples: 12 });
    expect(r.maxRel, r.at).toBeLessThan(1e-5);
  });

  it('replaceFeedForward and setHeadScorer refuse a bad module, naming the field', () => {
    const m = new Transformer(tiny(), { dtype: 'f64' });
    expect(() => m.replaceFeedForward(0, new GeluMlp('x', 6, 12, { dtype: 'f64' }))).toThrow(
      /model\.layers\.0\.mlp\.hiddenSize: must be the model's hiddenSize 8, got 6/,
    );
    expect(() => m.replaceFeedForward(1, new GeluMlp('x', 8, 12))).toThrow(/model\.layers\.1\.mlp\.dtype/);
    expect(() => m.replaceFeedForward(2, new GeluMlp('x', 8, 12, { dtype: 'f64' }))).toThrow(/^layer: /);
    expect(() => m.setHeadScorer(0, 4, new DotProductScorer(2))).toThrow(/^head: /);
    expect(() => m.setHeadScorer(0, 1, new DotProductScorer(4))).toThrow(
      /model\.layers\.0\.self_attn\.heads\.1\.headDim: must be the model's head dimension 2, got 4/,
    );
  });

  for (const [label, cfg] of [
    ['llama, GQA 4:2', tiny()],
    ['gpt2', tiny({ flavour: 'gpt2', numKvHeads: 4 })],
  ] as const) {
    it(`${label}: a head scored by the classical q·k/√hd scorer gives the fast path's loss, logits and gradients`, () => {
      const ref = new Transformer(cfg, { dtype: 'f64', seed: 3 });
      const m = new Transformer(cfg, { dtype: 'f64', seed: 3 });
      const a = lossAndGrads(ref);
      m.setHeadScorer(0, 1, new DotProductScorer(2));
      m.setHeadScorer(1, 2, new DotProductScorer(2));
      m.setHeadScorer(1, 3, new DotProductScorer(2));
      const b = lossAndGrads(m);
      expect(b.loss).toBeCloseTo(a.loss, 12);
      for (let i = 0; i < a.logits.length; i++) expect(b.logits[i]).toBeCloseTo(a.logits[i], 12);
      a.grads.forEach((g, k) => {
        for (let i = 0; i < g.length; i++) expect(b.grads[k][i]).toBeCloseTo(g[i], 12);
      });
      // and the cached decoder takes the scorer too: chunks of 3, 1, 1 give the full forward's logits
      const seq = tokens.subarray(0, T);
      ref.lmForward(seq, 1, T);
      const full = Float64Array.from(ref.logits!.subarray(0, T * 11));
      const cache = m.createKvCache();
      let at = 0;
      for (const n of [3, 1, 1]) {
        const logits = m.forwardCached(cache, seq.subarray(at, at + n));
        for (let i = 0; i < n * 11; i++) expect(logits[i]).toBeCloseTo(full[at * 11 + i], 12);
        at += n;
      }
      m.setHeadScorer(0, 1, null);
      m.setHeadScorer(1, 2, null);
      m.setHeadScorer(1, 3, null);
      expect(m.headScorer(1, 3)).toBe(null);
      const c = lossAndGrads(m);
      expect(c.loss).toBe(a.loss); // all heads classical again: the fast path, bit for bit
    });
  }
});
