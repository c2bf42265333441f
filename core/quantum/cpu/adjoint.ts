// The adjoint pass of a Runner (Jones & Gacon 2020; the plain version is reference/adjoint.ts): seed
// λ = Σ_o g_o O_o ψ, then walk the schedule in reverse, stepping λ (and ψ, when no tape holds it) back through each
// step and reading each angle's derivative as 2·Im⟨λ|G|ψ⟩ from its generator G. One function per step kind; the
// Runner's Rows hide whether the rows live in WebAssembly memory.
import {
  addPauliApplied,
  antiHermitianRho,
  applyDiagTable,
  pauliInner,
  signedSum,
  type Amps,
} from './kernels';
import { dag2, mul2, primMatrix, rot2Matrix } from './bind';
import type { Runner } from './engine';
import { K_PHASE, K_ROT, K_ROT2, SRC_CONST, SRC_PARAM } from './program';
import type { AmpStep, BlockStep, DiagStep, Prim, PrimStep } from './program';

/** Where the gradients of one row go. */
interface Grads {
  row: number;
  dParams: Float64Array;
  /** ∂L/∂x of rows dRow0… (numInputs each): this row's at (row − dRow0)·numInputs */
  dInputs: Float64Array;
  dRow0: number;
}

/** The adjoint pass for the row whose final state is in run.psi (see Runner.backwardRow). */
export function backwardRow(
  run: Runner,
  row: number,
  g: ArrayLike<number>,
  go: number,
  dParams: Float64Array,
  dInputs: Float64Array,
  dRow0 = 0,
): void {
  seedLambda(run, g, go);
  // with a tape, ψ after step k is read from the forward pass and only λ is stepped back
  const tape = run.tapeOf(row);
  const out: Grads = { row, dParams, dInputs, dRow0 };
  const n2 = 2 * run.dim;
  const { steps } = run.prog;
  for (let k = steps.length - 1; k >= 0; k--) {
    const st = steps[k];
    // ψ after step k: the tape's slot k, the scratch row (after a permutation: never read), or ψ itself
    const s = tape ? (run.untaped[k] ? run.rows.tmp : tape) : run.psi;
    const so = tape && !run.untaped[k] ? n2 * k : 0;
    if (st.type === 'block') {
      if (tape && run.tapeRuns && run.runEnd[k] >= 0) {
        // a tape run: at its end, every block's cross density from the one (ψ, λ); before it, λ steps back only
        if (run.runEnd[k] === k) {
          runSums(run, k, s, so);
          backBlock(run, st, k, s, so, false, out);
        } else backRunBlock(run, st, k, out);
      } else backBlock(run, st, k, s, so, tape === null, out);
    } else if (st.type === 'prim') backPrim(run, st, s, so, tape === null, out);
    else if (st.type === 'diag') backDiag(run, st, k, s, so, tape === null, out);
    else if (st.type === 'perm') {
      if (!tape) run.rows.gather(run.psi, k, true);
      run.rows.gather(run.rows.lam, k, true);
    } else {
      if (tape) run.psi.set(tape.subarray(so, so + n2));
      backAmplitude(run, st, k, out);
    }
  }
}

/** λ = Σ_o g_o O_o ψ for the row's ∂L/∂expvals g[go..]. */
function seedLambda(run: Runner, g: ArrayLike<number>, go: number): void {
  const s = run.psi;
  const l = run.rows.lam;
  const dim = run.dim;
  const { observables, parity: par } = run.prog;
  if (!run.prog.diagObs) {
    l.fill(0);
    for (let i = 0; i < observables.length; i++) {
      const w = g[go + i] * observables[i].coeff;
      if (w !== 0) addPauliApplied(l, s, 0, dim, observables[i].masks, w);
    }
    return;
  }
  // every O_o diagonal: one real weight h_j per amplitude, h_j = Σ_o g_o coeff_o (−1)^|j ∧ sign_o|
  if (run.rows.canWalsh) {
    // h as the Walsh–Hadamard transform of the weights placed at their signs, then λ = h ⊙ ψ, in SIMD
    const c = run.rows.w;
    c.fill(0);
    for (let i = 0; i < observables.length; i++)
      c[observables[i].masks.sign] += g[go + i] * observables[i].coeff;
    run.rows.seedWalsh();
    return;
  }
  const h = run.w;
  const bw = run.bitW;
  bw.fill(0);
  let c0 = 0;
  const oneBit = (sign: number) => sign !== 0 && (sign & (sign - 1)) === 0;
  for (let i = 0; i < observables.length; i++) {
    const sign = observables[i].masks.sign;
    if (oneBit(sign)) {
      const wt = g[go + i] * observables[i].coeff;
      bw[31 - Math.clz32(sign)] += wt;
      c0 += wt;
    }
  }
  // single-wire Z terms by doubling: h over bits 0..p−1 extends to bit p in 2^p steps
  h[0] = c0;
  for (let p = 0, len = 1; len < dim; p++, len <<= 1) {
    const d = 2 * bw[p];
    for (let j = 0; j < len; j++) h[j + len] = h[j] - d;
  }
  for (let i = 0; i < observables.length; i++) {
    const sign = observables[i].masks.sign;
    const wt = g[go + i] * observables[i].coeff;
    if (oneBit(sign) || wt === 0) continue;
    for (let j = 0; j < dim; j++) h[j] += par[j & sign] ? -wt : wt;
  }
  for (let j = 0; j < dim; j++) {
    l[2 * j] = h[j] * s[2 * j];
    l[2 * j + 1] = h[j] * s[2 * j + 1];
  }
}

function addGrad(run: Runner, pr: Prim, gAngle: number, out: Grads): void {
  if (pr.src === SRC_PARAM) out.dParams[pr.index] += pr.scale * gAngle;
  else out.dInputs[(out.row - out.dRow0) * run.prog.numInputs + pr.index] += pr.scale * gAngle;
}

/**
 * At the last block k of a tape run (Runner.runEnd), with ψ after it at s[so..] and λ still after it: the cross
 * density of each earlier block of the run that has a gradient, into runSums.
 */
function runSums(run: Runner, k: number, s: Amps, so: number): void {
  const { steps } = run.prog;
  const rho = run.rho;
  for (let j = k - 1; j >= 0 && run.runEnd[j] === k; j--) {
    const st = steps[j] as BlockStep;
    if (!st.diff) continue;
    run.rows.blockSums(s, so, st.p, rho);
    run.runSums[4 * j] = rho[1];
    run.runSums[4 * j + 1] = rho[7];
    run.runSums[4 * j + 2] = 2 * rho[2];
    run.runSums[4 * j + 3] = 2 * rho[3];
  }
}

/** A block before the last of its tape run: λ ← U†λ, and its gradients from the cross density runSums kept. */
function backRunBlock(run: Runner, st: BlockStep, k: number, out: Grads): void {
  if (st.perRow) run.buildBlock(st, k, out.row);
  dag2(run.bm, 8 * k, run.u8, 0);
  run.rows.apply1(run.rows.lam, 0, st.p, run.u8, 0);
  if (!st.diff) return;
  const c = run.runSums;
  antiHermitianRho(run.rho, c[4 * k], c[4 * k + 1], c[4 * k + 2], c[4 * k + 3]);
  blockGrads(run, st, k, out);
}

/**
 * A fused block U on one wire: one pass gives the anti-Hermitian part of the 2×2 cross density ρ of (ψ, λ) after the
 * block — four reals (Im ρ00, Im ρ11, and ρ01 − conj ρ10 as re, im) — and steps λ back by U†. Each primitive's
 * derivative Im Tr(Gρ), with ρ moved back through the block's later factors, is linear in those four: a
 * row-independent block reads it as a dot product with coefficients built once per binding (blockGradients); a
 * per-row block moves ρ back on 2×2s.
 */
function backBlock(run: Runner, st: BlockStep, k: number, s: Amps, so: number, stepPsi: boolean, out: Grads) {
  const { rows, u8, rho } = run;
  if (st.perRow) run.buildBlock(st, k, out.row);
  dag2(run.bm, 8 * k, u8, 0);
  if (st.diff) rows.adjointBlock(s, so, st.p, u8, rho);
  else rows.apply1(rows.lam, 0, st.p, u8, 0);
  if (stepPsi) rows.apply1(run.psi, 0, st.p, u8, 0);
  if (st.diff) blockGrads(run, st, k, out);
}

/** A block's angle gradients from the anti-Hermitian part of its cross density in run.rho (after the block). */
function blockGrads(run: Runner, st: BlockStep, k: number, out: Grads): void {
  const rho = run.rho;
  const { prims } = run.prog;
  if (!st.perRow) {
    const a00 = rho[1];
    const a11 = rho[7];
    const dr = 2 * rho[2];
    const di = 2 * rho[3];
    // (blockGradients uses rho as scratch: read first)
    if (run.blockStale[k]) blockGradients(run, st, k);
    const c = run.blockCoef;
    for (let j = 0, at = run.blockAt[k]; j < st.prims.length; j++, at += 4) {
      const pr = prims[st.prims[j]];
      if (pr.src !== SRC_CONST)
        addGrad(run, pr, 2 * (c[at] * a00 + c[at + 1] * a11 + c[at + 2] * dr + c[at + 3] * di), out);
    }
    return;
  }
  for (let j = st.prims.length - 1; j >= 0; j--) {
    const pi = st.prims[j];
    const pr = prims[pi];
    if (pr.src !== SRC_CONST) addGrad(run, pr, 2 * genTraceIm(pr, rho), out);
    if (j > 0) moveBack(run, pi, rho);
  }
}

/** ρ ← U† ρ U for primitive pi's 2×2 U. */
function moveBack(run: Runner, pi: number, rho: Float64Array): void {
  mul2(rho, 0, run.pm, 8 * pi, rho, 8);
  dag2(run.pm, 8 * pi, run.t8, 0);
  mul2(run.t8, 0, rho, 8, rho, 0);
}

/**
 * The coefficients of block step k's primitives' Im Tr(Gρ) in the four reals of ρ's anti-Hermitian part (backBlock):
 * ρ moved back through the block's factors is linear in them, so each basis ρ is moved back once per binding.
 */
function blockGradients(run: Runner, st: BlockStep, k: number): void {
  const rho = run.rho;
  const c = run.blockCoef;
  const at = run.blockAt[k];
  const n = st.prims.length;
  for (let b = 0; b < 4; b++) {
    antiHermitianRho(rho, b === 0 ? 1 : 0, b === 1 ? 1 : 0, b === 2 ? 1 : 0, b === 3 ? 1 : 0);
    for (let j = n - 1; j >= 0; j--) {
      const pi = st.prims[j];
      c[at + 4 * j + b] = genTraceIm(run.prog.prims[pi], rho);
      if (j > 0) moveBack(run, pi, rho);
    }
  }
  run.blockStale[k] = 0;
}

/**
 * A lone primitive (controlled, two-wire): 2·Im⟨λ|G|ψ⟩ from its generator, then its inverse on λ (and ψ). A
 * controlled one-qubit rotation or phase takes the block's step over its controlled pairs: one pass for the cross
 * density on its target and λ ← U†λ.
 */
function backPrim(run: Runner, st: PrimStep, s: Amps, so: number, stepPsi: boolean, out: Grads) {
  const pr = run.prog.prims[st.prim];
  if (pr.src !== SRC_CONST && (pr.kind === K_ROT || pr.kind === K_PHASE)) {
    primMatrix(pr, -run.angle(pr, out.row), run.u8, 0);
    run.rows.adjointBlock(s, so, pr.p, run.u8, run.rho, pr.cmask);
    addGrad(run, pr, 2 * genTraceIm(pr, run.rho), out);
    if (stepPsi) run.applyPrim(run.psi, pr, out.row, true);
    return;
  }
  if (pr.src !== SRC_CONST && pr.kind === K_ROT2) {
    // RXX, RYY, RZZ: one pass for the generator's sums over the (00, 11) and (01, 10) pairs and λ ← U†λ
    const sums = run.rho;
    run.rows.adjointPair(s, so, pr.p, pr.q, rot2Matrix(pr.pauli, -run.angle(pr, out.row), run.m4), sums);
    const im = pr.pauli === 0 ? sums[0] + sums[1] : pr.pauli === 1 ? sums[1] - sums[0] : sums[2] - sums[3];
    addGrad(run, pr, 2 * pr.genScale * im, out);
    if (stepPsi) run.applyPrim(run.psi, pr, out.row, true);
    return;
  }
  if (pr.src !== SRC_CONST) {
    const im = pauliInner(run.rows.lam, 0, s, so, run.dim, pr.gen, pr.genCmask, true);
    addGrad(run, pr, 2 * pr.genScale * im, out);
  }
  if (stepPsi) run.applyPrim(run.psi, pr, out.row, true);
  run.applyPrim(run.rows.lam, pr, out.row, true);
}

/**
 * A fused diagonal run D: w_i = Im(conj(λ_i) ψ_i) is the same at every point of the run (its gates commute), so one
 * pass serves all its generators: ∂ = 2·Σ_i g(i) w_i each. With two or more and the wasm kernels, one SIMD
 * Walsh–Hadamard transform of w gives every signed sum at once (W[m] = Σ w_i (−1)^|i ∧ m|).
 */
function backDiag(run: Runner, st: DiagStep, k: number, s: Amps, so: number, stepPsi: boolean, out: Grads) {
  const { rows, dim } = run;
  if (st.perRow) run.buildDiag(st, k, out.row);
  const walsh = rows.canWalsh && run.diffCount[k] >= 2;
  const w = rows.adjointDiag(s, so, k, walsh);
  if (stepPsi) applyDiagTable(run.psi, 0, run.psi, 0, dim, run.dt[k], true);
  if (!st.diff) return;
  for (const pi of st.prims) {
    const pr = run.prog.prims[pi];
    if (pr.src === SRC_CONST) continue;
    const sum = walsh
      ? walshSum(w, pr.gen.sign, pr.genCmask)
      : signedSum(w, dim, pr.gen.sign, pr.genCmask, run.prog.parity);
    addGrad(run, pr, 2 * pr.genScale * sum, out);
  }
}

/** An amplitude encoding V: ψ ← V†ψ, λ ← V†λ, and ∂L/∂x through the normalisation a = x/‖x‖. */
function backAmplitude(run: Runner, st: AmpStep, k: number, out: Grads): void {
  const { row, dInputs, dRow0 } = out;
  if (run.wholeAmp[k] && run.rows.canWalsh) {
    // ‖x‖ of this row: kept from its forward pass, unless a later row's has overwritten it
    backWholeAmplitude(run, st, run.ampRow[k] === row ? run.ampNorm[k] : run.ampNormOf(st, row), out);
    return;
  }
  // a_j of this row: kept from its forward pass, unless a later row's has overwritten them
  const norm = run.ampRow[k] === row ? run.ampNorm[k] : run.amplitudes(st, k, row);
  const a = run.ampA[k];
  const ga = run.ampG[k];
  ga.fill(0);
  const s = run.psi;
  const l = run.rows.lam;
  const offs = st.offsets;
  for (let base = 0; base < run.dim; base++) {
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
  const d0 = (row - dRow0) * run.prog.numInputs + st.start;
  for (let j = 0; j < st.length; j++) dInputs[d0 + j] += (ga[j] - a[j] * ag) / norm;
}

/**
 * backAmplitude for an encoding on the whole register in index order (V|0⟩ = Σ_j a_j |j⟩, a = x/‖x‖): ψ and λ before
 * it are v = Σ a_j ψ_j and u = Σ a_j λ_j on |0⟩ (one SIMD pass, rdot2, weighted by x and divided by ‖x‖),
 * ∂L/∂a_j = 2 Re(conj(λ_j) v) and a·∂L/∂a = 2 Re(conj(u) v).
 */
function backWholeAmplitude(run: Runner, st: AmpStep, norm: number, out: Grads): void {
  const { rows } = run;
  run.ampFeaturesToW(st, out.row);
  const sums = run.sums4;
  rows.weightedSums(sums);
  const vr = sums[0] / norm;
  const vi = sums[1] / norm;
  const ur = sums[2] / norm;
  const ui = sums[3] / norm;
  const ag = 2 * (vr * ur + vi * ui);
  const l = rows.lam;
  const x = run.inputs;
  const x0 = out.row * run.prog.numInputs + st.start;
  const d0 = (out.row - out.dRow0) * run.prog.numInputs + st.start;
  const agn = ag / norm;
  for (let j = 0; j < st.length; j++)
    out.dInputs[d0 + j] += (2 * (l[2 * j] * vr + l[2 * j + 1] * vi) - x[x0 + j] * agn) / norm;
  const s = run.psi;
  s.fill(0);
  l.fill(0);
  s[0] = vr;
  s[1] = vi;
  l[0] = ur;
  l[1] = ui;
}

/**
 * Σ over the i ⊇ cmask of w_i (−1)^|i & sign| from W, the Walsh–Hadamard transform of w: the indicator of
 * i ⊇ cmask is 2^−|cmask| Σ over S ⊆ cmask of (−1)^|S| (−1)^|i & S|.
 */
function walshSum(W: Float32Array | Float64Array, sign: number, cmask: number): number {
  if (cmask === 0) return W[sign];
  let acc = 0;
  let terms = 0;
  for (let sub = cmask; ; sub = (sub - 1) & cmask) {
    let odd = 0;
    for (let c = sub; c !== 0; c &= c - 1) odd ^= 1;
    acc += odd ? -W[sign ^ sub] : W[sign ^ sub];
    terms++;
    if (sub === 0) break;
  }
  return acc / terms;
}

/** Im Tr(G ρ) for a one-qubit primitive's generator G (ρ_ab = Σ ψ_a conj(λ_b), so Tr(Gρ) = ⟨λ|G|ψ⟩). */
function genTraceIm(pr: Prim, rho: Float64Array): number {
  // rho: [00r, 00i, 01r, 01i, 10r, 10i, 11r, 11i]
  if (pr.kind === K_PHASE) return -rho[7]; // G = −|1⟩⟨1|
  if (pr.pauli === 0) return 0.5 * (rho[5] + rho[3]); // X/2: ρ10 + ρ01
  if (pr.pauli === 1) return 0.5 * (-rho[4] + rho[2]); // Y/2: −iρ10 + iρ01 → Im = −Re ρ10 + Re ρ01
  return 0.5 * (rho[1] - rho[7]); // Z/2
}
