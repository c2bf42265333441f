// The bridge to core/quantum: a batched variational circuit as a layer. Forward is sim.expval over the batch;
// backward is the simulator's adjoint vector-Jacobian product, which adds ∂L/∂θ into θ.grad and returns
// ∂L/∂inputs, so quantum and classical parameters train in one backward pass. Async because simulators are.
import type { Simulator } from '../quantum/backend';
import type { Circuit } from '../quantum/circuit';
import { Rng } from '../util/rng';
import { NnError, Parameter, type Arr, type Dtype, type Module } from './tensor';

export class QuantumLayer implements Module {
  readonly theta: Parameter; // (numParams)
  private inputs: Float64Array = new Float64Array(0); // (B, numInputs) of the last forward
  private batch = 0;

  constructor(
    readonly name: string,
    readonly circuit: Circuit,
    readonly sim: Simulator,
    opts: { dtype?: Dtype; seed?: number; initScale?: number } = {},
  ) {
    this.theta = new Parameter(`${name}.theta`, [circuit.numParams], opts.dtype ?? 'f64');
    // uniform angles in [−scale·π, scale·π]; the default π covers the full rotation range
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

  /** (B, numInputs) → (B, numOutputs) expectation values. */
  async forward(inputs: ArrayLike<number>, B: number): Promise<Float64Array> {
    if (inputs.length !== B * this.numInputs)
      throw new NnError(
        `has ${inputs.length} values, expected B·numInputs = ${B * this.numInputs}`,
        `${this.name}.inputs`,
      );
    this.inputs = Float64Array.from(inputs);
    this.batch = B;
    const r = await this.sim.expval({
      circuit: this.circuit,
      params: this.theta.data,
      inputs: this.inputs,
      batch: B,
    });
    return r.expvals;
  }

  /** Adds ∂L/∂θ into theta.grad (unless frozen); adds ∂L/∂inputs into dinputs when given and also returns it. */
  async backward(dout: ArrayLike<number>, dinputs?: Arr): Promise<Float64Array> {
    if (dout.length !== this.batch * this.numOutputs)
      throw new NnError(
        `has ${dout.length} values, expected ${this.batch * this.numOutputs}`,
        `${this.name}.dout`,
      );
    const r = await this.sim.vjp(
      { circuit: this.circuit, params: this.theta.data, inputs: this.inputs, batch: this.batch },
      dout,
    );
    if (!this.theta.frozen) for (let i = 0; i < this.theta.size; i++) this.theta.grad[i] += r.dParams[i];
    if (dinputs) for (let i = 0; i < r.dInputs.length; i++) dinputs[i] += r.dInputs[i];
    return r.dInputs;
  }
}
