import { describe, expect, it } from 'vitest';
import { Linear } from '../../../core/nn/layers';
import { applyLora, LoraAdapter } from '../../../core/nn/lora';
import { MpoLinear } from '../../../core/nn/mpo';
import { zeroGrad } from '../../../core/nn/tensor';
import { Transformer } from '../../../core/nn/transformer';
import { dot, gradCheck, randArr } from './gradcheck';

const N = 3;

describe('LoRA', () => {
  function make(dropout = 0) {
    const lin = new Linear('l', 6, 5, { bias: true, dtype: 'f64' });
    lin.weight.data.set(randArr(30, 1));
    lin.bias!.data.set(randArr(5, 2));
    const a = new LoraAdapter(lin, { rank: 2, alpha: 4, dropout, seed: 3 });
    a.B.data.set(randArr(10, 4)); // B starts at zero; give it values so every path is exercised
    lin.adapter = a;
    return { lin, a };
  }

  it('gradients for input, W, b, A, B against central differences', () => {
    const { lin } = make();
    const x = randArr(N * 6, 5);
    const w = randArr(N * 5, 6);
    const out = new Float64Array(N * 5);
    const dx = new Float64Array(N * 6);
    lin.forward(out, x, N);
    lin.backward(dx, w, x, N);
    const ps = lin.parameters();
    const r = gradCheck([[x, dx], ...ps.map((p) => [p.data, p.grad] as [Float64Array, Float64Array])], () => {
      lin.forward(out, x, N);
      return dot(out, w);
    });
    expect(r.maxRel, r.at).toBeLessThan(1e-6);
  });

  it('merge equals the adapted forward; unmerge restores W', () => {
    const { lin, a } = make();
    const x = randArr(N * 6, 7);
    const adapted = new Float64Array(N * 5);
    lin.forward(adapted, x, N);
    const w0 = Float64Array.from(lin.weight.data);
    a.merge();
    expect(a.merged).toBe(true);
    const merged = new Float64Array(N * 5);
    lin.forward(merged, x, N);
    for (let i = 0; i < merged.length; i++) expect(merged[i]).toBeCloseTo(adapted[i], 12);
    a.unmerge();
    for (let i = 0; i < w0.length; i++) expect(lin.weight.data[i]).toBeCloseTo(w0[i], 14);
    expect(() => a.unmerge()).toThrow(/not merged/);
  });

  it('B starts at zero, so a fresh adapter leaves the output unchanged; dropout is seeded', () => {
    const lin = new Linear('l', 6, 5, { dtype: 'f64' });
    lin.weight.data.set(randArr(30, 8));
    const x = randArr(N * 6, 9);
    const base = new Float64Array(N * 5);
    lin.forward(base, x, N);
    lin.adapter = new LoraAdapter(lin, { rank: 3, dropout: 0.5 });
    const out = new Float64Array(N * 5);
    lin.forward(out, x, N);
    expect(Array.from(out)).toEqual(Array.from(base));
  });

  it('applyLora targets q/v by pattern and trains only A and B', () => {
    const m = new Transformer(
      {
        flavour: 'llama',
        vocabSize: 9,
        hiddenSize: 8,
        intermediateSize: 8,
        numLayers: 2,
        numHeads: 2,
        maxSeqLen: 4,
      },
      { dtype: 'f64', seed: 1 },
    );
    const adapters = applyLora(m, /\.(q|v)_proj$/, { rank: 2, alpha: 2 });
    expect(adapters.length).toBe(4);
    const trainable = m
      .parameters()
      .filter((p) => !p.frozen)
      .map((p) => p.name);
    expect(trainable).toContain('model.layers.1.self_attn.v_proj.lora_A.weight');
    expect(trainable.length).toBe(8);
    for (const a of adapters) a.B.data.set(randArr(a.B.size, 3));
    const tok = Int32Array.of(1, 2, 3, 4);
    const tgt = Int32Array.of(2, 3, 4, 5);
    zeroGrad(m.parameters());
    m.lmForward(tok, 1, 4, tgt);
    m.lmBackward();
    const emb = m.parameters()[0];
    expect(emb.grad.every((v) => v === 0)).toBe(true); // frozen: untouched
    const pairs = m
      .parameters()
      .filter((p) => !p.frozen)
      .map((p) => [p.data, Float64Array.from(p.grad)] as [Float64Array, Float64Array]);
    const r = gradCheck(pairs, () => m.lmForward(tok, 1, 4, tgt));
    expect(r.maxRel, r.at).toBeLessThan(1e-6);
    expect(() => applyLora(m, /nothing/, { rank: 1 })).toThrow(/lora\.targets/);
  });
});

describe('MPO linear', () => {
  function make(zeroInitLast = false) {
    return new MpoLinear('mpo', {
      outFactors: [2, 3, 2],
      inFactors: [3, 2, 2],
      bond: [3, 2],
      bias: true,
      zeroInitLast,
      seed: 5,
      dtype: 'f64',
    });
  }

  it('reconstruction equals its forward', () => {
    const m = make();
    expect([m.outFeatures, m.inFeatures]).toEqual([12, 12]);
    const W = m.reconstruct();
    const x = randArr(N * 12, 1);
    const out = new Float64Array(N * 12);
    m.forward(out, x, N);
    for (let n = 0; n < N; n++)
      for (let o = 0; o < 12; o++) {
        let s = m.bias!.data[o];
        for (let i = 0; i < 12; i++) s += W[o * 12 + i] * x[n * 12 + i];
        expect(out[n * 12 + o]).toBeCloseTo(s, 12);
      }
  });

  it('matches the explicit core chain for one entry', () => {
    const m = make();
    const W = m.reconstruct();
    // entry out = (o1,o2,o3) = (1,2,0) → 1·6+2·2+0 = 10, in = (i1,i2,i3) = (2,1,1) → 2·4+1·2+1 = 11
    const [G1, G2, G3] = m.cores.map((c) => c.data);
    let s = 0;
    for (let a = 0; a < 3; a++)
      for (let b = 0; b < 2; b++)
        s +=
          G1[((0 * 2 + 1) * 3 + 2) * 3 + a] *
          G2[((a * 3 + 2) * 2 + 1) * 2 + b] *
          G3[((b * 2 + 0) * 2 + 1) * 1];
    expect(W[10 * 12 + 11]).toBeCloseTo(s, 13);
  });

  it('gradients for input, every core and bias', () => {
    const m = make();
    const x = randArr(N * 12, 2);
    const w = randArr(N * 12, 3);
    const out = new Float64Array(N * 12);
    const dx = new Float64Array(N * 12);
    m.forward(out, x, N);
    m.backward(dx, w, x, N);
    const r = gradCheck(
      [[x, dx], ...m.parameters().map((p) => [p.data, p.grad] as [Float64Array, Float64Array])],
      () => {
        m.forward(out, x, N);
        return dot(out, w);
      },
    );
    expect(r.maxRel, r.at).toBeLessThan(1e-6);
  });

  it('zero-init of the last core gives W = 0; bad factorisations are rejected', () => {
    expect(
      make(true)
        .reconstruct()
        .every((v) => v === 0),
    ).toBe(true);
    expect(() => new MpoLinear('m', { outFactors: [2, 2], inFactors: [2], bond: 2 })).toThrow(
      /mpo\.inFactors/,
    );
    expect(() => new MpoLinear('m', { outFactors: [2, 2], inFactors: [2, 2], bond: [0] })).toThrow(
      /mpo\.bond\[0\]/,
    );
  });

  it('swaps into a transformer and trains through it', () => {
    const m = new Transformer(
      {
        flavour: 'llama',
        vocabSize: 9,
        hiddenSize: 8,
        intermediateSize: 12,
        numLayers: 1,
        numHeads: 2,
        maxSeqLen: 4,
      },
      { dtype: 'f64', seed: 1 },
    );
    m.replaceLinear(
      'model.layers.0.mlp.up_proj',
      new MpoLinear('model.layers.0.mlp.up_proj', {
        outFactors: [3, 4],
        inFactors: [2, 4],
        bond: 2,
        dtype: 'f64',
      }),
    );
    expect(m.parameters().some((p) => p.name === 'model.layers.0.mlp.up_proj.cores.1')).toBe(true);
    const tok = Int32Array.of(1, 2, 3, 4);
    const tgt = Int32Array.of(2, 3, 4, 5);
    zeroGrad(m.parameters());
    m.lmForward(tok, 1, 4, tgt);
    m.lmBackward();
    const pairs = m
      .parameters()
      .map((p) => [p.data, Float64Array.from(p.grad)] as [Float64Array, Float64Array]);
    const r = gradCheck(pairs, () => m.lmForward(tok, 1, 4, tgt), { samples: 10 });
    expect(r.maxRel, r.at).toBeLessThan(1e-6);
    expect(() =>
      m.replaceLinear(
        'model.layers.0.mlp.up_proj',
        new MpoLinear('x', { outFactors: [2], inFactors: [8], bond: [] }),
      ),
    ).toThrow(/shape/);
  });
});
