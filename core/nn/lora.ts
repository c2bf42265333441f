// LoRA (Hu et al. 2021): W x + (α/r)·B A dropout(x), with A (r, in) Kaiming-uniform-initialised and B (out, r)
// zero-initialised so training starts from the base model. Merging folds (α/r)·B·A into W; unmerge removes it.
import { Linear, ensure, type LinearAdapter, type LinearLike } from './layers';
import { matmulAB, matmulABt, matmulAtB } from './matmul';
import { Rng } from '../util/rng';
import { NnError, Parameter, checkPositiveInt, dtypeOf, type Arr, type Module } from './tensor';

export interface LoraOptions {
  rank: number;
  alpha?: number;
  dropout?: number;
  seed?: number;
}

export class LoraAdapter implements LinearAdapter {
  readonly A: Parameter; // (r, in)
  readonly B: Parameter; // (out, r)
  readonly scale: number;
  readonly dropout: number;
  merged = false;
  training = true;
  private rng: Rng;
  private xd: Arr | null = null; // (N, in) dropped-out input (only when dropout > 0)
  private mask: Arr | null = null; // (N, in)
  private h: Arr | null = null; // (N, r) = xd·Aᵀ
  private dh: Arr | null = null; // (N, r)
  private tmp: Arr | null = null; // (N, out) or (N, in)

  constructor(
    readonly base: Linear,
    opts: LoraOptions,
  ) {
    const r = checkPositiveInt(opts.rank, 'lora.rank');
    this.dropout = opts.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout < 1))
      throw new NnError(`must be in [0, 1), got ${this.dropout}`, 'lora.dropout');
    this.scale = (opts.alpha ?? r) / r;
    const dtype = dtypeOf(base.weight.data);
    this.A = new Parameter(`${base.name}.lora_A.weight`, [r, base.inFeatures], dtype);
    this.B = new Parameter(`${base.name}.lora_B.weight`, [base.outFeatures, r], dtype);
    this.rng = new Rng(opts.seed ?? 0);
    const bound = Math.sqrt(1 / base.inFeatures); // kaiming_uniform(a=√5) as PEFT
    this.rng.fillUniform(this.A.data, -bound, bound);
  }

  get rank(): number {
    return this.A.shape[0];
  }

  parameters(): Parameter[] {
    return [this.A, this.B];
  }

  forwardAdd(out: Arr, inp: Arr, N: number): void {
    const r = this.rank;
    const I = this.base.inFeatures;
    const O = this.base.outFeatures;
    const dt = dtypeOf(inp);
    let x = inp;
    if (this.training && this.dropout > 0) {
      this.xd = ensure(this.xd, dt, N * I);
      this.mask = ensure(this.mask, dt, N * I);
      const keep = 1 / (1 - this.dropout);
      for (let i = 0; i < N * I; i++) {
        this.mask[i] = this.rng.uniform() < this.dropout ? 0 : keep;
        this.xd[i] = inp[i] * this.mask[i];
      }
      x = this.xd;
    }
    this.h = ensure(this.h, dt, N * r);
    matmulABt(this.h, x, this.A.data, N, r, I);
    this.tmp = ensure(this.tmp, dt, N * Math.max(O, I));
    matmulABt(this.tmp, this.h, this.B.data, N, O, r);
    for (let i = 0; i < N * O; i++) out[i] += this.scale * this.tmp[i];
  }

  backwardAdd(dinp: Arr | null, dout: Arr, inp: Arr, N: number): void {
    const r = this.rank;
    const I = this.base.inFeatures;
    const O = this.base.outFeatures;
    const dt = dtypeOf(inp);
    const dropped = this.training && this.dropout > 0;
    const x = dropped ? this.xd! : inp;
    const h = this.h!;
    // dB += s·doutᵀ·h ; dh = s·dout·B ; dA += dhᵀ·x ; dx = dh·A
    this.dh = ensure(this.dh, dt, N * r);
    matmulAB(this.dh, dout, this.B.data, N, r, O);
    for (let i = 0; i < N * r; i++) this.dh[i] *= this.scale;
    if (!this.B.frozen) {
      const g = ensure(null, dt, O * r);
      matmulAtB(g, dout, h, O, r, N);
      for (let i = 0; i < O * r; i++) this.B.grad[i] += this.scale * g[i];
    }
    if (!this.A.frozen) matmulAtB(this.A.grad, this.dh, x, r, I, N, true);
    if (dinp) {
      if (!dropped) matmulAB(dinp, this.dh, this.A.data, N, I, r, true);
      else {
        this.tmp = ensure(this.tmp, dt, N * Math.max(O, I));
        matmulAB(this.tmp, this.dh, this.A.data, N, I, r);
        for (let i = 0; i < N * I; i++) dinp[i] += this.tmp[i] * this.mask![i];
      }
    }
  }

  private delta(sign: number): void {
    const r = this.rank;
    const I = this.base.inFeatures;
    const O = this.base.outFeatures;
    const d = ensure(null, 'f64', O * I);
    matmulAB(d, toF64(this.B.data), toF64(this.A.data), O, I, r); // in f64 so merge/unmerge round-trips closely
    const w = this.base.weight.data;
    for (let i = 0; i < O * I; i++) w[i] += sign * this.scale * d[i];
  }

  /** Folds (α/r)·B·A into the base weight; forward then runs only the base matmul. */
  merge(): void {
    if (this.merged) throw new NnError('adapter is already merged', this.base.name);
    this.delta(1);
    this.merged = true;
  }

  unmerge(): void {
    if (!this.merged) throw new NnError('adapter is not merged', this.base.name);
    this.delta(-1);
    this.merged = false;
  }
}

function toF64(a: Arr): Float64Array {
  return a instanceof Float64Array ? a : Float64Array.from(a);
}

/**
 * Attaches LoRA adapters to every Linear whose name matches (e.g. /(q|v)_proj$/), freezes every other parameter
 * of the model and returns the adapters. Throws when nothing matches.
 */
export function applyLora(
  model: Module & { namedLinears(): [string, LinearLike][] },
  pattern: RegExp,
  opts: LoraOptions,
): LoraAdapter[] {
  const adapters: LoraAdapter[] = [];
  let k = 0;
  for (const [name, layer] of model.namedLinears()) {
    if (!pattern.test(name)) continue;
    if (!(layer instanceof Linear)) throw new NnError('LoRA needs a dense Linear here', name);
    if (layer.adapter) throw new NnError('already has an adapter', name);
    const a = new LoraAdapter(layer, { ...opts, seed: (opts.seed ?? 0) + k++ });
    layer.adapter = a;
    adapters.push(a);
  }
  if (adapters.length === 0) throw new NnError(`no linear layer name matches ${pattern}`, 'lora.targets');
  const own = new Set(adapters.flatMap((a) => a.parameters()));
  for (const p of model.parameters()) p.frozen = !own.has(p);
  return adapters;
}
