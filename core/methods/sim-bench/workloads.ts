// The benchmark circuits. Each mirrors its PyTorch peer (shared/peers/torch_statevector.py) gate for
// gate, so the two timings measure the same work.
import { CircuitBuilder, type Circuit, type GateName } from '../../quantum/circuit';
import { Rng } from '../../util/rng';

export interface Workload {
  name: string;
  circuit: Circuit;
  batch: number;
  params: Float64Array;
  inputs: Float64Array;
}

/** `gates` one-qubit gates, each on its own wire so no two can be fused into one pass (gates ≤ qubits). */
export function oneQubitLayer(qubits: number, gates: number, batch: number): Workload {
  if (gates > qubits) throw new Error(`gates (${gates}) must not exceed qubits (${qubits})`);
  const cycle: GateName[] = ['RX', 'RY', 'H'];
  const b = new CircuitBuilder(qubits);
  for (let g = 0; g < gates; g++) {
    const gate = cycle[g % cycle.length];
    b.gate(gate, [g], gate === 'H' ? [] : [0.3 + 0.1 * g]);
  }
  b.observe([{ coeff: 1, ops: [{ wire: 0, pauli: 'Z' }] }]);
  return {
    name: `1q-n${qubits}-B${batch}-G${gates}`,
    circuit: b.build(),
    batch,
    params: new Float64Array(0),
    inputs: new Float64Array(0),
  };
}

/**
 * The QD-LLM student circuit: RX(x_q) angle encoding, then L layers of RZ-RY-RZ on every qubit, RZZ
 * between neighbours, RZ-RY-RZ, CNOT chain; ⟨Z⟩ on every wire. Inputs uniform in [0, 10) as after the
 * student's min-max rescale.
 */
export function qdllmStudent(qubits: number, layers: number, batch: number, seed = 1): Workload {
  const b = new CircuitBuilder(qubits, qubits);
  for (let q = 0; q < qubits; q++) b.gate('RX', [q], [b.x(q)]);
  for (let l = 0; l < layers; l++) {
    for (let q = 0; q < qubits; q++) for (const g of ['RZ', 'RY', 'RZ'] as const) b.gate(g, [q], [b.p()]);
    for (let q = 0; q + 1 < qubits; q++) b.gate('RZZ', [q, q + 1], [b.p()]);
    for (let q = 0; q < qubits; q++) for (const g of ['RZ', 'RY', 'RZ'] as const) b.gate(g, [q], [b.p()]);
    for (let q = 0; q + 1 < qubits; q++) b.gate('CNOT', [q, q + 1]);
  }
  const circuit = b.build();
  const rng = new Rng(seed);
  const params = Float64Array.from({ length: circuit.numParams }, () => rng.nextFloat() * 2 * Math.PI);
  const inputs = Float64Array.from({ length: batch * qubits }, () => rng.nextFloat() * 10);
  return { name: `qdllm-n${qubits}-L${layers}-B${batch}`, circuit, batch, params, inputs };
}

/**
 * A QFFN-sized circuit: a 2^n hidden vector amplitude-encoded on n wires, strongly entangling layers
 * (RZ-RY-RZ per wire, then a CNOT ring q → q+1 mod n), ⟨Z⟩ on every wire.
 */
export function qffnCircuit(qubits: number, depth: number, batch: number, seed = 2): Workload {
  const dim = 1 << qubits;
  const b = new CircuitBuilder(qubits, dim);
  b.amplitude(
    Array.from({ length: qubits }, (_, q) => q),
    0,
    dim,
  );
  for (let l = 0; l < depth; l++) {
    for (let q = 0; q < qubits; q++) for (const g of ['RZ', 'RY', 'RZ'] as const) b.gate(g, [q], [b.p()]);
    for (let q = 0; q < qubits; q++) b.gate('CNOT', [q, (q + 1) % qubits]);
  }
  const circuit = b.build();
  const rng = new Rng(seed);
  const params = Float64Array.from({ length: circuit.numParams }, () => rng.nextFloat() * 2 * Math.PI);
  const inputs = Float64Array.from({ length: batch * dim }, () => rng.nextFloat());
  return { name: `qffn-n${qubits}-D${depth}-B${batch}`, circuit, batch, params, inputs };
}
