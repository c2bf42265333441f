// Binding θ and x to a compiled program: the 2×2 of every primitive at its angle, the fused 2×2 of every block and
// the phase table of every diagonal run, rebuilt per row only where an input feeds an angle. Plus the 2×2 helpers
// the adjoint pass uses to move the cross density back through a block's factors.
import type { Runner } from './engine';
import {
  K_FIXED1,
  K_PHASE,
  K_ROT,
  K_ROT2,
  K_SWAP,
  K_X,
  SRC_INPUT,
  type BlockStep,
  type DiagStep,
  type Prim,
} from './program';

/** Writes the 2×2 target block of a one-qubit primitive at angle a into out[o..o+8). */
export function primMatrix(pr: Prim, a: number, out: Float64Array, o: number): void {
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

/**
 * exp(−i a P⊗P/2) = c·I − i·s·P⊗P as a 4×4 into m (interleaved row-major, local index 2·bit_p + bit_q) for P = X
 * (pauli 0), Y (1) or Z (2); Y⊗Y flips the sign of the |00⟩↔|11⟩ corners, Z⊗Z is diagonal. Returns m.
 */
export function rot2Matrix(pauli: number, a: number, m: Float64Array): Float64Array {
  const c = Math.cos(a / 2);
  const sn = Math.sin(a / 2);
  m.fill(0);
  for (let r = 0; r < 4; r++) m[8 * r + 2 * r] = c;
  if (pauli === 2) {
    // even parity (00, 11): e^{−ia/2}; odd (01, 10): e^{ia/2}
    for (let r = 0; r < 4; r++) m[8 * r + 2 * r + 1] = r === 0 || r === 3 ? -sn : sn;
    return m;
  }
  const corner = pauli === 1 ? sn : -sn;
  m[2 * 3 + 1] = corner;
  m[8 * 3 + 1] = corner;
  m[8 * 1 + 2 * 2 + 1] = -sn;
  m[8 * 2 + 2 * 1 + 1] = -sn;
  return m;
}

/** out = a · b for 2×2 interleaved matrices (out may alias neither). */
export function mul2(
  a: Float64Array,
  ao: number,
  b: Float64Array,
  bo: number,
  out: Float64Array,
  oo: number,
): void {
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
export function dag2(m: Float64Array, mo: number, out: Float64Array, oo: number): void {
  out[oo] = m[mo];
  out[oo + 1] = -m[mo + 1];
  out[oo + 2] = m[mo + 4];
  out[oo + 3] = -m[mo + 5];
  out[oo + 4] = m[mo + 2];
  out[oo + 5] = -m[mo + 3];
  out[oo + 6] = m[mo + 6];
  out[oo + 7] = -m[mo + 7];
}

/** Builds every matrix of the bound θ and x that does not depend on the row. */
export function bindMatrices(run: Runner): void {
  const { prims, steps } = run.prog;
  for (let i = 0; i < prims.length; i++) {
    const pr = prims[i];
    // two-wire primitives build their matrices when applied
    if (pr.src !== SRC_INPUT && pr.kind !== K_SWAP && pr.kind !== K_ROT2)
      primMatrix(pr, run.angle(pr, 0), run.pm, 8 * i);
  }
  for (let k = 0; k < steps.length; k++) {
    const st = steps[k];
    if (st.type === 'block' && !st.perRow) buildBlock(run, st, k, 0);
    else if (st.type === 'diag' && !st.perRow) buildDiag(run, st, k, 0);
  }
}

/**
 * Moves the shifted angle of a shifted batch (Runner.shift): the primitives of the old and the new shifted angle get
 * their 2×2 at the new angles, and the row-independent blocks and diagonal tables that hold them are rebuilt —
 * nothing else. Per-row steps and lone primitives read the angle when they run, so they need nothing here.
 */
export function bindShift(run: Runner, op: number, arg: number, delta: number): void {
  const oldOp = run.shiftOp;
  const oldArg = run.shiftArg;
  if (op === oldOp && arg === oldArg && delta === run.shiftDelta) return;
  run.shiftOp = op;
  run.shiftArg = arg;
  run.shiftDelta = delta;
  const { prims, steps } = run.prog;
  const moved = (i: number): boolean => {
    const pr = prims[i];
    return (pr.op === op && pr.arg === arg) || (pr.op === oldOp && pr.arg === oldArg);
  };
  // every moved primitive's 2×2 first, then the steps that hold one (a step may hold both the old and the new)
  for (let i = 0; i < prims.length; i++) {
    const pr = prims[i];
    if (moved(i) && pr.src !== SRC_INPUT && pr.kind !== K_SWAP && pr.kind !== K_ROT2)
      primMatrix(pr, run.angle(pr, 0), run.pm, 8 * i);
  }
  let last = -1;
  for (let i = 0; i < prims.length; i++) {
    const k = run.stepOf[i];
    if (k < 0 || k === last || !moved(i)) continue;
    last = k;
    const st = steps[k];
    if (st.type === 'block' && !st.perRow) buildBlock(run, st, k, 0);
    else if (st.type === 'diag' && !st.perRow) buildDiag(run, st, k, 0);
  }
}

/** The product of a diagonal run's primitives as one table of 2^n phases, into run.dt[k]. */
export function buildDiag(run: Runner, st: DiagStep, k: number, row: number): void {
  const t = run.dt[k];
  const dim = run.dim;
  const par = run.prog.parity;
  for (let i = 0; i < 2 * dim; i += 2) {
    t[i] = 1;
    t[i + 1] = 0;
  }
  for (const pi of st.prims) {
    const pr = run.prog.prims[pi];
    // factor e0 where the selecting bit(s) have even parity, e1 where odd, on the control subspace
    let e0r = 1;
    let e0i = 0;
    let e1r: number;
    let e1i: number;
    let sel = 1 << pr.p;
    if (pr.kind === K_FIXED1) {
      const f = pr.fixed!;
      e0r = f[0];
      e0i = f[1];
      e1r = f[6];
      e1i = f[7];
    } else if (pr.kind === K_PHASE) {
      const a = run.angle(pr, row);
      e1r = Math.cos(a);
      e1i = Math.sin(a);
    } else {
      const a = run.angle(pr, row);
      e0r = Math.cos(a / 2);
      e0i = -Math.sin(a / 2);
      e1r = e0r;
      e1i = -e0i;
      if (pr.kind === K_ROT2) sel |= 1 << pr.q;
    }
    const cm = pr.cmask;
    for (let i = 0; i < dim; i++) {
      if ((i & cm) !== cm) continue;
      const odd = par[i & sel];
      const fr = odd ? e1r : e0r;
      const fi = odd ? e1i : e0i;
      const tr = t[2 * i];
      const ti = t[2 * i + 1];
      t[2 * i] = fr * tr - fi * ti;
      t[2 * i + 1] = fr * ti + fi * tr;
    }
  }
  run.rows.tableChanged(k);
}

/** The product of a block's primitives (its 2×2s at the row's angles) into run.bm[8k..]. */
export function buildBlock(run: Runner, st: BlockStep, k: number, row: number): void {
  const { prims } = run.prog;
  const o = 8 * k;
  for (let j = 0; j < st.prims.length; j++) {
    const pi = st.prims[j];
    const pr = prims[pi];
    if (pr.src === SRC_INPUT) primMatrix(pr, run.angle(pr, row), run.pm, 8 * pi);
    if (j === 0) run.bm.set(run.pm.subarray(8 * pi, 8 * pi + 8), o);
    else {
      mul2(run.pm, 8 * pi, run.bm, o, run.t8, 0);
      run.bm.set(run.t8, o);
    }
  }
  // its primitives' gradient forms (adjoint.ts) are rebuilt when the backward pass next needs them
  run.blockStale[k] = 1;
}
