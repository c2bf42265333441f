// The acceptance test of issue 9's model seams: a tiny transformer with a quantum FFN in one block and a
// quantum-scored head in the other passes the f64 finite-difference check end to end, for every parameter (the θ
// of both circuits included) and for its inputs (the embedding table: ∂L/∂x of every token row), and its KV-cached
// decoding equals the full forward.
import { describe, expect, it } from 'vitest';
import { stateDict } from '../../../core/nn/checkpoint';
import { Linear } from '../../../core/nn/layers';
import { QuantumAdapter } from '../../../core/nn/quantum-adapter';
import { QuantumFfn } from '../../../core/nn/quantum-ffn';
import { GaussianKernelScorer, UnitaryKernelScorer } from '../../../core/nn/quantum-scorer';
import { zeroGrad } from '../../../core/nn/tensor';
import { Transformer, type TransformerConfig } from '../../../core/nn/transformer';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import { gradCheck, randArr } from './gradcheck';

const sim = createCpuSimulator({ precision: 'f64' });
const B = 2;
const T = 5;
const V = 11;
const tokens = Int32Array.of(1, 5, 2, 9, 3, 0, 10, 4, 4, 7);
const targets = Int32Array.of(5, 2, 9, 3, -100, 10, 4, 4, 7, 1);

interface Variant {
  label: string;
  config: TransformerConfig;
  ffnLayer: number;
  ffn: 'amplitude' | 'bottleneck';
  scoredLayer: number;
  scoredHead: number;
  scorer: 'gaussian' | 'unitary';
  scorerQubits?: number;
}

const VARIANTS: Variant[] = [
  {
    label:
      'llama, GQA 2:1: amplitude-form quantum FFN in block 0, QSANN head 0 (hd values encoded) in block 1',
    config: {
      flavour: 'llama',
      vocabSize: V,
      hiddenSize: 8,
      intermediateSize: 12,
      numLayers: 2,
      numHeads: 2,
      numKvHeads: 1,
      maxSeqLen: 6,
      initStd: 0.3,
    },
    ffnLayer: 0,
    ffn: 'amplitude',
    scoredLayer: 1,
    scoredHead: 0,
    scorer: 'gaussian',
  },
  {
    label: 'gpt2: bottleneck quantum FFN in block 1, QSANN head 1 (hd → 3 qubits map) in block 0',
    config: {
      flavour: 'gpt2',
      vocabSize: V,
      hiddenSize: 8,
      intermediateSize: 12,
      numLayers: 2,
      numHeads: 2,
      maxSeqLen: 6,
      initStd: 0.3,
    },
    ffnLayer: 1,
    ffn: 'bottleneck',
    scoredLayer: 0,
    scoredHead: 1,
    scorer: 'gaussian',
    scorerQubits: 3,
  },
  {
    label:
      'llama: bottleneck quantum FFN in block 0, learned-unitary kernel (SWAP test) on head 1 of block 1',
    config: {
      flavour: 'llama',
      vocabSize: V,
      hiddenSize: 8,
      intermediateSize: 12,
      numLayers: 2,
      numHeads: 2,
      maxSeqLen: 6,
      initStd: 0.3,
    },
    ffnLayer: 0,
    ffn: 'bottleneck',
    scoredLayer: 1,
    scoredHead: 1,
    scorer: 'unitary',
  },
];

function build(v: Variant): Transformer {
  const m = new Transformer(v.config, { dtype: 'f64', seed: 3 });
  const hd = v.config.hiddenSize / v.config.numHeads;
  m.replaceFeedForward(
    v.ffnLayer,
    new QuantumFfn(`model.layers.${v.ffnLayer}.mlp`, 8, sim, {
      form: v.ffn,
      depth: 2,
      qubits: 3,
      dtype: 'f64',
      seed: 4,
    }),
  );
  const name = `model.layers.${v.scoredLayer}.self_attn.heads.${v.scoredHead}`;
  m.setHeadScorer(
    v.scoredLayer,
    v.scoredHead,
    v.scorer === 'gaussian'
      ? new GaussianKernelScorer(name, hd, sim, { depth: 2, qubits: v.scorerQubits, dtype: 'f64', seed: 5 })
      : new UnitaryKernelScorer(name, hd, sim, { depth: 2, dtype: 'f64', seed: 5, beta: 3 }),
  );
  // norms start at 1 and biases at 0, the FFN's output scale near 0: move them so every path carries gradient
  let k = 0;
  for (const p of m.parameters()) {
    if (p.name.endsWith('.scale') || p.name.endsWith('out_proj.weight'))
      p.data.set(randArr(p.size, 20 + k++));
    else if (p.shape.length === 1 && !p.name.endsWith('theta'))
      for (let i = 0; i < p.size; i++) p.data[i] += 0.1 * Math.sin(i + 1);
  }
  return m;
}

describe('a transformer with quantum modules inside: f64 finite differences end to end', () => {
  for (const v of VARIANTS) {
    it(`${v.label}: every parameter, both circuits' θ and the inputs`, () => {
      const m = build(v);
      const names = m.parameters().map((p) => p.name);
      expect(names).toContain(`model.layers.${v.ffnLayer}.mlp.quantum.theta`);
      const head = `model.layers.${v.scoredLayer}.self_attn.heads.${v.scoredHead}`;
      if (v.scorer === 'gaussian') {
        expect(names).toContain(`${head}.query.theta`);
        expect(names).toContain(`${head}.key.theta`);
      } else expect(names).toContain(`${head}.theta`);
      const loss = () => m.lmForward(tokens, B, T, targets);
      zeroGrad(m.parameters());
      loss();
      m.lmBackward();
      const pairs = m
        .parameters()
        .map((p) => [p.data, Float64Array.from(p.grad)] as [Float64Array, Float64Array]);
      // every θ entry of both circuits, a sample of the rest (the embedding table, row by row, is the input)
      const quantum = pairs.filter((_, i) => names[i].endsWith('theta'));
      const r1 = gradCheck(quantum, loss, { samples: 1000, h: 1e-5 });
      expect(r1.maxRel, r1.at).toBeLessThan(1e-5);
      const r2 = gradCheck(pairs, loss, { samples: 16, h: 1e-5 });
      expect(r2.maxRel, r2.at).toBeLessThan(1e-5);
      // the gradients are not trivially zero
      for (const [, g] of quantum) expect(g.some((x) => Math.abs(x) > 1e-6)).toBe(true);
    });

    it(`${v.label}: ∂L/∂hidden through backwardHidden equals central differences of the trunk`, () => {
      const m = build(v);
      const C = 8;
      const w = randArr(B * T * C, 31);
      const f = () => {
        const h = m.forwardHidden(tokens, B, T);
        let s = 0;
        for (let i = 0; i < w.length; i++) s += w[i] * h[i];
        return s;
      };
      zeroGrad(m.parameters());
      f();
      m.backwardHidden(Float64Array.from(w));
      const emb = m.embed;
      const r = gradCheck([[emb.data, Float64Array.from(emb.grad)]], f, { samples: 88, h: 1e-5 });
      expect(r.maxRel, r.at).toBeLessThan(1e-5);
    });

    it(`${v.label}: KV-cached decoding equals the full forward`, () => {
      const m = build(v);
      const seq = tokens.subarray(0, T);
      m.lmForward(seq, 1, T);
      const full = Float64Array.from(m.logits!.subarray(0, T * V));
      for (const chunks of [[T], [3, 1, 1], [1, 1, 1, 1, 1]]) {
        const cache = m.createKvCache();
        let at = 0;
        for (const n of chunks) {
          const logits = m.forwardCached(cache, seq.subarray(at, at + n));
          for (let i = 0; i < n * V; i++) expect(logits[i]).toBeCloseTo(full[at * V + i], 12);
          at += n;
        }
      }
    });
  }
});

describe('checkpoints', () => {
  it('stateDict refuses a model with a quantum FFN or scored heads instead of dropping their parameters', () => {
    const m = build(VARIANTS[0]);
    expect(() => stateDict(m)).toThrow(/model\.layers\.0\.mlp is not the dense SwiGLU MLP/);
    const c = new Transformer(VARIANTS[0].config, { dtype: 'f64' });
    c.setHeadScorer(1, 0, new GaussianKernelScorer('h', 4, sim, { depth: 1, dtype: 'f64' }));
    expect(() => stateDict(c)).toThrow(/model\.layers\.1\.self_attn has heads with their own scorers/);
  });
});

describe('adapters with a circuit inside, through the linear seam of the model', () => {
  it('QuantumAdapter on v_proj of both blocks: only the adapters train, gradients match central differences', () => {
    const m = new Transformer(VARIANTS[0].config, { dtype: 'f64', seed: 3 });
    const adapters: QuantumAdapter[] = [];
    for (const [name, lin] of m.namedLinears()) {
      if (!name.endsWith('v_proj') || !(lin instanceof Linear)) continue;
      const a = new QuantumAdapter(lin, sim, { rank: 2, depth: 1, alpha: 2, seed: adapters.length });
      a.up.weight.data.set(randArr(a.up.weight.size, 40 + adapters.length)); // W_up starts at 0
      lin.adapter = a;
      adapters.push(a);
    }
    expect(adapters.length).toBe(2);
    const own = new Set(adapters.flatMap((a) => a.parameters()));
    for (const p of m.parameters()) p.frozen = !own.has(p);
    expect(
      m
        .parameters()
        .filter((p) => !p.frozen)
        .map((p) => p.name),
    ).toContain('model.layers.1.self_attn.v_proj.adapter.pqc.theta');
    const loss = () => m.lmForward(tokens, B, T, targets);
    zeroGrad(m.parameters());
    loss();
    m.lmBackward();
    expect(m.embed.grad.every((x) => x === 0)).toBe(true); // frozen: untouched
    const pairs = m
      .parameters()
      .filter((p) => !p.frozen)
      .map((p) => [p.data, Float64Array.from(p.grad)] as [Float64Array, Float64Array]);
    const r = gradCheck(pairs, loss, { samples: 100, h: 1e-5 });
    expect(r.maxRel, r.at).toBeLessThan(1e-5);
  });
});
