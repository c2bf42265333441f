// The benchmark's paired timer: forward and gradient alternate call by call, so a slow minute of the machine
// falls on both and their ratio is read per repeat. Checked with calls of known length (busy waits) and a
// machine that slows down half-way: the per-repeat ratio stays at its true value where a ratio of medians
// taken in two separate blocks (the old way) reads the slowdown as the gradient's.
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { medianSeconds, pairedMedianSeconds } from '../../../core/methods/sim-bench/measure';

function busy(ms: number): void {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    /* spin */
  }
}

describe('pairedMedianSeconds', () => {
  it('alternates the two calls after one warm-up of each', async () => {
    const log: string[] = [];
    await pairedMedianSeconds(
      () => log.push('a'),
      () => log.push('b'),
      3,
    );
    expect(log).toEqual(['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']);
  });

  it('reads the true ratio of two calls while the machine slows down half-way', async () => {
    // the "machine" runs at speed 1 for the first half of the calls and 3× slower after
    let calls = 0;
    const total = 2 * (1 + 8);
    const slow = () => (++calls > total / 2 ? 3 : 1);
    const fwd = () => busy(2 * slow());
    const grad = () => busy(6 * slow());
    const paired = await pairedMedianSeconds(fwd, grad, 8);
    expect(paired.ratio).toBeGreaterThan(2.6);
    expect(paired.ratio).toBeLessThan(3.5);
    expect(paired.a * 1e3).toBeGreaterThan(1.9);
    expect(paired.b).toBeGreaterThan(paired.a);
    // the old blocks: all forwards in the fast half, all gradients in the slow one
    calls = 0;
    const f = await medianSeconds(fwd, 8);
    const g = await medianSeconds(grad, 8);
    expect(g / f).toBeGreaterThan(6);
  });
});
