// The quantum head and its classical baselines as trainable models over (B, d) embeddings, and the
// simulators the head runs on: exact state vector with the adjoint gradient, a seeded shot evaluator with
// parameter shift, or the noisy simulator (depolarizing after each gate kind) with parameter shift.
import { Linear } from '../../nn/layers';
import { QuantumLayer } from '../../nn/quantum-layer';
import { Rng } from '../../nn/rng';
import { countParameters, type Parameter } from '../../nn/tensor';
import type {
  BackendInfo,
  BatchRequest,
  ExpvalResult,
  Precision,
  Simulator,
  VjpResult,
} from '../../quantum/backend';
import { observablesOf } from '../../quantum/circuit';
import { createCpuSimulator } from '../../quantum/cpu/simulator';
import { parameterShiftVjp } from '../../quantum/gradients';
import type { NoiseModel } from '../../quantum/noise';
import { createNoisySimulator } from '../../quantum/noisy-simulator';
import { Rng as QRng } from '../../quantum/random';
import { shotExpvalsFromStates } from '../../quantum/shots';
import { MlpClassifier } from '../../nn/mlp';
import { cpuKernelMode } from '../../quantum/simulators';
import { module1Circuit, module1Inputs, module1Qubits, module2Circuit, type HeadShape } from './circuits';

export interface Model {
  name: string;
  params: Parameter[];
  /** Logits (B, C) for embeddings (B, d). */
  forward(x: Float64Array, B: number): Promise<Float64Array>;
  /** Adds ∂L/∂θ into the parameters' grads given ∂L/∂logits of the last forward. */
  backward(dlogits: Float64Array, B: number): Promise<void>;
}

/** L2 norms of the amplitude-encoded slices, as Simulator results report them. */
function amplitudeNorms(req: BatchRequest): Float64Array {
  const c = req.circuit;
  const amps = c.ops.filter((o) => o.type === 'amplitude');
  const out = new Float64Array(req.batch * amps.length);
  for (let b = 0; b < req.batch; b++)
    amps.forEach((op, k) => {
      if (op.type !== 'amplitude') return;
      let s = 0;
      for (let i = 0; i < op.length; i++) s += req.inputs[b * c.numInputs + op.start + i] ** 2;
      out[b * amps.length + k] = Math.sqrt(s);
    });
  return out;
}

/**
 * Finite-shot evaluation over the exact state vector (in `precision`): each call samples `shots` measurements
 * per row from the next seed of one seeded stream, so a run is reproducible bit for bit. Gradients by
 * parameter shift. Results name the kernels that computed the state, e.g. `wasm-simd+shots(100)`.
 */
export function createShotSimulator(shots: number, seed: number, precision: Precision = 'f32'): Simulator {
  const exact = createCpuSimulator({ precision });
  const stream = new QRng(seed);
  const info = { ...exact.info, mode: `${exact.info.mode}+shots(${shots})` };
  // state() reports no info, so the kernel is named by the cpu simulator's own width rule
  const infoFor = (qubits: number): BackendInfo => ({
    ...exact.info,
    mode: `${cpuKernelMode(precision, qubits)}+shots(${shots})`,
  });
  async function expval(req: BatchRequest): Promise<ExpvalResult> {
    const states = await exact.state(req);
    const est = shotExpvalsFromStates(
      states,
      req.circuit.qubits,
      req.batch,
      observablesOf(req.circuit),
      shots,
      stream.nextU32(),
    );
    return { expvals: est.expvals, norms: amplitudeNorms(req), info: infoFor(req.circuit.qubits) };
  }
  return {
    info,
    expval,
    async vjp(req, dExpvals): Promise<VjpResult> {
      const fwd = await expval(req);
      const g = await parameterShiftVjp(async (r) => (await expval(r)).expvals, req, dExpvals);
      return { ...fwd, dParams: g.dParams, dInputs: g.dInputs };
    },
    probs: (req, wires) => exact.probs(req, wires),
    state: (req) => exact.state(req),
    dispose: () => exact.dispose(),
  };
}

/** Depolarizing channel after every gate of each listed kind, on each wire the gate acts on. */
export function depolarizingModel(rates: Record<string, number>): NoiseModel {
  return {
    rules: Object.entries(rates)
      .filter(([, p]) => p > 0)
      .map(([gate, p]) => ({
        channel: { type: 'depolarizing' as const, p },
        after: [gate as 'RY' | 'CNOT'],
      })),
  };
}

export interface SimulatorChoice {
  shots: number | null;
  noise?: Record<string, number>;
  trajectories: number;
  seed: number;
  /** Precision of the state vector (exact and shot paths); absent: f32. */
  precision?: Precision;
}

/** True when the choice runs the noisy simulator, which is f64 only whatever `precision` asks. */
export function isNoisy(c: Pick<SimulatorChoice, 'noise'>): boolean {
  return !!c.noise && Object.values(c.noise).some((p) => p > 0);
}

/**
 * Exact: the cpu state vector in `precision` with the adjoint gradient; shots: sampled from that state vector;
 * noise: the density-matrix / trajectory simulator, always f64 (its info says so).
 */
export function createHeadSimulator(c: SimulatorChoice): Simulator {
  const precision = c.precision ?? 'f32';
  if (isNoisy(c))
    return createNoisySimulator({
      noise: depolarizingModel(c.noise!),
      shots: c.shots ?? undefined,
      seed: c.seed,
      trajectories: c.trajectories,
    });
  if (c.shots !== null) return createShotSimulator(c.shots, c.seed, precision);
  return createCpuSimulator({ precision });
}

export interface QuantumHead extends Model {
  readonly module1: QuantumLayer[];
  readonly module2: QuantumLayer;
  readonly linear: Linear;
  readonly features: number;
}

/**
 * Module 1 (E encoders) → Module 2 (re-uploading, shared PQC1, PQC2) → Linear([⟨Z⟩_m2, skip]) → logits.
 * With shape.bias > 0 each embedding row gets the constant shape.bias appended before amplitude encoding.
 */
export function quantumHead(shape: HeadShape, sim: Simulator, seed: number): QuantumHead {
  const n = module1Qubits(shape);
  const F = shape.encoders * n;
  const d = shape.dim;
  const din = module1Inputs(shape);
  const c1 = module1Circuit(din, shape.encoderDepth);
  const c2 = module2Circuit({
    features: F,
    qubits: shape.qubits,
    depth: shape.depth,
    finalDepth: shape.finalDepth,
    reuploads: shape.reuploads,
    connectivity: shape.connectivity,
    measured: shape.measured,
  });
  const module1 = Array.from(
    { length: shape.encoders },
    (_, e) => new QuantumLayer(`module1.${e}`, c1, sim, { seed: seed + 101 + e, dtype: 'f64' }),
  );
  const module2 = new QuantumLayer('module2', c2, sim, { seed: seed + 97, dtype: 'f64' });
  const Qm = shape.measured;
  const fin = Qm + (shape.skip ? F : 0);
  const C = shape.classes;
  const linear = new Linear('head', fin, C, { bias: true, dtype: 'f64' });
  new Rng(seed + 3).fillNormal(linear.weight.data, 1 / Math.sqrt(fin));
  let m1 = new Float64Array(0);
  let h = new Float64Array(0);
  return {
    name: 'quantum',
    module1,
    module2,
    linear,
    features: F,
    params: [...module1.flatMap((l) => l.parameters()), ...module2.parameters(), ...linear.parameters()],
    async forward(x, B) {
      let xin = x;
      if (din !== d) {
        xin = new Float64Array(B * din);
        for (let b = 0; b < B; b++) {
          xin.set(x.subarray(b * d, (b + 1) * d), b * din);
          xin[b * din + d] = shape.bias ?? 0;
        }
      }
      m1 = new Float64Array(B * F);
      for (let e = 0; e < module1.length; e++) {
        const z = await module1[e].forward(xin, B);
        for (let b = 0; b < B; b++) for (let q = 0; q < n; q++) m1[b * F + e * n + q] = z[b * n + q];
      }
      const m2 = await module2.forward(m1, B);
      h = new Float64Array(B * fin);
      for (let b = 0; b < B; b++) {
        for (let q = 0; q < Qm; q++) h[b * fin + q] = m2[b * Qm + q];
        if (shape.skip) for (let f = 0; f < F; f++) h[b * fin + Qm + f] = m1[b * F + f];
      }
      const out = new Float64Array(B * C);
      linear.forward(out, h, B);
      return out;
    },
    async backward(dlogits, B) {
      const dh = new Float64Array(B * fin);
      linear.backward(dh, dlogits, h, B);
      const dm2 = new Float64Array(B * Qm);
      const dm1 = new Float64Array(B * F);
      for (let b = 0; b < B; b++) {
        for (let q = 0; q < Qm; q++) dm2[b * Qm + q] = dh[b * fin + q];
        if (shape.skip) for (let f = 0; f < F; f++) dm1[b * F + f] = dh[b * fin + Qm + f];
      }
      await module2.backward(dm2, dm1);
      const dz = new Float64Array(B * n);
      for (let e = 0; e < module1.length; e++) {
        for (let b = 0; b < B; b++) for (let q = 0; q < n; q++) dz[b * n + q] = dm1[b * F + e * n + q];
        // the embedding is frozen: Module 1's input gradient is not needed
        await module1[e].backward(dz);
      }
    },
  };
}

/** Logistic regression (softmax over C classes; d·C + C parameters). */
export function logisticModel(d: number, C: number, seed: number): Model {
  const lin = new Linear('logreg', d, C, { bias: true, dtype: 'f64' });
  new Rng(seed).fillNormal(lin.weight.data, 0.01);
  let x0: Float64Array = new Float64Array(0);
  return {
    name: 'logreg',
    params: lin.parameters(),
    async forward(x, B) {
      x0 = x;
      const out = new Float64Array(B * C);
      lin.forward(out, x, B);
      return out;
    },
    async backward(dlogits, B) {
      lin.backward(null, dlogits, x0, B);
    },
  };
}

/** The d → h → C GELU MLP baseline (core/nn/mlp.ts) as a Model. */
export function mlpModel(d: number, hidden: number, C: number, seed: number): Model {
  const m = new MlpClassifier(d, hidden, C, seed, 'mlp');
  return {
    name: 'mlp',
    params: m.parameters(),
    forward: async (x, B) => m.forward(x, B),
    backward: async (dlogits) => m.backward(dlogits),
  };
}

export function trainableCount(m: Model): number {
  return countParameters(m.params, true);
}
