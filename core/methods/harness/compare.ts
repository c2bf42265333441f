// A quantum model beside its baselines over K seeds: in every repetition each model gets the same data, the
// same batches (one shuffle stream per repetition), the same number of learning-rate candidates, and is
// selected on validation; the test split is then evaluated once per model and repetition.
import type { MetricPoint } from '../job';
import { TestGate, type ClassificationData } from './classifier';
import { fitClassifier, SplitEvaluator, type ModelSpec, type Schedule, type Selection } from './fit';
import { ResourceMeter } from './meter';
import { argmaxRows, classificationReport, type ClassificationReport } from './metrics';

/** Where each repetition's randomness comes from. */
export interface SeedPlan {
  /** Seed of repetition k's data order: every model and every candidate sees the same batches. */
  order(k: number): number;
  /** Seed of model m's initialisation (and its simulator's sampling) in repetition k. */
  init(k: number, m: number): number;
}

export interface ComparisonOptions extends Schedule {
  /** K repetitions. */
  seeds: number;
  plan: SeedPlan;
  /** Key of the model the paired tests compare every other model against (the quantum one). */
  reference: string;
  /**
   * The test split's lock: the method seals its test data with it (classifier.ts sealTest) and the
   * comparison opens it only for each model's final evaluation. Absent, a fresh one guards the classifiers.
   */
  gate?: TestGate;
}

export interface ComparisonHooks {
  signal?: AbortSignal;
  metrics(points: MetricPoint[]): void;
  /** Fraction of the comparison done, with `seed k/K: <model>`. */
  progress?(fraction: number, message: string): void;
}

/** One model in one repetition. */
export interface SeedRun extends Selection {
  seedIndex: number;
  /** Its initialisation seed. */
  seed: number;
  params: number;
  test: ClassificationReport;
  /** Predicted class of every test row. */
  predictions: Int32Array;
  /** Training time of the selected candidate, s (training steps only; validation passes not counted). */
  trainSeconds: number;
  epochSeconds: number;
  /** Every candidate's training and validation, s. */
  searchSeconds: number;
  inferSecondsPerSample: number;
  peakRssMb: number;
  peakHeapMb: number;
  finalLoss: number;
}

export interface ModelResult {
  key: string;
  label: string;
  runs: SeedRun[];
}

export interface Comparison {
  models: ModelResult[];
  reference: string;
  seeds: number;
  classes: number;
  /** Learning-rate candidates per model (the tuning budget). */
  candidates: number;
  /** Labels of the test rows (read in the final evaluation), for item-level intervals and paired tests. */
  testLabels: Int32Array;
}

/** The models' candidate counts must agree: a model tuned over more learning rates has an unfair advantage. */
function checkBudget(models: ModelSpec[], reference: string): number {
  const n = models[0]?.lrs.length ?? 0;
  const off = models.find((m) => m.lrs.length !== n);
  if (off)
    throw new Error(
      `every model gets the same tuning budget: ${models[0].key} has ${n} learning rate(s), ${off.key} ${off.lrs.length}`,
    );
  if (!models.some((m) => m.key === reference))
    throw new Error(`reference model ${reference} is not among ${models.map((m) => m.key).join(', ')}`);
  return n;
}

export async function runComparison(
  models: ModelSpec[],
  data: ClassificationData,
  o: ComparisonOptions,
  hooks: ComparisonHooks,
): Promise<Comparison> {
  const candidates = checkBudget(models, o.reference);
  const gate = o.gate ?? new TestGate();
  const C = data.classes;
  const evalBatch = o.evalBatch ?? Math.max(64, o.batchSize);
  const results: ModelResult[] = models.map((m) => ({ key: m.key, label: m.label, runs: [] }));
  const total = o.seeds * o.epochs * models.reduce((a, m) => a + (m.cost ?? 1) * m.lrs.length, 0);
  let done = 0;
  let testLabels: Int32Array = new Int32Array(0);
  for (let k = 0; k < o.seeds; k++)
    for (const [mi, spec] of models.entries()) {
      const prefix = `${spec.key}/seed${k}`;
      const seed = o.plan.init(k, mi);
      const meter = new ResourceMeter().start();
      const fit = await fitClassifier(
        spec,
        data,
        o,
        { order: o.plan.order(k), init: seed },
        {
          signal: hooks.signal,
          gate,
          metric: (key, step, value) => hooks.metrics([{ key: `${prefix}/${key}`, step, value }]),
          // each seed's (and candidate's) steps from its own 0, under its own key: no series joins seeds
          steps: (key, first, losses) =>
            hooks.metrics(
              Array.from(losses, (value, i) => ({ key: `${prefix}/${key}`, step: first + i, value })),
            ),
          onEpoch: () => {
            done += spec.cost ?? 1;
            meter.sample();
            hooks.progress?.(done / total, `seed ${k + 1}/${o.seeds}: ${spec.key}`);
          },
        },
      ).catch((e: unknown) => {
        meter.stop();
        throw e;
      });
      try {
        // the one reading of the test split for this model and repetition: the gate is open only here
        const { test, seconds, labels } = await gate.during(async () => {
          const ev = new SplitEvaluator(data, 'test', spec.loss, evalBatch);
          const t0 = performance.now();
          await ev.run(fit.classifier, hooks.signal);
          return { test: ev, seconds: (performance.now() - t0) / 1000, labels: data.labels.test };
        });
        const inferSecondsPerSample = seconds / Math.max(1, test.n);
        const reading = meter.stop();
        const predictions = argmaxRows(test.logits, test.n, C);
        const report = classificationReport(labels, predictions, C);
        testLabels = labels;
        hooks.metrics([
          { key: `${prefix}/test_acc`, step: fit.epoch, value: report.accuracy },
          { key: `${prefix}/test_f1_macro`, step: fit.epoch, value: report.f1.macro },
        ]);
        results[mi].runs.push({
          seedIndex: k,
          seed,
          lr: fit.lr,
          lrIndex: fit.lrIndex,
          epoch: fit.epoch,
          valAcc: fit.valAcc,
          valLoss: fit.valLoss,
          params: fit.params,
          test: report,
          predictions,
          trainSeconds: fit.trainSeconds,
          epochSeconds: fit.trainSeconds / Math.max(1, fit.epochsRun),
          searchSeconds: fit.searchSeconds,
          inferSecondsPerSample,
          peakRssMb: reading.peakRssMb,
          peakHeapMb: reading.peakHeapMb,
          finalLoss: fit.finalLoss,
        });
      } finally {
        meter.stop();
        fit.classifier.dispose?.();
      }
    }
  return { models: results, reference: o.reference, seeds: o.seeds, classes: C, candidates, testLabels };
}
