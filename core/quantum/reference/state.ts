// The f64 reference simulator: every operation applied as its dense 2^k × 2^k matrix from the gate records
// (gates.ts) by a sum over basis states. Slow and plain on purpose: every backend and every fast kernel is tested
// against it (test/unit/quantum/reference.test.ts). Wire 0 is the most significant bit of a basis index.
import type { BatchRequest } from '../backend';
import { angleValue, observablesOf, type AmplitudeOp, type Circuit, type PauliTerm } from '../circuit';
import { GATE_RECORDS, gateMatrix } from '../gates';

/** ψ ← M ψ for a dense 2^k × 2^k matrix M (interleaved, row-major) on `wires` (wires[0] its most significant bit). */
export function applyMatrix(psi: Float64Array, n: number, wires: readonly number[], m: Float64Array): void {
  const k = wires.length;
  const d = 1 << k;
  const out = new Float64Array(psi.length);
  for (let i = 0; i < 1 << n; i++) {
    let row = 0;
    for (const w of wires) row = (row << 1) | ((i >> (n - 1 - w)) & 1);
    for (let col = 0; col < d; col++) {
      let j = i; // i with the op's wires set to col
      for (let t = 0; t < k; t++) {
        const bit = 1 << (n - 1 - wires[t]);
        j = (col >> (k - 1 - t)) & 1 ? j | bit : j & ~bit;
      }
      const mr = m[2 * (row * d + col)];
      const mi = m[2 * (row * d + col) + 1];
      out[2 * i] += mr * psi[2 * j] - mi * psi[2 * j + 1];
      out[2 * i + 1] += mr * psi[2 * j + 1] + mi * psi[2 * j];
    }
  }
  psi.set(out);
}

/** The conjugate transpose of a dense d × d matrix. */
export function dagger(m: Float64Array): Float64Array {
  const d = Math.round(Math.sqrt(m.length / 2));
  const out = new Float64Array(m.length);
  for (let r = 0; r < d; r++)
    for (let c = 0; c < d; c++) {
      out[2 * (c * d + r)] = m[2 * (r * d + c)];
      out[2 * (c * d + r) + 1] = -m[2 * (r * d + c) + 1];
    }
  return out;
}

/** ⟨a|b⟩ as [re, im]. */
export function inner(a: Float64Array, b: Float64Array): [number, number] {
  let re = 0;
  let im = 0;
  for (let i = 0; i < a.length; i += 2) {
    re += a[i] * b[i] + a[i + 1] * b[i + 1];
    im += a[i] * b[i + 1] - a[i + 1] * b[i];
  }
  return [re, im];
}

/** P ψ for a Pauli term (coefficient included), as a new vector. */
export function applyPauli(psi: Float64Array, n: number, term: PauliTerm): Float64Array {
  const out = Float64Array.from(psi);
  for (const o of term.ops) applyMatrix(out, n, [o.wire], gateMatrix(o.pauli));
  const c = term.coeff ?? 1;
  for (let i = 0; i < out.length; i++) out[i] *= c;
  return out;
}

/** The normalised features a = x/‖x‖ of an amplitude op for row b, and ‖x‖. */
export function amplitudeOf(c: Circuit, op: AmplitudeOp, inputs: ArrayLike<number>, b: number) {
  const x = Array.from({ length: op.length }, (_, j) => inputs[b * c.numInputs + op.start + j]);
  const norm = Math.hypot(...x);
  if (!(norm > 0) || !Number.isFinite(norm)) throw new Error(`inputs: row ${b} has zero or non-finite norm`);
  return { a: x.map((v) => v / norm), norm };
}

/** The amplitude op as a matrix on its wires: |0⟩ ↦ Σ_j a_j |j⟩ (column 0 is a, the rest zero). */
export function amplitudeMatrix(a: readonly number[], k: number): Float64Array {
  const d = 1 << k;
  const m = new Float64Array(2 * d * d);
  a.forEach((v, j) => (m[2 * (j * d)] = v));
  return m;
}

/** The angles op `oi` (a gate) sees in row b. */
export function opAngles(
  c: Circuit,
  oi: number,
  params: ArrayLike<number>,
  inputs: ArrayLike<number>,
  b: number,
) {
  const op = c.ops[oi];
  if (op.type !== 'gate') return [];
  return op.angles.map((x) => angleValue(x, params, inputs, c.numInputs, b));
}

/** Final state of row b from |0…0⟩, and the norms of its amplitude-encoded features. */
export function referenceState(c: Circuit, params: ArrayLike<number>, inputs: ArrayLike<number>, b: number) {
  const psi = new Float64Array(2 << c.qubits);
  psi[0] = 1;
  const norms: number[] = [];
  c.ops.forEach((op, oi) => {
    if (op.type === 'gate')
      applyMatrix(psi, c.qubits, op.wires, GATE_RECORDS[op.gate].matrix(opAngles(c, oi, params, inputs, b)));
    else {
      const { a, norm } = amplitudeOf(c, op, inputs, b);
      applyMatrix(psi, c.qubits, op.wires, amplitudeMatrix(a, op.wires.length));
      norms.push(norm);
    }
  });
  return { psi, norms };
}

/** Expectation values (batch, numObservables) and amplitude norms (batch, numAmplitudeOps). */
export function referenceExpval(req: BatchRequest): { expvals: Float64Array; norms: Float64Array } {
  const c = req.circuit;
  const terms = observablesOf(c);
  const expvals = new Float64Array(req.batch * terms.length);
  const norms: number[] = [];
  for (let b = 0; b < req.batch; b++) {
    const { psi, norms: nb } = referenceState(c, req.params, req.inputs, b);
    terms.forEach((t, o) => (expvals[b * terms.length + o] = inner(psi, applyPauli(psi, c.qubits, t))[0]));
    norms.push(...nb);
  }
  return { expvals, norms: Float64Array.from(norms) };
}

/** Final states, (batch, 2^n, 2). */
export function referenceStates(req: BatchRequest): Float64Array {
  const dim = 1 << req.circuit.qubits;
  const out = new Float64Array(req.batch * 2 * dim);
  for (let b = 0; b < req.batch; b++)
    out.set(referenceState(req.circuit, req.params, req.inputs, b).psi, 2 * dim * b);
  return out;
}

/** Probabilities of the basis states of `wires` (first wire most significant), (batch, 2^wires.length). */
export function referenceProbs(req: BatchRequest, wires: readonly number[]): Float64Array {
  const n = req.circuit.qubits;
  const width = 1 << wires.length;
  const out = new Float64Array(req.batch * width);
  for (let b = 0; b < req.batch; b++) {
    const { psi } = referenceState(req.circuit, req.params, req.inputs, b);
    for (let i = 0; i < 1 << n; i++) {
      let j = 0;
      for (const w of wires) j = (j << 1) | ((i >> (n - 1 - w)) & 1);
      out[b * width + j] += psi[2 * i] ** 2 + psi[2 * i + 1] ** 2;
    }
  }
  return out;
}
