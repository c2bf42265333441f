// Both methods' models behind the one Classifier interface, trained by the same harness: the QD-LLM students
// (quantum on embeddings, MLP, a transformer on token ids) and the quantum head with its baselines.
import { describe, expect, it } from 'vitest';
import type { SplitName } from '../../../core/data/names';
import {
  featureClassifier,
  type ClassificationData,
  type Classifier,
} from '../../../core/methods/harness/classifier';
import { runComparison } from '../../../core/methods/harness/compare';
import type { ModelSpec } from '../../../core/methods/harness/fit';
import type { TeacherSplit } from '../../../core/methods/qdllm/cache';
import { QdllmConfigSchema } from '../../../core/methods/qdllm/schema';
import type { StudentData } from '../../../core/methods/qdllm/students';
import { qdllmSeedPlan, studentSpecs } from '../../../core/methods/qdllm/train';
import type { HeadShape } from '../../../core/methods/qhead/circuits';
import { logisticModel } from '../../../core/methods/qhead/models';
import {
  baselineSpecs,
  headData,
  qheadSeedPlan,
  quantumHeadSpec,
  type EmbeddedSplits,
} from '../../../core/methods/qhead/train';
import { zeroGrad } from '../../../core/nn/tensor';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import { createSimulatorFor } from '../../../core/quantum/sampled-simulators';
import { Rng } from '../../../core/util/rng';
import { tinyQdllm, TINY_TRANSFORMER_STUDENT } from '../../helpers/tiny-configs';

const C = 2;
const SIZES: Record<SplitName, number> = { train: 12, validation: 6, test: 6 };
const rows = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

function teacherSplit(n: number, E: number, rng: Rng): TeacherSplit {
  const labels = Int32Array.from({ length: n }, (_, i) => i % C);
  const embeddings = new Float64Array(n * E);
  rng.fillNormal(embeddings, 1);
  const logits = new Float64Array(n * C);
  for (let i = 0; i < n; i++) logits[i * C + labels[i]] = 2; // a confident, correct teacher
  const lengths = Array.from({ length: n }, (_, i) => 3 + (i % 4));
  const offsets = Int32Array.from([
    0,
    ...lengths.map((_, i) => lengths.slice(0, i + 1).reduce((a, b) => a + b)),
  ]);
  const ids = Int32Array.from({ length: offsets[n] }, () => 1 + rng.int(19));
  return { labels, embeddings, logits, tokens: { offsets, ids } };
}

function embedded(n: number, d: number, rng: Rng) {
  const x = new Float64Array(n * d);
  rng.fillNormal(x, 1);
  return { x, y: Int32Array.from({ length: n }, (_, i) => i % C), n, dim: d };
}

/** One forward and backward through the interface: logits (B, C), a gradient on every parameter. */
async function exercise(clf: Classifier, B: number) {
  const params = clf.parameters();
  zeroGrad(params);
  const logits = await clf.forward(rows(B), 'train');
  expect(logits).toHaveLength(B * C);
  expect(logits.every(Number.isFinite)).toBe(true);
  await clf.backward(Float64Array.from({ length: B * C }, (_, i) => (i % 2 ? 0.3 : -0.2)));
  for (const p of params)
    expect(
      p.grad.some((g) => g !== 0),
      p.name,
    ).toBe(true);
}

const options = (plan: ReturnType<typeof qdllmSeedPlan>) => ({
  epochs: 2,
  batchSize: 4,
  seeds: 2,
  plan,
  reference: 'quantum',
});

describe('QD-LLM students as Classifiers', () => {
  const E = 6;
  const rng = new Rng(3);
  const data: StudentData = {
    train: teacherSplit(SIZES.train, E, rng),
    validation: teacherSplit(SIZES.validation, E, rng),
    test: teacherSplit(SIZES.test, E, rng),
  };
  const cfg = QdllmConfigSchema.parse(tinyQdllm({ transformerStudent: TINY_TRANSFORMER_STUDENT }));
  const sim = createCpuSimulator({ precision: 'f64' });
  const specs = studentSpecs(cfg, { data, E, C, vocabSize: 20, sim, hidden: 3 });
  const labels: ClassificationData = {
    classes: C,
    labels: { train: data.train.labels, validation: data.validation.labels, test: data.test.labels },
  };

  it('quantum (embeddings), MLP (embeddings) and transformer (token ids) read rows of the teacher splits', async () => {
    expect(specs.map((s) => s.key)).toEqual(['quantum', 'mlp', 'transformer']);
    for (const s of specs) await exercise(await s.build(1), 5);
  });

  it('train on the harness with the distillation loss, every model over every seed', async () => {
    const c = await runComparison(specs, labels, options(qdllmSeedPlan(7)), { metrics: () => {} });
    for (const m of c.models) {
      expect(m.runs).toHaveLength(2);
      for (const r of m.runs) {
        expect(r.predictions).toHaveLength(SIZES.test);
        expect(r.params).toBeGreaterThan(0);
        expect(r.finalLoss).toBeGreaterThan(0);
      }
    }
    expect(c.models[0].runs[0].params).toBe(E * 2 + 2 + 1 * (7 * 2 - 1) + 2 * C + C);
  });
});

describe('quantum head and baselines as Classifiers', () => {
  const d = 4;
  const rng = new Rng(5);
  const splits: EmbeddedSplits = {
    train: embedded(SIZES.train, d, rng),
    validation: embedded(SIZES.validation, d, rng),
    test: embedded(SIZES.test, d, rng),
  };
  const shape: HeadShape = {
    dim: d,
    classes: C,
    encoders: 1,
    encoderDepth: 1,
    qubits: 2,
    depth: 1,
    finalDepth: 1,
    reuploads: 1,
    connectivity: 1,
    measured: 1,
    skip: true,
    bias: 1,
  };
  const simFor = (seed: number) =>
    createSimulatorFor({ shots: null, trajectories: 1, seed, precision: 'f64' });
  const ran = new Map();
  const specs: ModelSpec[] = [
    quantumHeadSpec(splits, shape, [0.05], simFor, ran),
    ...baselineSpecs(splits, C, 2, [0.05]),
  ];

  it('the head, logistic regression and the MLP read rows of the embedded splits', async () => {
    expect(specs.map((s) => s.key)).toEqual(['quantum', 'logreg', 'mlp']);
    for (const s of specs) {
      const clf = await s.build(2);
      await exercise(clf, 5);
      clf.dispose?.();
    }
    // disposing the head records the widths its circuits ran at
    expect([...ran.keys()].sort()).toEqual([2, 3]);
  });

  it('a feature classifier gathers exactly the asked rows', async () => {
    const m = logisticModel(d, C, 1);
    const clf = featureClassifier(
      m,
      { train: splits.train.x, validation: splits.validation.x, test: splits.test.x },
      d,
    );
    const picked = Int32Array.of(4, 0, 9);
    const a = Float64Array.from(await clf.forward(picked, 'train'));
    const x = Float64Array.from(
      [4, 0, 9].flatMap((r) => Array.from(splits.train.x.subarray(r * d, (r + 1) * d))),
    );
    expect(a).toEqual(Float64Array.from(await m.forward(x, 3)));
  });

  it('train on the harness with cross-entropy', async () => {
    const c = await runComparison(specs, headData(splits, C), options(qheadSeedPlan(7)), {
      metrics: () => {},
    });
    expect(c.models.map((m) => m.runs.length)).toEqual([2, 2, 2]);
    expect(c.models[1].runs[0].params).toBe(d * C + C);
  });
});
