// Row-by-row execution of a compiled program: one 2^n state (and, for gradients, one adjoint vector)
// lives in scratch that stays in cache while the whole circuit runs over it. The backward pass is the
// adjoint method (Jones & Gacon 2020): walk the schedule in reverse, un-apply each step to ψ and λ,
// and read each angle's derivative as 2·Im⟨λ|G|ψ⟩ from its generator G.
import type { Precision } from '../backend';
import {
  adjointStep1,
  addPauliApplied,
  apply1,
  apply1Diag,
  apply1Real,
  apply1X,
  apply2,
  applyParityDiag,
  applySwap,
  generatorImag,
  pauliExpval,
  type Amps,
} from './kernels';
import {
  K_FIXED1,
  K_PHASE,
  K_ROT,
  K_ROT2,
  K_SWAP,
  K_X,
  SRC_CONST,
  SRC_INPUT,
  SRC_PARAM,
  type AmpStep,
  type BlockStep,
  type Prim,
  type Program,
} from './program';

/** Rows per gradient chunk: ∂L/∂θ is summed per chunk, then chunks in order, so any thread split gives identical sums. */
export const GRAD_CHUNK = 32;

/** Writes the 2×2 target block of a one-qubit primitive at angle a into out[o..o+8). */
function primMatrix(pr: Prim, a: number, out: Float64Array, o: number): void {
  switch (pr.kind) {
    case K_X:
      out.fill(0, o, o + 8);
      out[o + 2] = 1;
      out[o + 4] = 1;
      return;
    case K_PHASE:
      out.fill(0, o, o + 8);
      out[o] = 1;
      out[o + 6] = Math.cos(a);
      out[o + 7] = Math.sin(a);
      return;
    case K_ROT: {
      const c = Math.cos(a / 2);
      const s = Math.sin(a / 2);
      out.fill(0, o, o + 8);
      if (pr.pauli === 0) {
        out[o] = c;
        out[o + 3] = -s;
        out[o + 5] = -s;
        out[o + 6] = c;
      } else if (pr.pauli === 1) {
        out[o] = c;
        out[o + 2] = -s;
        out[o + 4] = s;
        out[o + 6] = c;
      } else {
        out[o] = c;
        out[o + 1] = -s;
        out[o + 6] = c;
        out[o + 7] = s;
      }
      return;
    }
    default:
      out.set(pr.fixed!, o);
  }
}

/** out = a · b for 2×2 interleaved matrices (out may alias neither). */
function mul2(a: Float64Array, ao: number, b: Float64Array, bo: number, out: Float64Array, oo: number): void {
  for (let r = 0; r < 2; r++)
    for (let c = 0; c < 2; c++) {
      const x0r = a[ao + 4 * r];
      const x0i = a[ao + 4 * r + 1];
      const x1r = a[ao + 4 * r + 2];
      const x1i = a[ao + 4 * r + 3];
      const y0r = b[bo + 2 * c];
      const y0i = b[bo + 2 * c + 1];
      const y1r = b[bo + 4 + 2 * c];
      const y1i = b[bo + 4 + 2 * c + 1];
      out[oo + 4 * r + 2 * c] = x0r * y0r - x0i * y0i + x1r * y1r - x1i * y1i;
      out[oo + 4 * r + 2 * c + 1] = x0r * y0i + x0i * y0r + x1r * y1i + x1i * y1r;
    }
}

/** Conjugate transpose of a 2×2 into out. */
function dag2(m: Float64Array, mo: number, out: Float64Array, oo: number): void {
  out[oo] = m[mo];
  out[oo + 1] = -m[mo + 1];
  out[oo + 2] = m[mo + 4];
  out[oo + 3] = -m[mo + 5];
  out[oo + 4] = m[mo + 2];
  out[oo + 5] = -m[mo + 3];
  out[oo + 6] = m[mo + 6];
  out[oo + 7] = -m[mo + 7];
}

/** Applies a 2×2 choosing the diagonal, real or generic kernel by its entries. */
function applyMat1(
  s: Amps,
  off: number,
  dim: number,
  p: number,
  cmask: number,
  m: Float64Array,
  o: number,
): void {
  if (m[o + 2] === 0 && m[o + 3] === 0 && m[o + 4] === 0 && m[o + 5] === 0) {
    apply1Diag(s, off, dim, p, cmask, m[o], m[o + 1], m[o + 6], m[o + 7]);
  } else if (m[o + 1] === 0 && m[o + 3] === 0 && m[o + 5] === 0 && m[o + 7] === 0) {
    apply1Real(s, off, dim, p, cmask, m[o], m[o + 2], m[o + 4], m[o + 6]);
  } else {
    apply1(s, off, dim, p, cmask, m[o], m[o + 1], m[o + 2], m[o + 3], m[o + 4], m[o + 5], m[o + 6], m[o + 7]);
  }
}

export function newAmps(precision: Precision, length: number): Amps {
  return precision === 'f64' ? new Float64Array(length) : new Float32Array(length);
}

export class Runner {
  readonly dim: number;
  /** ψ for the current row, (2^n, 2). */
  readonly psi: Amps;
  /** λ for the current row, (2^n, 2). */
  readonly lam: Amps;
  /** Per-primitive 2×2 at the current angles, (numPrims, 8). */
  private readonly pm: Float64Array;
  /** Per-step fused block matrix, (numSteps, 8). */
  private readonly bm: Float64Array;
  private readonly t8 = new Float64Array(8);
  private readonly u8 = new Float64Array(8);
  private readonly rho = new Float64Array(16);
  private readonly m4 = new Float64Array(32);
  /** Per amplitude step: normalised features a_j and ∂L/∂a_j. */
  private readonly ampA: Float64Array[];
  private readonly ampG: Float64Array[];
  private params: ArrayLike<number> = [];
  private inputs: ArrayLike<number> = [];

  constructor(
    readonly prog: Program,
    precision: Precision,
  ) {
    this.dim = prog.dim;
    this.psi = newAmps(precision, 2 * prog.dim);
    this.lam = newAmps(precision, 2 * prog.dim);
    this.pm = new Float64Array(8 * prog.prims.length);
    this.bm = new Float64Array(8 * prog.steps.length);
    this.ampA = prog.steps.map((s) => new Float64Array(s.type === 'amp' ? s.offsets.length : 0));
    this.ampG = prog.steps.map((s) => new Float64Array(s.type === 'amp' ? s.offsets.length : 0));
  }

  private angle(pr: Prim, row: number): number {
    if (pr.src === SRC_CONST) return pr.value;
    if (pr.src === SRC_PARAM) return pr.scale * this.params[pr.index];
    return pr.scale * this.inputs[row * this.prog.numInputs + pr.index];
  }

  /** Binds θ and x and builds every matrix that does not depend on the row. */
  bind(params: ArrayLike<number>, inputs: ArrayLike<number>): void {
    this.params = params;
    this.inputs = inputs;
    const { prims, steps } = this.prog;
    for (let i = 0; i < prims.length; i++) {
      const pr = prims[i];
      // two-wire primitives build their matrices when applied
      if (pr.src !== SRC_INPUT && pr.kind !== K_SWAP && pr.kind !== K_ROT2)
        primMatrix(pr, this.angle(pr, 0), this.pm, 8 * i);
    }
    for (let k = 0; k < steps.length; k++) {
      const st = steps[k];
      if (st.type === 'block' && !st.perRow) this.buildBlock(st, k, 0);
    }
  }

  private buildBlock(st: BlockStep, k: number, row: number): void {
    const { prims } = this.prog;
    const o = 8 * k;
    for (let j = 0; j < st.prims.length; j++) {
      const pi = st.prims[j];
      const pr = prims[pi];
      if (pr.src === SRC_INPUT) primMatrix(pr, this.angle(pr, row), this.pm, 8 * pi);
      if (j === 0) this.bm.set(this.pm.subarray(8 * pi, 8 * pi + 8), o);
      else {
        mul2(this.pm, 8 * pi, this.bm, o, this.t8, 0);
        this.bm.set(this.t8, o);
      }
    }
  }

  /** Runs the circuit for batch row `row` into `psi`, writing amplitude-op norms to norms[no..]. */
  forwardRow(row: number, norms: Float64Array | null, no: number): void {
    const s = this.psi;
    const dim = this.dim;
    s.fill(0);
    s[0] = 1;
    const { steps } = this.prog;
    for (let k = 0; k < steps.length; k++) {
      const st = steps[k];
      if (st.type === 'block') {
        if (st.perRow) this.buildBlock(st, k, row);
        applyMat1(s, 0, dim, st.p, 0, this.bm, 8 * k);
      } else if (st.type === 'prim') {
        this.applyPrim(s, this.prog.prims[st.prim], row, false);
      } else {
        const norm = this.ampForward(st, k, row);
        if (norms) norms[no + st.amp] = norm;
      }
    }
  }

  private applyPrim(s: Amps, pr: Prim, row: number, inverse: boolean): void {
    const dim = this.dim;
    switch (pr.kind) {
      case K_X:
        apply1X(s, 0, dim, pr.p, pr.cmask);
        return;
      case K_SWAP:
        applySwap(s, 0, dim, pr.p, pr.q);
        return;
      case K_ROT2: {
        const a = inverse ? -this.angle(pr, row) : this.angle(pr, row);
        const c = Math.cos(a / 2);
        const sn = Math.sin(a / 2);
        if (pr.pauli === 2) {
          applyParityDiag(s, 0, dim, pr.p, pr.q, c, -sn, c, sn);
          return;
        }
        // c·I − i·s·P⊗P; Y⊗Y flips the sign of the |00⟩↔|11⟩ corners
        const m = this.m4;
        m.fill(0);
        for (let r = 0; r < 4; r++) m[8 * r + 2 * r] = c;
        const corner = pr.pauli === 1 ? sn : -sn;
        m[2 * 3 + 1] = corner;
        m[8 * 3 + 1] = corner;
        m[8 * 1 + 2 * 2 + 1] = -sn;
        m[8 * 2 + 2 * 1 + 1] = -sn;
        apply2(s, 0, dim, pr.p, pr.q, m);
        return;
      }
      default: {
        // controlled one-qubit primitive (uncontrolled ones are always in blocks)
        const a = this.angle(pr, row);
        primMatrix(pr, inverse ? -a : a, this.t8, 0);
        if (inverse && pr.kind === K_FIXED1) {
          dag2(this.t8, 0, this.u8, 0);
          applyMat1(s, 0, dim, pr.p, pr.cmask, this.u8, 0);
        } else applyMat1(s, 0, dim, pr.p, pr.cmask, this.t8, 0);
      }
    }
  }

  private ampForward(st: AmpStep, k: number, row: number): number {
    const a = this.ampA[k];
    const x = this.inputs;
    const x0 = row * this.prog.numInputs + st.start;
    let ss = 0;
    for (let j = 0; j < st.length; j++) ss += x[x0 + j] * x[x0 + j];
    const norm = Math.sqrt(ss);
    if (!(norm > 0) || !Number.isFinite(norm))
      throw new Error(
        `inputs: row ${row} fed to the amplitude encoding ops[${st.op}] has zero or non-finite norm`,
      );
    a.fill(0);
    for (let j = 0; j < st.length; j++) a[j] = x[x0 + j] / norm;
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
    for (let i = 0; i < obs.length; i++)
      out[o + i] = obs[i].coeff * pauliExpval(this.psi, 0, this.dim, obs[i].masks);
  }

  /**
   * Adjoint pass for the row whose final state is in `psi`: g = ∂L/∂expvals of this row (at g[go..]).
   * Adds ∂L/∂θ into dParams and writes ∂L/∂x of the row into dInputs. Destroys psi.
   */
  backwardRow(
    row: number,
    g: ArrayLike<number>,
    go: number,
    dParams: Float64Array,
    dInputs: Float64Array,
  ): void {
    const s = this.psi;
    const l = this.lam;
    const dim = this.dim;
    const { steps, prims, observables } = this.prog;
    l.fill(0);
    for (let i = 0; i < observables.length; i++) {
      const w = g[go + i] * observables[i].coeff;
      if (w !== 0) addPauliApplied(l, s, 0, dim, observables[i].masks, w);
    }
    const rho = this.rho;
    for (let k = steps.length - 1; k >= 0; k--) {
      const st = steps[k];
      if (st.type === 'block') {
        if (st.perRow) this.buildBlock(st, k, row);
        dag2(this.bm, 8 * k, this.u8, 0);
        if (!st.diff) {
          applyMat1(s, 0, dim, st.p, 0, this.u8, 0);
          applyMat1(l, 0, dim, st.p, 0, this.u8, 0);
          continue;
        }
        adjointStep1(s, l, 0, dim, st.p, this.u8, rho);
        // ρ_j is the cross density after primitive j; step it back through each factor on 2×2s
        for (let j = st.prims.length - 1; j >= 0; j--) {
          const pi = st.prims[j];
          const pr = prims[pi];
          if (pr.src !== SRC_CONST) this.addGrad(pr, row, 2 * genTraceIm(pr, rho), dParams, dInputs);
          if (j > 0) {
            // ρ ← U† ρ U
            mul2(rho, 0, this.pm, 8 * pi, rho, 8);
            dag2(this.pm, 8 * pi, this.t8, 0);
            mul2(this.t8, 0, rho, 8, rho, 0);
          }
        }
      } else if (st.type === 'prim') {
        const pr = prims[st.prim];
        if (pr.src !== SRC_CONST) {
          const im = pr.genScale * generatorImag(l, s, 0, dim, pr.gen, pr.genCmask);
          this.addGrad(pr, row, 2 * im, dParams, dInputs);
        }
        this.applyPrim(s, pr, row, true);
        this.applyPrim(l, pr, row, true);
      } else {
        this.ampBackward(st, k, row, dInputs);
      }
    }
  }

  private addGrad(pr: Prim, row: number, gAngle: number, dParams: Float64Array, dInputs: Float64Array): void {
    if (pr.src === SRC_PARAM) dParams[pr.index] += pr.scale * gAngle;
    else dInputs[row * this.prog.numInputs + pr.index] += pr.scale * gAngle;
  }

  private ampBackward(st: AmpStep, k: number, row: number, dInputs: Float64Array): void {
    const a = this.ampA[k];
    const ga = this.ampG[k];
    // a_j of this row (the forward pass of a later row may have overwritten it)
    const x = this.inputs;
    const x0 = row * this.prog.numInputs + st.start;
    let ss = 0;
    for (let j = 0; j < st.length; j++) ss += x[x0 + j] * x[x0 + j];
    const norm = Math.sqrt(ss);
    a.fill(0);
    for (let j = 0; j < st.length; j++) a[j] = x[x0 + j] / norm;
    ga.fill(0);
    const s = this.psi;
    const l = this.lam;
    const offs = st.offsets;
    for (let base = 0; base < this.dim; base++) {
      if ((base & st.mask) !== 0) continue;
      // ψ before = V†ψ, λ before = V†λ, with V|v⟩ = |v⟩ ⊗ Σ a_j |j⟩
      let vr = 0;
      let vi = 0;
      let wr = 0;
      let wi = 0;
      for (let j = 0; j < st.length; j++) {
        const o = 2 * (base + offs[j]);
        vr += a[j] * s[o];
        vi += a[j] * s[o + 1];
        wr += a[j] * l[o];
        wi += a[j] * l[o + 1];
      }
      for (let j = 0; j < st.length; j++) {
        const o = 2 * (base + offs[j]);
        ga[j] += 2 * (l[o] * vr + l[o + 1] * vi);
      }
      for (let j = 1; j < offs.length; j++) {
        const o = 2 * (base + offs[j]);
        s[o] = 0;
        s[o + 1] = 0;
        l[o] = 0;
        l[o + 1] = 0;
      }
      s[2 * base] = vr;
      s[2 * base + 1] = vi;
      l[2 * base] = wr;
      l[2 * base + 1] = wi;
    }
    // through a = x/‖x‖: ∂L/∂x = (g − a(a·g))/‖x‖
    let ag = 0;
    for (let j = 0; j < st.length; j++) ag += a[j] * ga[j];
    const d0 = row * this.prog.numInputs + st.start;
    for (let j = 0; j < st.length; j++) dInputs[d0 + j] += (ga[j] - a[j] * ag) / norm;
  }
}

/** Im Tr(G ρ) for a one-qubit primitive's generator G (ρ_ab = Σ ψ_a conj(λ_b), so Tr(Gρ) = ⟨λ|G|ψ⟩). */
function genTraceIm(pr: Prim, rho: Float64Array): number {
  // rho: [00r, 00i, 01r, 01i, 10r, 10i, 11r, 11i]
  if (pr.kind === K_PHASE) return -rho[7]; // G = −|1⟩⟨1|
  if (pr.pauli === 0) return 0.5 * (rho[5] + rho[3]); // X/2: ρ10 + ρ01
  if (pr.pauli === 1) return 0.5 * (-rho[4] + rho[2]); // Y/2: −iρ10 + iρ01 → Im = −Re ρ10 + Re ρ01
  return 0.5 * (rho[1] - rho[7]); // Z/2
}
