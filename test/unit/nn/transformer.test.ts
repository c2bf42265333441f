import { describe, expect, it } from 'vitest';
import { AdamW, clipGradNorm } from '../../../core/nn/optim';
import { zeroGrad } from '../../../core/nn/tensor';
import { Transformer, type TransformerConfig } from '../../../core/nn/transformer';
import { gradCheck } from './gradcheck';
import { TINY_BATCH, tinyTransformer as tiny } from '../../helpers/tiny-transformer';

const { B, T, tokens, targets } = TINY_BATCH;

function checkModel(cfg: TransformerConfig, classify = false) {
  const m = new Transformer(cfg, { dtype: 'f64', seed: 3 });
  // norms start at 1 and biases at 0; perturb them so their gradients are exercised off the trivial point
  for (const p of m.parameters())
    if (p.shape.length === 1) for (let i = 0; i < p.size; i++) p.data[i] += 0.1 * Math.sin(i + 1);
  const loss = () =>
    classify ? m.classifyForward(tokens, B, T, Int32Array.of(2, 0)) : m.lmForward(tokens, B, T, targets);
  zeroGrad(m.parameters());
  loss();
  if (classify) m.classifyBackward();
  else m.lmBackward();
  const pairs = m
    .parameters()
    .map((p) => [p.data, Float64Array.from(p.grad)] as [Float64Array, Float64Array]);
  const r = gradCheck(pairs, loss, { samples: 12 });
  expect(r.maxRel, r.at).toBeLessThan(1e-5);
  return m;
}

describe('transformer gradients against central differences (f64, every parameter tensor)', () => {
  it('llama: RMSNorm, RoPE, SwiGLU, grouped-query heads', () => checkModel(tiny()));
  it('llama with tied embeddings', () => {
    const m = checkModel(tiny({ tieEmbeddings: true, numKvHeads: 1 }));
    expect(m.parameters().some((p) => p.name === 'lm_head.weight')).toBe(false);
  });
  it('gpt2: LayerNorm, learned positions, GELU, biases', () =>
    checkModel(tiny({ flavour: 'gpt2', numKvHeads: 4 })));
  it('classification head, mean pooled', () => checkModel(tiny({ numClasses: 3, pooling: 'mean' }), true));
  it('classification head, last token', () =>
    checkModel(tiny({ flavour: 'gpt2', numClasses: 3, pooling: 'last' }), true));
});

describe('transformer behaviour', () => {
  it('uses Hugging Face parameter names and counts', () => {
    const m = new Transformer(tiny({ numLayers: 1 }));
    const names = m.parameters().map((p) => p.name);
    expect(names).toEqual([
      'model.embed_tokens.weight',
      'model.layers.0.input_layernorm.weight',
      'model.layers.0.self_attn.q_proj.weight',
      'model.layers.0.self_attn.k_proj.weight',
      'model.layers.0.self_attn.v_proj.weight',
      'model.layers.0.self_attn.o_proj.weight',
      'model.layers.0.post_attention_layernorm.weight',
      'model.layers.0.mlp.gate_proj.weight',
      'model.layers.0.mlp.up_proj.weight',
      'model.layers.0.mlp.down_proj.weight',
      'model.norm.weight',
      'lm_head.weight',
    ]);
    const k = m.parameters().find((p) => p.name.endsWith('k_proj.weight'))!;
    expect(k.shape).toEqual([4, 8]); // (numKvHeads·hd, hidden) stored (out, in)
  });

  it('rejects bad configs and inputs naming the field', () => {
    expect(() => new Transformer(tiny({ numKvHeads: 3 }))).toThrow(/config\.numKvHeads/);
    expect(() => new Transformer(tiny({ hiddenSize: 9 }))).toThrow(/config\.numHeads/);
    const m = new Transformer(tiny());
    expect(() => m.lmForward(Int32Array.of(1, 2), 1, 3)).toThrow(/tokens/);
    expect(() => m.lmForward(new Int32Array(7), 1, 7)).toThrow(/maxSeqLen/);
  });

  it('same seed gives the same weights, logits and samples; another seed differs', () => {
    const a = new Transformer(tiny(), { seed: 7 });
    const b = new Transformer(tiny(), { seed: 7 });
    const c = new Transformer(tiny(), { seed: 8 });
    a.lmForward(tokens, B, T);
    b.lmForward(tokens, B, T);
    expect(Array.from(a.logits!.subarray(0, B * T * 11))).toEqual(
      Array.from(b.logits!.subarray(0, B * T * 11)),
    );
    expect(c.embed.data[0]).not.toBe(a.embed.data[0]);
    const s1 = a.generate([1, 2], 4, { topK: 5, seed: 1 });
    const s2 = b.generate([1, 2], 4, { topK: 5, seed: 1 });
    expect(s1).toEqual(s2);
    expect(s1.every((t) => t >= 0 && t < 11)).toBe(true);
  });

  it('greedy decoding picks the arg-max of the last position', () => {
    const m = new Transformer(tiny(), { seed: 2, dtype: 'f64' });
    const [next] = m.generate([3, 1, 4], 1);
    m.lmForward(Int32Array.of(3, 1, 4), 1, 3);
    const row = Array.from(m.logits!.subarray(2 * 11, 3 * 11));
    expect(next).toBe(row.indexOf(Math.max(...row)));
  });

  it('a tiny LM overfits a paragraph', () => {
    const text =
      'the lab trains small language models on the cpu. it checks every gradient. the lab trains small models.';
    const chars = [...new Set(text)].sort();
    const ids = Int32Array.from(text, (ch) => chars.indexOf(ch));
    const Tn = 32;
    const Bn = Math.floor((ids.length - 1) / Tn);
    const x = new Int32Array(Bn * Tn);
    const y = new Int32Array(Bn * Tn);
    for (let b = 0; b < Bn; b++)
      for (let t = 0; t < Tn; t++) {
        x[b * Tn + t] = ids[b * Tn + t];
        y[b * Tn + t] = ids[b * Tn + t + 1];
      }
    const m = new Transformer(
      {
        flavour: 'llama',
        vocabSize: chars.length,
        hiddenSize: 32,
        intermediateSize: 64,
        numLayers: 2,
        numHeads: 4,
        maxSeqLen: Tn,
      },
      { seed: 1 },
    );
    const opt = new AdamW(m.parameters(), { weightDecay: 0 });
    const first = m.lmForward(x, Bn, Tn, y);
    let loss = first;
    for (let step = 0; step < 150; step++) {
      zeroGrad(m.parameters());
      loss = m.lmForward(x, Bn, Tn, y);
      m.lmBackward();
      clipGradNorm(m.parameters(), 1);
      opt.step(1e-2);
    }
    loss = m.lmForward(x, Bn, Tn, y);
    expect(first).toBeGreaterThan(Math.log(chars.length) - 0.5);
    expect(loss).toBeLessThan(0.1);
  });
});
