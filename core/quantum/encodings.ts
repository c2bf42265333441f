// Classical-to-quantum encodings: angle encoding, per-sample min-max rescaling (with its backward),
// amplitude encoding and data re-uploading, written against CircuitBuilder.
import type { CircuitBuilder } from './circuit';

/** RX/RY/RZ(scale · x[inputStart + i]) on wires[i]. */
export function angleEncoding(
  b: CircuitBuilder,
  wires: number[],
  rotation: 'RX' | 'RY' | 'RZ' = 'RY',
  inputStart = 0,
  scale?: number,
): void {
  wires.forEach((w, i) => b.gate(rotation, [w], [b.x(inputStart + i, scale)]));
}

/** Amplitude encoding of x[start .. start+length) on `wires` (L2-normalised, zero-padded; the simulator reports the norm). */
export function amplitudeEncoding(b: CircuitBuilder, wires: number[], start: number, length: number): void {
  if (length > 2 ** wires.length)
    throw new Error(`length: ${length} features do not fit in 2^${wires.length} amplitudes`);
  b.amplitude(wires, start, length);
}

/**
 * Data re-uploading: `encode` then `layer` repeated `layers` times, so the same features enter again
 * between trainable blocks. Returns the parameters the layers allocated.
 */
export function dataReuploading(
  b: CircuitBuilder,
  layers: number,
  encode: (b: CircuitBuilder) => void,
  layer: (b: CircuitBuilder) => void,
): number {
  const before = b.numParams;
  for (let l = 0; l < layers; l++) {
    encode(b);
    layer(b);
  }
  return b.numParams - before;
}

export interface MinMax {
  /** (rows, cols) rescaled features in [0, s]. */
  y: Float64Array;
  /** Per row: index of the minimum and maximum (ties: first). */
  argmin: Int32Array;
  argmax: Int32Array;
}

/** Per sample: y = s·(x − min)/(max − min); a constant row maps to 0. */
export function minMaxRescaleForward(x: ArrayLike<number>, rows: number, cols: number, s: number): MinMax {
  if (x.length !== rows * cols)
    throw new Error(`x: need rows × cols = ${rows * cols} values, got ${x.length}`);
  const y = new Float64Array(rows * cols);
  const argmin = new Int32Array(rows);
  const argmax = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let lo = 0;
    let hi = 0;
    for (let j = 1; j < cols; j++) {
      if (x[o + j] < x[o + lo]) lo = j;
      if (x[o + j] > x[o + hi]) hi = j;
    }
    argmin[r] = lo;
    argmax[r] = hi;
    const m = x[o + lo];
    const range = x[o + hi] - m;
    if (range > 0) for (let j = 0; j < cols; j++) y[o + j] = (s * (x[o + j] - m)) / range;
  }
  return { y, argmin, argmax };
}

/** ∂L/∂x from ∂L/∂y, min and max differentiated through their argument positions. */
export function minMaxRescaleBackward(
  x: ArrayLike<number>,
  cache: MinMax,
  dy: ArrayLike<number>,
  rows: number,
  cols: number,
  s: number,
): Float64Array {
  const dx = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const m = x[o + cache.argmin[r]];
    const M = x[o + cache.argmax[r]];
    const range = M - m;
    if (!(range > 0)) continue;
    let dm = 0;
    let dM = 0;
    for (let j = 0; j < cols; j++) {
      dx[o + j] += (s * dy[o + j]) / range;
      dm += (dy[o + j] * s * (x[o + j] - M)) / (range * range);
      dM -= (dy[o + j] * s * (x[o + j] - m)) / (range * range);
    }
    dx[o + cache.argmin[r]] += dm;
    dx[o + cache.argmax[r]] += dM;
  }
  return dx;
}
