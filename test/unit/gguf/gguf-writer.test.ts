// The test GGUF writer against its own reader (runs without node-llama-cpp), the reference forward's
// invariants, and the GGUF teacher's helpers on fakes of node-llama-cpp's objects.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  defaultNodeLlamaCppImporter,
  ggufParamCount,
  importNodeLlamaCpp,
  labelLogits,
  promptTokens,
  type GgufModel,
  type GgufSequence,
} from '../../../core/nn/gguf';
import {
  logSoftmax,
  readGguf,
  tensorData,
  tinyLlama,
  tinyLlamaForward,
  tinyLlamaGguf,
  writeGguf,
} from '../../helpers/gguf-writer';

describe('GGUF writer', () => {
  it('round-trips metadata of every kind, tensor shapes, aligned offsets and data', () => {
    const a = Float32Array.from({ length: 15 }, (_, i) => i - 7.5);
    const b = Float32Array.from([Math.PI]);
    const bytes = writeGguf(
      [
        ['k.u32', { type: 'u32', value: 4294967295 }],
        ['k.i32', { type: 'i32', value: -5 }],
        ['k.f32', { type: 'f32', value: 0.25 }],
        ['k.bool', { type: 'bool', value: true }],
        ['k.str', { type: 'string', value: '▁spam é' }],
        ['k.strs', { type: 'string[]', value: ['a', '', '<0x0A>'] }],
        ['k.f32s', { type: 'f32[]', value: [1.5, -2] }],
        ['k.i32s', { type: 'i32[]', value: [6, -1] }],
      ],
      [
        { name: 'a', dims: [5, 3], data: a },
        { name: 'b', dims: [1], data: b },
      ],
    );
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('GGUF');
    const g = readGguf(bytes);
    expect(g.version).toBe(3);
    expect(Object.fromEntries(g.metadata)).toEqual({
      'k.u32': 4294967295,
      'k.i32': -5,
      'k.f32': 0.25,
      'k.bool': true,
      'k.str': '▁spam é',
      'k.strs': ['a', '', '<0x0A>'],
      'k.f32s': [1.5, -2],
      'k.i32s': [6, -1],
    });
    expect(g.tensors.map((t) => [t.name, t.dims, t.type, t.offset])).toEqual([
      ['a', [5, 3], 0, 0],
      ['b', [1], 0, 64], // 60 bytes of a, padded to 32
    ]);
    expect(g.dataOffset % 32).toBe(0);
    expect(bytes.length).toBe(g.dataOffset + 64 + 32);
    expect(tensorData(bytes, g, 'a')).toEqual(a);
    expect(tensorData(bytes, g, 'b')).toEqual(b);
  });

  it('says what is wrong with a bad file', () => {
    const bytes = writeGguf([['x', { type: 'string', value: 'hello' }]], []);
    expect(() => readGguf(bytes.subarray(0, 47))).toThrow(/truncated at byte 45 reading x$/);
    const bad = bytes.slice();
    bad[0] = 0;
    expect(() => readGguf(bad)).toThrow(/bad magic/);
    expect(() => writeGguf([], [{ name: 'w', dims: [2, 2], data: new Float32Array(3) }])).toThrow(
      /tensor w: dims 2×2 hold 4 values, data has 3/,
    );
  });

  it('writes a LLaMA model with the metadata and tensors llama.cpp needs', () => {
    const m = tinyLlama({ seed: 3 });
    const bytes = tinyLlamaGguf(m);
    const g = readGguf(bytes);
    const meta = g.metadata;
    expect(meta.get('general.architecture')).toBe('llama');
    for (const k of [
      'llama.context_length',
      'llama.embedding_length',
      'llama.block_count',
      'llama.feed_forward_length',
      'llama.attention.head_count',
      'llama.attention.head_count_kv',
      'llama.rope.dimension_count',
      'llama.attention.layer_norm_rms_epsilon',
    ])
      expect(typeof meta.get(k), k).toBe('number');
    const tokens = meta.get('tokenizer.ggml.tokens') as string[];
    expect(tokens).toEqual(m.vocab);
    expect((meta.get('tokenizer.ggml.scores') as number[]).length).toBe(tokens.length);
    expect((meta.get('tokenizer.ggml.token_type') as number[]).length).toBe(tokens.length);
    // SPM byte fallback needs all 256 byte tokens, and the label words are whole tokens
    for (let b = 0; b < 256; b++)
      expect(tokens).toContain(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    for (const w of ['▁spam', '▁ham', '▁yes', '▁no']) expect(tokens).toContain(w);
    expect(tokens[meta.get('tokenizer.ggml.bos_token_id') as number]).toBe('<s>');
    const names = g.tensors.map((t) => t.name);
    const d = m.config.dim;
    const dKv = (d / m.config.heads) * m.config.headsKv;
    const shape = (n: string) => g.tensors.find((t) => t.name === n)?.dims;
    expect(shape('token_embd.weight')).toEqual([d, tokens.length]);
    expect(shape('output.weight')).toEqual([d, tokens.length]);
    expect(shape('blk.1.attn_k.weight')).toEqual([d, dKv]);
    expect(shape('blk.1.ffn_down.weight')).toEqual([m.config.ff, d]);
    expect(names).toHaveLength(3 + 9 * m.config.layers);
    for (const t of g.tensors) expect(t.offset % 32).toBe(0);
    // the data read back is the model's
    expect(tensorData(bytes, g, 'blk.0.attn_q.weight')).toEqual(m.weights.get('blk.0.attn_q.weight')?.data);
    // seeded: the same seed writes the same bytes, another seed other weights
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(tinyLlamaGguf(tinyLlama({ seed: 3 }))))).toBe(0);
    expect(tinyLlama({ seed: 4 }).weights.get('output.weight')?.data[0]).not.toBe(
      m.weights.get('output.weight')?.data[0],
    );
  });

  it('has a causal reference forward: a position never sees later tokens', () => {
    const m = tinyLlama({ seed: 5, layers: 1 });
    const a = tinyLlamaForward(m, [1, 300, 301]);
    const b = tinyLlamaForward(m, [1, 300, 301, 302, 17]);
    for (let p = 0; p < 3; p++)
      a.logits[p].forEach((v, i) => expect(Math.abs(v - b.logits[p][i])).toBeLessThan(1e-12));
    expect(Math.abs(a.logits[2][5] - b.logits[3][5])).toBeGreaterThan(1e-6);
    const ls = logSoftmax(a.logits[2]);
    expect(ls.reduce((s, v) => s + Math.exp(v), 0)).toBeCloseTo(1, 12);
  });
});

describe('GGUF teacher helpers on fakes', () => {
  const env = process.env.QLAB_NODE_LLAMA_CPP;
  afterEach(() => {
    if (env === undefined) delete process.env.QLAB_NODE_LLAMA_CPP;
    else process.env.QLAB_NODE_LLAMA_CPP = env;
  });

  it('reads log-softmax from label logits, the top logit and the total weight', async () => {
    // vocabulary of 4 with logits z; node-llama-cpp returns the filtered tokens, the top one, Σexp(z−max)
    const z = [2, -1, 0.5, 3];
    const max = 3;
    const total = z.reduce((s, v) => s + Math.exp(v - max), 0);
    let asked: unknown;
    const seq: GgufSequence = {
      clearHistory: async () => {},
      controlledEvaluate: async (input) => {
        const last = input[input.length - 1] as [number, { generateNext: unknown }];
        asked = last[1].generateNext;
        return input.map((_, i) =>
          i === input.length - 1
            ? {
                next: {
                  logits: new Map([
                    [3, 3],
                    [0, 2],
                    [1, -1],
                  ]),
                  totalLogitWeight: total,
                },
              }
            : undefined,
        );
      },
    };
    const model = {
      tokenize: () => [7, 8],
      tokens: { bos: 1, shouldPrependBosToken: true },
    } as unknown as GgufModel;
    const got = await labelLogits(model, seq, 'x', [1, 0]);
    const want = logSoftmax(Float64Array.from(z));
    expect(got[0]).toBeCloseTo(want[1], 12);
    expect(got[1]).toBeCloseTo(want[0], 12);
    expect(asked).toMatchObject({
      logits: { filter: { tokens: [1, 0], includeTop: 1 } },
      totalLogitWeight: true,
      options: { temperature: 1, topK: 0, topP: 1, minP: 0 },
    });
    await expect(labelLogits(model, seq, 'x', [1, 0], 3)).rejects.toThrow(/teacher\.contextSize/);
  });

  it('puts BOS first only when the model asks for it', () => {
    const tokenize = () => [7, 8];
    const asks = { tokenize, tokens: { bos: 1, shouldPrependBosToken: true } };
    const declines = { tokenize, tokens: { bos: 1, shouldPrependBosToken: false } };
    const none = { tokenize, tokens: { bos: null } };
    expect(promptTokens(asks, 'x')).toEqual([1, 7, 8]);
    expect(promptTokens(declines, 'x')).toEqual([7, 8]);
    expect(promptTokens(none, 'x')).toEqual([7, 8]);
  });

  it('counts parameters from the tensor shapes', () => {
    expect(
      ggufParamCount({ fileInfo: { tensorInfo: [{ dimensions: [64, 300] }, { dimensions: [64n] }] } }),
    ).toBe(64 * 300 + 64);
    expect(ggufParamCount({})).toBeNull();
  });

  it('says where node-llama-cpp was looked for when QLAB_NODE_LLAMA_CPP has none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qlab-no-nlc-'));
    writeFileSync(join(dir, 'package.json'), '{}');
    process.env.QLAB_NODE_LLAMA_CPP = dir;
    await expect(importNodeLlamaCpp(defaultNodeLlamaCppImporter, 'encoder.path')).rejects.toThrow(
      /^encoder\.path: install node-llama-cpp to use a GGUF encoder .*QLAB_NODE_LLAMA_CPP/,
    );
  });
});
