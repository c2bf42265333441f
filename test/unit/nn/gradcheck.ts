// Central finite differences in f64 against analytic gradients.
import type { Arr } from '../../../core/nn/tensor';

/**
 * For each (x, dx) pair, perturbs up to `samples` entries of x by ±h and compares (f(x+h) − f(x−h)) / 2h with
 * dx. Returns the largest |num − ana| / max(1e-8, |num| + |ana|) seen, with where it happened.
 */
export function gradCheck(
  pairs: [Arr, Arr][],
  f: () => number,
  opts: { h?: number; samples?: number } = {},
): { maxRel: number; maxAbs: number; at: string } {
  const h = opts.h ?? 1e-6;
  const samples = opts.samples ?? 48;
  let maxRel = 0;
  let maxAbs = 0;
  let at = '';
  pairs.forEach(([x, dx], pi) => {
    const step = Math.max(1, Math.floor(x.length / samples));
    for (let i = 0; i < x.length; i += step) {
      const keep = x[i];
      x[i] = keep + h;
      const fp = f();
      x[i] = keep - h;
      const fm = f();
      x[i] = keep;
      const num = (fp - fm) / (2 * h);
      const abs = Math.abs(num - dx[i]);
      const rel = abs / Math.max(1e-8, Math.abs(num) + Math.abs(dx[i]));
      if (abs > 1e-9 && rel > maxRel) {
        maxRel = rel;
        at = `pair ${pi} index ${i}: numeric ${num}, analytic ${dx[i]}`;
      }
      maxAbs = Math.max(maxAbs, abs);
    }
  });
  return { maxRel, maxAbs, at };
}

/** Deterministic f64 test data in [−1, 1) (no dependency on the code under test). */
export function randArr(n: number, seed: number): Float64Array {
  const a = new Float64Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    a[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return a;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>, n = a.length): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}
