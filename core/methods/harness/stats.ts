// The statistics of a comparison: over seeds, Student's t distribution (CDF and quantiles for any degrees of
// freedom), the t interval of a mean and the paired t-test between two models run on the same seeds; over
// test items, the Wilson interval of an accuracy, McNemar's test and the paired bootstrap of two models.
// The CDF goes through the regularised incomplete beta function (Lentz's continued fraction, as in
// Numerical Recipes §6.4); quantiles invert it by bisection, which is slow next to Hill's series but exact to
// the last bits and a few microseconds per call at the sizes a report needs.
import { meanStd } from './metrics';

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error below 1e-15). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    const even = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + even * d;
    c = 1 + even / c;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = Math.abs(c) < tiny ? tiny : c;
    h *= d * c;
    const odd = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + odd * d;
    c = 1 + odd / c;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = Math.abs(c) < tiny ? tiny : c;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-16) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b) for 0 ≤ x ≤ 1, a, b > 0. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // the fraction converges fast for x < (a + 1)/(a + b + 2); use the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) beyond
  return x < (a + 1) / (a + b + 2)
    ? (front * betaFraction(x, a, b)) / a
    : 1 - (front * betaFraction(1 - x, b, a)) / b;
}

function checkDof(dof: number, what: string): void {
  if (!(dof > 0)) throw new Error(`${what}: degrees of freedom must be positive, got ${dof}`);
}

/** P(T ≤ t) for Student's t with `dof` degrees of freedom (any positive real). */
export function tCdf(t: number, dof: number): number {
  checkDof(dof, 'tCdf');
  if (Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return t > 0 ? 1 : 0;
  const tail = 0.5 * incompleteBeta(dof / (dof + t * t), dof / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t with `dof` degrees of freedom: tQuantile(0.975, dof) is the 95 % two-sided value. */
export function tQuantile(p: number, dof: number): number {
  checkDof(dof, 'tQuantile');
  if (!(p > 0 && p < 1)) throw new Error(`tQuantile: p must be in (0, 1), got ${p}`);
  if (p === 0.5) return 0;
  const upper = p > 0.5 ? p : 1 - p;
  let lo = 0;
  let hi = 1;
  while (tCdf(hi, dof) < upper) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (tCdf(mid, dof) < upper) lo = mid;
    else hi = mid;
  }
  const q = 0.5 * (lo + hi);
  return p > 0.5 ? q : -q;
}

export interface MeanInterval {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1). */
  std: number;
  /** Half width of the interval: t_{(1+level)/2, n−1} · std / √n (NaN for one value). */
  half: number;
  lo: number;
  hi: number;
  dof: number;
}

/** Mean with its Student-t confidence interval (default 95 %): the seeds' spread, not a test-set interval. */
export function meanInterval(values: readonly number[], level = 0.95): MeanInterval {
  const n = values.length;
  if (n === 0) return { n, mean: NaN, std: NaN, half: NaN, lo: NaN, hi: NaN, dof: 0 };
  const { mean, std } = meanStd(values);
  if (n === 1) return { n, mean, std, half: NaN, lo: NaN, hi: NaN, dof: 0 };
  const half = (tQuantile((1 + level) / 2, n - 1) * std) / Math.sqrt(n);
  return { n, mean, std, half, lo: mean - half, hi: mean + half, dof: n - 1 };
}

export interface PairedTest {
  /** Pairs (seeds). */
  n: number;
  /** Mean of a − b, its sample standard deviation and its confidence interval. */
  meanDiff: number;
  sdDiff: number;
  lo: number;
  hi: number;
  /** t = mean / (sd / √n) with n − 1 degrees of freedom; p two-sided. NaN with fewer than two pairs. */
  t: number;
  dof: number;
  p: number;
}

/**
 * Paired t-test of a against b (a[i] and b[i] from the same seed). Differences that are all equal give
 * t = ±∞ and p = 0 (or t = NaN and p = 1 when they are all zero): the test has nothing to measure noise by.
 */
export function pairedTTest(a: readonly number[], b: readonly number[], level = 0.95): PairedTest {
  if (a.length !== b.length) throw new Error(`pairedTTest: ${a.length} values against ${b.length}`);
  const d = a.map((x, i) => x - b[i]);
  const m = meanInterval(d, level);
  const n = d.length;
  if (n < 2) return { n, meanDiff: m.mean, sdDiff: NaN, lo: NaN, hi: NaN, t: NaN, dof: 0, p: NaN };
  let t: number;
  let p: number;
  if (m.std === 0) {
    t = m.mean === 0 ? NaN : m.mean > 0 ? Infinity : -Infinity;
    p = m.mean === 0 ? 1 : 0;
  } else {
    t = m.mean / (m.std / Math.sqrt(n));
    p = 2 * tCdf(-Math.abs(t), n - 1);
  }
  return { n, meanDiff: m.mean, sdDiff: m.std, lo: m.lo, hi: m.hi, t, dof: n - 1, p };
}

// ---- intervals and paired tests over test items (one model's accuracy; two models on the same items)

/** z_{0.975}: the two-sided 95 % normal quantile. */
export const Z975 = 1.959963984540054;

export interface Interval {
  estimate: number;
  lo: number;
  hi: number;
}

/**
 * Wilson score interval of a proportion k/n (default 95 %): centre (p̂ + z²/2n)/(1 + z²/n), half width
 * z·√(p̂(1 − p̂)/n + z²/4n²)/(1 + z²/n). `k` may be a mean count (accuracy averaged over seeds × n).
 */
export function wilsonInterval(k: number, n: number, z = Z975): Interval {
  if (!(n > 0)) return { estimate: NaN, lo: NaN, hi: NaN };
  const p = k / n;
  const z2 = z * z;
  const d = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / d;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / d;
  return { estimate: p, lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

/** ln C(n, k). */
function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/**
 * erfc(x) = Q(½, x²), the regularised upper incomplete gamma: its series below x² < 1.5, Lentz's continued
 * fraction above (Numerical Recipes §6.2); relative error near 1e-15.
 */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x === 0) return 1;
  const a = 0.5;
  const t = x * x;
  if (t < a + 1) {
    // series for P(a, t), then Q = 1 − P
    let sum = 1 / a;
    let del = sum;
    for (let n = 1; n < 500; n++) {
      del *= t / (a + n);
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-17) break;
    }
    return 1 - sum * Math.exp(-t + a * Math.log(t) - logGamma(a));
  }
  const tiny = 1e-300;
  let b = t + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return Math.exp(-t + a * Math.log(t) - logGamma(a)) * h;
}

/** P(χ²₁ > x). */
export function chiSquare1Sf(x: number): number {
  return x <= 0 ? 1 : erfc(Math.sqrt(x / 2));
}

export interface McNemar {
  /** Items the first model got right and the second wrong (b), and the reverse (c). */
  b: number;
  c: number;
  /** Exact two-sided binomial p: 2·P(X ≤ min(b, c)), X ~ Bin(b + c, ½), capped at 1 (1 with no discordant pair). */
  pExact: number;
  /** (|b − c| − 1)² / (b + c) with Yates's continuity correction, and its χ²₁ p. */
  chi2: number;
  pChi2: number;
}

/** McNemar's test from the discordant counts b and c of two classifiers on the same items. */
export function mcnemar(b: number, c: number): McNemar {
  const n = b + c;
  if (n === 0) return { b, c, pExact: 1, chi2: 0, pChi2: 1 };
  const k = Math.min(b, c);
  let tail = 0;
  for (let i = 0; i <= k; i++) tail += Math.exp(logChoose(n, i) - n * Math.LN2);
  const chi2 = (Math.abs(b - c) - 1) ** 2 / n;
  return { b, c, pExact: Math.min(1, 2 * tail), chi2, pChi2: chiSquare1Sf(chi2) };
}

/** Discordant counts of two prediction vectors against the labels. */
export function discordant(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  labels: ArrayLike<number>,
): { b: number; c: number } {
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < labels.length; i++) {
    const ra = a[i] === labels[i];
    const rb = b[i] === labels[i];
    if (ra && !rb) onlyA++;
    else if (rb && !ra) onlyB++;
  }
  return { b: onlyA, c: onlyB };
}

/** A deterministic 32-bit generator for the bootstraps (mulberry32): same seed, same resamples. */
function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The q-quantile of sorted values (linear interpolation between order statistics). */
function quantileSorted(v: Float64Array, q: number): number {
  const h = (v.length - 1) * q;
  const lo = Math.floor(h);
  return v[lo] + (h - lo) * ((v[Math.min(v.length - 1, lo + 1)] ?? v[lo]) - v[lo]);
}

export interface PairedBootstrap extends Interval {
  /** Two-sided p: twice the smaller share of resampled differences on either side of 0 (capped at 1). */
  p: number;
  resamples: number;
}

/**
 * Percentile bootstrap over items of mean(a) − mean(b), a[i] and b[i] of the same item (e.g. each model's
 * correctness on test item i, averaged over seeds). With b all zero it is the plain bootstrap of mean(a).
 */
export function pairedBootstrap(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  o: { resamples?: number; seed?: number; level?: number } = {},
): PairedBootstrap {
  if (a.length !== b.length) throw new Error(`pairedBootstrap: ${a.length} items against ${b.length}`);
  const n = a.length;
  const R = o.resamples ?? 2000;
  const level = o.level ?? 0.95;
  const d = Float64Array.from({ length: n }, (_, i) => a[i] - b[i]);
  const estimate = n ? d.reduce((x, y) => x + y, 0) / n : NaN;
  if (n === 0) return { estimate, lo: NaN, hi: NaN, p: NaN, resamples: 0 };
  const rand = mulberry32(o.seed ?? 12345);
  const stats = new Float64Array(R);
  let below = 0;
  let above = 0;
  for (let r = 0; r < R; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[Math.floor(rand() * n)];
    const m = s / n;
    stats[r] = m;
    if (m <= 0) below++;
    if (m >= 0) above++;
  }
  stats.sort();
  const alpha = (1 - level) / 2;
  return {
    estimate,
    lo: quantileSorted(stats, alpha),
    hi: quantileSorted(stats, 1 - alpha),
    p: Math.min(1, (2 * Math.min(below, above)) / R),
    resamples: R,
  };
}
