// The models of a comparison (QTHA and its baselines on the same frozen base) and the training of one model in
// one repetition: the same batches (one seeded stream per repetition), the same AdamW recipe (warmup, cosine
// decay, clip), validation every evalEvery steps, the test split read once at the end; after it the base
// weights are checked byte-identical to their snapshot (only full fine-tuning may change its targets).
import { Linear } from '../../nn/layers';
import { applyLora } from '../../nn/lora';
import { AdamW, clipGradNorm, warmupCosine } from '../../nn/optim';
import { applyQtha } from '../../nn/qtha-adapter';
import type { QthaArchitecture } from '../../nn/qtha-sizes';
import { countParameters, zeroGrad, type Arr, type Parameter } from '../../nn/tensor';
import type { SyncSimulator } from '../../quantum/backend';
import { Rng } from '../../util/rng';
import { ResourceMeter } from '../harness/meter';
import type { MetricPoint } from '../job';
import { changedBaseWeights, resetBase, type Base } from './base';
import { alphaOf, type QthaConfig } from './schema';
import type { AdaptTask, Evaluation } from './tasks';

export type ModelKey = 'qtha' | 'lora-r' | 'lora-2r' | 'full';

export interface ModelPlan {
  key: ModelKey | string;
  label: string;
  role: 'quantum' | 'baseline';
  /** Puts the model's trainable part on the reset base; returns it (every other parameter frozen). */
  attach(base: Base, seed: number): Parameter[];
}

export interface QthaVariant {
  rank: number;
  architecture: QthaArchitecture;
}

export function qthaPlan(c: QthaConfig, v: QthaVariant, sim: SyncSimulator | null, key = 'qtha'): ModelPlan {
  const quantum = v.architecture.includes('C') && v.architecture !== 'ABC-silu';
  return {
    key,
    label: `QTHA ${v.architecture} (r = ${v.rank})`,
    role: quantum ? 'quantum' : 'baseline',
    attach(base, seed) {
      const adapters = applyQtha(base.model, new RegExp(c.targets), sim, {
        rank: v.rank,
        architecture: v.architecture,
        alpha: alphaOf(c, v.rank),
        width: c.mpoWidth,
        bond: c.mpoBond,
        vqcLayers: c.vqcLayers ?? v.rank,
        seed,
      });
      return adapters.flatMap((a) => a.parameters());
    },
  };
}

export function loraPlan(c: QthaConfig, rank: number, key: string): ModelPlan {
  return {
    key,
    label: `LoRA (r = ${rank})`,
    role: 'baseline',
    attach(base, seed) {
      const adapters = applyLora(base.model, new RegExp(c.targets), { rank, alpha: alphaOf(c, rank), seed });
      return adapters.flatMap((a) => a.parameters());
    },
  };
}

export function fullPlan(c: QthaConfig): ModelPlan {
  return {
    key: 'full',
    label: 'full fine-tuning of the targets',
    role: 'baseline',
    attach(base) {
      const re = new RegExp(c.targets);
      const out: Parameter[] = [];
      for (const [name, lin] of base.model.namedLinears())
        if (re.test(name) && lin instanceof Linear) out.push(...lin.parameters());
      if (!out.length) throw new Error(`targets: no linear layer name matches ${c.targets}`);
      for (const p of out) p.frozen = false;
      return out;
    },
  };
}

/** The run's models: QTHA first (the reference), then LoRA r, LoRA 2r and full fine-tuning as configured. */
export function comparisonPlans(c: QthaConfig, sim: SyncSimulator | null): ModelPlan[] {
  return [
    qthaPlan(c, { rank: c.rank, architecture: c.architecture }, sim),
    ...(c.loraR ? [loraPlan(c, c.rank, 'lora-r')] : []),
    ...(c.lora2R ? [loraPlan(c, 2 * c.rank, 'lora-2r')] : []),
    ...(c.full ? [fullPlan(c)] : []),
  ];
}

export interface SeedResult {
  key: string;
  seedIndex: number;
  /** The learning rate of this training (the selected candidate's, after selection). */
  lr: number;
  lrIndex: number;
  params: number;
  /** Training loss of every step. */
  losses: Float64Array;
  validation: { step: number; ev: Evaluation }[];
  test: Evaluation;
  /** Mean training loss over the last 10 % of steps (at least one). */
  finalLoss: number;
  trainSeconds: number;
  msPerStep: number;
  peakRssMb: number;
  /** The trainable tensors after the last step (testOne loads them back). */
  weights: Arr[];
}

export interface TrainHooks {
  signal?: AbortSignal;
  metrics(points: MetricPoint[]): void;
  /** Called after every step with the steps done. */
  step?(done: number): void;
  /** Series prefix (default `<model>/seed<k>`). */
  prefix?: string;
}

export interface SeedPlan {
  seedIndex: number;
  order: number;
  init: number;
}

const NO_TEST: Evaluation = { loss: NaN, perplexity: NaN, accuracy: null };

/** The base weights must be the snapshot's bytes again (full fine-tuning may change only its targets). */
function checkBaseIntact(base: Base, plan: ModelPlan, trainable: Parameter[]): void {
  const changed = changedBaseWeights(base, plan.key === 'full' ? new Set(trainable) : new Set());
  if (changed.length)
    throw new Error(
      `${plan.key}: frozen base weights changed during training (${changed.slice(0, 3).join(', ')})`,
    );
}

export function trainOne(
  base: Base,
  task: AdaptTask,
  plan: ModelPlan,
  c: Pick<QthaConfig, 'steps' | 'warmupSteps' | 'weightDecay' | 'clip' | 'evalEvery'>,
  lr: { lr: number; lrIndex: number },
  seeds: SeedPlan,
  hooks: TrainHooks,
): SeedResult {
  resetBase(base);
  const trainable = plan.attach(base, seeds.init);
  const params = countParameters(trainable);
  const model = base.model;
  const all = model.parameters();
  const opt = new AdamW(trainable, { weightDecay: c.weightDecay });
  const rng = new Rng(seeds.order);
  const evaluator = task.evaluator(model);
  const prefix = hooks.prefix ?? `${plan.key}/seed${seeds.seedIndex}`;
  const losses = new Float64Array(c.steps);
  const validation: SeedResult['validation'] = [];
  const meter = new ResourceMeter().start();
  let trainMs = 0;
  const validate = (step: number) => {
    model.training = false;
    const ev = evaluator.validation();
    validation.push({ step, ev });
    hooks.metrics([
      { key: `${prefix}/val_loss`, step, value: ev.loss },
      { key: `${prefix}/val_ppl`, step, value: ev.perplexity },
      ...(ev.accuracy === null ? [] : [{ key: `${prefix}/val_acc`, step, value: ev.accuracy }]),
    ]);
  };
  try {
    for (let s = 0; s < c.steps; s++) {
      if (hooks.signal?.aborted) throw new Error('cancelled');
      const t0 = performance.now();
      const batch = task.batch(rng);
      model.training = true;
      zeroGrad(all);
      const loss = model.lmForward(batch.tokens, batch.B, batch.T, batch.targets);
      model.lmBackward();
      clipGradNorm(trainable, c.clip);
      opt.step(warmupCosine(s, lr.lr, c.warmupSteps, c.steps));
      trainMs += performance.now() - t0;
      losses[s] = loss;
      hooks.metrics([{ key: `${prefix}/train_loss`, step: s + 1, value: loss }]);
      meter.sample();
      if ((s + 1) % c.evalEvery === 0 || s + 1 === c.steps) validate(s + 1);
      hooks.step?.(s + 1);
    }
    model.training = false;
    checkBaseIntact(base, plan, trainable);
    const tail = Math.max(1, Math.round(c.steps / 10));
    let sum = 0;
    for (let s = c.steps - tail; s < c.steps; s++) sum += losses[s];
    const reading = meter.stop();
    return {
      key: plan.key,
      seedIndex: seeds.seedIndex,
      ...lr,
      params,
      losses,
      validation,
      test: NO_TEST,
      finalLoss: sum / tail,
      trainSeconds: trainMs / 1000,
      msPerStep: trainMs / c.steps,
      peakRssMb: reading.peakRssMb,
      weights: trainable.map((p) => p.data.slice()),
    };
  } finally {
    meter.stop();
    resetBase(base);
  }
}

/**
 * The one reading of the test split for a trained model: the plan is attached again with the same seed (the same
 * modules), the trained tensors loaded, test evaluated, the base checked and reset.
 */
export function testOne(
  base: Base,
  task: AdaptTask,
  plan: ModelPlan,
  r: SeedResult,
  init: number,
  hooks: TrainHooks,
): Evaluation {
  resetBase(base);
  try {
    const trainable = plan.attach(base, init);
    if (trainable.length !== r.weights.length)
      throw new Error(`${plan.key}: the re-attached model has other tensors`);
    trainable.forEach((p, i) => p.data.set(r.weights[i]));
    base.model.training = false;
    const test = task.evaluator(base.model).test();
    const prefix = hooks.prefix ?? `${plan.key}/seed${r.seedIndex}`;
    hooks.metrics([
      { key: `${prefix}/test_loss`, step: r.losses.length, value: test.loss },
      { key: `${prefix}/test_ppl`, step: r.losses.length, value: test.perplexity },
      ...(test.accuracy === null
        ? []
        : [{ key: `${prefix}/test_acc`, step: r.losses.length, value: test.accuracy }]),
    ]);
    checkBaseIntact(base, plan, trainable);
    return test;
  } finally {
    resetBase(base);
  }
}

/** Validation's choice among candidates: highest accuracy (classification, ties: lower loss), else lowest loss. */
export function selectCandidate(runs: SeedResult[]): SeedResult {
  const last = (r: SeedResult) => r.validation[r.validation.length - 1].ev;
  return runs.reduce((best, r) => {
    const a = last(r);
    const b = last(best);
    if (a.accuracy !== null && b.accuracy !== null && a.accuracy !== b.accuracy)
      return a.accuracy > b.accuracy ? r : best;
    return a.loss < b.loss ? r : best;
  });
}
