// QTHA (quantum tensor hybrid adaptation, arXiv 2503.12790) through the same seam as LoRA: y = W₀x + (α/r)·Δ(x),
// W₀ never touched nor merged (Δ is not linear in x). Architecture ABC:
//   h₀ = MPO_A(x) (d → m), h = MLP_A(h₀) (m → r), q = VQC(h) (r qubits), z = QW·q + CW·h, u = MLP_B(z) (r → m),
//   Δ = MPO_B(u) (m → d)
// with m = 256 and 4-core MPOs of bond 8 (the paper's). The ablations drop parts (qtha-sizes.ts says which);
// the last core of MPO_B (or MLP_B without the MPOs) starts at zero, so the adapter starts as an exact no-op.
import type { SyncSimulator } from '../quantum/backend';
import { ensure, Linear, siluBackward, siluForward, type LinearAdapter } from './layers';
import { MpoLinear } from './mpo';
import { QuantumModule } from './quantum-module';
import {
  factorize,
  factorizeProblem,
  qthaCircuit,
  qthaParts,
  QTHA_MPO_BOND,
  QTHA_MPO_WIDTH,
  type QthaArchitecture,
  type QthaParts,
} from './qtha-sizes';
import { Rng } from '../util/rng';
import { checkPositiveInt, dtypeOf, NnError, type Arr, type Dtype, type Parameter } from './tensor';

export interface QthaOptions {
  /** r: the bottleneck width, the VQC's qubits and (by default) its layers. */
  rank: number;
  architecture?: QthaArchitecture;
  /** α of y = W₀x + (α/r)·Δ(x) (default 2r). */
  alpha?: number;
  /** m, the MPO side (default 256). */
  width?: number;
  bond?: number;
  /** VQC layers (default r). */
  vqcLayers?: number;
  seed?: number;
}

/** Linear with N(0, 1/fan_in) weights and zero bias (PyTorch's default variance). */
function linear(
  name: string,
  inF: number,
  outF: number,
  bias: boolean,
  dtype: Dtype,
  rng: Rng | null,
): Linear {
  const l = new Linear(name, inF, outF, { bias, dtype });
  if (rng) rng.fillNormal(l.weight.data, 1 / Math.sqrt(inF));
  return l;
}

/** An MPO (outF, inF) with the paper's four factors per side; a side that cannot be factorised is refused by name. */
function mpo(
  name: string,
  sides: { out: number; in: number; outField: string; inField: string },
  o: { bond: number; zeroLast: boolean; seed: number; dtype: Dtype },
): MpoLinear {
  const fo = factorize(sides.out);
  const fi = factorize(sides.in);
  if (!fi) throw new NnError(factorizeProblem(sides.in, 'width')!, sides.inField);
  if (!fo) throw new NnError(factorizeProblem(sides.out, 'width')!, sides.outField);
  return new MpoLinear(name, {
    outFactors: fo,
    inFactors: fi,
    bond: o.bond,
    zeroInitLast: o.zeroLast,
    seed: o.seed,
    dtype: o.dtype,
  });
}

export class QthaAdapter implements LinearAdapter {
  readonly merged = false;
  readonly parts: QthaParts;
  readonly architecture: QthaArchitecture;
  readonly rank: number;
  readonly scale: number; // α/r
  readonly mpoA: MpoLinear | null; // d_in → m
  readonly mlpA: Linear | null; // m (or d_in) → r
  readonly cw: Linear | null; // r → r, no bias
  readonly vqc: QuantumModule | null; // r → r
  readonly silu: Linear | null; // r → r, then SiLU (the classical stand-in of the VQC)
  readonly qw: Linear | null; // r → r, no bias
  readonly mlpB: Linear | null; // r → m (or d_out)
  readonly mpoB: MpoLinear | null; // m → d_out, last core zero
  // activations of the last forward (N rows)
  private h0: Arr | null = null; // (N, m) MPO_A output
  private h: Arr | null = null; // (N, r)
  private q: Arr | null = null; // (N, r) ⟨Z⟩ or SiLU(S·h + b)
  private pre: Arr | null = null; // (N, r) S·h + b (SiLU input)
  private z: Arr | null = null; // (N, r)
  private u: Arr | null = null; // (N, m) MLP_B output
  private d: Arr | null = null; // (N, d_out) Δ, then (α/r)·∂L/∂out
  private tmp: Arr | null = null; // (N, r) scratch
  // gradients
  private du: Arr | null = null; // (N, m)
  private dz: Arr | null = null; // (N, r)
  private dq: Arr | null = null; // (N, r)
  private dpre: Arr | null = null; // (N, r)
  private dh: Arr | null = null; // (N, r)
  private dh0: Arr | null = null; // (N, m)

  constructor(
    readonly base: Linear,
    sim: SyncSimulator | null,
    opts: QthaOptions,
  ) {
    const f = `${base.name}.adapter`;
    const r = (this.rank = checkPositiveInt(opts.rank, 'adapter.rank'));
    this.architecture = opts.architecture ?? 'ABC';
    const p = (this.parts = qthaParts(this.architecture));
    const m = checkPositiveInt(opts.width ?? QTHA_MPO_WIDTH, 'adapter.width');
    const bond = checkPositiveInt(opts.bond ?? QTHA_MPO_BOND, 'adapter.bond');
    const layers = checkPositiveInt(opts.vqcLayers ?? r, 'adapter.vqcLayers');
    this.scale = (opts.alpha ?? 2 * r) / r;
    const dtype = dtypeOf(base.weight.data);
    const seed = opts.seed ?? 0;
    const rng = new Rng(seed + 7);
    const rSpace = p.classical || p.quantum || p.silu;
    const inW = p.mpo ? m : base.inFeatures;
    const outW = p.mpo ? m : base.outFeatures;
    const o = { bond, dtype };
    this.mpoA = p.mpo
      ? mpo(
          `${f}.mpo_a`,
          { out: m, in: base.inFeatures, outField: 'adapter.width', inField: `${base.name}.in` },
          { ...o, zeroLast: false, seed: seed + 1 },
        )
      : null;
    this.mlpA = rSpace ? linear(`${f}.mlp_a`, inW, r, true, dtype, rng) : null;
    this.cw = p.classical ? linear(`${f}.cw`, r, r, false, dtype, rng) : null;
    if (p.quantum && !sim)
      throw new NnError('the quantum branch needs a synchronous simulator', 'adapter.architecture');
    if (p.quantum && r < 2)
      throw new NnError(`the VQC's CRZ rings need at least 2 qubits, got ${r}`, 'adapter.rank');
    this.vqc = p.quantum
      ? new QuantumModule(`${f}.vqc`, qthaCircuit(r, layers), sim!, { dtype, seed: seed + 2 })
      : null;
    this.silu = p.silu ? linear(`${f}.silu`, r, r, true, dtype, rng) : null;
    this.qw = p.quantum || p.silu ? linear(`${f}.qw`, r, r, false, dtype, rng) : null;
    // without MPO_B, MLP_B is the last map and starts at zero; with it, MPO_B's last core does
    this.mlpB = rSpace ? linear(`${f}.mlp_b`, r, outW, true, dtype, p.mpo ? rng : null) : null;
    this.mpoB = p.mpo
      ? mpo(
          `${f}.mpo_b`,
          { out: base.outFeatures, in: m, outField: `${base.name}.out`, inField: 'adapter.width' },
          { ...o, zeroLast: true, seed: seed + 3 },
        )
      : null;
  }

  parameters(): Parameter[] {
    const mods = [this.mpoA, this.mlpA, this.cw, this.vqc, this.silu, this.qw, this.mlpB, this.mpoB];
    return mods.flatMap((x) => (x ? x.parameters() : []));
  }

  forwardAdd(out: Arr, inp: Arr, N: number): void {
    const r = this.rank;
    const O = this.base.outFeatures;
    const dt = dtypeOf(inp);
    let x: Arr = inp;
    if (this.mpoA) {
      x = this.h0 = ensure(this.h0, dt, N * this.mpoA.outFeatures);
      this.mpoA.forward(x, inp, N);
    }
    if (this.mlpA) {
      const h = (this.h = ensure(this.h, dt, N * r));
      const z = (this.z = ensure(this.z, dt, N * r));
      const tmp = (this.tmp = ensure(this.tmp, dt, N * r));
      this.mlpA.forward(h, x, N);
      z.fill(0, 0, N * r);
      if (this.cw) this.cw.forward(z, h, N);
      if (this.qw) {
        const q = (this.q = ensure(this.q, dt, N * r));
        if (this.vqc) this.vqc.forward(q, h, N);
        else {
          const pre = (this.pre = ensure(this.pre, dt, N * r));
          this.silu!.forward(pre, h, N);
          siluForward(q, pre, N * r);
        }
        this.qw.forward(tmp, q, N);
        for (let i = 0; i < N * r; i++) z[i] += tmp[i];
      }
      x = this.u = ensure(this.u, dt, N * this.mlpB!.outFeatures);
      this.mlpB!.forward(x, z, N);
    }
    const d = (this.d = ensure(this.d, dt, N * O));
    if (this.mpoB) this.mpoB.forward(d, x, N);
    else d.set(x.subarray(0, N * O));
    for (let i = 0; i < N * O; i++) out[i] += this.scale * d[i];
  }

  backwardAdd(dinp: Arr | null, dout: Arr, inp: Arr, N: number): void {
    const r = this.rank;
    const O = this.base.outFeatures;
    const dt = dtypeOf(inp);
    const d = this.d!;
    for (let i = 0; i < N * O; i++) d[i] = this.scale * dout[i];
    // ∂L/∂(input of the last map) lands in dx; dinp directly when nothing sits between
    let dx: Arr | null = d;
    if (this.mpoB) {
      const m = this.mpoB.inFeatures;
      dx = this.du = ensure(this.du, dt, N * m);
      dx.fill(0, 0, N * m);
      this.mpoB.backward(dx, d, this.mlpB ? this.u! : this.h0!, N);
    }
    if (this.mlpA) {
      const dz = (this.dz = ensure(this.dz, dt, N * r));
      const dh = (this.dh = ensure(this.dh, dt, N * r));
      dz.fill(0, 0, N * r);
      dh.fill(0, 0, N * r);
      this.mlpB!.backward(dz, dx, this.z!, N);
      if (this.cw) this.cw.backward(dh, dz, this.h!, N);
      if (this.qw) {
        const dq = (this.dq = ensure(this.dq, dt, N * r));
        dq.fill(0, 0, N * r);
        this.qw.backward(dq, dz, this.q!, N);
        if (this.vqc) this.vqc.backward(dh, dq, this.h!, N);
        else {
          const dpre = (this.dpre = ensure(this.dpre, dt, N * r));
          dpre.fill(0, 0, N * r);
          siluBackward(dpre, dq, this.pre!, N * r);
          this.silu!.backward(dh, dpre, this.h!, N);
        }
      }
      if (this.mpoA) {
        const m = this.mpoA.outFeatures;
        const dh0 = (this.dh0 = ensure(this.dh0, dt, N * m));
        dh0.fill(0, 0, N * m);
        this.mlpA.backward(dh0, dh, this.h0!, N);
        dx = dh0;
      } else {
        this.mlpA.backward(dinp, dh, inp, N);
        return;
      }
    }
    // A alone: dx is ∂L/∂h₀ from MPO_B; with the r-space, ∂L/∂h₀ from MLP_A
    this.mpoA!.backward(dinp, dx, inp, N);
  }
}

/**
 * QTHA adapters on every linear layer whose name matches (the model's q and v projections by default), every
 * other parameter frozen; adapter k gets seed + k. Needs a model whose matched layers are dense Linear.
 */
export function applyQtha(
  model: { namedLinears(): [string, unknown][]; parameters(): Parameter[] },
  pattern: RegExp,
  sim: SyncSimulator | null,
  opts: QthaOptions,
): QthaAdapter[] {
  const adapters: QthaAdapter[] = [];
  for (const [name, layer] of model.namedLinears()) {
    if (!pattern.test(name)) continue;
    if (!(layer instanceof Linear)) throw new NnError('QTHA needs a dense Linear here', name);
    if (layer.adapter) throw new NnError('already has an adapter', name);
    const a = new QthaAdapter(layer, sim, { ...opts, seed: (opts.seed ?? 0) + 10 * adapters.length });
    layer.adapter = a;
    adapters.push(a);
  }
  if (adapters.length === 0) throw new NnError(`no linear layer name matches ${pattern}`, 'targets');
  const own = new Set(adapters.flatMap((a) => a.parameters()));
  for (const p of model.parameters()) p.frozen = !own.has(p);
  return adapters;
}
