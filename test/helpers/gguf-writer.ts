// A tiny GGUF v3 writer and reader, and a seeded random LLaMA-architecture model small enough to write in a
// test (d = 64, 2 layers, ~300 tokens), so the GGUF paths can run through a real llama.cpp without a
// downloaded model. Also an f64 reference forward pass of that model (llama.cpp's LLaMA graph: RMSNorm,
// NORM-mode RoPE on adjacent pairs, GQA causal attention, SwiGLU), to check what llama.cpp computes.
// Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md (little-endian throughout).
import { Rng } from '../../core/util/rng';

/** GGUF metadata value types (gguf.md's gguf_metadata_value_type). */
export const GGUF_TYPE = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
} as const;

/** The metadata values the writer emits (scalars and the arrays a tokenizer needs). */
export type GgufValue =
  | { type: 'u32' | 'i32' | 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: readonly string[] }
  | { type: 'f32[]' | 'i32[]'; value: readonly number[] };

export interface GgufTensor {
  name: string;
  /** ggml order: ne[0] (the contiguous row length) first; a (out, in) weight matrix is [in, out]. */
  dims: readonly number[];
  data: Float32Array;
}

const GGML_F32 = 0;
const MAGIC = 0x46554747; // "GGUF" read as a little-endian u32

class ByteSink {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private need(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u32(v: number): void {
    this.need(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  i32(v: number): void {
    this.need(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }
  f32(v: number): void {
    this.need(4);
    this.view.setFloat32(this.length, v, true);
    this.length += 4;
  }
  u64(v: number): void {
    this.need(8);
    this.view.setBigUint64(this.length, BigInt(v), true);
    this.length += 8;
  }
  u8(v: number): void {
    this.need(1);
    this.buf[this.length++] = v;
  }
  bytes(b: Uint8Array): void {
    this.need(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  str(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  padTo(alignment: number): void {
    while (this.length % alignment !== 0) this.u8(0);
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function writeValue(out: ByteSink, v: GgufValue): void {
  switch (v.type) {
    case 'u32':
      out.u32(GGUF_TYPE.u32);
      out.u32(v.value);
      return;
    case 'i32':
      out.u32(GGUF_TYPE.i32);
      out.i32(v.value);
      return;
    case 'f32':
      out.u32(GGUF_TYPE.f32);
      out.f32(v.value);
      return;
    case 'bool':
      out.u32(GGUF_TYPE.bool);
      out.u8(v.value ? 1 : 0);
      return;
    case 'string':
      out.u32(GGUF_TYPE.string);
      out.str(v.value);
      return;
    case 'string[]':
      out.u32(GGUF_TYPE.array);
      out.u32(GGUF_TYPE.string);
      out.u64(v.value.length);
      for (const s of v.value) out.str(s);
      return;
    case 'f32[]':
    case 'i32[]':
      out.u32(GGUF_TYPE.array);
      out.u32(v.type === 'f32[]' ? GGUF_TYPE.f32 : GGUF_TYPE.i32);
      out.u64(v.value.length);
      for (const x of v.value) {
        if (v.type === 'f32[]') out.f32(x);
        else out.i32(x);
      }
      return;
  }
}

/** Serialises a GGUF v3 file: header, metadata, tensor infos, padding, then F32 tensor data aligned. */
export function writeGguf(
  metadata: ReadonlyArray<readonly [string, GgufValue]>,
  tensors: readonly GgufTensor[],
  alignment = 32,
): Uint8Array {
  const out = new ByteSink();
  out.u32(MAGIC);
  out.u32(3);
  out.u64(tensors.length);
  const meta = [...metadata];
  if (alignment !== 32) meta.push(['general.alignment', { type: 'u32', value: alignment }]);
  out.u64(meta.length);
  for (const [key, value] of meta) {
    out.str(key);
    writeValue(out, value);
  }
  let offset = 0;
  for (const t of tensors) {
    const n = t.dims.reduce((a, b) => a * b, 1);
    if (n !== t.data.length)
      throw new Error(
        `tensor ${t.name}: dims ${t.dims.join('×')} hold ${n} values, data has ${t.data.length}`,
      );
    out.str(t.name);
    out.u32(t.dims.length);
    for (const d of t.dims) out.u64(d);
    out.u32(GGML_F32);
    out.u64(offset);
    offset += Math.ceil((n * 4) / alignment) * alignment;
  }
  out.padTo(alignment);
  for (const t of tensors) {
    out.bytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    out.padTo(alignment);
  }
  return out.result();
}

export type ParsedValue = number | bigint | boolean | string | ParsedValue[];

export interface ParsedGguf {
  version: number;
  metadata: Map<string, ParsedValue>;
  tensors: { name: string; dims: number[]; type: number; offset: number }[];
  /** Byte offset of the tensor data section. */
  dataOffset: number;
  alignment: number;
}

/** Parses a GGUF file's header, metadata and tensor infos; throws naming the byte offset on bad input. */
export function readGguf(bytes: Uint8Array): ParsedGguf {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 0;
  const need = (n: number, what: string): void => {
    if (p + n > bytes.length) throw new Error(`gguf: truncated at byte ${p} reading ${what}`);
  };
  const u32 = (what: string): number => {
    need(4, what);
    const v = view.getUint32(p, true);
    p += 4;
    return v;
  };
  const u64 = (what: string): number => {
    need(8, what);
    const v = view.getBigUint64(p, true);
    p += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`gguf: ${what} ${v} is too large`);
    return Number(v);
  };
  const str = (what: string): string => {
    const n = u64(`${what} length`);
    need(n, what);
    const s = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(p, p + n));
    p += n;
    return s;
  };
  const value = (type: number, what: string): ParsedValue => {
    switch (type) {
      case GGUF_TYPE.u8:
        need(1, what);
        return view.getUint8(p++);
      case GGUF_TYPE.i8:
        need(1, what);
        return view.getInt8(p++);
      case GGUF_TYPE.u16:
        need(2, what);
        p += 2;
        return view.getUint16(p - 2, true);
      case GGUF_TYPE.i16:
        need(2, what);
        p += 2;
        return view.getInt16(p - 2, true);
      case GGUF_TYPE.u32:
        return u32(what);
      case GGUF_TYPE.i32:
        need(4, what);
        p += 4;
        return view.getInt32(p - 4, true);
      case GGUF_TYPE.f32:
        need(4, what);
        p += 4;
        return view.getFloat32(p - 4, true);
      case GGUF_TYPE.bool: {
        need(1, what);
        const b = view.getUint8(p++);
        if (b > 1) throw new Error(`gguf: ${what}: bool byte ${b} at ${p - 1}`);
        return b === 1;
      }
      case GGUF_TYPE.string:
        return str(what);
      case GGUF_TYPE.array: {
        const et = u32(`${what} element type`);
        const n = u64(`${what} count`);
        const arr: ParsedValue[] = [];
        for (let i = 0; i < n; i++) arr.push(value(et, `${what}[${i}]`));
        return arr;
      }
      case GGUF_TYPE.u64:
        need(8, what);
        p += 8;
        return view.getBigUint64(p - 8, true);
      case GGUF_TYPE.i64:
        need(8, what);
        p += 8;
        return view.getBigInt64(p - 8, true);
      case GGUF_TYPE.f64:
        need(8, what);
        p += 8;
        return view.getFloat64(p - 8, true);
      default:
        throw new Error(`gguf: ${what}: unknown value type ${type} at byte ${p - 4}`);
    }
  };
  const magic = u32('magic');
  if (magic !== MAGIC) throw new Error(`gguf: bad magic 0x${magic.toString(16)} (expected "GGUF")`);
  const version = u32('version');
  if (version !== 2 && version !== 3) throw new Error(`gguf: unsupported version ${version}`);
  const nTensors = u64('tensor_count');
  const nKv = u64('metadata_kv_count');
  const metadata = new Map<string, ParsedValue>();
  for (let i = 0; i < nKv; i++) {
    const key = str(`metadata[${i}] key`);
    metadata.set(key, value(u32(`${key} type`), key));
  }
  const tensors: ParsedGguf['tensors'] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str(`tensor[${i}] name`);
    const nd = u32(`${name} n_dims`);
    const dims: number[] = [];
    for (let d = 0; d < nd; d++) dims.push(u64(`${name} dim ${d}`));
    const type = u32(`${name} type`);
    const offset = u64(`${name} offset`);
    tensors.push({ name, dims, type, offset });
  }
  const al = metadata.get('general.alignment');
  const alignment = typeof al === 'number' ? al : 32;
  const dataOffset = Math.ceil(p / alignment) * alignment;
  return { version, metadata, tensors, dataOffset, alignment };
}

/** The F32 data of one tensor of a parsed file. */
export function tensorData(bytes: Uint8Array, parsed: ParsedGguf, name: string): Float32Array {
  const t = parsed.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`gguf: no tensor ${name}`);
  if (t.type !== GGML_F32) throw new Error(`gguf: tensor ${name} has type ${t.type}, not F32`);
  const n = t.dims.reduce((a, b) => a * b, 1);
  const start = bytes.byteOffset + parsed.dataOffset + t.offset;
  return new Float32Array(bytes.buffer.slice(start, start + n * 4));
}

export interface TinyLlamaConfig {
  seed: number;
  dim: number;
  layers: number;
  heads: number;
  headsKv: number;
  ff: number;
  contextLength: number;
  eps: number;
  ropeBase: number;
  /** Whole words added to the vocabulary (with "▁" in front, and every prefix so SPM merges reach them). */
  words: readonly string[];
}

export const TINY_LLAMA_DEFAULTS: TinyLlamaConfig = {
  seed: 1,
  dim: 64,
  layers: 2,
  heads: 4,
  headsKv: 2,
  ff: 128,
  contextLength: 512,
  eps: 1e-5,
  ropeBase: 10000,
  words: ['spam', 'ham', 'yes', 'no', 'the', 'text', 'answer', 'one', 'of', 'is', 'a', 'classify', 'as'],
};

export interface TinyLlama {
  config: TinyLlamaConfig;
  /** Token strings in id order (SentencePiece form: "▁" marks a leading space). */
  vocab: string[];
  bos: number;
  eos: number;
  /** Weights in f32 as written, by GGUF tensor name. */
  weights: Map<string, GgufTensor>;
  metadata: [string, GgufValue][];
}

/** A seeded random LLaMA model with an SPM ("llama") tokenizer: <unk> <s> </s>, 256 byte tokens, ▁, a-z, words. */
export function tinyLlama(overrides: Partial<TinyLlamaConfig> = {}): TinyLlama {
  const c: TinyLlamaConfig = { ...TINY_LLAMA_DEFAULTS, ...overrides };
  if (c.dim % c.heads !== 0 || c.heads % c.headsKv !== 0)
    throw new Error(`tinyLlama: dim ${c.dim}, heads ${c.heads}, headsKv ${c.headsKv} do not divide`);
  const vocab = ['<unk>', '<s>', '</s>'];
  const types = [2, 3, 3]; // unknown, control, control
  for (let b = 0; b < 256; b++) {
    vocab.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(6); // byte
  }
  const normal: string[] = ['▁', ...'abcdefghijklmnopqrstuvwxyz'];
  for (const w of c.words) for (let k = 1; k <= w.length; k++) normal.push(`▁${w.slice(0, k)}`);
  for (const s of normal) {
    if (vocab.includes(s)) continue;
    vocab.push(s);
    types.push(1);
  }
  // SPM merges the pair whose merged token scores highest; longer pieces score higher so words form whole
  const scores = vocab.map((s, i) => (types[i] === 1 ? [...s].length - i * 1e-4 : 0));
  const V = vocab.length;
  const rng = new Rng(c.seed);
  const weights = new Map<string, GgufTensor>();
  const add = (name: string, dims: number[], std: number, mean = 0): void => {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = mean + std * rng.normal();
    weights.set(name, { name, dims, data });
  };
  const d = c.dim;
  const dKv = (d / c.heads) * c.headsKv;
  add('token_embd.weight', [d, V], 1);
  for (let l = 0; l < c.layers; l++) {
    add(`blk.${l}.attn_norm.weight`, [d], 0.1, 1);
    add(`blk.${l}.attn_q.weight`, [d, d], 1 / Math.sqrt(d));
    add(`blk.${l}.attn_k.weight`, [d, dKv], 1 / Math.sqrt(d));
    add(`blk.${l}.attn_v.weight`, [d, dKv], 1 / Math.sqrt(d));
    add(`blk.${l}.attn_output.weight`, [d, d], 1 / Math.sqrt(d));
    add(`blk.${l}.ffn_norm.weight`, [d], 0.1, 1);
    add(`blk.${l}.ffn_gate.weight`, [d, c.ff], 1 / Math.sqrt(d));
    add(`blk.${l}.ffn_up.weight`, [d, c.ff], 1 / Math.sqrt(d));
    add(`blk.${l}.ffn_down.weight`, [c.ff, d], 1 / Math.sqrt(c.ff));
  }
  add('output_norm.weight', [d], 0.1, 1);
  // std 2/√d spreads the next-token distribution enough that label log-probs differ clearly between texts
  add('output.weight', [d, V], 2 / Math.sqrt(d));
  const metadata: [string, GgufValue][] = [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: `qlab-tiny-llama-${c.seed}` }],
    ['general.file_type', { type: 'u32', value: 0 }], // all F32
    ['llama.context_length', { type: 'u32', value: c.contextLength }],
    ['llama.embedding_length', { type: 'u32', value: d }],
    ['llama.block_count', { type: 'u32', value: c.layers }],
    ['llama.feed_forward_length', { type: 'u32', value: c.ff }],
    ['llama.attention.head_count', { type: 'u32', value: c.heads }],
    ['llama.attention.head_count_kv', { type: 'u32', value: c.headsKv }],
    ['llama.rope.dimension_count', { type: 'u32', value: d / c.heads }],
    ['llama.rope.freq_base', { type: 'f32', value: c.ropeBase }],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'f32', value: c.eps }],
    ['llama.vocab_size', { type: 'u32', value: V }],
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'string[]', value: vocab }],
    ['tokenizer.ggml.scores', { type: 'f32[]', value: scores }],
    ['tokenizer.ggml.token_type', { type: 'i32[]', value: types }],
    ['tokenizer.ggml.unknown_token_id', { type: 'u32', value: 0 }],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: 1 }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: 2 }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
  ];
  return { config: c, vocab, bos: 1, eos: 2, weights, metadata };
}

/** The model as GGUF bytes (tensors in llama.cpp's usual order). */
export function tinyLlamaGguf(m: TinyLlama): Uint8Array {
  return writeGguf(m.metadata, [...m.weights.values()]);
}

// ---- f64 reference forward (the slow, obvious version llama.cpp's output is checked against) ----

function rmsNorm(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i] * x[i];
  const r = 1 / Math.sqrt(ss / x.length + eps);
  return Float64Array.from(x, (v, i) => v * r * w[i]);
}

/** y = W x for a GGUF weight of dims [in, out] (row o holds the `in` weights of output o). */
function matVec(t: GgufTensor, x: Float64Array): Float64Array {
  const [nIn, nOut] = t.dims;
  const y = new Float64Array(nOut);
  for (let o = 0; o < nOut; o++) {
    let s = 0;
    for (let i = 0; i < nIn; i++) s += t.data[o * nIn + i] * x[i];
    y[o] = s;
  }
  return y;
}

/** llama.cpp's NORM RoPE (LLaMA): pairs (2i, 2i+1) of each head rotated by pos·base^(−2i/headDim). */
function rope(v: Float64Array, nHeads: number, hd: number, pos: number, base: number): void {
  for (let h = 0; h < nHeads; h++)
    for (let i = 0; i < hd / 2; i++) {
      const th = pos * base ** ((-2 * i) / hd);
      const a = v[h * hd + 2 * i];
      const b = v[h * hd + 2 * i + 1];
      v[h * hd + 2 * i] = a * Math.cos(th) - b * Math.sin(th);
      v[h * hd + 2 * i + 1] = a * Math.sin(th) + b * Math.cos(th);
    }
}

/**
 * Runs the model over `tokens` in f64 and returns, per position, the final-norm hidden state and the logits
 * (the last position's are what a next-token query reads).
 */
export function tinyLlamaForward(
  m: TinyLlama,
  tokens: readonly number[],
): { hidden: Float64Array[]; logits: Float64Array[] } {
  const c = m.config;
  const d = c.dim;
  const hd = d / c.heads;
  const W = (n: string): GgufTensor => {
    const t = m.weights.get(n);
    if (!t) throw new Error(`tinyLlamaForward: no tensor ${n}`);
    return t;
  };
  const emb = W('token_embd.weight');
  const xs = tokens.map((t) => Float64Array.from(emb.data.subarray(t * d, (t + 1) * d)));
  for (let l = 0; l < c.layers; l++) {
    const ks: Float64Array[] = [];
    const vs: Float64Array[] = [];
    const qs: Float64Array[] = [];
    xs.forEach((x, pos) => {
      const h = rmsNorm(x, W(`blk.${l}.attn_norm.weight`).data, c.eps);
      const q = matVec(W(`blk.${l}.attn_q.weight`), h);
      const k = matVec(W(`blk.${l}.attn_k.weight`), h);
      rope(q, c.heads, hd, pos, c.ropeBase);
      rope(k, c.headsKv, hd, pos, c.ropeBase);
      qs.push(q);
      ks.push(k);
      vs.push(matVec(W(`blk.${l}.attn_v.weight`), h));
    });
    const group = c.heads / c.headsKv;
    xs.forEach((x, pos) => {
      const att = new Float64Array(d);
      for (let h = 0; h < c.heads; h++) {
        const kh = Math.floor(h / group);
        const s = new Float64Array(pos + 1);
        let mx = -Infinity;
        for (let j = 0; j <= pos; j++) {
          let dot = 0;
          for (let i = 0; i < hd; i++) dot += qs[pos][h * hd + i] * ks[j][kh * hd + i];
          s[j] = dot / Math.sqrt(hd);
          mx = Math.max(mx, s[j]);
        }
        let z = 0;
        for (let j = 0; j <= pos; j++) z += s[j] = Math.exp(s[j] - mx);
        for (let j = 0; j <= pos; j++)
          for (let i = 0; i < hd; i++) att[h * hd + i] += (s[j] / z) * vs[j][kh * hd + i];
      }
      const o = matVec(W(`blk.${l}.attn_output.weight`), att);
      for (let i = 0; i < d; i++) x[i] += o[i];
      const h2 = rmsNorm(x, W(`blk.${l}.ffn_norm.weight`).data, c.eps);
      const g = matVec(W(`blk.${l}.ffn_gate.weight`), h2);
      const u = matVec(W(`blk.${l}.ffn_up.weight`), h2);
      for (let i = 0; i < g.length; i++) g[i] = (g[i] / (1 + Math.exp(-g[i]))) * u[i];
      const dn = matVec(W(`blk.${l}.ffn_down.weight`), g);
      for (let i = 0; i < d; i++) x[i] += dn[i];
    });
  }
  const hidden = xs.map((x) => rmsNorm(x, W('output_norm.weight').data, c.eps));
  return { hidden, logits: hidden.map((h) => matVec(W('output.weight'), h)) };
}

/** log-softmax of a logit row. */
export function logSoftmax(z: Float64Array): Float64Array {
  let mx = -Infinity;
  for (const v of z) mx = Math.max(mx, v);
  let s = 0;
  for (const v of z) s += Math.exp(v - mx);
  const lse = mx + Math.log(s);
  return Float64Array.from(z, (v) => v - lse);
}
