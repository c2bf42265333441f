import { describe, expect, it } from 'vitest';
import {
  argmaxRows,
  classificationReport,
  formatMeanStd,
  meanStd,
} from '../../../core/methods/harness/metrics';

describe('classificationReport', () => {
  // Hand-computed (and identical to scikit-learn's classification_report on the same labels).
  const yTrue = [0, 0, 0, 1, 1, 2, 2, 2, 2, 2];
  const yPred = [0, 1, 0, 1, 1, 2, 0, 2, 2, 1];
  const r = classificationReport(yTrue, yPred, 3);

  it('counts the confusion matrix with true classes as rows', () => {
    expect(r.confusion).toEqual([
      [2, 1, 0],
      [0, 2, 0],
      [1, 1, 3],
    ]);
    expect(r.support).toEqual([3, 2, 5]);
    expect(r.accuracy).toBeCloseTo(0.7, 12);
  });

  it('computes per-class, macro and weighted precision, recall and F1', () => {
    expect(r.precision.perClass[0]).toBeCloseTo(2 / 3, 12);
    expect(r.precision.perClass[1]).toBeCloseTo(2 / 4, 12);
    expect(r.precision.perClass[2]).toBeCloseTo(1, 12);
    expect(r.recall.perClass).toEqual([2 / 3, 1, 3 / 5]);
    const f1 = [2 / 3, (2 * 0.5 * 1) / 1.5, (2 * 1 * 0.6) / 1.6];
    r.f1.perClass.forEach((v, i) => expect(v).toBeCloseTo(f1[i], 12));
    expect(r.f1.macro).toBeCloseTo((f1[0] + f1[1] + f1[2]) / 3, 12);
    expect(r.f1.weighted).toBeCloseTo((3 * f1[0] + 2 * f1[1] + 5 * f1[2]) / 10, 12);
    expect(r.precision.macro).toBeCloseTo((2 / 3 + 0.5 + 1) / 3, 12);
  });

  it('gives precision 0 to a class never predicted and rejects labels out of range', () => {
    const z = classificationReport([0, 1], [0, 0], 2);
    expect(z.precision.perClass[1]).toBe(0);
    expect(z.f1.perClass[1]).toBe(0);
    expect(() => classificationReport([0, 3], [0, 0], 2)).toThrow(/row 1/);
  });
});

describe('helpers', () => {
  it('argmaxRows picks the first maximum per row', () => {
    expect(Array.from(argmaxRows([0.1, 0.9, 0.5, 0.5, 2, -1], 3, 2))).toEqual([1, 0, 0]);
  });
  it('meanStd uses the sample standard deviation', () => {
    const { mean, std } = meanStd([1, 2, 3, 4]);
    expect(mean).toBe(2.5);
    expect(std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(meanStd([7]).std).toBe(0);
    expect(formatMeanStd([1, 3], 2)).toBe('2.00 ± 1.41');
  });
});
