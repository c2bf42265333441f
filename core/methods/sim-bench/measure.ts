// Timing helpers for the benchmarks: medians of repeats, and the machine's memcpy bandwidth measured
// in the same run so throughput figures can be reported as ratios (these machines are noisy).
import { performance } from 'node:perf_hooks';

/** Median seconds of `reps` timed calls after one warm-up call. */
export async function medianSeconds(fn: () => unknown | Promise<unknown>, reps: number): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  return times.length % 2 === 1 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
}

/**
 * Two calls timed alternately — a, b, a, b, … after one warm-up of each — so both meet the same machine (on a
 * noisy host the memory bandwidth alone swings by half between minutes): the median seconds of each, and the
 * median of the repeats' own b ÷ a ratios, the figure a ratio target is read from.
 */
export async function pairedMedianSeconds(
  a: () => unknown | Promise<unknown>,
  b: () => unknown | Promise<unknown>,
  reps: number,
): Promise<{ a: number; b: number; ratio: number }> {
  await a();
  await b();
  const ta: number[] = [];
  const tb: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await a();
    const t1 = performance.now();
    await b();
    const t2 = performance.now();
    ta.push((t1 - t0) / 1000);
    tb.push((t2 - t1) / 1000);
    ratios.push((t2 - t1) / (t1 - t0));
  }
  return { a: median(ta), b: median(tb), ratio: median(ratios) };
}

function median(xs: number[]): number {
  const s = xs.slice().sort((x, y) => x - y);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Fastest of `reps` timed calls after one warm-up: the least disturbed by other load on the machine. */
export async function minSeconds(fn: () => unknown | Promise<unknown>, reps: number): Promise<number> {
  await fn();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

/**
 * memcpy bandwidth in bytes/s counted as bytes read + bytes written (2 × size per copy), the same
 * convention as the gate-throughput figure (16·2^n bytes per one-qubit gate on complex64: read and
 * write 8 bytes per amplitude). Buffer.copy is a native memmove.
 */
export async function memcpyBandwidth(bytes: number, reps = 9): Promise<number> {
  const src = Buffer.alloc(bytes, 1);
  const dst = Buffer.alloc(bytes);
  const s = await medianSeconds(() => src.copy(dst), reps);
  return (2 * bytes) / s;
}
