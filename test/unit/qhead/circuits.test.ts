import { describe, expect, it } from 'vitest';
import { countParameters } from '../../../core/nn/tensor';
import { CircuitBuilder, type GateOp } from '../../../core/quantum/circuit';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import { longRangeAnsatz } from '../../../core/quantum/templates';
import {
  amplitudeQubits,
  headParameterCounts,
  longRangeLayersWith,
  module1Circuit,
  module2Circuit,
  uploadIndex,
  type HeadShape,
} from '../../../core/methods/qhead/circuits';
import { mlpHiddenForParams as matchedHidden } from '../../../core/nn/param-counts';
import { logisticModel, quantumHead, trainableCount } from '../../../core/methods/qhead/models';
import { MlpClassifier } from '../../../core/nn/mlp';

describe('Module 1', () => {
  it('amplitude-encodes d values into ⌈log2 d⌉ qubits, then n·depth long-range parameters', () => {
    expect(amplitudeQubits(768)).toBe(10);
    expect(amplitudeQubits(1024)).toBe(10);
    expect(amplitudeQubits(1025)).toBe(11);
    expect(amplitudeQubits(2)).toBe(1);
    expect(() => amplitudeQubits(1)).toThrow(/≥ 2/);
    const c = module1Circuit(48, 3);
    expect(c.qubits).toBe(6);
    expect(c.numInputs).toBe(48);
    expect(c.numParams).toBe(6 * 3);
    expect(c.ops[0]).toMatchObject({ type: 'amplitude', wires: [0, 1, 2, 3, 4, 5], start: 0, length: 48 });
    const gates = c.ops.slice(1) as GateOp[];
    expect(gates.filter((g) => g.gate === 'CNOT')).toHaveLength(18);
    expect(gates.filter((g) => g.gate === 'RY')).toHaveLength(18);
    expect(c.observables).toBeUndefined(); // ⟨Z⟩ on every qubit
  });
});

describe('Module 2', () => {
  const s = { features: 6, qubits: 4, depth: 2, finalDepth: 1, reuploads: 3, connectivity: 3, measured: 2 };
  const c = module2Circuit(s);

  it('has Q·depth shared + Q·finalDepth parameters and measures Q_m qubits', () => {
    expect(c.numParams).toBe(4 * 2 + 4 * 1);
    expect(c.numInputs).toBe(6);
    expect(c.observables).toEqual([
      { coeff: 1, ops: [{ wire: 0, pauli: 'Z' }] },
      { coeff: 1, ops: [{ wire: 1, pauli: 'Z' }] },
    ]);
  });

  it('re-uploads RY(π·x) with the documented feature order and shares PQC1 across blocks', () => {
    const ops = c.ops as GateOp[];
    const perBlock = 4 + 2 * 4 * 2; // encoding RYs + (CNOT, RY) per qubit per layer
    for (let k = 0; k < 3; k++) {
      const block = ops.slice(k * perBlock, (k + 1) * perBlock);
      for (let q = 0; q < 4; q++) {
        expect(block[q].gate).toBe('RY');
        expect(block[q].angles[0]).toEqual({ kind: 'input', index: uploadIndex(k, q, 4, 6), scale: Math.PI });
      }
      const paramIdx = block
        .slice(4)
        .flatMap((g) => g.angles.map((a) => (a.kind === 'param' ? a.index : -1)));
      expect(paramIdx).toEqual([0, 1, 2, 3, 4, 5, 6, 7]); // the same 8 shared angles in every block
      // CNOT(q → (q + 3) mod 4)
      const cnots = block.slice(4).filter((g) => g.gate === 'CNOT');
      expect(cnots.slice(0, 4).map((g) => g.wires)).toEqual([
        [0, 3],
        [1, 0],
        [2, 1],
        [3, 2],
      ]);
    }
    expect(uploadIndex(1, 0, 4, 6)).toBe(4);
    expect(uploadIndex(1, 2, 4, 6)).toBe(0);
    const pqc2 = ops
      .slice(3 * perBlock)
      .flatMap((g) => g.angles.map((a) => (a.kind === 'param' ? a.index : -1)));
    expect(pqc2.filter((i) => i >= 0)).toEqual([8, 9, 10, 11]);
  });

  it('writes the same gates as the template when given fresh angles', () => {
    const a = new CircuitBuilder(5);
    longRangeAnsatz(a, 2, 2);
    const b = new CircuitBuilder(5);
    longRangeLayersWith(
      b,
      Array.from({ length: 10 }, () => b.p()),
      2,
      2,
    );
    expect(b.build().ops).toEqual(a.build().ops);
  });
});

describe('parameter counts', () => {
  const shape: HeadShape = {
    dim: 12,
    classes: 3,
    encoders: 2,
    encoderDepth: 2,
    qubits: 3,
    depth: 2,
    finalDepth: 1,
    reuploads: 2,
    connectivity: 1,
    measured: 2,
    skip: true,
  };

  it('matches the formula for the built head, with and without the skip', () => {
    const sim = createCpuSimulator({ precision: 'f64' });
    const n = 4; // ⌈log2 12⌉
    const f = headParameterCounts(shape);
    expect(f.module1).toBe(2 * n * 2);
    expect(f.module2).toBe(3 * 3);
    expect(f.linear).toBe((2 + 2 * n) * 3 + 3);
    expect(trainableCount(quantumHead(shape, sim, 1))).toBe(f.total);
    const noSkip = { ...shape, skip: false };
    expect(headParameterCounts(noSkip).linear).toBe(2 * 3 + 3);
    expect(trainableCount(quantumHead(noSkip, sim, 1))).toBe(headParameterCounts(noSkip).total);
  });

  it('baselines: logistic regression d·C + C; MLP hidden chosen to match the quantum head', () => {
    expect(trainableCount(logisticModel(12, 3, 0))).toBe(12 * 3 + 3);
    const target = 700;
    const h = matchedHidden(target, 64, 4);
    const params = (k: number) => countParameters(new MlpClassifier(64, k, 4, 0).parameters());
    expect(params(h)).toBe(h * (64 + 1 + 4) + 4);
    // no other width is closer to the target
    for (const k of [h - 1, h + 1].filter((k) => k >= 1))
      expect(Math.abs(params(k) - target)).toBeGreaterThanOrEqual(Math.abs(params(h) - target));
    expect(matchedHidden(10, 64, 4)).toBe(1); // never below one unit
  });
});
