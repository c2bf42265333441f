// Circuit templates used by the lab's methods. Each appends to a CircuitBuilder and returns the number
// of trainable parameters it allocated (they are the builder's next consecutive parameters).
import type { CircuitBuilder } from './circuit';

function checkWires(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: needs at least one wire, got ${n}`);
}

/**
 * PennyLane's StronglyEntanglingLayers: per layer, Rot(φ,θ,ω) on every wire, then CNOT(i → (i+r) mod n)
 * for every i, with range r = ranges[l] (default (l mod (n−1)) + 1). 3·n·layers parameters.
 */
export function stronglyEntanglingLayers(b: CircuitBuilder, layers: number, ranges?: number[]): number {
  const n = b.qubits;
  checkWires(n, 'stronglyEntanglingLayers');
  if (ranges && ranges.length !== layers)
    throw new Error(`ranges: need one range per layer (${layers}), got ${ranges.length}`);
  const before = b.numParams;
  for (let l = 0; l < layers; l++) {
    for (let w = 0; w < n; w++) b.gate('Rot', [w], [b.p(), b.p(), b.p()]);
    if (n > 1) {
      const r = ranges ? ranges[l] : (l % (n - 1)) + 1;
      if (!Number.isInteger(r) || r % n === 0)
        throw new Error(`ranges[${l}]: must be an integer not divisible by ${n}, got ${r}`);
      for (let w = 0; w < n; w++) b.gate('CNOT', [w, (w + r) % n]);
    }
  }
  return b.numParams - before;
}

/** PennyLane's BasicEntanglerLayers: rotation (RX by default) on every wire, then a CNOT ring. n·layers parameters. */
export function basicEntanglerLayers(
  b: CircuitBuilder,
  layers: number,
  rotation: 'RX' | 'RY' | 'RZ' = 'RX',
): number {
  const n = b.qubits;
  checkWires(n, 'basicEntanglerLayers');
  const before = b.numParams;
  for (let l = 0; l < layers; l++) {
    for (let w = 0; w < n; w++) b.gate(rotation, [w], [b.p()]);
    // PennyLane: no ring for one wire, a single CNOT for two
    if (n === 2) b.gate('CNOT', [0, 1]);
    else if (n > 2) for (let w = 0; w < n; w++) b.gate('CNOT', [w, (w + 1) % n]);
  }
  return b.numParams - before;
}

/** QD-LLM student ansatz, per layer: RZ-RY-RZ on every wire, RZZ(w, w+1), RZ-RY-RZ, CNOT chain w → w+1. (6n + n − 1)·layers parameters. */
export function qdllmAnsatz(b: CircuitBuilder, layers: number): number {
  const n = b.qubits;
  checkWires(n, 'qdllmAnsatz');
  const before = b.numParams;
  const euler = (): void => {
    for (let w = 0; w < n; w++) b.gate('RZ', [w], [b.p()]).gate('RY', [w], [b.p()]).gate('RZ', [w], [b.p()]);
  };
  for (let l = 0; l < layers; l++) {
    euler();
    for (let w = 0; w + 1 < n; w++) b.gate('RZZ', [w, w + 1], [b.p()]);
    euler();
    for (let w = 0; w + 1 < n; w++) b.gate('CNOT', [w, w + 1]);
  }
  return b.numParams - before;
}

/**
 * The QD-LLM ansatz as the authors' public code builds it (QNLP_network.py, `QEmbedding1`, MindQuantum), per
 * layer: for j = 0 … n−2, RY·RY·RY on j and, for j ≤ n−3, RZZ on (j+1, j+2); then RZ·RZ·RZ on every wire;
 * then CNOT(n−1 → 0) and, for k = 1 … n−3, CNOT(k → k+1) and CNOT(k → k−1). (7n − 5)·layers parameters
 * (72 per layer at n = 11, the paper's 9,275 at L = 11); consecutive same-axis rotations collapse, so only
 * 3n − 3 angles per layer are independent.
 */
export function qdllmAuthorsAnsatz(b: CircuitBuilder, layers: number): number {
  const n = b.qubits;
  checkWires(n, 'qdllmAuthorsAnsatz');
  if (n < 2) throw new Error(`qdllmAuthorsAnsatz: needs at least two wires, got ${n}`);
  const before = b.numParams;
  for (let l = 0; l < layers; l++) {
    for (let j = 0; j <= n - 2; j++) {
      for (let r = 0; r < 3; r++) b.gate('RY', [j], [b.p()]);
      if (j <= n - 3) b.gate('RZZ', [j + 1, j + 2], [b.p()]);
    }
    for (let w = 0; w < n; w++) for (let r = 0; r < 3; r++) b.gate('RZ', [w], [b.p()]);
    b.gate('CNOT', [n - 1, 0]);
    for (let k = 1; k <= n - 3; k++) {
      b.gate('CNOT', [k, k + 1]);
      b.gate('CNOT', [k, k - 1]);
    }
  }
  return b.numParams - before;
}

/**
 * QTHA layer: RY(x[inputStart + w]·scale) on every wire, CRZ ring w → w+1, RY(θ), CRZ ring w → w−1, RY(θ).
 * 4n parameters per layer.
 */
export function qthaLayers(b: CircuitBuilder, layers: number, inputStart = 0, inputScale?: number): number {
  const n = b.qubits;
  checkWires(n, 'qthaLayers');
  const before = b.numParams;
  for (let l = 0; l < layers; l++) {
    for (let w = 0; w < n; w++) b.gate('RY', [w], [b.x(inputStart + w, inputScale)]);
    for (let w = 0; w < n; w++) b.gate('CRZ', [w, (w + 1) % n], [b.p()]);
    for (let w = 0; w < n; w++) b.gate('RY', [w], [b.p()]);
    for (let w = 0; w < n; w++) b.gate('CRZ', [w, (w - 1 + n) % n], [b.p()]);
    for (let w = 0; w < n; w++) b.gate('RY', [w], [b.p()]);
  }
  return b.numParams - before;
}

/** Long-range ansatz with connectivity c: for each wire q, CNOT(q → (q+c) mod n) then RY(θ) on the target. n·layers parameters. */
export function longRangeAnsatz(b: CircuitBuilder, layers: number, c: number): number {
  const n = b.qubits;
  checkWires(n, 'longRangeAnsatz');
  if (n < 2) throw new Error('longRangeAnsatz: needs at least two wires');
  if (!Number.isInteger(c) || c % n === 0)
    throw new Error(`connectivity: must be an integer not divisible by ${n}, got ${c}`);
  const before = b.numParams;
  for (let l = 0; l < layers; l++)
    for (let q = 0; q < n; q++) {
      const t = (((q + c) % n) + n) % n;
      b.gate('CNOT', [q, t]).gate('RY', [t], [b.p()]);
    }
  return b.numParams - before;
}
