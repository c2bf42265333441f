// The QD-LLM quantum student's circuit and trainable-parameter count, a circuit record only (isomorphic),
// so the kind's metadata and the renderer size it with the functions the job uses.
import { CircuitBuilder, type Circuit } from '../../quantum/circuit';
import { angleEncoding } from '../../quantum/encodings';
import { qdllmAnsatz } from '../../quantum/templates';

/** Trainable angles of L QD-LLM ansatz layers on n qubits: RZ-RY-RZ (3n), RZZ chain (n − 1), RZ-RY-RZ (3n). */
export function qdllmAnsatzParamCount(n: number, L: number): number {
  return L * (7 * n - 1);
}

/** Trainable parameters of the quantum student: (E·n + n) + L(7n − 1) + (n·C + C). */
export function qdllmStudentParamCount(E: number, n: number, L: number, C: number): number {
  return E * n + n + qdllmAnsatzParamCount(n, L) + n * C + C;
}

/** RX(x_i) on qubit i, then L ansatz layers; the observables default to ⟨Z_i⟩ on every qubit. */
export function qdllmStudentCircuit(n: number, L: number): Circuit {
  const b = new CircuitBuilder(n, n);
  angleEncoding(
    b,
    Array.from({ length: n }, (_, i) => i),
    'RX',
  );
  qdllmAnsatz(b, L);
  return b.build();
}
