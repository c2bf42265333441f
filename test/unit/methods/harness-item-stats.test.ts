// Intervals and paired tests over test items against textbook values.
import { describe, expect, it } from 'vitest';
import {
  chiSquare1Sf,
  discordant,
  erfc,
  mcnemar,
  pairedBootstrap,
  wilsonInterval,
} from '../../../core/methods/harness/stats';

describe('Wilson score interval', () => {
  it('8 of 10: 0.4902 – 0.9433 (Newcombe 1998, method 3)', () => {
    const w = wilsonInterval(8, 10);
    expect(w.estimate).toBe(0.8);
    expect(w.lo).toBeCloseTo(0.490162, 6);
    expect(w.hi).toBeCloseTo(0.943318, 6);
  });

  it('0 of 10: 0 – z²/(n + z²) = 0.2775', () => {
    const z2 = 1.959963984540054 ** 2;
    const w = wilsonInterval(0, 10);
    expect(w.lo).toBe(0);
    expect(w.hi).toBeCloseTo(z2 / (10 + z2), 12);
  });

  it('81 of 263: 0.2553 – 0.3662 (Wikipedia, binomial proportion confidence interval)', () => {
    const w = wilsonInterval(81, 263);
    expect(w.lo).toBeCloseTo(0.2553, 4);
    expect(w.hi).toBeCloseTo(0.3662, 4);
  });

  it('with 40 items an accuracy near 0.85 is about ±0.11 wide', () => {
    const w = wilsonInterval(34, 40);
    expect(w.hi - w.lo).toBeGreaterThan(0.2);
  });
});

describe('McNemar', () => {
  it('exact: b = 1, c = 9 gives 2·(1 + 10)/2¹⁰ = 0.021484375', () => {
    expect(mcnemar(1, 9).pExact).toBeCloseTo(22 / 1024, 14);
    expect(mcnemar(9, 1).pExact).toBeCloseTo(22 / 1024, 14);
  });

  it('χ² with continuity: b = 121, c = 59 gives (62 − 1)²/180 = 20.672 (Wikipedia example)', () => {
    const t = mcnemar(121, 59);
    expect(t.chi2).toBeCloseTo(3721 / 180, 12);
    expect(t.pChi2).toBeCloseTo(5.45e-6, 7);
  });

  it('no discordant pair: p = 1; equal counts: p = 1', () => {
    expect(mcnemar(0, 0).pExact).toBe(1);
    expect(mcnemar(5, 5).pExact).toBe(1);
  });

  it('counts discordant items against the labels', () => {
    expect(discordant([0, 1, 1, 0], [0, 0, 1, 1], [0, 1, 0, 0])).toEqual({ b: 2, c: 0 });
  });

  it('χ²₁ tail and erfc at known points', () => {
    expect(chiSquare1Sf(3.841458820694124)).toBeCloseTo(0.05, 12);
    expect(erfc(0.5)).toBeCloseTo(0.4795001221869535, 14);
    expect(erfc(2)).toBeCloseTo(0.004677734981047266, 15);
    expect(erfc(-1)).toBeCloseTo(2 - 0.1572992070502851, 14);
  });
});

describe('paired bootstrap over items', () => {
  const a = [1, 1, 1, 0, 1, 1, 0, 1, 1, 1];
  const b = [0, 1, 0, 0, 1, 0, 0, 1, 0, 1];

  it('estimates mean(a) − mean(b), is seeded, and its interval is near the normal one', () => {
    const r = pairedBootstrap(a, b, { resamples: 20000, seed: 7 });
    expect(r.estimate).toBeCloseTo(0.4, 12);
    expect(pairedBootstrap(a, b, { resamples: 20000, seed: 7 })).toEqual(r);
    // d has four 1s and six 0s: sd of the mean √(0.24/10) = 0.155; percentile bounds on the grid of 0.1
    expect(r.lo).toBeGreaterThanOrEqual(0.1 - 1e-12);
    expect(r.hi).toBeLessThanOrEqual(0.7 + 1e-12);
    expect(r.p).toBeLessThan(0.05);
  });

  it('identical models: difference 0 and p = 1', () => {
    const r = pairedBootstrap(a, a);
    expect(r.estimate).toBe(0);
    expect(r.p).toBe(1);
  });
});
