// Synchronous batch drivers over rows [r0, r1): shared by the in-process simulator and the worker
// threads, so a threaded run computes exactly what a single-threaded one does.
import type { AngleShifts, Precision } from '../backend';
import { GRAD_CHUNK, Runner } from './engine';
import type { Program } from './program';

export interface RowsResult {
  /** (rows, numObs) */
  expvals: Float64Array;
  /** (rows, numAmp) */
  norms: Float64Array;
}

/** Arrays a row driver writes its rows' results into instead of fresh ones (exact lengths; any may be absent). */
export interface RowsOut {
  expvals?: Float64Array;
  norms?: Float64Array;
  /** cleared first: the adjoint adds each row's ∂L/∂x into it */
  dInputs?: Float64Array;
}

function outArray(given: Float64Array | undefined, n: number, field: string): Float64Array {
  if (!given) return new Float64Array(n);
  if (given.length !== n) throw new Error(`out.${field}: ${n} floats expected, got ${given.length}`);
  return given;
}

export interface VjpRows extends RowsResult {
  /** (chunks, numParams): ∂L/∂θ summed within each GRAD_CHUNK rows; r0 must be a chunk boundary. */
  dParamChunks: Float64Array;
  /** (rows, numInputs) */
  dInputs: Float64Array;
}

/**
 * One Runner per compiled program and precision, kept while the program is (programs are cached per circuit
 * object): a training loop's calls reuse its state rows, tape and wasm memory instead of allocating them per call.
 * The drivers are synchronous, so no two calls share a Runner at once.
 */
const runners = new WeakMap<Program, { f32?: Runner; f64?: Runner }>();

function runnerFor(prog: Program, precision: Precision): Runner {
  let byPrecision = runners.get(prog);
  if (!byPrecision) runners.set(prog, (byPrecision = {}));
  return (byPrecision[precision] ??= new Runner(prog, precision));
}

export function expvalRows(
  prog: Program,
  precision: Precision,
  params: ArrayLike<number>,
  inputs: ArrayLike<number>,
  r0: number,
  r1: number,
  out?: RowsOut,
): RowsResult {
  const run = runnerFor(prog, precision);
  run.pauseTape();
  run.bind(params, inputs);
  const nObs = prog.observables.length;
  const expvals = outArray(out?.expvals, (r1 - r0) * nObs, 'expvals');
  const norms = outArray(out?.norms, (r1 - r0) * prog.numAmp, 'norms');
  for (let b = r0; b < r1; b++) {
    run.forwardRow(b, norms, (b - r0) * prog.numAmp);
    run.expvalsRow(expvals, (b - r0) * nObs);
  }
  return { expvals, norms };
}

/**
 * Expectation values of rows [r0, r1) of a shifted batch (backend.ts AngleShifts): one program and one Runner for
 * every row, the shifted angle moved between rows (Runner.shift), each row run on the inputs of its inputRow.
 */
export function expvalShiftedRows(
  prog: Program,
  precision: Precision,
  params: ArrayLike<number>,
  inputs: ArrayLike<number>,
  shifts: AngleShifts,
  r0: number,
  r1: number,
): Float64Array {
  const run = runnerFor(prog, precision);
  run.pauseTape();
  run.bind(params, inputs);
  const nObs = prog.observables.length;
  const expvals = new Float64Array((r1 - r0) * nObs);
  try {
    for (let r = r0; r < r1; r++) {
      run.shift(shifts.op[r], shifts.arg[r], shifts.delta[r]);
      run.forwardRow(shifts.inputRow[r], null, 0);
      run.expvalsRow(expvals, (r - r0) * nObs);
    }
  } finally {
    run.shift(-1, -1, 0);
  }
  return expvals;
}

export function vjpRows(
  prog: Program,
  precision: Precision,
  params: ArrayLike<number>,
  inputs: ArrayLike<number>,
  dExpvals: ArrayLike<number>,
  r0: number,
  r1: number,
  out?: RowsOut,
): VjpRows {
  const run = runnerFor(prog, precision);
  run.bind(params, inputs);
  run.enableTape();
  const nObs = prog.observables.length;
  const rows = r1 - r0;
  const expvals = outArray(out?.expvals, rows * nObs, 'expvals');
  const norms = outArray(out?.norms, rows * prog.numAmp, 'norms');
  const chunks = Math.ceil(rows / GRAD_CHUNK);
  const dParamChunks = new Float64Array(chunks * prog.numParams);
  // our rows only (the engine is told the first): a full-height array, sliced, cost 8 MB of zero-fill and a
  // copy per call for QFFN's B=1024 × 1024 inputs; or the caller's (a reused array's pages are mapped already)
  const dInputs = outArray(out?.dInputs, rows * prog.numInputs, 'dInputs');
  if (out?.dInputs) dInputs.fill(0);
  for (let b = r0; b < r1; b++) {
    run.forwardRow(b, norms, (b - r0) * prog.numAmp);
    run.expvalsRow(expvals, (b - r0) * nObs);
    const c = Math.floor((b - r0) / GRAD_CHUNK);
    run.backwardRow(
      b,
      dExpvals,
      b * nObs,
      dParamChunks.subarray(c * prog.numParams, (c + 1) * prog.numParams),
      dInputs,
      r0,
    );
  }
  return { expvals, norms, dParamChunks, dInputs };
}

/** Final states (rows, 2^n, 2) as float64, or probabilities of `wires` (rows, 2^k). */
export function stateRows(
  prog: Program,
  precision: Precision,
  params: ArrayLike<number>,
  inputs: ArrayLike<number>,
  r0: number,
  r1: number,
  probWires: number[] | null,
): Float64Array {
  const run = runnerFor(prog, precision);
  run.pauseTape();
  run.bind(params, inputs);
  const dim = prog.dim;
  const n = prog.qubits;
  const s = run.psi;
  if (!probWires) {
    const out = new Float64Array((r1 - r0) * 2 * dim);
    for (let b = r0; b < r1; b++) {
      run.forwardRow(b, null, 0);
      out.set(s, (b - r0) * 2 * dim);
    }
    return out;
  }
  const k = probWires.length;
  const width = 1 << k;
  const out = new Float64Array((r1 - r0) * width);
  // local index of each basis state on the chosen wires, first listed wire most significant
  const local = new Int32Array(dim);
  for (let i = 0; i < dim; i++) {
    let j = 0;
    for (let t = 0; t < k; t++) j = (j << 1) | ((i >>> (n - 1 - probWires[t])) & 1);
    local[i] = j;
  }
  for (let b = r0; b < r1; b++) {
    run.forwardRow(b, null, 0);
    const o = (b - r0) * width;
    for (let i = 0; i < dim; i++) out[o + local[i]] += s[2 * i] * s[2 * i] + s[2 * i + 1] * s[2 * i + 1];
  }
  return out;
}
