// Exact density-matrix simulation in f64, for noisy circuits up to DENSITY_MAX_QUBITS wires.
// ρ (2^n × 2^n, row-major, complex interleaved) is treated as a 2n-qubit vector: row bits are
// wires 0..n−1, column bits wires n..2n−1, so U ρ U† is U on the row wires and conj(U) on the
// column wires, and a channel is Σ_k K ρ K† the same way. Wire 0 is the most significant bit.
import type { BatchRequest } from './backend';
import {
  angleValue,
  observablesOf,
  type AmplitudeOp,
  type Circuit,
  type GateOp,
  type PauliTerm,
} from './circuit';
import { gateMatrix } from './gates';
import { channelsAfter, readoutPerWire, applyReadoutToProbs, type NoiseModel, type NoiseRule } from './noise';

export const DENSITY_MAX_QUBITS = 12;

/** Scratch for applyMatrix: 2·2^k doubles for a k-wire matrix (k ≤ 3 here). */
export function matrixScratch(): Float64Array {
  return new Float64Array(2 * 8);
}

/**
 * In place: applies the dense 2^k × 2^k matrix `m` (or its complex conjugate) to `wires` of a
 * state of `qubits` wires (complex interleaved). `wires[0]` is the most significant local bit.
 */
export function applyMatrix(
  state: Float64Array,
  qubits: number,
  wires: readonly number[],
  m: Float64Array,
  conj: boolean,
  scratch: Float64Array,
): void {
  const k = wires.length;
  const d = 1 << k;
  if (k > 3) throw new Error(`applyMatrix: at most 3 wires, got ${k}`);
  if (k === 1) {
    applyMatrix1(state, qubits, wires[0], m, conj);
    return;
  }
  // per-call setup (a few numbers); the loop below allocates nothing
  const offs = localOffsets(qubits, wires);
  // positions of the zero bits to insert, ascending
  let p0 = 31,
    p1 = 31,
    p2 = 31;
  const ps = wires.map((w) => qubits - 1 - w).sort((a, b) => a - b);
  if (k > 0) p0 = ps[0];
  if (k > 1) p1 = ps[1];
  if (k > 2) p2 = ps[2];
  const sign = conj ? -1 : 1;
  const count = 1 << (qubits - k);
  for (let i = 0; i < count; i++) {
    let base = i;
    if (k > 0) base = ((base >> p0) << (p0 + 1)) | (base & ((1 << p0) - 1));
    if (k > 1) base = ((base >> p1) << (p1 + 1)) | (base & ((1 << p1) - 1));
    if (k > 2) base = ((base >> p2) << (p2 + 1)) | (base & ((1 << p2) - 1));
    for (let l = 0; l < d; l++) {
      const at = 2 * (base + offs[l]);
      scratch[2 * l] = state[at];
      scratch[2 * l + 1] = state[at + 1];
    }
    for (let r = 0; r < d; r++) {
      let re = 0;
      let im = 0;
      const row = 2 * r * d;
      for (let c = 0; c < d; c++) {
        const mr = m[row + 2 * c];
        const mi = sign * m[row + 2 * c + 1];
        const sr = scratch[2 * c];
        const si = scratch[2 * c + 1];
        re += mr * sr - mi * si;
        im += mr * si + mi * sr;
      }
      const at = 2 * (base + offs[r]);
      state[at] = re;
      state[at + 1] = im;
    }
  }
}

/** One-wire fast path of applyMatrix: amplitude pairs (i, i + stride) in blocks. */
function applyMatrix1(
  state: Float64Array,
  qubits: number,
  wire: number,
  m: Float64Array,
  conj: boolean,
): void {
  const stride = 1 << (qubits - 1 - wire);
  const dim = 1 << qubits;
  const sign = conj ? -1 : 1;
  const m00r = m[0],
    m00i = sign * m[1],
    m01r = m[2],
    m01i = sign * m[3];
  const m10r = m[4],
    m10i = sign * m[5],
    m11r = m[6],
    m11i = sign * m[7];
  for (let blk = 0; blk < dim; blk += 2 * stride) {
    for (let i = blk; i < blk + stride; i++) {
      const a = 2 * i;
      const b = 2 * (i + stride);
      const ar = state[a],
        ai = state[a + 1],
        br = state[b],
        bi = state[b + 1];
      state[a] = m00r * ar - m00i * ai + m01r * br - m01i * bi;
      state[a + 1] = m00r * ai + m00i * ar + m01r * bi + m01i * br;
      state[b] = m10r * ar - m10i * ai + m11r * br - m11i * bi;
      state[b + 1] = m10r * ai + m10i * ar + m11r * bi + m11i * br;
    }
  }
}

/** The angles of a gate for batch row b. */
export function opAngles(op: GateOp, req: BatchRequest, b: number): number[] {
  return op.angles.map((a) => angleValue(a, req.params, req.inputs, req.circuit.numInputs, b));
}

/** L2-normalised, zero-padded amplitudes of an amplitude op for batch row b, and the raw norm. */
export function amplitudeVector(
  op: AmplitudeOp,
  req: BatchRequest,
  b: number,
): { amps: Float64Array; norm: number } {
  const amps = new Float64Array(1 << op.wires.length);
  const base = b * req.circuit.numInputs + op.start;
  let s = 0;
  for (let i = 0; i < op.length; i++) {
    const x = Number(req.inputs[base + i]);
    amps[i] = x;
    s += x * x;
  }
  const norm = Math.sqrt(s);
  if (!(norm > 0) || !Number.isFinite(norm))
    throw new Error(
      `inputs[${b}]: amplitude-encoded features ${op.start}..${op.start + op.length - 1} must be finite and not all zero`,
    );
  for (let i = 0; i < op.length; i++) amps[i] /= norm;
  return { amps, norm };
}

/** Bit offsets in an n-wire index of each local basis state of `wires` (wires[0] most significant). */
export function localOffsets(qubits: number, wires: readonly number[]): Int32Array {
  const k = wires.length;
  const out = new Int32Array(1 << k);
  for (let l = 0; l < 1 << k; l++) {
    let o = 0;
    for (let j = 0; j < k; j++) if ((l >> (k - 1 - j)) & 1) o += 1 << (qubits - 1 - wires[j]);
    out[l] = o;
  }
  return out;
}

/**
 * Amplitude encoding on ρ: the isometry |0…0⟩_wires ↦ Σ_j a_j |j⟩ applied as V ρ V†; weight on
 * states where those wires are not |0…0⟩ is dropped (the record requires them to be |0…0⟩).
 */
function applyAmplitudeDensity(
  rho: Float64Array,
  out: Float64Array,
  qubits: number,
  op: AmplitudeOp,
  amps: Float64Array,
): void {
  const dim = 1 << qubits;
  const offs = localOffsets(qubits, op.wires);
  let mask = 0;
  for (const o of offs) mask |= o;
  out.fill(0);
  for (let r = 0; r < dim; r++) {
    if (r & mask) continue;
    for (let c = 0; c < dim; c++) {
      if (c & mask) continue;
      const re = rho[2 * (r * dim + c)];
      const im = rho[2 * (r * dim + c) + 1];
      if (re === 0 && im === 0) continue;
      for (let j = 0; j < offs.length; j++) {
        const aj = amps[j];
        if (aj === 0) continue;
        const rr = r + offs[j];
        for (let l = 0; l < offs.length; l++) {
          const w = aj * amps[l];
          if (w === 0) continue;
          const at = 2 * (rr * dim + c + offs[l]);
          out[at] += w * re;
          out[at + 1] += w * im;
        }
      }
    }
  }
  rho.set(out);
}

/** Applies a one-qubit channel Σ K ρ K† on `wire` of an n-wire ρ, using two scratch buffers of ρ's size. */
export function applyChannelDensity(
  rho: Float64Array,
  qubits: number,
  wire: number,
  kraus: readonly Float64Array[],
  tmp: Float64Array,
  acc: Float64Array,
  scratch: Float64Array,
): void {
  acc.fill(0);
  const rw = [wire];
  const cw = [wire + qubits];
  for (const K of kraus) {
    tmp.set(rho);
    applyMatrix(tmp, 2 * qubits, rw, K, false, scratch);
    applyMatrix(tmp, 2 * qubits, cw, K, true, scratch);
    for (let i = 0; i < acc.length; i++) acc[i] += tmp[i];
  }
  rho.set(acc);
}

/** ρ for batch row b of the request, with noise channels after gates as the model says. */
export function densityMatrix(
  req: BatchRequest,
  noise: NoiseModel | undefined,
  b: number,
): { rho: Float64Array; norms: number[] } {
  const c = req.circuit;
  const n = c.qubits;
  if (n > DENSITY_MAX_QUBITS)
    throw new Error(
      `qubits: density-matrix simulation is limited to ${DENSITY_MAX_QUBITS} qubits (got ${n}); use trajectories`,
    );
  const dim = 1 << n;
  const rho = new Float64Array(2 * dim * dim);
  rho[0] = 1;
  const tmp = new Float64Array(rho.length);
  const acc = new Float64Array(rho.length);
  const scratch = matrixScratch();
  const cache = new Map<NoiseRule, Float64Array[]>();
  const norms: number[] = [];
  const colWires: number[] = [];
  for (const op of c.ops) {
    if (op.type === 'amplitude') {
      const { amps, norm } = amplitudeVector(op, req, b);
      norms.push(norm);
      applyAmplitudeDensity(rho, tmp, n, op, amps);
      continue;
    }
    const m = gateMatrix(op.gate, opAngles(op, req, b));
    colWires.length = 0;
    for (const w of op.wires) colWires.push(w + n);
    applyMatrix(rho, 2 * n, op.wires, m, false, scratch);
    applyMatrix(rho, 2 * n, colWires, m, true, scratch);
    for (const ch of channelsAfter(noise, op, cache))
      applyChannelDensity(rho, n, ch.wire, ch.kraus, tmp, acc, scratch);
  }
  return { rho, norms };
}

/** Masks of a Pauli term: x (bits flipped by X/Y), z (bits with a sign from Y/Z), and the Y count. */
export function pauliMasks(term: PauliTerm, qubits: number): { x: number; z: number; ny: number } {
  let x = 0;
  let z = 0;
  let ny = 0;
  for (const { wire, pauli } of term.ops) {
    const bit = 1 << (qubits - 1 - wire);
    if (pauli !== 'Z') x |= bit;
    if (pauli !== 'X') z |= bit;
    if (pauli === 'Y') ny++;
  }
  return { x, z, ny };
}

export function parity(v: number): number {
  v ^= v >>> 16;
  v ^= v >>> 8;
  v ^= v >>> 4;
  v ^= v >>> 2;
  v ^= v >>> 1;
  return v & 1;
}

/** Tr(ρ P) for a Pauli term (coefficient included); uses P|c⟩ = i^{nY} (−1)^{|c∧z|} |c ⊕ x⟩. */
export function pauliExpvalDensity(rho: Float64Array, qubits: number, term: PauliTerm): number {
  const dim = 1 << qubits;
  const { x, z, ny } = pauliMasks(term, qubits);
  let re = 0;
  let im = 0;
  for (let c = 0; c < dim; c++) {
    const s = parity(c & z) ? -1 : 1;
    const at = 2 * (c * dim + (c ^ x));
    re += s * rho[at];
    im += s * rho[at + 1];
  }
  // multiply by i^{ny}; the real part is the expectation value
  const k = ny & 3;
  const real = k === 0 ? re : k === 1 ? -im : k === 2 ? -re : im;
  return (term.coeff ?? 1) * real;
}

/** Gate sequence that rotates a Pauli's eigenbasis onto Z: H for X, Sdg then H for Y. */
export function basisRotation(pauli: 'X' | 'Y' | 'Z'): Float64Array | undefined {
  if (pauli === 'Z') return undefined;
  const h = gateMatrix('H');
  if (pauli === 'X') return h;
  // H·Sdg as one 2×2 (Sdg acts first)
  const s = gateMatrix('Sdg');
  const out = new Float64Array(8);
  for (let r = 0; r < 2; r++)
    for (let c = 0; c < 2; c++) {
      let re = 0;
      let im = 0;
      for (let k = 0; k < 2; k++) {
        const ar = h[2 * (2 * r + k)];
        const ai = h[2 * (2 * r + k) + 1];
        const br = s[2 * (2 * k + c)];
        const bi = s[2 * (2 * k + c) + 1];
        re += ar * br - ai * bi;
        im += ar * bi + ai * br;
      }
      out[2 * (2 * r + c)] = re;
      out[2 * (2 * r + c) + 1] = im;
    }
  return out;
}

/**
 * ⟨P⟩ read out through a classical readout error: Σ_c p_rot(c) Π_{i∈P} f_i(bit_i(c)) with
 * f(0) = 1 − 2·p01, f(1) = 2·p10 − 1, where p_rot is the distribution in the term's measurement basis.
 */
export function readoutWeightedExpval(
  rotatedProbs: Float64Array,
  qubits: number,
  term: PauliTerm,
  flips: Float64Array,
): number {
  let total = 0;
  for (let c = 0; c < rotatedProbs.length; c++) {
    const p = rotatedProbs[c];
    if (p === 0) continue;
    let f = 1;
    for (const { wire } of term.ops) {
      const bit = (c >> (qubits - 1 - wire)) & 1;
      f *= bit ? 2 * flips[2 * wire + 1] - 1 : 1 - 2 * flips[2 * wire];
    }
    total += p * f;
  }
  return (term.coeff ?? 1) * total;
}

/** Diagonal of ρ after rotating each wire of `basis` (undefined: Z) onto the computational basis. */
export function rotatedDiagonalDensity(
  rho: Float64Array,
  qubits: number,
  basis: readonly ('X' | 'Y' | 'Z' | undefined)[],
): Float64Array {
  const dim = 1 << qubits;
  let work = rho;
  const scratch = matrixScratch();
  basis.forEach((pauli, w) => {
    const u = pauli ? basisRotation(pauli) : undefined;
    if (!u) return;
    if (work === rho) work = rho.slice();
    applyMatrix(work, 2 * qubits, [w], u, false, scratch);
    applyMatrix(work, 2 * qubits, [w + qubits], u, true, scratch);
  });
  const diag = new Float64Array(dim);
  for (let c = 0; c < dim; c++) diag[c] = Math.max(0, work[2 * (c * dim + c)]);
  return diag;
}

/** Marginal probabilities of `wires` (first most significant) from a full distribution. */
export function marginalize(full: Float64Array, qubits: number, wires: readonly number[]): Float64Array {
  const k = wires.length;
  const out = new Float64Array(1 << k);
  for (let i = 0; i < full.length; i++) {
    let j = 0;
    for (let t = 0; t < k; t++) j = (j << 1) | ((i >> (qubits - 1 - wires[t])) & 1);
    out[j] += full[i];
  }
  return out;
}

export interface NoisyResult {
  /** (batch, numObservables) */
  expvals: Float64Array;
  /** (batch, 2^wires.length) probabilities of the requested wires, readout error included. */
  probs: Float64Array;
  /** (batch, numAmplitudeOps) raw feature norms. */
  norms: Float64Array;
  method: 'density' | 'trajectories';
  /** Trajectories only: (batch, numObservables) standard error of each mean over trajectories. */
  stderr?: Float64Array;
  trajectories?: number;
}

function termBasis(term: PauliTerm, qubits: number): ('X' | 'Y' | 'Z' | undefined)[] {
  const basis: ('X' | 'Y' | 'Z' | undefined)[] = new Array(qubits).fill(undefined);
  for (const { wire, pauli } of term.ops) basis[wire] = pauli;
  return basis;
}

export { termBasis };

/** Expectation values of the circuit's observables and probabilities of `wires`, exactly, per batch row. */
export function densityExpval(req: BatchRequest, noise?: NoiseModel, wires?: number[]): NoisyResult {
  const c: Circuit = req.circuit;
  const n = c.qubits;
  const obs = observablesOf(c);
  const pw = wires ?? Array.from({ length: n }, (_, i) => i);
  const flips = readoutPerWire(noise?.readout, n);
  const hasReadout = flips.some((f) => f !== 0);
  const nAmp = c.ops.filter((o) => o.type === 'amplitude').length;
  const expvals = new Float64Array(req.batch * obs.length);
  const probs = new Float64Array(req.batch << pw.length);
  const norms = new Float64Array(req.batch * nAmp);
  const dim = 1 << n;
  for (let b = 0; b < req.batch; b++) {
    const { rho, norms: nb } = densityMatrix(req, noise, b);
    norms.set(nb, b * nAmp);
    obs.forEach((term, t) => {
      expvals[b * obs.length + t] = hasReadout
        ? readoutWeightedExpval(rotatedDiagonalDensity(rho, n, termBasis(term, n)), n, term, flips)
        : pauliExpvalDensity(rho, n, term);
    });
    const diag = new Float64Array(dim);
    for (let i = 0; i < dim; i++) diag[i] = Math.max(0, rho[2 * (i * dim + i)]);
    const marg = marginalize(diag, n, pw);
    applyReadoutToProbs(marg, pw, flips);
    probs.set(marg, b << pw.length);
  }
  return { expvals, probs, norms, method: 'density' };
}
