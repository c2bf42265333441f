// Optimizers over named parameters (frozen ones are skipped), learning-rate schedules and clipping.
import { allocMatmulResident, freeMatmulResident, isMatmulResident } from './matmul';
import { Kernel, runRows } from './rows';
import { alloc, dtypeOf, type Arr, type Parameter } from './tensor';

export interface Optimizer {
  /** One update with learning rate lr (schedules compute it per step). */
  step(lr: number): void;
}

export class SGD implements Optimizer {
  private velocity = new Map<Parameter, Float64Array>();
  constructor(
    private readonly params: Parameter[],
    private readonly opts: { momentum?: number; weightDecay?: number } = {},
  ) {}

  step(lr: number): void {
    const mu = this.opts.momentum ?? 0;
    const wd = this.opts.weightDecay ?? 0;
    for (const p of this.params) {
      if (p.frozen) continue;
      let v = this.velocity.get(p);
      if (!v && mu !== 0) this.velocity.set(p, (v = new Float64Array(p.size)));
      const { data, grad } = p;
      for (let i = 0; i < p.size; i++) {
        let g = grad[i] + wd * data[i]; // L2 (coupled) decay, as torch.optim.SGD
        if (v) g = v[i] = mu * v[i] + g;
        data[i] -= lr * g;
      }
    }
  }
}

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Adam: L2 decay added to the gradient. AdamW: decoupled decay, θ ← θ − lr·wd·θ. */
  weightDecay?: number;
}

/** Adam and AdamW as in torch.optim (bias-corrected moments; eps added to √v̂). */
export class Adam implements Optimizer {
  private m = new Map<Parameter, Arr>();
  private v = new Map<Parameter, Arr>();
  t = 0;

  constructor(
    private readonly params: Parameter[],
    private readonly opts: AdamOptions = {},
    private readonly decoupled = false,
  ) {}

  /**
   * Moves the moments out of the matmul engine's memory into ordinary arrays and gives that space back (call
   * with the model's Transformer.releaseResident when its training ends; a later step goes on from the copies).
   */
  releaseResident(): void {
    for (const map of [this.m, this.v])
      for (const [p, x] of map)
        if (isMatmulResident(x)) {
          const copy = alloc(dtypeOf(x), x.length);
          copy.set(x);
          map.set(p, copy);
          freeMatmulResident(x);
        }
  }

  step(lr: number): void {
    const b1 = this.opts.beta1 ?? 0.9;
    const b2 = this.opts.beta2 ?? 0.999;
    const eps = this.opts.eps ?? 1e-8;
    const wd = this.opts.weightDecay ?? (this.decoupled ? 0.01 : 0);
    this.t++;
    const c1 = 1 - Math.pow(b1, this.t);
    const c2 = 1 - Math.pow(b2, this.t);
    // the update runs in rows.ts over every parameter at once, on both cores where the matmul pool runs
    const arrays: Arr[] = [];
    let elements = 0;
    let engine = true; // the engine's kernel when every parameter is a training transformer's own (onEngine)
    for (const p of this.params) {
      if (p.frozen) continue;
      let m = this.m.get(p);
      let v = this.v.get(p);
      if (!m || !v) {
        // beside parameters in the matmul engine's memory (a training transformer's), the moments go there too,
        // so the engine's f32x4 kernel (rows.ts) reads them in place; releaseResident gives it back
        const res = isMatmulResident(p.data) && isMatmulResident(p.grad);
        const moment = () => (res ? allocMatmulResident(p.size) : null) ?? alloc(dtypeOf(p.data), p.size);
        this.m.set(p, (m = moment()));
        this.v.set(p, (v = moment()));
      }
      arrays.push(p.data, p.grad, m, v);
      engine &&= p.onEngine;
      elements += p.size;
    }
    runRows(Kernel.Adam, arrays, [lr, b1, b2, eps, wd, c1, c2, this.decoupled ? 1 : 0], elements, engine);
  }
}

export class AdamW extends Adam {
  constructor(params: Parameter[], opts: AdamOptions = {}) {
    super(params, opts, true);
  }
}

/** Linear warmup from 0 to peak over warmupSteps, then cosine decay to minLr at totalSteps (held after). */
export function warmupCosine(
  step: number,
  peak: number,
  warmupSteps: number,
  totalSteps: number,
  minLr = 0,
): number {
  if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
  if (step >= totalSteps) return minLr;
  const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  return minLr + 0.5 * (peak - minLr) * (1 + Math.cos(Math.PI * progress));
}

/** Linear warmup then constant. */
export function linearWarmup(step: number, peak: number, warmupSteps: number): number {
  return step < warmupSteps ? (peak * (step + 1)) / warmupSteps : peak;
}

/** Scales all trainable gradients so their global L2 norm is at most maxNorm; returns the norm before. */
export function clipGradNorm(params: Parameter[], maxNorm: number): number {
  let ss = 0;
  for (const p of params) if (!p.frozen) for (let i = 0; i < p.size; i++) ss += p.grad[i] * p.grad[i];
  const norm = Math.sqrt(ss);
  if (norm > maxNorm && norm > 0) {
    const s = maxNorm / (norm + 1e-6);
    for (const p of params) if (!p.frozen) for (let i = 0; i < p.size; i++) p.grad[i] *= s;
  }
  return norm;
}
