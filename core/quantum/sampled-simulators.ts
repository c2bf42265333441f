// Simulators chosen by a method's `shots`, `noise` and `precision` fields: the exact state vector with the
// adjoint gradient, a seeded finite-shot evaluator over it with parameter shift, or the noisy simulator
// (depolarizing after each listed gate kind) with parameter shift.
import type { BackendInfo, BatchRequest, ExpvalResult, Precision, Simulator, VjpResult } from './backend';
import { observablesOf } from './circuit';
import { createCpuSimulator } from './cpu/simulator';
import { parameterShiftVjp } from './gradients';
import type { NoiseModel } from './noise';
import { createNoisySimulator } from './noisy-simulator';
import { Rng } from '../util/rng';
import { checkBatchRequest, deliverExpval, deliverVjp, withoutOut } from './request';
import { shotExpvalsFromStates } from './shots';
import { cpuKernelMode } from './simulators';

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
  const stream = new Rng(seed);
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
    return deliverExpval(req, {
      expvals: est.expvals,
      norms: amplitudeNorms(req),
      info: infoFor(req.circuit.qubits),
    });
  }
  return {
    info,
    expval,
    async vjp(req, dExpvals): Promise<VjpResult> {
      // the shifted evaluations are requests of their own: none writes into the caller's result arrays
      checkBatchRequest(req);
      const plain = withoutOut(req);
      const fwd = await expval(plain);
      const g = await parameterShiftVjp(async (r) => (await expval(r)).expvals, plain, dExpvals);
      return deliverVjp(req, { ...fwd, dParams: g.dParams, dInputs: g.dInputs });
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
export function createSimulatorFor(c: SimulatorChoice): Simulator {
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
