// In-place state-vector kernels on typed arrays. A state row is 2^n complex amplitudes interleaved
// (re, im) starting at float offset `off`; `p` is the bit position of the target wire
// (p = n − 1 − wire, since wire 0 is the most significant bit) and `cmask` the control bits that
// must all be set. No kernel allocates.

export type Amps = Float32Array | Float64Array;

/** Generic 2×2 [[m0, m1], [m2, m3]] on the target bit, complex entries as (re, im) scalars. */
export function apply1(
  s: Amps,
  off: number,
  dim: number,
  p: number,
  cmask: number,
  m0r: number,
  m0i: number,
  m1r: number,
  m1i: number,
  m2r: number,
  m2i: number,
  m3r: number,
  m3i: number,
): void {
  const st = 1 << p;
  const st2 = 2 * st;
  for (let base = 0; base < dim; base += st2) {
    const end = base + st;
    for (let i = base; i < end; i++) {
      if ((i & cmask) !== cmask) continue;
      const a = off + 2 * i;
      const b = a + st2;
      const ar = s[a];
      const ai = s[a + 1];
      const br = s[b];
      const bi = s[b + 1];
      s[a] = m0r * ar - m0i * ai + m1r * br - m1i * bi;
      s[a + 1] = m0r * ai + m0i * ar + m1r * bi + m1i * br;
      s[b] = m2r * ar - m2i * ai + m3r * br - m3i * bi;
      s[b + 1] = m2r * ai + m2i * ar + m3r * bi + m3i * br;
    }
  }
}

/** Real 2×2 [[a, b], [c, d]] (RY and its fusions with other real gates). */
export function apply1Real(
  s: Amps,
  off: number,
  dim: number,
  p: number,
  cmask: number,
  m0: number,
  m1: number,
  m2: number,
  m3: number,
): void {
  const st = 1 << p;
  const st2 = 2 * st;
  for (let base = 0; base < dim; base += st2) {
    const end = base + st;
    for (let i = base; i < end; i++) {
      if ((i & cmask) !== cmask) continue;
      const a = off + 2 * i;
      const b = a + st2;
      const ar = s[a];
      const ai = s[a + 1];
      const br = s[b];
      const bi = s[b + 1];
      s[a] = m0 * ar + m1 * br;
      s[a + 1] = m0 * ai + m1 * bi;
      s[b] = m2 * ar + m3 * br;
      s[b + 1] = m2 * ai + m3 * bi;
    }
  }
}

/** Diagonal diag(d0, d1) on the target bit (Z, S, T, RZ, PhaseShift, CZ, CRZ, CPhase). */
export function apply1Diag(
  s: Amps,
  off: number,
  dim: number,
  p: number,
  cmask: number,
  d0r: number,
  d0i: number,
  d1r: number,
  d1i: number,
): void {
  const st = 1 << p;
  const st2 = 2 * st;
  const skip0 = d0r === 1 && d0i === 0;
  for (let base = 0; base < dim; base += st2) {
    const end = base + st;
    for (let i = base; i < end; i++) {
      if ((i & cmask) !== cmask) continue;
      const a = off + 2 * i;
      const b = a + st2;
      if (!skip0) {
        const ar = s[a];
        const ai = s[a + 1];
        s[a] = d0r * ar - d0i * ai;
        s[a + 1] = d0r * ai + d0i * ar;
      }
      const br = s[b];
      const bi = s[b + 1];
      s[b] = d1r * br - d1i * bi;
      s[b + 1] = d1r * bi + d1i * br;
    }
  }
}

/** Bit flip on the target (X, CNOT, Toffoli): a permutation, no arithmetic. */
export function apply1X(s: Amps, off: number, dim: number, p: number, cmask: number): void {
  const st = 1 << p;
  const st2 = 2 * st;
  for (let base = 0; base < dim; base += st2) {
    const end = base + st;
    for (let i = base; i < end; i++) {
      if ((i & cmask) !== cmask) continue;
      const a = off + 2 * i;
      const b = a + st2;
      const ar = s[a];
      const ai = s[a + 1];
      s[a] = s[b];
      s[a + 1] = s[b + 1];
      s[b] = ar;
      s[b + 1] = ai;
    }
  }
}

// Uncontrolled one-qubit kernels, in place on the row at s[off..]: the hot path. (Out-of-place
// variants writing straight into the tape measured slower than copy + in place.) Bit 0 gets its own
// loop (adjacent pairs, no inner loop of length one); higher bits stride over runs of 2^p.

/** Generic 2×2 on bit p, no controls. */
export function apply1U(
  s: Amps,
  off: number,
  dim: number,
  p: number,
  m0r: number,
  m0i: number,
  m1r: number,
  m1i: number,
  m2r: number,
  m2i: number,
  m3r: number,
  m3i: number,
): void {
  const end = 2 * dim;
  if (p === 0) {
    for (let a = 0; a < end; a += 4) {
      const ar = s[off + a];
      const ai = s[off + a + 1];
      const br = s[off + a + 2];
      const bi = s[off + a + 3];
      s[off + a] = m0r * ar - m0i * ai + m1r * br - m1i * bi;
      s[off + a + 1] = m0r * ai + m0i * ar + m1r * bi + m1i * br;
      s[off + a + 2] = m2r * ar - m2i * ai + m3r * br - m3i * bi;
      s[off + a + 3] = m2r * ai + m2i * ar + m3r * bi + m3i * br;
    }
    return;
  }
  const st2 = 2 << p;
  if (p < 3) {
    // short runs: one flat loop over pairs, inserting a zero at bit p (no inner loop of 2 or 4)
    const low = (1 << p) - 1;
    const half = dim >> 1;
    for (let k = 0; k < half; k++) {
      const a = 2 * (((k & ~low) << 1) | (k & low));
      const b = a + st2;
      const ar = s[off + a];
      const ai = s[off + a + 1];
      const br = s[off + b];
      const bi = s[off + b + 1];
      s[off + a] = m0r * ar - m0i * ai + m1r * br - m1i * bi;
      s[off + a + 1] = m0r * ai + m0i * ar + m1r * bi + m1i * br;
      s[off + b] = m2r * ar - m2i * ai + m3r * br - m3i * bi;
      s[off + b + 1] = m2r * ai + m2i * ar + m3r * bi + m3i * br;
    }
    return;
  }
  for (let base = 0; base < end; base += 2 * st2) {
    const stop = base + st2;
    for (let a = base; a < stop; a += 2) {
      const b = a + st2;
      const ar = s[off + a];
      const ai = s[off + a + 1];
      const br = s[off + b];
      const bi = s[off + b + 1];
      s[off + a] = m0r * ar - m0i * ai + m1r * br - m1i * bi;
      s[off + a + 1] = m0r * ai + m0i * ar + m1r * bi + m1i * br;
      s[off + b] = m2r * ar - m2i * ai + m3r * br - m3i * bi;
      s[off + b + 1] = m2r * ai + m2i * ar + m3r * bi + m3i * br;
    }
  }
}

/** Real 2×2 [[m0, m1], [m2, m3]] on bit p, no controls. */
export function apply1RealU(
  s: Amps,
  off: number,
  dim: number,
  p: number,
  m0: number,
  m1: number,
  m2: number,
  m3: number,
): void {
  const end = 2 * dim;
  if (p === 0) {
    for (let a = 0; a < end; a += 4) {
      const ar = s[off + a];
      const ai = s[off + a + 1];
      const br = s[off + a + 2];
      const bi = s[off + a + 3];
      s[off + a] = m0 * ar + m1 * br;
      s[off + a + 1] = m0 * ai + m1 * bi;
      s[off + a + 2] = m2 * ar + m3 * br;
      s[off + a + 3] = m2 * ai + m3 * bi;
    }
    return;
  }
  const st2 = 2 << p;
  if (p < 3) {
    // short runs: one flat loop over pairs, inserting a zero at bit p (no inner loop of 2 or 4)
    const low = (1 << p) - 1;
    const half = dim >> 1;
    for (let k = 0; k < half; k++) {
      const a = 2 * (((k & ~low) << 1) | (k & low));
      const b = a + st2;
      const ar = s[off + a];
      const ai = s[off + a + 1];
      const br = s[off + b];
      const bi = s[off + b + 1];
      s[off + a] = m0 * ar + m1 * br;
      s[off + a + 1] = m0 * ai + m1 * bi;
      s[off + b] = m2 * ar + m3 * br;
      s[off + b + 1] = m2 * ai + m3 * bi;
    }
    return;
  }
  for (let base = 0; base < end; base += 2 * st2) {
    const stop = base + st2;
    for (let a = base; a < stop; a += 2) {
      const b = a + st2;
      const ar = s[off + a];
      const ai = s[off + a + 1];
      const br = s[off + b];
      const bi = s[off + b + 1];
      s[off + a] = m0 * ar + m1 * br;
      s[off + a + 1] = m0 * ai + m1 * bi;
      s[off + b] = m2 * ar + m3 * br;
      s[off + b + 1] = m2 * ai + m3 * bi;
    }
  }
}

/** diag(d0, d1) on bit p, no controls. */
export function apply1DiagU(
  s: Amps,
  off: number,
  dim: number,
  p: number,
  d0r: number,
  d0i: number,
  d1r: number,
  d1i: number,
): void {
  const end = 2 * dim;
  if (p === 0) {
    for (let a = 0; a < end; a += 4) {
      const ar = s[off + a];
      const ai = s[off + a + 1];
      const br = s[off + a + 2];
      const bi = s[off + a + 3];
      s[off + a] = d0r * ar - d0i * ai;
      s[off + a + 1] = d0r * ai + d0i * ar;
      s[off + a + 2] = d1r * br - d1i * bi;
      s[off + a + 3] = d1r * bi + d1i * br;
    }
    return;
  }
  const st2 = 2 << p;
  if (p < 3) {
    // short runs: one flat loop over pairs, inserting a zero at bit p (no inner loop of 2 or 4)
    const low = (1 << p) - 1;
    const half = dim >> 1;
    for (let k = 0; k < half; k++) {
      const a = 2 * (((k & ~low) << 1) | (k & low));
      const b = a + st2;
      const ar = s[off + a];
      const ai = s[off + a + 1];
      const br = s[off + b];
      const bi = s[off + b + 1];
      s[off + a] = d0r * ar - d0i * ai;
      s[off + a + 1] = d0r * ai + d0i * ar;
      s[off + b] = d1r * br - d1i * bi;
      s[off + b + 1] = d1r * bi + d1i * br;
    }
    return;
  }
  for (let base = 0; base < end; base += 2 * st2) {
    const stop = base + st2;
    for (let a = base; a < stop; a += 2) {
      const b = a + st2;
      const ar = s[off + a];
      const ai = s[off + a + 1];
      const br = s[off + b];
      const bi = s[off + b + 1];
      s[off + a] = d0r * ar - d0i * ai;
      s[off + a + 1] = d0r * ai + d0i * ar;
      s[off + b] = d1r * br - d1i * bi;
      s[off + b + 1] = d1r * bi + d1i * br;
    }
  }
}

/** d_i ← t_i s_i for a precomputed diagonal t (interleaved complex, length 2·dim); d may be s. */
export function applyDiagTable(
  s: Amps,
  so: number,
  d: Amps,
  doff: number,
  dim: number,
  t: Float64Array,
): void {
  for (let i = 0; i < 2 * dim; i += 2) {
    const ar = s[so + i];
    const ai = s[so + i + 1];
    const tr = t[i];
    const ti = t[i + 1];
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

/**
 * Backward step over a fused diagonal run D = diag(t): w_i = Im(conj(λ_i) ψ_i) (unchanged by D, so
 * it serves every generator of the run), then ψ ← D†ψ and λ ← D†λ, in one pass.
 */
export function adjointDiag(
  s: Amps,
  l: Amps,
  off: number,
  dim: number,
  t: Float64Array,
  w: Float64Array,
): void {
  for (let i = 0; i < dim; i++) {
    const a = off + 2 * i;
    const yr = s[a];
    const yi = s[a + 1];
    const lr = l[a];
    const li = l[a + 1];
    w[i] = lr * yi - li * yr;
    const tr = t[2 * i];
    const ti = -t[2 * i + 1];
    s[a] = tr * yr - ti * yi;
    s[a + 1] = tr * yi + ti * yr;
    l[a] = tr * lr - ti * li;
    l[a + 1] = tr * li + ti * lr;
  }
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
  const bq = 1 << q;
  const flip = bp | bq;
  for (let i = 0; i < dim; i++) {
    if ((i & flip) !== bp) continue;
    const a = off + 2 * i;
    const b = off + 2 * (i ^ flip);
    const ar = s[a];
    const ai = s[a + 1];
    s[a] = s[b];
    s[a + 1] = s[b + 1];
    s[b] = ar;
    s[b + 1] = ai;
  }
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

/** Re⟨ψ|P|ψ⟩ for one row. */
export function pauliExpval(s: Amps, off: number, dim: number, m: PauliMasks): number {
  let acc = 0;
  if (m.flip === 0) {
    for (let i = 0; i < dim; i++) {
      const a = off + 2 * i;
      const pr = s[a] * s[a] + s[a + 1] * s[a + 1];
      acc += parity(i & m.sign) ? -pr : pr;
    }
    return acc;
  }
  // Re(conj(ψ_i) · ph · ψ_j) with ph ∈ {±1, ±i}
  const ny = m.ny & 3;
  for (let i = 0; i < dim; i++) {
    const a = off + 2 * i;
    const b = off + 2 * (i ^ m.flip);
    const xr = s[a];
    const xi = s[a + 1];
    const yr = s[b];
    const yi = s[b + 1];
    const cr = xr * yr + xi * yi; // conj(x)·y
    const ci = xr * yi - xi * yr;
    let v = ny === 0 ? cr : ny === 1 ? ci : ny === 2 ? -cr : -ci; // Re((−i)^ny (cr + i ci))
    if (parity(i & m.sign)) v = -v;
    acc += v;
  }
  return acc;
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

/**
 * Im⟨λ|G|ψ⟩ with G = Π(cmask bits set) · P for a Pauli string P given by masks (P acts only on bits
 * outside cmask, so the projector commutes with it).
 */
export function generatorImag(
  l: Amps,
  s: Amps,
  off: number,
  dim: number,
  m: PauliMasks,
  cmask: number,
  soff: number = off,
): number {
  const ny = m.ny & 3;
  let acc = 0;
  for (let i = 0; i < dim; i++) {
    if ((i & cmask) !== cmask) continue;
    const a = off + 2 * i;
    const b = soff + 2 * (i ^ m.flip);
    const lr = l[a];
    const li = l[a + 1];
    const yr = s[b];
    const yi = s[b + 1];
    const cr = lr * yr + li * yi;
    const ci = lr * yi - li * yr;
    // Im((−i)^ny (cr + i ci))
    let v = ny === 0 ? ci : ny === 1 ? -cr : ny === 2 ? -ci : cr;
    if (parity(i & m.sign)) v = -v;
    acc += v;
  }
  return acc;
}

/**
 * One backward step over a fused run of one-qubit gates on bit p: accumulates the 2×2 cross
 * density ρ_ab = Σ ψ_a·conj(λ_b) of the current (after-run) vectors into `rho` (8 floats, interleaved
 * row-major), then applies the 2×2 `u` (the run's inverse) to both ψ and λ.
 */
export function adjointStep1(
  s: Amps,
  l: Amps,
  off: number,
  dim: number,
  p: number,
  u: Float64Array,
  rho: Float64Array,
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
  let r00r = 0;
  let r00i = 0;
  let r01r = 0;
  let r01i = 0;
  let r10r = 0;
  let r10i = 0;
  let r11r = 0;
  let r11i = 0;
  const lowMask = st - 1;
  const half = dim >> 1;
  // one flat loop over pairs (k → k with a zero inserted at bit p): no inner loop of length 1 at p = 0
  for (let k = 0; k < half; k++) {
    {
      const a = off + 2 * (((k & ~lowMask) << 1) | (k & lowMask));
      const b = a + st2;
      const ar = s[a];
      const ai = s[a + 1];
      const br = s[b];
      const bi = s[b + 1];
      const lar = l[a];
      const lai = l[a + 1];
      const lbr = l[b];
      const lbi = l[b + 1];
      // ψ_x · conj(λ_y)
      r00r += ar * lar + ai * lai;
      r00i += ai * lar - ar * lai;
      r01r += ar * lbr + ai * lbi;
      r01i += ai * lbr - ar * lbi;
      r10r += br * lar + bi * lai;
      r10i += bi * lar - br * lai;
      r11r += br * lbr + bi * lbi;
      r11i += bi * lbr - br * lbi;
      s[a] = m0r * ar - m0i * ai + m1r * br - m1i * bi;
      s[a + 1] = m0r * ai + m0i * ar + m1r * bi + m1i * br;
      s[b] = m2r * ar - m2i * ai + m3r * br - m3i * bi;
      s[b + 1] = m2r * ai + m2i * ar + m3r * bi + m3i * br;
      l[a] = m0r * lar - m0i * lai + m1r * lbr - m1i * lbi;
      l[a + 1] = m0r * lai + m0i * lar + m1r * lbi + m1i * lbr;
      l[b] = m2r * lar - m2i * lai + m3r * lbr - m3i * lbi;
      l[b + 1] = m2r * lai + m2i * lar + m3r * lbi + m3i * lbr;
    }
  }
  rho[0] = r00r;
  rho[1] = r00i;
  rho[2] = r01r;
  rho[3] = r01i;
  rho[4] = r10r;
  rho[5] = r10i;
  rho[6] = r11r;
  rho[7] = r11i;
}

// Taped backward kernels: ψ after the step is read from the forward pass's tape at float offset `so`,
// so only λ is transformed (the un-apply of ψ is not needed).

/**
 * Like adjointStep1, with ψ read from s[so..] and only λ (at offset 0) updated by u; `rho` gets the
 * anti-Hermitian part (ρ − ρ†)/2 of the cross density, which gives the same Im Tr(Gρ) for every
 * Hermitian G and transforms the same way under U†·U.
 */
export function adjointStep1Tape(
  s: Amps,
  so: number,
  l: Amps,
  dim: number,
  p: number,
  u: Float64Array,
  rho: Float64Array,
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
    const a = 2 * (((k & ~lowMask) << 1) | (k & lowMask));
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
    l[a] = m0r * lar - m0i * lai + m1r * lbr - m1i * lbi;
    l[a + 1] = m0r * lai + m0i * lar + m1r * lbi + m1i * lbr;
    l[b] = m2r * lar - m2i * lai + m3r * lbr - m3i * lbi;
    l[b + 1] = m2r * lai + m2i * lar + m3r * lbi + m3i * lbr;
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

/** Like adjointDiag, with ψ read from s[so..] and only λ updated. */
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
