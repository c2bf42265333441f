import { afterAll, describe, expect, it } from 'vitest';
import {
  matmulAB,
  matmulABNaive,
  matmulABt,
  matmulABtNaive,
  matmulAtB,
  matmulAtBNaive,
  matmulBatched,
  matmulKernel,
  type MatmulShape,
  setMatmulKernel,
} from '../../../core/nn/matmul';
import { PARALLEL_MIN_MACS, setMatmulThreads } from '../../../core/nn/matmul-threads';
import { readFileSync } from 'node:fs';
import { attentionBackward, attentionForward } from '../../../core/nn/attention';
import { alloc, type Arr } from '../../../core/nn/tensor';
import { assemble, Fn, I32, sleb, uleb } from '../../../core/nn/wasm/asm';
import { relaxedSimdAvailable, WasmGemm, wasmGemm, wasmGemmFailure } from '../../../core/nn/wasm/gemm';
import { DEFAULT_GEOMETRY, gemmModuleBytes, type GemmGeometry } from '../../../core/nn/wasm/gemm-module';
import { randArr } from './gradcheck';

// The FMA kernels need relaxed SIMD (off with QLAB_WASM_FMA=0, the A/B switch, or where the runtime lacks it):
// their tests are skipped then, saying why. Whether relaxed_madd really fuses depends on the CPU (x86 without
// FMA3 runs it as mul + add), so the 'rounds differently' check runs only where the CPU is known to fuse.
const FMA_OFF_REASON =
  process.env.QLAB_WASM_FMA === '0'
    ? 'QLAB_WASM_FMA=0'
    : relaxedSimdAvailable()
      ? null
      : 'this runtime does not compile relaxed SIMD';
if (FMA_OFF_REASON) console.log(`skipping the FMA kernel tests: ${FMA_OFF_REASON}`);
function cpuFuses(): string | null {
  if (process.arch === 'arm64') return null; // NEON's fmla: relaxed_madd is fused
  if (process.arch !== 'x64') return `no fused multiply-add known on ${process.arch}`;
  try {
    return /^flags\s*:.*\bfma\b/m.test(readFileSync('/proc/cpuinfo', 'utf8')) ? null : 'this CPU has no FMA3';
  } catch {
    return 'cannot read /proc/cpuinfo to see whether this CPU has FMA3';
  }
}

type MM = (out: Arr, a: Arr, b: Arr, M: number, N: number, K: number, acc?: boolean) => void;
// name, fast, reference, strides (aRs, aKs, bCs, bKs) of the strided gemm for M, N, K
const shapes: [string, MM, MM, (M: number, N: number, K: number) => number[]][] = [
  ['A·Bᵀ', matmulABt, matmulABtNaive, (_M, _N, K) => [K, 1, K, 1]],
  ['A·B', matmulAB, matmulABNaive, (_M, N, K) => [K, 1, 1, N]],
  ['Aᵀ·B', matmulAtB, matmulAtBNaive, (M, N) => [1, M, 1, N]],
];

function f32(n: number, seed: number): Float32Array {
  return Float32Array.from(randArr(n, seed));
}

/** Largest |a−b|; tolerances below scale with K, since each entry sums K products of values in [−1, 1]. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Runs one product through an engine directly (no dispatch), rows [0, M). */
function viaEngine(
  w: WasmGemm,
  out: Float32Array,
  a: Float32Array,
  b: Float32Array,
  M: number,
  N: number,
  K: number,
  acc: boolean,
  [aRs, aKs, bCs, bKs]: number[],
): void {
  const s = w.stage(
    a,
    (M - 1) * aRs + (K - 1) * aKs + 1,
    b,
    (N - 1) * bCs + (K - 1) * bKs + 1,
    out,
    M * N,
    acc,
  );
  if (!s) throw new Error('operands did not fit');
  w.run(s, N, K, acc, aRs, aKs, bCs, bKs, 0, M);
  w.unstage(out, s, M * N);
}

describe('tiny wasm assembler', () => {
  it('encodes LEB128 as the spec examples', () => {
    const u = (v: number) => {
      const o: number[] = [];
      uleb(o, v);
      return o;
    };
    const s = (v: number) => {
      const o: number[] = [];
      sleb(o, v);
      return o;
    };
    expect(u(0)).toEqual([0]);
    expect(u(127)).toEqual([0x7f]);
    expect(u(128)).toEqual([0x80, 0x01]);
    expect(u(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(u(0xffffffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(s(-1)).toEqual([0x7f]);
    expect(s(63)).toEqual([0x3f]);
    expect(s(64)).toEqual([0xc0, 0x00]);
    expect(s(-64)).toEqual([0x40]);
    expect(s(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(() => u(-1)).toThrow(/uleb/);
  });

  it('assembles a loop that runs: n additions of 1.0 into memory[0]', () => {
    const h = new Fn('sumf', [I32]);
    const k = h.local(I32);
    h.for(
      k,
      () => h.i32(0),
      () => h.get(0),
      1,
      () => h.i32(0).i32(0).f32Load().i32(4).f32Load().f32Add().f32Store(),
    );
    const bytes = assemble([h], { min: 1, max: 1, shared: false });
    expect(WebAssembly.validate(bytes)).toBe(true);
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } });
    const sumf = inst.exports.sumf as (n: number) => void;
    const view = new Float32Array(mem.buffer);
    view[1] = 1;
    sumf(37);
    expect(view[0]).toBe(37);
    sumf(0); // empty range: the guard skips the body
    expect(view[0]).toBe(37);
  });
});

describe('wasm SIMD gemm equals the naive reference', () => {
  const w = wasmGemm();
  it('is available on this platform', () => {
    expect(wasmGemmFailure()).toBeNull();
    expect(w).not.toBeNull();
    expect(matmulKernel()).toBe('wasm');
  });

  for (const [name, fast, naive] of shapes) {
    for (const [M, N, K] of [
      [1, 1, 1],
      [4, 8, 1],
      [5, 7, 3],
      [3, 9, 2],
      [17, 9, 300],
      [33, 260, 513],
      [64, 264, 256],
      [129, 100, 257],
    ]) {
      it(`${name} ${M}×${N}×${K} through matmul*, overwrite and accumulate`, () => {
        const a = f32(M * K, 1);
        const b = f32(N * K, 2);
        const ref = f32(M * N, 3);
        const out = Float32Array.from(ref);
        naive(ref, a, b, M, N, K, true);
        fast(out, a, b, M, N, K, true);
        expect(maxDiff(out, ref)).toBeLessThan(2e-6 * (K + 1));
        naive(ref, a, b, M, N, K);
        out.fill(NaN); // overwrite must not read the old contents
        fast(out, a, b, M, N, K);
        expect(maxDiff(out, ref)).toBeLessThan(2e-6 * K);
      });
    }
  }

  it('subarray operands (as attention passes them) and oversized buffers use only their extents', () => {
    const [M, N, K] = [12, 10, 6];
    const big = f32(1000, 4);
    const a = big.subarray(100, 100 + M * K);
    const b = big.subarray(400, 400 + N * K);
    const out = new Float32Array(M * N + 50).fill(7);
    const ref = new Float32Array(M * N);
    matmulABtNaive(ref, a, b, M, N, K);
    matmulABt(out, a, b, M, N, K);
    expect(maxDiff(out.subarray(0, M * N), ref)).toBeLessThan(1e-5);
    expect(Array.from(out.subarray(M * N))).toEqual(new Array(50).fill(7)); // nothing past M·N is touched
  });

  it('K = 0 gives zeros (or leaves out unchanged when accumulating); M = 0 is a no-op', () => {
    const out = Float32Array.of(1, 2, 3, 4);
    matmulABt(out, new Float32Array(0), new Float32Array(0), 2, 2, 0, true);
    expect(Array.from(out)).toEqual([1, 2, 3, 4]);
    matmulABt(out, new Float32Array(0), new Float32Array(0), 2, 2, 0);
    expect(Array.from(out)).toEqual([0, 0, 0, 0]);
    matmulAB(out, new Float32Array(0), f32(4, 1), 0, 2, 2);
    expect(Array.from(out)).toEqual([0, 0, 0, 0]);
  });

  it('hand value: [1 2; 3 4]·[5 6; 7 8]ᵀ = [17 23; 39 53] exactly', () => {
    const o = new Float32Array(4);
    matmulABt(o, Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6, 7, 8), 2, 2, 2);
    expect(Array.from(o)).toEqual([17, 23, 39, 53]);
  });

  // other register blockings and unrolls exercise every branch of the generator (edge tiles, scalar packing)
  const geometries: GemmGeometry[] = [
    { mr: 6, nr: 12, kc: 16, nc: 24, unroll: 2 },
    { mr: 8, nr: 4, kc: 5, nc: 8, unroll: 3 },
    { mr: 1, nr: 4, kc: 7, nc: 4, unroll: 1 },
  ];
  for (const g of [DEFAULT_GEOMETRY, ...geometries])
    for (const fma of [false, true])
      it.skipIf(fma && FMA_OFF_REASON)(
        `geometry ${JSON.stringify(g)}${fma ? ' with relaxed_madd' : ''} matches the reference on all three shapes`,
        () => {
          const e = new WasmGemm(g, false, fma);
          expect(e.fma).toBe(fma);
          for (const [name, , naive, strides] of shapes) {
            for (const [M, N, K] of [
              [13, 29, 37],
              [6, 12, 16],
              [2, 3, 1],
            ]) {
              for (const acc of [false, true]) {
                const a = f32(M * K, 5);
                const b = f32(N * K, 6);
                const ref = f32(M * N, 7);
                const out = Float32Array.from(ref);
                naive(ref, a, b, M, N, K, acc);
                viaEngine(e, out, a, b, M, N, K, acc, strides(M, N, K));
                expect(maxDiff(out, ref), `${name} ${M}×${N}×${K} acc=${acc}`).toBeLessThan(2e-6 * (K + 1));
              }
            }
          }
        },
      );

  it('one- and two-row A·Bᵀ (decoding) take the unpacked gemv and match the reference, both kernels', () => {
    for (const fma of FMA_OFF_REASON ? [false] : [false, true]) {
      const e = new WasmGemm(DEFAULT_GEOMETRY, false, fma);
      for (const [M, N, K] of [
        [1, 37, 64],
        [2, 5, 4],
        [1, 300, 260],
      ])
        for (const acc of [false, true]) {
          const a = f32(M * K, 13);
          const b = f32(N * K, 14);
          const ref = f32(M * N, 15);
          const out = Float32Array.from(ref);
          matmulABtNaive(ref, a, b, M, N, K, acc);
          const s = e.stage(a, a.length, b, b.length, out, out.length, acc)!;
          e.runGemv(s, M, N, K, acc);
          e.unstage(out, s, M * N);
          expect(maxDiff(out, ref), `${M}×${N}×${K} acc=${acc} fma=${fma}`).toBeLessThan(2e-6 * (K + 1));
        }
    }
    // and matmulABt routes such products there: same result as the reference through the public API
    const [M, N, K] = [1, 4096, 256];
    const a = f32(M * K, 16);
    const b = f32(N * K, 17);
    const out = new Float32Array(M * N);
    const ref = new Float32Array(M * N);
    matmulABt(out, a, b, M, N, K);
    matmulABtNaive(ref, a, b, M, N, K);
    expect(maxDiff(out, ref)).toBeLessThan(2e-6 * K);
  });

  it.skipIf(FMA_OFF_REASON)(
    'uses relaxed-SIMD FMA where the runtime compiles it (Node 20: flag given at the process start)',
    () => {
      // Node 20 (V8 11.3) needs the flag (vitest's execArgv gives it), Node ≥ 22 and Electron ship it
      expect(relaxedSimdAvailable()).toBe(true);
      expect(wasmGemm()!.fma).toBe(true);
      // the fused kernel rounds once per multiply-add: same products as the mul + add kernel to f32 accuracy
      const [M, N, K] = [37, 45, 300];
      const a = f32(M * K, 11);
      const b = f32(N * K, 12);
      const fused = new Float32Array(M * N);
      const plain = new Float32Array(M * N);
      viaEngine(new WasmGemm(DEFAULT_GEOMETRY, false, true), fused, a, b, M, N, K, false, [K, 1, K, 1]);
      viaEngine(new WasmGemm(DEFAULT_GEOMETRY, false, false), plain, a, b, M, N, K, false, [K, 1, K, 1]);
      expect(maxDiff(fused, plain)).toBeLessThan(2e-6 * K);
      const noFusion = cpuFuses();
      if (noFusion) console.log(`not checking that the fused result differs: ${noFusion}`);
      else expect(maxDiff(fused, plain)).toBeGreaterThan(0); // fused rounding differs somewhere: FMA really ran
    },
  );

  it.skipIf(FMA_OFF_REASON)('an FMA module that fails to compile falls back to the mul + add kernel', () => {
    const Real = WebAssembly.Module;
    let calls = 0;
    // the first compile (the FMA module) fails, as on a runtime that validates the probe but not the kernel
    const Failing = function (bytes: BufferSource) {
      if (calls++ === 0) throw new WebAssembly.CompileError('test: relaxed_madd refused');
      return new Real(bytes);
    } as unknown as typeof WebAssembly.Module;
    WebAssembly.Module = Failing;
    let e: WasmGemm;
    try {
      e = new WasmGemm(DEFAULT_GEOMETRY, false, true);
    } finally {
      WebAssembly.Module = Real;
    }
    expect(calls).toBe(2);
    expect(e.fma).toBe(false);
    expect(e.fmaFailure).toMatch(/relaxed_madd refused/);
    const [M, N, K] = [13, 29, 37];
    const a = f32(M * K, 21);
    const b = f32(N * K, 22);
    const out = new Float32Array(M * N);
    const ref = new Float32Array(M * N);
    viaEngine(e, out, a, b, M, N, K, false, [K, 1, K, 1]);
    matmulABtNaive(ref, a, b, M, N, K);
    expect(maxDiff(out, ref)).toBeLessThan(2e-6 * K);
  });

  it('rejects bad geometries with the field named', () => {
    const mem = { min: 1, max: 1, shared: false };
    expect(() => gemmModuleBytes({ ...DEFAULT_GEOMETRY, nr: 6 }, mem)).toThrow(/geometry\.nr/);
    expect(() => gemmModuleBytes({ ...DEFAULT_GEOMETRY, nc: 260 }, mem)).toThrow(/geometry\.nc/);
    expect(() => gemmModuleBytes({ ...DEFAULT_GEOMETRY, mr: 0 }, mem)).toThrow(/geometry\.mr/);
  });

  it('grows its memory for large operands and keeps earlier results right', () => {
    const e = new WasmGemm(DEFAULT_GEOMETRY, false);
    const before = e.memory.buffer.byteLength;
    const [M, N, K] = [300, 2100, 40]; // C alone is 2.5 MB, beyond the initial data region
    const a = f32(M * K, 8);
    const b = f32(N * K, 9);
    const out = new Float32Array(M * N);
    const ref = new Float32Array(M * N);
    viaEngine(e, out, a, b, M, N, K, false, [K, 1, K, 1]);
    matmulABtNaive(ref, a, b, M, N, K);
    expect(e.memory.buffer.byteLength).toBeGreaterThan(before);
    expect(maxDiff(out, ref)).toBeLessThan(1e-4);
  });
});

describe('kernel choice and threads', () => {
  afterAll(() => {
    setMatmulKernel('wasm');
    setMatmulThreads(1);
  });

  it('the JS fallback kernel matches the reference when forced', () => {
    expect(setMatmulKernel('js')).toBe('js');
    for (const [name, fast, naive] of shapes) {
      const [M, N, K] = [33, 260, 70];
      const a = f32(M * K, 11);
      const b = f32(N * K, 12);
      const ref = f32(M * N, 13);
      const out = Float32Array.from(ref);
      naive(ref, a, b, M, N, K, true);
      fast(out, a, b, M, N, K, true);
      expect(maxDiff(out, ref), name).toBeLessThan(1e-4);
    }
    expect(setMatmulKernel('wasm')).toBe('wasm');
    expect(() => setMatmulKernel('gpu' as 'js')).toThrow(/kernel/);
  });

  for (const kernel of ['wasm', 'js'] as const) {
    it(`${kernel} kernel on 3 threads splits rows and matches the reference (shared and unshared operands)`, () => {
      setMatmulKernel(kernel);
      setMatmulThreads(3);
      const [M, N, K] = [130, 190, 171];
      expect(M * N * K).toBeGreaterThanOrEqual(PARALLEL_MIN_MACS);
      for (const shared of [true, false]) {
        for (const [name, fast, naive] of shapes) {
          for (const acc of [true, false]) {
            const mk = (n: number, seed: number) => {
              const x = shared ? (alloc('f32', n) as Float32Array) : new Float32Array(n);
              x.set(randArr(n, seed));
              return x;
            };
            const a = mk(M * K, 14);
            const b = mk(N * K, 15);
            const ref = f32(M * N, 16);
            const out = mk(M * N, 16);
            naive(ref, a, b, M, N, K, acc);
            fast(out, a, b, M, N, K, acc);
            expect(maxDiff(out, ref), `${name} shared=${shared} acc=${acc}`).toBeLessThan(1e-3);
          }
        }
      }
      // a pool can be resized and torn down repeatedly
      setMatmulThreads(2);
      setMatmulThreads(1);
      setMatmulKernel('wasm');
    });
  }

  it('threaded wasm is bit-identical to single-threaded wasm (rows are independent)', () => {
    const [M, N, K] = [256, 300, 200];
    const a = f32(M * K, 17);
    const b = f32(N * K, 18);
    const one = new Float32Array(M * N);
    const three = new Float32Array(M * N);
    setMatmulThreads(1);
    matmulABt(one, a, b, M, N, K);
    setMatmulThreads(3);
    matmulABt(three, a, b, M, N, K);
    setMatmulThreads(1);
    expect(Array.from(three)).toEqual(Array.from(one));
  });

  it('rejects bad thread counts', () => {
    expect(() => setMatmulThreads(0)).toThrow(/threads/);
    expect(() => setMatmulThreads(33)).toThrow(/at most 32/);
  });
});

describe('batched products (attention heads)', () => {
  afterAll(() => setMatmulThreads(1));
  const naiveOf: Record<MatmulShape, MM> = { ABt: matmulABtNaive, AB: matmulABNaive, AtB: matmulAtBNaive };

  // B·NH = 6 products in groups of 3 sharing b (keys/values) or adding into one c (their gradients)
  const cases: [MatmulShape, number, number, boolean][] = [
    ['ABt', 3, 1, false],
    ['AB', 3, 1, true],
    ['AtB', 1, 3, true],
    ['ABt', 1, 1, true],
  ];
  for (const threads of [1, 3]) {
    for (const [shape, bGroup, cGroup, acc] of cases) {
      it(`${shape} bGroup ${bGroup} cGroup ${cGroup} acc=${acc}, ${threads} thread(s), f32 and f64`, () => {
        setMatmulThreads(threads);
        const [M, N, K, count] = [40, 33, 50, 6];
        const aStride = M * K + 5; // gaps between products must be left alone
        const bStride = N * K + 3;
        const cStride = M * N + 7;
        const a = randArr(count * aStride, 21);
        const b = randArr((count / bGroup) * bStride, 22);
        const c0 = randArr((count / cGroup) * cStride, 23);
        const ref = Float64Array.from(c0);
        for (let z = 0; z < count; z++) {
          const co = Math.floor(z / cGroup) * cStride;
          const bo = Math.floor(z / bGroup) * bStride;
          naiveOf[shape](
            ref.subarray(co, co + M * N),
            a.subarray(z * aStride, z * aStride + M * K),
            b.subarray(bo, bo + N * K),
            M,
            N,
            K,
            acc,
          );
        }
        const batch = { count, aStride, bStride, bGroup, cStride, cGroup };
        const c64 = Float64Array.from(c0);
        matmulBatched(shape, c64, a, b, M, N, K, batch, acc);
        expect(Array.from(c64)).toEqual(Array.from(ref)); // f64 loops over the reference: exact
        const c32 = Float32Array.from(c0);
        matmulBatched(shape, c32, Float32Array.from(a), Float32Array.from(b), M, N, K, batch, acc);
        expect(maxDiff(c32, ref)).toBeLessThan(1e-4);
        for (let g = 0; g < count / cGroup; g++)
          // the gaps still hold their old values
          for (let i = g * cStride + M * N; i < (g + 1) * cStride; i++)
            expect(c32[i]).toBe(Math.fround(c0[i]));
      });
    }
  }

  it('rejects batches that would overwrite shared outputs or overlap', () => {
    const x = new Float32Array(100);
    const base = { count: 2, aStride: 4, bStride: 4, cStride: 4 };
    expect(() => matmulBatched('ABt', x, x, x, 2, 2, 2, { ...base, cGroup: 2 })).toThrow(/batch\.cGroup/);
    expect(() => matmulBatched('ABt', x, x, x, 2, 2, 2, { ...base, cStride: 3 })).toThrow(/batch\.cStride/);
    expect(() => matmulBatched('ABt', x, x, x, 2, 2, 2, { ...base, count: 0 })).toThrow(/batch\.count/);
  });

  for (const threads of [1, 2]) {
    it(`f32 attention (wasm, ${threads} thread(s)) agrees with f64 attention (reference), GQA 4:2`, () => {
      setMatmulThreads(threads);
      const [B, T, NH, NKV, hd] = [2, 24, 4, 2, 8];
      const n = { q: B * NH * T * hd, kv: B * NKV * T * hd, att: B * NH * T * T };
      const q = randArr(n.q, 31);
      const k = randArr(n.kv, 32);
      const v = randArr(n.kv, 33);
      const dy = randArr(n.q, 34);
      const run = (dt: 'f32' | 'f64') => {
        const cv = (x: Float64Array) => (dt === 'f32' ? Float32Array.from(x) : Float64Array.from(x));
        const y = alloc(dt, n.q);
        const att = alloc(dt, n.att);
        const dq = alloc(dt, n.q);
        const dk = alloc(dt, n.kv);
        const dv = alloc(dt, n.kv);
        const [qh, kh, vh] = [cv(q), cv(k), cv(v)];
        attentionForward(y, att, alloc(dt, n.q), qh, kh, vh, B, T, NH, NKV, hd);
        attentionBackward(
          dq,
          dk,
          dv,
          alloc(dt, n.q),
          alloc(dt, T * T),
          cv(dy),
          att,
          qh,
          kh,
          vh,
          B,
          T,
          NH,
          NKV,
          hd,
        );
        return { y, att, dq, dk, dv };
      };
      const r32 = run('f32');
      const r64 = run('f64');
      for (const key of ['y', 'att', 'dq', 'dk', 'dv'] as const) {
        expect(maxDiff(r32[key], r64[key]), key).toBeLessThan(1e-4);
        let mag = 0;
        for (const x of r64[key]) mag = Math.max(mag, Math.abs(x));
        expect(mag, key).toBeGreaterThan(1e-2); // the comparison is not between zeros
      }
    });
  }
});
