// The circuits of QFFN's quantum modules, written once: core/nn builds its modules on them (quantum-ffn.ts,
// quantum-scorer.ts, quantum-module.ts) and the qffn kind's metadata draws and counts them without loading nn
// kernels (this file is isomorphic: circuit, encodings and templates only).
import { CircuitBuilder, type Circuit, type PauliTerm } from './circuit';
import { amplitudeEncoding, angleEncoding } from './encodings';
import { stronglyEntanglingLayers } from './templates';

/** ⌈log2 d⌉, the wires amplitude encoding of d values needs (at least 1). */
export function amplitudeQubits(d: number): number {
  return Math.max(1, Math.ceil(Math.log2(d)));
}

const wires = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

/**
 * The amplitude form's circuit: amplitude encoding of d features on n = ⌈log2 d⌉ wires, D StronglyEntanglingLayers,
 * read out as every Z string: observable m − 1 is Z on the wires whose basis bit is set in m (wire w is bit
 * n − 1 − w), m = 1 … 2^n − 1, so the probabilities follow by a Walsh–Hadamard transform.
 */
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

/**
 * The bottleneck form's, the Gaussian head's and the QTHA adapter's circuit: RY(x_i) on wire i (angle encoding of
 * n inputs), then D StronglyEntanglingLayers (Rot on every wire and a CNOT ring), read out as ⟨Z_i⟩ on every wire.
 */
export function angleEncodedPqc(qubits: number, depth: number): Circuit {
  const b = new CircuitBuilder(qubits, qubits);
  angleEncoding(b, wires(qubits), 'RY');
  stronglyEntanglingLayers(b, depth);
  return b.build();
}

/**
 * The learned-unitary kernel |⟨k̂|U(θ)|q̂⟩|² of QFFN's quantum head, with q̂, k̂ amplitude-encoded on m = ⌈log2 hd⌉
 * wires each. The adjoint method differentiates expectation values, so the overlap is read as ⟨Z⟩ of the ancilla
 * (wire 0) of a SWAP test: H, controlled SWAPs of the two registers, H. 2m + 1 qubits, inputs [q, k].
 */
export function unitaryKernelCircuit(hd: number, depth: number): Circuit {
  const m = amplitudeQubits(hd);
  const b = new CircuitBuilder(2 * m + 1, 2 * hd);
  const A = wires(m, 1); // query register
  const K = wires(m, 1 + m); // key register
  amplitudeEncoding(b, A, 0, hd);
  amplitudeEncoding(b, K, hd, hd);
  for (let l = 0; l < depth; l++) {
    // StronglyEntanglingLayers on the query register only: Rot on every wire, a CNOT ring of range 1
    for (const w of A) b.gate('Rot', [w], [b.p(), b.p(), b.p()]);
    if (m > 1) for (let i = 0; i < m; i++) b.gate('CNOT', [A[i], A[(i + 1) % m]]);
  }
  b.gate('H', [0]);
  // CSWAP(0; A_i, K_i) = CNOT(K_i → A_i) · Toffoli(0, A_i → K_i) · CNOT(K_i → A_i)
  for (let i = 0; i < m; i++)
    b.gate('CNOT', [K[i], A[i]]).gate('Toffoli', [0, A[i], K[i]]).gate('CNOT', [K[i], A[i]]);
  b.gate('H', [0]);
  return b.observe([{ coeff: 1, ops: [{ wire: 0, pauli: 'Z' }] }]).build();
}
