// Quantum head scorers for the attention seam (head-scorer.ts).
// QSANN's Gaussian kernel (Li et al., arXiv 2205.05625): the query row q_t and the key row k_s each run through
// their own circuit (RY angle encoding of hd values, or of a learned hd → n map, then StronglyEntanglingLayers),
// read out as ⟨Z⟩ vectors e_q, e_k; score(t, s) = −‖e_q(q_t) − e_k(k_s)‖², so the softmax over s gives the
// normalised Gaussian kernel exp(−‖e_q − e_k‖²). Gradients to θ and to q, k come from the adjoint VJP.
import type { SyncSimulator } from '../quantum/backend';
import type { HeadScorer } from './head-scorer';
import { ensure, Linear } from './layers';
import { angleEncodedPqc, QuantumModule } from './quantum-module';
import { Rng } from '../util/rng';
import { checkPositiveInt, type Arr, type Dtype, type Parameter } from './tensor';

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
