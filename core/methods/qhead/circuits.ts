// Circuits of the quantum head (arXiv 2504.08732). Module 1: amplitude encoding of the d-dim embedding into
// ⌈log2 d⌉ qubits, a long-range PQC, ⟨Z⟩ on every qubit. Module 2: N re-uploading blocks of RY(π·value)
// followed by PQC1 whose weights every block shares, then PQC2, ⟨Z⟩ on the first Q_m qubits.
import { CircuitBuilder, type Angle, type Circuit } from '../../quantum/circuit';
import { longRangeAnsatz } from '../../quantum/templates';

/** Qubits that hold a d-dim vector as amplitudes: ⌈log2 d⌉ (at least 1). */
export function amplitudeQubits(d: number): number {
  if (!Number.isInteger(d) || d < 2) throw new Error(`embedding dimension must be an integer ≥ 2, got ${d}`);
  return Math.ceil(Math.log2(d));
}

/**
 * The long-range layers of templates.longRangeAnsatz, with the RY angles given: CNOT(q → (q+c) mod n) then
 * RY(angle) on the target, for q = 0..n−1, per layer. Passing the same angles again shares the weights.
 */
export function longRangeLayersWith(
  b: CircuitBuilder,
  angles: readonly Angle[],
  layers: number,
  c: number,
): void {
  const n = b.qubits;
  if (angles.length !== n * layers) throw new Error(`angles: need ${n * layers}, got ${angles.length}`);
  let k = 0;
  for (let l = 0; l < layers; l++)
    for (let q = 0; q < n; q++) {
      const t = (((q + c) % n) + n) % n;
      b.gate('CNOT', [q, t]).gate('RY', [t], [angles[k++]]);
    }
}

/** One Module-1 encoder: inputs d, params n·depth, outputs ⟨Z_q⟩ for q < n, n = ⌈log2 d⌉. */
export function module1Circuit(d: number, depth: number, connectivity = 1): Circuit {
  const n = amplitudeQubits(d);
  const b = new CircuitBuilder(n, d);
  b.amplitude(
    Array.from({ length: n }, (_, q) => q),
    0,
    d,
  );
  if (n >= 2) longRangeAnsatz(b, depth, connectivity % n === 0 ? 1 : connectivity);
  else for (let l = 0; l < depth; l++) b.gate('RY', [0], [b.p()]);
  return b.build();
}

export interface Module2Shape {
  /** F: Module-1 outputs fed in (E·⌈log2 d⌉). */
  features: number;
  qubits: number;
  depth: number;
  finalDepth: number;
  reuploads: number;
  connectivity: number;
  measured: number;
}

/**
 * Feature uploaded onto qubit q in block k: (k·Q + q) mod F. With Q ≥ F every block uploads every feature
 * (wrapping round); with Q < F successive blocks upload successive windows, so N·Q ≥ F covers all of them.
 */
export function uploadIndex(block: number, q: number, qubits: number, features: number): number {
  return (block * qubits + q) % features;
}

/** Module 2: params Q·depth (PQC1, shared) + Q·finalDepth (PQC2); inputs F; outputs ⟨Z_q⟩ for q < Q_m. */
export function module2Circuit(s: Module2Shape): Circuit {
  const Q = s.qubits;
  const b = new CircuitBuilder(Q, s.features);
  const shared: Angle[] = Array.from({ length: Q * s.depth }, () => b.p());
  for (let k = 0; k < s.reuploads; k++) {
    for (let q = 0; q < Q; q++) b.gate('RY', [q], [b.x(uploadIndex(k, q, Q, s.features), Math.PI)]);
    longRangeLayersWith(b, shared, s.depth, s.connectivity);
  }
  if (s.finalDepth > 0) longRangeAnsatz(b, s.finalDepth, s.connectivity);
  b.observe(
    Array.from({ length: s.measured }, (_, w) => ({ coeff: 1, ops: [{ wire: w, pauli: 'Z' as const }] })),
  );
  return b.build();
}

export interface HeadShape {
  dim: number;
  classes: number;
  encoders: number;
  encoderDepth: number;
  qubits: number;
  depth: number;
  finalDepth: number;
  reuploads: number;
  connectivity: number;
  measured: number;
  skip: boolean;
  /**
   * Constant appended to every embedding row before amplitude encoding (0 or absent: none). ⟨Z⟩ of an
   * amplitude-encoded state under RY/CNOT circuits is a quadratic form, even in x; the constant adds a term
   * linear in x (docs/methods.md).
   */
  bias?: number;
}

/** Values each Module-1 encoder amplitude-encodes: d, plus one for the bias amplitude. */
export function module1Inputs(s: Pick<HeadShape, 'dim' | 'bias'>): number {
  return s.dim + (s.bias ? 1 : 0);
}

/** Qubits of each Module-1 encoder: ⌈log2(module1Inputs)⌉. */
export function module1Qubits(s: Pick<HeadShape, 'dim' | 'bias'>): number {
  return amplitudeQubits(module1Inputs(s));
}

/** Trainable parameters of each part, by formula (tests check them against the built model). */
export function headParameterCounts(s: HeadShape): {
  module1: number;
  module2: number;
  linear: number;
  total: number;
} {
  const n = module1Qubits(s);
  const module1 = s.encoders * n * s.encoderDepth;
  const module2 = s.qubits * (s.depth + s.finalDepth);
  const fin = s.measured + (s.skip ? s.encoders * n : 0);
  const linear = fin * s.classes + s.classes;
  return { module1, module2, linear, total: module1 + module2 + linear };
}
