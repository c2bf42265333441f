// A Simulator (backend.ts) over a NoiseModel: exact density matrices up to `densityLimit` qubits
// (default 10), seeded Monte-Carlo trajectories beyond, optionally shot-based. Gradients are
// parameter-shift over this noisy evaluator: a channel attached after a gate does not depend on the
// gate's angle, so ⟨O⟩ stays a + b·cos θ + c·sin θ in each angle and the shift rules stay exact.
//
// state(): a noisy circuit's state is mixed, so state() refuses with an error unless every channel of
// the model has strength zero (readout error is classical and leaves the state pure); density()
// returns ρ instead.
//
// Randomness (trajectories, shots) comes from one seeded stream: each call takes the next child
// stream, so a sequence of calls is reproducible bit for bit from the seed (reseed() restarts it).
import type { BackendInfo, BatchRequest, ExpvalResult, Simulator, VjpResult } from './backend';
import { observablesOf } from './circuit';
import { DENSITY_MAX_QUBITS, densityExpval, densityMatrix, rotatedDiagonalDensity } from './density';
import { parameterShiftVjp } from './gradients';
import type { NoiseModel } from './noise';
import { checkBatchRequest, deliverExpval, deliverVjp, withoutOut } from './request';
import { Rng } from '../util/rng';
import { estimateExpvals, rotatedProbabilitiesState, sampleIndices, type Basis } from './shots';
import { runTrajectory, trajectoryExpval } from './trajectories';

export type NoisyMethod = 'density' | 'trajectories';

export interface NoisySimulatorOptions {
  /** The noise model; absent: a noiseless (but still density-matrix / shot-capable) simulator. */
  noise?: NoiseModel;
  /** 'auto' (default): density matrix up to `densityLimit` qubits, trajectories beyond. */
  method?: 'auto' | NoisyMethod;
  /** Largest circuit run as a density matrix in 'auto' (default 10, at most DENSITY_MAX_QUBITS). */
  densityLimit?: number;
  /** Trajectories per batch row (default 200). */
  trajectories?: number;
  /** Seed of the random stream (default 0). */
  seed?: number;
  /** Shots per batch row and measurement setting; absent: exact (density) or trajectory-mean values. */
  shots?: number;
}

/** What ran: `mode` is 'density-matrix' or 'trajectories'; always f64. */
export interface NoisyBackendInfo extends BackendInfo {
  method: NoisyMethod;
  trajectories?: number;
  shots?: number;
  seed: number;
}

export interface NoisySimulator extends Simulator {
  readonly info: NoisyBackendInfo;
  readonly noise: NoiseModel | undefined;
  /** Which method a circuit of this width runs with. */
  methodFor(qubits: number): NoisyMethod;
  /** ρ per batch row, (batch, 2^n, 2^n, 2) interleaved; density method only (n ≤ DENSITY_MAX_QUBITS). */
  density(req: BatchRequest): Promise<Float64Array>;
  /** Restarts the random stream, as if the simulator had just been created with this seed. */
  reseed(seed: number): void;
}

function positiveInt(x: number | undefined, fallback: number, field: string, max: number): number {
  const v = x ?? fallback;
  if (!Number.isInteger(v) || v < 1 || v > max)
    throw new Error(`${field}: must be an integer in [1, ${max}], got ${String(x)}`);
  return v;
}

/** True when no channel of the model changes the state (readout error is classical). */
function channelsIdle(noise: NoiseModel | undefined): boolean {
  return !noise || noise.rules.every((r) => ('p' in r.channel ? r.channel.p : r.channel.gamma) === 0);
}

export function createNoisySimulator(opts: NoisySimulatorOptions = {}): NoisySimulator {
  const noise = opts.noise;
  const method = opts.method ?? 'auto';
  if (method !== 'auto' && method !== 'density' && method !== 'trajectories')
    throw new Error(`method: must be "auto", "density" or "trajectories", got ${JSON.stringify(method)}`);
  const densityLimit = positiveInt(opts.densityLimit, 10, 'densityLimit', DENSITY_MAX_QUBITS);
  const K = positiveInt(opts.trajectories, 200, 'trajectories', 1 << 24);
  const shots = opts.shots === undefined ? undefined : positiveInt(opts.shots, 1, 'shots', 1 << 30);
  const seed0 = opts.seed ?? 0;
  if (!Number.isInteger(seed0)) throw new Error(`seed: must be an integer, got ${seed0}`);
  let seed = seed0;
  let master = new Rng(seed);

  const methodFor = (qubits: number): NoisyMethod =>
    method === 'density' || (method === 'auto' && qubits <= densityLimit) ? 'density' : 'trajectories';

  const infoFor = (m: NoisyMethod): NoisyBackendInfo => {
    const i: NoisyBackendInfo = {
      backend: 'cpu',
      mode: m === 'density' ? 'density-matrix' : 'trajectories',
      precision: 'f64',
      method: m,
      seed,
    };
    if (m === 'trajectories') i.trajectories = K;
    if (shots !== undefined) i.shots = shots;
    return i;
  };
  let info = infoFor(method === 'trajectories' ? 'trajectories' : 'density');

  /** Distribution of row b in a measurement basis, and its amplitude norms (one row's worth of work). */
  const rowDistribution = (
    req: BatchRequest,
    m: NoisyMethod,
    b: number,
    rng: Rng,
  ): { probsInBasis: (basis: Basis) => Float64Array; norms: number[] } => {
    const n = req.circuit.qubits;
    if (m === 'density') {
      const { rho, norms } = densityMatrix(req, noise, b);
      return { probsInBasis: (basis) => rotatedDiagonalDensity(rho, n, basis), norms };
    }
    // the same K trajectories for every basis: each basis replays the stream from this seed
    const tseed = rng.nextU32();
    const probsInBasis = (basis: Basis): Float64Array => {
      const trng = new Rng(tseed);
      const acc = new Float64Array(1 << n);
      for (let k = 0; k < K; k++) {
        const p = rotatedProbabilitiesState(runTrajectory(req, noise, b, trng).state, n, basis);
        for (let i = 0; i < acc.length; i++) acc[i] += p[i];
      }
      for (let i = 0; i < acc.length; i++) acc[i] /= K;
      return acc;
    };
    // amplitude norms do not depend on the noise: one noiseless pass gives them
    const hasAmp = req.circuit.ops.some((o) => o.type === 'amplitude');
    return { probsInBasis, norms: hasAmp ? runTrajectory(req, undefined, b, rng).norms : [] };
  };

  async function expval(req: BatchRequest): Promise<ExpvalResult> {
    const c = checkBatchRequest(req);
    const m = methodFor(c.qubits);
    info = infoFor(m);
    if (shots === undefined) {
      const r =
        m === 'density'
          ? densityExpval(req, noise)
          : trajectoryExpval(req, noise, { trajectories: K, seed: master.nextU32() });
      return deliverExpval(req, { expvals: r.expvals, norms: r.norms, info: { ...info } });
    }
    const obs = observablesOf(c);
    const nAmp = c.ops.filter((o) => o.type === 'amplitude').length;
    const expvals = new Float64Array(req.batch * obs.length);
    const norms = new Float64Array(req.batch * nAmp);
    const callRng = master.fork();
    for (let b = 0; b < req.batch; b++) {
      const rng = callRng.fork();
      const row = rowDistribution(req, m, b, rng);
      const est = estimateExpvals(row.probsInBasis, c.qubits, obs, shots, rng, noise?.readout);
      expvals.set(est.expvals, b * obs.length);
      norms.set(row.norms, b * nAmp);
    }
    return deliverExpval(req, { expvals, norms, info: { ...info } });
  }

  async function probs(req: BatchRequest, wires?: number[]): Promise<Float64Array> {
    const c = checkBatchRequest(req);
    const n = c.qubits;
    const w = wires ?? Array.from({ length: n }, (_, i) => i);
    w.forEach((x, i) => {
      if (!Number.isInteger(x) || x < 0 || x >= n)
        throw new Error(`wires[${i}]: must be a wire in [0, ${n - 1}], got ${x}`);
    });
    if (new Set(w).size !== w.length) throw new Error('wires: must be distinct');
    const m = methodFor(n);
    info = infoFor(m);
    const exact =
      m === 'density'
        ? densityExpval(req, noise, w).probs
        : trajectoryExpval(req, noise, { trajectories: K, seed: master.nextU32(), wires: w }).probs;
    if (shots === undefined) return exact;
    // readout error is already in `exact`, so sampling it is sampling the read-out bits
    const size = 1 << w.length;
    const out = new Float64Array(exact.length);
    const callRng = master.fork();
    for (let b = 0; b < req.batch; b++) {
      const rng = callRng.fork();
      const samples = sampleIndices(exact.subarray(b * size, (b + 1) * size), shots, rng);
      for (let s = 0; s < shots; s++) out[b * size + samples[s]] += 1;
      for (let i = 0; i < size; i++) out[b * size + i] /= shots;
    }
    return out;
  }

  const sim: NoisySimulator = {
    get info() {
      return info;
    },
    noise,
    methodFor,
    expval,
    probs,
    async vjp(req: BatchRequest, dExpvals: ArrayLike<number>): Promise<VjpResult> {
      const c = checkBatchRequest(req);
      const want = req.batch * observablesOf(c).length;
      if (!dExpvals || dExpvals.length !== want)
        throw new Error(
          `dExpvals: need batch × numObservables = ${want} values, got ${dExpvals ? dExpvals.length : 'none'}`,
        );
      // the shifted evaluations are requests of their own: none writes into the caller's result arrays
      const plain = withoutOut(req);
      const fwd = await expval(plain);
      const g = await parameterShiftVjp(async (r) => (await expval(r)).expvals, plain, dExpvals);
      return deliverVjp(req, { ...fwd, dParams: g.dParams, dInputs: g.dInputs, info: { ...info } });
    },
    async state(req: BatchRequest): Promise<Float64Array> {
      const c = checkBatchRequest(req);
      if (!channelsIdle(noise))
        throw new Error(
          'state: a noisy circuit is in a mixed state with no state vector; use density() (up to ' +
            `${DENSITY_MAX_QUBITS} qubits), probs() or expval()`,
        );
      const dim = 1 << c.qubits;
      const out = new Float64Array(req.batch * 2 * dim);
      // with idle channels a trajectory draws nothing from the stream: it is the exact pure state
      const rng = new Rng(0);
      for (let b = 0; b < req.batch; b++) out.set(runTrajectory(req, undefined, b, rng).state, 2 * b * dim);
      return out;
    },
    async density(req: BatchRequest): Promise<Float64Array> {
      const c = checkBatchRequest(req);
      if (c.qubits > DENSITY_MAX_QUBITS)
        throw new Error(
          `qubits: density() is limited to ${DENSITY_MAX_QUBITS} qubits, the circuit has ${c.qubits}`,
        );
      const dim = 1 << c.qubits;
      const out = new Float64Array(req.batch * 2 * dim * dim);
      for (let b = 0; b < req.batch; b++) out.set(densityMatrix(req, noise, b).rho, 2 * b * dim * dim);
      return out;
    },
    reseed(s: number): void {
      if (!Number.isInteger(s)) throw new Error(`seed: must be an integer, got ${s}`);
      seed = s;
      master = new Rng(s);
      info = { ...info, seed };
    },
    dispose(): void {},
  };
  return sim;
}
