// Quantum head scorers for the attention seam (head-scorer.ts).
// QSANN's Gaussian kernel (Li et al., arXiv 2205.05625): the query row q_t and the key row k_s each run through
// their own circuit (RY angle encoding of hd values, or of a learned hd → n map, then StronglyEntanglingLayers),
// read out as ⟨Z⟩ vectors e_q, e_k; score(t, s) = −‖e_q(q_t) − e_k(k_s)‖², so the softmax over s gives the
// normalised Gaussian kernel exp(−‖e_q − e_k‖²). Gradients to θ and to q, k come from the adjoint VJP.
// The learned-unitary kernel |⟨k̂|U(θ)|q̂⟩|² (UnitaryKernelScorer) reads the overlap from a SWAP test.
import type { SyncSimulator } from '../quantum/backend';
import { angleEncodedPqc, unitaryKernelCircuit } from '../quantum/qffn-circuits';
import type { HeadScorer } from './head-scorer';
import { ensure, Linear } from './layers';
import { QuantumModule } from './quantum-module';
import { Rng } from '../util/rng';
import { checkPositiveInt, Parameter, type Arr, type Dtype } from './tensor';

export interface GaussianScorerOptions {
  /** D: StronglyEntanglingLayers of each circuit. */
  depth: number;
  /** n qubits through a learned hd → n map; omitted: hd qubits, the rows angle-encoded as they are. */
  qubits?: number;
  dtype?: Dtype;
  seed?: number;
}

/** One side (queries or keys): optional map, circuit, and per-slot caches of its inputs and ⟨Z⟩ rows. */
class Side {
  readonly map: Linear | null; // hd → n
  readonly pqc: QuantumModule;
  enc: Arr[] = []; // per slot (rows, n): circuit inputs (the mapped rows)
  e: Arr[] = []; // per slot (rows, n): ⟨Z⟩
  de: Arr | null = null; // (rows, n)
  denc: Arr | null = null; // (rows, n)

  constructor(
    name: string,
    hd: number,
    n: number,
    project: boolean,
    depth: number,
    sim: SyncSimulator,
    dtype: Dtype,
    seed: number,
  ) {
    this.pqc = new QuantumModule(name, angleEncodedPqc(n, depth), sim, { dtype, seed });
    this.map = project ? new Linear(`${name}.proj`, hd, n, { dtype }) : null;
    if (this.map) new Rng(seed + 7).fillNormal(this.map.weight.data, 1 / Math.sqrt(hd));
  }

  parameters(): Parameter[] {
    return this.map ? [...this.map.parameters(), this.pqc.theta] : [this.pqc.theta];
  }

  /** The ⟨Z⟩ rows (rows, n) of x (rows, hd), kept in slot. */
  forward(x: Arr, rows: number, slot: number): Arr {
    const enc = this.map ? this.enc[slot] : x;
    if (this.map) this.map.forward(enc, x, rows);
    this.pqc.forward(this.e[slot], enc, rows);
    return this.e[slot];
  }

  /** Adds ∂L/∂x into dx from ∂L/∂e in this.de. */
  backward(dx: Arr, x: Arr, rows: number, slot: number): void {
    if (!this.map) {
      this.pqc.backward(dx, this.de!, x, rows);
      return;
    }
    const n = this.pqc.numInputs;
    this.denc!.fill(0, 0, rows * n);
    this.pqc.backward(this.denc!, this.de!, this.enc[slot], rows);
    this.map.backward(dx, this.denc!, x, rows);
  }

  prepare(slots: number, rows: number, dtype: Dtype): void {
    const n = this.pqc.numInputs;
    for (let i = 0; i < slots; i++) {
      this.e[i] = ensure(this.e[i] ?? null, dtype, rows * n);
      if (this.map) this.enc[i] = ensure(this.enc[i] ?? null, dtype, rows * n);
    }
    this.de = ensure(this.de, dtype, rows * n);
    this.denc = ensure(this.denc, dtype, rows * n);
  }
}

export class GaussianKernelScorer implements HeadScorer {
  readonly qubits: number;
  private readonly query: Side;
  private readonly key: Side;
  private readonly dtype: Dtype;

  constructor(
    /** Prefix of the parameter names, e.g. "model.layers.1.self_attn.heads.0". */
    readonly name: string,
    readonly headDim: number,
    sim: SyncSimulator,
    opts: GaussianScorerOptions,
  ) {
    checkPositiveInt(headDim, `${name}.headDim`);
    const depth = checkPositiveInt(opts.depth, `${name}.depth`);
    const n = (this.qubits = checkPositiveInt(opts.qubits ?? headDim, `${name}.qubits`));
    const project = opts.qubits !== undefined;
    this.dtype = opts.dtype ?? 'f32';
    const seed = opts.seed ?? 0;
    this.query = new Side(`${name}.query`, headDim, n, project, depth, sim, this.dtype, seed);
    this.key = new Side(`${name}.key`, headDim, n, project, depth, sim, this.dtype, seed + 1);
  }

  parameters(): Parameter[] {
    return [...this.query.parameters(), ...this.key.parameters()];
  }

  prepare(slots: number, rows: number): void {
    this.query.prepare(slots, rows, this.dtype);
    this.key.prepare(slots, rows, this.dtype);
  }

  forward(scores: Arr, q: Arr, k: Arr, n: number, S: number, slot: number): void {
    const m = this.qubits;
    const eq = this.query.forward(q, n, slot);
    const ek = this.key.forward(k, S, slot);
    for (let t = 0; t < n; t++) {
      const last = S - n + t;
      for (let s = 0; s <= last; s++) {
        let d2 = 0;
        for (let i = 0; i < m; i++) {
          const d = eq[t * m + i] - ek[s * m + i];
          d2 += d * d;
        }
        scores[t * S + s] = -d2;
      }
    }
  }

  backward(dq: Arr, dk: Arr, dscores: Arr, q: Arr, k: Arr, n: number, S: number, slot: number): void {
    const m = this.qubits;
    const eq = this.query.e[slot];
    const ek = this.key.e[slot];
    const deq = this.query.de!;
    const dek = this.key.de!;
    deq.fill(0, 0, n * m);
    dek.fill(0, 0, S * m);
    // ∂(−‖e_q − e_k‖²)/∂e_q = −2(e_q − e_k), and the opposite for e_k
    for (let t = 0; t < n; t++) {
      const last = S - n + t;
      for (let s = 0; s <= last; s++) {
        const g = dscores[t * S + s];
        if (g === 0) continue;
        for (let i = 0; i < m; i++) {
          const d = 2 * g * (eq[t * m + i] - ek[s * m + i]);
          deq[t * m + i] -= d;
          dek[s * m + i] += d;
        }
      }
    }
    this.query.backward(dq, q, n, slot);
    this.key.backward(dk, k, S, slot);
  }
}

/**
 * The learned-unitary kernel of QFFN's quantum head: κ(t, s) = |⟨k̂_s|U(θ)|q̂_t⟩|² with q̂, k̂ the amplitude-encoded
 * (L2-normalised) rows on m = ⌈log2 hd⌉ qubits each. The simulator's adjoint differentiates expectation values,
 * so κ is read as ⟨Z⟩ of the ancilla of a SWAP test (H, controlled SWAPs of the two registers, H), which equals
 * |⟨k̂|Uq̂⟩|² exactly; each causal pair (t, s) is one batch row with inputs [q_t, k_s]. score = β·κ with a learned
 * β (κ lies in [0, 1], too flat for the softmax on its own). Costs one (2m + 1)-qubit circuit per pair
 * (the circuit: core/quantum/qffn-circuits.ts).
 */
export class UnitaryKernelScorer implements HeadScorer {
  readonly pqc: QuantumModule;
  readonly beta: Parameter; // (1) score scale
  private readonly dtype: Dtype;
  private pairs: Arr[] = []; // per slot (pairs, 2·hd): [q_t, k_s] of every causal pair, t-major
  private kappa: Arr[] = []; // per slot (pairs)
  private dk: Arr | null = null; // (pairs) ∂L/∂κ
  private dpairs: Arr | null = null; // (pairs, 2·hd)

  constructor(
    readonly name: string,
    readonly headDim: number,
    sim: SyncSimulator,
    opts: { depth: number; dtype?: Dtype; seed?: number; beta?: number },
  ) {
    checkPositiveInt(headDim, `${name}.headDim`);
    const depth = checkPositiveInt(opts.depth, `${name}.depth`);
    this.dtype = opts.dtype ?? 'f32';
    this.pqc = new QuantumModule(name, unitaryKernelCircuit(headDim, depth), sim, {
      dtype: this.dtype,
      seed: opts.seed ?? 0,
    });
    this.beta = new Parameter(`${name}.beta`, [1], this.dtype);
    this.beta.data[0] = opts.beta ?? 1;
  }

  parameters(): Parameter[] {
    return [this.pqc.theta, this.beta];
  }

  prepare(slots: number, rows: number): void {
    const p = (rows * (rows + 1)) / 2; // causal pairs of a square block: the most any call needs
    const w = 2 * this.headDim;
    for (let i = 0; i < slots; i++) {
      this.pairs[i] = ensure(this.pairs[i] ?? null, this.dtype, p * w);
      this.kappa[i] = ensure(this.kappa[i] ?? null, this.dtype, p);
    }
    this.dk = ensure(this.dk, this.dtype, p);
    this.dpairs = ensure(this.dpairs, this.dtype, p * w);
  }

  forward(scores: Arr, q: Arr, k: Arr, n: number, S: number, slot: number): void {
    const hd = this.headDim;
    const pairs = this.pairs[slot];
    let r = 0;
    for (let t = 0; t < n; t++)
      for (let s = 0; s <= S - n + t; s++, r++) {
        const o = r * 2 * hd;
        for (let i = 0; i < hd; i++) {
          pairs[o + i] = q[t * hd + i];
          pairs[o + hd + i] = k[s * hd + i];
        }
      }
    const kappa = this.kappa[slot];
    this.pqc.forward(kappa, pairs, r);
    const beta = this.beta.data[0];
    r = 0;
    for (let t = 0; t < n; t++) for (let s = 0; s <= S - n + t; s++, r++) scores[t * S + s] = beta * kappa[r];
  }

  backward(dq: Arr, dk: Arr, dscores: Arr, q: Arr, k: Arr, n: number, S: number, slot: number): void {
    const hd = this.headDim;
    const kappa = this.kappa[slot];
    const dkap = this.dk!;
    const beta = this.beta.data[0];
    let dbeta = 0;
    let r = 0;
    for (let t = 0; t < n; t++)
      for (let s = 0; s <= S - n + t; s++, r++) {
        const g = dscores[t * S + s];
        dbeta += g * kappa[r];
        dkap[r] = g * beta;
      }
    if (!this.beta.frozen) this.beta.grad[0] += dbeta;
    const dpairs = this.dpairs!;
    dpairs.fill(0, 0, r * 2 * hd);
    this.pqc.backward(dpairs, dkap.subarray(0, r), this.pairs[slot], r);
    r = 0;
    for (let t = 0; t < n; t++)
      for (let s = 0; s <= S - n + t; s++, r++) {
        const o = r * 2 * hd;
        for (let i = 0; i < hd; i++) {
          dq[t * hd + i] += dpairs[o + i];
          dk[s * hd + i] += dpairs[o + hd + i];
        }
      }
  }
}
