// Matrix products for forward and backward passes. Three shapes cover a Linear layer:
//   matmulABt: out(M,N) = a(M,K)·b(N,K)ᵀ   forward           (inp · Wᵀ)
//   matmulAB:  out(M,N) = a(M,K)·b(K,N)    input gradient    (dout · W)
//   matmulAtB: out(M,N) = a(K,M)ᵀ·b(K,N)   weight gradient   (doutᵀ · inp)
// `accumulate` adds into out instead of overwriting it. The naive versions are the reference. Float32 products run
// the WebAssembly SIMD kernel (core/nn/wasm/gemm.ts, 4×8 f32x4 register tiles) where the platform has it, else
// the blocked JS kernel below (packed panels, 4×4 register tiles).
import type { Arr } from './tensor';
import { wasmGemm, type BatchStrides, type RowsWasm, type Staged, type WasmGemm } from './wasm/gemm';

export function matmulABtNaive(
  out: Arr,
  a: Arr,
  b: Arr,
  M: number,
  N: number,
  K: number,
  accumulate = false,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = accumulate ? out[i * N + j] : 0;
      for (let k = 0; k < K; k++) s += a[i * K + k] * b[j * K + k];
      out[i * N + j] = s;
    }
  }
}

export function matmulABNaive(
  out: Arr,
  a: Arr,
  b: Arr,
  M: number,
  N: number,
  K: number,
  accumulate = false,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = accumulate ? out[i * N + j] : 0;
      for (let k = 0; k < K; k++) s += a[i * K + k] * b[k * N + j];
      out[i * N + j] = s;
    }
  }
}

export function matmulAtBNaive(
  out: Arr,
  a: Arr,
  b: Arr,
  M: number,
  N: number,
  K: number,
  accumulate = false,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = accumulate ? out[i * N + j] : 0;
      for (let k = 0; k < K; k++) s += a[k * M + i] * b[k * N + j];
      out[i * N + j] = s;
    }
  }
}

/**
 * A general product over strided operands, restricted to output rows [m0, m1):
 *   out[i*N + j] (+)= Σ_k a[i*aRs + k*aKs] · b[j*bCs + k*bKs]
 */
export type StridedGemm = (
  out: Float32Array,
  a: Float32Array,
  b: Float32Array,
  M: number,
  N: number,
  K: number,
  accumulate: boolean,
  aRs: number,
  aKs: number,
  bCs: number,
  bKs: number,
) => boolean;

let parallelGemm: StridedGemm | null = null;

/** Installs a multi-threaded executor (core/nn/matmul-threads.ts); it returns false to decline a product. */
export function setParallelGemm(fn: StridedGemm | null): void {
  parallelGemm = fn;
}

/** A multi-threaded executor for products already staged in the wasm engine's memory; false declines. */
export type WasmParallelGemm = (
  w: WasmGemm,
  s: Staged,
  M: number,
  N: number,
  K: number,
  accumulate: boolean,
  aRs: number,
  aKs: number,
  bCs: number,
  bKs: number,
) => boolean;

/** A multi-threaded executor for a staged batch of products (matmulBatched); false declines. */
export type WasmParallelBatched = (
  w: WasmGemm,
  s: Staged,
  M: number,
  N: number,
  K: number,
  accumulate: boolean,
  aRs: number,
  aKs: number,
  bCs: number,
  bKs: number,
  count: number,
  bs: BatchStrides,
) => boolean;

let parallelWasm: WasmParallelGemm | null = null;
let parallelBatched: WasmParallelBatched | null = null;

export function setParallelWasmGemm(
  fn: WasmParallelGemm | null,
  batched: WasmParallelBatched | null = null,
): void {
  parallelWasm = fn;
  parallelBatched = batched;
}

export type MatmulKernel = 'wasm' | 'js';
let wanted: MatmulKernel = 'wasm';

/** Chooses the Float32 kernel ('js' forces the fallback, for comparisons); returns the one now in use. */
export function setMatmulKernel(k: MatmulKernel): MatmulKernel {
  if (k !== 'wasm' && k !== 'js') throw new Error(`kernel: must be "wasm" or "js", got ${JSON.stringify(k)}`);
  wanted = k;
  return matmulKernel();
}

/** Products with at most this many rows of A·Bᵀ (contiguous, K % 4 = 0) run the unpacked gemv. */
export const GEMV_MAX_ROWS = 2;

let pinDepth = 0;

/**
 * Holds Float32 arrays (weights) in the wasm engine's memory so that products read them in place instead of
 * copying them in each time, until the returned release is called; the caller must not change them meanwhile.
 * Nested holds keep everything until the outermost release. A no-op with the JS kernel.
 */
export function holdMatmulOperands(arrays: Arr[]): () => void {
  const w = wanted === 'wasm' ? wasmGemm() : null;
  if (!w) return () => {};
  pinDepth++;
  w.pin(arrays.filter((x): x is Float32Array => x instanceof Float32Array));
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--pinDepth === 0) w.unpinAll();
  };
}

/**
 * A zeroed Float32Array of n elements inside the wasm engine's memory, which products read and write in place
 * (no copy into the engine and back), or null where the JS kernel is chosen, there is no shared engine, arrays
 * are held (holdMatmulOperands) or the engine's resident budget is spent (WasmGemm.allocResident). The space
 * stays taken until freeMatmulResident, so callers reuse what they get (training activations) and free it when done.
 */
export function allocMatmulResident(n: number): Float32Array | null {
  const w = wanted === 'wasm' ? wasmGemm() : null;
  return w ? w.allocResident(n) : null;
}

/** Gives back an array allocMatmulResident handed out (WasmGemm.freeResident); false for any other array. */
export function freeMatmulResident(x: Arr): boolean {
  const w = wasmGemm();
  return !!w && x instanceof Float32Array && w.freeResident(x);
}

/** Whether x lies in the wasm engine's memory (allocMatmulResident). */
export function isMatmulResident(x: Arr): boolean {
  const w = wanted === 'wasm' ? wasmGemm() : null;
  return !!w && x instanceof Float32Array && w.isResident(x);
}

/** Views of the given lengths in the wasm engine's staging space (WasmGemm.stageViews), or null. */
export function matmulStageViews(lengths: number[]): Float32Array[] | null {
  const w = wanted === 'wasm' ? wasmGemm() : null;
  return w ? w.stageViews(lengths) : null;
}

/** The wasm engine's elementwise kernels (rows.ts), or null where the JS kernel is chosen or there is no engine. */
export function matmulRowsWasm(): RowsWasm | null {
  const w = wanted === 'wasm' ? wasmGemm() : null;
  return w ? w.rowFns : null;
}

/** The Float32 kernel in use: 'wasm' unless it was turned off or WebAssembly SIMD is unavailable. */
export function matmulKernel(): MatmulKernel {
  return wanted === 'wasm' && wasmGemm() ? 'wasm' : 'js';
}

export const KC = 256; // depth of a packed block: a 4×KC panel of A stays in L1
export const NC = 256; // columns of B per packed block: KC×NC floats stay in L2

let packA = new Float32Array(4 * KC);
let packB = new Float32Array(NC * KC);

/** Blocked single-threaded kernel over output rows [m0, m1); the worker threads run a copy of this loop. */
export function gemmBlockedRows(
  out: Float32Array,
  a: Float32Array,
  b: Float32Array,
  N: number,
  K: number,
  accumulate: boolean,
  aRs: number,
  aKs: number,
  bCs: number,
  bKs: number,
  m0: number,
  m1: number,
): void {
  if (packA.length < 4 * KC) packA = new Float32Array(4 * KC);
  if (packB.length < NC * KC) packB = new Float32Array(NC * KC);
  const Ap = packA;
  const Bp = packB;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    const npan = (nc + 3) >> 2;
    for (let kc = 0; kc < K; kc += KC) {
      const kl = Math.min(KC, K - kc);
      const first = kc === 0 && !accumulate;
      // pack B(kc:kc+kl, jc:jc+nc) as panels of 4 columns, k-major inside a panel, zero-padded
      for (let p = 0; p < npan; p++) {
        const base = p * kl * 4;
        for (let jj = 0; jj < 4; jj++) {
          const j = jc + p * 4 + jj;
          if (j < N) {
            let src = j * bCs + kc * bKs;
            for (let kk = 0; kk < kl; kk++, src += bKs) Bp[base + kk * 4 + jj] = b[src];
          } else {
            for (let kk = 0; kk < kl; kk++) Bp[base + kk * 4 + jj] = 0;
          }
        }
      }
      for (let i = m0; i < m1; i += 4) {
        const mr = Math.min(4, m1 - i);
        for (let ii = 0; ii < 4; ii++) {
          if (ii < mr) {
            let src = (i + ii) * aRs + kc * aKs;
            for (let kk = 0; kk < kl; kk++, src += aKs) Ap[kk * 4 + ii] = a[src];
          } else {
            for (let kk = 0; kk < kl; kk++) Ap[kk * 4 + ii] = 0;
          }
        }
        for (let p = 0; p < npan; p++) {
          let c00 = 0,
            c01 = 0,
            c02 = 0,
            c03 = 0,
            c10 = 0,
            c11 = 0,
            c12 = 0,
            c13 = 0;
          let c20 = 0,
            c21 = 0,
            c22 = 0,
            c23 = 0,
            c30 = 0,
            c31 = 0,
            c32 = 0,
            c33 = 0;
          let pa = 0;
          let pb = p * kl * 4;
          for (let kk = 0; kk < kl; kk++) {
            const a0 = Ap[pa],
              a1 = Ap[pa + 1],
              a2 = Ap[pa + 2],
              a3 = Ap[pa + 3];
            const b0 = Bp[pb],
              b1 = Bp[pb + 1],
              b2 = Bp[pb + 2],
              b3 = Bp[pb + 3];
            c00 += a0 * b0;
            c01 += a0 * b1;
            c02 += a0 * b2;
            c03 += a0 * b3;
            c10 += a1 * b0;
            c11 += a1 * b1;
            c12 += a1 * b2;
            c13 += a1 * b3;
            c20 += a2 * b0;
            c21 += a2 * b1;
            c22 += a2 * b2;
            c23 += a2 * b3;
            c30 += a3 * b0;
            c31 += a3 * b1;
            c32 += a3 * b2;
            c33 += a3 * b3;
            pa += 4;
            pb += 4;
          }
          const j = jc + p * 4;
          const nr = Math.min(4, N - j);
          if (nr === 4 && mr === 4) {
            let o = i * N + j;
            if (first) {
              out[o] = c00;
              out[o + 1] = c01;
              out[o + 2] = c02;
              out[o + 3] = c03;
              o += N;
              out[o] = c10;
              out[o + 1] = c11;
              out[o + 2] = c12;
              out[o + 3] = c13;
              o += N;
              out[o] = c20;
              out[o + 1] = c21;
              out[o + 2] = c22;
              out[o + 3] = c23;
              o += N;
              out[o] = c30;
              out[o + 1] = c31;
              out[o + 2] = c32;
              out[o + 3] = c33;
            } else {
              out[o] += c00;
              out[o + 1] += c01;
              out[o + 2] += c02;
              out[o + 3] += c03;
              o += N;
              out[o] += c10;
              out[o + 1] += c11;
              out[o + 2] += c12;
              out[o + 3] += c13;
              o += N;
              out[o] += c20;
              out[o + 1] += c21;
              out[o + 2] += c22;
              out[o + 3] += c23;
              o += N;
              out[o] += c30;
              out[o + 1] += c31;
              out[o + 2] += c32;
              out[o + 3] += c33;
            }
          } else {
            // edge tile: route through a tiny switch rather than allocating a temporary
            for (let ii = 0; ii < mr; ii++) {
              for (let jj = 0; jj < nr; jj++) {
                const v = pick(
                  ii * 4 + jj,
                  c00,
                  c01,
                  c02,
                  c03,
                  c10,
                  c11,
                  c12,
                  c13,
                  c20,
                  c21,
                  c22,
                  c23,
                  c30,
                  c31,
                  c32,
                  c33,
                );
                const o = (i + ii) * N + j + jj;
                out[o] = first ? v : out[o] + v;
              }
            }
          }
        }
      }
    }
  }
  if (K === 0 && !accumulate) for (let i = m0 * N; i < m1 * N; i++) out[i] = 0;
}

// prettier-ignore
function pick(t: number, c00: number, c01: number, c02: number, c03: number, c10: number, c11: number, c12: number,
  c13: number, c20: number, c21: number, c22: number, c23: number, c30: number, c31: number, c32: number, c33: number): number {
  switch (t) {
    case 0: return c00; case 1: return c01; case 2: return c02; case 3: return c03;
    case 4: return c10; case 5: return c11; case 6: return c12; case 7: return c13;
    case 8: return c20; case 9: return c21; case 10: return c22; case 11: return c23;
    case 12: return c30; case 13: return c31; case 14: return c32; default: return c33;
  }
}

function gemm(
  out: Arr,
  a: Arr,
  b: Arr,
  M: number,
  N: number,
  K: number,
  accumulate: boolean,
  aRs: number,
  aKs: number,
  bCs: number,
  bKs: number,
): boolean {
  if (!(out instanceof Float32Array && a instanceof Float32Array && b instanceof Float32Array)) return false;
  if (M === 0 || N === 0) return true;
  if (K === 0) {
    if (!accumulate) out.fill(0, 0, M * N);
    return true;
  }
  const w = wanted === 'wasm' ? wasmGemm() : null;
  // only the extents the strides reach are copied (attention passes subarrays, the bench oversized buffers)
  const s = w?.stage(
    a,
    (M - 1) * aRs + (K - 1) * aKs + 1,
    b,
    (N - 1) * bCs + (K - 1) * bKs + 1,
    out,
    M * N,
    accumulate,
  );
  if (w && s) {
    // a few rows (decoding) against rows of b: dot products straight from b, no packing
    if (M <= GEMV_MAX_ROWS && aKs === 1 && bKs === 1 && aRs === K && bCs === K && K % 4 === 0)
      w.runGemv(s, M, N, K, accumulate);
    else if (!(parallelWasm && parallelWasm(w, s, M, N, K, accumulate, aRs, aKs, bCs, bKs)))
      w.run(s, N, K, accumulate, aRs, aKs, bCs, bKs, 0, M);
    w.unstage(out, s, M * N);
    return true;
  }
  if (parallelGemm && parallelGemm(out, a, b, M, N, K, accumulate, aRs, aKs, bCs, bKs)) return true;
  gemmBlockedRows(out, a, b, N, K, accumulate, aRs, aKs, bCs, bKs, 0, M);
  return true;
}

/** out(M,N) (+)= a(M,K)·b(N,K)ᵀ. Float32 runs the blocked kernel; Float64 (gradient checks) the reference. */
export function matmulABt(
  out: Arr,
  a: Arr,
  b: Arr,
  M: number,
  N: number,
  K: number,
  accumulate = false,
): void {
  if (!gemm(out, a, b, M, N, K, accumulate, K, 1, K, 1)) matmulABtNaive(out, a, b, M, N, K, accumulate);
}

/** out(M,N) (+)= a(M,K)·b(K,N). */
export function matmulAB(
  out: Arr,
  a: Arr,
  b: Arr,
  M: number,
  N: number,
  K: number,
  accumulate = false,
): void {
  if (!gemm(out, a, b, M, N, K, accumulate, K, 1, 1, N)) matmulABNaive(out, a, b, M, N, K, accumulate);
}

/** out(M,N) (+)= a(K,M)ᵀ·b(K,N). */
export function matmulAtB(
  out: Arr,
  a: Arr,
  b: Arr,
  M: number,
  N: number,
  K: number,
  accumulate = false,
): void {
  if (!gemm(out, a, b, M, N, K, accumulate, 1, M, 1, N)) matmulAtBNaive(out, a, b, M, N, K, accumulate);
}

export type MatmulShape = 'ABt' | 'AB' | 'AtB';

/** Strides (aRs, aKs, bCs, bKs) of the strided product for each shape. */
function stridesOf(shape: MatmulShape, M: number, N: number, K: number): [number, number, number, number] {
  return shape === 'ABt' ? [K, 1, K, 1] : shape === 'AB' ? [K, 1, 1, N] : [1, M, 1, N];
}

/** A batch of `count` products of one shape laid out at fixed strides (in elements) in three arrays. */
export interface MatmulBatch {
  count: number;
  aStride: number;
  bStride: number;
  /** Consecutive products sharing one b (grouped-query heads reading one key/value head); default 1. */
  bGroup?: number;
  cStride: number;
  /** Consecutive products adding into one output (gradients of a shared key/value head); needs accumulate. */
  cGroup?: number;
}

/**
 * Product z of the batch: out[⌊z/cGroup⌋·cStride …] (+)= shape(a[z·aStride …], b[⌊z/bGroup⌋·bStride …]) with the
 * operand shapes of matmulABt / matmulAB / matmulAtB, in increasing z. Float32 runs every product in one staged
 * wasm call (split over the matmul threads); other arrays loop over the single-product functions.
 */
export function matmulBatched(
  shape: MatmulShape,
  out: Arr,
  a: Arr,
  b: Arr,
  M: number,
  N: number,
  K: number,
  batch: MatmulBatch,
  accumulate = false,
): void {
  const { count, aStride, bStride, cStride } = batch;
  const bDiv = batch.bGroup ?? 1;
  const cDiv = batch.cGroup ?? 1;
  for (const [k, v] of Object.entries({ count, aStride, bStride, cStride, bGroup: bDiv, cGroup: cDiv }))
    if (!Number.isInteger(v) || v < (k === 'count' || k.endsWith('Group') ? 1 : 0))
      throw new Error(
        `batch.${k}: must be a ${k.endsWith('Stride') ? 'non-negative' : 'positive'} integer, got ${v}`,
      );
  if (cDiv > 1 && !accumulate) throw new Error('batch.cGroup: products sharing an output must accumulate');
  if (count > cDiv && cStride < M * N)
    throw new Error(`batch.cStride: ${cStride} overlaps outputs of ${M * N}`);
  const w = wanted === 'wasm' ? wasmGemm() : null;
  if (
    w &&
    out instanceof Float32Array &&
    a instanceof Float32Array &&
    b instanceof Float32Array &&
    M * N * K > 0
  ) {
    const [aRs, aKs, bCs, bKs] = stridesOf(shape, M, N, K);
    const aLen = (count - 1) * aStride + (M - 1) * aRs + (K - 1) * aKs + 1;
    const bLen = Math.floor((count - 1) / bDiv) * bStride + (N - 1) * bCs + (K - 1) * bKs + 1;
    const cLen = Math.floor((count - 1) / cDiv) * cStride + M * N;
    // gaps between outputs are copied in too, so copying C back leaves them as they were
    const s = w.stage(a, aLen, b, bLen, out, cLen, accumulate || (count > 1 && cStride !== M * N));
    if (s) {
      const bs = { aBS: aStride, bBS: bStride, bDiv, cBS: cStride, cDiv };
      if (!(parallelBatched && parallelBatched(w, s, M, N, K, accumulate, aRs, aKs, bCs, bKs, count, bs)))
        w.runBatched(s, M, N, K, accumulate, aRs, aKs, bCs, bKs, 0, count, bs);
      w.unstage(out, s, cLen);
      return;
    }
  }
  const one = shape === 'ABt' ? matmulABt : shape === 'AB' ? matmulAB : matmulAtB;
  for (let z = 0; z < count; z++) {
    const ao = z * aStride;
    const bo = Math.floor(z / bDiv) * bStride;
    const co = Math.floor(z / cDiv) * cStride;
    one(
      out.subarray(co, co + M * N),
      a.subarray(ao, ao + M * K),
      b.subarray(bo, bo + N * K),
      M,
      N,
      K,
      accumulate,
    );
  }
}
