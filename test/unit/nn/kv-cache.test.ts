// Incremental decoding with a KV cache against the full-sequence forward: the same logits at every position
// (prefill + one token at a time, uneven chunks, both flavours, GQA), the same generated tokens as the uncached
// path, reuse after reset, and refusal past maxSeqLen.
import { describe, expect, it } from 'vitest';
import { CACHED_ATTENTION_MATMUL_ROWS } from '../../../core/nn/attention';
import { holdMatmulOperands, matmulABt, matmulABtNaive } from '../../../core/nn/matmul';
import { WasmGemm, wasmGemm } from '../../../core/nn/wasm/gemm';
import type { Arr, Dtype } from '../../../core/nn/tensor';
import { Transformer, type TransformerConfig } from '../../../core/nn/transformer';
import { Rng } from '../../../core/util/rng';

const T = 24;
const base = (over: Partial<TransformerConfig>): TransformerConfig => ({
  flavour: 'llama',
  vocabSize: 37,
  hiddenSize: 32,
  intermediateSize: 48,
  numLayers: 2,
  numHeads: 4,
  maxSeqLen: T,
  initStd: 0.3,
  ...over,
});

const CONFIGS: [string, TransformerConfig][] = [
  ['llama, GQA 4:2', base({ numKvHeads: 2, ropeTheta: 500 })],
  ['llama, GQA 4:1, tied embeddings', base({ numKvHeads: 1, tieEmbeddings: true })],
  ['llama, 4 kv heads', base({ numKvHeads: 4 })],
  ['gpt2', base({ flavour: 'gpt2' })],
];

// f32: the cached path sums attention in a different order (JS doubles for short chunks, the wasm kernel for long
// ones); f64: both are exact to rounding
const TOL: Record<Dtype, number> = { f32: 1e-5, f64: 1e-12 };

function model(cfg: TransformerConfig, dtype: Dtype, seed = 5): Transformer {
  const m = new Transformer(cfg, { dtype, seed });
  // norms start at 1 and biases at 0: move them so every term of the forward is exercised
  for (const p of m.parameters())
    if (p.shape.length === 1) for (let i = 0; i < p.size; i++) p.data[i] += 0.2 * Math.sin(3 * i + 1);
  return m;
}

function randomTokens(n: number, V: number, seed: number): Int32Array {
  const r = new Rng(seed);
  return Int32Array.from({ length: n }, () => r.int(V));
}

/** Full-sequence logits (T, V), copied out of the model. */
function fullLogits(m: Transformer, toks: Int32Array): Float64Array {
  m.lmForward(toks, 1, toks.length);
  return Float64Array.from(m.logits!.subarray(0, toks.length * m.config.vocabSize));
}

/** Logits (T, V) from feeding toks to a fresh cache in chunks of the given sizes. */
function chunkedLogits(m: Transformer, toks: Int32Array, chunks: number[]): Float64Array {
  const V = m.config.vocabSize;
  const cache = m.createKvCache();
  const out = new Float64Array(toks.length * V);
  let at = 0;
  for (const n of chunks) {
    const logits = m.forwardCached(cache, toks.slice(at, at + n));
    out.set(logits.subarray(0, n * V), at * V);
    at += n;
    expect(cache.length).toBe(at);
  }
  expect(at).toBe(toks.length);
  return out;
}

/** max |a − b| / max |b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
}

describe('KV cache: cached decoding equals the full forward at every position', () => {
  for (const dtype of ['f32', 'f64'] as const) {
    for (const [name, cfg] of CONFIGS) {
      it(`${name}, ${dtype}: prefill + token by token, uneven chunks, one chunk`, () => {
        const m = model(cfg, dtype);
        const toks = randomTokens(T, cfg.vocabSize, 11);
        const full = fullLogits(m, toks);
        const P = 10; // ≥ CACHED_ATTENTION_MATMUL_ROWS: the prefill takes the matmul path, single tokens the JS loop
        expect(P).toBeGreaterThanOrEqual(CACHED_ATTENTION_MATMUL_ROWS);
        const stepwise = chunkedLogits(m, toks, [P, ...Array<number>(T - P).fill(1)]);
        expect(relErr(stepwise, full)).toBeLessThan(TOL[dtype]);
        const uneven = chunkedLogits(m, toks, [3, 9, 1, 7, 4]);
        const one = chunkedLogits(m, toks, [T]);
        expect(relErr(uneven, full)).toBeLessThan(TOL[dtype]);
        expect(relErr(one, full)).toBeLessThan(TOL[dtype]);
        expect(relErr(uneven, one)).toBeLessThan(TOL[dtype]);
        // positions matter (RoPE / learned positions): a shifted sequence gives other logits at the same token
        const shifted = chunkedLogits(m, toks.slice(1), [T - 1]);
        expect(relErr(shifted, full.subarray(cfg.vocabSize))).toBeGreaterThan(1e3 * TOL.f32);
      });
    }
  }

  it('lastOnly returns the last row of the chunk', () => {
    const m = model(CONFIGS[0][1], 'f64');
    const toks = randomTokens(9, 37, 2);
    const full = fullLogits(m, toks);
    const c = m.createKvCache();
    const last = m.forwardCached(c, toks, true);
    expect(relErr(last.subarray(0, 37), full.subarray(8 * 37))).toBeLessThan(TOL.f64);
  });

  it('stores keys and values of the kv heads only, sized for maxSeqLen, and reuses its buffers per token', () => {
    const m = model(CONFIGS[0][1], 'f32');
    const c = m.createKvCache();
    const hd = 32 / 4;
    expect(c.keys.length).toBe(2);
    expect(c.keys[0].length).toBe(2 * T * hd);
    expect(c.values[1].length).toBe(2 * T * hd);
    expect(c.bytes).toBe(2 * 2 * 2 * T * hd * 4);
    const a = m.forwardCached(c, Int32Array.of(1, 2, 3));
    const b = m.forwardCached(c, Int32Array.of(4));
    const d = m.forwardCached(c, Int32Array.of(5));
    expect(b).toBe(a);
    expect(d).toBe(a);
    const keys = c.keys[0];
    m.forwardCached(c, Int32Array.of(6));
    expect(c.keys[0]).toBe(keys);
  });

  it('leaves the training forward’s logits alone', () => {
    const m = model(CONFIGS[3][1], 'f64');
    const toks = randomTokens(7, 37, 4);
    const before = fullLogits(m, toks);
    m.forwardCached(m.createKvCache(), randomTokens(5, 37, 9));
    expect(Array.from(m.logits!.subarray(0, before.length))).toEqual(Array.from(before));
  });
});

describe('KV cache: reset and reuse', () => {
  it('a reset cache gives a second prompt the same logits as a fresh cache', () => {
    for (const [, cfg] of CONFIGS) {
      const m = model(cfg, 'f32');
      const V = cfg.vocabSize;
      const c = m.createKvCache();
      m.forwardCached(c, randomTokens(15, V, 1));
      for (const t of randomTokens(6, V, 2)) m.forwardCached(c, Int32Array.of(t));
      expect(c.length).toBe(21);
      c.reset();
      expect(c.length).toBe(0);
      const second = randomTokens(12, V, 3);
      const reused = chunkedWith(m, c, second, [5, 1, 1, 5]);
      const fresh = chunkedWith(m, m.createKvCache(), second, [5, 1, 1, 5]);
      expect(Array.from(reused)).toEqual(Array.from(fresh));
      expect(relErr(reused, fullLogits(m, second))).toBeLessThan(TOL.f32);
    }
  });
});

function chunkedWith(
  m: Transformer,
  cache: ReturnType<Transformer['createKvCache']>,
  toks: Int32Array,
  chunks: number[],
) {
  const V = m.config.vocabSize;
  const out = new Float64Array(toks.length * V);
  let at = 0;
  for (const n of chunks) {
    out.set(m.forwardCached(cache, toks.slice(at, at + n)).subarray(0, n * V), at * V);
    at += n;
  }
  return out;
}

describe('KV cache: maxSeqLen', () => {
  it('refuses a chunk past the cache’s positions, naming maxSeqLen, and keeps what it holds', () => {
    const m = model(CONFIGS[0][1], 'f32');
    const c = m.createKvCache();
    m.forwardCached(c, randomTokens(T - 1, 37, 1));
    expect(() => m.forwardCached(c, Int32Array.of(1, 2))).toThrow(
      /^maxSeqLen: 23 cached \+ 2 new positions = 25 exceed the cache's 24 \(config\.maxSeqLen\)$/,
    );
    expect(c.length).toBe(T - 1);
    m.forwardCached(c, Int32Array.of(1));
    expect(c.length).toBe(T);
    expect(() => m.forwardCached(c, Int32Array.of(1))).toThrow(/maxSeqLen/);
    const small = m.createKvCache(8);
    expect(small.keys[0].length).toBe(2 * 8 * 8);
    expect(() => m.forwardCached(small, randomTokens(9, 37, 1))).toThrow(
      /^maxSeqLen: .*exceed the cache's 8$/,
    );
    expect(() => m.createKvCache(T + 1)).toThrow(/^maxSeqLen: .*exceeds config\.maxSeqLen 24/);
    expect(() => m.createKvCache(0)).toThrow(/^maxSeqLen: must be a positive integer/);
  });

  it('refuses another model’s cache, an empty chunk and out-of-vocabulary ids', () => {
    const m = model(CONFIGS[0][1], 'f32');
    const other = model(CONFIGS[0][1], 'f32');
    expect(() => m.forwardCached(other.createKvCache(), Int32Array.of(1))).toThrow(/^cache: /);
    const c = m.createKvCache();
    expect(() => m.forwardCached(c, new Int32Array(0))).toThrow(/^tokens: /);
    expect(() => m.forwardCached(c, Int32Array.of(1, 37))).toThrow(/tokens\[1\]/);
    expect(c.length).toBe(0);
  });
});

/** The sampling rule generate had before the cache (full sort of the vocabulary), as an independent reference. */
function referenceGenerate(
  m: Transformer,
  prompt: number[],
  steps: number,
  topK: number,
  temperature: number,
  seed: number,
): number[] {
  const rng = new Rng(seed);
  const V = m.config.vocabSize;
  const seq = [...prompt];
  for (let s = 0; s < steps; s++) {
    const ctx = seq.slice(-m.config.maxSeqLen);
    m.lmForward(Int32Array.from(ctx), 1, ctx.length);
    const logits: Arr = m.logits!;
    const o = (ctx.length - 1) * V;
    const order = [...Array(V).keys()].sort((a, b) => logits[o + b] - logits[o + a] || a - b);
    let next = order[0];
    if (topK > 1) {
      const k = Math.min(topK, V);
      const max = logits[o + order[0]];
      const w = order.slice(0, k).map((i) => Math.exp((logits[o + i] - max) / temperature));
      let r = rng.uniform() * w.reduce((a, b) => a + b, 0);
      for (let i = 0; i < k; i++) {
        r -= w[i];
        if (r < 0 || i === k - 1) {
          next = order[i];
          break;
        }
      }
    }
    seq.push(next);
  }
  return seq.slice(prompt.length);
}

describe('generate with the KV cache', () => {
  const prompt = [3, 1, 4, 1, 5, 9, 2, 6];
  // 8 + 30 > maxSeqLen 24: the last steps slide the window, which the cached path must do as the uncached one
  const steps = 30;
  for (const [name, cfg] of CONFIGS) {
    it(`${name}: greedy and top-k give the uncached path's tokens`, () => {
      const m = model(cfg, 'f32');
      const greedy = m.generate(prompt, steps);
      expect(greedy).toHaveLength(steps);
      expect(m.generate(prompt, steps, { cache: false })).toEqual(greedy);
      expect(referenceGenerate(m, prompt, steps, 1, 1, 0)).toEqual(greedy);
      const opts = { topK: 6, temperature: 1.5, seed: 42 };
      const sampled = m.generate(prompt, steps, opts);
      expect(m.generate(prompt, steps, { ...opts, cache: false })).toEqual(sampled);
      expect(referenceGenerate(m, prompt, steps, 6, 1.5, 42)).toEqual(sampled);
      expect(sampled).not.toEqual(greedy); // sampling actually sampled
      // a second call reuses the model's cache from a clean start; a shorter call before a longer one makes the
      // next call grow the cache (sized per call)
      expect(m.generate(prompt, steps, opts)).toEqual(sampled);
      expect(m.generate(prompt.slice(0, 2), 3, opts)).toEqual(
        m.generate(prompt.slice(0, 2), 3, { ...opts, cache: false }),
      );
      expect(m.generate(prompt, steps, opts)).toEqual(sampled);
    });
  }

  it('top-k larger than 64 (sorted selection) and larger than the vocabulary', () => {
    const m = model(base({ vocabSize: 97, numKvHeads: 2 }), 'f32');
    for (const topK of [80, 500]) {
      const opts = { topK, temperature: 0.7, seed: 7 };
      const s = m.generate(prompt, 12, opts);
      expect(m.generate(prompt, 12, { ...opts, cache: false })).toEqual(s);
      expect(referenceGenerate(m, prompt, 12, topK, 0.7, 7)).toEqual(s);
    }
  });

  it('a prompt longer than maxSeqLen keeps its last maxSeqLen tokens, as before', () => {
    const m = model(CONFIGS[0][1], 'f32');
    const long = Array.from(randomTokens(T + 5, 37, 8));
    const s = m.generate(long, 4, { topK: 3, seed: 1 });
    expect(m.generate(long, 4, { topK: 3, seed: 1, cache: false })).toEqual(s);
    expect(m.generate(long, 0)).toEqual([]);
    expect(() => m.generate(long, -1)).toThrow(/^maxNewTokens: /);
    expect(() => m.generate(long, 1.5)).toThrow(/^maxNewTokens: /);
  });
});

describe('decoding reads the weights in place', () => {
  it('generate holds every weight in the engine for the call: each token copies only activations, same tokens', () => {
    const w = wasmGemm()!;
    const cfg = base({ numKvHeads: 2, vocabSize: 300, hiddenSize: 64, intermediateSize: 96 });
    const m = model(cfg, 'f32');
    const prompt = [3, 1, 4, 1, 5];
    const weights = m.namedLinears().reduce((n, [, l]) => n + l.inFeatures * l.outFeatures, 0);
    // the reference: the same decoding loop with every weight copied in per product
    const cache = m.createKvCache(T);
    const ref: number[] = [];
    const pick = (l: Arr) => l.indexOf(Math.max(...Array.from(l.subarray(0, cfg.vocabSize))));
    let logits = m.forwardCached(cache, Int32Array.from(prompt), true);
    const c0 = w.copiedIn;
    for (let s = 0; s < 8; s++) {
      ref.push(pick(logits));
      if (s < 7) logits = m.forwardCached(cache, Int32Array.of(ref[s]), true);
    }
    const copiedPerToken = (w.copiedIn - c0) / 7;
    expect(copiedPerToken).toBeGreaterThan(weights); // every weight (and the activations), once per token
    const c1 = w.copiedIn;
    expect(m.generate(prompt, 8)).toEqual(ref);
    // prefill + 7 one-token steps with the weights held: what is copied is activations, well under one weight set
    expect(w.copiedIn - c1).toBeLessThan(weights / 4);
    expect(w.pinnedCount()).toBe(0); // released at the end of the call
  });

  it('pinning stops at 256 MiB in all: the rest is copied per product and the memory grows no further', () => {
    const w = new WasmGemm(); // its own memory: what it grows to is this test's alone
    const mib = 2 ** 20;
    const base = w.memory.buffer.byteLength;
    const buf = new ArrayBuffer(60 * mib); // five distinct arrays over one buffer: 300 MiB asked, 60 MiB held here
    const views = Array.from({ length: 5 }, () => new Float32Array(buf));
    const small = new Float32Array(1024);
    w.pin([...views, small]);
    expect(w.pinnedCount()).toBe(5); // four 60 MiB arrays fit the budget, the fifth does not, the small one does
    expect(w.memory.buffer.byteLength - base).toBeLessThanOrEqual(256 * mib);
    const s = w.stage(views[4], 8, views[0], 8, new Float32Array(1), 1, false)!;
    expect(w.copiedIn).toBe(8); // the unpinned fifth copied, the pinned first read in place
    expect(s.pb).toBeLessThan(s.pa);
    w.unpinAll();
    expect(w.pinnedCount()).toBe(0);
  });

  it('a held array is used in place and a nested hold keeps it until the outer release', () => {
    const w = wasmGemm()!;
    const [M, N, K] = [5, 40, 33];
    const a = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: N * K }, (_, i) => Math.cos(i));
    const ref = new Float32Array(M * N);
    matmulABtNaive(ref, a, b, M, N, K);
    const out = new Float32Array(M * N);
    const outer = holdMatmulOperands([b]);
    const inner = holdMatmulOperands([b]);
    inner();
    const c0 = w.copiedIn;
    matmulABt(out, a, b, M, N, K);
    expect(w.copiedIn - c0).toBe(M * K); // a only
    for (let i = 0; i < M * N; i++) expect(out[i]).toBeCloseTo(ref[i], 4);
    outer();
    expect(w.pinnedCount()).toBe(0);
    const c1 = w.copiedIn;
    matmulABt(out, a, b, M, N, K);
    expect(w.copiedIn - c1).toBe(M * K + N * K);
  });
});
