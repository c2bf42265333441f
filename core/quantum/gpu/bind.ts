// Binding θ and x to a device program for one chunk of batch rows (the gpu counterpart of cpu/bind.ts): the
// initial states (amplitude encoding, on the host), every gate's matrices — U, and for a gradient U† and each dU —
// into the one `mats` argument, and the weights that seed the adjoint pass. Everything here is host work; the
// arrays it fills are what the traced pipeline is called with.
import type { Circuit, PauliTerm } from '../circuit';
import { fillMatrices, initialStates, type Layout } from './program';

/** The arguments a chunk uploads: initial states (rows, 2^n, 2), gate matrices, and the adjoint seed weights. */
export interface ChunkArgs {
  init: Float32Array;
  mats: Float32Array;
  /** (rows, terms): coeff_t · ∂L/∂⟨P_t⟩ per row; null without a gradient. */
  weights: Float32Array | null;
}

/** Buffers for one chunk of `layout.rows` rows, reused by every chunk of a call. */
export function chunkArgs(layout: Layout, terms: number, withSeed: boolean): ChunkArgs {
  return {
    init: new Float32Array(layout.rows * 2 * 2 ** layout.qubits),
    mats: new Float32Array(layout.matFloats),
    weights: withSeed ? new Float32Array(layout.rows * terms) : null,
  };
}

/**
 * Binds rows [start, start + real) of θ and x: their initial states (amplitude norms into norms[start..]) and
 * every gate's matrices at their angles. Rows past `real` in a last, short chunk keep stale values and are not read.
 */
export function bindChunk(
  layout: Layout,
  circuit: Circuit,
  params: ArrayLike<number>,
  inputs: ArrayLike<number>,
  start: number,
  real: number,
  norms: Float64Array,
  args: ChunkArgs,
): void {
  initialStates(layout, circuit, inputs, start, real, norms, args.init);
  fillMatrices(layout, circuit, params, inputs, start, real, args.mats);
}

/** The adjoint seed of rows [start, start + real): weights[r, t] = coeff_t · dExpvals[start + r, t]. */
export function bindSeed(
  terms: PauliTerm[],
  dExpvals: ArrayLike<number>,
  start: number,
  real: number,
  weights: Float32Array,
): void {
  const T = terms.length;
  weights.fill(0);
  for (let r = 0; r < real; r++)
    for (let t = 0; t < T; t++) weights[r * T + t] = (terms[t].coeff ?? 1) * dExpvals[(start + r) * T + t];
}
