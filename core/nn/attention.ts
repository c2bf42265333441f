// Causal multi-head self-attention with grouped-query heads and rotary embeddings (LLaMA convention: the
// head dimension is split in halves, pair i is (x[i], x[i + hd/2]), angle pos·θ^(−2i/hd)).
// Layout: projections arrive as (B, T, heads·hd); they are permuted to (B, heads, T, hd) so each head's
// products run as contiguous matmuls. Query head h reads key/value head ⌊h / (NH/NKV)⌋. Each product runs for all
// B·NH heads in one batched call (one staging, split over the matmul threads by head).
import type { HeadScorer } from './head-scorer';
import { matmulBatched } from './matmul';
import { Kernel, runRows } from './rows';
import { alloc, dtypeOf, type Arr } from './tensor';

/** Per query head: the scorer that replaces q·k/√hd on it, or null for the classical score (head-scorer.ts). */
export type HeadScorers = readonly (HeadScorer | null)[];

// backward's per-head score gradients (B,NH,T,T) when the caller's datt holds only one head; kept across steps
const dattCache: { f32: Arr | null; f64: Arr | null } = { f32: null, f64: null };

function scoreScratch(datt: Arr, n: number): Arr {
  if (datt.length >= n) return datt;
  const dt = dtypeOf(datt);
  const c = dattCache[dt];
  if (c && c.length >= n) return c;
  return (dattCache[dt] = alloc(dt, n));
}

/** cos/sin tables (T, hd/2) for positions 0..T-1. */
export function ropeTables(T: number, hd: number, theta = 10000): { cos: Float64Array; sin: Float64Array } {
  const half = hd / 2;
  // on shared memory where the platform allows, so the matmul pool's threads can read them (rows.ts)
  const cos = alloc('f64', T * half) as Float64Array;
  const sin = alloc('f64', T * half) as Float64Array;
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const a = t * Math.pow(theta, (-2 * i) / hd);
      cos[t * half + i] = Math.cos(a);
      sin[t * half + i] = Math.sin(a);
    }
  }
  return { cos, sin };
}

/** outh (B,H,T,hd) = rope(inp (B,T,H·hd)); rope skipped when cos is null (GPT-2, values). rows.ts, both cores. */
export function ropePermuteForward(
  outh: Arr,
  inp: Arr,
  cos: Float64Array | null,
  sin: Float64Array | null,
  B: number,
  T: number,
  H: number,
  hd: number,
) {
  runRows(
    Kernel.RopePermuteForward,
    cos && sin ? [outh, inp, cos, sin] : [outh, inp],
    [B, T, H, hd],
    B * T * H * hd,
  );
}

/** dinp (B,T,H·hd) += ropeᵀ(douth (B,H,T,hd)). rows.ts, both cores. */
export function ropePermuteBackward(
  dinp: Arr,
  douth: Arr,
  cos: Float64Array | null,
  sin: Float64Array | null,
  B: number,
  T: number,
  H: number,
  hd: number,
) {
  runRows(
    Kernel.RopePermuteBackward,
    cos && sin ? [dinp, douth, cos, sin] : [dinp, douth],
    [B, T, H, hd],
    B * T * H * hd,
  );
}

/**
 * y (B,T,NH·hd) = causal softmax(q·kᵀ/√hd)·v per head; att (B,NH,T,T) keeps the weights (zero above the
 * diagonal) and yh (B,NH,T,hd) is scratch. Heads with a scorer take their pre-softmax scores from it.
 */
export function attentionForward(
  y: Arr,
  att: Arr,
  yh: Arr,
  qh: Arr, // (B, NH, T, hd)
  kh: Arr, // (B, NKV, T, hd)
  vh: Arr, // (B, NKV, T, hd)
  B: number,
  T: number,
  NH: number,
  NKV: number,
  hd: number,
  scorers: HeadScorers | null = null,
) {
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(hd);
  const count = B * NH;
  const Thd = T * hd;
  // scores (B,NH,T,T) = Q·Kᵀ per head, then the causal softmax row by row, then Y = A·V per head
  matmulBatched('ABt', att, qh, kh, T, T, hd, {
    count,
    aStride: Thd,
    bStride: Thd,
    bGroup: group,
    cStride: T * T,
  });
  if (scorers) scoredHeadsForward(att, qh, kh, B, T, NH, NKV, hd, scorers);
  // the causal softmax row by row (rows.ts); a scorer's scores are used as they are (×1 is exact, so unscored
  // heads are bit-for-bit the classical path)
  runRows(Kernel.CausalSoftmax, [att], headScales(T, NH, count * T, scale, scorers), count * T * T);
  matmulBatched('AB', yh, att, vh, T, hd, T, {
    count,
    aStride: T * T,
    bStride: Thd,
    bGroup: group,
    cStride: Thd,
  });
  ropePermuteBackwardCopy(y, yh, B, T, NH, hd);
}

/** The causal softmax kernels' scalars: T, NH, rows, then each head's score scale (1 for a scored head). */
function headScales(
  T: number,
  NH: number,
  rows: number,
  scale: number,
  scorers: HeadScorers | null,
): number[] {
  const s = [T, NH, rows];
  for (let h = 0; h < NH; h++) s.push(scorers !== null && scorers[h] ? 1 : scale);
  return s;
}

/** Overwrites the (T, T) score blocks of the scored heads in att (B,NH,T,T) with their scorers' scores. */
function scoredHeadsForward(
  att: Arr,
  qh: Arr,
  kh: Arr,
  B: number,
  T: number,
  NH: number,
  NKV: number,
  hd: number,
  scorers: HeadScorers,
) {
  const group = NH / NKV;
  for (let h = 0; h < NH; h++) {
    const sc = scorers[h];
    if (!sc) continue;
    const kv = (h / group) | 0;
    if (sc.batch) {
      const st = { q: NH * T * hd, k: NKV * T * hd, scores: NH * T * T };
      sc.batch.forward(att.subarray(h * T * T), qh.subarray(h * T * hd), kh.subarray(kv * T * hd), B, T, st);
      continue;
    }
    for (let b = 0; b < B; b++) {
      const a = (b * NH + h) * T * T;
      const q = (b * NH + h) * T * hd;
      const k = (b * NKV + kv) * T * hd;
      sc.forward(att.subarray(a, a + T * T), qh.subarray(q, q + T * hd), kh.subarray(k, k + T * hd), T, T, b);
    }
  }
}

/** y (B,T,H·hd) = permute(yh (B,H,T,hd)), overwriting. */
function ropePermuteBackwardCopy(y: Arr, yh: Arr, B: number, T: number, H: number, hd: number) {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < H; h++) {
        const dst = ((b * T + t) * H + h) * hd;
        const src = ((b * H + h) * T + t) * hd;
        for (let i = 0; i < hd; i++) y[dst + i] = yh[src + i];
      }
    }
  }
}

/**
 * Adds into dqh, dkh, dvh. dyh (B,NH,T,hd) and datt are scratch; a datt shorter than B·NH·T·T (one head's T·T)
 * is replaced by a buffer this module keeps.
 */
export function attentionBackward(
  dqh: Arr,
  dkh: Arr,
  dvh: Arr,
  dyh: Arr,
  datt: Arr,
  dy: Arr, // (B, T, NH·hd)
  att: Arr,
  qh: Arr,
  kh: Arr,
  vh: Arr,
  B: number,
  T: number,
  NH: number,
  NKV: number,
  hd: number,
  scorers: HeadScorers | null = null,
) {
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(hd);
  ropePermuteForward(dyh, dy, null, null, B, T, NH, hd); // overwrites every element of dyh
  const count = B * NH;
  const Thd = T * hd;
  const TT = T * T;
  const dS = scoreScratch(datt, count * TT);
  // dA = dY·Vᵀ and dV += Aᵀ·dY per head (query heads of a group add into their key/value head in order)
  matmulBatched('ABt', dS, dyh, vh, T, T, hd, {
    count,
    aStride: Thd,
    bStride: Thd,
    bGroup: group,
    cStride: TT,
  });
  matmulBatched(
    'AtB',
    dvh,
    att,
    dyh,
    T,
    hd,
    T,
    { count, aStride: TT, bStride: Thd, cStride: Thd, cGroup: group },
    true,
  );
  // softmax backward in place: dS = A ⊙ (dA − ⟨A, dA⟩_row) / √hd, zero above the diagonal
  const scales = headScales(T, NH, count * T, scale, scorers);
  runRows(Kernel.CausalSoftmaxBackward, [dS, att], scales, count * T * T);
  // scored heads: their scorers take ∂L/∂scores, then the blocks are zeroed so the products below add nothing
  if (scorers) {
    for (let h = 0; h < NH; h++) {
      const sc = scorers[h];
      if (!sc) continue;
      if (sc.batch) {
        const kv = ((h / group) | 0) * Thd;
        const st = { q: NH * Thd, k: NKV * Thd, scores: NH * TT };
        const [q, k] = [h * Thd, kv];
        sc.batch.backward(
          dqh.subarray(q),
          dkh.subarray(k),
          dS.subarray(h * TT),
          qh.subarray(q),
          kh.subarray(k),
          B,
          T,
          st,
        );
        for (let b = 0; b < B; b++) dS.fill(0, (b * NH + h) * TT, (b * NH + h + 1) * TT);
        continue;
      }
      for (let b = 0; b < B; b++) {
        const a = (b * NH + h) * TT;
        const q = (b * NH + h) * Thd;
        const k = (b * NKV + ((h / group) | 0)) * Thd;
        const dSb = dS.subarray(a, a + TT);
        sc.backward(
          dqh.subarray(q, q + Thd),
          dkh.subarray(k, k + Thd),
          dSb,
          qh.subarray(q, q + Thd),
          kh.subarray(k, k + Thd),
          T,
          T,
          b,
        );
        dSb.fill(0);
      }
    }
  }
  matmulBatched(
    'AB',
    dqh,
    dS,
    kh,
    T,
    hd,
    T,
    { count, aStride: TT, bStride: Thd, bGroup: group, cStride: Thd },
    true,
  );
  matmulBatched(
    'AtB',
    dkh,
    dS,
    qh,
    T,
    hd,
    T,
    { count, aStride: TT, bStride: Thd, cStride: Thd, cGroup: group },
    true,
  );
}

// ---------------------------------------------------------------- incremental decoding (KV cache, no backward)

/**
 * out (H, outRows, hd) rows outPos..outPos+n-1 = rope(inp (n, H·hd)) at positions pos..pos+n-1; rope skipped when
 * cos is null. Writes new queries (outRows = n, outPos = 0) or new keys/values straight into a cache
 * (outRows = maxSeqLen, outPos = pos), using the same tables and arithmetic as ropePermuteForward.
 */
export function ropeRowsForward(
  out: Arr,
  inp: Arr,
  cos: Float64Array | null,
  sin: Float64Array | null,
  n: number,
  H: number,
  hd: number,
  pos: number,
  outRows: number,
  outPos: number,
) {
  const half = hd >> 1;
  for (let t = 0; t < n; t++) {
    const tb = (pos + t) * half;
    for (let h = 0; h < H; h++) {
      const src = (t * H + h) * hd;
      const dst = (h * outRows + outPos + t) * hd;
      if (!cos || !sin) {
        for (let i = 0; i < hd; i++) out[dst + i] = inp[src + i];
        continue;
      }
      for (let i = 0; i < half; i++) {
        const c = cos[tb + i];
        const s = sin[tb + i];
        const x1 = inp[src + i];
        const x2 = inp[src + i + half];
        out[dst + i] = x1 * c - x2 * s;
        out[dst + i + half] = x2 * c + x1 * s;
      }
    }
  }
}

/** Chunks at least this long run their score and value products as batched matmuls; shorter ones loop in JS. */
export const CACHED_ATTENTION_MATMUL_ROWS = 8;

/**
 * Attention of n new queries at positions pos..pos+n-1 over the cached keys/values 0..pos+n-1 (causal inside the
 * chunk: query t sees u ≤ pos + t). y (n, NH·hd) is overwritten; att needs NH·n·(pos+n) and yh NH·n·hd elements.
 * kc, vc are one layer's cache (NKV, maxT, hd) already holding the new rows; query head h reads kv head
 * ⌊h / (NH/NKV)⌋ as in attentionForward.
 */
export function cachedAttentionForward(
  y: Arr,
  att: Arr,
  yh: Arr,
  qh: Arr, // (NH, n, hd)
  kc: Arr, // (NKV, maxT, hd)
  vc: Arr, // (NKV, maxT, hd)
  n: number,
  pos: number,
  NH: number,
  NKV: number,
  hd: number,
  maxT: number,
  scorers: HeadScorers | null = null,
) {
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(hd);
  const S = pos + n;
  const big = n >= CACHED_ATTENTION_MATMUL_ROWS;
  if (big) {
    matmulBatched('ABt', att, qh, kc, n, S, hd, {
      count: NH,
      aStride: n * hd,
      bStride: maxT * hd,
      bGroup: group,
      cStride: n * S,
    });
  }
  for (let h = 0; h < NH; h++) {
    const kv = ((h / group) | 0) * maxT * hd;
    const scorer = scorers?.[h] ?? null;
    // a scored head's scores come from its scorer (slot 0) over the cached keys, used as they are
    if (scorer)
      scorer.forward(
        att.subarray(h * n * S, (h + 1) * n * S),
        qh.subarray(h * n * hd, (h + 1) * n * hd),
        kc.subarray(kv, kv + S * hd),
        n,
        S,
        0,
      );
    const hs = scorer ? 1 : scale;
    for (let t = 0; t < n; t++) {
      const o = (h * n + t) * S;
      const q = (h * n + t) * hd;
      const last = pos + t; // causal: keys 0..pos+t
      let max = -Infinity;
      for (let u = 0; u <= last; u++) {
        let v: number;
        if (big || scorer) v = att[o + u] * hs;
        else {
          let d = 0;
          const k = kv + u * hd;
          for (let i = 0; i < hd; i++) d += qh[q + i] * kc[k + i];
          v = d * scale;
        }
        att[o + u] = v;
        if (v > max) max = v;
      }
      let sum = 0;
      for (let u = 0; u <= last; u++) {
        const e = Math.exp(att[o + u] - max);
        att[o + u] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let u = 0; u <= last; u++) att[o + u] *= inv;
      for (let u = last + 1; u < S; u++) att[o + u] = 0;
      if (big) continue;
      // y row t, head h = Σ_u att[u]·v[u], written straight into the (n, NH·hd) layout
      const dst = (t * NH + h) * hd;
      // sums in a double, so an f32 output is rounded once as the matmul path rounds it
      for (let i = 0; i < hd; i++) {
        let acc = 0;
        for (let u = 0, vr = kv + i; u <= last; u++, vr += hd) acc += att[o + u] * vc[vr];
        y[dst + i] = acc;
      }
    }
  }
  if (!big) return;
  matmulBatched('AB', yh, att, vc, n, hd, S, {
    count: NH,
    aStride: n * S,
    bStride: maxT * hd,
    bGroup: group,
    cStride: n * hd,
  });
  ropePermuteBackwardCopy(y, yh, 1, n, NH, hd);
}
