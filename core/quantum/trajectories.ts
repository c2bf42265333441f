// Monte-Carlo wave-function trajectories: noise on state vectors for circuits too large for ρ.
// After each gate, each placed channel picks Kraus operator K_i with probability ‖K_i ψ‖² and
// renormalises; averaging K trajectories converges to the density-matrix result as 1/√K.
// Seeded: row b uses the b-th child stream of the seed, so results do not depend on batch size.
import type { BatchRequest } from './backend';
import { observablesOf, type PauliTerm } from './circuit';
import {
  DENSITY_MAX_QUBITS,
  amplitudeVector,
  applyMatrix,
  densityExpval,
  localOffsets,
  marginalize,
  matrixScratch,
  opAngles,
  pauliMasks,
  parity,
  readoutWeightedExpval,
  termBasis,
  type NoisyResult,
} from './density';
import { gateMatrix } from './gates';
import { applyReadoutToProbs, channelsAfter, readoutPerWire, type NoiseModel, type NoiseRule } from './noise';
import { Rng } from '../util/rng';
import { rotatedProbabilitiesState, stateProbabilities } from './shots';

/** ⟨ψ|P|ψ⟩ for a Pauli term (coefficient included). */
export function pauliExpvalState(state: Float64Array, qubits: number, term: PauliTerm): number {
  const { x, z, ny } = pauliMasks(term, qubits);
  const dim = 1 << qubits;
  let re = 0;
  let im = 0;
  // Σ_c conj(ψ_{c⊕x}) · (−1)^{|c∧z|} · ψ_c, times i^{ny}
  for (let c = 0; c < dim; c++) {
    const s = parity(c & z) ? -1 : 1;
    const ar = state[2 * (c ^ x)];
    const ai = state[2 * (c ^ x) + 1];
    const br = state[2 * c];
    const bi = state[2 * c + 1];
    re += s * (ar * br + ai * bi);
    im += s * (ar * bi - ai * br);
  }
  const k = ny & 3;
  const real = k === 0 ? re : k === 1 ? -im : k === 2 ? -re : im;
  return (term.coeff ?? 1) * real;
}

/** Picks and applies one Kraus operator on `wire`, in place; returns the index chosen. */
export function applyChannelTrajectory(
  state: Float64Array,
  qubits: number,
  wire: number,
  kraus: readonly Float64Array[],
  rng: Rng,
  scratch: Float64Array,
): number {
  // reduced one-wire density matrix: r00, r11 real, r01 = Σ ψ0 conj(ψ1)
  const bit = 1 << (qubits - 1 - wire);
  const dim = 1 << qubits;
  let r00 = 0;
  let r11 = 0;
  let r01r = 0;
  let r01i = 0;
  for (let i = 0; i < dim; i++) {
    if (i & bit) continue;
    const ar = state[2 * i];
    const ai = state[2 * i + 1];
    const br = state[2 * (i | bit)];
    const bi = state[2 * (i | bit) + 1];
    r00 += ar * ar + ai * ai;
    r11 += br * br + bi * bi;
    r01r += ar * br + ai * bi;
    r01i += ai * br - ar * bi;
  }
  // weights ‖K_k ψ‖² (they sum to 1 for a trace-preserving channel, up to rounding)
  let total = 0;
  let chosen = -1;
  let pChosen = 0;
  const u = rng.nextFloat();
  const weights = [0, 0, 0, 0];
  if (kraus.length > weights.length) throw new Error(`trajectory: at most ${weights.length} Kraus operators`);
  for (let k = 0; k < kraus.length; k++) {
    const K = kraus[k];
    // ‖K ψ‖² = Σ_r |K_r0|² r00 + |K_r1|² r11 + 2 Re(K_r0 conj(K_r1) r01)
    let p = 0;
    for (let r = 0; r < 2; r++) {
      const ar = K[4 * r];
      const ai = K[4 * r + 1];
      const br = K[4 * r + 2];
      const bi = K[4 * r + 3];
      const cr = ar * br + ai * bi; // K_r0 · conj(K_r1)
      const ci = ai * br - ar * bi;
      p += (ar * ar + ai * ai) * r00 + (br * br + bi * bi) * r11 + 2 * (cr * r01r - ci * r01i);
    }
    weights[k] = Math.max(0, p);
    total += weights[k];
  }
  let cum = 0;
  for (let k = 0; k < kraus.length; k++) {
    if (weights[k] === 0) continue;
    cum += weights[k];
    chosen = k;
    pChosen = weights[k];
    if (u * total < cum) break;
  }
  if (chosen < 0) throw new Error('trajectory: every Kraus operator annihilates the state');
  applyMatrix(state, qubits, [wire], kraus[chosen], false, scratch);
  const f = 1 / Math.sqrt(pChosen);
  for (let i = 0; i < state.length; i++) state[i] *= f;
  return chosen;
}

/** One trajectory of batch row b; returns the final (normalised) state and amplitude norms. */
export function runTrajectory(
  req: BatchRequest,
  noise: NoiseModel | undefined,
  b: number,
  rng: Rng,
): { state: Float64Array; norms: number[] } {
  const n = req.circuit.qubits;
  const state = new Float64Array(2 << n);
  state[0] = 1;
  const scratch = matrixScratch();
  const cache = new Map<NoiseRule, Float64Array[]>();
  const norms: number[] = [];
  for (const op of req.circuit.ops) {
    if (op.type === 'amplitude') {
      const { amps, norm } = amplitudeVector(op, req, b);
      norms.push(norm);
      const offs = localOffsets(n, op.wires);
      let mask = 0;
      for (const o of offs) mask |= o;
      for (let i = 0; i < 1 << n; i++) {
        if (i & mask) continue;
        const re = state[2 * i];
        const im = state[2 * i + 1];
        for (let j = offs.length - 1; j >= 0; j--) {
          state[2 * (i + offs[j])] = amps[j] * re;
          state[2 * (i + offs[j]) + 1] = amps[j] * im;
        }
      }
      continue;
    }
    applyMatrix(state, n, op.wires, gateMatrix(op.gate, opAngles(op, req, b)), false, scratch);
    for (const ch of channelsAfter(noise, op, cache))
      applyChannelTrajectory(state, n, ch.wire, ch.kraus, rng, scratch);
  }
  return { state, norms };
}

export interface TrajectoryOptions {
  /** Trajectories per batch row (default 200). */
  trajectories?: number;
  seed: number;
  /** Wires for the probabilities (all by default). */
  wires?: number[];
}

/** Mean expectation values and probabilities over K trajectories per batch row, with standard errors. */
export function trajectoryExpval(
  req: BatchRequest,
  noise: NoiseModel | undefined,
  options: TrajectoryOptions,
): NoisyResult {
  const c = req.circuit;
  const n = c.qubits;
  const K = options.trajectories ?? 200;
  if (!Number.isInteger(K) || K < 1) throw new Error(`trajectories must be a positive integer, got ${K}`);
  const obs = observablesOf(c);
  const pw = options.wires ?? Array.from({ length: n }, (_, i) => i);
  const flips = readoutPerWire(noise?.readout, n);
  const hasReadout = flips.some((f) => f !== 0);
  const nAmp = c.ops.filter((o) => o.type === 'amplitude').length;
  const T = obs.length;
  const expvals = new Float64Array(req.batch * T);
  const stderr = new Float64Array(req.batch * T);
  const probs = new Float64Array(req.batch << pw.length);
  const norms = new Float64Array(req.batch * nAmp);
  const master = new Rng(options.seed);
  const sum = new Float64Array(T);
  const sumSq = new Float64Array(T);
  for (let b = 0; b < req.batch; b++) {
    const rng = master.fork();
    sum.fill(0);
    sumSq.fill(0);
    const pAcc = new Float64Array(1 << pw.length);
    for (let k = 0; k < K; k++) {
      const { state, norms: nb } = runTrajectory(req, noise, b, rng);
      if (k === 0) norms.set(nb, b * nAmp);
      for (let t = 0; t < T; t++) {
        const term = obs[t];
        const v = hasReadout
          ? readoutWeightedExpval(rotatedProbabilitiesState(state, n, termBasis(term, n)), n, term, flips)
          : pauliExpvalState(state, n, term);
        sum[t] += v;
        sumSq[t] += v * v;
      }
      const marg = marginalize(stateProbabilities(state), n, pw);
      for (let i = 0; i < marg.length; i++) pAcc[i] += marg[i];
    }
    for (let t = 0; t < T; t++) {
      const mean = sum[t] / K;
      expvals[b * T + t] = mean;
      const variance = K > 1 ? Math.max(0, (sumSq[t] - K * mean * mean) / (K - 1)) : 0;
      stderr[b * T + t] = Math.sqrt(variance / K);
    }
    for (let i = 0; i < pAcc.length; i++) pAcc[i] /= K;
    applyReadoutToProbs(pAcc, pw, flips);
    probs.set(pAcc, b << pw.length);
  }
  return { expvals, probs, norms, method: 'trajectories', stderr, trajectories: K };
}

export interface NoisyOptions {
  /** 'auto' (default): exact density matrix up to `densityLimit` qubits, trajectories beyond. */
  method?: 'auto' | 'density' | 'trajectories';
  densityLimit?: number;
  trajectories?: number;
  seed?: number;
  wires?: number[];
}

/** Noisy expectation values and probabilities by the exact or the sampled method. */
export function noisyExpval(
  req: BatchRequest,
  noise: NoiseModel | undefined,
  options: NoisyOptions = {},
): NoisyResult {
  const limit = Math.min(options.densityLimit ?? 10, DENSITY_MAX_QUBITS);
  const method = options.method ?? 'auto';
  const useDensity = method === 'density' || (method === 'auto' && req.circuit.qubits <= limit);
  if (useDensity) return densityExpval(req, noise, options.wires);
  return trajectoryExpval(req, noise, {
    trajectories: options.trajectories,
    seed: options.seed ?? 0,
    wires: options.wires,
  });
}
