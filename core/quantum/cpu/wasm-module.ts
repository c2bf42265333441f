// WebAssembly SIMD (f32x4) one-qubit kernels on an interleaved complex64 state, generated as bytes by
// core/util/wasm-asm.ts. Exports, each in place on the 2^n amplitudes at byte address `s` (dim ≥ 2):
//   gen(s, dim, p, m0r, m0i, m1r, m1i, m2r, m2i, m3r, m3i, d) generic 2×2 [[m0, m1], [m2, m3]] on bit p
//   real(s, dim, p, m0, m1, m2, m3, d)                       real 2×2
//     (gen and real write to s + d: d = 0, or an omitted d, is in place; else out of place into another row)
//   diag(s, dim, p, skip0, d0r, d0i, d1r, d1i)               diag(d0, d1); skip0 ≠ 0 leaves the |0⟩ half alone
//   adj(t, l, dim, p, m0r, …, m3i, out)                      the taped adjoint step: λ at l ← M·λ, with ψ read
//                                                            at t; four f32x4 partial sums of the cross density
//                                                            ψ·λ† on bit p stored at out (see adjFn)
//   gather(src, dst, idx, dim)                               dst_j = src at byte offset idx_j (a permutation
//                                                            of basis states, idx as i32 byte offsets)
//   dmul(src, dst, tab, dim)                                 dst_i = tab_i · src_i (a diagonal table; src may be dst)
//   dadj(t, l, tab, dim, w)                                  w_i = Im(conj(λ_i) ψ_i) as f32 at w, λ_i ← conj(tab_i) λ_i
//   wht(w, dim)                                              in-place Walsh–Hadamard transform of dim f32 at w:
//                                                            W_m = Σ_i w_i (−1)^popcount(i & m) (dim ≥ 8)
// For p ≥ 1 one f32x4 holds two neighbouring amplitudes with the same bit p, so a and b vectors pair up
// lane by lane; for p = 0 one f32x4 holds one whole pair (a, b) and the matrix is spread over the lanes.
import { assemble, F32, Fn, I32, V128 } from '../../util/wasm-asm';

// complex × vector: re·v + im·swap(v)·SIGN, where swap exchanges re and im inside each complex lane pair
const SWAP: [number, number, number, number] = [1, 0, 3, 2];
const SIGN: [number, number, number, number] = [-1, 1, -1, 1];

/** Splat of (re, im) into the two vectors R = [re]×4 and I = [−im, im, −im, im]. */
function splatComplex(f: Fn, re: number, im: number, R: number, I: number): void {
  f.get(re).f32x4Splat().set(R);
  f.get(im).f32x4Splat().v128ConstF32(SIGN).f32x4Mul().set(I);
}

/** [x, x, y, y] from two f32 locals (p = 0: lanes 0–1 belong to a, 2–3 to b). */
function spread(f: Fn, x: number, y: number, out: number, signed: boolean): void {
  f.get(x).f32x4Splat().get(y).f32x4Splat().shuffleF32([0, 1, 4, 5]);
  if (signed) f.v128ConstF32(SIGN).f32x4Mul();
  f.set(out);
}

/** Pushes one output row for p ≥ 1: a·R0 + swap(a)·I0 + b·R1 + swap(b)·I1 (R, I as from splatComplex). */
function rowTimes(
  f: Fn,
  a: number,
  sa: number,
  b: number,
  sb: number,
  R0: number,
  I0: number,
  R1: number,
  I1: number,
): void {
  f.get(a).get(R0).f32x4Mul().get(sa).get(I0).f32x4Mul().f32x4Add();
  f.get(b).get(R1).f32x4Mul().get(sb).get(I1).f32x4Mul().f32x4Add().f32x4Add();
}

/**
 * Pushes M·v for p = 0, where v = [a | b] is one whole pair and the matrix is spread over the lanes
 * (M0 = [m0 m0 m2 m2], M1 = [m1 m1 m3 m3], imaginary parts signed): M0·[a a] + M1·[b b]. `t` is a scratch local.
 */
function pairTimesSpread(
  f: Fn,
  v: number,
  t: number,
  M0R: number,
  M0I: number,
  M1R: number,
  M1I: number,
): void {
  f.get(v).get(v).shuffleF32([0, 1, 0, 1]).tee(t).get(M0R).f32x4Mul();
  f.get(t).get(t).shuffleF32(SWAP).get(M0I).f32x4Mul().f32x4Add();
  f.get(v).get(v).shuffleF32([2, 3, 2, 3]).tee(t).get(M1R).f32x4Mul().f32x4Add();
  f.get(t).get(t).shuffleF32(SWAP).get(M1I).f32x4Mul().f32x4Add();
}

/**
 * Emits the loop over a-vectors for p ≥ 1: a runs over the first half of every 2^(p+1)-amplitude block,
 * b = a + 8·2^p bytes; `body` reads and writes through locals a and b.
 */
function pairLoop(f: Fn, s: number, dim: number, p: number, a: number, b: number, body: () => void): void {
  const half = f.local(I32);
  const end = f.local(I32);
  const base = f.local(I32);
  const stop = f.local(I32);
  f.i32(8).get(p).shl().set(half);
  f.get(s).get(dim).i32(3).shl().add().set(end);
  f.get(s).set(base);
  f.loop();
  f.get(base).set(a);
  f.get(base).get(half).add().set(stop);
  f.loop();
  f.get(a).get(half).add().set(b);
  body();
  f.get(a).i32(16).add().tee(a).get(stop).ltS().brIf(0);
  f.end();
  f.get(base).get(half).i32(1).shl().add().tee(base).get(end).ltS().brIf(0);
  f.end();
}

/** Emits the loop over whole-pair vectors for p = 0; `body` reads and writes through local a. */
function flatLoop(f: Fn, s: number, dim: number, a: number, body: () => void): void {
  const end = f.local(I32);
  f.get(s).get(dim).i32(3).shl().add().set(end);
  f.get(s).set(a);
  f.loop();
  body();
  f.get(a).i32(16).add().tee(a).get(end).ltS().brIf(0);
  f.end();
}

function genFn(): Fn {
  const f = new Fn('gen', [I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, F32, I32]);
  const [s, dim, p, m0r, m0i, m1r, m1i, m2r, m2i, m3r, m3i, d] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const a = f.local(I32);
  const b = f.local(I32);
  // M0R, M0I … M3I: the matrix as splatted (p ≥ 1) or spread (p = 0) vectors
  const M = Array.from({ length: 8 }, () => f.local(V128));
  const [M0R, M0I, M1R, M1I, M2R, M2I, M3R, M3I] = M;
  const [va, vb, sa, sb] = Array.from({ length: 4 }, () => f.local(V128));
  f.get(p).eqz().if();
  {
    // lanes [a | b]: out = A·[a a] + A'·swap[a a] + B·[b b] + B'·swap[b b], A = [m0 m0 m2 m2], B = [m1 m1 m3 m3]
    spread(f, m0r, m2r, M0R, false);
    spread(f, m0i, m2i, M0I, true);
    spread(f, m1r, m3r, M1R, false);
    spread(f, m1i, m3i, M1I, true);
    flatLoop(f, s, dim, a, () => {
      f.get(a).v128Load().set(va);
      f.get(a).get(d).add();
      pairTimesSpread(f, va, vb, M0R, M0I, M1R, M1I);
      f.v128Store();
    });
  }
  f.else();
  {
    for (let k = 0; k < 4; k++) splatComplex(f, m0r + 2 * k, m0r + 2 * k + 1, M[2 * k], M[2 * k + 1]);
    pairLoop(f, s, dim, p, a, b, () => {
      f.get(a).v128Load().tee(va).get(va).shuffleF32(SWAP).set(sa);
      f.get(b).v128Load().tee(vb).get(vb).shuffleF32(SWAP).set(sb);
      const out = (R0: number, I0: number, R1: number, I1: number) =>
        rowTimes(f, va, sa, vb, sb, R0, I0, R1, I1);
      f.get(a).get(d).add();
      out(M0R, M0I, M1R, M1I);
      f.v128Store();
      f.get(b).get(d).add();
      out(M2R, M2I, M3R, M3I);
      f.v128Store();
    });
  }
  f.end();
  return f;
}

function realFn(): Fn {
  const f = new Fn('real', [I32, I32, I32, F32, F32, F32, F32, I32]);
  const [s, dim, p, m0, m1, m2, m3, d] = [0, 1, 2, 3, 4, 5, 6, 7];
  const a = f.local(I32);
  const b = f.local(I32);
  const [A, B, C, D, va, vb] = Array.from({ length: 6 }, () => f.local(V128));
  f.get(p).eqz().if();
  {
    spread(f, m0, m2, A, false);
    spread(f, m1, m3, B, false);
    flatLoop(f, s, dim, a, () => {
      f.get(a).v128Load().set(va);
      f.get(a).get(d).add();
      f.get(va).get(va).shuffleF32([0, 1, 0, 1]).get(A).f32x4Mul();
      f.get(va).get(va).shuffleF32([2, 3, 2, 3]).get(B).f32x4Mul().f32x4Add();
      f.v128Store();
    });
  }
  f.else();
  {
    f.get(m0).f32x4Splat().set(A);
    f.get(m1).f32x4Splat().set(B);
    f.get(m2).f32x4Splat().set(C);
    f.get(m3).f32x4Splat().set(D);
    pairLoop(f, s, dim, p, a, b, () => {
      f.get(a).v128Load().set(va);
      f.get(b).v128Load().set(vb);
      f.get(a).get(d).add().get(va).get(A).f32x4Mul().get(vb).get(B).f32x4Mul().f32x4Add().v128Store();
      f.get(b).get(d).add().get(va).get(C).f32x4Mul().get(vb).get(D).f32x4Mul().f32x4Add().v128Store();
    });
  }
  f.end();
  return f;
}

function diagFn(): Fn {
  const f = new Fn('diag', [I32, I32, I32, I32, F32, F32, F32, F32]);
  const [s, dim, p, skip0, d0r, d0i, d1r, d1i] = [0, 1, 2, 3, 4, 5, 6, 7];
  const a = f.local(I32);
  const b = f.local(I32);
  const [R0, I0, R1, I1, va] = Array.from({ length: 5 }, () => f.local(V128));
  // one vector at address x times (R, I): R·v + I·swap(v), stored back in place
  const scale = (x: number, R: number, I: number) => {
    f.get(x).v128Load().set(va);
    f.get(x).get(va).get(R).f32x4Mul().get(va).get(va).shuffleF32(SWAP).get(I).f32x4Mul().f32x4Add();
    f.v128Store();
  };
  f.get(p).eqz().if();
  {
    spread(f, d0r, d1r, R0, false);
    spread(f, d0i, d1i, I0, true);
    flatLoop(f, s, dim, a, () => scale(a, R0, I0));
  }
  f.else();
  {
    splatComplex(f, d0r, d0i, R0, I0);
    splatComplex(f, d1r, d1i, R1, I1);
    f.get(skip0).if();
    pairLoop(f, s, dim, p, a, b, () => scale(b, R1, I1));
    f.else();
    pairLoop(f, s, dim, p, a, b, () => {
      scale(a, R0, I0);
      scale(b, R1, I1);
    });
    f.end();
  }
  f.end();
  return f;
}

/**
 * The backward step of the adjoint method with a forward tape: ψ (after the step) is read at t, λ at l is
 * replaced by M·λ (M = U†), and the sums that give the anti-Hermitian part of ρ = Σ ψ λ† on bit p are left
 * at out as four f32x4 vectors A, B, C, D, combined by the caller (crossDensity in wasm.ts):
 *   p ≥ 1: A = Σ ψa·swap(λa), B = Σ ψb·swap(λb), C = Σ ψa·λb − ψb·λa, D = Σ ψa·swap(λb) + ψb·swap(λa)
 *   p = 0: A = Σ v·swap(l), B = 0, C = Σ v·l[2,3,0,1], D = Σ v·l[3,2,1,0], with v = [ψa ψb], l = [λa λb]
 */
function adjFn(): Fn {
  const f = new Fn('adj', [I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, F32, I32]);
  const [t, l, dim, p, m0r, m0i, m1r, m1i, m2r, m2i, m3r, m3i, out] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
  ];
  const a = f.local(I32);
  const b = f.local(I32);
  const d = f.local(I32);
  // M0R, M0I … M3I: the matrix as splatted (p ≥ 1) or spread (p = 0) vectors
  const M = Array.from({ length: 8 }, () => f.local(V128));
  const [M0R, M0I, M1R, M1I, M2R, M2I, M3R, M3I] = M;
  const [la, lb, va, vb, sla, slb, A, B, C, D] = Array.from({ length: 10 }, () => f.local(V128));
  f.get(t).get(l).sub().set(d);
  for (const acc of [A, B, C, D]) f.v128Zero().set(acc);
  f.get(p).eqz().if();
  {
    spread(f, m0r, m2r, M0R, false);
    spread(f, m0i, m2i, M0I, true);
    spread(f, m1r, m3r, M1R, false);
    spread(f, m1i, m3i, M1I, true);
    flatLoop(f, l, dim, a, () => {
      f.get(a).v128Load().set(la);
      f.get(a).get(d).add().v128Load().set(va);
      f.get(A).get(va).get(la).get(la).shuffleF32(SWAP).f32x4Mul().f32x4Add().set(A);
      f.get(C).get(va).get(la).get(la).shuffleF32([2, 3, 0, 1]).f32x4Mul().f32x4Add().set(C);
      f.get(D).get(va).get(la).get(la).shuffleF32([3, 2, 1, 0]).f32x4Mul().f32x4Add().set(D);
      f.get(a);
      pairTimesSpread(f, la, vb, M0R, M0I, M1R, M1I);
      f.v128Store();
    });
  }
  f.else();
  {
    for (let k = 0; k < 4; k++) splatComplex(f, m0r + 2 * k, m0r + 2 * k + 1, M[2 * k], M[2 * k + 1]);
    pairLoop(f, l, dim, p, a, b, () => {
      f.get(a).v128Load().tee(la).get(la).shuffleF32(SWAP).set(sla);
      f.get(b).v128Load().tee(lb).get(lb).shuffleF32(SWAP).set(slb);
      f.get(a).get(d).add().v128Load().set(va);
      f.get(b).get(d).add().v128Load().set(vb);
      f.get(A).get(va).get(sla).f32x4Mul().f32x4Add().set(A);
      f.get(B).get(vb).get(slb).f32x4Mul().f32x4Add().set(B);
      f.get(C).get(va).get(lb).f32x4Mul().f32x4Add().get(vb).get(la).f32x4Mul().f32x4Sub().set(C);
      f.get(D).get(va).get(slb).f32x4Mul().f32x4Add().get(vb).get(sla).f32x4Mul().f32x4Add().set(D);
      const upd = (R0: number, I0: number, R1: number, I1: number) =>
        rowTimes(f, la, sla, lb, slb, R0, I0, R1, I1);
      f.get(a);
      upd(M0R, M0I, M1R, M1I);
      f.v128Store();
      f.get(b);
      upd(M2R, M2I, M3R, M3I);
      f.v128Store();
    });
  }
  f.end();
  f.get(out).get(A).v128Store(0);
  f.get(out).get(B).v128Store(16);
  f.get(out).get(C).v128Store(32);
  f.get(out).get(D).v128Store(48);
  return f;
}

function gatherFn(): Fn {
  const f = new Fn('gather', [I32, I32, I32, I32]);
  const [src, dst, idx, dim] = [0, 1, 2, 3];
  const end = f.local(I32);
  f.get(dst).get(dim).i32(3).shl().add().set(end);
  f.loop();
  f.get(dst).get(src).get(idx).i32Load().add().i64Load().i64Store();
  f.get(idx).i32(4).add().set(idx);
  f.get(dst).i32(8).add().tee(dst).get(end).ltS().brIf(0);
  f.end();
  return f;
}

/** [re0 re0 re1 re1] and [−im0 im0 −im1 im1]·sign of two table entries, for T·v = v·R + swap(v)·I. */
function tableVectors(f: Fn, t: number, R: number, I: number, conj: boolean): void {
  f.get(t).get(t).shuffleF32([0, 0, 2, 2]).set(R);
  f.get(t).get(t).shuffleF32([1, 1, 3, 3]);
  f.v128ConstF32(conj ? [1, -1, 1, -1] : SIGN)
    .f32x4Mul()
    .set(I);
}

function dmulFn(): Fn {
  const f = new Fn('dmul', [I32, I32, I32, I32]);
  const [src, dst, tab, dim] = [0, 1, 2, 3];
  const end = f.local(I32);
  const [T, R, I, v] = Array.from({ length: 4 }, () => f.local(V128));
  f.get(dst).get(dim).i32(3).shl().add().set(end);
  f.loop();
  f.get(tab).v128Load().set(T);
  tableVectors(f, T, R, I, false);
  f.get(src).v128Load().set(v);
  f.get(dst).get(v).get(R).f32x4Mul().get(v).get(v).shuffleF32(SWAP).get(I).f32x4Mul().f32x4Add().v128Store();
  f.get(src).i32(16).add().set(src);
  f.get(tab).i32(16).add().set(tab);
  f.get(dst).i32(16).add().tee(dst).get(end).ltS().brIf(0);
  f.end();
  return f;
}

/** Two complexes per vector, two vectors per step (dim ≥ 4): four w values stored as one f32x4. */
function dadjFn(): Fn {
  const f = new Fn('dadj', [I32, I32, I32, I32, I32]);
  const [t, l, tab, dim, w] = [0, 1, 2, 3, 4];
  const end = f.local(I32);
  const [T, R, I, y, L, Pa, Pb] = Array.from({ length: 7 }, () => f.local(V128));
  f.get(l).get(dim).i32(3).shl().add().set(end);
  f.loop();
  for (const half of [0, 16]) {
    const P = half === 0 ? Pa : Pb;
    f.get(t).v128Load(half).set(y);
    f.get(l).v128Load(half).set(L);
    // P = λ·swap(ψ) = [lr·yi, li·yr, …]; w = P0 − P1 per complex
    f.get(L).get(y).get(y).shuffleF32(SWAP).f32x4Mul().set(P);
    f.get(P).get(P).get(P).shuffleF32(SWAP).f32x4Sub().set(P);
    f.get(tab).v128Load(half).set(T);
    tableVectors(f, T, R, I, true);
    f.get(l)
      .get(L)
      .get(R)
      .f32x4Mul()
      .get(L)
      .get(L)
      .shuffleF32(SWAP)
      .get(I)
      .f32x4Mul()
      .f32x4Add()
      .v128Store(half);
  }
  f.get(w).get(Pa).get(Pb).shuffleF32([0, 2, 4, 6]).v128Store();
  f.get(w).i32(16).add().set(w);
  f.get(t).i32(32).add().set(t);
  f.get(tab).i32(32).add().set(tab);
  f.get(l).i32(32).add().tee(l).get(end).ltS().brIf(0);
  f.end();
  return f;
}

function whtFn(): Fn {
  const f = new Fn('wht', [I32, I32]);
  const [w, dim] = [0, 1];
  const x = f.local(I32);
  const end = f.local(I32);
  const p = f.local(I32);
  const dh = f.local(I32);
  const a = f.local(I32);
  const b = f.local(I32);
  const [v, u, A, B] = Array.from({ length: 4 }, () => f.local(V128));
  f.get(w).get(dim).i32(2).shl().add().set(end);
  // strides 1 and 2 inside each f32x4
  f.get(w).set(x);
  f.loop();
  f.get(x).v128Load().set(v);
  f.get(v).get(v).shuffleF32([0, 0, 2, 2]);
  f.get(v).get(v).shuffleF32([1, 1, 3, 3]).v128ConstF32([1, -1, 1, -1]).f32x4Mul().f32x4Add().set(u);
  f.get(x);
  f.get(u).get(u).shuffleF32([0, 1, 0, 1]);
  f.get(u).get(u).shuffleF32([2, 3, 2, 3]).v128ConstF32([1, 1, -1, -1]).f32x4Mul().f32x4Add();
  f.v128Store();
  f.get(x).i32(16).add().tee(x).get(end).ltS().brIf(0);
  f.end();
  // strides of 4 floats and up: as pairs of "amplitudes" (8 bytes) on bit p of a dim/2-amplitude row
  f.get(dim).i32(1).shrU().set(dh);
  f.i32(1).set(p);
  f.i32(7).get(dim).ltS().if();
  f.loop();
  pairLoop(f, w, dh, p, a, b, () => {
    f.get(a).v128Load().set(A);
    f.get(b).v128Load().set(B);
    f.get(a).get(A).get(B).f32x4Add().v128Store();
    f.get(b).get(A).get(B).f32x4Sub().v128Store();
  });
  f.get(p).i32(1).add().set(p);
  // next stride 8·2^p bytes, while it is at most half the row (4·dim bytes)
  f.i32(8).get(p).shl().get(dim).i32(2).shl().ltS().brIf(0);
  f.end();
  f.end();
  return f;
}

/** The module's bytes; its memory import is env.mem (unshared) with the given page limits. */
export function stateModuleBytes(mem: { min: number; max: number }): Uint8Array<ArrayBuffer> {
  return assemble([genFn(), realFn(), diagFn(), adjFn(), gatherFn(), dmulFn(), dadjFn(), whtFn()], {
    ...mem,
    shared: false,
  });
}
