// Runs the WebAssembly SIMD matmul (core/nn/wasm/gemm-module.ts) on Float32Array operands: they are copied into
// one WebAssembly.Memory (shared when the platform allows, so matmul-threads.ts workers instantiate the same
// module over it and split output rows without further copies), the product runs there, and C is copied back.
// Layout: [scratch of thread 0 … MAX_THREADS−1][A][B][C], each region 64-byte aligned; memory grows on demand.
import { RELAXED_SIMD_PROBE } from './relaxed-probe';
import { DEFAULT_GEOMETRY, gemmModuleBytes, scratchBytes, type GemmGeometry } from './gemm-module';

export const MAX_THREADS = 32;
const PAGE = 65536;
/** 2 GiB: the largest product operands the kernel accepts; larger ones fall back to the JS kernel. */
const MAX_PAGES = 32768;

export type WasmGemmFn = (
  a: number,
  b: number,
  c: number,
  N: number,
  K: number,
  acc: number,
  aRs: number,
  aKs: number,
  bCs: number,
  bKs: number,
  m0: number,
  m1: number,
  scratch: number,
) => void;

export type WasmBatchedFn = (
  a: number,
  b: number,
  c: number,
  N: number,
  K: number,
  acc: number,
  aRs: number,
  aKs: number,
  bCs: number,
  bKs: number,
  M: number,
  z0: number,
  z1: number,
  aBS: number,
  bBS: number,
  bDiv: number,
  cBS: number,
  cDiv: number,
  scratch: number,
) => void;

/** Strides (in floats) between the products of a batch; product z reads b ⌊z/bDiv⌋ and adds into c ⌊z/cDiv⌋. */
export interface BatchStrides {
  aBS: number;
  bBS: number;
  bDiv: number;
  cBS: number;
  cDiv: number;
}

/**
 * The gemm module's elementwise kernels on byte addresses in its memory (gemm-module.ts): exps(dst, src, n, shift)
 * writes e^(src[i] − shift), swiglu(out, gate, up, sig, n) σ(gate) into sig and gate·σ(gate)·up into out,
 * swigluBack(dgate, dup, dout, gate, up, sig, n) adds swiglu's gradients, adam(…) is one Adam/AdamW update.
 */
export interface RowsWasm {
  exps(dst: number, src: number, n: number, shift: number): void;
  swiglu(out: number, gate: number, up: number, sig: number, n: number): void;
  swigluBack(
    dgate: number,
    dup: number,
    dout: number,
    gate: number,
    up: number,
    sig: number,
    n: number,
  ): void;
  /** Adam/AdamW over n floats (scalars as rows.ts's adamK derives them). */
  adam(
    data: number,
    grad: number,
    m: number,
    v: number,
    n: number,
    l2: number,
    b1: number,
    c1m: number,
    b2: number,
    c2m: number,
    decay: number,
    step: number,
    ic2: number,
    eps: number,
  ): void;
}

/** Byte addresses of one staged product's operands. */
export interface Staged {
  pa: number;
  pb: number;
  pc: number;
  /** C is the output array itself (resident): nothing to copy back. */
  inPlace?: boolean;
}

const align = (n: number) => Math.ceil(n / 64) * 64;

/**
 * 256 MiB: the most WasmGemm.pin holds in all. The engine's memory grows to hold pinned arrays and never gives
 * the space back, so this bounds what decoding can add to the process for good (the reference model's weights
 * are a few MiB; a larger model's weights past the budget are copied per product, as without pinning).
 */
export const PIN_BUDGET_BYTES = 256 * 2 ** 20;

/**
 * 256 MiB: the most allocResident holds out at once (default of WasmGemm.residentBudget). Resident arrays come back
 * only through freeResident (a view cannot say when its last subarray dies) and the memory never shrinks, so this
 * bounds what they add to the process.
 */
export const RESIDENT_BUDGET_BYTES = 256 * 2 ** 20;

let relaxed: boolean | undefined;

/**
 * Whether this runtime compiles relaxed SIMD (f32x4.relaxed_madd), feature-detected only: V8 ships it from 11.4
 * (Electron's Chromium has it); Node 20's V8 11.3 needs --experimental-wasm-relaxed-simd from the process's
 * start, which core/util/relaxed-simd.ts arranges at the process entries (launcher execArgv, qlab entry, vitest).
 * QLAB_WASM_FMA=0 turns it off (A/B timing).
 */
export function relaxedSimdAvailable(): boolean {
  if (relaxed !== undefined) return relaxed;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (env?.QLAB_WASM_FMA === '0') return (relaxed = false);
  return (relaxed = WebAssembly.validate(RELAXED_SIMD_PROBE));
}

export class WasmGemm {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  readonly geometry: GemmGeometry;
  /** The microkernel multiply-adds with f32x4.relaxed_madd (fused on CPUs with FMA). */
  readonly fma: boolean;
  /** Why the FMA module failed to compile when it was asked for (the mul + add one is used then), else null. */
  readonly fmaFailure: string | null = null;
  readonly scratchStride: number;
  private readonly fn: WasmGemmFn;
  private readonly batchedFn: WasmBatchedFn;
  private readonly gemvFn: (...args: number[]) => void;
  /** The module's elementwise kernels (rows.ts runs them on arrays resident in this memory). */
  readonly rowFns: RowsWasm;
  private f32: Float32Array;
  private readonly dataBase: number;
  /** Arrays held in memory between products (pin), by byte address; staging starts past them at stageBase. */
  private readonly pinned = new Map<Float32Array, number>();
  private stageBase: number;
  /** End of the resident arrays (allocResident); pinned arrays and staging start here. */
  private residentTop: number;
  /** Bytes handed out by allocResident. */
  residentBytes = 0;
  /** The most allocResident hands out; past it, it returns null. */
  residentBudget = RESIDENT_BUDGET_BYTES;
  /** Resident allocations by byte address: their sizes in bytes (freeResident gives them back). */
  private readonly residentAt = new Map<number, number>();
  /** Space given back by freeResident, [address, bytes] in address order, reused first-fit by allocResident. */
  private readonly freed: [number, number][] = [];
  /** The memory's buffers resident arrays were made on (a shared memory's buffer object changes as it grows). */
  private readonly ownBuffers = new WeakSet<ArrayBufferLike>();
  /** Floats copied in by stage (operands and accumulated C), for tests and benchmarks. */
  copiedIn = 0;

  constructor(
    geometry: GemmGeometry = DEFAULT_GEOMETRY,
    shared = typeof SharedArrayBuffer !== 'undefined',
    /** Use relaxed_madd where the runtime has it (false: the mul + add kernel, for comparisons). */
    fma = true,
  ) {
    this.geometry = geometry;
    let useFma = fma && relaxedSimdAvailable();
    this.scratchStride = scratchBytes(geometry);
    this.dataBase = align(MAX_THREADS * this.scratchStride);
    this.stageBase = this.dataBase;
    this.residentTop = this.dataBase;
    const min = Math.ceil(this.dataBase / PAGE) + 16;
    this.shared = shared;
    this.memory = new WebAssembly.Memory({ initial: min, maximum: MAX_PAGES, shared });
    const compile = (f: boolean) =>
      new WebAssembly.Module(gemmModuleBytes(geometry, { min, max: MAX_PAGES, shared }, { fma: f }));
    try {
      this.module = compile(useFma);
    } catch (e) {
      if (!useFma) throw e;
      // a runtime that validates relaxed SIMD but fails the FMA module: keep the mul + add kernel
      this.fmaFailure = (e as Error).message;
      useFma = false;
      this.module = compile(false);
    }
    this.fma = useFma;
    const inst = new WebAssembly.Instance(this.module, { env: { mem: this.memory } });
    this.fn = inst.exports.gemm as WasmGemmFn;
    this.batchedFn = inst.exports.batched as WasmBatchedFn;
    this.gemvFn = inst.exports.gemv as (...args: number[]) => void;
    this.rowFns = inst.exports as unknown as RowsWasm;
    this.f32 = new Float32Array(this.memory.buffer);
  }

  /** Byte address of thread t's scratch region. */
  scratch(t: number): number {
    return t * this.scratchStride;
  }

  /** A Float32Array over the whole memory, renewed after growth. */
  view(): Float32Array {
    if (this.f32.byteLength !== this.memory.buffer.byteLength)
      this.f32 = new Float32Array(this.memory.buffer);
    return this.f32;
  }

  /**
   * Copies arrays into memory once, to be used in place by later products while they are pinned (decoding
   * reads every weight once per token, and copying it each time cost more than the product). The caller
   * promises not to change a pinned array until unpinAll(). An array that would take the pinned total past
   * maxBytes (PIN_BUDGET_BYTES) stays unpinned and is copied per product as before: a WebAssembly.Memory never
   * shrinks, so whatever pinning grows it by stays with the process.
   */
  pin(arrays: Float32Array[], maxBytes = PIN_BUDGET_BYTES): void {
    for (const x of arrays) {
      if (this.pinned.has(x) || this.isResident(x)) continue; // a resident array is read in place anyway
      const at = this.stageBase;
      const end = align(at + x.length * 4);
      if (end - this.residentTop > maxBytes || !this.reserve(end)) continue;
      this.view().set(x, at >> 2);
      this.pinned.set(x, at);
      this.stageBase = end;
    }
  }

  /** Forgets every pinned array (their space is reused by staging). */
  unpinAll(): void {
    this.pinned.clear();
    this.stageBase = this.residentTop;
  }

  /**
   * A zeroed Float32Array of n elements inside the engine's memory, which products read and write in place (no
   * staging copy in or out). Only on a shared memory (a non-shared one detaches its views when it grows), never
   * while arrays are pinned, and within residentBudget; else null (the caller allocates an ordinary array). The
   * space stays taken until its owner gives it back (freeResident; no view can say when its last subarray is
   * gone), and the memory never shrinks, so a caller should reuse what it gets (the transformer keeps its training
   * activations for later batches of the same shape) and free it when done (Transformer.releaseResident).
   */
  allocResident(n: number): Float32Array | null {
    if (!this.shared || this.pinned.size > 0 || !Number.isInteger(n) || n <= 0) return null;
    const bytes = align(n * 4);
    if (this.residentBytes + bytes > this.residentBudget) return null;
    const f = this.freed.findIndex(([, b]) => b >= bytes);
    let at: number;
    if (f >= 0) {
      // space a released model gave back (freeResident): the rest of the block stays free
      at = this.freed[f][0];
      if (this.freed[f][1] > bytes) this.freed[f] = [at + bytes, this.freed[f][1] - bytes];
      else this.freed.splice(f, 1);
    } else {
      at = this.residentTop;
      if (!this.reserve(at + bytes)) return null;
      this.residentTop = this.stageBase = at + bytes;
    }
    const x = new Float32Array(this.memory.buffer, at, n);
    x.fill(0); // staging or an earlier owner may have used this space
    this.ownBuffers.add(x.buffer);
    this.residentBytes += bytes;
    this.residentAt.set(at, bytes);
    return x;
  }

  /**
   * Gives back an array allocResident handed out (x itself, not a subarray), for later allocResident calls; the
   * caller must hold no view of it any more (the space is handed out again). The memory does not shrink. Returns
   * false, changing nothing, for any other array or one already given back.
   */
  freeResident(x: Float32Array): boolean {
    const bytes = this.residentAt.get(x.byteOffset);
    if (!this.isResident(x) || bytes === undefined || align(x.length * 4) !== bytes) return false;
    this.residentAt.delete(x.byteOffset);
    this.residentBytes -= bytes;
    // kept in address order and merged with free neighbours, so a model of the same shapes that allocates in
    // the same order as the one released finds the same blocks; a free block at the top lowers the top
    const fr = this.freed;
    let i = fr.findIndex(([at]) => at > x.byteOffset);
    if (i < 0) i = fr.length;
    fr.splice(i, 0, [x.byteOffset, bytes]);
    if (i + 1 < fr.length && fr[i][0] + fr[i][1] === fr[i + 1][0])
      fr.splice(i, 2, [fr[i][0], fr[i][1] + fr[i + 1][1]]);
    if (i > 0 && fr[i - 1][0] + fr[i - 1][1] === fr[i][0])
      fr.splice(i - 1, 2, [fr[i - 1][0], fr[i - 1][1] + fr[i][1]]);
    const last = fr[fr.length - 1];
    if (this.pinned.size === 0 && last[0] + last[1] === this.residentTop) {
      this.residentTop = this.stageBase = last[0];
      fr.pop();
    }
    return true;
  }

  /**
   * Views of the given lengths in the staging space (past the resident and pinned arrays), for a row kernel's
   * copies of arrays that are not resident (rows.ts); they hold until the next product or row kernel stages
   * there. Null when the memory cannot grow to hold them.
   */
  stageViews(lengths: number[]): Float32Array[] | null {
    let end = this.stageBase;
    for (const n of lengths) end = align(end + n * 4);
    if (!this.reserve(end)) return null; // grow first: a non-shared memory detaches older views when it grows
    const views: Float32Array[] = [];
    let at = this.stageBase;
    for (const n of lengths) {
      views.push(new Float32Array(this.memory.buffer, at, n));
      at = align(at + n * 4);
    }
    return views;
  }

  /** Whether x lies in this engine's memory (allocResident), where products use it in place. */
  isResident(x: Float32Array): boolean {
    return this.ownBuffers.has(x.buffer);
  }

  /** Number of pinned arrays. */
  pinnedCount(): number {
    return this.pinned.size;
  }

  private reserve(end: number): boolean {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return true;
    const pages = Math.ceil((end - have) / PAGE);
    if (have / PAGE + pages > MAX_PAGES) return false;
    this.memory.grow(pages);
    return true;
  }

  /**
   * Copies the used extents of a and b (and out, when accumulating) into memory, except a pinned a or b, which is
   * used where it is; null when the operands do not fit in the memory's maximum.
   */
  stage(
    a: Float32Array,
    aLen: number,
    b: Float32Array,
    bLen: number,
    out: Float32Array,
    cLen: number,
    acc: boolean,
  ) {
    // pinned and resident operands are read where they are
    const pinA = this.pinned.get(a) ?? (this.isResident(a) ? a.byteOffset : undefined);
    const pinB = this.pinned.get(b) ?? (this.isResident(b) ? b.byteOffset : undefined);
    // a resident C is written in place unless it overlaps a or b (the product would read what it writes)
    const cAt = out.byteOffset;
    const cEnd = cAt + cLen * 4;
    const clear = (p: number | undefined, len: number, x: Float32Array) =>
      !this.isResident(x) || p === undefined || p + len * 4 <= cAt || cEnd <= p;
    const inPlace = this.isResident(out) && clear(pinA, aLen, a) && clear(pinB, bLen, b);
    // unpinned operands, then C, are laid out from stageBase
    const pa = pinA ?? this.stageBase;
    let at = pinA === undefined ? align(pa + aLen * 4) : this.stageBase;
    const pb = pinB ?? at;
    if (pinB === undefined) at = align(pb + bLen * 4);
    const pc = inPlace ? cAt : at;
    const end = inPlace ? at : pc + cLen * 4;
    if (!this.reserve(end)) return null;
    const m = this.view();
    if (pinA === undefined) m.set(aLen === a.length ? a : a.subarray(0, aLen), pa >> 2);
    if (pinB === undefined) m.set(bLen === b.length ? b : b.subarray(0, bLen), pb >> 2);
    const copyC = acc && !inPlace;
    if (copyC) m.set(cLen === out.length ? out : out.subarray(0, cLen), pc >> 2);
    this.copiedIn += (pinA === undefined ? aLen : 0) + (pinB === undefined ? bLen : 0) + (copyC ? cLen : 0);
    return { pa, pb, pc, inPlace } satisfies Staged;
  }

  /** Rows [m0, m1) of a staged product on the calling thread, using thread slot t's scratch. */
  run(
    s: Staged,
    N: number,
    K: number,
    acc: boolean,
    aRs: number,
    aKs: number,
    bCs: number,
    bKs: number,
    m0: number,
    m1: number,
    t = 0,
  ): void {
    this.fn(s.pa, s.pb, s.pc, N, K, acc ? 1 : 0, aRs, aKs, bCs, bKs, m0, m1, this.scratch(t));
  }

  /** A staged product with contiguous rows of a and b and K % 4 = 0, all M rows, unpacked (see gemvFn). */
  runGemv(s: Staged, M: number, N: number, K: number, acc: boolean, t = 0): void {
    this.gemvFn(s.pa, s.pb, s.pc, M, N, K, acc ? 1 : 0, this.scratch(t));
  }

  /** Products z in [z0, z1) of a staged batch (each M×N over depth K) on the calling thread, thread slot t. */
  runBatched(
    s: Staged,
    M: number,
    N: number,
    K: number,
    acc: boolean,
    aRs: number,
    aKs: number,
    bCs: number,
    bKs: number,
    z0: number,
    z1: number,
    bs: BatchStrides,
    t = 0,
  ): void {
    const f = this.batchedFn;
    f(
      s.pa,
      s.pb,
      s.pc,
      N,
      K,
      acc ? 1 : 0,
      aRs,
      aKs,
      bCs,
      bKs,
      M,
      z0,
      z1,
      bs.aBS,
      bs.bBS,
      bs.bDiv,
      bs.cBS,
      bs.cDiv,
      this.scratch(t),
    );
  }

  /** Copies the staged C (cLen floats) back into out. */
  unstage(out: Float32Array, s: Staged, cLen: number): void {
    if (s.inPlace) return;
    out.set(this.view().subarray(s.pc >> 2, (s.pc >> 2) + cLen));
  }
}

let engine: WasmGemm | null | undefined;
let failure: string | null = null;

/** The process-wide engine, or null where WebAssembly SIMD is unavailable (then wasmGemmFailure() says why). */
export function wasmGemm(): WasmGemm | null {
  if (engine === undefined) {
    try {
      engine = new WasmGemm();
    } catch (e) {
      try {
        engine = new WasmGemm(DEFAULT_GEOMETRY, false); // no SharedArrayBuffer: single-threaded wasm still works
      } catch (e2) {
        engine = null;
        failure = `${(e as Error).message}; unshared: ${(e2 as Error).message}`;
      }
    }
  }
  return engine;
}

export function wasmGemmFailure(): string | null {
  return failure;
}
