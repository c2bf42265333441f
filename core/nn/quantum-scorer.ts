// Quantum head scorers for the attention seam (head-scorer.ts).
// QSANN's Gaussian kernel (Li et al., arXiv 2205.05625): the query row q_t and the key row k_s each run through
// their own circuit (RY angle encoding of hd values, or of a learned hd → n map, then StronglyEntanglingLayers),
// read out as ⟨Z⟩ vectors e_q, e_k; score(t, s) = −‖e_q(q_t) − e_k(k_s)‖², so the softmax over s gives the
// normalised Gaussian kernel exp(−‖e_q − e_k‖²). Gradients to θ and to q, k come from the adjoint VJP.
// The learned-unitary kernel |⟨k̂|U(θ)|q̂⟩|² (UnitaryKernelScorer) reads the overlap from a SWAP test.
import type { SyncSimulator } from '../quantum/backend';
import { angleEncodedPqc, unitaryKernelCircuit } from '../quantum/qffn-circuits';
import type { HeadScorer, HeadScorerBatch, SlotStrides } from './head-scorer';
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
  /** false: every sequence's circuits run in their own simulator calls (the per-slot reference). Default true. */
  batch?: boolean;
}

/** One side (queries or keys): optional map, circuit, and caches of its inputs and ⟨Z⟩ rows, per slot and batched. */
class Side {
  readonly map: Linear | null; // hd → n
  readonly pqc: QuantumModule;
  enc: Arr[] = []; // per slot (rows, n): circuit inputs (the mapped rows)
  e: Arr[] = []; // per slot (rows, n): ⟨Z⟩
  de: Arr | null = null; // (slots·rows, n)
  denc: Arr | null = null; // (slots·rows, n)
  // the batched path's rows of every slot, slot-major
  bx: Arr | null = null; // (slots·rows, hd) inputs
  benc: Arr | null = null; // (slots·rows, n)
  be: Arr | null = null; // (slots·rows, n)
  bdx: Arr | null = null; // (slots·rows, hd)

  constructor(
    name: string,
    readonly hd: number,
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

  /** e (rows, n) ← the ⟨Z⟩ rows of x (rows, hd), through enc (rows, n) when mapped: one simulator call. */
  rows(e: Arr, enc: Arr | undefined, x: Arr, rows: number): void {
    if (this.map) this.map.forward(enc!, x, rows);
    this.pqc.forward(e, this.map ? enc! : x, rows);
  }

  /** Adds ∂L/∂x into dx (rows, hd) from ∂L/∂e in de, for the rows forward kept in enc. */
  rowsBackward(dx: Arr, de: Arr, x: Arr, enc: Arr | undefined, rows: number): void {
    if (!this.map) {
      this.pqc.backward(dx, de, x, rows);
      return;
    }
    const n = this.pqc.numInputs;
    this.denc!.fill(0, 0, rows * n);
    this.pqc.backward(this.denc!, de, enc!, rows);
    this.map.backward(dx, this.denc!, x, rows);
  }

  /** The ⟨Z⟩ rows (rows, n) of x (rows, hd), kept in slot. */
  forward(x: Arr, rows: number, slot: number): Arr {
    this.rows(this.e[slot], this.enc[slot], x, rows);
    return this.e[slot];
  }

  /** Adds ∂L/∂x into dx from ∂L/∂e in this.de. */
  backward(dx: Arr, x: Arr, rows: number, slot: number): void {
    this.rowsBackward(dx, this.de!, x, this.enc[slot], rows);
  }

  /** The ⟨Z⟩ rows of slots 0 … B−1 (T rows each, slot b's at x[b·stride …]) in one call, into be. */
  forwardBatch(x: Arr, B: number, T: number, stride: number): Arr {
    const w = T * this.hd;
    for (let b = 0; b < B; b++) this.bx!.set(x.subarray(b * stride, b * stride + w), b * w);
    this.rows(this.be!, this.benc ?? undefined, this.bx!, B * T);
    return this.be!;
  }

  /** Adds ∂L/∂x of every slot into dx (laid out as forwardBatch's x) from ∂L/∂e (B·T, n) in this.de. */
  backwardBatch(dx: Arr, B: number, T: number, stride: number): void {
    const w = T * this.hd;
    const bdx = this.bdx!;
    bdx.fill(0, 0, B * w);
    this.rowsBackward(bdx, this.de!, this.bx!, this.benc ?? undefined, B * T);
    for (let b = 0; b < B; b++) for (let i = 0; i < w; i++) dx[b * stride + i] += bdx[b * w + i];
  }

  prepare(slots: number, rows: number, dtype: Dtype): void {
    const [n, hd] = [this.pqc.numInputs, this.hd];
    for (let i = 0; i < slots; i++) {
      this.e[i] = ensure(this.e[i] ?? null, dtype, rows * n);
      if (this.map) this.enc[i] = ensure(this.enc[i] ?? null, dtype, rows * n);
    }
    const all = slots * rows;
    this.de = ensure(this.de, dtype, all * n);
    this.denc = ensure(this.denc, dtype, all * n);
    this.bx = ensure(this.bx, dtype, all * hd);
    this.bdx = ensure(this.bdx, dtype, all * hd);
    this.be = ensure(this.be, dtype, all * n);
    if (this.map) this.benc = ensure(this.benc, dtype, all * n);
  }
}

/** scores (n, S) = −‖e_q(t) − e_k(s)‖² for every causal pair, from the ⟨Z⟩ rows eq (n, m) and ek (S, m). */
function gaussianScores(scores: Arr, eq: Arr, ek: Arr, n: number, S: number, m: number): void {
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

/** Adds ∂L/∂e_q into deq (n, m) and ∂L/∂e_k into dek (S, m) from dscores (n, S). */
function gaussianScoresBackward(
  deq: Arr,
  dek: Arr,
  dscores: Arr,
  eq: Arr,
  ek: Arr,
  n: number,
  S: number,
  m: number,
): void {
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
}

export class GaussianKernelScorer implements HeadScorer {
  readonly qubits: number;
  /** Every sequence's query (and key) rows through one simulator call per side (null: per slot). */
  readonly batch: HeadScorerBatch | null;
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
    this.batch =
      opts.batch === false
        ? null
        : {
            forward: (sc, q, k, B, T, st) => this.forwardBatch(sc, q, k, B, T, st),
            backward: (dq, dk, ds, _q, _k, B, T, st) => this.backwardBatch(dq, dk, ds, B, T, st),
          };
  }

  parameters(): Parameter[] {
    return [...this.query.parameters(), ...this.key.parameters()];
  }

  prepare(slots: number, rows: number): void {
    this.query.prepare(slots, rows, this.dtype);
    this.key.prepare(slots, rows, this.dtype);
  }

  forward(scores: Arr, q: Arr, k: Arr, n: number, S: number, slot: number): void {
    const eq = this.query.forward(q, n, slot);
    const ek = this.key.forward(k, S, slot);
    gaussianScores(scores, eq, ek, n, S, this.qubits);
  }

  backward(dq: Arr, dk: Arr, dscores: Arr, q: Arr, k: Arr, n: number, S: number, slot: number): void {
    const m = this.qubits;
    this.query.de!.fill(0, 0, n * m);
    this.key.de!.fill(0, 0, S * m);
    gaussianScoresBackward(
      this.query.de!,
      this.key.de!,
      dscores,
      this.query.e[slot],
      this.key.e[slot],
      n,
      S,
      m,
    );
    this.query.backward(dq, q, n, slot);
    this.key.backward(dk, k, S, slot);
  }

  private forwardBatch(scores: Arr, q: Arr, k: Arr, B: number, T: number, st: SlotStrides): void {
    const m = this.qubits;
    const eq = this.query.forwardBatch(q, B, T, st.q);
    const ek = this.key.forwardBatch(k, B, T, st.k);
    for (let b = 0; b < B; b++)
      gaussianScores(scores.subarray(b * st.scores), eq.subarray(b * T * m), ek.subarray(b * T * m), T, T, m);
  }

  private backwardBatch(dq: Arr, dk: Arr, dscores: Arr, B: number, T: number, st: SlotStrides): void {
    const m = this.qubits;
    const [deq, dek] = [this.query.de!, this.key.de!];
    deq.fill(0, 0, B * T * m);
    dek.fill(0, 0, B * T * m);
    const [eq, ek] = [this.query.be!, this.key.be!];
    for (let b = 0; b < B; b++) {
      const o = b * T * m;
      gaussianScoresBackward(
        deq.subarray(o),
        dek.subarray(o),
        dscores.subarray(b * st.scores),
        eq.subarray(o),
        ek.subarray(o),
        T,
        T,
        m,
      );
    }
    this.query.backwardBatch(dq, B, T, st.q);
    this.key.backwardBatch(dk, B, T, st.k);
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
  /** Every sequence's causal pairs through one simulator call (null: one call per sequence). */
  readonly batch: HeadScorerBatch | null;
  private readonly dtype: Dtype;
  private all: Arr | null = null; // (slots·pairs, 2·hd): [q_t, k_s] of every causal pair, slot-major, t-major
  private allKappa: Arr | null = null; // (slots·pairs)
  private pairs: Arr[] = []; // per slot, a view of all
  private kappa: Arr[] = []; // per slot, a view of allKappa
  private dk: Arr | null = null; // (slots·pairs) ∂L/∂κ
  private dpairs: Arr | null = null; // (slots·pairs, 2·hd)
  private perSlot = 0; // pairs of a square block of the prepared rows

  constructor(
    readonly name: string,
    readonly headDim: number,
    sim: SyncSimulator,
    opts: { depth: number; dtype?: Dtype; seed?: number; beta?: number; batch?: boolean },
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
    this.batch =
      opts.batch === false
        ? null
        : {
            forward: (sc, q, k, B, T, st) => this.forwardBatch(sc, q, k, B, T, st),
            backward: (dq, dk, ds, _q, _k, B, T, st) => this.backwardBatch(dq, dk, ds, B, T, st),
          };
  }

  parameters(): Parameter[] {
    return [this.pqc.theta, this.beta];
  }

  prepare(slots: number, rows: number): void {
    const p = (this.perSlot = (rows * (rows + 1)) / 2); // causal pairs of a square block: the most any call needs
    const w = 2 * this.headDim;
    this.all = ensure(this.all, this.dtype, slots * p * w);
    this.allKappa = ensure(this.allKappa, this.dtype, slots * p);
    for (let i = 0; i < slots; i++) {
      this.pairs[i] = this.all.subarray(i * p * w, (i + 1) * p * w);
      this.kappa[i] = this.allKappa.subarray(i * p, (i + 1) * p);
    }
    this.dk = ensure(this.dk, this.dtype, slots * p);
    this.dpairs = ensure(this.dpairs, this.dtype, slots * p * w);
  }

  forward(scores: Arr, q: Arr, k: Arr, n: number, S: number, slot: number): void {
    const r = this.fillPairs(this.pairs[slot], q, k, n, S);
    this.pqc.forward(this.kappa[slot], this.pairs[slot], r);
    this.writeScores(scores, this.kappa[slot], n, S);
  }

  backward(dq: Arr, dk: Arr, dscores: Arr, q: Arr, k: Arr, n: number, S: number, slot: number): void {
    const dkap = this.dk!;
    const r = this.takeDscores(dkap, dscores, this.kappa[slot], n, S);
    const dpairs = this.dpairs!;
    dpairs.fill(0, 0, r * 2 * this.headDim);
    this.pqc.backward(dpairs, dkap.subarray(0, r), this.pairs[slot], r);
    this.scatter(dq, dk, dpairs, n, S);
  }

  private forwardBatch(scores: Arr, q: Arr, k: Arr, B: number, T: number, st: SlotStrides): void {
    const p = this.perSlot;
    for (let b = 0; b < B; b++)
      this.fillPairs(this.pairs[b], q.subarray(b * st.q), k.subarray(b * st.k), T, T);
    this.pqc.forward(this.allKappa!, this.all!, B * p);
    for (let b = 0; b < B; b++) this.writeScores(scores.subarray(b * st.scores), this.kappa[b], T, T);
  }

  private backwardBatch(dq: Arr, dk: Arr, dscores: Arr, B: number, T: number, st: SlotStrides): void {
    const p = this.perSlot;
    const w = 2 * this.headDim;
    const dkap = this.dk!;
    for (let b = 0; b < B; b++)
      this.takeDscores(dkap.subarray(b * p), dscores.subarray(b * st.scores), this.kappa[b], T, T);
    const dpairs = this.dpairs!;
    dpairs.fill(0, 0, B * p * w);
    this.pqc.backward(dpairs, dkap.subarray(0, B * p), this.all!, B * p);
    for (let b = 0; b < B; b++)
      this.scatter(dq.subarray(b * st.q), dk.subarray(b * st.k), dpairs.subarray(b * p * w), T, T);
  }

  /** pairs (pairs, 2·hd) ← [q_t, k_s] of every causal pair, t-major; returns the number of pairs. */
  private fillPairs(pairs: Arr, q: Arr, k: Arr, n: number, S: number): number {
    const hd = this.headDim;
    let r = 0;
    for (let t = 0; t < n; t++)
      for (let s = 0; s <= S - n + t; s++, r++) {
        const o = r * 2 * hd;
        for (let i = 0; i < hd; i++) {
          pairs[o + i] = q[t * hd + i];
          pairs[o + hd + i] = k[s * hd + i];
        }
      }
    return r;
  }

  private writeScores(scores: Arr, kappa: Arr, n: number, S: number): void {
    const beta = this.beta.data[0];
    let r = 0;
    for (let t = 0; t < n; t++) for (let s = 0; s <= S - n + t; s++, r++) scores[t * S + s] = beta * kappa[r];
  }

  /** dkap ← ∂L/∂κ of every pair, β's gradient added; returns the number of pairs. */
  private takeDscores(dkap: Arr, dscores: Arr, kappa: Arr, n: number, S: number): number {
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
    return r;
  }

  /** Adds each pair's ∂L/∂[q_t, k_s] (dpairs) into dq (n, hd) and dk (S, hd). */
  private scatter(dq: Arr, dk: Arr, dpairs: Arr, n: number, S: number): void {
    const hd = this.headDim;
    let r = 0;
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
