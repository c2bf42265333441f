// WebAssembly SIMD state-vector kernels on an interleaved complex state, generated as bytes by
// core/util/wasm-asm.ts, in two precisions from one generator: f32 (f32x4, complex64 rows) and f64 (f64x2,
// complex128 rows). Exports, each on the 2^n amplitudes at byte address `s` (dim ≥ 2; f32 dadj/wht need dim ≥ 4):
//   gen(s, dim, p, m0r, m0i, m1r, m1i, m2r, m2i, m3r, m3i, d, cmask) generic 2×2 [[m0, m1], [m2, m3]] on bit p
//   real(s, dim, p, m0, m1, m2, m3, d, cmask)                       real 2×2
//     (gen and real write to s + d: d = 0, or an omitted d, is in place; else out of place into another row)
//   diag(s, dim, p, skip0, d0r, d0i, d1r, d1i, cmask)               diag(d0, d1); skip0 ≠ 0 leaves the |0⟩ half alone
//   adj(t, l, dim, p, m0r, …, m3i, out, cmask)                      the taped adjoint step: λ at l ← M·λ, with ψ read
//                                                                   at t; four vectors of partial sums of the cross
//                                                                   density ψ·λ† on bit p stored at out (see adjFn)
//     (cmask ≠ 0: only the pairs whose index has every bit of cmask set — a controlled gate; in place only, d is
//      ignored; cmask must not hold bit p)
//   adjs(t, l, dim, p, m0r, …, m3i, out, cmask)                     adj's sums only, λ left as it is (the matrix is
//                                                                   not read): the cross density of a block whose
//                                                                   λ update comes later (Runner's tape runs)
//   gather(src, dst, idx, dim)                                      dst_j = src at byte offset idx_j (a permutation
//                                                                   of basis states, idx as i32 byte offsets)
//   dmul(src, dst, tab, dim)                                        dst_i = tab_i · src_i (a diagonal table; src may be dst)
//   dadj(t, l, tab, dim, w)                                         w_i = Im(conj(λ_i) ψ_i) at w (f32 or f64 as the
//                                                                   rows), λ_i ← conj(tab_i) λ_i
//   wht(w, dim)                                                     in-place Walsh–Hadamard transform of dim values
//                                                                   at w: W_m = Σ_i w_i (−1)^popcount(i & m)
//   norm2(s, w, dim)                                                w_i = |s_i|² at w (f32 or f64 as the rows; f32 dim ≥ 4)
//   rmul(src, dst, w, dim)                                          dst_i = w_i · src_i for real w_i (src may be dst)
//   rset(dst, w, dim, vr, vi)                                       dst_i = w_i · (vr + i·vi) for real w_i
//   rdot2(s, l, w, dim, out)                                        Σ w_i s_i and Σ w_i l_i (partial sums) at out
// f64: one f64x2 is one amplitude (re, im), so a and b vectors pair up lane by lane on every bit. f32: for p ≥ 1
// one f32x4 holds two neighbouring amplitudes with the same bit p, so a and b vectors pair up lane by lane; for
// p = 0 one f32x4 holds one whole pair (a, b) and the matrix is spread over the lanes. A control on bit 0 in f32
// selects lanes 2–3 of a vector (v128.bitselect); other controls skip whole vectors.
import { assemble, F32, F64, Fn, I32, V128, type ValType } from '../../util/wasm-asm';
import type { Precision } from '../backend';

// complex × vector: re·v + im·swap(v)·SIGN, where swap exchanges re and im inside each complex lane pair
const SWAP: [number, number, number, number] = [1, 0, 3, 2];
const SIGN: [number, number, number, number] = [-1, 1, -1, 1];

/** What differs between the f32x4 and the f64x2 kernels: the lanes and the ops on them. */
interface Lanes {
  readonly prec: Precision;
  readonly scalar: ValType;
  /** log2 of the bytes per amplitude (8 or 16). */
  readonly shift: number;
  splat(f: Fn): Fn;
  mul(f: Fn): Fn;
  add(f: Fn): Fn;
  sub(f: Fn): Fn;
  /** Pushes v with re and im exchanged in every complex. */
  swap(f: Fn, v: number): Fn;
  /** Pushes the constant [−1, 1, …] (the sign of im·swap(v) in a complex product). */
  sign(f: Fn): Fn;
  /** Relaxed-SIMD fused multiply-add where the module is built with it: stack a, b, c → a·b + c. */
  madd?: (f: Fn) => Fn;
}

/**
 * The lanes with relaxed-SIMD multiply-adds, for the adjoint step's λ update (M·λ: one mul and three fused
 * multiply-adds a row instead of four muls and three adds): `adj` at n = 11 1.10× faster in f64 and f32 (per call,
 * all bits, CPU time, A/B in one process). Not in its four cross-density sums: there the multiply-add sits on the
 * loop-carried chain of each accumulator, whose latency it lengthens, and the kernel measured no faster (0.98–1.02).
 */
function withFma(L: Lanes): Lanes {
  return { ...L, madd: L.prec === 'f32' ? (f) => f.f32x4RelaxedMadd() : (f) => f.f64x2RelaxedMadd() };
}

const L32: Lanes = {
  prec: 'f32',
  scalar: F32,
  shift: 3,
  splat: (f) => f.f32x4Splat(),
  mul: (f) => f.f32x4Mul(),
  add: (f) => f.f32x4Add(),
  sub: (f) => f.f32x4Sub(),
  swap: (f, v) => f.get(v).get(v).shuffleF32(SWAP),
  sign: (f) => f.v128ConstF32(SIGN),
};

const L64: Lanes = {
  prec: 'f64',
  scalar: F64,
  shift: 4,
  splat: (f) => f.f64x2Splat(),
  mul: (f) => f.f64x2Mul(),
  add: (f) => f.f64x2Add(),
  sub: (f) => f.f64x2Sub(),
  swap: (f, v) => f.get(v).get(v).shuffleF64([1, 0]),
  sign: (f) => f.v128ConstF64([-1, 1]),
};

/** Splat of (re, im) into the two vectors R = [re, re, …] and I = [−im, im, …]. */
function splatComplex(f: Fn, L: Lanes, re: number, im: number, R: number, I: number): void {
  L.splat(f.get(re)).set(R);
  L.mul(L.sign(L.splat(f.get(im)))).set(I);
}

/** [x, x, y, y] from two f32 locals (f32, p = 0: lanes 0–1 belong to a, 2–3 to b). */
function spread(f: Fn, x: number, y: number, out: number, signed: boolean): void {
  f.get(x).f32x4Splat().get(y).f32x4Splat().shuffleF32([0, 1, 4, 5]);
  if (signed) f.v128ConstF32(SIGN).f32x4Mul();
  f.set(out);
}

/** Pushes one output row: a·R0 + swap(a)·I0 + b·R1 + swap(b)·I1 (R, I as from splatComplex). */
function rowTimes(
  f: Fn,
  L: Lanes,
  a: number,
  sa: number,
  b: number,
  sb: number,
  R0: number,
  I0: number,
  R1: number,
  I1: number,
): void {
  if (L.madd) {
    // ((a·R0 + sa·I0) + b·R1) + sb·I1, each step one fused multiply-add
    f.get(sb).get(I1).get(b).get(R1).get(sa).get(I0);
    L.mul(f.get(a).get(R0));
    L.madd(L.madd(L.madd(f)));
    return;
  }
  L.mul(f.get(a).get(R0));
  L.add(L.mul(f.get(sa).get(I0)));
  L.mul(f.get(b).get(R1));
  L.add(L.mul(f.get(sb).get(I1)));
  L.add(f);
}

/**
 * Pushes M·v for f32, p = 0, where v = [a | b] is one whole pair and the matrix is spread over the lanes
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
 * Emits the loop over a-vectors (16 bytes each): a runs over the first half of every 2^(p+1)-amplitude block,
 * b = a + 2^p amplitudes; `body` reads and writes through locals a and b. f32 needs p ≥ 1 (two amplitudes per vector).
 * Where a block's half is under four vectors (f32 p ≤ 2, f64 p ≤ 1) one flat loop runs over the a-vectors, a zero
 * inserted at the half's bit of a running offset (a nest whose inner loop ran once or twice cost the adjoint step
 * ~45 % at f32 p = 1 and f64 p = 0); else a loop over blocks around a loop over the half.
 */
function pairLoop(
  f: Fn,
  L: Lanes,
  s: number,
  dim: number,
  p: number,
  a: number,
  b: number,
  body: () => void,
  flatBelow = 64,
): void {
  const half = f.local(I32, 'half');
  const end = f.local(I32, 'end');
  const base = f.local(I32, 'base');
  const stop = f.local(I32, 'stop');
  f.i32(1 << L.shift)
    .get(p)
    .shl()
    .set(half);
  f.get(half).i32(flatBelow).ltS().if();
  {
    // x over the bytes of half the state; a = s + x + (x & −half)
    const x = stop;
    f.get(dim)
      .i32(L.shift - 1)
      .shl()
      .set(end);
    f.i32(0).set(x);
    f.loop();
    f.get(s).get(x).add().get(x).i32(0).get(half).sub().and().add().tee(a).get(half).add().set(b);
    body();
    f.get(x).i32(16).add().tee(x).get(end).ltS().brIf(0);
    f.end();
  }
  f.else();
  f.get(s).get(dim).i32(L.shift).shl().add().set(end);
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
  f.end();
}

/** Emits the loop over whole-pair vectors for f32, p = 0; `body` reads and writes through local a. */
function flatLoop(f: Fn, s: number, dim: number, a: number, body: () => void): void {
  const end = f.local(I32, 'end');
  f.get(s).get(dim).i32(3).shl().add().set(end);
  f.get(s).set(a);
  f.loop();
  body();
  f.get(a).i32(16).add().tee(a).get(end).ltS().brIf(0);
  f.end();
}

/**
 * A controlled kernel's filter: `cm`, the control bits a whole vector shares (f32: bit 0 differs inside a vector,
 * so it is left out), and `K`, the lanes of a vector that are controlled (f32: [0, 0, ~0, ~0] for a control on bit
 * 0, else every lane; f64: unused). Emitted at the top of the function.
 */
interface Ctrl {
  on: boolean;
  cm: number;
  K: number;
  L: Lanes;
  base: number;
}

function ctrlLocals(f: Fn, L: Lanes, cmask: number, base: number): Ctrl {
  const cm = f.local(I32, 'cm');
  const K = f.local(V128, 'K');
  if (L.prec === 'f32') {
    f.get(cmask).i32(-2).and().set(cm);
    f.v128ConstI32([0, 0, -1, -1]).v128ConstI32([-1, -1, -1, -1]).get(cmask).i32(1).and().select().set(K);
  } else f.get(cmask).set(cm);
  return { on: false, cm, K, L, base };
}

/** `body` for the vector at address x, or — controlled — only when its index has every bit of cm set. */
function guarded(f: Fn, c: Ctrl, x: number, body: () => void): () => void {
  if (!c.on) return body;
  return () => {
    f.get(x).get(c.base).sub().i32(c.L.shift).shrU().get(c.cm).and().get(c.cm).eq().if();
    body();
    f.end();
  };
}

/** Stores the vector on the stack (address below it); controlled f32: lanes outside K keep `old`. */
function store(f: Fn, c: Ctrl, old: number): void {
  if (c.on && c.L.prec === 'f32') f.get(old).get(c.K).v128Bitselect();
  f.v128Store();
}

/** Emits `emit` twice: for cmask = 0 (c.on false) and for cmask ≠ 0 (c.on true). */
function byControl(f: Fn, cmask: number, c: Ctrl, emit: () => void): void {
  f.get(cmask).eqz().if();
  c.on = false;
  emit();
  f.else();
  c.on = true;
  emit();
  f.end();
  c.on = false;
}

/**
 * Stores M·(x, y) at the addresses `at` pushes for a and b, with x, y and their re/im swaps in locals and M as eight
 * vectors (M0R, M0I … M3I from splatComplex); controlled f32: lanes outside the control keep x and y.
 */
function applyPair(
  f: Fn,
  L: Lanes,
  c: Ctrl,
  at: (addr: number) => void,
  [a, b]: [number, number],
  [x, sx, y, sy]: [number, number, number, number],
  M: number[],
): void {
  at(a);
  rowTimes(f, L, x, sx, y, sy, M[0], M[1], M[2], M[3]);
  store(f, c, x);
  at(b);
  rowTimes(f, L, x, sx, y, sy, M[4], M[5], M[6], M[7]);
  store(f, c, y);
}

/** Parameter names of a 2×2 given as eight scalars (m0r, m0i … m3i) and of a pair kernel's two (a0r … a3i, b0r … b3i). */
const matParams = (m: string) => [0, 1, 2, 3].flatMap((k) => [`${m}${k}r`, `${m}${k}i`]);
const MAT_PARAMS = matParams('m');
const PAIR_PARAMS = [...matParams('a'), ...matParams('b')];

/**
 * The loops of a one-qubit kernel whose 2×2 comes as eight scalar parameters from m0r on: f32, p = 0, the matrix
 * spread over the lanes (M0R … M1I) and `flat` once per whole-pair vector at a; else the matrix splatted (M0R … M3I),
 * the pair (x at a, y at b) loaded with their re/im swaps into `xy`, then `pair`. Each for cmask = 0 and ≠ 0.
 */
function matrixLoops(
  f: Fn,
  L: Lanes,
  c: Ctrl,
  k: {
    s: number;
    dim: number;
    p: number;
    m0r: number;
    cmask: number;
    a: number;
    b: number;
    M: number[];
    flatBelow?: number;
  },
  [x, sx, y, sy]: [number, number, number, number],
  body: { flat: () => void; pair: () => void },
): void {
  const { s, dim, p, m0r, cmask, a, b, M, flatBelow } = k;
  if (L.prec === 'f32') {
    f.get(p).eqz().if();
    for (let j = 0; j < 4; j++) spread(f, m0r + j, m0r + 4 + j, M[j], (j & 1) === 1);
    byControl(f, cmask, c, () => flatLoop(f, s, dim, a, guarded(f, c, a, body.flat)));
    f.else();
  }
  for (let j = 0; j < 4; j++) splatComplex(f, L, m0r + 2 * j, m0r + 2 * j + 1, M[2 * j], M[2 * j + 1]);
  byControl(f, cmask, c, () =>
    pairLoop(
      f,
      L,
      s,
      dim,
      p,
      a,
      b,
      guarded(f, c, a, () => {
        f.get(a).v128Load().set(x);
        L.swap(f, x).set(sx);
        f.get(b).v128Load().set(y);
        L.swap(f, y).set(sy);
        body.pair();
      }),
      flatBelow,
    ),
  );
  if (L.prec === 'f32') f.end();
}

function genFn(L: Lanes): Fn {
  const S = L.scalar;
  const f = new Fn('gen', [I32, I32, I32, S, S, S, S, S, S, S, S, I32, I32]).named(
    's',
    'dim',
    'p',
    ...MAT_PARAMS,
    'd',
    'cmask',
  );
  const [s, dim, p, m0r, d, cmask] = [0, 1, 2, 3, 11, 12];
  const a = f.local(I32, 'a');
  const b = f.local(I32, 'b');
  // M0R, M0I … M3I: the matrix as splatted (general) or spread (f32, p = 0) vectors
  const M = Array.from({ length: 8 }, (_, i) => f.local(V128, `M${i >> 1}${i & 1 ? 'I' : 'R'}`));
  const [M0R, M0I, M1R, M1I] = M;
  const [va, vb, sa, sb] = ['va', 'vb', 'sa', 'sb'].map((n) => f.local(V128, n));
  const c = ctrlLocals(f, L, cmask, s);
  const dest = (x: number) => {
    f.get(x);
    if (!c.on) f.get(d).add();
  };
  // lanes [a | b] (f32, p = 0): out = A·[a a] + A'·swap[a a] + B·[b b] + B'·swap[b b], A = [m0 m0 m2 m2], B = [m1 m1 m3 m3]
  matrixLoops(f, L, c, { s, dim, p, m0r, cmask, a, b, M }, [va, sa, vb, sb], {
    flat() {
      f.get(a).v128Load().set(va);
      dest(a);
      pairTimesSpread(f, va, vb, M0R, M0I, M1R, M1I);
      f.v128Store();
    },
    pair: () => applyPair(f, L, c, dest, [a, b], [va, sa, vb, sb], M),
  });
  return f;
}

function realFn(L: Lanes): Fn {
  const S = L.scalar;
  const f = new Fn('real', [I32, I32, I32, S, S, S, S, I32, I32]).named(
    's',
    'dim',
    'p',
    'm0',
    'm1',
    'm2',
    'm3',
    'd',
    'cmask',
  );
  const [s, dim, p, m0, m1, m2, m3, d, cmask] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const a = f.local(I32, 'a');
  const b = f.local(I32, 'b');
  const [A, B, C, D, va, vb] = ['A', 'B', 'C', 'D', 'va', 'vb'].map((n) => f.local(V128, n));
  const c = ctrlLocals(f, L, cmask, s);
  const dest = (x: number) => {
    f.get(x);
    if (!c.on) f.get(d).add();
  };
  if (L.prec === 'f32') {
    f.get(p).eqz().if();
    spread(f, m0, m2, A, false);
    spread(f, m1, m3, B, false);
    byControl(f, cmask, c, () =>
      flatLoop(
        f,
        s,
        dim,
        a,
        guarded(f, c, a, () => {
          f.get(a).v128Load().set(va);
          dest(a);
          f.get(va).get(va).shuffleF32([0, 1, 0, 1]).get(A).f32x4Mul();
          f.get(va).get(va).shuffleF32([2, 3, 2, 3]).get(B).f32x4Mul().f32x4Add();
          f.v128Store();
        }),
      ),
    );
    f.else();
  }
  L.splat(f.get(m0)).set(A);
  L.splat(f.get(m1)).set(B);
  L.splat(f.get(m2)).set(C);
  L.splat(f.get(m3)).set(D);
  byControl(f, cmask, c, () =>
    pairLoop(
      f,
      L,
      s,
      dim,
      p,
      a,
      b,
      guarded(f, c, a, () => {
        f.get(a).v128Load().set(va);
        f.get(b).v128Load().set(vb);
        dest(a);
        L.add(L.mul(L.mul(f.get(va).get(A)).get(vb).get(B)));
        store(f, c, va);
        dest(b);
        L.add(L.mul(L.mul(f.get(va).get(C)).get(vb).get(D)));
        store(f, c, vb);
      }),
    ),
  );
  if (L.prec === 'f32') f.end();
  return f;
}

function diagFn(L: Lanes): Fn {
  const S = L.scalar;
  const f = new Fn('diag', [I32, I32, I32, I32, S, S, S, S, I32]).named(
    's',
    'dim',
    'p',
    'skip0',
    'd0r',
    'd0i',
    'd1r',
    'd1i',
    'cmask',
  );
  const [s, dim, p, skip0, d0r, d0i, d1r, d1i, cmask] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const a = f.local(I32, 'a');
  const b = f.local(I32, 'b');
  const [R0, I0, R1, I1, va] = ['R0', 'I0', 'R1', 'I1', 'va'].map((n) => f.local(V128, n));
  const c = ctrlLocals(f, L, cmask, s);
  // one vector at address x times (R, I): R·v + I·swap(v), stored back in place
  const scale = (x: number, R: number, I: number) => {
    f.get(x).v128Load().set(va);
    f.get(x);
    L.mul(f.get(va).get(R));
    L.add(L.mul(L.swap(f, va).get(I)));
    store(f, c, va);
  };
  if (L.prec === 'f32') {
    f.get(p).eqz().if();
    spread(f, d0r, d1r, R0, false);
    spread(f, d0i, d1i, I0, true);
    byControl(f, cmask, c, () =>
      flatLoop(
        f,
        s,
        dim,
        a,
        guarded(f, c, a, () => scale(a, R0, I0)),
      ),
    );
    f.else();
  }
  splatComplex(f, L, d0r, d0i, R0, I0);
  splatComplex(f, L, d1r, d1i, R1, I1);
  byControl(f, cmask, c, () => {
    f.get(skip0).if();
    pairLoop(
      f,
      L,
      s,
      dim,
      p,
      a,
      b,
      guarded(f, c, a, () => scale(b, R1, I1)),
    );
    f.else();
    pairLoop(
      f,
      L,
      s,
      dim,
      p,
      a,
      b,
      guarded(f, c, a, () => {
        scale(a, R0, I0);
        scale(b, R1, I1);
      }),
    );
    f.end();
  });
  if (L.prec === 'f32') f.end();
  return f;
}

/**
 * The backward step of the adjoint method with a forward tape: ψ (after the step) is read at t, λ at l is
 * replaced by M·λ (M = U†), and the sums that give the anti-Hermitian part of ρ = Σ ψ λ† on bit p are left
 * at out as four vectors A, B, C, D, combined by the caller (adjointStep1Wasm in wasm.ts):
 *   general: A = Σ ψa·swap(λa), B = Σ ψb·swap(λb), C = Σ ψa·λb − ψb·λa, D = Σ ψa·swap(λb) + ψb·swap(λa)
 *   f32, p = 0: A = Σ v·swap(l), B = 0, C = Σ v·l[2,3,0,1], D = Σ v·l[3,2,1,0], with v = [ψa ψb], l = [λa λb]
 * Controlled (cmask ≠ 0): the sums and the update run over the controlled pairs only (ψ's other lanes masked to 0).
 * `update` false: `adjs`, the same sums (the same products in the same order) with λ left unchanged.
 */
function adjFn(L: Lanes, update = true): Fn {
  const S = L.scalar;
  const f = new Fn(update ? 'adj' : 'adjs', [I32, I32, I32, I32, S, S, S, S, S, S, S, S, I32, I32]).named(
    't',
    'l',
    'dim',
    'p',
    ...MAT_PARAMS,
    'out',
    'cmask',
  );
  const [t, l, dim, p, m0r, out, cmask] = [0, 1, 2, 3, 4, 12, 13];
  const a = f.local(I32, 'a');
  const b = f.local(I32, 'b');
  const d = f.local(I32, 'dst');
  const M = Array.from({ length: 8 }, (_, i) => f.local(V128, `M${i >> 1}${i & 1 ? 'I' : 'R'}`));
  const [M0R, M0I, M1R, M1I] = M;
  const [la, lb, va, vb, sla, slb, A, B, C, D] = [
    'la',
    'lb',
    'va',
    'vb',
    'sla',
    'slb',
    'A',
    'B',
    'C',
    'D',
  ].map((n) => f.local(V128, n));
  const c = ctrlLocals(f, L, cmask, l);
  f.get(t).get(l).sub().set(d);
  for (const acc of [A, B, C, D]) f.v128Zero().set(acc);
  // one flat loop on every bit: the nest of loops cost this kernel 7–12 % (its accumulators live across it)
  matrixLoops(f, L, c, { s: l, dim, p, m0r, cmask, a, b, M, flatBelow: 1 << 30 }, [la, sla, lb, slb], {
    flat() {
      f.get(a).v128Load().set(la);
      f.get(a).get(d).add().v128Load().set(va);
      f.get(A).get(va).get(la).get(la).shuffleF32(SWAP).f32x4Mul().f32x4Add().set(A);
      f.get(C).get(va).get(la).get(la).shuffleF32([2, 3, 0, 1]).f32x4Mul().f32x4Add().set(C);
      f.get(D).get(va).get(la).get(la).shuffleF32([3, 2, 1, 0]).f32x4Mul().f32x4Add().set(D);
      if (!update) return;
      f.get(a);
      pairTimesSpread(f, la, vb, M0R, M0I, M1R, M1I);
      f.v128Store();
    },
    pair() {
      f.get(a).get(d).add().v128Load().set(va);
      f.get(b).get(d).add().v128Load().set(vb);
      if (c.on && L.prec === 'f32') {
        f.get(va).get(c.K).v128And().set(va);
        f.get(vb).get(c.K).v128And().set(vb);
      }
      L.add(L.mul(f.get(A).get(va).get(sla))).set(A);
      L.add(L.mul(f.get(B).get(vb).get(slb))).set(B);
      L.sub(
        L.mul(
          L.add(L.mul(f.get(C).get(va).get(lb)))
            .get(vb)
            .get(la),
        ),
      ).set(C);
      L.add(
        L.mul(
          L.add(L.mul(f.get(D).get(va).get(slb)))
            .get(vb)
            .get(sla),
        ),
      ).set(D);
      if (update) applyPair(f, L, c, (x) => f.get(x), [a, b], [la, sla, lb, slb], M);
    },
  });
  f.get(out).get(A).v128Store(0);
  f.get(out).get(B).v128Store(16);
  f.get(out).get(C).v128Store(32);
  f.get(out).get(D).v128Store(48);
  return f;
}

function gatherFn(L: Lanes): Fn {
  const f = new Fn('gather', [I32, I32, I32, I32]).named('src', 'dst', 'idx', 'dim');
  const [src, dst, idx, dim] = [0, 1, 2, 3];
  const end = f.local(I32, 'end');
  f.get(dst).get(dim).i32(L.shift).shl().add().set(end);
  f.loop();
  f.get(dst).get(src).get(idx).i32Load().add();
  // one amplitude: 8 bytes as an i64 (f32), 16 as a v128 (f64)
  if (L.prec === 'f32') f.i64Load().i64Store();
  else f.v128Load().v128Store();
  f.get(idx).i32(4).add().set(idx);
  f.get(dst)
    .i32(1 << L.shift)
    .add()
    .tee(dst)
    .get(end)
    .ltS()
    .brIf(0);
  f.end();
  return f;
}

/** T·v = v·R + swap(v)·I for the table entries in vector T: R = their real parts, I = their signed imaginary parts. */
function tableVectors(f: Fn, L: Lanes, T: number, R: number, I: number, conj: boolean): void {
  if (L.prec === 'f32') {
    f.get(T).get(T).shuffleF32([0, 0, 2, 2]).set(R);
    f.get(T).get(T).shuffleF32([1, 1, 3, 3]);
    f.v128ConstF32(conj ? [1, -1, 1, -1] : SIGN)
      .f32x4Mul()
      .set(I);
  } else {
    f.get(T).get(T).shuffleF64([0, 0]).set(R);
    f.get(T).get(T).shuffleF64([1, 1]);
    f.v128ConstF64(conj ? [1, -1] : [-1, 1])
      .f64x2Mul()
      .set(I);
  }
}

function dmulFn(L: Lanes): Fn {
  const f = new Fn('dmul', [I32, I32, I32, I32]).named('src', 'dst', 'tab', 'dim');
  const [src, dst, tab, dim] = [0, 1, 2, 3];
  const end = f.local(I32, 'end');
  const [T, R, I, v] = ['T', 'R', 'I', 'v'].map((n) => f.local(V128, n));
  f.get(dst).get(dim).i32(L.shift).shl().add().set(end);
  f.loop();
  f.get(tab).v128Load().set(T);
  tableVectors(f, L, T, R, I, false);
  f.get(src).v128Load().set(v);
  f.get(dst);
  L.mul(f.get(v).get(R));
  L.add(L.mul(L.swap(f, v).get(I)));
  f.v128Store();
  f.get(src).i32(16).add().set(src);
  f.get(tab).i32(16).add().set(tab);
  f.get(dst).i32(16).add().tee(dst).get(end).ltS().brIf(0);
  f.end();
  return f;
}

/**
 * Two vectors per step (f32: four amplitudes, four w values stored as one f32x4, dim ≥ 4; f64: two amplitudes,
 * two w values as one f64x2, dim ≥ 2).
 */
function dadjFn(L: Lanes): Fn {
  const f = new Fn('dadj', [I32, I32, I32, I32, I32]).named('t', 'l', 'tab', 'dim', 'w');
  const [t, l, tab, dim, w] = [0, 1, 2, 3, 4];
  const end = f.local(I32, 'end');
  const [T, R, I, y, Lv, Pa, Pb] = ['T', 'R', 'I', 'y', 'Lv', 'Pa', 'Pb'].map((n) => f.local(V128, n));
  f.get(l).get(dim).i32(L.shift).shl().add().set(end);
  f.loop();
  for (const half of [0, 16]) {
    const P = half === 0 ? Pa : Pb;
    f.get(t).v128Load(half).set(y);
    f.get(l).v128Load(half).set(Lv);
    // P = λ·swap(ψ) = [lr·yi, li·yr, …]; w = P0 − P1 per complex
    L.mul(L.swap(f.get(Lv), y)).set(P);
    L.sub(L.swap(f.get(P), P)).set(P);
    f.get(tab).v128Load(half).set(T);
    tableVectors(f, L, T, R, I, true);
    f.get(l);
    L.mul(f.get(Lv).get(R));
    L.add(L.mul(L.swap(f, Lv).get(I)));
    f.v128Store(half);
  }
  f.get(w).get(Pa).get(Pb);
  if (L.prec === 'f32') f.shuffleF32([0, 2, 4, 6]);
  else f.shuffleF64([0, 2]);
  f.v128Store();
  f.get(w).i32(16).add().set(w);
  f.get(t).i32(32).add().set(t);
  f.get(tab).i32(32).add().set(tab);
  f.get(l).i32(32).add().tee(l).get(end).ltS().brIf(0);
  f.end();
  return f;
}

/**
 * norm2(s, w, dim): w_i = |s_i|² (in the rows' precision), two vectors a step (f32: four amplitudes, one f32x4 of w,
 * dim ≥ 4; f64: two amplitudes, one f64x2). With wht, every Z-string expectation at once (Runner.expvalsRow).
 */
function norm2Fn(L: Lanes): Fn {
  const f = new Fn('norm2', [I32, I32, I32]).named('s', 'w', 'dim');
  const [s, w, dim] = [0, 1, 2];
  const end = f.local(I32, 'end');
  const [P, Q] = ['P', 'Q'].map((n) => f.local(V128, n));
  f.get(s).get(dim).i32(L.shift).shl().add().set(end);
  f.loop();
  L.mul(f.get(s).v128Load().tee(P).get(P)).set(P);
  L.mul(f.get(s).v128Load(16).tee(Q).get(Q)).set(Q);
  // the re² lanes plus the im² lanes
  f.get(w);
  if (L.prec === 'f32') {
    f.get(P).get(Q).shuffleF32([0, 2, 4, 6]);
    f.get(P).get(Q).shuffleF32([1, 3, 5, 7]);
  } else {
    f.get(P).get(Q).shuffleF64([0, 2]);
    f.get(P).get(Q).shuffleF64([1, 3]);
  }
  L.add(f);
  f.v128Store();
  f.get(w).i32(16).add().set(w);
  f.get(s).i32(32).add().tee(s).get(end).ltS().brIf(0);
  f.end();
  return f;
}

/**
 * Pushes the real weights of one amplitude vector's amplitudes, each over its amplitude's re and im lanes: from
 * W (one f32x4 of four weights or f64x2 of two) the first (half 0) or second (half 1) amplitude vector's share.
 */
function spreadWeights(f: Fn, L: Lanes, W: number, half: number): void {
  if (L.prec === 'f32')
    f.get(W)
      .get(W)
      .shuffleF32(half ? [2, 2, 3, 3] : [0, 0, 1, 1]);
  else
    f.get(W)
      .get(W)
      .shuffleF64(half ? [1, 1] : [0, 0]);
}

/**
 * rmul(src, dst, w, dim): dst_i = w_i · src_i for real weights w (in the rows' precision; src may be dst), two
 * vectors a step as norm2. With wht, the adjoint's seed λ = Σ_o g_o O_o ψ for Z-string observables (adjoint.ts).
 * With `fromConst`, rset(dst, w, dim, vr, vi): dst_i = w_i · (vr + i·vi) — an amplitude encoding on the whole
 * register in index order, ψ = v·x/‖x‖ with x in w and v/‖x‖ given (engine.ts).
 */
function rmulFn(L: Lanes, fromConst = false): Fn {
  const f = fromConst
    ? new Fn('rset', [I32, I32, I32, L.scalar, L.scalar]).named('dst', 'w', 'dim', 'vr', 'vi')
    : new Fn('rmul', [I32, I32, I32, I32]).named('src', 'dst', 'w', 'dim');
  const [src, dst, w, dim] = fromConst ? [-1, 0, 1, 2] : [0, 1, 2, 3];
  const end = f.local(I32, 'end');
  const W = f.local(V128, 'W');
  const V = f.local(V128, 'V');
  if (fromConst) {
    // V = [vr, vi, vr, vi] (f32) or [vr, vi] (f64)
    L.splat(f.get(3));
    L.splat(f.get(4));
    if (L.prec === 'f32') f.shuffleF32([0, 4, 0, 4]);
    else f.shuffleF64([0, 2]);
    f.set(V);
  }
  f.get(dst).get(dim).i32(L.shift).shl().add().set(end);
  f.loop();
  f.get(w).v128Load().set(W);
  for (const half of [0, 1]) {
    f.get(dst);
    if (fromConst) f.get(V);
    else f.get(src).v128Load(16 * half);
    spreadWeights(f, L, W, half);
    L.mul(f);
    f.v128Store(16 * half);
  }
  f.get(w).i32(16).add().set(w);
  if (!fromConst) f.get(src).i32(32).add().set(src);
  f.get(dst).i32(32).add().tee(dst).get(end).ltS().brIf(0);
  f.end();
  return f;
}

/**
 * rdot2(s, l, w, dim, out): S = Σ_i w_i s_i and T = Σ_i w_i l_i for real weights w (the rows' precision), stored at
 * out as two vectors of partial sums (f32: [re, im, re, im], f64: [re, im]); two vectors a step as rmul. The backward
 * step of an amplitude encoding on the whole register: ψ and λ before it are S and T on |0⟩ (adjoint.ts).
 */
function rdot2Fn(L: Lanes): Fn {
  const f = new Fn('rdot2', [I32, I32, I32, I32, I32]).named('s', 'l', 'w', 'dim', 'out');
  const [s, l, w, dim, out] = [0, 1, 2, 3, 4];
  const end = f.local(I32, 'end');
  const [W, X, S, T] = ['W', 'X', 'S', 'T'].map((n) => f.local(V128, n));
  f.v128Zero().set(S);
  f.v128Zero().set(T);
  f.get(s).get(dim).i32(L.shift).shl().add().set(end);
  f.loop();
  f.get(w).v128Load().set(W);
  for (const half of [0, 1]) {
    spreadWeights(f, L, W, half);
    f.set(X);
    L.add(
      L.mul(
        f
          .get(S)
          .get(s)
          .v128Load(16 * half)
          .get(X),
      ),
    ).set(S);
    L.add(
      L.mul(
        f
          .get(T)
          .get(l)
          .v128Load(16 * half)
          .get(X),
      ),
    ).set(T);
  }
  f.get(w).i32(16).add().set(w);
  f.get(l).i32(32).add().set(l);
  f.get(s).i32(32).add().tee(s).get(end).ltS().brIf(0);
  f.end();
  f.get(out).get(S).v128Store(0);
  f.get(out).get(T).v128Store(16);
  return f;
}

function whtFn(L: Lanes): Fn {
  const f = new Fn('wht', [I32, I32]).named('w', 'dim');
  const [w, dim] = [0, 1];
  const x = f.local(I32, 'x');
  const end = f.local(I32, 'end');
  const p = f.local(I32, 'p');
  const dh = f.local(I32, 'dh');
  const a = f.local(I32, 'a');
  const b = f.local(I32, 'b');
  const [v, u, A, B] = ['v', 'u', 'A', 'B'].map((n) => f.local(V128, n));
  const bytes = L.prec === 'f32' ? 4 : 8;
  f.get(w)
    .get(dim)
    .i32(bytes === 4 ? 2 : 3)
    .shl()
    .add()
    .set(end);
  // the strides inside one vector (f32: 1 and 2; f64: 1)
  f.get(w).set(x);
  f.loop();
  f.get(x).v128Load().set(v);
  if (L.prec === 'f32') {
    f.get(v).get(v).shuffleF32([0, 0, 2, 2]);
    f.get(v).get(v).shuffleF32([1, 1, 3, 3]).v128ConstF32([1, -1, 1, -1]).f32x4Mul().f32x4Add().set(u);
    f.get(x);
    f.get(u).get(u).shuffleF32([0, 1, 0, 1]);
    f.get(u).get(u).shuffleF32([2, 3, 2, 3]).v128ConstF32([1, 1, -1, -1]).f32x4Mul().f32x4Add();
  } else {
    f.get(x);
    f.get(v).get(v).shuffleF64([0, 0]);
    f.get(v).get(v).shuffleF64([1, 1]).v128ConstF64([1, -1]).f64x2Mul().f64x2Add();
  }
  f.v128Store();
  f.get(x).i32(16).add().tee(x).get(end).ltS().brIf(0);
  f.end();
  // strides of one vector and up: vectors as "amplitudes" on bit p of a row of half the length (f32: 8-byte
  // units from p = 1; f64: 16-byte units from p = 0), while the stride is at most half the row
  f.get(dim).i32(1).shrU().set(dh);
  f.i32(L.prec === 'f32' ? 1 : 0).set(p);
  f.i32(16 / bytes)
    .get(dim)
    .ltS()
    .if();
  f.loop();
  pairLoop(f, L, w, dh, p, a, b, () => {
    f.get(a).v128Load().set(A);
    f.get(b).v128Load().set(B);
    f.get(a);
    L.add(f.get(A).get(B));
    f.v128Store();
    f.get(b);
    L.sub(f.get(A).get(B));
    f.v128Store();
  });
  f.get(p).i32(1).add().set(p);
  f.i32(1 << L.shift)
    .get(p)
    .shl()
    .get(dim)
    .i32(bytes === 4 ? 2 : 3)
    .shl()
    .ltS()
    .brIf(0);
  f.end();
  f.end();
  return f;
}

/**
 * The loops of a two-qubit kernel on bits lo < hi whose matrix couples only |x⟩ and |x ⊕ m⟩, m = 2^lo + 2^hi (RXX,
 * RYY, RZZ, SWAP): x runs over the indices with bit hi clear; class 0 pairs (00, 11) have bit lo of x clear, class 1
 * pairs (01, 10) have it set. For f64, and f32 with lo ≥ 1, a vector's amplitudes share bits lo and hi, so x and y
 * vectors pair lane by lane: `body(c)` is emitted once per class, in runs of 2^lo amplitudes of one class.
 */
function quadLoops(
  f: Fn,
  L: Lanes,
  s: number,
  dim: number,
  lo: number,
  hi: number,
  x: number,
  y: number,
  body: (cls: 0 | 1) => void,
): void {
  const halfHi = f.local(I32, 'halfHi');
  const halfLo = f.local(I32, 'halfLo');
  const end = f.local(I32, 'end');
  const base = f.local(I32, 'base');
  const mid = f.local(I32, 'mid');
  const stopMid = f.local(I32, 'stopMid');
  const stop = f.local(I32, 'stop');
  f.i32(1 << L.shift)
    .get(hi)
    .shl()
    .set(halfHi);
  f.i32(1 << L.shift)
    .get(lo)
    .shl()
    .set(halfLo);
  f.get(s).get(dim).i32(L.shift).shl().add().set(end);
  f.get(s).set(base);
  f.loop();
  f.get(base).set(mid);
  f.get(base).get(halfHi).add().set(stopMid);
  f.loop();
  f.get(mid).set(x);
  f.get(mid).get(halfLo).add().set(stop);
  // class 0: y = x + 2^hi + 2^lo
  f.loop();
  f.get(x).get(halfHi).add().get(halfLo).add().set(y);
  body(0);
  f.get(x).i32(16).add().tee(x).get(stop).ltS().brIf(0);
  f.end();
  // class 1: y = x + 2^hi − 2^lo
  f.get(stop).get(halfLo).add().set(stop);
  f.loop();
  f.get(x).get(halfHi).add().get(halfLo).sub().set(y);
  body(1);
  f.get(x).i32(16).add().tee(x).get(stop).ltS().brIf(0);
  f.end();
  f.get(mid).get(halfLo).i32(1).shl().add().tee(mid).get(stopMid).ltS().brIf(0);
  f.end();
  f.get(base).get(halfHi).i32(1).shl().add().tee(base).get(end).ltS().brIf(0);
  f.end();
}

/** f32, lo = 0: the partner of lanes (i, i + 1) is (i + 2^hi + 1, i + 2^hi), the y vector with its halves swapped. */
const HALVES: [number, number, number, number] = [2, 3, 0, 1];

/**
 * The two class matrices A (params a0..a0+8) and B (b0..b0+8) as vectors: splatted per class (general), or spread
 * over the lanes for f32, lo = 0 (lanes 0–1 class 0, lanes 2–3 class 1). MA[k], MB[k]: entry k/2, re or im.
 */
function pairMatrices(
  f: Fn,
  L: Lanes,
  a0: number,
  b0: number,
  MA: number[],
  MB: number[],
  spreadF32: boolean,
) {
  for (let k = 0; k < 4; k++) {
    if (spreadF32) {
      spread(f, a0 + 2 * k, b0 + 2 * k, MA[2 * k], false);
      spread(f, a0 + 2 * k + 1, b0 + 2 * k + 1, MA[2 * k + 1], true);
    } else {
      splatComplex(f, L, a0 + 2 * k, a0 + 2 * k + 1, MA[2 * k], MA[2 * k + 1]);
      splatComplex(f, L, b0 + 2 * k, b0 + 2 * k + 1, MB[2 * k], MB[2 * k + 1]);
    }
  }
}

/**
 * pair2(s, dim, lo, hi, A (8), B (8)): in place, (v_x, v_y) ← A (v_x, v_y) on the class 0 pairs (x = …0…0…, y = x ⊕ m)
 * and B on the class 1 pairs (x with bit lo set, bit hi clear), lo < hi: RXX, RYY, RZZ and SWAP as one kernel.
 */
function pair2Fn(L: Lanes): Fn {
  const S = L.scalar;
  const f = new Fn('pair2', [I32, I32, I32, I32, ...Array<ValType>(16).fill(S)]).named(
    's',
    'dim',
    'lo',
    'hi',
    ...PAIR_PARAMS,
  );
  const [s, dim, lo, hi] = [0, 1, 2, 3];
  const x = f.local(I32, 'x');
  const y = f.local(I32, 'y');
  const MA = ['A0R', 'A0I', 'A1R', 'A1I', 'A2R', 'A2I', 'A3R', 'A3I'].map((n) => f.local(V128, n));
  const MB = ['B0R', 'B0I', 'B1R', 'B1I', 'B2R', 'B2I', 'B3R', 'B3I'].map((n) => f.local(V128, n));
  const [vx, vy, sx, sy, tmp] = ['vx', 'vy', 'sx', 'sy', 'tmp'].map((n) => f.local(V128, n));
  const step = (M: number[], halves: boolean) => {
    f.get(x).v128Load().set(vx);
    L.swap(f, vx).set(sx);
    f.get(y).v128Load().set(vy);
    if (halves) f.get(vy).get(vy).shuffleF32(HALVES).set(vy);
    L.swap(f, vy).set(sy);
    f.get(x);
    rowTimes(f, L, vx, sx, vy, sy, M[0], M[1], M[2], M[3]);
    f.v128Store();
    f.get(y);
    rowTimes(f, L, vx, sx, vy, sy, M[4], M[5], M[6], M[7]);
    if (halves) f.set(tmp).get(tmp).get(tmp).shuffleF32(HALVES);
    f.v128Store();
  };
  if (L.prec === 'f32') {
    f.get(lo).eqz().if();
    pairMatrices(f, L, 4, 12, MA, MB, true);
    pairLoop(f, L, s, dim, hi, x, y, () => step(MA, true));
    f.else();
  }
  pairMatrices(f, L, 4, 12, MA, MB, false);
  quadLoops(f, L, s, dim, lo, hi, x, y, (c) => step(c === 0 ? MA : MB, false));
  if (L.prec === 'f32') f.end();
  return f;
}

/**
 * adj2(t, l, dim, lo, hi, A (8), B (8), out): the taped adjoint step of a two-qubit pair gate — λ at l ← (A, B)·λ as
 * pair2 does, with ψ read at t — and the sums of Im(conj(λ)ψ) terms its generators need, before the update, per class
 * c: Off_c = Σ swap(λx)·ψy + swap(λy)·ψx and Dg_c = Σ swap(λx)·ψx + swap(λy)·ψy (lanes [λi·ψr, λr·ψi] per complex:
 * Im(conj(λ)ψ) = lane 1 − lane 0), stored at out as Off0, Off1, Dg0, Dg1. Then Im⟨λ|XX|ψ⟩ = Off0 + Off1, Im⟨λ|YY|ψ⟩ = Off1 − Off0, Im⟨λ|ZZ|ψ⟩ = Dg0 − Dg1.
 */
function adj2Fn(L: Lanes): Fn {
  const S = L.scalar;
  const f = new Fn('adj2', [I32, I32, I32, I32, I32, ...Array<ValType>(16).fill(S), I32]).named(
    't',
    'l',
    'dim',
    'lo',
    'hi',
    ...PAIR_PARAMS,
    'out',
  );
  const [t, l, dim, lo, hi] = [0, 1, 2, 3, 4];
  const out = 21;
  const x = f.local(I32, 'x');
  const y = f.local(I32, 'y');
  const d = f.local(I32, 'd');
  const MA = ['A0R', 'A0I', 'A1R', 'A1I', 'A2R', 'A2I', 'A3R', 'A3I'].map((n) => f.local(V128, n));
  const MB = ['B0R', 'B0I', 'B1R', 'B1I', 'B2R', 'B2I', 'B3R', 'B3I'].map((n) => f.local(V128, n));
  const [lx, ly, slx, sly, px, py, tmp] = ['lx', 'ly', 'slx', 'sly', 'px', 'py', 'tmp'].map((n) =>
    f.local(V128, n),
  );
  const acc = ['off0', 'off1', 'dg0', 'dg1'].map((n) => f.local(V128, n));
  f.get(t).get(l).sub().set(d);
  for (const a of acc) f.v128Zero().set(a);
  const step = (M: number[], c: 0 | 1, halves: boolean) => {
    const load = (addr: number, plusD: boolean, into: number) => {
      f.get(addr);
      if (plusD) f.get(d).add();
      f.v128Load().set(into);
      if (halves && addr === y) f.get(into).get(into).shuffleF32(HALVES).set(into);
    };
    load(x, false, lx);
    load(y, false, ly);
    load(x, true, px);
    load(y, true, py);
    L.swap(f, lx).set(slx);
    L.swap(f, ly).set(sly);
    const [off, dg] = [acc[c], acc[2 + c]];
    L.add(
      L.mul(
        L.add(L.mul(f.get(off).get(slx).get(py)))
          .get(sly)
          .get(px),
      ),
    ).set(off);
    L.add(
      L.mul(
        L.add(L.mul(f.get(dg).get(slx).get(px)))
          .get(sly)
          .get(py),
      ),
    ).set(dg);
    f.get(x);
    rowTimes(f, L, lx, slx, ly, sly, M[0], M[1], M[2], M[3]);
    f.v128Store();
    f.get(y);
    rowTimes(f, L, lx, slx, ly, sly, M[4], M[5], M[6], M[7]);
    if (halves) f.set(tmp).get(tmp).get(tmp).shuffleF32(HALVES);
    f.v128Store();
  };
  if (L.prec === 'f32') {
    f.get(lo).eqz().if();
    pairMatrices(f, L, 5, 13, MA, MB, true);
    pairLoop(f, L, l, dim, hi, x, y, () => step(MA, 0, true));
    // lanes 0–1 are class 0, lanes 2–3 class 1: split Off0 and Dg0 into the two classes
    for (const [from, to] of [
      [acc[0], acc[1]],
      [acc[2], acc[3]],
    ]) {
      f.get(from).v128ConstI32([0, 0, -1, -1]).v128And().set(to);
      f.get(from).v128ConstI32([-1, -1, 0, 0]).v128And().set(from);
    }
    f.else();
  }
  pairMatrices(f, L, 5, 13, MA, MB, false);
  quadLoops(f, L, l, dim, lo, hi, x, y, (c) => step(c === 0 ? MA : MB, c, false));
  if (L.prec === 'f32') f.end();
  acc.forEach((a, k) =>
    f
      .get(out)
      .get(a)
      .v128Store(16 * k),
  );
  return f;
}

/** The module's bytes for one precision; its memory import is env.mem (unshared) with the given page limits. */
export function stateModuleBytes(
  mem: { min: number; max: number },
  precision: Precision = 'f32',
  opts: { fma?: boolean } = {},
): Uint8Array<ArrayBuffer> {
  const L = precision === 'f64' ? L64 : L32;
  return assemble(
    [
      genFn(L),
      realFn(L),
      diagFn(L),
      // the adjoint step with relaxed-SIMD multiply-adds in its λ update where asked
      adjFn(opts.fma ? withFma(L) : L),
      gatherFn(L),
      dmulFn(L),
      dadjFn(L),
      whtFn(L),
      norm2Fn(L),
      rmulFn(L),
      rdot2Fn(L),
      pair2Fn(L),
      adj2Fn(L),
      rmulFn(L, true),
      adjFn(L, false),
    ],
    {
      ...mem,
      shared: false,
    },
  );
}
