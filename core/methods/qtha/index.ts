// Job kind `qtha`: QTHA adapters (MPO + MLP + VQC, core/nn/qtha-adapter.ts) on the q and v projections of a
// frozen base LM, beside LoRA at r and 2r (and optionally full fine-tuning of the targets) on the same data,
// steps, schedule and seeds; the test split read once per model and seed; an ablation/rank sweep as child runs
// read on validation. Report: the paper's comparison and ablation tables (report.ts).
import { Linear } from '../../nn/layers';
import { loraParamCount, qthaParts } from '../../nn/qtha-sizes';
import { createCpuSimulator } from '../../quantum/cpu/simulator';
import { describeBackend } from '../../quantum/simulators';
import { configureCompute } from '../harness/compute';
import { childOrInline, defineJobKind, type JobContext, type JobResult, type MetricPoint } from '../job';
import { buildBase, resetBase, type Base } from './base';
import { qthaMeta, sweepPoints } from './meta';
import { buildReport, summaryOf, type ModelRuns, type SweepRow } from './report';
import type { QthaConfig } from './schema';
import { buildTask, type AdaptTask } from './tasks';
import {
  comparisonPlans,
  qthaPlan,
  selectCandidate,
  testOne,
  trainOne,
  type ModelPlan,
  type SeedPlan,
  type SeedResult,
  type TrainHooks,
} from './train';
import { lrCandidates } from '../harness/tuning';

export { QthaConfigSchema, type QthaConfig, type QthaInput } from './schema';

/** Where repetition k's randomness comes from: its batch stream and its adapters' initialisation. */
export function seedPlan(runSeed: number, k: number): SeedPlan {
  return {
    seedIndex: k,
    order: (runSeed * 7919 + 104_729 * (k + 1)) >>> 0,
    init: (runSeed + 1009 * k) >>> 0,
  };
}

/** LoRA's count at rank r on the layers the targets match: Σ r·(in + out). */
function loraCountOn(base: Base, targets: string, r: number): number {
  const re = new RegExp(targets);
  return base.model
    .namedLinears()
    .filter(([n, l]) => re.test(n) && l instanceof Linear)
    .reduce((a, [, l]) => a + loraParamCount(l.inFeatures, l.outFeatures, r), 0);
}

export { sweepPoints };

export interface QthaHooks {
  /** After the base is built and frozen (tests snapshot it). */
  onBase?(base: Base): void;
}

export async function runQtha(c: QthaConfig, ctx: JobContext, hooks: QthaHooks = {}): Promise<JobResult> {
  const threads = configureCompute();
  const needsSim = [c.architecture, ...(c.sweep?.architectures ?? [])].some((a) => qthaParts(a).quantum);
  const sim = needsSim ? createCpuSimulator({ precision: c.precision }) : null;
  if (sim) await sim.prepareSync();
  try {
    const maxSeqLen = c.task === 'lm' ? c.seqLen : c.promptTokens + 48;
    const base = await buildBase(c.base, maxSeqLen, ctx);
    hooks.onBase?.(base);
    ctx.log(
      'info',
      `base: ${base.note} (${base.pretrainSeconds.toFixed(1)} s); matmul on ${threads} thread(s)`,
    );
    const task: AdaptTask = await buildTask(c, base.tokenizer);
    if (task.maxSeqLen > base.model.config.maxSeqLen)
      throw new Error(
        `seqLen: ${task.maxSeqLen} tokens exceed the base model's context ${base.model.config.maxSeqLen}`,
      );
    ctx.log('info', `task: ${task.describe}`);
    // every adapter of the run once on the base, so a layer the MPOs cannot take fails before any training
    for (const p of [{ rank: c.rank, architecture: c.architecture }, ...sweepPoints(c)]) {
      qthaPlan(c, p, sim).attach(base, 0);
      resetBase(base);
    }
    resetBase(base);
    const baseTest = task.evaluator(base.model).test();

    const plans = comparisonPlans(c, sim);
    const points = sweepPoints(c);
    const sweepSeeds = c.sweep?.seeds ?? c.seeds;
    const lrs = lrCandidates(c.lr, c.lrFactors);
    const total = c.steps * lrs.length * (c.seeds * plans.length + points.length * sweepSeeds);
    let done = 0;
    const tick = (what: string) => () => {
      if (++done % 10 === 0) ctx.progress(0.1 + (0.9 * done) / total, what);
    };

    const models: ModelRuns[] = plans.map((plan) => ({ plan, runs: [] }));
    for (let k = 0; k < c.seeds; k++)
      for (const m of models) {
        const seed = seedPlan(ctx.seed, k);
        const emit = (p: MetricPoint[]) => ctx.metrics(p);
        const best = fitOne(base, task, m.plan, c, lrs, seed, {
          signal: ctx.signal,
          metrics: emit,
          step: tick(`seed ${k + 1}/${c.seeds}: ${m.plan.key}`),
        });
        best.test = testOne(base, task, m.plan, best, seed.init, { metrics: emit });
        m.runs.push(best);
      }
    // no seed-mean keys: the run page draws each model's <model>/seed<k>/ curves as one mean ± std band

    const sweep: SweepRow[] = [];
    for (const p of points) {
      const name = `sweep/${p.architecture}-r${p.rank}`;
      const child = childOrInline(ctx, name, {
        ...c,
        architecture: p.architecture,
        rank: p.rank,
        sweep: undefined,
      });
      try {
        const plan = qthaPlan(c, p, sim);
        const runs: SeedResult[] = [];
        for (let k = 0; k < sweepSeeds; k++)
          runs.push(
            fitOne(base, task, plan, c, lrs, seedPlan(ctx.seed, k), {
              signal: ctx.signal,
              metrics: (pts) => child.metrics(pts),
              step: tick(`${name} seed ${k + 1}`),
            }),
          );
        const row: SweepRow = {
          architecture: p.architecture,
          rank: p.rank,
          role: plan.role,
          params: runs[0].params,
          loraParams: loraCountOn(base, c.targets, p.rank),
          runs,
        };
        sweep.push(row);
        const last = runs.map((r) => r.validation[r.validation.length - 1].ev);
        child.finish({
          summary: {
            architecture: p.architecture,
            rank: p.rank,
            params: row.params,
            val_loss: mean(last.map((e) => e.loss)),
            val_ppl: mean(last.map((e) => e.perplexity)),
            ...(last[0].accuracy === null ? {} : { val_acc: mean(last.map((e) => e.accuracy ?? NaN)) }),
            train_loss: mean(runs.map((r) => r.finalLoss)),
          },
        });
      } catch (e) {
        child.fail((e as Error).message);
        throw e;
      }
    }

    const trainings =
      lrs.length * (c.seeds * plans.filter((p) => p.key !== 'full').length + points.length * sweepSeeds);
    const facts = {
      task: c.task,
      seeds: c.seeds,
      baseTest,
      setup: setupText(c, base, task, threads),
    };
    ctx.progress(1, 'done');
    return {
      summary: {
        ...summaryOf(models, facts),
        frozen_weights: `verified byte-identical after each of ${trainings} adapter trainings`,
        base_pretrain_seconds: base.pretrainSeconds,
      },
      report: buildReport(models, sweep, facts),
      backend: {
        simulator: sim ? describeBackend(sim.info) : 'none (no quantum branch)',
        precision: c.precision,
        threads,
      },
    };
  } finally {
    sim?.dispose();
  }
}

/**
 * Every learning-rate candidate of one model in one repetition (the same batches and initialisation), the
 * validation's choice returned; with several candidates their series go under lr<j>/ and the chosen one's are
 * repeated under the model's own prefix.
 */
function fitOne(
  base: Base,
  task: AdaptTask,
  plan: ModelPlan,
  c: QthaConfig,
  lrs: number[],
  seed: SeedPlan,
  hooks: TrainHooks,
): SeedResult {
  const prefix = `${plan.key}/seed${seed.seedIndex}`;
  const runs = lrs.map((lr, lrIndex) =>
    trainOne(base, task, plan, c, { lr, lrIndex }, seed, {
      ...hooks,
      prefix: lrs.length > 1 ? `${prefix}/lr${lrIndex}` : prefix,
    }),
  );
  const best = selectCandidate(runs);
  if (lrs.length > 1) {
    const pts: MetricPoint[] = Array.from(best.losses, (value, s) => ({
      key: `${prefix}/train_loss`,
      step: s + 1,
      value,
    }));
    for (const v of best.validation) {
      pts.push(
        { key: `${prefix}/val_loss`, step: v.step, value: v.ev.loss },
        { key: `${prefix}/val_ppl`, step: v.step, value: v.ev.perplexity },
      );
      if (v.ev.accuracy !== null) pts.push({ key: `${prefix}/val_acc`, step: v.step, value: v.ev.accuracy });
    }
    pts.push({ key: `${prefix}/lr`, step: 0, value: best.lr });
    hooks.metrics(pts);
  }
  return best;
}

function mean(v: number[]): number {
  return v.reduce((a, b) => a + b, 0) / v.length;
}

function setupText(c: QthaConfig, base: Base, task: AdaptTask, threads: number): string {
  return [
    `Base: ${base.note}; frozen (W₀ never updated nor merged, checked byte-identical after every training).`,
    `Task: ${task.describe}.`,
    `Adapters on ${c.targets}: y = W₀x + (α/r)·Δ(x) with α = ${c.alpha ?? '2r'}; QTHA ${c.architecture} with r = ${c.rank}, MPO width ${c.mpoWidth} (4 cores, bond ${c.mpoBond}), VQC ${c.rank} qubits × ${c.vqcLayers ?? c.rank} layers (${c.precision}).`,
    `Every model: AdamW at the learning rate validation picks among ${lrCandidates(c.lr, c.lrFactors).join(', ')} (the same candidates for every model; warmup ${c.warmupSteps} steps, cosine to 0), weight decay ${c.weightDecay}, clip ${c.clip}, ${c.steps} steps of batch ${c.batchSize}; the same batch stream per seed for every model; validation every ${c.evalEvery} steps; the chosen candidate's last-step model is evaluated on test once.`,
    `Time per step counts forward, backward and the optimizer (no evaluation), on ${threads} matmul thread(s).`,
  ].join(' ');
}

export const qthaKind = defineJobKind({ meta: qthaMeta, run: (c, ctx) => runQtha(c, ctx) });
