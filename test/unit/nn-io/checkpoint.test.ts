import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildModel, loadModelDir, saveModelDir, specFromHfConfig } from '../../../core/nn/checkpoint';
import { parseSafetensors, serializeSafetensors, type TensorToWrite } from '../../../core/nn/safetensors';
import { ByteLevelBpe } from '../../../core/nn/tokenizers/bpe';
import { CharTokenizer } from '../../../core/nn/tokenizers/char';
import type { Transformer } from '../../../core/nn/transformer';

const dirs: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'qlab-ckpt-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const HF_CONFIG = {
  model_type: 'llama',
  vocab_size: 13,
  hidden_size: 8,
  intermediate_size: 12,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 500,
  tie_word_embeddings: false,
  max_position_embeddings: 16,
};

const TOKENS = Int32Array.of(1, 5, 2, 9, 3, 12, 0, 7);

function logitsOf(m: Transformer, tokens = TOKENS): Float64Array {
  m.lmForward(tokens, 1, tokens.length);
  return Float64Array.from(m.logits!.subarray(0, tokens.length * m.config.vocabSize));
}

/** A model with non-trivial norms and biases (they start at 1 and 0). */
function randomModel(cfg: Record<string, unknown>, seed = 7): Transformer {
  const m = buildModel(specFromHfConfig(cfg), { seed });
  for (const p of m.parameters()) {
    if (p.shape.length === 1) for (let i = 0; i < p.size; i++) p.data[i] += 0.2 * Math.sin(3 * i + p.size);
  }
  return m;
}

/**
 * An independent f64 LLaMA forward over the raw named tensors, written from the Hugging Face modelling code
 * (rotate_half RoPE, kv head = head / (NH / NKV), silu(gate)·up, x·w/√(mean x² + ε)).
 */
function referenceLogits(
  w: Map<string, Float64Array>,
  cfg: typeof HF_CONFIG,
  tokens: Int32Array,
  biases = false,
) {
  const C = cfg.hidden_size;
  const NH = cfg.num_attention_heads;
  const NKV = cfg.num_key_value_heads;
  const hd = C / NH;
  const F = cfg.intermediate_size;
  const V = cfg.vocab_size;
  const T = tokens.length;
  const get = (n: string) => {
    const t = w.get(n);
    if (!t) throw new Error(`reference: missing ${n}`);
    return t;
  };
  const linear = (x: Float64Array, name: string, inF: number, outF: number, bias = false) => {
    const W = get(`${name}.weight`);
    const b = bias ? get(`${name}.bias`) : null;
    const y = new Float64Array(T * outF);
    for (let t = 0; t < T; t++)
      for (let o = 0; o < outF; o++) {
        let s = b ? b[o] : 0;
        for (let i = 0; i < inF; i++) s += x[t * inF + i] * W[o * inF + i];
        y[t * outF + o] = s;
      }
    return y;
  };
  const rms = (x: Float64Array, name: string) => {
    const g = get(name);
    const y = new Float64Array(x.length);
    for (let t = 0; t < T; t++) {
      let ss = 0;
      for (let i = 0; i < C; i++) ss += x[t * C + i] ** 2;
      const r = 1 / Math.sqrt(ss / C + cfg.rms_norm_eps);
      for (let i = 0; i < C; i++) y[t * C + i] = x[t * C + i] * r * g[i];
    }
    return y;
  };
  const rope = (x: Float64Array, heads: number) => {
    const half = hd / 2;
    for (let t = 0; t < T; t++)
      for (let h = 0; h < heads; h++)
        for (let i = 0; i < half; i++) {
          const a = t * cfg.rope_theta ** (-(2 * i) / hd);
          const p = t * heads * hd + h * hd;
          const x1 = x[p + i];
          const x2 = x[p + i + half];
          x[p + i] = x1 * Math.cos(a) - x2 * Math.sin(a);
          x[p + i + half] = x2 * Math.cos(a) + x1 * Math.sin(a);
        }
  };
  const E = get('model.embed_tokens.weight');
  let x = new Float64Array(T * C);
  for (let t = 0; t < T; t++) for (let i = 0; i < C; i++) x[t * C + i] = E[tokens[t] * C + i];
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    const h = rms(x, `${p}.input_layernorm.weight`);
    const q = linear(h, `${p}.self_attn.q_proj`, C, NH * hd, biases);
    const k = linear(h, `${p}.self_attn.k_proj`, C, NKV * hd, biases);
    const v = linear(h, `${p}.self_attn.v_proj`, C, NKV * hd, biases);
    rope(q, NH);
    rope(k, NKV);
    const y = new Float64Array(T * NH * hd);
    for (let hh = 0; hh < NH; hh++) {
      const kv = Math.floor(hh / (NH / NKV));
      for (let t = 0; t < T; t++) {
        const sc = new Float64Array(t + 1);
        let mx = -Infinity;
        for (let s = 0; s <= t; s++) {
          let d = 0;
          for (let i = 0; i < hd; i++) d += q[t * NH * hd + hh * hd + i] * k[s * NKV * hd + kv * hd + i];
          sc[s] = d / Math.sqrt(hd);
          mx = Math.max(mx, sc[s]);
        }
        let z = 0;
        for (let s = 0; s <= t; s++) z += sc[s] = Math.exp(sc[s] - mx);
        for (let s = 0; s <= t; s++)
          for (let i = 0; i < hd; i++)
            y[t * NH * hd + hh * hd + i] += (sc[s] / z) * v[s * NKV * hd + kv * hd + i];
      }
    }
    const ao = linear(y, `${p}.self_attn.o_proj`, NH * hd, C);
    x = x.map((xi, i) => xi + ao[i]);
    const h2 = rms(x, `${p}.post_attention_layernorm.weight`);
    const g = linear(h2, `${p}.mlp.gate_proj`, C, F);
    const u = linear(h2, `${p}.mlp.up_proj`, C, F);
    const act = g.map((gi, i) => (gi / (1 + Math.exp(-gi))) * u[i]);
    const mo = linear(act, `${p}.mlp.down_proj`, F, C);
    x = x.map((xi, i) => xi + mo[i]);
  }
  const xf = rms(x, 'model.norm.weight');
  return linear(xf, cfg.tie_word_embeddings ? 'model.embed_tokens' : 'lm_head', C, V);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function rawTensors(dir: string, file = 'model.safetensors'): Promise<Map<string, Float64Array>> {
  const f = parseSafetensors(new Uint8Array(await readFile(join(dir, file))));
  return new Map([...f.tensors].map(([k, v]) => [k, Float64Array.from(v.data as Float32Array)]));
}

describe('Hugging Face model directories', () => {
  it('save then load gives identical logits (F32), and tokenizer.json comes back', async () => {
    const dir = await tmp();
    const m = randomModel(HF_CONFIG);
    const tok = CharTokenizer.train(['tiny corpus']); // 10 ids, within the model's 13
    const files = await saveModelDir(dir, m, { tokenizer: tok });
    expect(files.sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    const loaded = await loadModelDir(dir);
    expect(loaded.spec.config).toMatchObject({ numKvHeads: 2, ropeTheta: 500, normEps: 1e-6, maxSeqLen: 16 });
    expect([...logitsOf(loaded.model)]).toEqual([...logitsOf(m)]);
    expect(loaded.tokenizer?.encode('tiny')).toEqual(tok.encode('tiny'));
    expect(loaded.dtypes).toEqual({ F32: 2 + 2 * 9 + 1 });
  });

  it('drops a tokenizer with more ids than the model, saying why', async () => {
    const dir = await tmp();
    await saveModelDir(dir, randomModel(HF_CONFIG), {
      tokenizer: ByteLevelBpe.train([], { vocabSize: 256 }),
    });
    const loaded = await loadModelDir(dir);
    expect(loaded.tokenizer).toBeNull();
    expect(loaded.tokenizerIssue).toMatch(/256 ids but the model's vocab_size is 13/);
  });

  it('computes what the Hugging Face LLaMA forward computes (independent f64 reference)', async () => {
    const dir = await tmp();
    await saveModelDir(dir, randomModel(HF_CONFIG));
    const loaded = await loadModelDir(dir, { dtype: 'f64' });
    const ref = referenceLogits(await rawTensors(dir), HF_CONFIG, TOKENS);
    expect(maxAbsDiff(logitsOf(loaded.model), ref)).toBeLessThan(1e-10);
  });

  it('handles tied embeddings and Qwen2 q/k/v biases', async () => {
    const cfg = { ...HF_CONFIG, model_type: 'qwen2', tie_word_embeddings: true };
    const m = randomModel(cfg);
    const dir = await tmp();
    await saveModelDir(dir, m);
    const raw = await rawTensors(dir);
    expect(raw.has('lm_head.weight')).toBe(false);
    expect(raw.has('model.layers.1.self_attn.k_proj.bias')).toBe(true);
    expect(raw.has('model.layers.1.self_attn.o_proj.bias')).toBe(false);
    expect(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')).model_type).toBe('qwen2');
    const loaded = await loadModelDir(dir, { dtype: 'f64' });
    expect(maxAbsDiff(logitsOf(loaded.model), logitsOf(m))).toBeLessThan(1e-5);
    const ref = referenceLogits(raw, { ...HF_CONFIG, tie_word_embeddings: true }, TOKENS, true);
    expect(maxAbsDiff(logitsOf(loaded.model), ref)).toBeLessThan(1e-10);
  });

  it('writes and reads sharded checkpoints with an index', async () => {
    const dir = await tmp();
    const m = randomModel(HF_CONFIG);
    const files = await saveModelDir(dir, m, { maxShardBytes: 1200 });
    const shards = files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f));
    expect(shards.length).toBeGreaterThan(1);
    expect(files).toContain('model.safetensors.index.json');
    expect([...logitsOf((await loadModelDir(dir)).model)]).toEqual([...logitsOf(m)]);
  });

  it('stores BF16 and F16 with rounding error only', async () => {
    const m = randomModel(HF_CONFIG);
    const ref = logitsOf(m);
    for (const dtype of ['F16', 'BF16'] as const) {
      const dir = await tmp();
      await saveModelDir(dir, m, { dtype });
      const loaded = await loadModelDir(dir);
      expect(loaded.dtypes).toEqual({ [dtype]: 21 });
      const err = maxAbsDiff(logitsOf(loaded.model), ref);
      expect(err).toBeGreaterThan(0);
      expect(err).toBeLessThan(dtype === 'F16' ? 5e-3 : 5e-2);
    }
  });

  it('refuses a tensor of the wrong shape, naming it', async () => {
    const dir = await tmp();
    await saveModelDir(dir, randomModel(HF_CONFIG));
    const f = parseSafetensors(new Uint8Array(await readFile(join(dir, 'model.safetensors'))));
    const entries: [string, TensorToWrite][] = [...f.tensors].map(([k, v]) => [
      k,
      { ...v, data: v.data as Float32Array },
    ]);
    const i = entries.findIndex(([k]) => k === 'model.layers.1.mlp.up_proj.weight');
    entries[i] = [entries[i][0], { dtype: 'F32', shape: [8, 12], data: entries[i][1].data }];
    await writeFile(join(dir, 'model.safetensors'), serializeSafetensors(entries));
    await expect(loadModelDir(dir)).rejects.toThrow(
      /tensor "model\.layers\.1\.mlp\.up_proj\.weight" \(in model\.safetensors\) has shape \[8, 12\], the model expects \[12, 8\]/,
    );
  });

  it('refuses missing and unexpected tensors and bad config fields', async () => {
    const dir = await tmp();
    await saveModelDir(dir, randomModel(HF_CONFIG));
    const f = parseSafetensors(new Uint8Array(await readFile(join(dir, 'model.safetensors'))));
    const entries = [...f.tensors].filter(([k]) => k !== 'model.norm.weight') as [string, TensorToWrite][];
    await writeFile(join(dir, 'model.safetensors'), serializeSafetensors(entries));
    await expect(loadModelDir(dir)).rejects.toThrow(/tensor "model\.norm\.weight" is missing/);
    entries.push(['model.norm.weight', { dtype: 'F32', shape: [8], data: new Float32Array(8) }]);
    entries.push(['model.extra.weight', { dtype: 'F32', shape: [1], data: [0] }]);
    await writeFile(join(dir, 'model.safetensors'), serializeSafetensors(entries));
    await expect(loadModelDir(dir)).rejects.toThrow(
      /tensor "model\.extra\.weight" \(in model\.safetensors\) is not a parameter/,
    );

    expect(() => specFromHfConfig({ ...HF_CONFIG, num_attention_heads: 3 })).toThrow(
      /hidden_size 8 is not divisible by num_attention_heads 3/,
    );
    expect(() => specFromHfConfig({ ...HF_CONFIG, vocab_size: '13' })).toThrow(
      /config\.json: vocab_size must be a positive integer/,
    );
    expect(() => specFromHfConfig({ ...HF_CONFIG, model_type: 'gpt_neox' })).toThrow(/model_type "gpt_neox"/);
    expect(() => specFromHfConfig({ ...HF_CONFIG, rope_scaling: { type: 'llama3' } })).toThrow(
      /rope_scaling/,
    );
    const empty = await tmp();
    await writeFile(join(empty, 'config.json'), JSON.stringify(HF_CONFIG));
    await expect(loadModelDir(empty)).rejects.toThrow(
      /neither model\.safetensors nor model\.safetensors\.index\.json/,
    );
    expect((await readdir(empty)).length).toBe(1);
  });
});
