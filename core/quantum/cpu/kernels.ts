// In-place state-vector kernels on typed arrays. A state row is 2^n complex amplitudes interleaved
// (re, im) starting at float offset `off`; `p` is the bit position of the target wire
// (p = n − 1 − wire, since wire 0 is the most significant bit) and `cmask` the control bits that
// must all be set. No kernel allocates. The one-qubit kernels are one amplitude-pair loop (pairKernel) over a
// core per matrix shape (mulPair, the 2×2 complex product, and its real, diagonal and swap special cases).

export type Amps = Float32Array | Float64Array;

// One amplitude pair: (a, b) are the float offsets of the two amplitudes that differ only in the target bit
// (bit clear at a, set at b). Every core takes the same arguments, so the one pair loop below serves them all.

/** A complex 2×2 [[m0, m1], [m2, m3]] as eight numbers, interleaved re/im. */
export type Mat2 = [
  m0r: number,
  m0i: number,
  m1r: number,
  m1i: number,
  m2r: number,
  m2i: number,
  m3r: number,
  m3i: number,
];

/** What happens at one amplitude pair (a, b) of row s, given the 2×2 M as eight numbers. */
export type PairCore = (s: Amps, a: number, b: number, ...m: Mat2) => void;

/** (s_a, s_b) ← M (s_a, s_b): the 2×2 complex product. */
export const mulPair: PairCore = (s, a, b, m0r, m0i, m1r, m1i, m2r, m2i, m3r, m3i) => {
  const ar = s[a];
  const ai = s[a + 1];
  const br = s[b];
  const bi = s[b + 1];
  s[a] = m0r * ar - m0i * ai + m1r * br - m1i * bi;
  s[a + 1] = m0r * ai + m0i * ar + m1r * bi + m1i * br;
  s[b] = m2r * ar - m2i * ai + m3r * br - m3i * bi;
  s[b + 1] = m2r * ai + m2i * ar + m3r * bi + m3i * br;
};

/** mulPair for a real M (the imaginary parts are not read): RY, H and their fusions. */
const mulPairReal: PairCore = (s, a, b, m0, _m0i, m1, _m1i, m2, _m2i, m3) => {
  const ar = s[a];
  const ai = s[a + 1];
  const br = s[b];
  const bi = s[b + 1];
  s[a] = m0 * ar + m1 * br;
  s[a + 1] = m0 * ai + m1 * bi;
  s[b] = m2 * ar + m3 * br;
  s[b + 1] = m2 * ai + m3 * bi;
};

/** mulPair for a diagonal M (m1 and m2 are not read): Z, S, T, RZ, PhaseShift and their fusions. */
const mulPairDiag: PairCore = (s, a, b, d0r, d0i, _m1r, _m1i, _m2r, _m2i, d1r, d1i) => {
  const ar = s[a];
  const ai = s[a + 1];
  const br = s[b];
  const bi = s[b + 1];
  s[a] = d0r * ar - d0i * ai;
  s[a + 1] = d0r * ai + d0i * ar;
  s[b] = d1r * br - d1i * bi;
  s[b + 1] = d1r * bi + d1i * br;
};

/** The pair swapped (X, CNOT, Toffoli, SWAP): a permutation, no arithmetic; M is not read. */
const swapPair = (s: Amps, a: number, b: number): void => {
  const ar = s[a];
  const ai = s[a + 1];
  s[a] = s[b];
  s[a + 1] = s[b + 1];
  s[b] = ar;
  s[b + 1] = ai;
};

/**
 * The amplitude-pair loop, written once: `core` on every pair (i, i + 2^p) of the row at s[off..] whose index has
 * all the control bits `cmask` set. Uncontrolled, bit 0 pairs neighbours; bits 1–2 take one flat loop over pairs (a
 * zero inserted at bit p: no inner loop of length 2 or 4); higher bits stride over contiguous runs of 2^p. Nothing is allocated.
 * Self-contained (no free names) so that `specialise` can copy it.
 */
function pairLoop(
  core: PairCore,
  s: Amps,
  off: number,
  dim: number,
  p: number,
  cmask: number,
  m: Float64Array,
  mo: number,
): void {
  const m0r = m[mo];
  const m0i = m[mo + 1];
  const m1r = m[mo + 2];
  const m1i = m[mo + 3];
  const m2r = m[mo + 4];
  const m2i = m[mo + 5];
  const m3r = m[mo + 6];
  const m3i = m[mo + 7];
  const st2 = 2 << p; // float distance from a pair's first amplitude to its second
  if (cmask !== 0) {
    for (let i0 = 0; i0 < dim; i0 += 2 << p)
      for (let i = i0; i < i0 + (1 << p); i++)
        if ((i & cmask) === cmask)
          core(s, off + 2 * i, off + 2 * i + st2, m0r, m0i, m1r, m1i, m2r, m2i, m3r, m3i);
  } else if (p === 0) {
    for (let a = off; a < off + 2 * dim; a += 4) core(s, a, a + 2, m0r, m0i, m1r, m1i, m2r, m2i, m3r, m3i);
  } else if (p < 3) {
    const low = (1 << p) - 1;
    for (let k = 0; k < dim >> 1; k++) {
      const a = off + 2 * (((k & ~low) << 1) | (k & low));
      core(s, a, a + st2, m0r, m0i, m1r, m1i, m2r, m2i, m3r, m3i);
    }
  } else {
    for (let a0 = off; a0 < off + 2 * dim; a0 += 2 * st2)
      for (let a = a0; a < a0 + st2; a += 2) core(s, a, a + st2, m0r, m0i, m1r, m1i, m2r, m2i, m3r, m3i);
  }
}

/** A one-qubit kernel: pairLoop with its core fixed (the 2×2 at m[mo..mo+8), interleaved, row-major). */
export type PairKernel = (...args: Tail<Parameters<typeof pairLoop>>) => void;
type Tail<T extends unknown[]> = T extends [unknown, ...infer R] ? R : never;

/**
 * pairLoop for one core, in a copy of its own code. V8 keeps type feedback per function, so one loop shared by the
 * four cores calls them through a megamorphic site and inlines none (measured 3× slower); a copy that only ever
 * calls one core inlines it — what Lightning's applyNC1 gets from taking its core function as a template argument.
 * The copies' sources differ by a tag, or V8's compilation cache would hand back one shared function. Where code
 * generation is refused (a content security policy), the shared loop runs: same results, slower.
 */
function specialise(core: PairCore, tag: string): PairKernel {
  let loop = pairLoop;
  try {
    loop = new Function(`return ${pairLoop.toString()} // ${tag}`)() as typeof pairLoop;
  } catch {
    // the shared loop
  }
  return (s, off, dim, p, cmask, m, mo) => loop(core, s, off, dim, p, cmask, m, mo);
}

/** Generic complex 2×2 on bit p. */
export const apply1Gen = specialise(mulPair, 'generic');
/** Real 2×2 on bit p (imaginary parts of m not read). */
export const apply1Real = specialise(mulPairReal, 'real');
/** Diagonal 2×2 on bit p (off-diagonal entries of m not read). */
export const apply1Diag = specialise(mulPairDiag, 'diagonal');
/** Bit flip on bit p (m not read). */
export const apply1X = specialise(swapPair, 'X');

/** Whether the 2×2 at m[o..o+8) is diagonal. */
export function isDiag2(m: Float64Array, o: number): boolean {
  return m[o + 2] === 0 && m[o + 3] === 0 && m[o + 4] === 0 && m[o + 5] === 0;
}

/** Whether the 2×2 at m[o..o+8) is real. */
export function isReal2(m: Float64Array, o: number): boolean {
  return m[o + 1] === 0 && m[o + 3] === 0 && m[o + 5] === 0 && m[o + 7] === 0;
}

/** The cheapest one-qubit kernel for the 2×2 at m[o..o+8): diagonal, real or generic, by its entries. */
export function kernelFor(m: Float64Array, o: number): PairKernel {
  return isDiag2(m, o) ? apply1Diag : isReal2(m, o) ? apply1Real : apply1Gen;
}

/** d_i ← t_i s_i (or conj(t_i) s_i) for a precomputed diagonal t (interleaved complex, length 2·dim); d may be s. */
export function applyDiagTable(
  s: Amps,
  so: number,
  d: Amps,
  doff: number,
  dim: number,
  t: Float64Array,
  conj = false,
): void {
  const sg = conj ? -1 : 1;
  for (let i = 0; i < 2 * dim; i += 2) {
    const ar = s[so + i];
    const ai = s[so + i + 1];
    const tr = t[i];
    const ti = sg * t[i + 1];
    d[doff + i] = tr * ar - ti * ai;
    d[doff + i + 1] = tr * ai + ti * ar;
  }
}

/** d_j ← s_{src[j]} (a basis permutation); d must not overlap s. */
export function gatherTo(s: Amps, so: number, d: Amps, doff: number, dim: number, src: Int32Array): void {
  for (let j = 0; j < dim; j++) {
    const a = so + 2 * src[j];
    d[doff + 2 * j] = s[a];
    d[doff + 2 * j + 1] = s[a + 1];
  }
}

/** ψ_j ← ψ_{src[j]} in place, through the scratch row `tmp` (length ≥ 2·dim). */
export function applyGather(s: Amps, off: number, dim: number, src: Int32Array, tmp: Amps): void {
  gatherTo(s, off, tmp, 0, dim, src);
  for (let i = 0; i < 2 * dim; i++) s[off + i] = tmp[i];
}

/** Σ_i [i ∧ cmask = cmask] (−1)^{parity(i ∧ sign)} w_i, with par[i] the parity of i. */
export function signedSum(
  w: Float64Array | Float32Array,
  dim: number,
  sign: number,
  cmask: number,
  par: Uint8Array,
): number {
  let acc = 0;
  if (cmask === 0) {
    for (let i = 0; i < dim; i++) acc += par[i & sign] ? -w[i] : w[i];
    return acc;
  }
  for (let i = 0; i < dim; i++) if ((i & cmask) === cmask) acc += par[i & sign] ? -w[i] : w[i];
  return acc;
}

/** SWAP of bits p and q. */
export function applySwap(s: Amps, off: number, dim: number, p: number, q: number): void {
  const bp = 1 << p;
  const flip = bp | (1 << q);
  for (let i = 0; i < dim; i++) if ((i & flip) === bp) swapPair(s, off + 2 * i, off + 2 * (i ^ flip));
}

/** Diagonal by parity of bits p and q: even parity × e, odd parity × o (RZZ). */
export function applyParityDiag(
  s: Amps,
  off: number,
  dim: number,
  p: number,
  q: number,
  er: number,
  ei: number,
  or: number,
  oi: number,
): void {
  for (let i = 0; i < dim; i++) {
    const odd = ((i >>> p) ^ (i >>> q)) & 1;
    const dr = odd ? or : er;
    const di = odd ? oi : ei;
    const a = off + 2 * i;
    const ar = s[a];
    const ai = s[a + 1];
    s[a] = dr * ar - di * ai;
    s[a + 1] = dr * ai + di * ar;
  }
}

/** Generic 4×4 on bits p (local MSB) and q, matrix interleaved row-major (RXX, RYY). */
export function apply2(s: Amps, off: number, dim: number, p: number, q: number, m: Float64Array): void {
  const bp = 1 << p;
  const bq = 1 << q;
  const both = bp | bq;
  for (let i = 0; i < dim; i++) {
    if ((i & both) !== 0) continue;
    const o0 = off + 2 * i;
    const o1 = o0 + 2 * bq;
    const o2 = o0 + 2 * bp;
    const o3 = o0 + 2 * both;
    const v0r = s[o0];
    const v0i = s[o0 + 1];
    const v1r = s[o1];
    const v1i = s[o1 + 1];
    const v2r = s[o2];
    const v2i = s[o2 + 1];
    const v3r = s[o3];
    const v3i = s[o3 + 1];
    for (let r = 0; r < 4; r++) {
      const k = 8 * r;
      const re =
        m[k] * v0r -
        m[k + 1] * v0i +
        m[k + 2] * v1r -
        m[k + 3] * v1i +
        m[k + 4] * v2r -
        m[k + 5] * v2i +
        m[k + 6] * v3r -
        m[k + 7] * v3i;
      const im =
        m[k] * v0i +
        m[k + 1] * v0r +
        m[k + 2] * v1i +
        m[k + 3] * v1r +
        m[k + 4] * v2i +
        m[k + 5] * v2r +
        m[k + 6] * v3i +
        m[k + 7] * v3r;
      const o = r === 0 ? o0 : r === 1 ? o1 : r === 2 ? o2 : o3;
      s[o] = re;
      s[o + 1] = im;
    }
  }
}

/** Parity of the set bits of x (x < 2^31). */
function parity(x: number): number {
  x ^= x >>> 16;
  x ^= x >>> 8;
  x ^= x >>> 4;
  x ^= x >>> 2;
  x ^= x >>> 1;
  return x & 1;
}

/**
 * A Pauli string P as masks: `flip` = X|Y wires' bits, `sign` = Y|Z wires' bits, `ny` = number of Y.
 * (P v)_i = (−i)^ny · (−1)^parity(i & sign) · v_{i ^ flip}.
 */
export interface PauliMasks {
  flip: number;
  sign: number;
  ny: number;
}

/**
 * ⟨x|Π·P|y⟩ for rows at x[xo..] and y[yo..], with Π the projector onto the control bits `cmask` being set and P a
 * Pauli string on bits outside them: its real part (imag false) or its imaginary part (imag true). Expectations
 * are Re⟨ψ|P|ψ⟩; the adjoint's generator terms are Im⟨λ|G|ψ⟩.
 */
export function pauliInner(
  x: Amps,
  xo: number,
  y: Amps,
  yo: number,
  dim: number,
  m: PauliMasks,
  cmask: number,
  imag: boolean,
): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < dim; i++) {
    if ((i & cmask) !== cmask) continue;
    const a = xo + 2 * i;
    const b = yo + 2 * (i ^ m.flip);
    const sg = parity(i & m.sign) ? -1 : 1;
    re += sg * (x[a] * y[b] + x[a + 1] * y[b + 1]); // conj(x_i)·y_{i⊕flip}
    im += sg * (x[a] * y[b + 1] - x[a + 1] * y[b]);
  }
  // times (−i)^ny
  const ny = m.ny & 3;
  if (imag) return ny === 0 ? im : ny === 1 ? -re : ny === 2 ? -im : re;
  return ny === 0 ? re : ny === 1 ? im : ny === 2 ? -re : -im;
}

/** out_i += w · (P ψ)_i for one row (builds λ = Σ g_o O_o ψ for the adjoint method). */
export function addPauliApplied(
  out: Amps,
  s: Amps,
  off: number,
  dim: number,
  m: PauliMasks,
  w: number,
): void {
  const ny = m.ny & 3;
  // (−i)^ny as (cr, ci)
  const cr = ny === 0 ? w : ny === 2 ? -w : 0;
  const ci = ny === 1 ? -w : ny === 3 ? w : 0;
  for (let i = 0; i < dim; i++) {
    const b = off + 2 * (i ^ m.flip);
    const yr = s[b];
    const yi = s[b + 1];
    const sg = parity(i & m.sign) ? -1 : 1;
    const a = off + 2 * i;
    out[a] += sg * (cr * yr - ci * yi);
    out[a + 1] += sg * (cr * yi + ci * yr);
  }
}

// Backward kernels of the adjoint method: ψ after the step is read at float offset `so` (of the forward pass's
// tape, or of ψ itself, which the caller then steps back with the forward kernels), and λ (at offset 0) is updated.

/**
 * One backward step over a fused run of one-qubit gates on bit p: accumulates the anti-Hermitian part
 * (ρ − ρ†)/2 of the 2×2 cross density ρ_ab = Σ ψ_a·conj(λ_b) into `rho` (8 floats, interleaved row-major), which
 * gives the same Im Tr(Gρ) as ρ for every Hermitian G and transforms the same way under U†·U, then applies the
 * 2×2 `u` (the run's inverse) to λ. With `cmask`, over the pairs whose index has every control bit set only (a
 * controlled one-qubit gate: its generator is the projector onto the controls times a one-qubit generator).
 */
export function adjointStep1Tape(
  s: Amps,
  so: number,
  l: Amps,
  dim: number,
  p: number,
  u: Float64Array,
  rho: Float64Array,
  cmask = 0,
): void {
  const st = 1 << p;
  const st2 = 2 * st;
  const m0r = u[0];
  const m0i = u[1];
  const m1r = u[2];
  const m1i = u[3];
  const m2r = u[4];
  const m2i = u[5];
  const m3r = u[6];
  const m3i = u[7];
  // only the anti-Hermitian part (ρ − ρ†)/2 reaches Im Tr(Gρ) for Hermitian G: 6 sums, not 8
  let a00 = 0;
  let a11 = 0;
  let dr = 0;
  let di = 0;
  const lowMask = st - 1;
  const half = dim >> 1;
  for (let k = 0; k < half; k++) {
    const i = ((k & ~lowMask) << 1) | (k & lowMask);
    if ((i & cmask) !== cmask) continue;
    const a = 2 * i;
    const b = a + st2;
    const ar = s[so + a];
    const ai = s[so + a + 1];
    const br = s[so + b];
    const bi = s[so + b + 1];
    const lar = l[a];
    const lai = l[a + 1];
    const lbr = l[b];
    const lbi = l[b + 1];
    a00 += ai * lar - ar * lai;
    a11 += bi * lbr - br * lbi;
    // ρ01 − conj(ρ10)
    dr += ar * lbr + ai * lbi - br * lar - bi * lai;
    di += ai * lbr - ar * lbi - br * lai + bi * lar;
    mulPair(l, a, b, m0r, m0i, m1r, m1i, m2r, m2i, m3r, m3i);
  }
  antiHermitianRho(rho, a00, a11, dr, di);
}

/**
 * The anti-Hermitian part (ρ − ρ†)/2 of a 2×2 cross density into rho ([00r, 00i, 01r, 01i, 10r, 10i, 11r, 11i])
 * from Im ρ00, Im ρ11 and ρ01 − conj(ρ10) = dr + i·di.
 */
export function antiHermitianRho(rho: Float64Array, a00: number, a11: number, dr: number, di: number): void {
  rho[0] = 0;
  rho[1] = a00;
  rho[2] = 0.5 * dr;
  rho[3] = 0.5 * di;
  rho[4] = -0.5 * dr;
  rho[5] = 0.5 * di;
  rho[6] = 0;
  rho[7] = a11;
}

/**
 * Backward step over a fused diagonal run D = diag(t): w_i = Im(conj(λ_i) ψ_i) (unchanged by D, so it serves every
 * generator of the run), then λ ← D†λ, with ψ read from s[so..].
 */
export function adjointDiagTape(
  s: Amps,
  so: number,
  l: Amps,
  dim: number,
  t: Float64Array,
  w: Float64Array,
): void {
  for (let i = 0; i < dim; i++) {
    const a = 2 * i;
    const yr = s[so + a];
    const yi = s[so + a + 1];
    const lr = l[a];
    const li = l[a + 1];
    w[i] = lr * yi - li * yr;
    const tr = t[a];
    const ti = -t[a + 1];
    l[a] = tr * lr - ti * li;
    l[a + 1] = tr * li + ti * lr;
  }
}

/**
 * The backward step of a two-qubit gate M on bits p and q that couples only |x⟩ and |x ⊕ m⟩ (m = 2^p + 2^q; RXX,
 * RYY, RZZ): into sums the imaginary parts Off0, Off1, Dg0, Dg1 over the class 0 pairs (00, 11) and the class 1 pairs
 * (01, 10) of conj(λx)ψy + conj(λy)ψx (Off) and conj(λx)ψx + conj(λy)ψy (Dg), with ψ read at s[so..]; then λ ← Mλ
 * (m4 as apply2 takes it). Im⟨λ|XX|ψ⟩ = Off0 + Off1, Im⟨λ|YY|ψ⟩ = Off1 − Off0, Im⟨λ|ZZ|ψ⟩ = Dg0 − Dg1.
 */
export function adjointPairTape(
  s: Amps,
  so: number,
  l: Amps,
  dim: number,
  p: number,
  q: number,
  m4: Float64Array,
  sums: Float64Array,
): void {
  const hi = 1 << Math.max(p, q);
  const lo = 1 << Math.min(p, q);
  const m = hi | lo;
  sums.fill(0);
  for (let i = 0; i < dim; i++) {
    if ((i & hi) !== 0) continue;
    const c = (i & lo) !== 0 ? 1 : 0;
    const x = 2 * i;
    const y = 2 * (i ^ m);
    const lxr = l[x];
    const lxi = l[x + 1];
    const lyr = l[y];
    const lyi = l[y + 1];
    const pxr = s[so + x];
    const pxi = s[so + x + 1];
    const pyr = s[so + y];
    const pyi = s[so + y + 1];
    // Im(conj(λ_a) ψ_b) = λa_re ψb_im − λa_im ψb_re
    sums[c] += lxr * pyi - lxi * pyr + (lyr * pxi - lyi * pxr);
    sums[2 + c] += lxr * pxi - lxi * pxr + (lyr * pyi - lyi * pyr);
  }
  apply2(l, 0, dim, p, q, m4);
}
