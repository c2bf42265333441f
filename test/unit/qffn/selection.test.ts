// Validation's choice among one model's learning-rate candidates (core/methods/qffn/train.ts): the lowest last
// validation perplexity, not the best point of the curve, not the training loss; a diverged candidate never wins.
import { describe, expect, it } from 'vitest';
import { lastValidation, selectByValidation, type TrainedLm } from '../../../core/methods/qffn/train';

const run = (lr: number, val: number[], finalLoss = 1): { trained: TrainedLm } => ({
  trained: {
    lr,
    valSeries: val.map((v, i) => [i * 10, v]),
    losses: new Float64Array(0),
    trainSeconds: 1,
    trainTokensPerSecond: 1,
    peakRssMb: 1,
    finalLoss,
  },
});

describe('selectByValidation', () => {
  it('picks the lowest last validation perplexity', () => {
    const a = run(1e-3, [50, 40, 30]);
    const b = run(3e-3, [50, 20, 31], 0.1); // better curve minimum and training loss, worse last reading
    const c = run(1e-2, [50, 35, 29.5], 5);
    expect(selectByValidation([a, b, c])).toBe(c);
    expect(selectByValidation([b, a])).toBe(a);
  });

  it('a diverged (NaN or ∞) candidate loses; ties keep the first', () => {
    const a = run(1e-3, [50, 40]);
    const nan = run(1e-2, [50, NaN]);
    expect(lastValidation(nan.trained)).toBe(Infinity);
    expect(selectByValidation([nan, a])).toBe(a);
    const a2 = run(3e-3, [50, 40]);
    expect(selectByValidation([a, a2])).toBe(a);
  });
});
