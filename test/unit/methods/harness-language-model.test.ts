import { describe, expect, it } from 'vitest';
import {
  LanguageModelEvaluation,
  perplexity,
  type LanguageModel,
} from '../../../core/methods/harness/language-model';
import { Transformer } from '../../../core/nn/transformer';
import { Rng } from '../../../core/util/rng';

const V = 13;
const stream = (n: number, seed: number) => {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, () => rng.int(V));
};

/** Equal logits everywhere: every token costs ln V, whatever the context. Records what it was asked. */
function uniform(calls: { B: number; T: number; targets: number[] }[]): LanguageModel {
  return {
    parameters: () => [],
    lmForward(_tokens, B, T, targets) {
      calls.push({ B, T, targets: Array.from(targets ?? []) });
      return Math.log(V);
    },
    lmBackward() {},
  };
}

const tiny = () =>
  new Transformer(
    {
      flavour: 'llama',
      vocabSize: V,
      hiddenSize: 8,
      intermediateSize: 16,
      numLayers: 1,
      numHeads: 2,
      maxSeqLen: 8,
    },
    { dtype: 'f64', seed: 4 },
  );

describe('perplexity of a causal LM over a token stream', () => {
  it('is V for a uniform model, predicting every token but the first exactly once', () => {
    const calls: { B: number; T: number; targets: number[] }[] = [];
    const s = stream(23, 1); // 22 predictions: windows of 5 → 4 full + one of 2
    const r = perplexity(uniform(calls), s, { seqLen: 5, batchSize: 2 });
    expect(r.perplexity).toBeCloseTo(V, 12);
    expect(r.tokens).toBe(22);
    expect(r.windows).toBe(5);
    expect(calls.map((c) => c.B)).toEqual([2, 2, 1]);
    const targets = calls.flatMap((c) => c.targets).filter((t) => t !== -100);
    expect(targets).toEqual(Array.from(s.subarray(1)));
  });

  it('equals exp of the mean next-token NLL of a real transformer, window by window', () => {
    const model = tiny();
    const s = stream(20, 2); // 19 predictions in windows of 8: 8, 8, 3
    const r = perplexity(model, s, { seqLen: 8, batchSize: 3 });
    // the same windows one at a time, each at its own length (no padding)
    let nll = 0;
    for (let a = 0; a < 19; a += 8) {
      const T = Math.min(8, 19 - a);
      nll += T * model.lmForward(s.slice(a, a + T), 1, T, s.slice(a + 1, a + 1 + T));
    }
    expect(r.nll).toBeCloseTo(nll / 19, 12);
    expect(r.perplexity).toBeCloseTo(Math.exp(nll / 19), 10);
    // a model that has learnt nothing is near uniform, never better than a perfect predictor
    expect(r.perplexity).toBeGreaterThan(1);
  });

  it('reads validation as often as asked and test once', () => {
    const e = new LanguageModelEvaluation(
      uniform([]),
      { validation: stream(9, 3), test: stream(9, 4) },
      { seqLen: 4, batchSize: 4 },
    );
    expect(e.validation().perplexity).toBeCloseTo(V, 12);
    expect(e.validation().tokens).toBe(8);
    expect(e.test().perplexity).toBeCloseTo(V, 12);
    expect(() => e.test()).toThrow(/test split was already evaluated/);
    expect(() => perplexity(uniform([]), Int32Array.of(1), { seqLen: 4, batchSize: 1 })).toThrow(
      /at least two tokens/,
    );
  });
});
