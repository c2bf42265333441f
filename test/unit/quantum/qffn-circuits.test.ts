// The QFFN circuits (core/quantum/qffn-circuits.ts) that core/nn builds its modules on and the qffn metadata draws:
// their sizes, gate counts and observables by closed form (test/unit/qffn/reference.test.ts checks what they
// compute against dense matrices and explicit state vectors).
import { describe, expect, it } from 'vitest';
import { parseCircuit } from '../../../core/quantum/circuit';
import {
  amplitudeFfnCircuit,
  amplitudeQubits,
  angleEncodedPqc,
  unitaryKernelCircuit,
} from '../../../core/quantum/qffn-circuits';
import { resources } from '../../../core/quantum/resources';

describe('QFFN circuits', () => {
  it('amplitudeQubits is ⌈log2 d⌉, at least 1', () => {
    expect([1, 2, 3, 4, 5, 16, 17, 768].map(amplitudeQubits)).toEqual([1, 1, 2, 2, 3, 4, 5, 10]);
  });

  it('amplitude FFN: ⌈log2 d⌉ wires, d inputs, 3nD angles, every Z string as an observable', () => {
    const c = amplitudeFfnCircuit(12, 3); // n = 4
    expect(() => parseCircuit(JSON.parse(JSON.stringify(c)))).not.toThrow();
    expect([c.qubits, c.numInputs, c.numParams]).toEqual([4, 12, 3 * 4 * 3]);
    expect(c.observables).toHaveLength(15);
    // observable m − 1 sets Z on the wires whose bit is set in m (wire w is bit n − 1 − w)
    expect(c.observables![0].ops).toEqual([{ wire: 3, pauli: 'Z' }]);
    expect(c.observables![14].ops.map((o) => o.wire)).toEqual([0, 1, 2, 3]);
    const r = resources(c);
    expect([r.amplitudeOps, r.byGate.Rot, r.byGate.CNOT]).toEqual([1, 12, 12]);
  });

  it('angle-encoded PQC: RY per wire, D entangling layers, ⟨Z⟩ on every wire', () => {
    const c = angleEncodedPqc(5, 2);
    expect([c.qubits, c.numInputs, c.numParams, c.observables]).toEqual([5, 5, 30, undefined]);
    const r = resources(c);
    expect([r.byGate.RY, r.byGate.Rot, r.byGate.CNOT]).toEqual([5, 10, 10]);
  });

  it('unitary kernel: 2⌈log2 hd⌉ + 1 wires, [q, k] inputs, U on the query register, a SWAP test on wire 0', () => {
    const c = unitaryKernelCircuit(8, 2); // m = 3
    expect([c.qubits, c.numInputs, c.numParams]).toEqual([7, 16, 3 * 3 * 2]);
    expect(c.observables).toEqual([{ coeff: 1, ops: [{ wire: 0, pauli: 'Z' }] }]);
    const r = resources(c);
    expect([r.amplitudeOps, r.byGate.H, r.byGate.Toffoli, r.byGate.CNOT]).toEqual([2, 2, 3, 2 * 3 + 2 * 3]);
  });
});
