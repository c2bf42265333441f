// The re-uploading circuit of `vqc-fit` (Pérez-Salinas et al. 2020), a circuit record only (isomorphic), so
// the kind's metadata can size and draw it without the simulator.
import { CircuitBuilder, type Circuit } from '../../quantum/circuit';

/** Per layer: RY(scale·x_{q mod 2}) on every wire, RZ(θ)·RY(θ) on every wire, a CNOT ring. */
export function reuploadingCircuit(qubits: number, layers: number, inputScale: number): Circuit {
  const b = new CircuitBuilder(qubits, 2);
  for (let l = 0; l < layers; l++) {
    for (let q = 0; q < qubits; q++) b.gate('RY', [q], [b.x(q % 2, inputScale)]);
    for (let q = 0; q < qubits; q++) {
      b.gate('RZ', [q], [b.p()]);
      b.gate('RY', [q], [b.p()]);
    }
    if (qubits > 1)
      for (let q = 0; q < qubits; q++) if (qubits > 2 || q === 0) b.gate('CNOT', [q, (q + 1) % qubits]);
  }
  return b.build();
}
