// The WebAssembly SIMD kernels (wasm-module.ts) over states that live in WebAssembly memory: a Runner keeps
// ψ, λ, its scratch row, the forward tape and its tables as views of one memory of its own, so a step is one
// call with no copy. One module per precision (f32x4 kernels on complex64 rows, f64x2 on complex128). Where
// WebAssembly SIMD is unavailable wasmState() returns null and the JS kernels run.
import type { Precision } from '../backend';
import { antiHermitianRho, type Amps, type Mat2 } from './kernels';
import { stateModuleBytes } from './wasm-module';

const PAGE = 65536;
/** 4 GiB, the wasm32 limit; a memory reserves nothing beyond what it was created with. */
const MAX_PAGES = 65536;

/** d: byte distance to the destination row (0 or omitted: in place); cmask: control bits (in place only). */
type GenFn = (s: number, dim: number, p: number, ...m: [...Mat2, d?: number, cmask?: number]) => void;
type RealFn = (
  s: number,
  dim: number,
  p: number,
  m0: number,
  m1: number,
  m2: number,
  m3: number,
  d?: number,
  cmask?: number,
) => void;
type DiagFn = (
  s: number,
  dim: number,
  p: number,
  skip0: number,
  d0r: number,
  d0i: number,
  d1r: number,
  d1i: number,
  cmask?: number,
) => void;
type AdjFn = (
  t: number,
  l: number,
  dim: number,
  p: number,
  ...m: [...Mat2, out: number, cmask?: number]
) => void;
type GatherFn = (src: number, dst: number, idx: number, dim: number) => void;
type DmulFn = (src: number, dst: number, tab: number, dim: number) => void;
type WhtFn = (w: number, dim: number) => void;
type DadjFn = (t: number, l: number, tab: number, dim: number, w: number) => void;
type Norm2Fn = (s: number, w: number, dim: number) => void;
type RmulFn = (src: number, dst: number, w: number, dim: number) => void;
type RsetFn = (dst: number, w: number, dim: number, vr: number, vi: number) => void;
type Rdot2Fn = (s: number, l: number, w: number, dim: number, out: number) => void;
/** The two class matrices of a pair gate, A then B, as 16 numbers (pairClasses). */
type Pair16 = [...Mat2, ...Mat2];
type Pair2Fn = (s: number, dim: number, lo: number, hi: number, ...ab: Pair16) => void;
type Adj2Fn = (
  t: number,
  l: number,
  dim: number,
  lo: number,
  hi: number,
  ...rest: [...Pair16, out: number]
) => void;

/** Bytes after the rows for adj's partial sums (four vectors). */
const OUT_BYTES = 64;

/** One memory holding `rows` complex rows of `dim` amplitudes (complex64 or complex128), and the kernels bound to it. */
export interface WasmState {
  readonly precision: Precision;
  readonly memory: WebAssembly.Memory;
  /** Bytes per amplitude: 8 (f32) or 16 (f64). */
  readonly ampBytes: number;
  /** Row r as a Float32Array or Float64Array view (2·dim floats at byte address r·ampBytes·dim). */
  readonly rows: Amps[];
  readonly gen: GenFn;
  readonly real: RealFn;
  readonly diag: DiagFn;
  readonly adj: AdjFn;
  /** adj's sums only, λ unchanged (the matrix arguments are not read). */
  readonly adjs: AdjFn;
  /** Byte address of adj's output, after the last row. */
  readonly outAt: number;
  /** adj's output as four vectors (A, B, C, D): 16 f32 or 8 f64. */
  readonly out: Amps;
  readonly gather: GatherFn;
  readonly dmul: DmulFn;
  readonly dadj: DadjFn;
  readonly wht: WhtFn;
  readonly norm2: Norm2Fn;
  readonly rmul: RmulFn;
  /** dst_i = w_i · (vr + i·vi) for real w_i. */
  readonly rset: RsetFn;
  /** Partial sums at outAt (out: two vectors, S then T). */
  readonly rdot2: Rdot2Fn;
  readonly pair2: Pair2Fn;
  readonly adj2: Adj2Fn;
  /** Byte address of the caller's extra bytes (16-byte aligned), after adj's output. */
  readonly extraAt: number;
}

const modules: Record<Precision, WebAssembly.Module | null | undefined> = { f32: undefined, f64: undefined };
const failures: Record<Precision, string | null> = { f32: null, f64: null };
const fma: Record<Precision, boolean> = { f32: false, f64: false };

function fmaWanted(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.QLAB_WASM_FMA !== '0';
}

/** Whether this precision's adjoint kernel runs relaxed-SIMD multiply-adds (after its module compiled). */
export function wasmStateFma(precision: Precision): boolean {
  compiled(precision);
  return fma[precision];
}

function compiled(precision: Precision): WebAssembly.Module | null {
  if (modules[precision] === undefined) {
    try {
      const mem = { min: 1, max: MAX_PAGES };
      // the adjoint step with relaxed-SIMD FMA where this runtime compiles it (Electron, Node ≥ 22, Node 20 with
      // the flag the process entries set: core/nn/wasm/relaxed-simd.ts); QLAB_WASM_FMA=0 turns it off (A/B)
      let m: WebAssembly.Module | null = null;
      if (fmaWanted())
        try {
          m = new WebAssembly.Module(stateModuleBytes(mem, precision, { fma: true }));
          fma[precision] = true;
        } catch {
          m = null;
        }
      modules[precision] = m ?? new WebAssembly.Module(stateModuleBytes(mem, precision));
    } catch (e) {
      modules[precision] = null;
      failures[precision] = (e as Error).message;
    }
  }
  return modules[precision];
}

/** Why the kernels of this precision are unavailable, or null. */
export function wasmStateFailure(precision: Precision = 'f32'): string | null {
  compiled(precision);
  return failures[precision];
}

/**
 * A memory for `rows` rows of 2^n amplitudes (and `extraBytes` more for the caller's tables) with the kernels
 * instantiated over it; null where WebAssembly SIMD is unavailable, it does not fit in 4 GiB or the memory cannot be
 * made (the caller then keeps its rows in JS).
 */
export function wasmState(
  dim: number,
  rows: number,
  extraBytes = 0,
  precision: Precision = 'f32',
): WasmState | null {
  if (!Number.isInteger(dim) || dim < 2 || (dim & (dim - 1)) !== 0)
    throw new Error(`dim: must be a power of two ≥ 2, got ${dim}`);
  const m = compiled(precision);
  const ampBytes = precision === 'f64' ? 16 : 8;
  const bytes = ampBytes * dim * rows + OUT_BYTES + extraBytes;
  if (!m || bytes > MAX_PAGES * PAGE) return null;
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: MAX_PAGES });
  } catch {
    // out of memory or of address space (every Runner of ≥ 4 amplitudes, f32 or f64, holds a memory): JS rows
    return null;
  }
  const inst = new WebAssembly.Instance(m, { env: { mem: memory } });
  const View = precision === 'f64' ? Float64Array : Float32Array;
  const views: Amps[] = [];
  for (let r = 0; r < rows; r++) views.push(new View(memory.buffer, ampBytes * dim * r, 2 * dim));
  const outAt = ampBytes * dim * rows;
  return {
    precision,
    memory,
    ampBytes,
    rows: views,
    gen: inst.exports.gen as GenFn,
    real: inst.exports.real as RealFn,
    diag: inst.exports.diag as DiagFn,
    adj: inst.exports.adj as AdjFn,
    adjs: inst.exports.adjs as AdjFn,
    outAt,
    out: new View(memory.buffer, outAt, OUT_BYTES / View.BYTES_PER_ELEMENT),
    gather: inst.exports.gather as GatherFn,
    dmul: inst.exports.dmul as DmulFn,
    dadj: inst.exports.dadj as DadjFn,
    wht: inst.exports.wht as WhtFn,
    norm2: inst.exports.norm2 as Norm2Fn,
    rmul: inst.exports.rmul as RmulFn,
    rset: inst.exports.rset as RsetFn,
    rdot2: inst.exports.rdot2 as Rdot2Fn,
    pair2: inst.exports.pair2 as Pair2Fn,
    adj2: inst.exports.adj2 as Adj2Fn,
    extraAt: outAt + OUT_BYTES,
  };
}

/**
 * The taped adjoint step on bit p in wasm: λ (row at byte address l) ← u·λ with ψ read at byte address t, and
 * rho = the anti-Hermitian part of the cross density, laid out as adjointStep1Tape's (kernels.ts).
 */
export function adjointStep1Wasm(
  w: WasmState,
  t: number,
  l: number,
  dim: number,
  p: number,
  u: Float64Array,
  rho: Float64Array,
  cmask = 0,
): void {
  w.adj(t, l, dim, p, u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], w.outAt, cmask);
  readSums(w, p, rho);
}

/**
 * adjointStep1Wasm's cross density with λ left unchanged (the `adjs` kernel): of an uncontrolled block whose λ update
 * comes later. The same sums as adjointStep1Wasm's, bit for bit.
 */
export function blockSumsWasm(
  w: WasmState,
  t: number,
  l: number,
  dim: number,
  p: number,
  rho: Float64Array,
): void {
  w.adjs(t, l, dim, p, 0, 0, 0, 0, 0, 0, 0, 0, w.outAt, 0);
  readSums(w, p, rho);
}

/** The anti-Hermitian part of the cross density on bit p from adj's or adjs's four vectors at outAt, into rho. */
function readSums(w: WasmState, p: number, rho: Float64Array): void {
  const o = w.out;
  let a00: number, a11: number, dr: number, di: number;
  if (w.precision === 'f64') {
    // A, B, C, D as two f64 lanes (re, im) each
    a00 = o[1] - o[0];
    a11 = o[3] - o[2];
    dr = o[4] + o[5];
    di = o[7] - o[6];
  } else if (p === 0) {
    a00 = o[1] - o[0];
    a11 = o[3] - o[2];
    dr = o[8] + o[9] - o[10] - o[11];
    di = o[13] - o[12] - o[14] + o[15];
  } else {
    a00 = o[1] - o[0] + (o[3] - o[2]);
    a11 = o[5] - o[4] + (o[7] - o[6]);
    dr = o[8] + o[9] + o[10] + o[11];
    di = o[13] - o[12] + (o[15] - o[14]);
  }
  antiHermitianRho(rho, a00, a11, dr, di);
}

/**
 * The class matrices of a two-qubit gate on bits p and q (4×4 m4, interleaved row-major, local index 2·bit_p + bit_q)
 * that couples only |x⟩ and |x ⊕ m⟩: A on the class 0 pair (00, 11), B on the class 1 pair (x, y) with x the index
 * whose bit min(p, q) is set — into ab (16 numbers, A then B, each [m_xx, m_xy, m_yx, m_yy] interleaved).
 */
export function pairClasses(p: number, q: number, m4: Float64Array, ab: Float64Array): void {
  putClass(ab, 0, m4, 0, 3);
  if (p > q) putClass(ab, 8, m4, 1, 2);
  else putClass(ab, 8, m4, 2, 1);
}

/** [m_xx, m_xy, m_yx, m_yy] of the 4×4 m4 (interleaved) into ab[o..o+8). */
function putClass(ab: Float64Array, o: number, m4: Float64Array, x: number, y: number): void {
  const at = (r: number, c: number) => 8 * r + 2 * c;
  const xx = at(x, x);
  const xy = at(x, y);
  const yx = at(y, x);
  const yy = at(y, y);
  ab[o] = m4[xx];
  ab[o + 1] = m4[xx + 1];
  ab[o + 2] = m4[xy];
  ab[o + 3] = m4[xy + 1];
  ab[o + 4] = m4[yx];
  ab[o + 5] = m4[yx + 1];
  ab[o + 6] = m4[yy];
  ab[o + 7] = m4[yy + 1];
}

/** The class matrices as call arguments (one array, reused: the kernels are synchronous). */
const abArgs = new Array<number>(16).fill(0) as Pair16;
function pairArgs(ab: Float64Array): Pair16 {
  for (let k = 0; k < 16; k++) abArgs[k] = ab[k];
  return abArgs;
}

/** pair2 on the row at byte address s with the class matrices ab (pairClasses). */
export function applyPairWasm(
  w: WasmState,
  s: number,
  dim: number,
  p: number,
  q: number,
  ab: Float64Array,
): void {
  w.pair2(s, dim, Math.min(p, q), Math.max(p, q), ...pairArgs(ab));
}

/**
 * The taped adjoint step of a two-qubit pair gate in wasm: λ (row at l) ← (A, B)·λ with ψ read at t, and into sums
 * [Im Off0, Im Off1, Im Dg0, Im Dg1] (adj2Fn in wasm-module.ts): Im⟨λ|XX|ψ⟩ = Off0 + Off1, Im⟨λ|YY|ψ⟩ = Off1 − Off0,
 * Im⟨λ|ZZ|ψ⟩ = Dg0 − Dg1, all taken before λ is updated.
 */
export function adjointPairWasm(
  w: WasmState,
  t: number,
  l: number,
  dim: number,
  p: number,
  q: number,
  ab: Float64Array,
  sums: Float64Array,
): void {
  w.adj2(t, l, dim, Math.min(p, q), Math.max(p, q), ...pairArgs(ab), w.outAt);
  const o = w.out;
  for (let k = 0; k < 4; k++)
    sums[k] =
      w.precision === 'f64'
        ? o[2 * k + 1] - o[2 * k]
        : o[4 * k + 1] - o[4 * k] + (o[4 * k + 3] - o[4 * k + 2]);
}
