// The test split is handed over only through the comparison's final evaluation: a method that reads it
// earlier (through its classifier or through data sealed with the run's gate) fails.
import { describe, expect, it } from 'vitest';
import {
  crossEntropyLoss,
  featureClassifier,
  sealTest,
  TestGate,
  type ClassificationData,
  type Classifier,
  type FeatureModel,
} from '../../../core/methods/harness/classifier';
import { runComparison } from '../../../core/methods/harness/compare';
import { fitClassifier, type ModelSpec } from '../../../core/methods/harness/fit';
import { Parameter } from '../../../core/nn/tensor';

const n = { train: 8, validation: 4, test: 4 };
const lab = (k: number) => Int32Array.from({ length: k }, (_, i) => i % 2);
const feats = (k: number) => Float64Array.from({ length: 2 * k }, (_, i) => (i % 2 === (i >> 1) % 2 ? 1 : 0));
const plan = { order: () => 1, init: () => 2 };
const schedule = { epochs: 2, batchSize: 4, seeds: 1, plan, reference: 'm' };

/** A 2 → 2 linear model. */
function linear(): FeatureModel {
  const w = new Parameter('w', [4], 'f64');
  let x: Float64Array = new Float64Array(0);
  let B = 0;
  return {
    parameters: () => [w],
    forward(input, b) {
      x = input;
      B = b;
      const out = new Float64Array(2 * b);
      for (let i = 0; i < b; i++)
        for (let c = 0; c < 2; c++)
          out[i * 2 + c] = x[i * 2] * w.data[c * 2] + x[i * 2 + 1] * w.data[c * 2 + 1];
      return out;
    },
    backward(d) {
      for (let i = 0; i < B; i++)
        for (let c = 0; c < 2; c++)
          for (let k = 0; k < 2; k++) w.grad![c * 2 + k] += d[i * 2 + c] * x[i * 2 + k];
    },
  };
}

function setup(peek: 'never' | 'data' | 'forward') {
  const gate = new TestGate();
  const features = sealTest(
    { train: feats(n.train), validation: feats(n.validation), test: feats(n.test) },
    gate,
    'm',
  );
  const data: ClassificationData = {
    classes: 2,
    labels: sealTest(
      { train: lab(n.train), validation: lab(n.validation), test: lab(n.test) },
      gate,
      'labels',
    ),
  };
  const spec: ModelSpec = {
    key: 'm',
    label: 'model',
    lrs: [0.1],
    loss: crossEntropyLoss(2),
    build: () => {
      const inner = featureClassifier(linear(), features, 2);
      const clf: Classifier = {
        parameters: () => inner.parameters(),
        forward(rows, split) {
          // a method that "early-stops on test" or standardises with test statistics
          if (split === 'train' && peek === 'data') void features.test.length;
          if (split === 'train' && peek === 'forward') void inner.forward(Int32Array.of(0), 'test');
          return inner.forward(rows, split);
        },
        backward: (d) => inner.backward(d),
      };
      return clf;
    },
  };
  return { gate, data, spec };
}

describe('the test split is sealed until the final evaluation', () => {
  it('a method that reads only train and validation while fitting runs, and test is read at the end', async () => {
    const { gate, data, spec } = setup('never');
    const c = await runComparison([spec], data, { ...schedule, gate }, { metrics: () => {} });
    expect(c.models[0].runs[0].test.n).toBe(n.test);
    expect(gate.isOpen).toBe(false);
  });

  it('a method that reads sealed test data before its final evaluation fails', async () => {
    const { gate, data, spec } = setup('data');
    await expect(runComparison([spec], data, { ...schedule, gate }, { metrics: () => {} })).rejects.toThrow(
      /m: the test split was read before the final evaluation/,
    );
  });

  it('a classifier asked for test rows during the search fails, also in a bare fit', async () => {
    const { gate, data, spec } = setup('never');
    const peeking: ModelSpec = {
      ...spec,
      build: async (seed) => {
        const inner = await spec.build(seed);
        return {
          ...inner,
          parameters: () => inner.parameters(),
          forward: (rows, split) => inner.forward(rows, split === 'train' ? 'test' : split),
        };
      },
    };
    await expect(
      runComparison([peeking], data, { ...schedule, gate }, { metrics: () => {} }),
    ).rejects.toThrow(/the test split was read before the final evaluation/);
    await expect(fitClassifier(peeking, data, schedule, { order: 1, init: 2 })).rejects.toThrow(
      /before the final evaluation/,
    );
  });

  it('the gate opens only inside during()', async () => {
    const gate = new TestGate();
    const s = sealTest({ train: 1, validation: 2, test: 3 }, gate, 'x');
    expect(() => s.test).toThrow(/x: the test split was read/);
    expect(await gate.during(async () => s.test)).toBe(3);
    expect(() => s.test).toThrow();
  });
});
