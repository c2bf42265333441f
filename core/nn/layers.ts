// Layer kernels as forward/backward pairs (llm.c style): outputs first, then inputs and weights, then sizes.
// Backward functions ADD into their d… buffers; callers zero them. N is the number of rows (B·T).
import { matmulAB, matmulABt, matmulAtB } from './matmul';
import { Kernel, runRows } from './rows';
import type { Rng } from '../util/rng';
import { alloc, dtypeOf, NnError, Parameter, type Arr, type Dtype, type Module } from './tensor';

// ---------------------------------------------------------------- Linear: out = inp·Wᵀ + b, W stored (OC, C)
export function linearForward(
  out: Arr,
  inp: Arr,
  weight: Arr,
  bias: Arr | null,
  N: number,
  C: number,
  OC: number,
) {
  matmulABt(out, inp, weight, N, OC, C);
  if (bias) {
    for (let n = 0; n < N; n++) {
      const o = n * OC;
      for (let j = 0; j < OC; j++) out[o + j] += bias[j];
    }
  }
}

export function linearBackward(
  dinp: Arr | null, // (N, C)
  dweight: Arr | null, // (OC, C)
  dbias: Arr | null, // (OC)
  dout: Arr, // (N, OC)
  inp: Arr, // (N, C)
  weight: Arr, // (OC, C)
  N: number,
  C: number,
  OC: number,
) {
  if (dinp) matmulAB(dinp, dout, weight, N, C, OC, true);
  if (dweight) matmulAtB(dweight, dout, inp, OC, C, N, true);
  if (dbias) {
    for (let n = 0; n < N; n++) {
      const o = n * OC;
      for (let j = 0; j < OC; j++) dbias[j] += dout[o + j];
    }
  }
}

/** Something that adds its own term to a Linear's output (LoRA). */
export interface LinearAdapter extends Module {
  /** When merged, the adapter's contribution already lives in the base weight and forward skips it. */
  readonly merged: boolean;
  forwardAdd(out: Arr, inp: Arr, N: number): void;
  backwardAdd(dinp: Arr | null, dout: Arr, inp: Arr, N: number): void;
}

/** The contract of every linear map the transformer uses, so LoRA-wrapped, MPO or quantum layers can swap in. */
export interface LinearLike extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** out (N, outFeatures) = f(inp (N, inFeatures)). */
  forward(out: Arr, inp: Arr, N: number): void;
  /** Adds into dinp (when given) and into the parameters' grads; inp is the forward input. */
  backward(dinp: Arr | null, dout: Arr, inp: Arr, N: number): void;
}

export class Linear implements LinearLike {
  readonly weight: Parameter; // (out, in)
  readonly bias: Parameter | null; // (out)
  adapter: LinearAdapter | null = null;

  constructor(
    readonly name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { bias?: boolean; dtype?: Dtype; weight?: Parameter } = {},
  ) {
    const dtype = opts.dtype ?? 'f32';
    this.weight = opts.weight ?? new Parameter(`${name}.weight`, [outFeatures, inFeatures], dtype);
    if (this.weight.size !== outFeatures * inFeatures)
      throw new NnError('shared weight has the wrong size', name);
    this.bias = opts.bias ? new Parameter(`${name}.bias`, [outFeatures], dtype) : null;
  }

  parameters(): Parameter[] {
    const ps = [this.weight];
    if (this.bias) ps.push(this.bias);
    if (this.adapter) ps.push(...this.adapter.parameters());
    return ps;
  }

  forward(out: Arr, inp: Arr, N: number): void {
    linearForward(out, inp, this.weight.data, this.bias?.data ?? null, N, this.inFeatures, this.outFeatures);
    if (this.adapter && !this.adapter.merged) this.adapter.forwardAdd(out, inp, N);
  }

  backward(dinp: Arr | null, dout: Arr, inp: Arr, N: number): void {
    const w = this.weight;
    const b = this.bias;
    linearBackward(
      dinp,
      w.frozen ? null : w.grad,
      b && !b.frozen ? b.grad : null,
      dout,
      inp,
      w.data,
      N,
      this.inFeatures,
      this.outFeatures,
    );
    if (this.adapter && !this.adapter.merged) this.adapter.backwardAdd(dinp, dout, inp, N);
  }
}

// ---------------------------------------------------------------- Embedding: out[n] = table[tokens[n]]
export function embeddingForward(out: Arr, tokens: Int32Array, table: Arr, N: number, C: number, V: number) {
  for (let n = 0; n < N; n++) {
    const t = tokens[n];
    if (t < 0 || t >= V) throw new NnError(`token id ${t} is outside [0, ${V - 1}]`, `tokens[${n}]`);
    const src = t * C;
    const dst = n * C;
    for (let c = 0; c < C; c++) out[dst + c] = table[src + c];
  }
}

export function embeddingBackward(dtable: Arr, dout: Arr, tokens: Int32Array, N: number, C: number) {
  for (let n = 0; n < N; n++) {
    const dst = tokens[n] * C;
    const src = n * C;
    for (let c = 0; c < C; c++) dtable[dst + c] += dout[src + c];
  }
}

/** GPT-2 learned positions: out[b,t] += wpe[t]. */
export function positionForward(out: Arr, wpe: Arr, B: number, T: number, C: number) {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * C;
      for (let c = 0; c < C; c++) out[o + c] += wpe[t * C + c];
    }
  }
}

export function positionBackward(dwpe: Arr, dout: Arr, B: number, T: number, C: number) {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * C;
      for (let c = 0; c < C; c++) dwpe[t * C + c] += dout[o + c];
    }
  }
}

// ---------------------------------------------------------------- LayerNorm
export function layernormForward(
  out: Arr, // (N, C)
  mean: Arr, // (N)
  rstd: Arr, // (N)
  inp: Arr, // (N, C)
  weight: Arr, // (C)
  bias: Arr, // (C)
  N: number,
  C: number,
  eps = 1e-5,
) {
  for (let n = 0; n < N; n++) {
    const x = n * C;
    let m = 0;
    for (let c = 0; c < C; c++) m += inp[x + c];
    m /= C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (inp[x + c] - m) * (inp[x + c] - m);
    const s = 1 / Math.sqrt(v / C + eps);
    for (let c = 0; c < C; c++) out[x + c] = (inp[x + c] - m) * s * weight[c] + bias[c];
    mean[n] = m;
    rstd[n] = s;
  }
}

export function layernormBackward(
  dinp: Arr,
  dweight: Arr | null,
  dbias: Arr | null,
  dout: Arr,
  inp: Arr,
  weight: Arr,
  mean: Arr,
  rstd: Arr,
  N: number,
  C: number,
) {
  for (let n = 0; n < N; n++) {
    const x = n * C;
    const m = mean[n];
    const s = rstd[n];
    let dnormMean = 0;
    let dnormNormMean = 0;
    for (let c = 0; c < C; c++) {
      const norm = (inp[x + c] - m) * s;
      const dnorm = weight[c] * dout[x + c];
      dnormMean += dnorm;
      dnormNormMean += dnorm * norm;
    }
    dnormMean /= C;
    dnormNormMean /= C;
    for (let c = 0; c < C; c++) {
      const norm = (inp[x + c] - m) * s;
      const dnorm = weight[c] * dout[x + c];
      if (dbias) dbias[c] += dout[x + c];
      if (dweight) dweight[c] += norm * dout[x + c];
      dinp[x + c] += (dnorm - dnormMean - norm * dnormNormMean) * s;
    }
  }
}

// ---------------------------------------------------------------- RMSNorm: out = x / sqrt(mean(x²) + eps) · w
export function rmsnormForward(out: Arr, rstd: Arr, inp: Arr, weight: Arr, N: number, C: number, eps = 1e-5) {
  // rows.ts rmsnormForwardK, on both cores when large
  runRows(Kernel.RmsnormForward, [out, rstd, inp, weight], [N, C, eps], N * C);
}

/** dinp += ∂/∂inp, dweight (when given) += ∂/∂weight; rows.ts rmsnormBackwardK, on both cores when large. */
export function rmsnormBackward(
  dinp: Arr,
  dweight: Arr | null,
  dout: Arr,
  inp: Arr,
  weight: Arr,
  rstd: Arr,
  N: number,
  C: number,
) {
  const a = [dinp, dout, inp, weight, rstd];
  if (dweight) a.push(dweight);
  runRows(Kernel.RmsnormBackward, a, [N, C], N * C);
}

// ---------------------------------------------------------------- GELU (tanh approximation, as GPT-2)
const GELU_K = Math.sqrt(2 / Math.PI);

export function geluForward(out: Arr, inp: Arr, N: number) {
  for (let i = 0; i < N; i++) {
    const x = inp[i];
    out[i] = 0.5 * x * (1 + Math.tanh(GELU_K * (x + 0.044715 * x * x * x)));
  }
}

export function geluBackward(dinp: Arr, dout: Arr, inp: Arr, N: number) {
  for (let i = 0; i < N; i++) {
    const x = inp[i];
    const th = Math.tanh(GELU_K * (x + 0.044715 * x * x * x));
    const sech2 = 1 - th * th;
    const local = 0.5 * (1 + th) + 0.5 * x * sech2 * GELU_K * (1 + 3 * 0.044715 * x * x);
    dinp[i] += local * dout[i];
  }
}

// ---------------------------------------------------------------- SiLU and the SwiGLU gate h = silu(g)·u
export function siluForward(out: Arr, inp: Arr, N: number) {
  for (let i = 0; i < N; i++) out[i] = inp[i] / (1 + Math.exp(-inp[i]));
}

export function siluBackward(dinp: Arr, dout: Arr, inp: Arr, N: number) {
  for (let i = 0; i < N; i++) {
    const s = 1 / (1 + Math.exp(-inp[i]));
    dinp[i] += dout[i] * s * (1 + inp[i] * (1 - s));
  }
}

// (kernels in rows.ts, on both cores where the matmul pool runs)
/** out = silu(gate)·up; with sig, σ(gate) is kept there for swigluBackward. */
export function swigluForward(out: Arr, gate: Arr, up: Arr, N: number, sig?: Arr) {
  runRows(Kernel.SwigluForward, sig ? [out, gate, up, sig] : [out, gate, up], [N], N);
}

/** Adds ∂L/∂gate and ∂L/∂up; sig, when given, is σ(gate) as swigluForward kept it. */
export function swigluBackward(dgate: Arr, dup: Arr, dout: Arr, gate: Arr, up: Arr, N: number, sig?: Arr) {
  runRows(
    Kernel.SwigluBackward,
    sig ? [dgate, dup, dout, gate, up, sig] : [dgate, dup, dout, gate, up],
    [N],
    N,
  );
}

// ---------------------------------------------------------------- Dropout (inverted; the mask holds 0 or 1/(1-p))
export function dropoutForward(out: Arr, mask: Arr, inp: Arr, N: number, p: number, rng: Rng) {
  if (!(p >= 0 && p < 1)) throw new NnError(`must be in [0, 1), got ${p}`, 'dropout');
  const keep = 1 / (1 - p);
  for (let i = 0; i < N; i++) {
    mask[i] = rng.uniform() < p ? 0 : keep;
    out[i] = inp[i] * mask[i];
  }
}

export function dropoutBackward(dinp: Arr, dout: Arr, mask: Arr, N: number) {
  for (let i = 0; i < N; i++) dinp[i] += dout[i] * mask[i];
}

// ---------------------------------------------------------------- residual add
export function residualForward(out: Arr, a: Arr, b: Arr, N: number) {
  for (let i = 0; i < N; i++) out[i] = a[i] + b[i];
}

export function residualBackward(da: Arr, db: Arr, dout: Arr, N: number) {
  for (let i = 0; i < N; i++) {
    da[i] += dout[i];
    db[i] += dout[i];
  }
}

/** A buffer that is reallocated only when a larger one is needed (activation caches sized by B·T). */
export function ensure(buf: Arr | null, dtype: Dtype, n: number): Arr {
  return buf && buf.length >= n && dtypeOf(buf) === dtype ? buf : alloc(dtype, n);
}
