// One model's training in a QFFN run: next-token cross-entropy over all trainable parameters with AdamW, linear
// warmup, cosine decay to lr/10 and global-norm clipping, on windows drawn by the repetition's order seed (every
// model of a repetition, and every learning-rate candidate of a model, sees the same batches); validation
// perplexity every evalEvery steps on a fixed prefix of the validation split. The test split is read once per
// model (testLm), after validation has chosen among the candidates, timed for inference tokens/s.
import { AdamW, clipGradNorm, warmupCosine } from '../../nn/optim';
import { zeroGrad } from '../../nn/tensor';
import { withResidentTraining, type Transformer } from '../../nn/transformer';
import { Rng } from '../../util/rng';
import { LanguageModelEvaluation, type Perplexity } from '../harness/language-model';
import { ResourceMeter } from '../harness/meter';
import { sampleWindows } from '../../nn/lm-windows';
import type { QffnConfig } from './schema';

export interface LmStreams {
  train: Int32Array;
  /** The prefix read at each evaluation (evalTokens + 1 tokens). */
  validation: Int32Array;
  /** The prefix read once at the end (testTokens + 1 tokens). */
  test: Int32Array;
}

export interface TrainedLm {
  /** The peak learning rate this training used (the chosen candidate's, in a SeedRecord). */
  lr: number;
  /** (step, validation perplexity), the first at step 0 (before training). */
  valSeries: [number, number][];
  /** (steps) the training loss of every step. */
  losses: Float64Array;
  trainSeconds: number;
  trainTokensPerSecond: number;
  peakRssMb: number;
  finalLoss: number;
}

/** A trained model's one test reading. */
export interface TestedLm {
  test: Perplexity;
  inferTokensPerSecond: number;
}

export interface TrainHooks {
  signal?: AbortSignal;
  /** Per step: the training loss; per evaluation: the validation perplexity. */
  onStep?(step: number, loss: number): void;
  onEval?(step: number, ppl: number): void;
}

type Schedule = Pick<
  QffnConfig,
  'steps' | 'batchSize' | 'seqLen' | 'lr' | 'weightDecay' | 'warmupSteps' | 'clip' | 'evalEvery'
>;

/** The model's validation and test readings (one per model, so its test split is read once in all). */
export function lmEvaluation(
  model: Transformer,
  streams: LmStreams,
  s: Pick<QffnConfig, 'batchSize' | 'seqLen'>,
  signal?: AbortSignal,
): LanguageModelEvaluation {
  return new LanguageModelEvaluation(
    model,
    { validation: streams.validation, test: streams.test },
    { seqLen: s.seqLen, batchSize: s.batchSize, signal },
  );
}

/** Trains `model` in place at the schedule's lr from its current weights, reading validation through `evals`. */
export function trainLm(
  model: Transformer,
  evals: LanguageModelEvaluation,
  streams: LmStreams,
  s: Schedule,
  orderSeed: number,
  hooks: TrainHooks = {},
): TrainedLm {
  const B = s.batchSize;
  const T = s.seqLen;
  const params = model.parameters();
  const opt = new AdamW(params, { weightDecay: s.weightDecay });
  const rng = new Rng(orderSeed);
  const tokens = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  const meter = new ResourceMeter().start();
  const valSeries: [number, number][] = [];
  const evaluate = (step: number) => {
    model.training = false;
    const ppl = evals.validation().perplexity;
    valSeries.push([step, ppl]);
    hooks.onEval?.(step, ppl);
  };
  evaluate(0);
  let trainMs = 0;
  const losses = new Float64Array(s.steps);
  let loss = NaN;
  withResidentTraining(model, opt, () => {
    for (let step = 1; step <= s.steps; step++) {
      if (hooks.signal?.aborted) throw new Error('cancelled');
      sampleWindows(streams.train, B, T, rng, tokens, targets);
      const t0 = performance.now();
      model.training = true;
      zeroGrad(params);
      loss = model.lmForward(tokens, B, T, targets);
      model.lmBackward();
      clipGradNorm(params, s.clip);
      opt.step(warmupCosine(step - 1, s.lr, s.warmupSteps, s.steps, s.lr / 10));
      trainMs += performance.now() - t0;
      losses[step - 1] = loss;
      hooks.onStep?.(step, loss);
      if (step % s.evalEvery === 0 || step === s.steps) evaluate(step);
    }
  });
  model.training = false;
  return {
    lr: s.lr,
    valSeries,
    losses,
    trainSeconds: trainMs / 1000,
    trainTokensPerSecond: (s.steps * B * T) / (trainMs / 1000),
    peakRssMb: meter.stop().peakRssMb,
    finalLoss: loss,
  };
}

/** The test perplexity of the model as it stands (read once: `evals` throws on a second call). */
export function testLm(model: Transformer, evals: LanguageModelEvaluation): TestedLm {
  model.training = false;
  const t0 = performance.now();
  const test = evals.test();
  return { test, inferTokensPerSecond: test.tokens / ((performance.now() - t0) / 1000) };
}

/** The last validation perplexity (the last-step model is the one tested); a diverged candidate reads +∞. */
export function lastValidation(t: TrainedLm): number {
  const v = t.valSeries[t.valSeries.length - 1][1];
  return Number.isFinite(v) ? v : Infinity;
}

/** Validation's choice among one model's candidates: the lowest last validation perplexity (ties: the first). */
export function selectByValidation<T extends { trained: TrainedLm }>(candidates: readonly T[]): T {
  return candidates.reduce((best, c) =>
    lastValidation(c.trained) < lastValidation(best.trained) ? c : best,
  );
}

/** Greedy continuations of the prompts (the model's own tokenizer), one line each (newlines shown as ⏎). */
export function continuations(
  model: Transformer,
  tok: { encode(t: string): number[]; decode(ids: ArrayLike<number>): string },
  prompts: readonly string[],
  n: number,
): string[] {
  return prompts.map((p) => {
    const ids = tok.encode(p).slice(-model.config.maxSeqLen + n);
    if (ids.length === 0 || n === 0) return '';
    return tok.decode(model.generate(ids, n)).replace(/\n/g, ' ⏎ ');
  });
}
