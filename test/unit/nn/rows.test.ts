// The row kernels of rows.ts on the matmul worker pool: the pool really takes them (the workers run their share of
// the same source), the results are bit-identical to the calling thread alone, and each kernel matches an
// independent f64 reference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attentionBackward,
  attentionForward,
  ropePermuteBackward,
  ropePermuteForward,
  ropeTables,
} from '../../../core/nn/attention';
import { rmsnormBackward, rmsnormForward, swigluBackward, swigluForward } from '../../../core/nn/layers';
import { softmaxCrossEntropyForward, xentGradRows } from '../../../core/nn/losses';
import { allocMatmulResident, matmulRowsWasm } from '../../../core/nn/matmul';
import { setMatmulThreads } from '../../../core/nn/matmul-threads';
import { Adam, AdamW } from '../../../core/nn/optim';
import {
  Kernel,
  PARALLEL_MIN_ELEMENTS,
  pooledRowRuns,
  ROW_KERNELS,
  runRows,
  setRowsTrainingPass,
  setWasmRowKernels,
} from '../../../core/nn/rows';
import { alloc, NnError, Parameter, type Arr } from '../../../core/nn/tensor';
import { randArr } from './gradcheck';

const shared = (src: ArrayLike<number>): Float32Array => {
  const a = alloc('f32', src.length) as Float32Array;
  a.set(src);
  return a;
};

afterAll(() => setMatmulThreads(1));

/** Runs f once on the calling thread alone and once on a pool of `threads`; returns both outputs. */
function bothWays<T>(threads: number, f: () => T): { alone: T; pooled: T; runs: number } {
  setMatmulThreads(1);
  const alone = f();
  setMatmulThreads(threads);
  const before = pooledRowRuns();
  const pooled = f();
  return { alone, pooled, runs: pooledRowRuns() - before };
}

describe('row kernels on the worker pool', () => {
  const n = PARALLEL_MIN_ELEMENTS * 2 + 7; // not a multiple of the thread count: uneven shares
  const gate = randArr(n, 1).map((x) => 6 * x);
  const up = randArr(n, 2);
  const dout = randArr(n, 3);

  for (const threads of [2, 3])
    it(`SwiGLU forward and backward on ${threads} threads equal one thread bit for bit and the f64 formula`, () => {
      const { alone, pooled, runs } = bothWays(threads, () => {
        const out = alloc('f32', n);
        const dg = shared(randArr(n, 4)); // backward adds into what is there
        const du = shared(randArr(n, 5));
        swigluForward(out, shared(gate), shared(up), n);
        swigluBackward(dg, du, shared(dout), shared(gate), shared(up), n);
        return [out, dg, du];
      });
      expect(runs).toBe(2);
      for (let j = 0; j < 3; j++) expect(Array.from(pooled[j])).toEqual(Array.from(alone[j]));
      const [out, dg, du] = pooled;
      const g0 = randArr(n, 4);
      const u0 = randArr(n, 5);
      for (const i of [0, 1, n >> 1, n - 1]) {
        const g = Math.fround(gate[i]);
        const s = 1 / (1 + Math.exp(-g));
        expect(out[i]).toBeCloseTo(g * s * Math.fround(up[i]), 5);
        const d = Math.fround(dout[i]);
        expect(dg[i]).toBeCloseTo(Math.fround(g0[i]) + d * Math.fround(up[i]) * s * (1 + g * (1 - s)), 5);
        expect(du[i]).toBeCloseTo(Math.fround(u0[i]) + d * g * s, 5);
      }
    });

  it('SwiGLU with σ(gate) kept by the forward: pool equals one thread, and the result equals the recomputing path', () => {
    const { alone, pooled, runs } = bothWays(2, () => {
      const out = alloc('f32', n);
      const sig = alloc('f32', n);
      const dg = alloc('f32', n);
      const du = alloc('f32', n);
      swigluForward(out, shared(gate), shared(up), n, sig);
      swigluBackward(dg, du, shared(dout), shared(gate), shared(up), n, sig);
      return [out, sig, dg, du];
    });
    expect(runs).toBe(2);
    for (let j = 0; j < 4; j++) expect(Array.from(pooled[j])).toEqual(Array.from(alone[j]));
    const out = alloc('f32', n);
    const dg = alloc('f32', n);
    const du = alloc('f32', n);
    swigluForward(out, shared(gate), shared(up), n);
    swigluBackward(dg, du, shared(dout), shared(gate), shared(up), n);
    const [o2, sig, dg2, du2] = pooled;
    for (let i = 0; i < n; i++) {
      expect(Math.abs(o2[i] - out[i])).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(out[i])));
      expect(Math.abs(dg2[i] - dg[i])).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(dg[i])));
      // σ kept in f32 rounds it once more than the recomputed double
      expect(Math.abs(du2[i] - du[i])).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(du[i])));
    }
    expect(sig[7]).toBeCloseTo(1 / (1 + Math.exp(-Math.fround(gate[7]))), 6);
  });

  it('softmax cross-entropy rows and the LM ∂logits on 2 threads equal one thread and the f64 reference', () => {
    const [N, V] = [67, 1024];
    const logits = randArr(N * V, 6).map((x) => 8 * x);
    const targets = Int32Array.from({ length: N }, (_, i) => (i % 5 === 3 ? -100 : (i * 37) % V));
    const { alone, pooled, runs } = bothWays(2, () => {
      const probs = alloc('f32', N * V);
      const r = softmaxCrossEntropyForward(probs, shared(logits), targets, N, V, -100);
      xentGradRows(probs, targets, N, V, -100, 1 / r.count);
      return { ...r, d: probs };
    });
    expect(runs).toBe(2);
    expect(pooled.loss).toBe(alone.loss);
    expect(Array.from(pooled.d)).toEqual(Array.from(alone.d));
    let total = 0;
    let count = 0;
    for (let n = 0; n < N; n++) {
      const row = Array.from(logits.subarray(n * V, (n + 1) * V), Math.fround);
      const max = Math.max(...row);
      const z = row.reduce((s, x) => s + Math.exp(x - max), 0);
      const t = targets[n];
      for (const v of [0, 5, t < 0 ? 9 : t])
        expect(pooled.d[n * V + v]).toBeCloseTo(
          t < 0 ? 0 : (Math.exp(row[v] - max) / z - (v === t ? 1 : 0)) / pooled.count,
          7,
        );
      if (t < 0) continue;
      total += Math.log(z) + max - row[t];
      count++;
    }
    expect(pooled.count).toBe(count);
    expect(pooled.loss).toBeCloseTo(total / count, 5);
  });

  it('a target outside the vocabulary is named before anything is written', () => {
    setMatmulThreads(2);
    const probs = alloc('f32', 4 * 8).fill(7);
    const t = Int32Array.of(1, 2, 8, 0);
    expect(() => softmaxCrossEntropyForward(probs, alloc('f32', 32), t, 4, 8)).toThrow(NnError);
    expect(() => softmaxCrossEntropyForward(probs, alloc('f32', 32), t, 4, 8)).toThrow(/targets\[2\]/);
    expect(probs.every((x) => x === 7)).toBe(true);
  });

  for (const [name, Opt] of [
    ['AdamW', AdamW],
    ['Adam', Adam],
  ] as const)
    it(`${name} over several parameters on 2 threads equals one thread and the torch.optim formula in f64`, () => {
      const sizes = [PARALLEL_MIN_ELEMENTS + 3, 17, 4096];
      const run = (): Arr[] => {
        const ps = sizes.map((s, i) => new Parameter(`p${i}`, [s], 'f32'));
        const opt = new Opt(ps, { weightDecay: 0.1 });
        for (let step = 0; step < 3; step++) {
          ps.forEach((p, i) => {
            if (step === 0) p.data.set(randArr(p.size, 10 + i));
            p.grad.set(randArr(p.size, 20 + 3 * i + step));
          });
          opt.step(0.01);
        }
        return ps.map((p) => p.data);
      };
      const { alone, pooled, runs } = bothWays(2, run);
      expect(runs).toBe(3);
      for (let i = 0; i < sizes.length; i++) expect(Array.from(pooled[i])).toEqual(Array.from(alone[i]));
      // reference: torch.optim.Adam / AdamW, f64, three steps, on a few elements of each parameter
      const decoupled = name === 'AdamW';
      sizes.forEach((size, i) => {
        for (const e of [0, size >> 1, size - 1]) {
          let w = Math.fround(randArr(size, 10 + i)[e]);
          let m = 0;
          let v = 0;
          for (let step = 1; step <= 3; step++) {
            let g = Math.fround(randArr(size, 20 + 3 * i + step - 1)[e]);
            if (decoupled) w -= 0.01 * 0.1 * w;
            else g += 0.1 * w;
            m = 0.9 * m + 0.1 * g;
            v = 0.999 * v + 0.001 * g * g;
            w -= (0.01 * m) / (1 - 0.9 ** step) / (Math.sqrt(v / (1 - 0.999 ** step)) + 1e-8);
          }
          expect(pooled[i][e]).toBeCloseTo(w, 5);
        }
      });
    });

  it('causal attention softmax and its backward on 2 threads equal one thread bit for bit, and rows sum to 1', () => {
    const [B, T, NH, hd] = [2, 64, 4, 8]; // B·NH·T² = PARALLEL_MIN_ELEMENTS: just pooled
    const n = B * NH * T * hd;
    const { alone, pooled, runs } = bothWays(2, () => {
      const [q, k, v, dy] = [1, 2, 3, 4].map((seed) => shared(randArr(n, seed)));
      const att = alloc('f32', B * NH * T * T);
      const y = alloc('f32', n);
      attentionForward(y, att, alloc('f32', n), q, k, v, B, T, NH, NH, hd);
      const [dq, dk, dv] = [alloc('f32', n), alloc('f32', n), alloc('f32', n)];
      const datt = alloc('f32', B * NH * T * T);
      attentionBackward(dq, dk, dv, alloc('f32', n), datt, dy, att, q, k, v, B, T, NH, NH, hd);
      return [att, y, dq, dk, dv];
    });
    expect(runs).toBe(2);
    for (let j = 0; j < 5; j++) expect(Array.from(pooled[j])).toEqual(Array.from(alone[j]));
    const att = pooled[0];
    for (const r of [0, 1, T - 1, T, B * NH * T - 1]) {
      const row = att.subarray(r * T, (r + 1) * T);
      const t = r % T;
      expect(Array.from(row.subarray(0, t + 1)).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(row.subarray(t + 1).every((x) => x === 0)).toBe(true);
    }
  });

  it('RMSNorm forward and backward (rows and weight-gradient columns) on 2 threads equal one thread and f64', () => {
    const [N, C] = [301, 130]; // uneven row and column shares
    const x = randArr(N * C, 11).map((v) => 3 * v);
    const w = randArr(C, 12);
    const dy = randArr(N * C, 13);
    const dx0 = randArr(N * C, 14);
    const dw0 = randArr(C, 15);
    const { alone, pooled, runs } = bothWays(2, () => {
      const out = alloc('f32', N * C);
      const rstd = alloc('f32', N);
      const dx = shared(dx0);
      const dw = shared(dw0);
      rmsnormForward(out, rstd, shared(x), shared(w), N, C, 1e-5);
      rmsnormBackward(dx, dw, shared(dy), shared(x), shared(w), rstd, N, C);
      return [out, rstd, dx, dw];
    });
    expect(runs).toBe(2);
    for (let j = 0; j < 4; j++) expect(Array.from(pooled[j])).toEqual(Array.from(alone[j]));
    const [out, , dx, dw] = pooled;
    // f64 reference from the rounded inputs
    const f = (v: ArrayLike<number>) => Array.from(v, Math.fround);
    const [xf, wf, dyf] = [f(x), f(w), f(dy)];
    const dwRef = f(dw0);
    for (let n = 0; n < N; n++) {
      let ss = 0;
      for (let c = 0; c < C; c++) ss += xf[n * C + c] ** 2;
      const r = 1 / Math.sqrt(ss / C + 1e-5);
      let dot = 0;
      for (let c = 0; c < C; c++) dot += (dyf[n * C + c] * wf[c] * xf[n * C + c] * r) / C;
      for (let c = 0; c < C; c++) {
        const i = n * C + c;
        expect(out[i]).toBeCloseTo(xf[i] * r * wf[c], 5);
        expect(dx[i]).toBeCloseTo(Math.fround(dx0[i]) + r * (dyf[i] * wf[c] - xf[i] * r * dot), 4);
        dwRef[c] += dyf[i] * xf[i] * r;
      }
    }
    for (let c = 0; c < C; c++) expect(dw[c]).toBeCloseTo(dwRef[c], 2);
  });

  it('RoPE head permutes (with and without tables) and the residual add on 2 threads equal one thread', () => {
    const [B, T, H, hd] = [5, 53, 8, 16]; // ≥ PARALLEL_MIN_ELEMENTS, uneven shares
    const n = B * T * H * hd;
    const { cos, sin } = ropeTables(T, hd);
    const x = randArr(n, 21);
    const d0 = randArr(n, 22);
    const { alone, pooled, runs } = bothWays(2, () => {
      const h = alloc('f32', n);
      const p = alloc('f32', n);
      const dx = shared(d0);
      const dv = shared(d0);
      const sum = alloc('f32', n);
      ropePermuteForward(h, shared(x), cos, sin, B, T, H, hd);
      ropePermuteForward(p, shared(x), null, null, B, T, H, hd);
      ropePermuteBackward(dx, h, cos, sin, B, T, H, hd);
      ropePermuteBackward(dv, p, null, null, B, T, H, hd);
      runRows(Kernel.Add, [sum, h, p], [n], n);
      return [h, p, dx, dv, sum];
    });
    expect(runs).toBe(5);
    for (let j = 0; j < 5; j++) expect(Array.from(pooled[j])).toEqual(Array.from(alone[j]));
    const [h, p, dx, dv, sum] = pooled;
    const xf = Array.from(x, Math.fround);
    for (const [b, t, hh, i] of [
      [0, 0, 0, 0],
      [2, 36, 4, 7],
      [1, 20, 2, 3],
    ]) {
      const src = ((b * T + t) * H + hh) * hd;
      const dst = ((b * H + hh) * T + t) * hd;
      expect(p[dst + i + 8]).toBe(Math.fround(x[src + i + 8])); // plain permute
      const a = t * Math.pow(10000, (-2 * i) / hd);
      expect(h[dst + i]).toBeCloseTo(xf[src + i] * Math.cos(a) - xf[src + i + 8] * Math.sin(a), 5);
      // the backward is the transpose: a rotation back, so dx − d0 = x at the source position
      expect(dx[src + i]).toBeCloseTo(Math.fround(d0[src + i]) + xf[src + i], 4);
      expect(dv[src + i]).toBeCloseTo(Math.fround(d0[src + i]) + xf[src + i], 5);
      expect(sum[dst + i]).toBe(Math.fround(h[dst + i] + p[dst + i]));
    }
  });

  it('arrays off shared memory and small work stay on the calling thread', () => {
    setMatmulThreads(2);
    const before = pooledRowRuns();
    const plain = new Float32Array(n);
    swigluForward(plain, Float32Array.from(gate), Float32Array.from(up), n);
    swigluForward(alloc('f32', 64), shared(gate), shared(up), 64);
    expect(pooledRowRuns()).toBe(before);
    expect(plain[3]).toBeCloseTo(
      (Math.fround(gate[3]) / (1 + Math.exp(-Math.fround(gate[3])))) * Math.fround(up[3]),
      5,
    );
  });
});

// On arrays in the wasm engine's memory the SwiGLU forward and both softmaxes take their exponentials from the
// engine's f32x4 kernel (Cephes' expf): the same on the pool as alone, within f32 rounding of the Math.exp path
describe.skipIf(!matmulRowsWasm())('row kernels with the engine SIMD exponentials', () => {
  // the activation kernels take the engine's path during a training pass only (the transformer says when)
  beforeAll(() => setRowsTrainingPass(true));
  afterAll(() => setRowsTrainingPass(false));
  const resident = (src: ArrayLike<number>): Float32Array => {
    const a = allocMatmulResident(src.length)!;
    a.set(src);
    return a;
  };
  const relErr = (x: ArrayLike<number>, y: ArrayLike<number>, floor = 1e-30) => {
    let e = 0;
    for (let i = 0; i < x.length; i++)
      e = Math.max(e, Math.abs(x[i] - y[i]) / Math.max(Math.abs(y[i]), floor));
    return e;
  };
  const n = PARALLEL_MIN_ELEMENTS * 2 + 7;
  const gate = randArr(n, 11).map((x) => 12 * x);
  const up = randArr(n, 12);

  it('SwiGLU forward and backward: pool equals one thread bit for bit, within f32 rounding of JS, wasm ran', () => {
    const dout = randArr(n, 15);
    const run = (wasm: boolean) => {
      const was = setWasmRowKernels(wasm);
      try {
        return bothWays(2, () => {
          const [out, sig] = [resident(new Float32Array(n)), resident(new Float32Array(n))];
          const [g, u] = [resident(gate), resident(up)];
          swigluForward(out, g, u, n, sig);
          const [dg, du] = [resident(randArr(n, 16)), resident(randArr(n, 17))]; // added into
          swigluBackward(dg, du, resident(dout), g, u, n, sig);
          return [out, sig, dg, du].map((x) => Float32Array.from(x));
        });
      } finally {
        setWasmRowKernels(was);
      }
    };
    const simd = run(true);
    const exact = run(false);
    expect(simd.runs).toBe(2);
    for (let j = 0; j < 4; j++) expect(Array.from(simd.pooled[j])).toEqual(Array.from(simd.alone[j]));
    // the gradients: σ's error and f32 rounding of each product (JS rounds once at the store), against |terms|
    for (const j of [2, 3]) {
      expect(Array.from(simd.pooled[j])).not.toEqual(Array.from(exact.pooled[j]));
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(simd.pooled[j][i] - exact.pooled[j][i]));
      expect(worst).toBeLessThan(2e-6 * 12);
    }
    expect(Array.from(simd.pooled[0])).not.toEqual(Array.from(exact.pooled[0])); // another exp really ran
    expect(relErr(simd.pooled[1], exact.pooled[1])).toBeLessThan(4e-7);
    // the output's relative error is σ's plus two products' rounding
    let worst = 0;
    for (let i = 0; i < n; i++)
      worst = Math.max(
        worst,
        Math.abs(simd.pooled[0][i] - exact.pooled[0][i]) / (Math.abs(exact.pooled[0][i]) + 1e-30),
      );
    expect(worst).toBeLessThan(4e-7);
  });

  it('softmax cross-entropy and the causal softmax: pool equals one thread, within f32 rounding of Math.exp', () => {
    const [N, V] = [67, 1024];
    const logits = randArr(N * V, 13).map((x) => 8 * x);
    const targets = Int32Array.from({ length: N }, (_, i) => (i % 5 === 3 ? -100 : (i * 37) % V));
    const [T, NH, rows] = [64, 4, 2 * 4 * 64];
    const scores = randArr(rows * T, 14).map((x) => 30 * x);
    const run = (wasm: boolean) => {
      const was = setWasmRowKernels(wasm);
      try {
        return bothWays(2, () => {
          const probs = resident(new Float32Array(N * V));
          const r = softmaxCrossEntropyForward(probs, resident(logits), targets, N, V, -100);
          const att = resident(scores);
          runRows(Kernel.CausalSoftmax, [att], [T, NH, rows, 0.5, 0.25, 1, 2], rows * T);
          return { loss: r.loss, probs: Float32Array.from(probs), att: Float32Array.from(att) };
        });
      } finally {
        setWasmRowKernels(was);
      }
    };
    const simd = run(true);
    const exact = run(false);
    expect(simd.runs).toBe(2);
    expect(simd.pooled.loss).toBe(simd.alone.loss);
    expect(Array.from(simd.pooled.probs)).toEqual(Array.from(simd.alone.probs));
    expect(Array.from(simd.pooled.att)).toEqual(Array.from(simd.alone.att));
    expect(Array.from(simd.pooled.probs)).not.toEqual(Array.from(exact.pooled.probs));
    expect(Math.abs(simd.pooled.loss - exact.pooled.loss)).toBeLessThan(1e-6 * exact.pooled.loss);
    // x − max rounds to f32 before the exponential (ulp(|x − max|) ≤ 2e−6 here), then ≲ 2 ulp
    expect(relErr(simd.pooled.probs, exact.pooled.probs, 1e-20)).toBeLessThan(1e-5);
    expect(relErr(simd.pooled.att, exact.pooled.att, 1e-20)).toBeLessThan(3e-5);
    for (const r of [0, 1, T - 1, rows - 1]) {
      const row = simd.pooled.att.subarray(r * T, (r + 1) * T);
      expect(Array.from(row.subarray(0, (r % T) + 1)).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(row.subarray((r % T) + 1).every((x) => x === 0)).toBe(true);
    }
  });

  it('AdamW on the engine (onEngine), resident or not: the same bits, pool = one thread, within f32 rounding of JS', () => {
    const sizes = [PARALLEL_MIN_ELEMENTS + 3, 37, 2 * PARALLEL_MIN_ELEMENTS];
    const run = (wasm: boolean, inEngine = true) => {
      const was = setWasmRowKernels(wasm);
      try {
        return bothWays(2, () => {
          const ps = sizes.map((n, j) => {
            const p = new Parameter(`p${j}`, [n], 'f32');
            p.data.set(randArr(n, 20 + j));
            const g = p.data.map((_, i) => Math.sin(i * (j + 1)));
            if (inEngine) p.relocate(resident(p.data), resident(g));
            p.grad.set(g); // (relocate copies the old gradient, zeros, into the new array)
            p.onEngine = true;
            return p;
          });
          const opt = new AdamW(ps, { weightDecay: 0.1 });
          for (let s = 0; s < 3; s++) opt.step(1e-2); // moments resident: allocated beside resident parameters
          return ps.map((p) => Float32Array.from(p.data));
        });
      } finally {
        setWasmRowKernels(was);
      }
    };
    const simd = run(true);
    const exact = run(false);
    // not resident: copied into the engine around the same kernel
    const copied = run(true, false);
    for (let j = 0; j < sizes.length; j++) {
      expect(Array.from(copied.pooled[j])).toEqual(Array.from(simd.pooled[j]));
      expect(Array.from(copied.alone[j])).toEqual(Array.from(simd.pooled[j]));
    }
    expect(simd.runs).toBe(3);
    for (let j = 0; j < sizes.length; j++) {
      expect(Array.from(simd.pooled[j])).toEqual(Array.from(simd.alone[j]));
      // three updates of ≈ lr each: a few f32 ulps of the step
      let worst = 0;
      for (let i = 0; i < sizes[j]; i++)
        worst = Math.max(worst, Math.abs(simd.pooled[j][i] - exact.pooled[j][i]));
      expect(worst).toBeLessThan(1e-6);
    }
    expect(simd.pooled.some((x, j) => x.some((v, i) => v !== exact.pooled[j][i]))).toBe(true);
  });

  it('the kernels decline the engine for arrays outside its memory', () => {
    const out = new Float32Array(64);
    ROW_KERNELS[Kernel.SwigluForward](
      [out, Float32Array.from(gate.subarray(0, 64)), Float32Array.from(up.subarray(0, 64))],
      [64],
      0,
      1,
      null,
    );
    expect(out[3]).toBe(
      Math.fround((Math.fround(gate[3]) / (1 + Math.exp(-Math.fround(gate[3])))) * Math.fround(up[3])),
    );
  });
});
