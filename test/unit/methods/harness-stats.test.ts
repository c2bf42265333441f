import { describe, expect, it } from 'vitest';
import {
  incompleteBeta,
  logGamma,
  meanInterval,
  pairedTTest,
  tCdf,
  tQuantile,
} from '../../../core/methods/harness/stats';

// Closed forms of Student's t for 1 and 2 degrees of freedom (Cauchy, and F(t) = ½ + t / (2√(2 + t²))).
const cdf1 = (t: number) => 0.5 + Math.atan(t) / Math.PI;
const cdf2 = (t: number) => 0.5 + t / (2 * Math.sqrt(2 + t * t));
const q1 = (p: number) => Math.tan(Math.PI * (p - 0.5));
const q2 = (p: number) => {
  const a = 2 * p - 1;
  return a * Math.sqrt(2 / (1 - a * a));
};

describe('Student t distribution', () => {
  it('CDF matches the closed forms for 1 and 2 degrees of freedom', () => {
    for (const t of [-30, -4.2, -1, -0.1, 0, 0.3, 1.3, 2.5, 12]) expect(tCdf(t, 1)).toBeCloseTo(cdf1(t), 13);
    for (const t of [-9, -2, -0.5, 0, 0.7, 3.1, 40]) expect(tCdf(t, 2)).toBeCloseTo(cdf2(t), 13);
    expect(tCdf(Infinity, 3)).toBe(1);
    expect(tCdf(-Infinity, 3)).toBe(0);
  });

  it('quantiles invert the closed forms and match the printed table', () => {
    for (const p of [0.6, 0.9, 0.975, 0.995, 0.025]) {
      expect(tQuantile(p, 1)).toBeCloseTo(q1(p), 9);
      expect(tQuantile(p, 2)).toBeCloseTo(q2(p), 10);
    }
    expect(tQuantile(0.975, 1)).toBeCloseTo(12.7062047, 6);
    // two-sided 95 % values (any statistics table; R's qt(0.975, df))
    const table: [number, number][] = [
      [3, 3.182446],
      [5, 2.570582],
      [7, 2.364624],
      [10, 2.228139],
      [30, 2.042272],
      [100, 1.983972],
    ];
    for (const [dof, t] of table) expect(tQuantile(0.975, dof)).toBeCloseTo(t, 6);
    expect(tQuantile(0.5, 4)).toBe(0);
    expect(tQuantile(0.1, 6)).toBeCloseTo(-tQuantile(0.9, 6), 12);
    // large dof tends to the normal quantile
    expect(tQuantile(0.975, 1e7)).toBeCloseTo(1.959964, 5);
    expect(() => tQuantile(1, 3)).toThrow(/p must be in \(0, 1\)/);
    expect(() => tQuantile(0.9, 0)).toThrow(/degrees of freedom must be positive/);
  });

  it('logGamma and the incomplete beta agree with exact values', () => {
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
    // I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 − (1 − x)^b
    expect(incompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 13);
    expect(incompleteBeta(0.7, 3, 1)).toBeCloseTo(0.343, 13);
    expect(incompleteBeta(0.2, 1, 4)).toBeCloseTo(1 - 0.8 ** 4, 13);
  });
});

describe('interval of a mean over seeds', () => {
  it('is mean ± t(0.975, n − 1)·s/√n', () => {
    const m = meanInterval([1, 2, 3, 4]);
    expect(m.mean).toBe(2.5);
    expect(m.std).toBeCloseTo(Math.sqrt(5 / 3), 14);
    expect(m.half).toBeCloseTo((3.182446305 * Math.sqrt(5 / 3)) / 2, 8);
    expect(m.lo).toBeCloseTo(2.5 - m.half, 14);
    expect(m.dof).toBe(3);
    // two values: t(1) = tan(0.475π)
    const two = meanInterval([0.5, 0.7]);
    expect(two.half).toBeCloseTo((q1(0.975) * Math.sqrt(0.02)) / Math.sqrt(2), 10);
    expect(Number.isNaN(meanInterval([0.8]).half)).toBe(true);
  });
});

describe('paired t-test', () => {
  it('reproduces the textbook sleep-data example (Student 1908; R: t.test(paired = TRUE))', () => {
    // extra hours of sleep of the same 10 patients under two drugs
    const a = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
    const b = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];
    const r = pairedTTest(a, b);
    expect(r.n).toBe(10);
    expect(r.dof).toBe(9);
    expect(r.meanDiff).toBeCloseTo(-1.58, 12);
    expect(r.t).toBeCloseTo(-4.062128, 5);
    expect(r.p).toBeCloseTo(0.002833, 6);
    expect(r.lo).toBeCloseTo(-2.4598858, 6);
    expect(r.hi).toBeCloseTo(-0.7001142, 6);
  });

  it('matches the closed form for 2 degrees of freedom', () => {
    // differences 1, 2, 3: mean 2, sd 1, t = 2√3; two-sided p = 1 − t/√(2 + t²)
    const r = pairedTTest([1, 2, 3], [0, 0, 0]);
    const t = 2 * Math.sqrt(3);
    expect(r.t).toBeCloseTo(t, 12);
    expect(r.p).toBeCloseTo(1 - t / Math.sqrt(2 + t * t), 12);
    // swapping the models flips the sign, not p
    const s = pairedTTest([0, 0, 0], [1, 2, 3]);
    expect(s.t).toBeCloseTo(-t, 12);
    expect(s.p).toBeCloseTo(r.p, 14);
  });

  it('edge cases: equal differences, no differences, one pair, mismatched lengths', () => {
    expect(pairedTTest([0.9, 0.8], [0.7, 0.6])).toMatchObject({ t: Infinity, p: 0 });
    const none = pairedTTest([0.5, 0.6], [0.5, 0.6]);
    expect(none.p).toBe(1);
    expect(Number.isNaN(none.t)).toBe(true);
    expect(Number.isNaN(pairedTTest([1], [0]).p)).toBe(true);
    expect(() => pairedTTest([1, 2], [1])).toThrow(/2 values against 1/);
  });
});
