// What the quantum head hands the comparison harness: its embedded splits as a dataset, the head and its
// baselines (logistic regression, the parameter-matched MLP) as model specs on cross-entropy, and the seeds.
import type { SplitName } from '../../data/names';
import { MlpClassifier } from '../../nn/mlp';
import type { Simulator } from '../../quantum/backend';
import { recordingSimulator, type RanByWidth } from '../../quantum/simulators';
import {
  crossEntropyLoss,
  featureClassifier,
  type ClassificationData,
  type Classifier,
  type FeatureModel,
} from '../harness/classifier';
import type { SeedPlan } from '../harness/compare';
import type { ModelSpec } from '../harness/fit';
import type { HeadShape } from './circuits';
import type { EmbeddedSplit } from './encoder';
import { logisticModel, quantumHead } from './models';

export type EmbeddedSplits = Record<SplitName, EmbeddedSplit>;

/** One field of every split, read when asked (so splits sealed with the harness's test gate stay sealed). */
function lazyField<T>(s: EmbeddedSplits, f: (e: EmbeddedSplit) => T): Record<SplitName, T> {
  return {
    get train() {
      return f(s.train);
    },
    get validation() {
      return f(s.validation);
    },
    get test() {
      return f(s.test);
    },
  };
}

export function headData(s: EmbeddedSplits, classes: number): ClassificationData {
  return { classes, labels: lazyField(s, (e) => e.y) };
}

/** Seeds as qhead drew them before the harness: repetition k runs every model from run seed + k. */
export function qheadSeedPlan(runSeed: number): SeedPlan {
  return { order: (k) => (runSeed + k) ^ 0x1234567, init: (k) => runSeed + k };
}

function onEmbeddings(m: FeatureModel, s: EmbeddedSplits): Classifier {
  return featureClassifier(
    m,
    lazyField(s, (e) => e.x),
    s.train.dim,
  );
}

/**
 * The quantum head on its own simulator, seeded like the head (shots and trajectories); the widths its
 * circuits ran at are added to `ran` when the model is disposed.
 */
export function quantumHeadSpec(
  splits: EmbeddedSplits,
  shape: HeadShape,
  lrs: readonly number[],
  simFor: (seed: number) => Simulator,
  ran: RanByWidth,
): ModelSpec {
  return {
    key: 'quantum',
    label: 'quantum head',
    lrs,
    loss: crossEntropyLoss(shape.classes),
    build(seed) {
      const { sim, ran: own } = recordingSimulator(simFor(seed));
      const clf = onEmbeddings(quantumHead(shape, sim, seed), splits);
      return {
        ...clf,
        dispose() {
          sim.dispose();
          for (const [q, info] of own) ran.set(q, info);
        },
      };
    },
  };
}

/** Logistic regression and the d → hidden → C MLP, on the same embeddings and learning rates. */
export function baselineSpecs(
  splits: EmbeddedSplits,
  C: number,
  hidden: number,
  lrs: readonly number[],
): ModelSpec[] {
  const d = splits.train.dim;
  const loss = crossEntropyLoss(C);
  return [
    {
      key: 'logreg',
      label: `logistic regression (${d}→${C})`,
      lrs,
      loss,
      cost: 0.1,
      build: (seed) => onEmbeddings(logisticModel(d, C, seed), splits),
    },
    {
      key: 'mlp',
      label: `MLP ${d}-${hidden}-${C} (GELU)`,
      lrs,
      loss,
      cost: 0.1,
      build: (seed) => onEmbeddings(new MlpClassifier(d, hidden, C, seed, 'mlp'), splits),
    },
  ];
}
