// A variational circuit as a synchronous module, so it can stand inside the model's forward/backward: forward is
// the simulator's expectation values over N rows, backward its adjoint vector-Jacobian product, which gives ∂L/∂θ
// and ∂L/∂inputs in one pass. It needs a SyncSimulator (the cpu backend: WebAssembly SIMD kernels in f32, JS in
// f64, worker threads for big batches). The async QuantumLayer (quantum-layer.ts) is the same layer for code that
// awaits: both extend CircuitParameters, so θ, its init, the shape checks and the accumulation are written once.
import type { BatchRequest, ExpvalResult, SyncSimulator, VjpResult } from '../quantum/backend';
import type { Circuit } from '../quantum/circuit';
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
  /** (N, numAmplitudeOps) norms of the amplitude-encoded inputs of the last forward. */
  norms: Float64Array = new Float64Array(0);

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

  /** The simulator request for inp (N, numInputs) under the current θ. */
  protected request(inp: ArrayLike<number>, N: number): BatchRequest {
    return { circuit: this.circuit, params: this.theta.data, inputs: inp, batch: N };
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
    this.takeExpvals(out, this.sim.expvalSync(this.request(inp, N)));
  }

  /** Adds ∂L/∂θ into θ.grad (unless frozen) and ∂L/∂inp into dinp (when given), from dout (N, numOutputs). */
  backward(dinp: Arr | null, dout: Arr, inp: ArrayLike<number>, N: number): void {
    this.checkRows(dout, inp, N);
    const n = N * this.numOutputs;
    this.takeVjp(
      dinp,
      this.sim.vjpSync(this.request(inp, N), dout.length === n ? dout : dout.subarray(0, n)),
      N,
    );
  }

  private checkRows(out: Arr, inp: ArrayLike<number>, N: number): void {
    this.checkLength(out, N * this.numOutputs, 'N·numOutputs', 'out', false);
    this.checkLength(inp, N * this.numInputs, 'N·numInputs', 'inputs', false);
  }
}
