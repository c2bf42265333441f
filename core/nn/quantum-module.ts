// A variational circuit as a synchronous module, so it can stand inside the model's forward/backward: forward is
// the simulator's expectation values over N rows, backward its adjoint vector-Jacobian product, which gives ∂L/∂θ
// and ∂L/∂inputs in one pass. It needs a SyncSimulator (the cpu backend: WebAssembly SIMD kernels in f32, JS in
// f64, in the calling thread); the async QuantumLayer (quantum-layer.ts) stays for code that awaits a backend.
import type { SyncSimulator } from '../quantum/backend';
import { CircuitBuilder, type Circuit } from '../quantum/circuit';
import { angleEncoding } from '../quantum/encodings';
import { stronglyEntanglingLayers } from '../quantum/templates';
import { Rng } from '../util/rng';
import { NnError, Parameter, type Arr, type Dtype, type Module } from './tensor';

export interface QuantumModuleOptions {
  dtype?: Dtype;
  seed?: number;
  /** θ starts uniform in [−initScale·π, initScale·π] (default 1: the full rotation range). */
  initScale?: number;
}

export class QuantumModule implements Module {
  readonly theta: Parameter; // (numParams)
  /** (N, numAmplitudeOps) norms of the amplitude-encoded inputs of the last forward. */
  norms: Float64Array = new Float64Array(0);

  constructor(
    readonly name: string,
    readonly circuit: Circuit,
    readonly sim: SyncSimulator,
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

  /** out (N, numOutputs) = expectation values of the circuit's observables for inp (N, numInputs). */
  forward(out: Arr, inp: ArrayLike<number>, N: number): void {
    this.checkRows(out, inp, N);
    const r = this.sim.expvalSync({ circuit: this.circuit, params: this.theta.data, inputs: inp, batch: N });
    out.set(r.expvals);
    this.norms = r.norms;
  }

  /** Adds ∂L/∂θ into θ.grad (unless frozen) and ∂L/∂inp into dinp (when given), from dout (N, numOutputs). */
  backward(dinp: Arr | null, dout: Arr, inp: ArrayLike<number>, N: number): void {
    this.checkRows(dout, inp, N);
    const r = this.sim.vjpSync(
      { circuit: this.circuit, params: this.theta.data, inputs: inp, batch: N },
      dout.length === N * this.numOutputs ? dout : dout.subarray(0, N * this.numOutputs),
    );
    const g = this.theta.grad;
    if (!this.theta.frozen) for (let i = 0; i < g.length; i++) g[i] += r.dParams[i];
    if (dinp) for (let i = 0, n = N * this.numInputs; i < n; i++) dinp[i] += r.dInputs[i];
  }

  private checkRows(out: Arr, inp: ArrayLike<number>, N: number): void {
    if (out.length < N * this.numOutputs)
      throw new NnError(
        `holds ${out.length} values, need N·numOutputs = ${N * this.numOutputs}`,
        `${this.name}.out`,
      );
    if (inp.length < N * this.numInputs)
      throw new NnError(
        `holds ${inp.length} values, need N·numInputs = ${N * this.numInputs}`,
        `${this.name}.inputs`,
      );
  }
}

/**
 * The circuit the bottleneck modules share: RY(x_i) on wire i (angle encoding of n inputs), then `depth`
 * StronglyEntanglingLayers (Rot on every wire and a CNOT ring), read out as ⟨Z_i⟩ on every wire.
 */
export function angleEncodedPqc(qubits: number, depth: number): Circuit {
  const b = new CircuitBuilder(qubits, qubits);
  angleEncoding(
    b,
    Array.from({ length: qubits }, (_, w) => w),
    'RY',
  );
  stronglyEntanglingLayers(b, depth);
  return b.build();
}
