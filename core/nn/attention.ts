// Causal multi-head self-attention with grouped-query heads and rotary embeddings (LLaMA convention: the
// head dimension is split in halves, pair i is (x[i], x[i + hd/2]), angle pos·θ^(−2i/hd)).
// Layout: projections arrive as (B, T, heads·hd); they are permuted to (B, heads, T, hd) so each head's
// products run as contiguous matmuls. Query head h reads key/value head ⌊h / (NH/NKV)⌋.
import { matmulAB, matmulABt, matmulAtB } from './matmul';
import type { Arr } from './tensor';

/** cos/sin tables (T, hd/2) for positions 0..T-1. */
export function ropeTables(T: number, hd: number, theta = 10000): { cos: Float64Array; sin: Float64Array } {
  const half = hd / 2;
  const cos = new Float64Array(T * half);
  const sin = new Float64Array(T * half);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const a = t * Math.pow(theta, (-2 * i) / hd);
      cos[t * half + i] = Math.cos(a);
      sin[t * half + i] = Math.sin(a);
    }
  }
  return { cos, sin };
}

/** outh (B,H,T,hd) = rope(inp (B,T,H·hd)); rope skipped when cos is null (GPT-2, values). */
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
  const half = hd >> 1;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < H; h++) {
        const src = ((b * T + t) * H + h) * hd;
        const dst = ((b * H + h) * T + t) * hd;
        if (!cos || !sin) {
          for (let i = 0; i < hd; i++) outh[dst + i] = inp[src + i];
          continue;
        }
        for (let i = 0; i < half; i++) {
          const c = cos[t * half + i];
          const s = sin[t * half + i];
          const x1 = inp[src + i];
          const x2 = inp[src + i + half];
          outh[dst + i] = x1 * c - x2 * s;
          outh[dst + i + half] = x2 * c + x1 * s;
        }
      }
    }
  }
}

/** dinp (B,T,H·hd) += ropeᵀ(douth (B,H,T,hd)). */
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
  const half = hd >> 1;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < H; h++) {
        const dst = ((b * T + t) * H + h) * hd;
        const src = ((b * H + h) * T + t) * hd;
        if (!cos || !sin) {
          for (let i = 0; i < hd; i++) dinp[dst + i] += douth[src + i];
          continue;
        }
        for (let i = 0; i < half; i++) {
          const c = cos[t * half + i];
          const s = sin[t * half + i];
          const d1 = douth[src + i];
          const d2 = douth[src + i + half];
          dinp[dst + i] += d1 * c + d2 * s;
          dinp[dst + i + half] += d2 * c - d1 * s;
        }
      }
    }
  }
}

/**
 * y (B,T,NH·hd) = causal softmax(q·kᵀ/√hd)·v per head; att (B,NH,T,T) keeps the weights (zero above the
 * diagonal) and yh (B,NH,T,hd) is scratch.
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
) {
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(hd);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const qo = (b * NH + h) * T * hd;
      const ko = (b * NKV + Math.floor(h / group)) * T * hd;
      const ao = (b * NH + h) * T * T;
      const A = att.subarray(ao, ao + T * T);
      matmulABt(A, qh.subarray(qo, qo + T * hd), kh.subarray(ko, ko + T * hd), T, T, hd);
      for (let t = 0; t < T; t++) {
        const r = t * T;
        let max = -Infinity;
        for (let u = 0; u <= t; u++) {
          const v = A[r + u] * scale;
          A[r + u] = v;
          if (v > max) max = v;
        }
        let sum = 0;
        for (let u = 0; u <= t; u++) {
          const e = Math.exp(A[r + u] - max);
          A[r + u] = e;
          sum += e;
        }
        const inv = 1 / sum;
        for (let u = 0; u <= t; u++) A[r + u] *= inv;
        for (let u = t + 1; u < T; u++) A[r + u] = 0; // causal mask
      }
      matmulAB(yh.subarray(qo, qo + T * hd), A, vh.subarray(ko, ko + T * hd), T, hd, T);
    }
  }
  ropePermuteBackwardCopy(y, yh, B, T, NH, hd);
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

/** Adds into dqh, dkh, dvh. dyh (B,NH,T,hd) and datt (T,T) are scratch. */
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
) {
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(hd);
  dyh.fill(0, 0, B * NH * T * hd);
  ropePermuteForward(dyh, dy, null, null, B, T, NH, hd);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const qo = (b * NH + h) * T * hd;
      const ko = (b * NKV + Math.floor(h / group)) * T * hd;
      const ao = (b * NH + h) * T * T;
      const A = att.subarray(ao, ao + T * T);
      const dY = dyh.subarray(qo, qo + T * hd);
      matmulABt(datt, dY, vh.subarray(ko, ko + T * hd), T, T, hd); // datt = dY·Vᵀ
      matmulAtB(dvh.subarray(ko, ko + T * hd), A, dY, T, hd, T, true); // dV += Aᵀ·dY
      for (let t = 0; t < T; t++) {
        const r = t * T;
        let dot = 0;
        for (let u = 0; u <= t; u++) dot += A[r + u] * datt[r + u];
        for (let u = 0; u <= t; u++) datt[r + u] = A[r + u] * (datt[r + u] - dot) * scale;
        for (let u = t + 1; u < T; u++) datt[r + u] = 0;
      }
      matmulAB(dqh.subarray(qo, qo + T * hd), datt, kh.subarray(ko, ko + T * hd), T, hd, T, true); // dQ += dS·K
      matmulAtB(dkh.subarray(ko, ko + T * hd), datt, qh.subarray(qo, qo + T * hd), T, hd, T, true); // dK += dSᵀ·Q
    }
  }
}
