// Key/value cache for incremental decoding (Transformer.forwardCached): per layer the keys (after RoPE for the
// LLaMA flavour) and values of every position decoded so far, kv heads only under grouped-query attention, in
// arrays preallocated for maxSeqLen positions. It also owns the decoding scratch, sized by the longest chunk seen,
// so a step of one token allocates nothing.
import { ensure } from './layers';
import { checkPositiveInt, type Arr, type Dtype } from './tensor';

export interface KvCacheShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  /** Positions the cache holds; forwardCached refuses a chunk that would go past it. */
  maxSeqLen: number;
  dtype: Dtype;
}

/** Sizes of the activations of one decoding chunk, per row (token). */
export interface ChunkDims {
  hidden: number; // C
  qWidth: number; // NH·hd
  kvWidth: number; // NKV·hd
  numHeads: number; // NH
  vocab: number; // V
}

/** Activations of the chunk being decoded; every array holds at least `rows` rows (see KvCache.prepare). */
export interface DecodeScratch {
  rows: number;
  x: Arr; // (n, C) residual stream
  ln: Arr; // (n, C)
  mean: Arr; // (n)
  rstd: Arr; // (n)
  q: Arr; // (n, NH·hd)
  k: Arr; // (n, NKV·hd)
  v: Arr; // (n, NKV·hd)
  qh: Arr; // (NH, n, hd) after RoPE
  att: Arr; // (NH, n, ≤ maxT)
  yh: Arr; // (NH, n, hd)
  y: Arr; // (n, NH·hd)
  ao: Arr; // (n, C)
  mo: Arr; // (n, C)
  last: Arr; // (C) the last row's hidden state, when only its logits are wanted
  logits: Arr; // (n, V)
}

export class KvCache {
  readonly numLayers: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly maxSeqLen: number;
  readonly dtype: Dtype;
  /** Per layer (numKvHeads, maxSeqLen, headDim): rows 0..length-1 are valid. */
  readonly keys: Arr[];
  readonly values: Arr[];
  /** Positions filled so far; the next chunk starts at this position. */
  length = 0;
  private scratch: DecodeScratch | null = null;

  constructor(
    shape: KvCacheShape,
    /** The model whose weights filled the cache; forwardCached refuses a cache of another model. */
    readonly owner: object,
  ) {
    this.numLayers = checkPositiveInt(shape.numLayers, 'cache.numLayers');
    this.numKvHeads = checkPositiveInt(shape.numKvHeads, 'cache.numKvHeads');
    this.headDim = checkPositiveInt(shape.headDim, 'cache.headDim');
    this.maxSeqLen = checkPositiveInt(shape.maxSeqLen, 'cache.maxSeqLen');
    this.dtype = shape.dtype;
    const n = this.numKvHeads * this.maxSeqLen * this.headDim;
    this.keys = [];
    this.values = [];
    for (let l = 0; l < this.numLayers; l++) {
      this.keys.push(ensure(null, this.dtype, n));
      this.values.push(ensure(null, this.dtype, n));
    }
  }

  /** Forgets every position (the arrays are kept and overwritten by the next prompt). */
  reset(): void {
    this.length = 0;
  }

  /** Bytes held by keys and values: 2 · layers · kvHeads · maxSeqLen · headDim · (4 or 8). */
  get bytes(): number {
    return (
      2 * this.numLayers * this.numKvHeads * this.maxSeqLen * this.headDim * (this.dtype === 'f32' ? 4 : 8)
    );
  }

  /** Scratch for a chunk of n rows; reallocated only when n exceeds every earlier chunk. */
  prepare(n: number, d: ChunkDims): DecodeScratch {
    const s = this.scratch;
    if (s && s.rows >= n) return s;
    const a = (k: number) => ensure(null, this.dtype, k);
    return (this.scratch = {
      rows: n,
      x: a(n * d.hidden),
      ln: a(n * d.hidden),
      mean: a(n),
      rstd: a(n),
      q: a(n * d.qWidth),
      k: a(n * d.kvWidth),
      v: a(n * d.kvWidth),
      qh: a(n * d.qWidth),
      att: a(d.numHeads * n * this.maxSeqLen),
      yh: a(n * d.qWidth),
      y: a(n * d.qWidth),
      ao: a(n * d.hidden),
      mo: a(n * d.hidden),
      last: a(d.hidden),
      logits: a(n * d.vocab),
    });
  }
}
