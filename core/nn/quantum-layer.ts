// The bridge to core/quantum for code that awaits: a batched variational circuit as a layer. Forward is the
// simulator's expectation values over the batch; backward its adjoint vector-Jacobian product, which adds ∂L/∂θ into
// θ.grad and returns ∂L/∂inputs, so quantum and classical parameters train in one backward pass. It is the layer of
// quantum-module.ts (θ, init, checks and accumulation are CircuitParameters'): a simulator that answers synchronously
// (the cpu backend) runs the same synchronous calls as QuantumModule inside the model, after its prepareSync(); an
// async-only one (gpu, noisy, shots, a recording wrapper) is awaited.
import { isSyncSimulator, type Simulator, type SyncSimulator } from '../quantum/backend';
import type { Circuit } from '../quantum/circuit';
import { CircuitParameters, type QuantumModuleOptions } from './quantum-module';
import type { Arr, Module } from './tensor';

export class QuantumLayer extends CircuitParameters implements Module {
  private inputs: Float64Array = new Float64Array(0); // (B, numInputs) of the last forward
  private batch = 0;
  private readonly sync: SyncSimulator | null;
  private prepared: Promise<void> | null = null;

  constructor(
    name: string,
    circuit: Circuit,
    readonly sim: Simulator,
    opts: QuantumModuleOptions = {},
  ) {
    super(name, circuit, opts);
    this.sync = isSyncSimulator(sim) ? sim : null;
  }

  /** (B, numInputs) → (B, numOutputs) expectation values. */
  async forward(inputs: ArrayLike<number>, B: number): Promise<Float64Array> {
    this.checkLength(inputs, B * this.numInputs, 'B·numInputs', 'inputs', true);
    this.inputs = Float64Array.from(inputs);
    this.batch = B;
    const req = this.request(this.inputs, B, 'forward');
    const out = new Float64Array(B * this.numOutputs);
    this.takeExpvals(out, (await this.syncReady()) ? this.sync!.expvalSync(req) : await this.sim.expval(req));
    return out;
  }

  /**
   * Adds ∂L/∂θ into theta.grad (unless frozen); adds ∂L/∂inputs into dinputs when given and also returns it (the
   * layer's own array, rewritten by its next backward).
   */
  async backward(dout: ArrayLike<number>, dinputs?: Arr): Promise<Float64Array> {
    this.checkLength(dout, this.batch * this.numOutputs, 'B·numOutputs', 'dout', true);
    const req = this.request(this.inputs, this.batch, 'backward');
    const r = (await this.syncReady()) ? this.sync!.vjpSync(req, dout) : await this.sim.vjp(req, dout);
    this.takeVjp(dinputs ?? null, r, this.batch);
    return r.dInputs;
  }

  /** Whether the synchronous path answers, once its threads (if any) have started. */
  private async syncReady(): Promise<boolean> {
    if (!this.sync) return false;
    await (this.prepared ??= this.sync.prepareSync?.() ?? Promise.resolve());
    return true;
  }
}
