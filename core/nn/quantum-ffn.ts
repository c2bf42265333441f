// The quantum feed-forward of QFFN (docs/nn.md, "Quantum modules inside the model"), in the two forms METHODS.md
// names, each a FeedForward (ffn.ts) that a block takes through Transformer.replaceFeedForward:
//   amplitude:  y_j = s_j·‖x‖·p_j(x̂) + b_j, j < d, with p_j = |⟨j|U(θ)|x̂⟩|² on n = ⌈log2 d⌉ qubits
//   bottleneck: y = W_out·⟨Z⟩(U(θ)·RY(W_in·x + b_in)) + b_out, through n qubits (QFFN-BERT)
// The adjoint method differentiates expectation values, so the probabilities are read as the 2^n − 1 Z-string
// expectations z_m = ⟨Z^m⟩ and turned into p = H·z / 2^n (H the Walsh–Hadamard matrix, z_0 = 1): exact
// gradients to θ and to x (through the amplitude encoding) for O(4^n) work per row, fine for n ≤ 8.
import type { SyncSimulator } from '../quantum/backend';
import { amplitudeFfnCircuit, amplitudeQubits, angleEncodedPqc } from '../quantum/qffn-circuits';
import type { FeedForward } from './ffn';
import { ensure, Linear, type LinearLike } from './layers';
import { QuantumModule } from './quantum-module';
import { Rng } from '../util/rng';
import { checkPositiveInt, NnError, Parameter, type Arr, type Dtype } from './tensor';

export interface QuantumFfnOptions {
  form: 'amplitude' | 'bottleneck';
  /** D: StronglyEntanglingLayers of the variational circuit U(θ). */
  depth: number;
  /** Bottleneck width n (qubits); the amplitude form always uses ⌈log2 d⌉. */
  qubits?: number;
  dtype?: Dtype;
  seed?: number;
  /** Output std at init for inputs of RMS 1 (default 0.02, as the model's own init). */
  initStd?: number;
}

/** In-place Walsh–Hadamard transform of a[0 … 2^n): a ← H·a with H_jm = (−1)^|j & m| (symmetric, H² = 2^n·I). */
function walshHadamard(a: Float64Array, dim: number): void {
  for (let len = 1; len < dim; len <<= 1)
    for (let i = 0; i < dim; i += len << 1)
      for (let j = i; j < i + len; j++) {
        const u = a[j];
        const v = a[j + len];
        a[j] = u + v;
        a[j + len] = u - v;
      }
}

export class QuantumFfn implements FeedForward {
  readonly form: 'amplitude' | 'bottleneck';
  readonly circuit: QuantumModule;
  readonly scale: Parameter | null; // (d) amplitude form: s
  readonly bias: Parameter | null; // (d) amplitude form: b
  readonly inProj: LinearLike | null; // d → n, bottleneck form
  readonly outProj: LinearLike | null; // n → d, bottleneck form
  private readonly dim: number; // 2^n
  private readonly dtype: Dtype;
  private p: Float64Array = new Float64Array(0); // (N, d) probabilities (amplitude form)
  private z: Arr | null = null; // (N, 2^n − 1) Z strings, or (N, n) ⟨Z⟩ in the bottleneck
  private enc: Arr | null = null; // (N, n) circuit inputs of the bottleneck
  private dz: Arr | null = null; // like z
  private denc: Arr | null = null; // like enc
  private readonly w: Float64Array; // (2^n) Walsh–Hadamard scratch

  constructor(
    /** Prefix of the parameter names, e.g. "model.layers.0.mlp". */
    readonly name: string,
    readonly hiddenSize: number,
    sim: SyncSimulator,
    opts: QuantumFfnOptions,
  ) {
    const d = checkPositiveInt(hiddenSize, `${name}.hiddenSize`);
    const depth = checkPositiveInt(opts.depth, `${name}.depth`);
    if (opts.form !== 'amplitude' && opts.form !== 'bottleneck')
      throw new NnError(
        `must be "amplitude" or "bottleneck", got ${JSON.stringify(opts.form)}`,
        `${name}.form`,
      );
    this.form = opts.form;
    const dtype = (this.dtype = opts.dtype ?? 'f32');
    const seed = opts.seed ?? 0;
    const rng = new Rng(seed + 1);
    const std = opts.initStd ?? 0.02;
    if (this.form === 'amplitude') {
      if (d < 2) throw new NnError('the amplitude form needs d ≥ 2', `${name}.hiddenSize`);
      const c = amplitudeFfnCircuit(d, depth);
      this.dim = 1 << c.qubits;
      this.circuit = new QuantumModule(`${name}.quantum`, c, sim, { dtype, seed });
      this.scale = new Parameter(`${name}.scale`, [d], dtype);
      this.bias = new Parameter(`${name}.bias`, [d], dtype);
      // p_j averages 1/2^n and ‖x‖ ≈ √d, so s_j ~ N(0, (std·2^n/√d)²) gives outputs of about std
      rng.fillNormal(this.scale.data, (std * this.dim) / Math.sqrt(d));
      this.inProj = this.outProj = null;
    } else {
      const n = checkPositiveInt(opts.qubits ?? amplitudeQubits(d), `${name}.qubits`);
      this.dim = 1 << n;
      this.circuit = new QuantumModule(`${name}.quantum`, angleEncodedPqc(n, depth), sim, { dtype, seed });
      const inProj = new Linear(`${name}.in_proj`, d, n, { bias: true, dtype });
      const outProj = new Linear(`${name}.out_proj`, n, d, { bias: true, dtype });
      rng.fillNormal(inProj.weight.data, 1 / Math.sqrt(d)); // angles of order 1 for inputs of RMS 1
      rng.fillNormal(outProj.weight.data, std);
      this.inProj = inProj;
      this.outProj = outProj;
      this.scale = this.bias = null;
    }
    this.w = new Float64Array(this.dim);
  }

  /** Qubits of the circuit. */
  get qubits(): number {
    return this.circuit.circuit.qubits;
  }

  parameters(): Parameter[] {
    const ps = this.circuit.parameters();
    if (this.scale && this.bias) ps.push(this.scale, this.bias);
    if (this.inProj && this.outProj) ps.push(...this.inProj.parameters(), ...this.outProj.parameters());
    return ps;
  }

  prepare(N: number): void {
    const z = N * this.circuit.numOutputs;
    this.z = ensure(this.z, this.dtype, z);
    this.dz = ensure(this.dz, this.dtype, z);
    if (this.form === 'amplitude') {
      if (this.p.length < N * this.hiddenSize) this.p = new Float64Array(N * this.hiddenSize);
    } else {
      this.enc = ensure(this.enc, this.dtype, N * this.qubits);
      this.denc = ensure(this.denc, this.dtype, N * this.qubits);
    }
  }

  forward(out: Arr, inp: Arr, N: number): void {
    if (this.form === 'bottleneck') {
      this.inProj!.forward(this.enc!, inp, N);
      this.circuit.forward(this.z!, this.enc!, N);
      this.outProj!.forward(out, this.z!, N);
      return;
    }
    const d = this.hiddenSize;
    const dim = this.dim;
    const nz = dim - 1;
    const z = this.z!;
    const w = this.w;
    const s = this.scale!.data;
    const b = this.bias!.data;
    this.circuit.forward(z, inp, N);
    const norms = this.circuit.norms;
    for (let r = 0; r < N; r++) {
      // p = H·[1, z] / 2^n, the probabilities of the basis states
      w[0] = 1;
      for (let m = 1; m < dim; m++) w[m] = z[r * nz + m - 1];
      walshHadamard(w, dim);
      const norm = norms[r];
      for (let j = 0; j < d; j++) {
        const pj = w[j] / dim;
        this.p[r * d + j] = pj;
        out[r * d + j] = s[j] * norm * pj + b[j];
      }
    }
  }

  backward(dinp: Arr, dout: Arr, inp: Arr, N: number): void {
    if (this.form === 'bottleneck') {
      const dz = this.dz!;
      const denc = this.denc!;
      dz.fill(0, 0, N * this.qubits);
      this.outProj!.backward(dz, dout, this.z!, N);
      denc.fill(0, 0, N * this.qubits);
      this.circuit.backward(denc, dz, this.enc!, N);
      this.inProj!.backward(dinp, denc, inp, N);
      return;
    }
    const d = this.hiddenSize;
    const dim = this.dim;
    const nz = dim - 1;
    const dz = this.dz!;
    const w = this.w;
    const sc = this.scale!;
    const bi = this.bias!;
    const norms = this.circuit.norms;
    for (let r = 0; r < N; r++) {
      const norm = norms[r];
      let dnorm = 0;
      // ∂L/∂p_j = dy_j·s_j·‖x‖, then ∂L/∂z = H·∂L/∂p / 2^n (H is symmetric)
      w.fill(0);
      for (let j = 0; j < d; j++) {
        const g = dout[r * d + j];
        const pj = this.p[r * d + j];
        if (!sc.frozen) sc.grad[j] += g * norm * pj;
        if (!bi.frozen) bi.grad[j] += g;
        dnorm += g * sc.data[j] * pj;
        w[j] = (g * sc.data[j] * norm) / dim;
      }
      walshHadamard(w, dim);
      for (let m = 1; m < dim; m++) dz[r * nz + m - 1] = w[m];
      // through ‖x‖: ∂‖x‖/∂x = x/‖x‖ (the circuit's own input gradient covers x̂ = x/‖x‖)
      for (let j = 0; j < d; j++) dinp[r * d + j] += (dnorm * inp[r * d + j]) / norm;
    }
    this.circuit.backward(dinp, dz, inp, N);
  }

  namedLinears(): [string, LinearLike][] {
    return [];
  }

  replaceLinear(name: string): void {
    throw new NnError('a quantum feed-forward has no replaceable linear maps', name);
  }
}

/** Parameters of a QuantumFfn of width d, depth D and (bottleneck) n qubits. */
export function quantumFfnParamCount(
  form: 'amplitude' | 'bottleneck',
  d: number,
  depth: number,
  qubits = amplitudeQubits(d),
): number {
  if (form === 'amplitude') return 3 * amplitudeQubits(d) * depth + 2 * d;
  return 3 * qubits * depth + (d + 1) * qubits + (qubits + 1) * d;
}
