// The transformer block's feed-forward as a module: forward and backward side by side (llm.c style), activations
// kept inside the module. The classical MLPs (SwiGLU for llama, GELU for gpt2), the low-rank MLP (up/down maps as
// rank-r products) and the quantum FFN (quantum-ffn.ts) all implement FeedForward, so a block can hold any of them.
import {
  ensure,
  geluBackward,
  geluForward,
  Linear,
  swigluBackward,
  swigluForward,
  type LinearLike,
} from './layers';
import {
  allocMatmulResident,
  freeMatmulResident,
  isMatmulResident,
  matmulAB,
  matmulABt,
  matmulAtB,
} from './matmul';
import { Rng } from '../util/rng';
import { checkPositiveInt, dtypeOf, NnError, Parameter, type Arr, type Dtype, type Module } from './tensor';

/** A map (N, C) → (N, C) of the block's normed residual, C = hiddenSize. */
export interface FeedForward extends Module {
  readonly hiddenSize: number;
  /**
   * Sizes the activation caches for up to N rows (grows only; the model calls it before forward). With resident
   * (f32 training) a module may keep them in the matmul engine's memory (allocMatmulResident) until releaseResident.
   */
  prepare(N: number, resident?: boolean): void;
  /** Gives back what prepare put in the matmul engine's memory (Transformer.releaseResident); optional. */
  releaseResident?(): void;
  /** out (N, C) = ffn(inp (N, C)); keeps what backward needs. */
  forward(out: Arr, inp: Arr, N: number): void;
  /** Adds ∂L/∂inp into dinp (N, C) and ∂L/∂θ into the parameters' grads; inp is the last forward's input. */
  backward(dinp: Arr, dout: Arr, inp: Arr, N: number): void;
  /** Linear maps that adapters may wrap or replace, by name relative to the block ("mlp.up_proj"); may be empty. */
  namedLinears(): [string, LinearLike][];
  /** Swaps the map called `name` in namedLinears() (the caller has checked the shape). */
  replaceLinear(name: string, layer: LinearLike): void;
}

/** Makes the Linear maps of a classical MLP: a dense Linear by default, a LowRankLinear for the low-rank MLP. */
export type LinearFactory = (name: string, inFeatures: number, outFeatures: number) => LinearLike;

export interface MlpOptions {
  dtype?: Dtype;
  bias?: boolean;
  linear?: LinearFactory;
}

function linearFactory(o: MlpOptions): LinearFactory {
  return o.linear ?? ((n, i, out) => new Linear(n, i, out, { bias: o.bias ?? false, dtype: o.dtype }));
}

/** Shared ∂ scratch of the MLPs: backward visits one block at a time, so the blocks need one set between them. */
const gradScratch: Record<Dtype, Arr[]> = { f32: [], f64: [] };
function scratch(dtype: Dtype, slot: number, n: number, resident = false): Arr {
  const s = gradScratch[dtype];
  const buf = resident ? ensureResident(s[slot] ?? null, n) : ensure(s[slot] ?? null, dtype, n);
  s[slot] = buf;
  return buf;
}

/** An f32 array of at least n elements in the matmul engine's memory (old when it is one), else as ensure. */
function ensureResident(old: Arr | null, n: number): Arr {
  if (old && old.length >= n && isMatmulResident(old)) return old;
  return allocMatmulResident(n) ?? ensure(old, 'f32', n);
}

function replaceIn<K extends string>(
  mlp: Record<K, LinearLike>,
  names: Record<string, K>,
  name: string,
  layer: LinearLike,
): void {
  const key = names[name];
  if (!key) throw new NnError('not a linear map of this feed-forward', name);
  mlp[key] = layer;
}

// ---------------------------------------------------------------- SwiGLU MLP (llama): down(silu(gate(x)) · up(x))
export class SwigluMlp implements FeedForward {
  gate: LinearLike; // C → FF
  up: LinearLike; // C → FF
  down: LinearLike; // FF → C
  private fc1: Arr | null = null; // (N, FF) gate pre-activation
  private fc2: Arr | null = null; // (N, FF) up
  private h: Arr | null = null; // (N, FF) silu(fc1)·fc2
  private sig: Arr | null = null; // (N, FF) σ(fc1), kept for backward

  constructor(
    /** Prefix of the maps' parameter names, e.g. "model.layers.0.mlp". */
    readonly name: string,
    readonly hiddenSize: number,
    readonly intermediateSize: number,
    opts: MlpOptions = {},
  ) {
    const lin = linearFactory(opts);
    this.gate = lin(`${name}.gate_proj`, hiddenSize, intermediateSize);
    this.up = lin(`${name}.up_proj`, hiddenSize, intermediateSize);
    this.down = lin(`${name}.down_proj`, intermediateSize, hiddenSize);
  }

  parameters(): Parameter[] {
    return [...this.gate.parameters(), ...this.up.parameters(), ...this.down.parameters()];
  }

  releaseResident(): void {
    for (const x of [this.fc1, this.fc2, this.h, this.sig]) if (x) freeMatmulResident(x);
    this.fc1 = this.fc2 = this.h = this.sig = null;
  }

  prepare(N: number, resident = false): void {
    const dt = dtypeOf(this.parameters()[0].data);
    const n = N * this.intermediateSize;
    const get = (old: Arr | null) => (resident && dt === 'f32' ? ensureResident(old, n) : ensure(old, dt, n));
    this.fc1 = get(this.fc1);
    this.fc2 = get(this.fc2);
    this.h = get(this.h);
    this.sig = get(this.sig);
  }

  forward(out: Arr, inp: Arr, N: number): void {
    const fc1 = this.fc1!;
    const fc2 = this.fc2!;
    this.gate.forward(fc1, inp, N);
    this.up.forward(fc2, inp, N);
    swigluForward(this.h!, fc1, fc2, N * this.intermediateSize, this.sig!);
    this.down.forward(out, this.h!, N);
  }

  backward(dinp: Arr, dout: Arr, inp: Arr, N: number): void {
    const n = N * this.intermediateSize;
    const dt = dtypeOf(dout);
    // the ∂ scratch lives where the forward's activations do (the engine's memory while training)
    const res = isMatmulResident(this.h!);
    const dh = scratch(dt, 0, n, res);
    const dfc1 = scratch(dt, 1, n, res);
    const dfc2 = scratch(dt, 2, n, res);
    dh.fill(0, 0, n);
    this.down.backward(dh, dout, this.h!, N);
    dfc1.fill(0, 0, n);
    dfc2.fill(0, 0, n);
    swigluBackward(dfc1, dfc2, dh, this.fc1!, this.fc2!, n, this.sig!);
    this.gate.backward(dinp, dfc1, inp, N);
    this.up.backward(dinp, dfc2, inp, N);
  }

  namedLinears(): [string, LinearLike][] {
    return [
      ['mlp.gate_proj', this.gate],
      ['mlp.up_proj', this.up],
      ['mlp.down_proj', this.down],
    ];
  }

  replaceLinear(name: string, layer: LinearLike): void {
    replaceIn<'gate' | 'up' | 'down'>(
      this,
      { 'mlp.gate_proj': 'gate', 'mlp.up_proj': 'up', 'mlp.down_proj': 'down' },
      name,
      layer,
    );
  }
}

// ---------------------------------------------------------------- GELU MLP (gpt2): down(gelu(up(x)))
export class GeluMlp implements FeedForward {
  up: LinearLike; // C → FF
  down: LinearLike; // FF → C
  private fc1: Arr | null = null; // (N, FF) pre-activation
  private h: Arr | null = null; // (N, FF) gelu(fc1)

  constructor(
    readonly name: string,
    readonly hiddenSize: number,
    readonly intermediateSize: number,
    opts: MlpOptions = {},
  ) {
    const lin = linearFactory(opts);
    this.up = lin(`${name}.up_proj`, hiddenSize, intermediateSize);
    this.down = lin(`${name}.down_proj`, intermediateSize, hiddenSize);
  }

  parameters(): Parameter[] {
    return [...this.up.parameters(), ...this.down.parameters()];
  }

  prepare(N: number): void {
    const dt = dtypeOf(this.parameters()[0].data);
    this.fc1 = ensure(this.fc1, dt, N * this.intermediateSize);
    this.h = ensure(this.h, dt, N * this.intermediateSize);
  }

  forward(out: Arr, inp: Arr, N: number): void {
    this.up.forward(this.fc1!, inp, N);
    geluForward(this.h!, this.fc1!, N * this.intermediateSize);
    this.down.forward(out, this.h!, N);
  }

  backward(dinp: Arr, dout: Arr, inp: Arr, N: number): void {
    const n = N * this.intermediateSize;
    const dt = dtypeOf(dout);
    const dh = scratch(dt, 0, n);
    const dfc1 = scratch(dt, 1, n);
    dh.fill(0, 0, n);
    this.down.backward(dh, dout, this.h!, N);
    dfc1.fill(0, 0, n);
    geluBackward(dfc1, dh, this.fc1!, n);
    this.up.backward(dinp, dfc1, inp, N);
  }

  namedLinears(): [string, LinearLike][] {
    return [
      ['mlp.up_proj', this.up],
      ['mlp.down_proj', this.down],
    ];
  }

  replaceLinear(name: string, layer: LinearLike): void {
    replaceIn<'up' | 'down'>(this, { 'mlp.up_proj': 'up', 'mlp.down_proj': 'down' }, name, layer);
  }
}

// ---------------------------------------------------------------- low-rank Linear: out = (inp·Aᵀ)·Bᵀ + b
/**
 * W ≈ B·A with A (r, in) and B (out, r): r·(in + out) weights in place of in·out, the classical compression a
 * quantum module is compared with at a matched parameter count.
 */
export class LowRankLinear implements LinearLike {
  readonly A: Parameter; // (r, in)
  readonly B: Parameter; // (out, r)
  readonly bias: Parameter | null; // (out)
  private hid: Arr | null = null; // (N, r) = inp·Aᵀ
  private dhid: Arr | null = null; // (N, r)

  constructor(
    readonly name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    readonly rank: number,
    opts: { bias?: boolean; dtype?: Dtype; seed?: number; std?: number } = {},
  ) {
    checkPositiveInt(rank, `${name}.rank`);
    const dtype = opts.dtype ?? 'f32';
    this.A = new Parameter(`${name}.A`, [rank, inFeatures], dtype);
    this.B = new Parameter(`${name}.B`, [outFeatures, rank], dtype);
    this.bias = opts.bias ? new Parameter(`${name}.bias`, [outFeatures], dtype) : null;
    // A ~ N(0, 1/in), B ~ N(0, std²·in/r): the entries of B·A have variance std², as a dense init with std
    const rng = new Rng(opts.seed ?? 0);
    const std = opts.std ?? 0.02;
    rng.fillNormal(this.A.data, Math.sqrt(1 / inFeatures));
    rng.fillNormal(this.B.data, std * Math.sqrt(inFeatures / rank));
  }

  parameters(): Parameter[] {
    return this.bias ? [this.A, this.B, this.bias] : [this.A, this.B];
  }

  forward(out: Arr, inp: Arr, N: number): void {
    const r = this.rank;
    const hid = (this.hid = ensure(this.hid, dtypeOf(inp), N * r));
    matmulABt(hid, inp, this.A.data, N, r, this.inFeatures);
    matmulABt(out, hid, this.B.data, N, this.outFeatures, r);
    const b = this.bias?.data;
    if (b) for (let n = 0, o = 0; n < N; n++) for (let j = 0; j < this.outFeatures; j++, o++) out[o] += b[j];
  }

  backward(dinp: Arr | null, dout: Arr, inp: Arr, N: number): void {
    const r = this.rank;
    const O = this.outFeatures;
    const dhid = (this.dhid = ensure(this.dhid, dtypeOf(inp), N * r));
    matmulAB(dhid, dout, this.B.data, N, r, O);
    if (!this.B.frozen) matmulAtB(this.B.grad, dout, this.hid!, O, r, N, true);
    if (!this.A.frozen) matmulAtB(this.A.grad, dhid, inp, r, this.inFeatures, N, true);
    if (dinp) matmulAB(dinp, dhid, this.A.data, N, this.inFeatures, r, true);
    const b = this.bias;
    if (b && !b.frozen)
      for (let n = 0, o = 0; n < N; n++) for (let j = 0; j < O; j++, o++) b.grad[j] += dout[o];
  }
}

/**
 * The block MLP with every map factorised at rank r (SwiGLU or GELU like the flavour): parameter names
 * "<name>.{gate,up,down}_proj.{A,B}", so namedLinears and replaceLinear work as for the dense MLP.
 */
export function lowRankMlp(
  name: string,
  hiddenSize: number,
  intermediateSize: number,
  opts: {
    rank: number;
    activation: 'swiglu' | 'gelu';
    bias?: boolean;
    dtype?: Dtype;
    seed?: number;
    std?: number;
  },
): SwigluMlp | GeluMlp {
  let k = 0;
  const linear: LinearFactory = (n, i, o) =>
    new LowRankLinear(n, i, o, opts.rank, {
      bias: opts.bias,
      dtype: opts.dtype,
      seed: (opts.seed ?? 0) + k++,
      std: opts.std,
    });
  return opts.activation === 'swiglu'
    ? new SwigluMlp(name, hiddenSize, intermediateSize, { linear })
    : new GeluMlp(name, hiddenSize, intermediateSize, { linear });
}

/** Parameters of a low-rank MLP: (2 or 3 maps)·r·(C + FF), plus biases. */
export function lowRankMlpParamCount(
  C: number,
  FF: number,
  rank: number,
  activation: 'swiglu' | 'gelu',
  bias = false,
): number {
  const maps = activation === 'swiglu' ? 2 : 1;
  return (maps + 1) * rank * (C + FF) + (bias ? maps * FF + C : 0);
}
