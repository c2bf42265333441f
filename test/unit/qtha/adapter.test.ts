// The QTHA adapter (core/nn/qtha-adapter.ts) and its sizes (core/nn/qtha-sizes.ts): the factorisation, the MPO
// forward against the dense matrix its cores represent, parameter counts against closed forms, the exact no-op
// at step 0, an f64 finite-difference check inside a full tiny transformer for every architecture, and the
// frozen weights byte-identical after training.
import { describe, expect, it } from 'vitest';
import { Linear } from '../../../core/nn/layers';
import { MpoLinear } from '../../../core/nn/mpo';
import { AdamW, clipGradNorm } from '../../../core/nn/optim';
import { applyQtha, QthaAdapter } from '../../../core/nn/qtha-adapter';
import {
  factorize,
  loraParamCount,
  mpoParamCount,
  qthaCircuit,
  qthaParamCount,
  qthaParamParts,
  QTHA_ARCHITECTURES,
} from '../../../core/nn/qtha-sizes';
import { countParameters, NnError, zeroGrad } from '../../../core/nn/tensor';
import { Transformer, type TransformerConfig } from '../../../core/nn/transformer';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import { resources } from '../../../core/quantum/resources';
import { gradCheck, randArr } from '../nn/gradcheck';

const sim64 = createCpuSimulator({ precision: 'f64' });
const sim32 = createCpuSimulator({ precision: 'f32' });
const B = 2;
const T = 5;
const V = 11;
const tokens = Int32Array.of(1, 5, 2, 9, 3, 0, 10, 4, 4, 7);
const targets = Int32Array.of(5, 2, 9, 3, -100, 10, 4, 4, 7, 1);
const tiny: TransformerConfig = {
  flavour: 'llama',
  vocabSize: V,
  hiddenSize: 16,
  intermediateSize: 12,
  numLayers: 2,
  numHeads: 2,
  maxSeqLen: 6,
  initStd: 0.3,
};

describe('factorize', () => {
  it('splits a width into four balanced factors of at least 2, or refuses', () => {
    expect(factorize(4096)).toEqual([8, 8, 8, 8]);
    expect(factorize(256)).toEqual([4, 4, 4, 4]);
    expect(factorize(64)).toEqual([2, 2, 4, 4]);
    expect(factorize(48)).toEqual([2, 2, 3, 4]);
    expect(factorize(768)).toEqual([4, 4, 6, 8]);
    expect(factorize(30)).toBeNull();
    expect(factorize(97)).toBeNull();
    expect(factorize(8)).toBeNull();
  });
});

/** W[(o₁…o_K),(i₁…i_K)] = Σ_bonds Π_k G_k[a_k, o_k, i_k, a_{k+1}], written out by brute force. */
function denseOfCores(m: MpoLinear): Float64Array {
  const shapes = m.cores.map((c) => c.shape);
  const O = m.outFeatures;
  const I = m.inFeatures;
  const W = new Float64Array(O * I);
  const digits = (n: number, radix: number[]) => {
    const out = new Array<number>(radix.length);
    for (let k = radix.length - 1; k >= 0; k--) {
      out[k] = n % radix[k];
      n = Math.floor(n / radix[k]);
    }
    return out;
  };
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++) {
      const od = digits(
        o,
        shapes.map((s) => s[1]),
      );
      const id = digits(
        i,
        shapes.map((s) => s[2]),
      );
      let vec = new Float64Array([1]); // over the left bond
      m.cores.forEach((c, k) => {
        const [ra, oo, ii, rb] = c.shape;
        const next = new Float64Array(rb);
        for (let a = 0; a < ra; a++)
          for (let b = 0; b < rb; b++) next[b] += vec[a] * c.data[((a * oo + od[k]) * ii + id[k]) * rb + b];
        vec = next;
      });
      W[o * I + i] = vec[0];
    }
  return W;
}

describe('MPO', () => {
  it('forward equals x·Wᵀ with W the dense matrix of its cores (4 cores, bond 8, 256 ← 48)', () => {
    const m = new MpoLinear('mpo', {
      outFactors: factorize(256)!,
      inFactors: factorize(48)!,
      bond: 8,
      seed: 3,
      dtype: 'f64',
    });
    const W = denseOfCores(m);
    const N = 3;
    const x = randArr(N * 48, 5);
    const out = new Float64Array(N * 256);
    m.forward(out, x, N);
    let worst = 0;
    for (let n = 0; n < N; n++)
      for (let o = 0; o < 256; o++) {
        let s = 0;
        for (let i = 0; i < 48; i++) s += x[n * 48 + i] * W[o * 48 + i];
        worst = Math.max(worst, Math.abs(s - out[n * 256 + o]));
      }
    expect(worst).toBeLessThan(1e-12);
    expect(countParameters(m.parameters())).toBe(mpoParamCount([4, 4, 4, 4], [2, 2, 3, 4], 8));
  });
});

describe('parameter counts', () => {
  it('the paper’s ABC at d = 4096, r = 4 has the hand-counted 11 620 parameters, 82.3 % fewer than LoRA r = 8', () => {
    // MPO_A: 1·4·8·8 + 8·4·8·8 + 8·4·8·8 + 8·4·8·1 = 4608; MPO_B the same; MLP_A 256·4 + 4; MLP_B 4·256 + 256;
    // CW, QW 4·4 each; VQC 4·4 per layer × 4 layers
    expect(qthaParamCount({ inFeatures: 4096, outFeatures: 4096, rank: 4, architecture: 'ABC' })).toBe(
      2 * 4608 + 1028 + 1280 + 16 + 16 + 64,
    );
    expect(loraParamCount(4096, 4096, 8)).toBe(65536);
    const base = new Linear('q_proj', 4096, 4096, { dtype: 'f32', weight: undefined });
    const a = new QthaAdapter(base, sim32, { rank: 4 });
    expect(countParameters(a.parameters())).toBe(11620);
  });

  it.each(QTHA_ARCHITECTURES)('%s: the built adapter has the closed-form count, part by part', (arch) => {
    const base = new Linear('v_proj', 48, 24, { dtype: 'f32' });
    const a = new QthaAdapter(base, sim32, { rank: 3, architecture: arch, width: 64, vqcLayers: 2 });
    const parts = qthaParamParts({
      inFeatures: 48,
      outFeatures: 24,
      rank: 3,
      architecture: arch,
      width: 64,
      vqcLayers: 2,
    });
    expect(countParameters(a.parameters())).toBe(Object.values(parts).reduce((x, y) => x + y, 0));
    const size = (m: { parameters(): { size: number }[] } | null) =>
      m ? m.parameters().reduce((x, p) => x + p.size, 0) : undefined;
    expect(size(a.mpoA)).toBe(parts.MPO_A);
    expect(size(a.mpoB)).toBe(parts.MPO_B);
    expect(size(a.mlpA)).toBe(parts.MLP_A);
    expect(size(a.vqc)).toBe(parts.VQC);
    expect(size(a.silu)).toBe(parts.SiLU);
  });

  it('the VQC has 4r parameters per layer, r qubits, re-uploads its r inputs every layer', () => {
    const c = qthaCircuit(4, 3);
    expect(c.numParams).toBe(4 * 4 * 3);
    expect(c.qubits).toBe(4);
    expect(c.numInputs).toBe(4);
    const r = resources(c);
    expect(r.qubits ?? c.qubits).toBe(4);
    const crz = c.ops.filter((o) => o.type === 'gate' && o.gate === 'CRZ');
    expect(crz.length).toBe(2 * 4 * 3);
    expect(crz.slice(0, 4).map((o) => (o.type === 'gate' ? o.wires : []))).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 0],
    ]);
    expect(crz.slice(4, 8).map((o) => (o.type === 'gate' ? o.wires : []))).toEqual([
      [0, 3],
      [1, 0],
      [2, 1],
      [3, 2],
    ]);
  });
});

describe('refusals', () => {
  it('a width without four factors is refused naming the field', () => {
    const base = new Linear('model.layers.0.self_attn.q_proj', 48, 48, { dtype: 'f32' });
    expect(() => new QthaAdapter(base, sim32, { rank: 2, width: 30 })).toThrow(/adapter\.width: width 30/);
    const odd = new Linear('model.layers.0.self_attn.q_proj', 18, 48, { dtype: 'f32' });
    expect(() => new QthaAdapter(odd, sim32, { rank: 2 })).toThrow(NnError);
    expect(() => new QthaAdapter(odd, sim32, { rank: 2 })).toThrow(/q_proj\.in: width 18/);
    expect(() => new QthaAdapter(base, sim32, { rank: 1 })).toThrow(/adapter\.rank/);
    expect(() => new QthaAdapter(base, null, { rank: 2 })).toThrow(/adapter\.architecture/);
    // without the quantum branch, no simulator and one qubit are fine
    expect(() => new QthaAdapter(base, null, { rank: 1, architecture: 'AB' })).not.toThrow();
  });
});

describe('inside a transformer', () => {
  it.each(QTHA_ARCHITECTURES)('%s at step 0 leaves the logits bit-identical (f32)', (arch) => {
    const m = new Transformer(tiny, { dtype: 'f32', seed: 1 });
    m.lmForward(tokens, B, T);
    const before = Float32Array.from(m.logits!);
    const adapters = applyQtha(m, /(q|v)_proj$/, sim32, { rank: 2, architecture: arch, width: 16, seed: 4 });
    expect(adapters.length).toBe(4);
    m.lmForward(tokens, B, T);
    const after = m.logits!;
    expect(after.length).toBe(before.length);
    let same = true;
    for (let i = 0; i < before.length; i++) if (!Object.is(before[i], after[i])) same = false;
    expect(same).toBe(true);
  });

  it.each(QTHA_ARCHITECTURES)(
    '%s: f64 gradients of every adapter parameter (VQC θ included) and of the inputs match central differences',
    (arch) => {
      const m = new Transformer(tiny, { dtype: 'f64', seed: 3 });
      const adapters = applyQtha(m, /(q|v)_proj$/, sim64, {
        rank: 2,
        architecture: arch,
        width: 16,
        bond: 3,
        vqcLayers: 2,
        seed: 9,
      });
      // the zero-initialised last map would hide every gradient but its own: give it values
      adapters.forEach((a, k) => {
        const last = a.mpoB ? a.mpoB.cores[a.mpoB.cores.length - 1] : a.mlpB!.weight;
        last.data.set(randArr(last.size, 50 + k));
      });
      m.embed.frozen = false; // the model's inputs: ∂L/∂x of every token row
      const trainable = m.parameters().filter((p) => !p.frozen);
      if (arch.includes('C') && arch !== 'ABC-silu')
        expect(trainable.map((p) => p.name)).toContain('model.layers.1.self_attn.v_proj.adapter.vqc.theta');
      const loss = () => m.lmForward(tokens, B, T, targets);
      zeroGrad(m.parameters());
      loss();
      m.lmBackward();
      const pairs = trainable.map((p) => [p.data, Float64Array.from(p.grad)] as [Float64Array, Float64Array]);
      expect(pairs.every(([, g]) => g.some((x) => x !== 0))).toBe(true);
      const r = gradCheck(pairs, loss, { samples: 24, h: 1e-5 });
      expect(r.maxRel, r.at).toBeLessThan(1e-5);
    },
  );

  it('the gradient into the VQC inputs matches central differences of the loss in those inputs', () => {
    const m = new Transformer(tiny, { dtype: 'f64', seed: 5 });
    const [a] = applyQtha(m, /layers\.0\.self_attn\.v_proj$/, sim64, {
      rank: 3,
      width: 16,
      bond: 2,
      seed: 2,
    });
    const last = a.mpoB!.cores[3];
    last.data.set(randArr(last.size, 7));
    // h = MLP_A(h₀) + b, so ∂L/∂b = Σ_n ∂L/∂h_n: the VQC's input gradient (with CW's), summed over rows
    zeroGrad(m.parameters());
    m.lmForward(tokens, B, T, targets);
    m.lmBackward();
    const bias = a.mlpA!.bias!;
    const r = gradCheck(
      [[bias.data, Float64Array.from(bias.grad)]],
      () => m.lmForward(tokens, B, T, targets),
      {
        h: 1e-5,
      },
    );
    expect(r.maxRel, r.at).toBeLessThan(1e-6);
  });

  it('after training the adapters, every frozen weight is byte-identical and the adapters moved', () => {
    const m = new Transformer(tiny, { dtype: 'f32', seed: 7 });
    const snapshot = new Map(
      m.parameters().map((p) => [p, Buffer.from(new Uint8Array(p.data.slice().buffer))]),
    );
    const adapters = applyQtha(m, /(q|v)_proj$/, sim32, { rank: 2, width: 16, seed: 1 });
    const trainable = m.parameters().filter((p) => !p.frozen);
    const start = trainable.map((p) => Float32Array.from(p.data));
    const opt = new AdamW(trainable, { weightDecay: 0.01 });
    const first = m.lmForward(tokens, B, T, targets);
    let last = first;
    for (let s = 0; s < 30; s++) {
      zeroGrad(m.parameters());
      last = m.lmForward(tokens, B, T, targets);
      m.lmBackward();
      clipGradNorm(trainable, 1);
      opt.step(1e-2);
    }
    expect(last).toBeLessThan(first);
    for (const [p, bytes] of snapshot)
      expect(Buffer.from(new Uint8Array(p.data.slice().buffer)).equals(bytes), p.name).toBe(true);
    expect(trainable.every((p, i) => p.data.some((x, j) => x !== start[i][j]))).toBe(true);
    expect(adapters.every((a) => !a.merged)).toBe(true);
  });
});
