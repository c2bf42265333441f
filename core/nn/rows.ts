// Elementwise and row kernels that run on both cores: the SwiGLU activation and its backward, softmax
// cross-entropy rows and the language-model ∂logits, the causal attention softmax and its backward, the
// Adam/AdamW update, RMSNorm and its backward, the RoPE head permutes and the residual adds. Each kernel is a
// self-contained function (a, s, t, nt) over arrays a and scalars s that does thread t's share of nt; the matmul
// worker pool (matmul-threads.ts) evaluates the same functions' source in its workers, so the code a worker runs is
// the code below. Without a pool, or when an array is not on shared memory, or the work is small, the calling thread
// runs all of it (t = 0, nt = 1): the results are the same either way, since every element is computed once by the
// same expression.
import { isMatmulResident, matmulRowsWasm, matmulStageViews } from './matmul';
import type { Arr } from './tensor';
import type { RowsWasm } from './wasm/gemm';

/**
 * Thread t's share (of nt) of a kernel over arrays a and scalars s. w, given only when the arrays the kernel
 * hands to it lie in the wasm engine's memory (Float32; runRows copies them there when they are not resident),
 * is that engine's f32x4 kernels (gemm-module.ts): the
 * SwiGLU forward and both softmaxes then take their exponentials from its expf (Cephes', ≲ 2 ulp where Math.exp
 * rounds once), and the SwiGLU backward and Adam run there in f32 (the same expressions in the same order, f32
 * rounding where JS rounds once at the store); without it they run in JS as before.
 */
export type RowKernel = (
  a: (Arr | Int32Array)[],
  s: number[],
  t: number,
  nt: number,
  w?: RowsWasm | null,
) => void;

/**
 * out = silu(gate)·up over n elements; a = [out, gate, up] or [out, gate, up, sig], s = [n]. With sig, σ(gate)
 * is kept there for the backward (one exp per element per step instead of two).
 */
const swigluForwardK: RowKernel = (a, s, t, nt, w) => {
  const out = a[0];
  const gate = a[1];
  const up = a[2];
  const n = s[0];
  const i0 = Math.floor((n * t) / nt);
  const i1 = Math.floor((n * (t + 1)) / nt);
  if (w && a.length > 3) {
    // (no nested functions in a kernel: a bundler's name helper would not exist in the worker's copy)
    const o = 4 * i0;
    w.swiglu(out.byteOffset + o, gate.byteOffset + o, up.byteOffset + o, a[3].byteOffset + o, i1 - i0);
  } else if (a.length > 3) {
    const sig = a[3];
    for (let i = i0; i < i1; i++) {
      const g = gate[i];
      const sg = 1 / (1 + Math.exp(-g));
      sig[i] = sg;
      out[i] = g * sg * up[i];
    }
  } else
    for (let i = i0; i < i1; i++) {
      const g = gate[i];
      out[i] = (g / (1 + Math.exp(-g))) * up[i];
    }
};

/**
 * dgate += dout·up·σ(g)(1 + g(1 − σ(g))), dup += dout·g·σ(g); a = [dgate, dup, dout, gate, up] or with sig
 * (σ(gate) kept by the forward) appended, s = [n].
 */
const swigluBackwardK: RowKernel = (a, s, t, nt, w) => {
  const dgate = a[0];
  const dup = a[1];
  const dout = a[2];
  const gate = a[3];
  const up = a[4];
  const n = s[0];
  const i0 = Math.floor((n * t) / nt);
  const i1 = Math.floor((n * (t + 1)) / nt);
  if (w && a.length > 5) {
    const o = 4 * i0;
    const [dg, du, d] = [dgate.byteOffset + o, dup.byteOffset + o, dout.byteOffset + o];
    w.swigluBack(dg, du, d, gate.byteOffset + o, up.byteOffset + o, a[5].byteOffset + o, i1 - i0);
  } else if (a.length > 5) {
    const sig = a[5];
    for (let i = i0; i < i1; i++) {
      const g = gate[i];
      const sg = sig[i];
      const d = dout[i];
      dgate[i] += d * up[i] * sg * (1 + g * (1 - sg));
      dup[i] += d * g * sg;
    }
  } else
    for (let i = i0; i < i1; i++) {
      const g = gate[i];
      const sg = 1 / (1 + Math.exp(-g));
      const d = dout[i];
      dgate[i] += d * up[i] * sg * (1 + g * (1 - sg));
      dup[i] += d * g * sg;
    }
};

/**
 * Softmax rows and each row's cross-entropy: probs = softmax(logits) over N rows of V, rowLoss[n] = −log p(target)
 * in the log-sum-exp form, NaN where the target is ignoreIndex. a = [probs, logits, targets, rowLoss],
 * s = [N, V, ignoreIndex]; targets are checked by the caller.
 */
const softmaxXentK: RowKernel = (a, s, t, nt, w) => {
  const probs = a[0];
  const logits = a[1];
  const targets = a[2];
  const rowLoss = a[3];
  const N = s[0];
  const V = s[1];
  const ignore = s[2];
  const n0 = Math.floor((N * t) / nt);
  const n1 = Math.floor((N * (t + 1)) / nt);
  for (let n = n0; n < n1; n++) {
    const o = n * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (logits[o + v] > max) max = logits[o + v];
    let sum = 0;
    if (w) {
      w.exps(probs.byteOffset + 4 * o, logits.byteOffset + 4 * o, V, max);
      for (let v = 0; v < V; v++) sum += probs[o + v];
    } else
      for (let v = 0; v < V; v++) {
        const e = Math.exp(logits[o + v] - max);
        probs[o + v] = e;
        sum += e;
      }
    const inv = 1 / sum;
    for (let v = 0; v < V; v++) probs[o + v] *= inv;
    const tg = targets[n];
    rowLoss[n] = tg === ignore ? NaN : -(logits[o + tg] - max - Math.log(sum));
  }
};

/**
 * ∂(mean cross-entropy)/∂logits in place of the probabilities: scale·(p − onehot(target)), rows with an ignored
 * target zeroed. a = [probs, targets], s = [N, V, ignoreIndex, scale].
 */
const xentGradK: RowKernel = (a, s, t, nt) => {
  const p = a[0];
  const targets = a[1];
  const N = s[0];
  const V = s[1];
  const ignore = s[2];
  const scale = s[3];
  const n0 = Math.floor((N * t) / nt);
  const n1 = Math.floor((N * (t + 1)) / nt);
  for (let n = n0; n < n1; n++) {
    const o = n * V;
    const tg = targets[n];
    if (tg === ignore) {
      for (let v = 0; v < V; v++) p[o + v] = 0;
      continue;
    }
    for (let v = 0; v < V; v++) p[o + v] *= scale;
    p[o + tg] -= scale;
  }
};

/**
 * Adam / AdamW (torch.optim's update, bias-corrected moments, eps added to √v̂) over parameters given as
 * a = [data, grad, m, v] per parameter; each parameter's elements are split between the threads.
 * s = [lr, beta1, beta2, eps, weightDecay, c1 = 1 − β1ᵗ, c2 = 1 − β2ᵗ, decoupled (1: AdamW, 0: Adam with L2)].
 */
const adamK: RowKernel = (a, s, t, nt, w) => {
  const lr = s[0];
  const b1 = s[1];
  const b2 = s[2];
  const eps = s[3];
  const wd = s[4];
  const c1 = s[5];
  const c2 = s[6];
  const decoupled = s[7] === 1;
  const decay = decoupled ? 1 - lr * wd : 1;
  const l2 = decoupled ? 0 : wd;
  const step = lr / c1;
  const ic2 = 1 / c2;
  for (let q = 0; q + 3 < a.length; q += 4) {
    const data = a[q];
    const grad = a[q + 1];
    const m = a[q + 2];
    const v = a[q + 3];
    const n = data.length;
    const i0 = Math.floor((n * t) / nt);
    const i1 = Math.floor((n * (t + 1)) / nt);
    if (w) {
      const o = 4 * i0;
      const [pd, pg, pm, pv] = [data.byteOffset + o, grad.byteOffset + o, m.byteOffset + o, v.byteOffset + o];
      w.adam(pd, pg, pm, pv, i1 - i0, l2, b1, 1 - b1, b2, 1 - b2, decay, step, ic2, eps);
      continue;
    }
    for (let i = i0; i < i1; i++) {
      const x = data[i];
      const g = grad[i] + l2 * x;
      const mi = b1 * m[i] + (1 - b1) * g;
      const vi = b2 * v[i] + (1 - b2) * g * g;
      m[i] = mi;
      v[i] = vi;
      data[i] = x * decay - (step * mi) / (Math.sqrt(vi * ic2) + eps);
    }
  }
};

/**
 * Causal attention softmax over rows of T scores, in place: row r (query t = r mod T of head h = ⌊r/T⌋ mod NH)
 * is scaled by scale_h, soft-maxed over keys 0…t and zeroed above the diagonal. a = [att], s = [T, NH, rows,
 * scale_0 … scale_{NH−1}].
 */
const causalSoftmaxK: RowKernel = (a, s, t, nt, w) => {
  const att = a[0];
  const T = s[0];
  const NH = s[1];
  const rows = s[2];
  const r0 = Math.floor((rows * t) / nt);
  const r1 = Math.floor((rows * (t + 1)) / nt);
  for (let r = r0; r < r1; r++) {
    const q = r % T;
    const o = r * T;
    const sc = s[3 + (Math.floor(r / T) % NH)];
    let max = -Infinity;
    for (let u = 0; u <= q; u++) {
      const v = att[o + u] * sc;
      att[o + u] = v;
      if (v > max) max = v;
    }
    let sum = 0;
    if (w) {
      w.exps(att.byteOffset + 4 * o, att.byteOffset + 4 * o, q + 1, max);
      for (let u = 0; u <= q; u++) sum += att[o + u];
    } else
      for (let u = 0; u <= q; u++) {
        const e = Math.exp(att[o + u] - max);
        att[o + u] = e;
        sum += e;
      }
    const inv = 1 / sum;
    for (let u = 0; u <= q; u++) att[o + u] *= inv;
    for (let u = q + 1; u < T; u++) att[o + u] = 0;
  }
};

/**
 * Its backward in place of dA: dS = A ⊙ (dA − ⟨A, dA⟩_row)·scale_h, zero above the diagonal. a = [dS, att],
 * s as causalSoftmaxK's.
 */
const causalSoftmaxBackwardK: RowKernel = (a, s, t, nt) => {
  const dS = a[0];
  const att = a[1];
  const T = s[0];
  const NH = s[1];
  const rows = s[2];
  const r0 = Math.floor((rows * t) / nt);
  const r1 = Math.floor((rows * (t + 1)) / nt);
  for (let r = r0; r < r1; r++) {
    const q = r % T;
    const o = r * T;
    const sc = s[3 + (Math.floor(r / T) % NH)];
    let dot = 0;
    for (let u = 0; u <= q; u++) dot += att[o + u] * dS[o + u];
    for (let u = 0; u <= q; u++) dS[o + u] = att[o + u] * (dS[o + u] - dot) * sc;
    for (let u = q + 1; u < T; u++) dS[o + u] = 0;
  }
};

/** RMSNorm forward over rows: a = [out, rstd, inp, weight], s = [N, C, eps]; rows split between threads. */
const rmsnormForwardK: RowKernel = (a, s, t, nt) => {
  const out = a[0];
  const rstd = a[1];
  const inp = a[2];
  const weight = a[3];
  const N = s[0];
  const C = s[1];
  const eps = s[2];
  const n0 = Math.floor((N * t) / nt);
  const n1 = Math.floor((N * (t + 1)) / nt);
  for (let n = n0; n < n1; n++) {
    const x = n * C;
    let ss = 0;
    for (let c = 0; c < C; c++) ss += inp[x + c] * inp[x + c];
    const r = 1 / Math.sqrt(ss / C + eps);
    for (let c = 0; c < C; c++) out[x + c] = inp[x + c] * r * weight[c];
    rstd[n] = r;
  }
};

/**
 * RMSNorm backward: dinp += rstd·(dout·w − x̂·⟨dout·w, x̂⟩/C) by rows, and dweight += Σ_n dout·x̂ by columns (each
 * thread sums its columns over all rows in row order, so the sums are those of one thread; one thread alone does
 * both in one pass).
 * a = [dinp, dout, inp, weight, rstd] or with dweight appended, s = [N, C].
 */
const rmsnormBackwardK: RowKernel = (a, s, t, nt) => {
  const dinp = a[0];
  const dout = a[1];
  const inp = a[2];
  const weight = a[3];
  const rstd = a[4];
  const N = s[0];
  const C = s[1];
  const n0 = Math.floor((N * t) / nt);
  const n1 = Math.floor((N * (t + 1)) / nt);
  // one thread alone adds into dweight in the same row loop (the same sums in the same order, one pass)
  const dw1 = nt === 1 && a.length > 5 ? a[5] : null;
  for (let n = n0; n < n1; n++) {
    const x = n * C;
    const r = rstd[n];
    let dot = 0;
    for (let c = 0; c < C; c++) dot += dout[x + c] * weight[c] * inp[x + c] * r;
    dot /= C;
    if (dw1)
      for (let c = 0; c < C; c++) {
        const xhat = inp[x + c] * r;
        dw1[c] += dout[x + c] * xhat;
        dinp[x + c] += r * (dout[x + c] * weight[c] - xhat * dot);
      }
    else for (let c = 0; c < C; c++) dinp[x + c] += r * (dout[x + c] * weight[c] - inp[x + c] * r * dot);
  }
  if (a.length > 5 && !dw1) {
    const dweight = a[5];
    const c0 = Math.floor((C * t) / nt);
    const c1 = Math.floor((C * (t + 1)) / nt);
    for (let n = 0; n < N; n++) {
      const x = n * C;
      const r = rstd[n];
      for (let c = c0; c < c1; c++) dweight[c] += dout[x + c] * (inp[x + c] * r);
    }
  }
};

/**
 * outh (B,H,T,hd) = rope(inp (B,T,H·hd)), or a plain permute without tables; a = [outh, inp] or [outh, inp, cos,
 * sin], s = [B, T, H, hd]; the B·T positions are split between threads.
 */
const ropePermuteForwardK: RowKernel = (a, s, t, nt) => {
  const outh = a[0];
  const inp = a[1];
  const rope = a.length > 3;
  const cos = a[rope ? 2 : 0];
  const sin = a[rope ? 3 : 0];
  const B = s[0];
  const T = s[1];
  const H = s[2];
  const hd = s[3];
  const half = hd >> 1;
  const r0 = Math.floor((B * T * t) / nt);
  const r1 = Math.floor((B * T * (t + 1)) / nt);
  for (let r = r0; r < r1; r++) {
    const b = Math.floor(r / T);
    const tt = r - b * T;
    for (let h = 0; h < H; h++) {
      const src = (r * H + h) * hd;
      const dst = ((b * H + h) * T + tt) * hd;
      if (!rope) {
        for (let i = 0; i < hd; i++) outh[dst + i] = inp[src + i];
        continue;
      }
      for (let i = 0; i < half; i++) {
        const c = cos[tt * half + i];
        const sn = sin[tt * half + i];
        const x1 = inp[src + i];
        const x2 = inp[src + i + half];
        outh[dst + i] = x1 * c - x2 * sn;
        outh[dst + i + half] = x2 * c + x1 * sn;
      }
    }
  }
};

/** dinp (B,T,H·hd) += ropeᵀ(douth (B,H,T,hd)); a = [dinp, douth] or [dinp, douth, cos, sin], s = [B, T, H, hd]. */
const ropePermuteBackwardK: RowKernel = (a, s, t, nt) => {
  const dinp = a[0];
  const douth = a[1];
  const rope = a.length > 3;
  const cos = a[rope ? 2 : 0];
  const sin = a[rope ? 3 : 0];
  const B = s[0];
  const T = s[1];
  const H = s[2];
  const hd = s[3];
  const half = hd >> 1;
  const r0 = Math.floor((B * T * t) / nt);
  const r1 = Math.floor((B * T * (t + 1)) / nt);
  for (let r = r0; r < r1; r++) {
    const b = Math.floor(r / T);
    const tt = r - b * T;
    for (let h = 0; h < H; h++) {
      const dst = (r * H + h) * hd;
      const src = ((b * H + h) * T + tt) * hd;
      if (!rope) {
        for (let i = 0; i < hd; i++) dinp[dst + i] += douth[src + i];
        continue;
      }
      for (let i = 0; i < half; i++) {
        const c = cos[tt * half + i];
        const sn = sin[tt * half + i];
        const d1 = douth[src + i];
        const d2 = douth[src + i + half];
        dinp[dst + i] += d1 * c + d2 * sn;
        dinp[dst + i + half] += d2 * c - d1 * sn;
      }
    }
  }
};

/** out = x + y over n elements (the residual adds); a = [out, x, y], s = [n]. */
const addK: RowKernel = (a, s, t, nt) => {
  const out = a[0];
  const x = a[1];
  const y = a[2];
  const n = s[0];
  const i1 = Math.floor((n * (t + 1)) / nt);
  for (let i = Math.floor((n * t) / nt); i < i1; i++) out[i] = x[i] + y[i];
};

/** The kernels by id: the worker pool compiles this list's source once per worker. */
export const ROW_KERNELS: readonly RowKernel[] = [
  swigluForwardK,
  swigluBackwardK,
  softmaxXentK,
  xentGradK,
  adamK,
  causalSoftmaxK,
  causalSoftmaxBackwardK,
  rmsnormForwardK,
  rmsnormBackwardK,
  ropePermuteForwardK,
  ropePermuteBackwardK,
  addK,
];
export const Kernel = {
  SwigluForward: 0,
  SwigluBackward: 1,
  SoftmaxXent: 2,
  XentGrad: 3,
  Adam: 4,
  CausalSoftmax: 5,
  CausalSoftmaxBackward: 6,
  RmsnormForward: 7,
  RmsnormBackward: 8,
  RopePermuteForward: 9,
  RopePermuteBackward: 10,
  Add: 11,
} as const;
export type Kernel = (typeof Kernel)[keyof typeof Kernel];

/**
 * Runs kernel k's shares on the pool, each thread with its own instance of w's module when w is given; returns
 * false to decline (then the caller runs it alone).
 */
export type RowsExecutor = (k: number, a: (Arr | Int32Array)[], s: number[], w: RowsWasm | null) => boolean;
let executor: RowsExecutor | null = null;

/** Installed by matmul-threads.ts while its workers can take row kernels. */
export function setRowsExecutor(fn: RowsExecutor | null): void {
  executor = fn;
}

/** Below this many elements a kernel stays on the calling thread (waking the workers would cost more). */
export const PARALLEL_MIN_ELEMENTS = 1 << 15;

let pooled = 0;

/** How many kernel runs the pool has taken (tests check that the workers really share the work). */
export function pooledRowRuns(): number {
  return pooled;
}

/**
 * The arrays each kernel with a wasm path hands to the engine (by index in a; 'all' for Adam's parameter
 * quadruples), which must be resident there.
 */
const WASM_ARRAYS: Partial<Record<Kernel, number[] | 'all'>> = {
  [Kernel.Adam]: 'all',
  [Kernel.SwigluForward]: [0, 1, 2, 3],
  [Kernel.SwigluBackward]: [0, 1, 2, 3, 4, 5],
  [Kernel.SoftmaxXent]: [0, 1],
  [Kernel.CausalSoftmax]: [0],
};

let wasmRows = true;
let trainingPass = false;

/** Turns the kernels' wasm paths off (false: the JS kernels everywhere, for comparisons); returns the old state. */
export function setWasmRowKernels(on: boolean): boolean {
  const old = wasmRows;
  wasmRows = on;
  return old;
}

/**
 * Says whether a training pass is running (the transformer sets it for the length of each training forward and
 * backward, and puts the old state back after). The activation kernels (SwiGLU, the softmaxes) take the engine's
 * kernels only then, resident arrays or not (runRows): an evaluation gives the same numbers as on a model that
 * never trained, and a model trained after another the same as in a fresh process. Returns the old state.
 */
export function setRowsTrainingPass(on: boolean): boolean {
  const old = trainingPass;
  trainingPass = on;
  return old;
}

/**
 * Runs kernel k over its arrays, on every pool thread when the work is large and every array is shared. Which
 * kernel runs depends on the kind of run alone, never on where the arrays lie (else a run's numbers would depend
 * on whether earlier work in the process had spent the engine's resident budget): the activation kernels (SwiGLU,
 * the softmaxes) take the engine's f32x4 kernels during a training pass (setRowsTrainingPass), Adam when its
 * caller says so (`engine`: every parameter is a training transformer's own, Parameter.onEngine), in both cases
 * only on Float32 arrays, with the wasm matmul kernel chosen and unless setWasmRowKernels(false). Arrays the
 * engine's kernel needs that are not resident there are copied into its staging space and back around the run
 * (the same kernel, so the same bits; copies only on that fallback path).
 */
export function runRows(
  k: Kernel,
  a: (Arr | Int32Array)[],
  s: number[],
  elements: number,
  engine = false,
): void {
  const idx = WASM_ARRAYS[k];
  const want = wasmRows && idx !== undefined && (k === Kernel.Adam ? engine : trainingPass);
  const need = !want ? [] : idx === 'all' ? a.map((_, i) => i) : idx;
  const w = want && need.every((i) => a[i] instanceof Float32Array) ? matmulRowsWasm() : null;
  if (!w) return runOn(k, a, s, elements, null);
  const away = [...new Set(need.map((i) => a[i] as Float32Array).filter((x) => !isMatmulResident(x)))];
  if (away.length === 0) return runOn(k, a, s, elements, w);
  const views = matmulStageViews(away.map((x) => x.length));
  if (!views) return runOn(k, a, s, elements, null); // past the engine's 2 GiB: the JS kernels
  const copy = new Map(away.map((x, j) => [x, views[j]]));
  for (const [x, v] of copy) v.set(x);
  runOn(
    k,
    a.map((x) => copy.get(x as Float32Array) ?? x),
    s,
    elements,
    w,
  );
  for (const [x, v] of copy) x.set(v);
}

function runOn(k: Kernel, a: (Arr | Int32Array)[], s: number[], elements: number, w: RowsWasm | null): void {
  if (executor && elements >= PARALLEL_MIN_ELEMENTS && a.every((x) => x.buffer instanceof SharedArrayBuffer))
    if (executor(k, a, s, w)) {
      pooled++;
      return;
    }
  ROW_KERNELS[k](a, s, 0, 1, w);
}
