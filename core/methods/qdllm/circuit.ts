// The QD-LLM quantum student's circuit and trainable-parameter count, a circuit record only (isomorphic),
// so the kind's metadata and the renderer size it with the functions the job uses.
import { CircuitBuilder, type Circuit } from '../../quantum/circuit';
import { angleEncoding } from '../../quantum/encodings';
import { qdllmAnsatz, qdllmAuthorsAnsatz } from '../../quantum/templates';

/**
 * The two readings of the paper's ansatz: `text`, the paper's description (RZ·RY·RZ, RZZ chain, RZ·RY·RZ,
 * CNOT chain: 7n − 1 angles per layer, 9,319 at the paper's size); `authors`, the authors' public circuit
 * (7n − 5 per layer, the paper's 9,275; only 3n − 3 of them independent).
 */
export const QDLLM_ANSATZE = ['text', 'authors'] as const;
export type QdllmAnsatz = (typeof QDLLM_ANSATZE)[number];

/** Trainable angles of L ansatz layers on n qubits: 7n − 1 (text) or 7n − 5 (authors) per layer. */
export function qdllmAnsatzParamCount(n: number, L: number, ansatz: QdllmAnsatz = 'text'): number {
  return L * (ansatz === 'authors' ? 7 * n - 5 : 7 * n - 1);
}

/** Trainable parameters of the quantum student: (E·n + n) + the ansatz's angles + (n·C + C). */
export function qdllmStudentParamCount(
  E: number,
  n: number,
  L: number,
  C: number,
  ansatz: QdllmAnsatz = 'text',
): number {
  return E * n + n + qdllmAnsatzParamCount(n, L, ansatz) + n * C + C;
}

/** What the report says about the ansatz that ran. */
export function describeAnsatz(ansatz: QdllmAnsatz, n: number): string {
  return ansatz === 'authors'
    ? `the authors' public circuit (per layer RY·RY·RY on qubits 0…n−2 with RZZ on (j+1, j+2), RZ·RZ·RZ on every qubit, CNOT(n−1 → 0) and CNOT(k → k±1): ${7 * n - 5} angles per layer, of which consecutive same-axis rotations leave only ${3 * n - 3} independent)`
    : `the paper's text (per layer RZ·RY·RZ on every qubit, RZZ chain, RZ·RY·RZ, CNOT chain: ${7 * n - 1} angles per layer)`;
}

/** RX(x_i) on qubit i, then L ansatz layers; the observables default to ⟨Z_i⟩ on every qubit. */
export function qdllmStudentCircuit(n: number, L: number, ansatz: QdllmAnsatz = 'text'): Circuit {
  const b = new CircuitBuilder(n, n);
  angleEncoding(
    b,
    Array.from({ length: n }, (_, i) => i),
    'RX',
  );
  if (ansatz === 'authors') qdllmAuthorsAnsatz(b, L);
  else qdllmAnsatz(b, L);
  return b.build();
}
