// The WebAssembly SIMD kernels (wasm-module.ts) over states that live in WebAssembly memory: an f32 Runner keeps
// ψ, λ, its scratch row, the forward tape and its tables as views of one memory of its own, so a step is one
// call with no copy. Where WebAssembly SIMD is unavailable wasmState() returns null and the JS kernels run.
import { antiHermitianRho, type Mat2 } from './kernels';
import { stateModuleBytes } from './wasm-module';

const PAGE = 65536;
/** 4 GiB, the wasm32 limit; a memory reserves nothing beyond what it was created with. */
const MAX_PAGES = 65536;

/** d: byte distance to the destination row (0 or omitted: in place). */
type GenFn = (s: number, dim: number, p: number, ...m: [...Mat2, d?: number]) => void;
type RealFn = (
  s: number,
  dim: number,
  p: number,
  m0: number,
  m1: number,
  m2: number,
  m3: number,
  d?: number,
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
) => void;
type AdjFn = (t: number, l: number, dim: number, p: number, ...m: [...Mat2, out: number]) => void;
type GatherFn = (src: number, dst: number, idx: number, dim: number) => void;
type DmulFn = (src: number, dst: number, tab: number, dim: number) => void;
type WhtFn = (w: number, dim: number) => void;
type DadjFn = (t: number, l: number, tab: number, dim: number, w: number) => void;

/** Bytes after the rows for adj's partial sums (four f32x4). */
const OUT_BYTES = 64;

/** One memory holding `rows` complex64 rows of `dim` amplitudes, and the kernels bound to it. */
export interface WasmState {
  readonly memory: WebAssembly.Memory;
  /** Row r as a Float32Array view (2·dim floats at byte address r·8·dim). */
  readonly rows: Float32Array[];
  readonly gen: GenFn;
  readonly real: RealFn;
  readonly diag: DiagFn;
  readonly adj: AdjFn;
  /** Byte address of adj's output, after the last row. */
  readonly outAt: number;
  /** adj's output as 16 floats (A, B, C, D). */
  readonly out: Float32Array;
  readonly gather: GatherFn;
  readonly dmul: DmulFn;
  readonly dadj: DadjFn;
  readonly wht: WhtFn;
  /** Byte address of the caller's extra bytes (16-byte aligned), after adj's output. */
  readonly extraAt: number;
}

let module: WebAssembly.Module | null | undefined;
let failure: string | null = null;

function compiled(): WebAssembly.Module | null {
  if (module === undefined) {
    try {
      module = new WebAssembly.Module(stateModuleBytes({ min: 1, max: MAX_PAGES }));
    } catch (e) {
      module = null;
      failure = (e as Error).message;
    }
  }
  return module;
}

/** Why the kernels are unavailable, or null. */
export function wasmStateFailure(): string | null {
  compiled();
  return failure;
}

/**
 * A memory for `rows` rows of 2^n amplitudes (and `extraBytes` more for the caller's tables) with the kernels
 * instantiated over it; null where WebAssembly SIMD is unavailable or it does not fit in 4 GiB.
 */
export function wasmState(dim: number, rows: number, extraBytes = 0): WasmState | null {
  if (!Number.isInteger(dim) || dim < 2 || (dim & (dim - 1)) !== 0)
    throw new Error(`dim: must be a power of two ≥ 2, got ${dim}`);
  const m = compiled();
  const bytes = 8 * dim * rows + OUT_BYTES + extraBytes;
  if (!m || bytes > MAX_PAGES * PAGE) return null;
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  const memory = new WebAssembly.Memory({ initial: pages, maximum: MAX_PAGES });
  const inst = new WebAssembly.Instance(m, { env: { mem: memory } });
  const views: Float32Array[] = [];
  for (let r = 0; r < rows; r++) views.push(new Float32Array(memory.buffer, 8 * dim * r, 2 * dim));
  return {
    memory,
    rows: views,
    gen: inst.exports.gen as GenFn,
    real: inst.exports.real as RealFn,
    diag: inst.exports.diag as DiagFn,
    adj: inst.exports.adj as AdjFn,
    outAt: 8 * dim * rows,
    out: new Float32Array(memory.buffer, 8 * dim * rows, OUT_BYTES / 4),
    gather: inst.exports.gather as GatherFn,
    dmul: inst.exports.dmul as DmulFn,
    dadj: inst.exports.dadj as DadjFn,
    wht: inst.exports.wht as WhtFn,
    extraAt: 8 * dim * rows + OUT_BYTES,
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
): void {
  w.adj(t, l, dim, p, u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], w.outAt);
  const o = w.out;
  let a00: number, a11: number, dr: number, di: number;
  if (p === 0) {
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
