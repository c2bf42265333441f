// Where a Runner's rows live and the kernels that run on them, behind one interface: plain typed arrays with the
// JS kernels (kernels.ts), or — for rows of ≥ WASM_MIN_DIM amplitudes, f32 or f64 — views of one WebAssembly memory
// with the SIMD kernels (wasm.ts: f32x4 or f64x2). All of a Runner's rows (ψ, λ, the scratch row, the tape) live in the one place its
// Rows says, so no caller asks where a row is.
import type { Precision } from '../backend';
import {
  adjointDiagTape,
  adjointPairTape,
  adjointStep1Tape,
  apply1X,
  apply2,
  applyDiagTable,
  applyGather,
  applyParityDiag,
  applySwap,
  gatherTo,
  isDiag2,
  isReal2,
  kernelFor,
  type Amps,
} from './kernels';
import type { Program } from './program';
import {
  adjointPairWasm,
  adjointStep1Wasm,
  applyPairWasm,
  blockSumsWasm,
  pairClasses,
  wasmState,
} from './wasm';

export interface Rows {
  /** 'wasm-simd' or 'js': what ran, as the backend reports it. */
  readonly kind: 'wasm-simd' | 'js';
  /** ψ, λ and a scratch row, (2^n, 2) each. */
  readonly psi: Amps;
  readonly lam: Amps;
  /** The scratch row: a taped forward pass leaves there the steps it does not tape (Runner.enableTape). */
  readonly tmp: Amps;
  /** ψ after every step of a taped forward row, (numSteps, 2^n, 2); null until withTape. */
  readonly tape: Amps | null;
  /**
   * The 2×2 at m[o..o+8) on bit p of row a (at float offset off), in place; with `cmask`, only on the pairs whose
   * index has every control bit set (a controlled gate; cmask must not hold bit p).
   */
  apply1(a: Amps, off: number, p: number, m: Float64Array, o: number, cmask?: number): void;
  /** X on bit p of row a, controlled by cmask (CNOT, Toffoli), in place. */
  flip(a: Amps, p: number, cmask: number): void;
  /**
   * A two-qubit gate on bits p and q of row a that couples only |x⟩ and |x ⊕ 2^p ⊕ 2^q⟩ (RXX, RYY), as a 4×4
   * (interleaved row-major, local index 2·bit_p + bit_q), in place.
   */
  apply2(a: Amps, p: number, q: number, m4: Float64Array): void;
  /** SWAP of bits p and q of row a, in place. */
  swap(a: Amps, p: number, q: number): void;
  /** Row a times e where bits p and q agree and o where they differ (RZZ), in place. */
  parity(a: Amps, p: number, q: number, er: number, ei: number, or: number, oi: number): void;
  /**
   * The taped adjoint step of a two-qubit pair gate: λ ← m4·λ and the generator sums [Im Off0, Im Off1, Im Dg0,
   * Im Dg1] with ψ at s[so..] (kernels.adjointPairTape).
   */
  adjointPair(s: Amps, so: number, p: number, q: number, m4: Float64Array, sums: Float64Array): void;
  /** d[doff..] ← M · s[so..] for the 2×2 M at m[o..o+8) on bit p. */
  apply1To(s: Amps, so: number, d: Amps, doff: number, p: number, m: Float64Array, o: number): void;
  /** d[doff..] ← D · s[so..] for diagonal step k's table D (d may be s at the same offset). */
  diagTo(s: Amps, so: number, d: Amps, doff: number, k: number): void;
  /** d[doff..] ← s[so..] permuted by permutation step k (its inverse when `inverse`); d must not overlap s. */
  gatherTo(s: Amps, so: number, d: Amps, doff: number, k: number, inverse: boolean): void;
  /** Row a permuted in place by permutation step k (or its inverse). */
  gather(a: Amps, k: number, inverse: boolean): void;
  /**
   * The taped adjoint step of a block on bit p: λ ← uλ and rho from ψ at s[so..] (kernels.adjointStep1Tape); with
   * `cmask`, of a controlled one-qubit gate (over the controlled pairs only).
   */
  adjointBlock(s: Amps, so: number, p: number, u: Float64Array, rho: Float64Array, cmask?: number): void;
  /** adjointBlock's rho (uncontrolled) with λ left unchanged: the cross density of a block stepped back later. */
  blockSums(s: Amps, so: number, p: number, rho: Float64Array): void;
  /**
   * The adjoint step of diagonal step k: w_i = Im(conj(λ_i) ψ_i) with ψ at s[so..], then λ ← D†λ; returns w, or
   * its Walsh–Hadamard transform W[m] = Σ_i w_i (−1)^|i ∧ m| when `walsh` and `canWalsh`.
   */
  adjointDiag(s: Amps, so: number, k: number, walsh: boolean): Float64Array | Float32Array;
  /**
   * Whether adjointDiag can return the Walsh–Hadamard transform (one SIMD pass for every generator sum), and
   * probsWalsh and seedWalsh run.
   */
  readonly canWalsh: boolean;
  /** A real scratch row of 2^n values in the rows' precision (what adjointDiag returns; probsWalsh's output). */
  readonly w: Float64Array | Float32Array;
  /**
   * w ← W with W[m] = Σ_i |ψ_i|² (−1)^|i ∧ m|: the expectation of the Z string on the bits of m, for every m at
   * once (norm2 and wht in SIMD; canWalsh only).
   */
  probsWalsh(): void;
  /**
   * The adjoint's seed for Z-string observables: with c in w (c[m] = Σ of g_o·coeff_o over the observables whose Z
   * string is m), h ← the Walsh–Hadamard transform of c, then λ ← h ⊙ ψ — so λ = Σ_o g_o O_o ψ (canWalsh only).
   */
  seedWalsh(): void;
  /** out[0..4) ← (Σ w_i ψ_i, Σ w_i λ_i) as re, im, re, im: the weights in w (canWalsh only). */
  weightedSums(out: Float64Array): void;
  /** ψ_i ← w_i · (vr + i·vi) for the real weights in w (canWalsh only). */
  setWeighted(vr: number, vi: number): void;
  /** Diagonal step k's table (f64, dt[k]) has changed. */
  tableChanged(k: number): void;
  /** Rows like these with a tape of `floats` floats (same kind where it fits, else JS); this Rows is spent. */
  withTape(floats: number): Rows;
}

/** Everything a Rows needs of its Runner: the program, the f64 diagonal tables and the precision. */
interface RowsSpec {
  prog: Program;
  /** Per diagonal step, its table (2^n, 2) in f64 (empty for other steps). */
  dt: Float64Array[];
  precision: Precision;
}

function newAmps(precision: Precision, length: number): Amps {
  return precision === 'f64' ? new Float64Array(length) : new Float32Array(length);
}

function noWalsh(): never {
  throw new Error('JS rows: no Walsh–Hadamard kernels (canWalsh is false)');
}

/** Rows as typed arrays with the JS kernels. */
function jsRows(spec: RowsSpec, tapeFloats = 0): Rows {
  const { prog, dt, precision } = spec;
  const dim = prog.dim;
  const psi = newAmps(precision, 2 * dim);
  const lam = newAmps(precision, 2 * dim);
  const tmp = newAmps(precision, 2 * dim);
  const w = new Float64Array(dim);
  const perm = (k: number, inverse: boolean): Int32Array => {
    const st = prog.steps[k];
    if (st.type !== 'perm') throw new Error(`step ${k} is not a permutation`);
    return inverse ? st.inv : st.src;
  };
  const apply1: Rows['apply1'] = (a, off, p, m, o, cmask = 0) => kernelFor(m, o)(a, off, dim, p, cmask, m, o);
  const none = new Float64Array(8);
  return {
    kind: 'js',
    psi,
    lam,
    tmp,
    tape: tapeFloats > 0 ? newAmps(precision, tapeFloats) : null,
    apply1,
    flip: (a, p, cmask) => apply1X(a, 0, dim, p, cmask, none, 0),
    apply2: (a, p, q, m4) => apply2(a, 0, dim, p, q, m4),
    swap: (a, p, q) => applySwap(a, 0, dim, p, q),
    parity: (a, p, q, er, ei, or, oi) => applyParityDiag(a, 0, dim, p, q, er, ei, or, oi),
    adjointPair: (s, so, p, q, m4, sums) => adjointPairTape(s, so, lam, dim, p, q, m4, sums),
    apply1To(s, so, d, doff, p, m, o) {
      d.set(s.subarray(so, so + 2 * dim), doff);
      apply1(d, doff, p, m, o);
    },
    diagTo: (s, so, d, doff, k) => applyDiagTable(s, so, d, doff, dim, dt[k]),
    gatherTo: (s, so, d, doff, k, inverse) => gatherTo(s, so, d, doff, dim, perm(k, inverse)),
    gather: (a, k, inverse) => applyGather(a, 0, dim, perm(k, inverse), tmp),
    adjointBlock: (s, so, p, u, rho, cmask = 0) => adjointStep1Tape(s, so, lam, dim, p, u, rho, cmask),
    // the identity leaves λ as it was, bit for bit (1·x + 0·y = x)
    blockSums: (s, so, p, rho) => adjointStep1Tape(s, so, lam, dim, p, ID2, rho, 0),
    adjointDiag(s, so, k) {
      adjointDiagTape(s, so, lam, dim, dt[k], w);
      return w;
    },
    canWalsh: false,
    w,
    probsWalsh: noWalsh,
    seedWalsh: noWalsh,
    weightedSums: noWalsh,
    setWeighted: noWalsh,
    tableChanged() {},
    withTape: (floats) => jsRows(spec, floats),
  };
}

/** The identity as a 2×2. */
const ID2 = Float64Array.of(1, 0, 0, 0, 0, 0, 1, 0);
/** X as a 2×2, for the real kernel. */
const X2 = Float64Array.of(0, 0, 1, 0, 1, 0, 0, 0);
/** SWAP's class matrices for pair2: identity on (00, 11), X on (01, 10). */
const SWAP_AB = Float64Array.of(1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0);

/**
 * Rows in one WebAssembly memory: ψ, λ, the scratch row, the tape (numSteps rows), then w, the gather tables
 * (i32 byte offsets) and copies of the diagonal tables in the rows' precision. Null where the memory cannot be made.
 */
function wasmRows(spec: RowsSpec, tapeRows = 0): Rows | null {
  const { prog, dt, precision } = spec;
  const dim = prog.dim;
  const amp = precision === 'f64' ? 16 : 8; // bytes per amplitude
  const real = amp / 2; // bytes per real
  let aux = real * dim; // w
  for (const st of prog.steps) if (st.type === 'perm') aux += 8 * dim;
  for (const st of prog.steps) if (st.type === 'diag') aux += amp * dim;
  const ws = wasmState(dim, 3 + tapeRows, aux, precision);
  if (!ws) return null;
  const buf = ws.memory.buffer;
  const View = precision === 'f64' ? Float64Array : Float32Array;
  // the tables, 16-byte aligned (dim ≥ 4)
  let at = ws.extraAt;
  const wAt = at;
  const w = new View(buf, at, dim);
  at += real * dim;
  const srcAt = new Int32Array(prog.steps.length);
  const invAt = new Int32Array(prog.steps.length);
  const diagAt = new Int32Array(prog.steps.length);
  const diagCopy: (Amps | null)[] = prog.steps.map(() => null);
  prog.steps.forEach((st, k) => {
    if (st.type === 'perm') {
      for (const [tab, into] of [
        [st.src, srcAt],
        [st.inv, invAt],
      ] as const) {
        into[k] = at;
        const v = new Int32Array(buf, at, dim);
        for (let j = 0; j < dim; j++) v[j] = amp * tab[j];
        at += 4 * dim;
      }
    } else if (st.type === 'diag') {
      diagAt[k] = at;
      diagCopy[k] = new View(buf, at, 2 * dim);
      diagCopy[k].set(dt[k]);
      at += amp * dim;
    }
  });
  const [psi, lam, tmp] = ws.rows;
  const ab = new Float64Array(16);
  const addr = (a: Amps, off: number): number => a.byteOffset + real * off;
  const apply1: Rows['apply1'] = (a, off, p, m, o, cmask = 0) => {
    const s = addr(a, off);
    if (isDiag2(m, o))
      ws.diag(s, dim, p, m[o] === 1 && m[o + 1] === 0 ? 1 : 0, m[o], m[o + 1], m[o + 6], m[o + 7], cmask);
    else if (isReal2(m, o)) ws.real(s, dim, p, m[o], m[o + 2], m[o + 4], m[o + 6], 0, cmask);
    else
      ws.gen(s, dim, p, m[o], m[o + 1], m[o + 2], m[o + 3], m[o + 4], m[o + 5], m[o + 6], m[o + 7], 0, cmask);
  };
  return {
    kind: 'wasm-simd',
    psi,
    lam,
    tmp,
    tape: tapeRows > 0 ? new View(buf, 3 * amp * dim, tapeRows * 2 * dim) : null,
    apply1,
    flip: (a, p, cmask) => apply1(a, 0, p, X2, 0, cmask),
    apply2(a, p, q, m4) {
      pairClasses(p, q, m4, ab);
      applyPairWasm(ws, a.byteOffset, dim, p, q, ab);
    },
    swap: (a, p, q) => applyPairWasm(ws, a.byteOffset, dim, p, q, SWAP_AB),
    parity(a, p, q, er, ei, or, oi) {
      ab.fill(0);
      ab[0] = ab[6] = er;
      ab[1] = ab[7] = ei;
      ab[8] = ab[14] = or;
      ab[9] = ab[15] = oi;
      applyPairWasm(ws, a.byteOffset, dim, p, q, ab);
    },
    adjointPair(s, so, p, q, m4, sums) {
      pairClasses(p, q, m4, ab);
      adjointPairWasm(ws, addr(s, so), lam.byteOffset, dim, p, q, ab, sums);
    },
    apply1To(s, so, d, doff, p, m, o) {
      // the diagonal kernel works in place only
      if (isDiag2(m, o)) {
        if (s !== d || so !== doff) d.set(s.subarray(so, so + 2 * dim), doff);
        apply1(d, doff, p, m, o);
        return;
      }
      const from = addr(s, so);
      const delta = addr(d, doff) - from;
      if (isReal2(m, o)) ws.real(from, dim, p, m[o], m[o + 2], m[o + 4], m[o + 6], delta);
      else
        ws.gen(
          from,
          dim,
          p,
          m[o],
          m[o + 1],
          m[o + 2],
          m[o + 3],
          m[o + 4],
          m[o + 5],
          m[o + 6],
          m[o + 7],
          delta,
        );
    },
    diagTo: (s, so, d, doff, k) => ws.dmul(addr(s, so), addr(d, doff), diagAt[k], dim),
    gatherTo: (s, so, d, doff, k, inverse) =>
      ws.gather(addr(s, so), addr(d, doff), (inverse ? invAt : srcAt)[k], dim),
    gather(a, k, inverse) {
      ws.gather(a.byteOffset, tmp.byteOffset, (inverse ? invAt : srcAt)[k], dim);
      a.set(tmp);
    },
    adjointBlock: (s, so, p, u, rho, cmask = 0) =>
      adjointStep1Wasm(ws, addr(s, so), lam.byteOffset, dim, p, u, rho, cmask),
    blockSums: (s, so, p, rho) => blockSumsWasm(ws, addr(s, so), lam.byteOffset, dim, p, rho),
    adjointDiag(s, so, k, walsh) {
      ws.dadj(addr(s, so), lam.byteOffset, diagAt[k], dim, wAt);
      if (walsh) ws.wht(wAt, dim);
      return w;
    },
    canWalsh: true,
    w,
    probsWalsh() {
      ws.norm2(psi.byteOffset, wAt, dim);
      ws.wht(wAt, dim);
    },
    seedWalsh() {
      ws.wht(wAt, dim);
      ws.rmul(psi.byteOffset, lam.byteOffset, wAt, dim);
    },
    weightedSums(out) {
      ws.rdot2(psi.byteOffset, lam.byteOffset, wAt, dim, ws.outAt);
      const o = ws.out;
      if (precision === 'f64') for (let i = 0; i < 4; i++) out[i] = o[i];
      else for (let i = 0; i < 4; i++) out[i] = o[4 * (i >> 1) + (i & 1)] + o[4 * (i >> 1) + (i & 1) + 2];
    },
    setWeighted: (vr, vi) => ws.rset(psi.byteOffset, wAt, dim, vr, vi),
    tableChanged: (k) => diagCopy[k]?.set(dt[k]),
    withTape(floats) {
      return wasmRows(spec, floats / (2 * dim)) ?? jsRows(spec, floats);
    },
  };
}

/** The Rows a Runner starts with: wasm (f32 or f64) from `minWasmDim` amplitudes where it works, else JS. */
export function makeRows(spec: RowsSpec, useWasm: boolean, minWasmDim: number): Rows {
  const wasm = useWasm && spec.prog.dim >= Math.max(minWasmDim, 4) ? wasmRows(spec) : null;
  return wasm ?? jsRows(spec);
}
