// Row-by-row execution of a compiled program: one 2^n state (and, for gradients, one adjoint vector)
// lives in scratch that stays in cache while the whole circuit runs over it. The backward pass is the
// adjoint method (Jones & Gacon 2020): walk the schedule in reverse, un-apply each step to ψ and λ,
// and read each angle's derivative as 2·Im⟨λ|G|ψ⟩ from its generator G.
import type { Precision } from '../backend';
import { pauliInner, signedSum, type Amps } from './kernels';
import {
  K_FIXED1,
  K_ROT2,
  K_SWAP,
  K_X,
  SRC_CONST,
  SRC_PARAM,
  type AmpStep,
  type BlockStep,
  type DiagStep,
  type Prim,
  type Program,
} from './program';
import { backwardRow } from './adjoint';
import { bindMatrices, bindShift, buildBlock, buildDiag, dag2, primMatrix, rot2Matrix } from './bind';
import { makeRows, type Rows } from './rows';

/** Rows per gradient chunk: ∂L/∂θ is summed per chunk, then chunks in order, so any thread split gives identical sums. */
export const GRAD_CHUNK = 32;

/**
 * Smallest state (amplitudes) whose rows (f32 or f64) live in WebAssembly memory and take the SIMD kernels: from
 * 4 amplitudes (n = 2) whole rows ran faster than the JS kernels, f32 and f64, forward and adjoint (measured in
 * docs/simulator-performance.md); the f32 kernels need 4 (two amplitudes per vector, four in the adjoint's diagonal step).
 */
export const WASM_MIN_DIM = 1 << 2;

/** Largest forward tape in floats (32 MiB at f32): beyond it the backward pass un-applies steps to ψ. */
export const TAPE_FLOATS = 1 << 23;

/**
 * Smallest f64 tape (bytes, ψ after every step) for which a Runner uses tape runs by default: QD-LLM n = 11, L = 11
 * (8.6 MB) gains with them, QFFN n = 10, D = 8 (1.5 MB, which stays in cache) loses ~2.5 % (CPU A/B in one process).
 */
export const TAPE_RUNS_MIN_BYTES = 4 << 20;

export function newAmps(precision: Precision, length: number): Amps {
  return precision === 'f64' ? new Float64Array(length) : new Float32Array(length);
}

export class Runner {
  readonly dim: number;
  /** Where ψ, λ, the scratch row and the tape live, and the kernels that run on them (wasm or JS). */
  rows: Rows;
  /** Per-primitive 2×2 at the current angles, (numPrims, 8). */
  readonly pm: Float64Array;
  /** Per-step fused block matrix, (numSteps, 8). */
  readonly bm: Float64Array;
  readonly t8 = new Float64Array(8);
  readonly u8 = new Float64Array(8);
  readonly rho = new Float64Array(16);
  readonly m4 = new Float64Array(32);
  /** Per amplitude step: normalised features a_j and ∂L/∂a_j. */
  readonly ampA: Float64Array[];
  readonly ampG: Float64Array[];
  /** Per diagonal-run step: its diagonal (2^n, 2), in f64. */
  readonly dt: Float64Array[];
  /** Scratch real vector (2^n): |ψ_i|², Im(conj(λ_i)ψ_i) or observable weights. */
  readonly w: Float64Array;
  /** Per-bit weights of single-wire Z observables (adjoint seed). */
  readonly bitW = new Float64Array(32);
  /** Whether forwardRow records into the tape (on from enableTape until pauseTape). */
  recording = false;
  taped = -1;
  params: ArrayLike<number> = [];
  inputs: ArrayLike<number> = [];
  /** Per diag step: how many of its primitives have a gradient. */
  readonly diffCount: Int32Array;
  /**
   * Per step: 1 where the taped forward pass leaves ψ after the step in the scratch row instead of the tape: after a
   * permutation (the taped backward pass never reads it), unless the step before went there too or it is the last.
   */
  readonly untaped: Uint8Array;
  /**
   * Tape runs: per step, for a block inside a run of ≥ 2 consecutive blocks on distinct wires, the step that ends
   * its run (−1 for other steps). A taped forward pass records ψ only after a run's last block (the others run in
   * place in ψ), and the backward pass reads every block's cross density of the run from (ψ, λ) at the run's end: a
   * block on another wire leaves a one-wire cross density unchanged (its unitary cancels in the partial trace), so ρ
   * of block j equals Tr over the other wires of ψ_end λ_end†. The run's other blocks then step λ back without
   * reading ψ. A layer of one-qubit blocks tapes one row instead of one per wire (QD-LLM n = 11: 24 → 3 rows a layer).
   */
  readonly runEnd: Int32Array;
  /**
   * Whether taped passes use tape runs: by default for f64 tapes over TAPE_RUNS_MIN_BYTES. They trade compute for
   * memory traffic — a run's inner block takes two passes (adjs for its cross density, then λ ← U†λ) where the
   * taped step took one (adj) — so they pay where the tape does not stay in cache (docs/simulator-performance.md).
   */
  readonly tapeRuns: boolean;
  /** Per step: the four reals of a run block's cross density (a00, a11, dr, di), read at its run's end. */
  readonly runSums: Float64Array;

  constructor(
    readonly prog: Program,
    precision: Precision,
    useWasm = true,
    tapeRuns?: boolean,
  ) {
    this.dim = prog.dim;
    this.pm = new Float64Array(8 * prog.prims.length);
    this.bm = new Float64Array(8 * prog.steps.length);
    this.dt = prog.steps.map((s) => new Float64Array(s.type === 'diag' ? 2 * prog.dim : 0));
    this.diffCount = Int32Array.from(prog.steps, (st) =>
      st.type === 'diag' ? st.prims.filter((i) => prog.prims[i].src !== SRC_CONST).length : 0,
    );
    this.stepOf = new Int32Array(prog.prims.length).fill(-1);
    prog.steps.forEach((st, k) => {
      if (st.type === 'block' || st.type === 'diag') for (const i of st.prims) this.stepOf[i] = k;
    });
    this.rows = makeRows({ prog, dt: this.dt, precision }, useWasm, WASM_MIN_DIM);
    this.untaped = new Uint8Array(prog.steps.length);
    this.runEnd = tapeRunEnds(prog);
    this.tapeRuns =
      tapeRuns ?? (precision === 'f64' && 16 * prog.dim * prog.steps.length > TAPE_RUNS_MIN_BYTES);
    this.runSums = new Float64Array(4 * prog.steps.length);
    this.wholeAmp = Uint8Array.from(prog.steps, (st) =>
      st.type === 'amp' && st.mask === prog.dim - 1 && st.offsets.every((o, j) => o === j) ? 1 : 0,
    );
    this.w = new Float64Array(prog.dim);
    this.ampA = prog.steps.map((s) => new Float64Array(s.type === 'amp' ? s.offsets.length : 0));
    this.ampG = prog.steps.map((s) => new Float64Array(s.type === 'amp' ? s.offsets.length : 0));
    this.ampRow = new Int32Array(prog.steps.length).fill(-1);
    this.ampNorm = new Float64Array(prog.steps.length);
    this.blockAt = new Int32Array(prog.steps.length);
    let at = 0;
    prog.steps.forEach((st, k) => {
      this.blockAt[k] = at;
      if (st.type === 'block' && !st.perRow && st.diff) at += 4 * st.prims.length;
    });
    this.blockCoef = new Float64Array(at);
    this.blockStale = new Uint8Array(prog.steps.length).fill(1);
  }

  /** Per step: 1 for an amplitude encoding on the whole register in index order (its backward step on SIMD). */
  readonly wholeAmp: Uint8Array;
  readonly sums4 = new Float64Array(4);

  /** The shifted angle of a shifted batch's current row: op −1 for none (bindShift in bind.ts sets them). */
  shiftOp = -1;
  shiftArg = -1;
  shiftDelta = 0;
  /** Per primitive: the block or diagonal step that holds it, −1 for none. */
  readonly stepOf: Int32Array;
  /**
   * Per row-independent block: each primitive's ∂ as a linear form in the block's cross density (adjoint.ts's
   * blockGradients), 4 coefficients per primitive from blockAt[k]; blockStale[k] = 1 while bm[k] has changed since.
   */
  readonly blockCoef: Float64Array;
  readonly blockAt: Int32Array;
  readonly blockStale: Uint8Array;
  /**
   * Per amplitude step: the row whose ‖x‖ ampNorm[k] holds — and, except for a whole-register encoding on SIMD rows
   * (which reads x itself), whose normalised features ampA[k] hold (−1: none; bind clears it), so the backward step of
   * the row just run forward reuses them.
   */
  readonly ampRow: Int32Array;
  readonly ampNorm: Float64Array;

  angle(pr: Prim, row: number): number {
    const a =
      pr.src === SRC_CONST
        ? pr.value
        : pr.src === SRC_PARAM
          ? pr.scale * this.params[pr.index]
          : pr.scale * this.inputs[row * this.prog.numInputs + pr.index];
    return pr.op === this.shiftOp && pr.arg === this.shiftArg ? a + this.shiftDelta : a;
  }

  /** Whether one-qubit blocks run in the WebAssembly SIMD kernels. */
  get usesWasm(): boolean {
    return this.rows.kind === 'wasm-simd';
  }

  /** ψ for the current row, (2^n, 2). */
  get psi(): Amps {
    return this.rows.psi;
  }

  /** Binds θ and x and builds every matrix that does not depend on the row (bind.ts). */
  bind(params: ArrayLike<number>, inputs: ArrayLike<number>): void {
    this.params = params;
    this.inputs = inputs;
    this.shiftOp = -1;
    this.ampRow.fill(-1);
    bindMatrices(this);
  }

  /**
   * Shifts angle `arg` of op `op` by `delta` in the rows that follow (op −1: none), rebuilding only the matrices
   * and tables that hold the old or the new shifted angle (bind.ts). bind() clears the shift.
   */
  shift(op: number, arg: number, delta: number): void {
    bindShift(this, op, arg, delta);
  }

  /** The fused 2×2 of block step k for `row` into bm (bind.ts). */
  buildBlock(st: BlockStep, k: number, row: number): void {
    buildBlock(this, st, k, row);
  }

  /** The phase table of diagonal step k for `row` into dt[k] (bind.ts). */
  buildDiag(st: DiagStep, k: number, row: number): void {
    buildDiag(this, st, k, row);
  }

  /**
   * Records ψ after every step in later forward rows so the backward pass reads it instead of
   * un-applying each step to ψ (about a third of the adjoint's work). Skipped above TAPE_FLOATS.
   */
  enableTape(): boolean {
    const floats = this.prog.steps.length * 2 * this.dim;
    if (floats > TAPE_FLOATS) return false;
    // ψ, λ, the scratch row and the tape in one place: with wasm, one new memory, so the forward pass's blocks
    // (applied into the tape) and the backward step (ψ from the tape, λ updated) take the SIMD kernels
    if (!this.rows.tape) {
      this.rows = this.rows.withTape(floats);
      // new rows may take the other amplitude path (JS where the larger memory could not be made)
      this.ampRow.fill(-1);
    }
    this.planTape();
    this.recording = true;
    return true;
  }

  /** Which steps' ψ the taped forward pass leaves in the scratch row; see `untaped`. */
  private planTape(): void {
    const { steps } = this.prog;
    for (let k = 0; k < steps.length; k++)
      this.untaped[k] =
        steps[k].type === 'perm' && k + 1 < steps.length && (k === 0 || !this.untaped[k - 1]) ? 1 : 0;
  }

  /** Forward passes stop recording (a reused Runner's expval calls need no tape); enableTape resumes. */
  pauseTape(): void {
    this.recording = false;
  }

  /** Runs the circuit for batch row `row` into `psi`, writing amplitude-op norms to norms[no..]. */
  forwardRow(row: number, norms: Float64Array | null, no: number): void {
    const s = this.psi;
    s.fill(0);
    s[0] = 1;
    const { steps } = this.prog;
    const tape = this.rows.tape;
    if (tape && this.recording) {
      this.forwardTaped(row, norms, no, tape);
      return;
    }
    this.taped = -1;
    for (let k = 0; k < steps.length; k++) {
      const st = steps[k];
      if (st.type === 'block') {
        if (st.perRow) this.buildBlock(st, k, row);
        this.rows.apply1(s, 0, st.p, this.bm, 8 * k);
      } else if (st.type === 'prim') {
        this.applyPrim(s, this.prog.prims[st.prim], row, false);
      } else if (st.type === 'diag') {
        if (st.perRow) this.buildDiag(st, k, row);
        this.rows.diagTo(s, 0, s, 0, k);
      } else if (st.type === 'perm') {
        this.rows.gather(s, k, false);
      } else {
        const norm = this.ampForward(st, k, row);
        if (norms) norms[no + st.amp] = norm;
      }
    }
  }

  /** The forward pass writing ψ after step k into tape slot k (out of place for the hot steps). */
  forwardTaped(row: number, norms: Float64Array | null, no: number, tape: Amps): void {
    const s = this.psi;
    const dim = this.dim;
    const n2 = 2 * dim;
    const { steps } = this.prog;
    const rows = this.rows;
    // the source of step k: psi (holding |0⟩) for k = 0, else tape slot k − 1
    let src: Amps = s;
    let so = 0;
    for (let k = 0; k < steps.length; k++) {
      const st = steps[k];
      // ψ after step k: tape slot k, or the scratch row (never two steps in a row, so src is never dst), or — a
      // block inside a tape run — ψ itself (in place after the run's first block)
      const inRun = this.tapeRuns && this.runEnd[k] > k;
      const dst = this.untaped[k] ? rows.tmp : inRun ? s : tape;
      const doff = this.untaped[k] || inRun ? 0 : n2 * k;
      if (st.type === 'block') {
        if (st.perRow) this.buildBlock(st, k, row);
        rows.apply1To(src, so, dst, doff, st.p, this.bm, 8 * k);
      } else if (st.type === 'diag') {
        if (st.perRow) this.buildDiag(st, k, row);
        rows.diagTo(src, so, dst, doff, k);
      } else if (st.type === 'perm') {
        rows.gatherTo(src, so, dst, doff, k, false);
      } else {
        // rare steps run in place on psi, then are recorded
        if (src !== s) for (let i = 0; i < n2; i++) s[i] = src[so + i];
        if (st.type === 'prim') this.applyPrim(s, this.prog.prims[st.prim], row, false);
        else {
          const norm = this.ampForward(st, k, row);
          if (norms) norms[no + st.amp] = norm;
        }
        tape.set(s, doff);
      }
      src = dst;
      so = doff;
    }
    if (src !== s) s.set(src.subarray(so, so + n2));
    this.taped = row;
  }

  applyPrim(s: Amps, pr: Prim, row: number, inverse: boolean): void {
    switch (pr.kind) {
      case K_X:
        this.rows.flip(s, pr.p, pr.cmask);
        return;
      case K_SWAP:
        this.rows.swap(s, pr.p, pr.q);
        return;
      case K_ROT2: {
        const a = inverse ? -this.angle(pr, row) : this.angle(pr, row);
        if (pr.pauli === 2) {
          const c = Math.cos(a / 2);
          const sn = Math.sin(a / 2);
          this.rows.parity(s, pr.p, pr.q, c, -sn, c, sn);
        } else this.rows.apply2(s, pr.p, pr.q, rot2Matrix(pr.pauli, a, this.m4));
        return;
      }
      default: {
        // controlled one-qubit primitive (uncontrolled ones are always in blocks)
        const a = this.angle(pr, row);
        primMatrix(pr, inverse ? -a : a, this.t8, 0);
        if (inverse && pr.kind === K_FIXED1) {
          dag2(this.t8, 0, this.u8, 0);
          this.rows.apply1(s, 0, pr.p, this.u8, 0, pr.cmask);
        } else this.rows.apply1(s, 0, pr.p, this.t8, 0, pr.cmask);
      }
    }
  }

  /** ‖x‖ of the features of amplitude step k for `row` (refused where zero or not finite). */
  ampNormOf(st: AmpStep, row: number): number {
    const x = this.inputs;
    const x0 = row * this.prog.numInputs + st.start;
    let ss = 0;
    for (let j = 0; j < st.length; j++) ss += x[x0 + j] * x[x0 + j];
    const norm = Math.sqrt(ss);
    if (!(norm > 0) || !Number.isFinite(norm))
      throw new Error(
        `inputs: row ${row} fed to the amplitude encoding ops[${st.op}] has zero or non-finite norm`,
      );
    return norm;
  }

  /** The features x of amplitude step k for `row` into the rows' real scratch w, zeros after them. */
  ampFeaturesToW(st: AmpStep, row: number): void {
    const x = this.inputs;
    const x0 = row * this.prog.numInputs + st.start;
    const w = this.rows.w;
    if (x instanceof Float64Array) w.set(x.subarray(x0, x0 + st.length));
    else for (let j = 0; j < st.length; j++) w[j] = x[x0 + j];
    w.fill(0, st.length);
  }

  /** The normalised features a = x/‖x‖ of amplitude step k for `row` into ampA[k]; returns ‖x‖. */
  amplitudes(st: AmpStep, k: number, row: number): number {
    const a = this.ampA[k];
    const x = this.inputs;
    const x0 = row * this.prog.numInputs + st.start;
    const norm = this.ampNormOf(st, row);
    a.fill(0);
    for (let j = 0; j < st.length; j++) a[j] = x[x0 + j] / norm;
    this.ampRow[k] = row;
    this.ampNorm[k] = norm;
    return norm;
  }

  ampForward(st: AmpStep, k: number, row: number): number {
    if (this.wholeAmp[k] && this.rows.canWalsh) {
      // on the whole register in index order: ψ (v on |0⟩) ← v·x/‖x‖ in one SIMD pass (rset), x copied in natively
      const norm = this.ampNormOf(st, row);
      this.ampFeaturesToW(st, row);
      const s = this.psi;
      this.rows.setWeighted(s[0] / norm, s[1] / norm);
      this.ampNorm[k] = norm;
      this.ampRow[k] = row;
      return norm;
    }
    const norm = this.amplitudes(st, k, row);
    const a = this.ampA[k];
    const s = this.psi;
    const offs = st.offsets;
    for (let base = 0; base < this.dim; base++) {
      if ((base & st.mask) !== 0) continue;
      const vr = s[2 * base];
      const vi = s[2 * base + 1];
      for (let j = 0; j < offs.length; j++) {
        const o = 2 * (base + offs[j]);
        s[o] = vr * a[j];
        s[o + 1] = vi * a[j];
      }
    }
    return norm;
  }

  /** Observables of the current ψ into out[o..o+numObs). */
  expvalsRow(out: Float64Array, o: number): void {
    const obs = this.prog.observables;
    if (this.prog.diagObs && this.rows.canWalsh) {
      // every Z string's expectation from one SIMD pass for |ψ_i|² and one Walsh–Hadamard transform
      this.rows.probsWalsh();
      const W = this.rows.w;
      for (let i = 0; i < obs.length; i++) out[o + i] = obs[i].coeff * W[obs[i].masks.sign];
      return;
    }
    if (this.prog.diagObs) {
      // one pass for |ψ_i|², then a signed sum per Z string
      const s = this.psi;
      const w = this.w;
      const dim = this.dim;
      for (let i = 0; i < dim; i++) w[i] = s[2 * i] * s[2 * i] + s[2 * i + 1] * s[2 * i + 1];
      let total = 0;
      for (let i = 0; i < dim; i++) total += w[i];
      for (let i = 0; i < obs.length; i++) {
        const sign = obs[i].masks.sign;
        // a single-wire Z: total − 2 · (mass where the bit is set), over half the entries
        const v =
          sign !== 0 && (sign & (sign - 1)) === 0
            ? total - 2 * bitSum(w, dim, sign)
            : signedSum(w, dim, sign, 0, this.prog.parity);
        out[o + i] = obs[i].coeff * v;
      }
      return;
    }
    for (let i = 0; i < obs.length; i++)
      out[o + i] = obs[i].coeff * pauliInner(this.psi, 0, this.psi, 0, this.dim, obs[i].masks, 0, false);
  }

  /**
   * Adjoint pass for the row whose final state is in `psi`: g = ∂L/∂expvals of this row (at g[go..]).
   * Adds ∂L/∂θ into dParams and writes ∂L/∂x of the row into dInputs, which holds rows dRow0… (the row's at
   * (row − dRow0)·numInputs). Destroys psi. (adjoint.ts)
   */
  backwardRow(
    row: number,
    g: ArrayLike<number>,
    go: number,
    dParams: Float64Array,
    dInputs: Float64Array,
    dRow0 = 0,
  ): void {
    backwardRow(this, row, g, go, dParams, dInputs, dRow0);
  }

  /** ψ of the step-k point of the last taped forward row, as (array, float offset); null when not taped. */
  tapeOf(row: number): Amps | null {
    return this.rows.tape !== null && this.taped === row ? this.rows.tape : null;
  }

  addGrad(pr: Prim, row: number, gAngle: number, dParams: Float64Array, dInputs: Float64Array): void {
    if (pr.src === SRC_PARAM) dParams[pr.index] += pr.scale * gAngle;
    else dInputs[row * this.prog.numInputs + pr.index] += pr.scale * gAngle;
  }
}

/**
 * Runner.runEnd: maximal runs of consecutive block steps on pairwise distinct wires; each block of a run of ≥ 2 gets
 * the index of the run's last step, every other step −1.
 */
export function tapeRunEnds(prog: Program): Int32Array {
  const { steps } = prog;
  const end = new Int32Array(steps.length).fill(-1);
  let k = 0;
  while (k < steps.length) {
    const st = steps[k];
    if (st.type !== 'block') {
      k++;
      continue;
    }
    const wires = new Set([st.wire]);
    let e = k + 1;
    while (e < steps.length) {
      const nx = steps[e];
      if (nx.type !== 'block' || wires.has(nx.wire)) break;
      wires.add(nx.wire);
      e++;
    }
    if (e - k >= 2) end.fill(e - 1, k, e);
    k = e;
  }
  return end;
}

/** Σ of w_i over the i with bit `b` (a one-bit mask) set. */
function bitSum(w: Float64Array, dim: number, b: number): number {
  let acc = 0;
  for (let base = b; base < dim; base += 2 * b) for (let i = base; i < base + b; i++) acc += w[i];
  return acc;
}
