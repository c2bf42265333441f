// Shared fixtures for the quantum tests: a tiny seeded uniform source for random angles and states,
// batch requests, and a dense f64 reference simulator built from gateMatrix, independent of the
// backends' kernels (every gate applied as its full 2^k × 2^k matrix on gathered amplitudes).
import type { BatchRequest } from '../../core/quantum/backend';
import { angleValue, type Circuit } from '../../core/quantum/circuit';
import { gateMatrix } from '../../core/quantum/gates';

/** Small deterministic uniform source in [0, 1) (mulberry32); tests pin their inputs by its seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function batchRequest(
  circuit: Circuit,
  params: number[] = [],
  inputs: number[] = [],
  batch = 1,
): BatchRequest {
  return { circuit, params, inputs, batch };
}

/** Dense matrix m (complex interleaved, first wire most significant) on `wires` of an n-qubit state. */
export function applyDense(state: Float64Array, n: number, m: Float64Array, wires: number[]): Float64Array {
  const dim = 1 << n;
  const k = wires.length;
  const d = 1 << k;
  const out = new Float64Array(2 * dim);
  for (let i = 0; i < dim; i++) {
    let row = 0;
    for (let t = 0; t < k; t++) row = (row << 1) | ((i >> (n - 1 - wires[t])) & 1);
    let re = 0;
    let im = 0;
    for (let col = 0; col < d; col++) {
      let j = i;
      for (let t = 0; t < k; t++) {
        const bit = 1 << (n - 1 - wires[t]);
        j = (col >> (k - 1 - t)) & 1 ? j | bit : j & ~bit;
      }
      const mr = m[2 * (row * d + col)];
      const mi = m[2 * (row * d + col) + 1];
      re += mr * state[2 * j] - mi * state[2 * j + 1];
      im += mr * state[2 * j + 1] + mi * state[2 * j];
    }
    out[2 * i] = re;
    out[2 * i + 1] = im;
  }
  return out;
}

/** Reference final state (complex interleaved) of batch row `row` of a gate-only circuit from |0…0⟩. */
export function denseState(
  c: Circuit,
  params: ArrayLike<number> = [],
  inputs: ArrayLike<number> = [],
  row = 0,
): Float64Array {
  let s: Float64Array = new Float64Array(2 << c.qubits);
  s[0] = 1;
  for (const op of c.ops) {
    if (op.type !== 'gate') throw new Error(`denseState: gate ops only, got '${op.type}'`);
    const angles = op.angles.map((a) => angleValue(a, params, inputs, c.numInputs, row));
    s = applyDense(s, c.qubits, gateMatrix(op.gate, angles), op.wires);
  }
  return s;
}
