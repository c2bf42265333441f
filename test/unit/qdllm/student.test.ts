import { describe, expect, it } from 'vitest';
import { mlpHiddenForParams, mlpParamCount } from '../../../core/nn/param-counts';
import {
  qdllmAnsatzParamCount,
  qdllmStudentCircuit,
  qdllmStudentParamCount,
} from '../../../core/methods/qdllm/circuit';
import { QuantumStudent } from '../../../core/methods/qdllm/students';
import { countParameters, zeroGrad } from '../../../core/nn/tensor';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';

describe('QD-LLM student', () => {
  it('counts parameters by the formula, and the circuit agrees with it', () => {
    // the text's ansatz: 6n + (n − 1) = 76 angles per layer for n = 11
    expect(qdllmAnsatzParamCount(11, 1)).toBe(76);
    expect(qdllmStudentCircuit(11, 11).numParams).toBe(qdllmAnsatzParamCount(11, 11));
    expect(qdllmStudentCircuit(11, 11).numInputs).toBe(11);
    // E = 768, C = 2: 8459 (Linear 768→11) + 836 + 24 = 9319 (the paper prints 9275 = 72 per layer)
    expect(qdllmStudentParamCount(768, 11, 11, 2)).toBe(8459 + 836 + 24);
    expect(qdllmStudentParamCount(768, 11, 11, 2)).toBe(9319);
    for (const [E, n, L, C] of [
      [5, 2, 1, 2],
      [16, 4, 3, 4],
      [32, 3, 2, 3],
    ]) {
      const s = new QuantumStudent(E, n, L, C, 10, createCpuSimulator({ precision: 'f64' }), 1);
      expect(countParameters(s.parameters(), true)).toBe(qdllmStudentParamCount(E, n, L, C));
    }
  });

  it("the authors' ansatz has exactly the paper's 9,275 parameters at n = 11, L = 11, E = 768, C = 2", () => {
    expect(qdllmAnsatzParamCount(11, 1, 'authors')).toBe(72);
    const circuit = qdllmStudentCircuit(11, 11, 'authors');
    expect(circuit.numParams).toBe(11 * 72);
    expect(qdllmStudentParamCount(768, 11, 11, 2, 'authors')).toBe(8459 + 792 + 24);
    expect(qdllmStudentParamCount(768, 11, 11, 2, 'authors')).toBe(9275);
    // gate by gate (METHODS.md): 3(n−1) RY, n−2 RZZ, 3n RZ, 1 + 2(n−3) CNOT per layer
    const gates = circuit.ops.flatMap((op) => (op.type === 'gate' && op.gate !== 'RX' ? [op] : []));
    const layer = gates.slice(0, 3 * 10 + 9 + 33 + 1 + 16);
    const count = (g: string) => layer.filter((op) => op.gate === g).length;
    expect([count('RY'), count('RZZ'), count('RZ'), count('CNOT')]).toEqual([30, 9, 33, 17]);
    expect(layer.slice(0, 4).map((op) => `${op.gate}${op.wires.join('')}`)).toEqual([
      'RY0',
      'RY0',
      'RY0',
      'RZZ12',
    ]);
    expect(layer.find((op) => op.gate === 'CNOT')!.wires).toEqual([10, 0]);
    expect(layer.at(-1)!.wires).toEqual([8, 7]);
    for (const [E, n, L, C] of [
      [5, 2, 1, 2],
      [16, 4, 3, 4],
    ]) {
      const s = new QuantumStudent(E, n, L, C, 10, createCpuSimulator({ precision: 'f64' }), 1, 'authors');
      expect(countParameters(s.parameters(), true)).toBe(qdllmStudentParamCount(E, n, L, C, 'authors'));
    }
  });

  it('matches an MLP to the quantum count within one hidden unit', () => {
    const target = qdllmStudentParamCount(768, 11, 11, 2);
    const h = mlpHiddenForParams(target, 768, 2);
    expect(Math.abs(mlpParamCount(768, h, 2) - target)).toBeLessThanOrEqual((768 + 3) / 2);
    expect(mlpParamCount(768, 12, 2)).toBe(12 * 769 + 2 * 13);
  });

  it('backpropagates through rescale, circuit and linears (finite differences, f64)', async () => {
    const E = 4;
    const n = 3;
    const C = 2;
    const B = 2;
    const s = new QuantumStudent(E, n, 1, C, 10, createCpuSimulator({ precision: 'f64' }), 7);
    const x = Float64Array.from({ length: B * E }, (_, i) => Math.sin(i + 0.5));
    const w = Float64Array.from({ length: B * C }, (_, i) => 0.3 + 0.2 * i); // L = Σ w·logits
    const lossOf = async () => (await s.forward(x, B)).reduce((a, v, i) => a + v * w[i], 0);
    const params = s.parameters();
    zeroGrad(params);
    await s.forward(x, B);
    await s.backward(w);
    const h = 1e-6;
    for (const p of params) {
      for (let i = 0; i < p.size; i += Math.max(1, Math.floor(p.size / 5))) {
        const keep = p.data[i];
        p.data[i] = keep + h;
        const up = await lossOf();
        p.data[i] = keep - h;
        const down = await lossOf();
        p.data[i] = keep;
        expect(Math.abs(p.grad[i] - (up - down) / (2 * h))).toBeLessThan(1e-6);
      }
    }
  });
});
