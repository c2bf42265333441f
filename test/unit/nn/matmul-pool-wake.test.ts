// The matmul pool's wake-up: a worker woken with no new job goes back to sleep. The caller's post() adds to the
// job's sequence number and then notifies a worker it saw asleep; a worker that woke on its own in between (its
// Atomics.wait found the sequence number moved) runs the job, and the caller's notify can land once it sleeps for
// the next job. The worker used to take that wake-up for a job and ran the last one again: a row kernel found no
// arguments on its port ("Cannot read properties of undefined (reading 'message')", reported against whatever
// product came next), and a rerun product could set the done flag of the next one early.
import { afterEach, describe, expect, it } from 'vitest';
import { matmulABt, matmulABtNaive, setMatmulKernel } from '../../../core/nn/matmul';
import { matmulPoolFailure, matmulPoolTesting, setMatmulThreads } from '../../../core/nn/matmul-threads';
import { Kernel, PARALLEL_MIN_ELEMENTS, pooledRowRuns, runRows } from '../../../core/nn/rows';
import { wasmGemm } from '../../../core/nn/wasm/gemm';

const tick = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number) => Atomics.wait(tick, 0, 0, ms);

/** Waits (at most 5 s) until worker 1 sleeps in Atomics.wait on its control block. */
function untilAsleep(c: Int32Array): void {
  const t0 = performance.now();
  while (Atomics.load(c, 30) !== 1) {
    if (performance.now() - t0 > 5000) throw new Error('the worker never went to sleep');
    sleep(1);
  }
}

const sharedF32 = (n: number, f: (i: number) => number) => {
  const x = new Float32Array(new SharedArrayBuffer(n * 4));
  for (let i = 0; i < n; i++) x[i] = f(i);
  return x;
};

describe('matmul pool wake-ups', () => {
  afterEach(() => {
    setMatmulThreads(1);
    setMatmulKernel('wasm');
  });

  it('a late notify after a row kernel reruns nothing: no failure, and the next kernel and product are right', () => {
    if (!wasmGemm()?.shared) return void console.log('skipped: no shared wasm memory here, so no wasm pool');
    setMatmulKernel('wasm');
    setMatmulThreads(2);
    const n = PARALLEL_MIN_ELEMENTS * 2 + 5;
    const gate = sharedF32(n, (i) => Math.sin(i * 0.013) * 4);
    const up = sharedF32(n, (i) => Math.cos(i * 0.007));
    const out = sharedF32(n, () => 0);
    const runs = pooledRowRuns();
    runRows(Kernel.SwigluForward, [out, gate, up], [n], n);
    expect(pooledRowRuns()).toBe(runs + 1); // the pool took it, so the worker's last job is a row kernel
    const c = matmulPoolTesting.ctrl(0);
    const begun = Atomics.load(c, 34);
    untilAsleep(c);
    // what post() sends when the worker already took the job: a notify with the sequence number unchanged
    expect(Atomics.notify(c, 0)).toBe(1);
    // the old worker ran the row kernel again within microseconds of waking and wrote its failure; give it time
    const t0 = performance.now();
    while (performance.now() - t0 < 1000 && Atomics.load(c, 32) === 0 && Atomics.load(c, 34) === begun)
      sleep(5);
    expect(Atomics.load(c, 34)).toBe(begun); // no task begun without a job
    expect(Atomics.load(c, 32)).toBe(0); // no failure written

    // the next row kernel and product run on the pool and agree with one thread
    const out2 = sharedF32(n, () => 0);
    runRows(Kernel.SwigluForward, [out2, gate, up], [n], n);
    expect(pooledRowRuns()).toBe(runs + 2);
    expect(out2).toEqual(out);
    for (let i = 0; i < n; i += 101)
      expect(out2[i]).toBeCloseTo((gate[i] / (1 + Math.exp(-gate[i]))) * up[i], 5);
    const [M, N, K] = [256, 128, 128];
    const a = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i * 0.37));
    const b = Float32Array.from({ length: N * K }, (_, i) => Math.cos(i * 0.11));
    const prod = new Float32Array(M * N);
    const ref = new Float32Array(M * N);
    matmulABt(prod, a, b, M, N, K);
    matmulABtNaive(ref, a, b, M, N, K);
    for (let i = 0; i < M * N; i += 31) expect(prod[i]).toBeCloseTo(ref[i], 3);
    expect(matmulPoolFailure()).toBeNull();
  });

  it("a job whose caller's share throws is still joined: the workers' failure is not blamed on the next product", () => {
    if (!wasmGemm()?.shared) return void console.log('skipped: no shared wasm memory here, so no wasm pool');
    setMatmulKernel('wasm');
    setMatmulThreads(2);
    const n = PARALLEL_MIN_ELEMENTS;
    const x = sharedF32(n, (i) => i);
    // no such kernel: the caller's share throws after the job was posted (and the worker's share fails too)
    expect(() => runRows(99 as Kernel, [x, x, x], [n], n)).toThrow(TypeError);
    // it was waited for: the worker's failure is recorded against it and the pool is stopped
    expect(matmulPoolFailure()).toMatch(/worker 1 threw: TypeError[\s\S]* in row kernel 99/);
    const [M, N, K] = [256, 128, 128];
    const a = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i * 0.37));
    const b = Float32Array.from({ length: N * K }, (_, i) => Math.cos(i * 0.11));
    const prod = new Float32Array(M * N);
    const ref = new Float32Array(M * N);
    matmulABt(prod, a, b, M, N, K); // the old pool threw here, naming this product
    matmulABtNaive(ref, a, b, M, N, K);
    for (let i = 0; i < M * N; i += 31) expect(prod[i]).toBeCloseTo(ref[i], 3);
  });
});
