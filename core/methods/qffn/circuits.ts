// The QFFN model's circuits and its parameter counts by closed form, isomorphic (no nn kernels), so the kind's
// metadata, the wizard and the report size a run with the functions the job uses. The circuits are the ones
// core/nn builds (quantum-ffn.ts, quantum-module.ts, quantum-scorer.ts); test/unit/qffn/counts.test.ts keeps
// them equal gate for gate and the counts equal to countParameters of the built models.
import { CircuitBuilder, type Circuit, type PauliTerm } from '../../quantum/circuit';
import { amplitudeEncoding, angleEncoding } from '../../quantum/encodings';
import { stronglyEntanglingLayers } from '../../quantum/templates';
import { amplitudeQubits, quantumBlocks, quantumHeadCount, type QffnConfig } from './schema';

const wires = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

/** Amplitude form: amplitude encoding of d values on ⌈log2 d⌉ wires, D entangling layers, every Z string. */
export function amplitudeFfnCircuit(d: number, depth: number): Circuit {
  const n = amplitudeQubits(d);
  const b = new CircuitBuilder(n, d);
  amplitudeEncoding(b, wires(n), 0, d);
  stronglyEntanglingLayers(b, depth);
  const terms: PauliTerm[] = [];
  for (let m = 1; m < 1 << n; m++) {
    const ops: PauliTerm['ops'] = [];
    for (let w = 0; w < n; w++) if ((m >> (n - 1 - w)) & 1) ops.push({ wire: w, pauli: 'Z' });
    terms.push({ coeff: 1, ops });
  }
  return b.observe(terms).build();
}

/** Bottleneck form and the Gaussian head's circuits: RY(x_i) on wire i, D entangling layers, ⟨Z_i⟩. */
export function angleEncodedPqc(qubits: number, depth: number): Circuit {
  const b = new CircuitBuilder(qubits, qubits);
  angleEncoding(b, wires(qubits), 'RY');
  stronglyEntanglingLayers(b, depth);
  return b.build();
}

/** The learned-unitary kernel |⟨k̂|U(θ)|q̂⟩|² read from a SWAP-test ancilla (2⌈log2 hd⌉ + 1 qubits). */
export function unitaryKernelCircuit(hd: number, depth: number): Circuit {
  const m = amplitudeQubits(hd);
  const b = new CircuitBuilder(2 * m + 1, 2 * hd);
  const A = wires(m, 1);
  const K = wires(m, 1 + m);
  amplitudeEncoding(b, A, 0, hd);
  amplitudeEncoding(b, K, hd, hd);
  for (let l = 0; l < depth; l++) {
    for (const w of A) b.gate('Rot', [w], [b.p(), b.p(), b.p()]);
    if (m > 1) for (let i = 0; i < m; i++) b.gate('CNOT', [A[i], A[(i + 1) % m]]);
  }
  b.gate('H', [0]);
  for (let i = 0; i < m; i++)
    b.gate('CNOT', [K[i], A[i]]).gate('Toffoli', [0, A[i], K[i]]).gate('CNOT', [K[i], A[i]]);
  b.gate('H', [0]);
  return b.observe([{ coeff: 1, ops: [{ wire: 0, pauli: 'Z' }] }]).build();
}

/** The shape a config gives the model (known before the run when the base is pretrained here). */
export interface QffnShape {
  V: number;
  H: number;
  I: number;
  layers: number;
  heads: number;
}

export function configShape(c: QffnConfig): QffnShape | null {
  if (c.base.modelDir !== null) return null;
  const b = c.base;
  return { V: b.vocabSize, H: b.hiddenSize, I: b.intermediateSize, layers: b.layers, heads: b.heads };
}

/** Qubits of the quantum FFN: ⌈log2 d⌉ for the amplitude form, the configured width (default the same) otherwise. */
export function ffnQubits(c: QffnConfig, H: number): number {
  return c.ffnForm === 'amplitude' ? amplitudeQubits(H) : (c.qubits ?? amplitudeQubits(H));
}

/** Quantum FFN: 3nD + 2d (amplitude) or 3nD + (d + 1)n + (n + 1)d (bottleneck). */
export function quantumFfnCount(c: QffnConfig, H: number): number {
  const n = ffnQubits(c, H);
  const circuit = 3 * n * c.depth;
  return c.ffnForm === 'amplitude' ? circuit + 2 * H : circuit + (H + 1) * n + (n + 1) * H;
}

/** One quantum head: Gaussian 2·(3nD + hd·n if mapped), unitary 3⌈log2 hd⌉D + 1 (β). */
export function quantumHeadParamCount(c: QffnConfig, hd: number): number {
  if (c.headKernel === 'unitary') return 3 * amplitudeQubits(hd) * c.depth + 1;
  const n = c.headQubits ?? hd;
  return 2 * (3 * n * c.depth + (c.headQubits === null ? 0 : hd * n));
}

/** Parameters the quantum modules of one quantum block add (FFN + its scored heads). */
export function quantumBlockCount(c: QffnConfig, s: QffnShape): number {
  const h = quantumHeadCount(s.heads, c.headShare, c.quantumHeads);
  return quantumFfnCount(c, s.H) + h * quantumHeadParamCount(c, s.H / s.heads);
}

/** The classical compressed FFN's width (narrow) or rank (low-rank) whose count is closest to `target`. */
export function matchedClassical(
  c: QffnConfig,
  s: QffnShape,
  target: number,
): { size: number; params: number } {
  const per = c.classicalForm === 'narrow' ? 3 * s.H : 3 * (s.H + s.I);
  const cap = c.classicalForm === 'narrow' ? s.I : Math.min(s.H, s.I);
  const size = Math.min(cap, Math.max(1, Math.round(target / per)));
  return { size, params: size * per };
}

export interface Components {
  embeddings: number;
  attention: number;
  norms: number;
  ffn: number;
  quantum: number;
}

export const total = (p: Components): number => p.embeddings + p.attention + p.norms + p.ffn + p.quantum;

/** Per-component counts of the three models of a LLaMA-flavour base with tied embeddings. */
export function modelCounts(
  c: QffnConfig,
  s: QffnShape,
): Record<'qffn' | 'uncompressed' | 'classical', Components> {
  const { V, H, I, layers } = s;
  const k = quantumBlocks(layers, c.fraction, c.placement, c.placementSeed).length;
  const shared = { embeddings: V * H, attention: layers * 4 * H * H, norms: (2 * layers + 1) * H };
  const q = quantumBlockCount(c, s);
  const m = matchedClassical(c, s, q);
  return {
    qffn: { ...shared, ffn: (layers - k) * 3 * H * I, quantum: k * q },
    uncompressed: { ...shared, ffn: layers * 3 * H * I, quantum: 0 },
    classical: { ...shared, ffn: (layers - k) * 3 * H * I + k * m.params, quantum: 0 },
  };
}
