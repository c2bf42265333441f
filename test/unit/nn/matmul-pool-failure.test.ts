// The matmul pool's failure path: a worker that throws or dies ends the product with an Error naming the kernel
// in bounded time (the old pool waited on Atomics.wait with no timeout and hung), and the pool stops itself so
// later products run on the calling thread.
import { afterEach, describe, expect, it } from 'vitest';
import { matmulABt, matmulABtNaive, setMatmulKernel, type MatmulKernel } from '../../../core/nn/matmul';
import {
  getMatmulThreads,
  matmulPoolFailure,
  matmulPoolTesting,
  setMatmulThreads,
} from '../../../core/nn/matmul-threads';
import { wasmGemm } from '../../../core/nn/wasm/gemm';

const [M, N, K] = [256, 256, 256]; // 2^24 MACs: over PARALLEL_MIN_MACS, so the pool takes it

function operands() {
  const a = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i * 0.37));
  const b = Float32Array.from({ length: N * K }, (_, i) => Math.cos(i * 0.11));
  return { a, b, out: new Float32Array(M * N) };
}

/** One thread after the failure: the product still comes out right. */
function expectOneThreadProduct(): void {
  const { a, b, out } = operands();
  const ref = new Float32Array(M * N);
  matmulABt(out, a, b, M, N, K);
  expect(getMatmulThreads()).toBe(1);
  matmulABtNaive(ref, a, b, M, N, K);
  for (let i = 0; i < M * N; i += 97) expect(out[i]).toBeCloseTo(ref[i], 3);
}

describe('matmul pool failures', () => {
  let oldStall: number | null = null;
  afterEach(() => {
    if (oldStall !== null) matmulPoolTesting.setStallMs(oldStall);
    oldStall = null;
    setMatmulThreads(1);
    setMatmulKernel('wasm');
  });

  it('a wasm gemm that traps in a worker ends in an Error naming the kernel and the trap, not a hang', () => {
    const w = wasmGemm();
    if (!w?.shared) return void console.log('skipped: no shared wasm memory here, so no wasm pool');
    setMatmulKernel('wasm');
    setMatmulThreads(2);
    const [m, n, k] = [256, 128, 128]; // exactly PARALLEL_MIN_MACS; rows split 128 / 128
    const end = w.view().byteLength;
    // C is placed so that the caller's rows [0, 128) end at the memory's last byte: the worker's rows write past
    // it, and the wasm kernel traps there (memory access out of bounds) on the worker's thread only
    const s = { pa: end - 2 ** 20, pb: end - 2 ** 20, pc: end - 128 * n * 4 };
    const t0 = performance.now();
    expect(() => matmulPoolTesting.wasmGemm(w, s, m, n, k, false, k, 1, k, 1)).toThrow(
      /matmul pool: worker 1 threw: RuntimeError: memory access out of bounds[\s\S]* in the wasm gemm \(256×128×128\)/,
    );
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(matmulPoolFailure()).toMatch(/worker 1 threw/);
    expectOneThreadProduct();
  });

  for (const kernel of ['wasm', 'js'] as MatmulKernel[]) {
    it(`a ${kernel} pool worker terminated under a job ends it in an Error within the stall limit`, () => {
      if (kernel === 'wasm' && !wasmGemm()?.shared) return void console.log('skipped: no shared wasm memory');
      setMatmulKernel(kernel);
      setMatmulThreads(2);
      oldStall = matmulPoolTesting.setStallMs(300);
      // terminate() stops the thread at once (no JS of its own runs, so it cannot say so) and its 'exit' event
      // cannot arrive while this thread is blocked in the product: only the stall limit can end the wait
      void matmulPoolTesting.workers()[0].terminate();
      const { a, b, out } = operands();
      const t0 = performance.now();
      let message = '';
      try {
        matmulABt(out, a, b, M, N, K);
      } catch (e) {
        message = (e as Error).message;
      }
      const ms = performance.now() - t0;
      const name = kernel === 'js' ? 'JS' : 'wasm';
      expect(message).toMatch(
        new RegExp(
          `^matmul pool: worker 1 gave no result within \\d+ ms .* in the ${name} gemm \\(256×256×256\\)`,
        ),
      );
      // the limit is the larger of the stall limit and 20× the caller's own share (the JS share takes ≈ 0.1 s)
      expect(ms).toBeLessThan(Number(/within (\d+) ms/.exec(message)![1]) + 2000);
      expectOneThreadProduct();
    });
  }

  it('a worker that died between products is seen at the next one, which runs on one thread', async () => {
    setMatmulKernel('wasm');
    setMatmulThreads(3);
    await matmulPoolTesting.workers()[1].terminate(); // its 'exit' event is delivered while nothing is blocked
    await new Promise((r) => setTimeout(r, 20));
    expectOneThreadProduct();
    expect(matmulPoolFailure()).toMatch(/worker 2 exited/);
  });
});
