// Shared fixtures for the quantum tests: a tiny seeded uniform source for random angles and states,
// batch requests, and the dense f64 reference simulator (core/quantum/reference) in the shapes the tests use.
import type { BatchRequest } from '../../core/quantum/backend';
import type { Circuit } from '../../core/quantum/circuit';
import { applyMatrix, referenceState } from '../../core/quantum/reference/state';

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

/**
 * Dense matrix m (complex interleaved, first wire most significant) on `wires` of an n-qubit state, as a new
 * vector: the reference simulator's applyMatrix (core/quantum/reference/state.ts).
 */
export function applyDense(state: Float64Array, n: number, m: Float64Array, wires: number[]): Float64Array {
  const out = Float64Array.from(state);
  applyMatrix(out, n, wires, m);
  return out;
}

/** Reference final state (complex interleaved) of batch row `row` of a gate-only circuit from |0…0⟩. */
export function denseState(
  c: Circuit,
  params: ArrayLike<number> = [],
  inputs: ArrayLike<number> = [],
  row = 0,
): Float64Array {
  for (const op of c.ops)
    if (op.type !== 'gate') throw new Error(`denseState: gate ops only, got '${op.type}'`);
  return referenceState(c, params, inputs, row).psi;
}
