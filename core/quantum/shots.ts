// Shot sampling: basis states drawn from probabilities (Walker/Vose alias method, O(1) per shot),
// counts, shot estimates of Pauli-term expectation values (rotate X by H and Y by Sdg·H onto Z,
// then average the Z-parity of the sampled bits), and readout error applied to samples.
// Every draw comes from a seeded Rng, so the same seed gives the same shots bit for bit.
import type { PauliTerm } from './circuit';
import { applyMatrix, basisRotation, matrixScratch } from './density';
import type { ReadoutError } from './noise';
import { readoutPerWire } from './noise';
import { Rng } from '../util/rng';

/** Alias table over a discrete distribution (need not be normalised; negative rounding noise is clipped). */
export class AliasTable {
  private readonly prob: Float64Array;
  private readonly alias: Uint32Array;
  readonly size: number;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    if (n === 0) throw new Error('probabilities: need at least one outcome');
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i];
      if (!Number.isFinite(w)) throw new Error(`probabilities[${i}] is not finite`);
      if (w > 0) total += w;
    }
    if (!(total > 0)) throw new Error('probabilities: all zero');
    this.size = n;
    this.prob = new Float64Array(n);
    this.alias = new Uint32Array(n);
    const scaled = new Float64Array(n);
    const small = new Uint32Array(n);
    const large = new Uint32Array(n);
    let ns = 0;
    let nl = 0;
    for (let i = 0; i < n; i++) {
      scaled[i] = (Math.max(0, weights[i]) * n) / total;
      if (scaled[i] < 1) small[ns++] = i;
      else large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
      const s = small[--ns];
      const l = large[--nl];
      this.prob[s] = scaled[s];
      this.alias[s] = l;
      scaled[l] = scaled[l] + scaled[s] - 1;
      if (scaled[l] < 1) small[ns++] = l;
      else large[nl++] = l;
    }
    // leftovers are 1 up to rounding
    while (nl > 0) this.prob[large[--nl]] = 1;
    while (ns > 0) this.prob[small[--ns]] = 1;
  }

  sample(rng: Rng): number {
    const i = rng.nextInt(this.size);
    return rng.nextFloat() < this.prob[i] ? i : this.alias[i];
  }
}

/** `shots` basis-state indices drawn from `probs`. */
export function sampleIndices(probs: ArrayLike<number>, shots: number, rng: Rng): Uint32Array {
  if (!Number.isInteger(shots) || shots < 1)
    throw new Error(`shots must be a positive integer, got ${shots}`);
  const table = new AliasTable(probs);
  const out = new Uint32Array(shots);
  for (let s = 0; s < shots; s++) out[s] = table.sample(rng);
  return out;
}

/** Counts per outcome as bitstrings of `bits` characters (first character = most significant), keys sorted. */
export function countsOf(samples: ArrayLike<number>, bits: number): Record<string, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < samples.length; i++) m.set(samples[i], (m.get(samples[i]) ?? 0) + 1);
  const out: Record<string, number> = {};
  for (const k of [...m.keys()].sort((a, b) => a - b))
    out[k.toString(2).padStart(bits, '0')] = m.get(k) as number;
  return out;
}

/**
 * Readout error on sampled indices over `wires` (first most significant), in place: each bit of
 * a listed wire flips 0→1 with p01 and 1→0 with p10 (per-wire flips as from readoutPerWire).
 */
export function applyReadoutToSamples(
  samples: Uint32Array,
  wires: readonly number[],
  flips: Float64Array,
  rng: Rng,
): void {
  const k = wires.length;
  for (let s = 0; s < samples.length; s++) {
    let v = samples[s];
    for (let j = 0; j < k; j++) {
      const p01 = flips[2 * wires[j]];
      const p10 = flips[2 * wires[j] + 1];
      if (p01 === 0 && p10 === 0) continue;
      const bit = 1 << (k - 1 - j);
      const p = v & bit ? p10 : p01;
      if (rng.nextFloat() < p) v ^= bit;
    }
    samples[s] = v >>> 0;
  }
}

/** |ψ_i|² of one state (complex interleaved). */
export function stateProbabilities(state: Float64Array): Float64Array {
  const out = new Float64Array(state.length >> 1);
  for (let i = 0; i < out.length; i++)
    out[i] = state[2 * i] * state[2 * i] + state[2 * i + 1] * state[2 * i + 1];
  return out;
}

export type Basis = ('X' | 'Y' | 'Z' | undefined)[];

/** Probabilities after rotating each wire's measurement basis onto Z (undefined and Z: no rotation). */
export function rotatedProbabilitiesState(state: Float64Array, qubits: number, basis: Basis): Float64Array {
  let work = state;
  const scratch = matrixScratch();
  basis.forEach((pauli, w) => {
    const u = pauli ? basisRotation(pauli) : undefined;
    if (!u) return;
    if (work === state) work = state.slice();
    applyMatrix(work, qubits, [w], u, false, scratch);
  });
  return stateProbabilities(work);
}

export interface MeasurementGroup {
  /** Measurement basis per wire (undefined: not measured by these terms). */
  basis: Basis;
  /** Indices of the terms estimated from this group's shots. */
  terms: number[];
}

/** Greedy grouping of qubit-wise commuting terms: each group is measured once with the full shot count. */
export function measurementGroups(terms: readonly PauliTerm[], qubits: number): MeasurementGroup[] {
  const groups: MeasurementGroup[] = [];
  terms.forEach((term, t) => {
    const fits = (g: MeasurementGroup): boolean =>
      term.ops.every(({ wire, pauli }) => g.basis[wire] === undefined || g.basis[wire] === pauli);
    let g = groups.find(fits);
    if (!g) {
      g = { basis: new Array(qubits).fill(undefined), terms: [] };
      groups.push(g);
    }
    for (const { wire, pauli } of term.ops) g.basis[wire] = pauli;
    g.terms.push(t);
  });
  return groups;
}

export interface ShotEstimate {
  /** coeff · mean of the sampled parity, per term. */
  expvals: Float64Array;
  /** Standard error of each estimate from the sample variance. */
  stderr: Float64Array;
}

/**
 * Shot estimates of Pauli terms. `probsInBasis` returns the full 2^n distribution in a measurement
 * basis (see rotatedProbabilitiesState); each qubit-wise commuting group gets `shots` shots.
 */
export function estimateExpvals(
  probsInBasis: (basis: Basis) => Float64Array,
  qubits: number,
  terms: readonly PauliTerm[],
  shots: number,
  rng: Rng,
  readout?: ReadoutError,
): ShotEstimate {
  const expvals = new Float64Array(terms.length);
  const stderr = new Float64Array(terms.length);
  const flips = readoutPerWire(readout, qubits);
  const all = Array.from({ length: qubits }, (_, w) => w);
  for (const g of measurementGroups(terms, qubits)) {
    const samples = sampleIndices(probsInBasis(g.basis), shots, rng);
    if (readout) applyReadoutToSamples(samples, all, flips, rng);
    for (const t of g.terms) {
      const term = terms[t];
      let mask = 0;
      for (const { wire } of term.ops) mask |= 1 << (qubits - 1 - wire);
      let sum = 0;
      for (let s = 0; s < shots; s++) {
        let v = samples[s] & mask;
        v ^= v >>> 16;
        v ^= v >>> 8;
        v ^= v >>> 4;
        v ^= v >>> 2;
        v ^= v >>> 1;
        sum += v & 1 ? -1 : 1;
      }
      const mean = sum / shots;
      const coeff = term.coeff ?? 1;
      expvals[t] = coeff * mean;
      const variance = shots > 1 ? ((1 - mean * mean) * shots) / (shots - 1) : 1;
      stderr[t] = Math.abs(coeff) * Math.sqrt(Math.max(0, variance) / shots);
    }
  }
  return { expvals, stderr };
}

/**
 * Shot estimates for a batch of final states ((batch, 2^n, 2) as Simulator.state returns), one
 * child stream per row so a row's shots do not depend on the batch size. Results (batch, terms).
 */
export function shotExpvalsFromStates(
  states: Float64Array,
  qubits: number,
  batch: number,
  terms: readonly PauliTerm[],
  shots: number,
  seed: number,
  readout?: ReadoutError,
): ShotEstimate {
  const dim = 1 << qubits;
  if (states.length !== batch * dim * 2)
    throw new Error(`states: expected ${batch}×${dim}×2 = ${batch * dim * 2} numbers, got ${states.length}`);
  const master = new Rng(seed);
  const expvals = new Float64Array(batch * terms.length);
  const stderr = new Float64Array(batch * terms.length);
  for (let b = 0; b < batch; b++) {
    const rng = master.fork();
    const state = states.subarray(2 * b * dim, 2 * (b + 1) * dim);
    const est = estimateExpvals(
      (basis) => rotatedProbabilitiesState(state, qubits, basis),
      qubits,
      terms,
      shots,
      rng,
      readout,
    );
    expvals.set(est.expvals, b * terms.length);
    stderr.set(est.stderr, b * terms.length);
  }
  return { expvals, stderr };
}

/** Sampled counts of all wires for one distribution (e.g. a row of Simulator.probs), readout error included. */
export function sampleCounts(
  probs: ArrayLike<number>,
  qubits: number,
  shots: number,
  seed: number,
  readout?: ReadoutError,
): Record<string, number> {
  if (probs.length !== 1 << qubits)
    throw new Error(`probs: expected ${1 << qubits} values, got ${probs.length}`);
  const rng = new Rng(seed);
  const samples = sampleIndices(probs, shots, rng);
  if (readout)
    applyReadoutToSamples(
      samples,
      Array.from({ length: qubits }, (_, w) => w),
      readoutPerWire(readout, qubits),
      rng,
    );
  return countsOf(samples, qubits);
}

/** Shot estimate of all-wire probabilities and ⟨Z_w⟩ for each row, from one sample set per row. */
export function sampleRows(
  exact: Float64Array,
  qubits: number,
  batch: number,
  shots: number,
  rng: Rng,
): { probs: Float64Array; expvalZ: Float64Array; stderrZ: Float64Array; counts: Record<string, number>[] } {
  const dim = 1 << qubits;
  const probs = new Float64Array(batch * dim);
  const expvalZ = new Float64Array(batch * qubits);
  const stderrZ = new Float64Array(batch * qubits);
  const counts: Record<string, number>[] = [];
  for (let b = 0; b < batch; b++) {
    const samples = sampleIndices(exact.subarray(b * dim, (b + 1) * dim), shots, rng.fork());
    for (let s = 0; s < shots; s++) probs[b * dim + samples[s]] += 1;
    for (let i = 0; i < dim; i++) {
      const c = probs[b * dim + i];
      if (c === 0) continue;
      for (let w = 0; w < qubits; w++) expvalZ[b * qubits + w] += (i >> (qubits - 1 - w)) & 1 ? -c : c;
      probs[b * dim + i] = c / shots;
    }
    for (let w = 0; w < qubits; w++) {
      const m = expvalZ[b * qubits + w] / shots;
      expvalZ[b * qubits + w] = m;
      const variance = shots > 1 ? ((1 - m * m) * shots) / (shots - 1) : 1;
      stderrZ[b * qubits + w] = Math.sqrt(Math.max(0, variance) / shots);
    }
    counts.push(countsOf(samples, qubits));
  }
  return { probs, expvalZ, stderrZ, counts };
}
