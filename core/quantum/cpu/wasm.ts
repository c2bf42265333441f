// The WebAssembly SIMD one-qubit kernels (wasm-module.ts) over a state that lives in WebAssembly memory: a
// Runner in f32 allocates ψ, λ and its scratch row as Float32Array views of one memory of its own, so a gate is
// one call with no copy. Where WebAssembly SIMD is unavailable wasmState() returns null and the JS kernels run.
import { stateModuleBytes } from './wasm-module';

const PAGE = 65536;
/** 4 GiB, the wasm32 limit; a memory reserves nothing beyond what it was created with. */
const MAX_PAGES = 65536;

type GenFn = (
  s: number,
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
) => void;
type RealFn = (s: number, dim: number, p: number, m0: number, m1: number, m2: number, m3: number) => void;
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

/** One memory holding `rows` complex64 rows of `dim` amplitudes, and the kernels bound to it. */
export interface WasmState {
  readonly memory: WebAssembly.Memory;
  /** Row r as a Float32Array view (2·dim floats at byte address r·8·dim). */
  readonly rows: Float32Array[];
  readonly gen: GenFn;
  readonly real: RealFn;
  readonly diag: DiagFn;
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
 * A memory for `rows` rows of 2^n amplitudes with the kernels instantiated over it; null where WebAssembly SIMD
 * is unavailable or the rows do not fit in 4 GiB.
 */
export function wasmState(dim: number, rows: number): WasmState | null {
  if (!Number.isInteger(dim) || dim < 2 || (dim & (dim - 1)) !== 0)
    throw new Error(`dim: must be a power of two ≥ 2, got ${dim}`);
  const m = compiled();
  const bytes = 8 * dim * rows;
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
  };
}
