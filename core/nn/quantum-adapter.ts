// An adapter whose Δ(x) holds a circuit, through the same seam as LoRA (LinearAdapter on a Linear):
//   y = W x + b + α·W_up·⟨Z⟩(U(θ)·RY(W_down·x))
// W_down (r, in) and W_up (out, r) are classical, the circuit has r qubits; W_up starts at zero so the adapter
// starts as an exact no-op, as LoRA's B does. Not mergeable into W (Δ is not linear in x).
import type { SyncSimulator } from '../quantum/backend';
import { ensure, Linear, type LinearAdapter } from './layers';
import { angleEncodedPqc } from '../quantum/qffn-circuits';
import { QuantumModule } from './quantum-module';
import { Rng } from '../util/rng';
import { checkPositiveInt, dtypeOf, type Arr, type Parameter } from './tensor';

export interface QuantumAdapterOptions {
  /** r: the bottleneck width and qubit count. */
  rank: number;
  /** D: StronglyEntanglingLayers of the circuit. */
  depth: number;
  /** α, the scale of Δ (default 1). */
  alpha?: number;
  seed?: number;
}

export class QuantumAdapter implements LinearAdapter {
  readonly merged = false;
  readonly down: Linear; // in → r
  readonly pqc: QuantumModule; // r → r
  readonly up: Linear; // r → out, zero at init
  readonly alpha: number;
  private h: Arr | null = null; // (N, r) circuit inputs
  private z: Arr | null = null; // (N, r) ⟨Z⟩
  private d: Arr | null = null; // (N, max(out, r)) Δ, then ∂L/∂Δ scaled
  private dz: Arr | null = null; // (N, r)
  private dh: Arr | null = null; // (N, r)

  constructor(
    readonly base: Linear,
    sim: SyncSimulator,
    opts: QuantumAdapterOptions,
  ) {
    const r = checkPositiveInt(opts.rank, `${base.name}.adapter.rank`);
    const depth = checkPositiveInt(opts.depth, `${base.name}.adapter.depth`);
    const dtype = dtypeOf(base.weight.data);
    const seed = opts.seed ?? 0;
    this.alpha = opts.alpha ?? 1;
    this.down = new Linear(`${base.name}.adapter.down`, base.inFeatures, r, { dtype });
    this.up = new Linear(`${base.name}.adapter.up`, r, base.outFeatures, { dtype });
    this.pqc = new QuantumModule(`${base.name}.adapter.pqc`, angleEncodedPqc(r, depth), sim, { dtype, seed });
    new Rng(seed + 1).fillNormal(this.down.weight.data, 1 / Math.sqrt(base.inFeatures));
  }

  get rank(): number {
    return this.down.outFeatures;
  }

  parameters(): Parameter[] {
    return [...this.down.parameters(), ...this.pqc.parameters(), ...this.up.parameters()];
  }

  forwardAdd(out: Arr, inp: Arr, N: number): void {
    const r = this.rank;
    const O = this.base.outFeatures;
    const dt = dtypeOf(inp);
    const h = (this.h = ensure(this.h, dt, N * r));
    const z = (this.z = ensure(this.z, dt, N * r));
    const d = (this.d = ensure(this.d, dt, N * Math.max(O, r)));
    this.down.forward(h, inp, N);
    this.pqc.forward(z, h, N);
    this.up.forward(d, z, N);
    for (let i = 0; i < N * O; i++) out[i] += this.alpha * d[i];
  }

  backwardAdd(dinp: Arr | null, dout: Arr, inp: Arr, N: number): void {
    const r = this.rank;
    const O = this.base.outFeatures;
    const dt = dtypeOf(inp);
    const d = this.d!;
    for (let i = 0; i < N * O; i++) d[i] = this.alpha * dout[i];
    const dz = (this.dz = ensure(this.dz, dt, N * r));
    const dh = (this.dh = ensure(this.dh, dt, N * r));
    dz.fill(0, 0, N * r);
    this.up.backward(dz, d, this.z!, N);
    dh.fill(0, 0, N * r);
    this.pqc.backward(dh, dz, this.h!, N);
    this.down.backward(dinp, dh, inp, N);
  }
}
