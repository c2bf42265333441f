import { afterAll, describe, expect, it } from 'vitest';
import {
  matmulAB,
  matmulABNaive,
  matmulABt,
  matmulABtNaive,
  matmulAtB,
  matmulAtBNaive,
} from '../../../core/nn/matmul';
import { PARALLEL_MIN_MACS, setMatmulThreads } from '../../../core/nn/matmul-threads';
import { alloc, type Arr } from '../../../core/nn/tensor';
import { randArr } from './gradcheck';

type MM = (out: Arr, a: Arr, b: Arr, M: number, N: number, K: number, acc?: boolean) => void;
const shapes: [string, MM, MM][] = [
  ['A·Bᵀ', matmulABt, matmulABtNaive],
  ['A·B', matmulAB, matmulABNaive],
  ['Aᵀ·B', matmulAtB, matmulAtBNaive],
];

function f32(n: number, seed: number, shared = false): Float32Array {
  const a = shared ? (alloc('f32', n) as Float32Array) : new Float32Array(n);
  a.set(randArr(n, seed));
  return a;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('blocked matmul equals the naive reference', () => {
  for (const [name, fast, naive] of shapes) {
    for (const [M, N, K] of [
      [1, 1, 1],
      [5, 7, 3],
      [17, 9, 300],
      [33, 260, 513],
    ]) {
      it(`${name} ${M}×${N}×${K}, overwrite and accumulate`, () => {
        const a = f32(M * K, 1);
        const b = f32(N * K, 2);
        const ref = f32(M * N, 3);
        const out = Float32Array.from(ref);
        naive(ref, a, b, M, N, K, true);
        fast(out, a, b, M, N, K, true);
        expect(maxDiff(out, ref)).toBeLessThan(1e-4);
        naive(ref, a, b, M, N, K);
        fast(out, a, b, M, N, K);
        expect(maxDiff(out, ref)).toBeLessThan(1e-4);
      });
    }
  }

  it('f64 operands use the reference and match it exactly', () => {
    const a = randArr(6 * 4, 4);
    const b = randArr(5 * 4, 5);
    const o1 = new Float64Array(30);
    const o2 = new Float64Array(30);
    matmulABt(o1, a, b, 6, 5, 4);
    matmulABtNaive(o2, a, b, 6, 5, 4);
    expect(Array.from(o1)).toEqual(Array.from(o2));
    // hand value: [1 2; 3 4]·[5 6; 7 8]ᵀ = [17 23; 39 53]
    const o = new Float64Array(4);
    matmulABt(o, Float64Array.of(1, 2, 3, 4), Float64Array.of(5, 6, 7, 8), 2, 2, 2);
    expect(Array.from(o)).toEqual([17, 23, 39, 53]);
  });
});

describe('threaded matmul', () => {
  afterAll(() => setMatmulThreads(1));
  for (const shared of [true, false]) {
    it(`splits rows over workers and matches the reference (${shared ? 'shared' : 'copied'} operands)`, () => {
      setMatmulThreads(3);
      const [M, N, K] = [130, 190, 171];
      expect(M * N * K).toBeGreaterThanOrEqual(PARALLEL_MIN_MACS);
      for (const [name, fast, naive] of shapes) {
        const a = f32(M * K, 7, shared);
        const b = f32(N * K, 8, shared);
        const ref = f32(M * N, 9);
        const out = shared ? (alloc('f32', M * N) as Float32Array) : new Float32Array(M * N);
        out.set(ref);
        naive(ref, a, b, M, N, K, true);
        fast(out, a, b, M, N, K, true);
        expect(maxDiff(out, ref), name).toBeLessThan(1e-3);
      }
    });
  }
});
