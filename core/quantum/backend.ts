// The contract every simulator backend implements (cpu: hand-written typed-array kernels; gpu: gpu.js).
// A backend executes circuit records; gradient methods are separate functions over the same records.
import type { Circuit } from './circuit';

export type Precision = 'f32' | 'f64';

/** What actually ran, reported with every result. */
export interface BackendInfo {
  backend: 'cpu' | 'gpu';
  /**
   * cpu: the kernels that ran — 'wasm-simd' (WebAssembly SIMD kernels, f32x4 or f64x2, forward and adjoint,
   * circuits of ≥ 2 qubits) or 'js' — with '-threads' when the batch was split over worker threads;
   * gpu: gpu.js mode that ran, e.g. 'webgpu', 'webasm', 'cpu'.
   */
  mode: string;
  precision: Precision;
  threads?: number;
  /** Why a faster mode was not used, when one was asked for. */
  fallbackReason?: string;
  /** gpu on WebGPU: the adapter that ran it (e.g. 'nvidia · hopper · NVIDIA H100', 'llvmpipe …') and Dawn's backend. */
  device?: string;
}

/**
 * One batched evaluation. `params` is θ (length circuit.numParams, shared); `inputs` is x laid out
 * row-major (batch, circuit.numInputs).
 */
export interface BatchRequest {
  circuit: Circuit;
  params: ArrayLike<number>;
  inputs: ArrayLike<number>;
  batch: number;
  /**
   * Arrays for the results to be written into (each optional; exact lengths, Float64Array): a caller that
   * evaluates the same shapes again and again (a training loop) hands the same arrays each time, so no call maps
   * fresh pages for its results. The result's fields are then these arrays. Every backend honours them; the cpu
   * backend's worker threads write ∂L/∂x straight into `dInputs` when it is backed by a SharedArrayBuffer.
   */
  out?: ResultBuffers;
}

/** Caller-owned arrays for a call's results (BatchRequest.out); sizes as the result fields they stand for. */
export interface ResultBuffers {
  /** (batch, numObservables) */
  expvals?: Float64Array;
  /** (batch, numAmplitudeOps) */
  norms?: Float64Array;
  /** numParams (vjp only) */
  dParams?: Float64Array;
  /** (batch, numInputs) (vjp only) */
  dInputs?: Float64Array;
}

/**
 * Per-row shifts of one gate angle each, for gradient transforms that run many variants of one circuit as one
 * batch (parameter shift): row r evaluates the circuit with angle `arg[r]` of op `op[r]` shifted by `delta[r]`
 * (added to the angle the gate sees, after any input scale; op −1: no shift), on the inputs of row `inputRow[r]`.
 * Only the shifted angle's block or table differs between rows, so nothing else is rebuilt per row.
 */
export interface AngleShifts {
  op: Int32Array;
  arg: Int32Array;
  delta: Float64Array;
  inputRow: Int32Array;
}

/** A batch whose rows are shifted variants of one request: `batch` = shifts' length, inputs indexed by inputRow. */
export interface ShiftedRequest {
  circuit: Circuit;
  params: ArrayLike<number>;
  /** (inputRows, numInputs), row-major. */
  inputs: ArrayLike<number>;
  inputRows: number;
  shifts: AngleShifts;
}

export interface ExpvalResult {
  /** (batch, numObservables) expectation values of the circuit's observables. */
  expvals: Float64Array;
  /** (batch, numAmplitudeOps) L2 norms of the raw feature vectors that were amplitude-encoded. */
  norms: Float64Array;
  info: BackendInfo;
}

export interface VjpResult extends ExpvalResult {
  /** ∂L/∂θ summed over the batch, length numParams. */
  dParams: Float64Array;
  /** ∂L/∂x, (batch, numInputs). */
  dInputs: Float64Array;
}

export interface Simulator {
  readonly info: BackendInfo;
  /** Expectation values of the circuit's observables for each batch row. */
  expval(req: BatchRequest): Promise<ExpvalResult>;
  /**
   * Adjoint-method vector-Jacobian product: given ∂L/∂expvals (batch, numObservables), returns
   * ∂L/∂θ and ∂L/∂x together with the forward values. Cost is a small constant times one forward pass.
   */
  vjp(req: BatchRequest, dExpvals: ArrayLike<number>): Promise<VjpResult>;
  /**
   * Expectation values of every row of a shifted batch, (rows, numObservables), in one call (optional: the
   * gradient transforms fall back to one request per shift where a backend lacks it).
   */
  expvalShifted?(req: ShiftedRequest): Promise<Float64Array>;
  /** Probabilities of the basis states of `wires` (all wires by default), (batch, 2^wires.length). */
  probs(req: BatchRequest, wires?: number[]): Promise<Float64Array>;
  /** The final state, (batch, 2^n, 2) interleaved re/im. */
  state(req: BatchRequest): Promise<Float64Array>;
  dispose(): void;
}

/**
 * A simulator that answers in the calling thread, so a quantum module can run inside a synchronous model
 * forward/backward (core/nn/quantum-module.ts). Same requests and results as the async Simulator.
 */
export interface SyncSimulator {
  readonly info: BackendInfo;
  /** Expectation values of the circuit's observables for each batch row. */
  expvalSync(req: BatchRequest): ExpvalResult;
  /** Adjoint-method vector-Jacobian product, as Simulator.vjp. */
  vjpSync(req: BatchRequest, dExpvals: ArrayLike<number>): VjpResult;
  /**
   * Starts what the synchronous calls use that cannot start synchronously (the cpu backend's worker threads) and
   * resolves when it is ready or has failed; calls before then answer in the calling thread, with the same numbers.
   */
  prepareSync?(): Promise<void>;
}

/** Whether `sim` also answers synchronously (a wrapper that only forwards the async calls does not). */
export function isSyncSimulator<S extends object>(sim: S): sim is S & SyncSimulator {
  const s = sim as Partial<SyncSimulator>;
  return typeof s.expvalSync === 'function' && typeof s.vjpSync === 'function';
}
