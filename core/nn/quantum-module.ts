// A variational circuit as a synchronous module, so it can stand inside the model's forward/backward: forward is
// the simulator's expectation values over N rows, backward its adjoint vector-Jacobian product, which gives ∂L/∂θ
// and ∂L/∂inputs in one pass. It needs a SyncSimulator (the cpu backend: WebAssembly SIMD kernels in f32, JS in
// f64, worker threads for big batches). The async QuantumLayer (quantum-layer.ts) is the same layer for code that
// awaits: both extend CircuitParameters, so θ, its init, the shape checks and the accumulation are written once.
import type { BatchRequest, ExpvalResult, ResultBuffers, SyncSimulator, VjpResult } from '../quantum/backend';
import type { Circuit } from '../quantum/circuit';
import { resultBuffers } from '../quantum/request';
import { Rng } from '../util/rng';
import { NnError, Parameter, type Arr, type Dtype, type Module } from './tensor';

export interface QuantumModuleOptions {
  dtype?: Dtype;
  seed?: number;
  /** θ starts uniform in [−initScale·π, initScale·π] (default 1: the full rotation range). */
  initScale?: number;
}

/** A circuit's θ and what surrounds one simulator call, whichever way the simulator answers. */
export class CircuitParameters {
  readonly theta: Parameter; // (numParams)
  /**
   * (N, numAmplitudeOps) norms of the amplitude-encoded inputs of the last forward (the module's own array,
   * rewritten by the next forward).
   */
  norms: Float64Array = new Float64Array(0);
  /** The simulator writes each pass's results into these (BatchRequest.out), reused while N stays the same. */
  private readonly buffers: { forward?: ResultBuffers; backward?: ResultBuffers } = {};

  constructor(
    readonly name: string,
    readonly circuit: Circuit,
    opts: QuantumModuleOptions = {},
  ) {
    this.theta = new Parameter(`${name}.theta`, [circuit.numParams], opts.dtype ?? 'f64');
    const s = (opts.initScale ?? 1) * Math.PI;
    new Rng(opts.seed ?? 0).fillUniform(this.theta.data, -s, s);
  }

  get numInputs(): number {
    return this.circuit.numInputs;
  }

  get numOutputs(): number {
    return this.circuit.observables?.length ?? this.circuit.qubits;
  }

  parameters(): Parameter[] {
    return [this.theta];
  }

  /**
   * The simulator request for inp (N, numInputs) under the current θ, with this module's result arrays for the
   * pass: a training loop's calls write into the same arrays step after step instead of each mapping fresh pages
   * (QFFN's threaded adjoint spent ~30 ms of ~166 ms on those of an 8 MB ∂L/∂x). In shared memory where there is
   * one, so the cpu backend's worker threads write into them directly.
   */
  protected request(inp: ArrayLike<number>, N: number, pass: 'forward' | 'backward'): BatchRequest {
    return {
      circuit: this.circuit,
      params: this.theta.data,
      inputs: inp,
      batch: N,
      out: this.buffersFor(pass, N),
    };
  }

  private buffersFor(pass: 'forward' | 'backward', N: number): ResultBuffers {
    const have = this.buffers[pass];
    if (have && have.expvals!.length === N * this.numOutputs) return have;
    return (this.buffers[pass] = resultBuffers(this.circuit, N, pass === 'backward'));
  }

  /** Throws unless `values` holds `need` values (exactly, or at least when it may be a longer scratch buffer). */
  protected checkLength(
    values: ArrayLike<number>,
    need: number,
    what: string,
    field: string,
    exact: boolean,
  ): void {
    if (exact ? values.length !== need : values.length < need)
      throw new NnError(`holds ${values.length} values, need ${what} = ${need}`, `${this.name}.${field}`);
  }

  /** out (N, numOutputs) ← the expectation values; keeps the norms. */
  protected takeExpvals(out: Arr, r: ExpvalResult): void {
    out.set(r.expvals);
    this.norms = r.norms;
  }

  /** Adds ∂L/∂θ into θ.grad (unless frozen) and ∂L/∂inp (N, numInputs) into dinp (when given). */
  protected takeVjp(dinp: Arr | null, r: VjpResult, N: number): void {
    const g = this.theta.grad;
    if (!this.theta.frozen) for (let i = 0; i < g.length; i++) g[i] += r.dParams[i];
    if (dinp) for (let i = 0, n = N * this.numInputs; i < n; i++) dinp[i] += r.dInputs[i];
  }
}

export class QuantumModule extends CircuitParameters implements Module {
  constructor(
    name: string,
    circuit: Circuit,
    readonly sim: SyncSimulator,
    opts: QuantumModuleOptions = {},
  ) {
    super(name, circuit, opts);
  }

  /** out (N, numOutputs) = expectation values of the circuit's observables for inp (N, numInputs). */
  forward(out: Arr, inp: ArrayLike<number>, N: number): void {
    this.checkRows(out, inp, N);
    this.takeExpvals(out, this.sim.expvalSync(this.request(inp, N, 'forward')));
  }

  /** Adds ∂L/∂θ into θ.grad (unless frozen) and ∂L/∂inp into dinp (when given), from dout (N, numOutputs). */
  backward(dinp: Arr | null, dout: Arr, inp: ArrayLike<number>, N: number): void {
    this.checkRows(dout, inp, N);
    const n = N * this.numOutputs;
    this.takeVjp(
      dinp,
      this.sim.vjpSync(this.request(inp, N, 'backward'), dout.length === n ? dout : dout.subarray(0, n)),
      N,
    );
  }

  private checkRows(out: Arr, inp: ArrayLike<number>, N: number): void {
    this.checkLength(out, N * this.numOutputs, 'N·numOutputs', 'out', false);
    this.checkLength(inp, N * this.numInputs, 'N·numInputs', 'inputs', false);
  }
}
