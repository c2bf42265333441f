// One model's training in a QFFN run: next-token cross-entropy over all trainable parameters with AdamW, linear
// warmup, cosine decay to lr/10 and global-norm clipping, on windows drawn by the repetition's order seed (every
// model of a repetition sees the same batches); validation perplexity every evalEvery steps on a fixed prefix of
// the validation split; then the test split read once, timed for inference tokens/s.
import { AdamW, clipGradNorm, warmupCosine } from '../../nn/optim';
import { zeroGrad } from '../../nn/tensor';
import type { Transformer } from '../../nn/transformer';
import { Rng } from '../../util/rng';
import { LanguageModelEvaluation, type Perplexity } from '../harness/language-model';
import { ResourceMeter } from '../harness/meter';
import { sampleWindows } from './models';
import type { QffnConfig } from './schema';

export interface LmStreams {
  train: Int32Array;
  /** The prefix read at each evaluation (evalTokens + 1 tokens). */
  validation: Int32Array;
  /** The prefix read once at the end (testTokens + 1 tokens). */
  test: Int32Array;
}

export interface TrainedLm {
  /** (step, validation perplexity), the first at step 0 (before training). */
  valSeries: [number, number][];
  test: Perplexity;
  trainSeconds: number;
  trainTokensPerSecond: number;
  inferTokensPerSecond: number;
  peakRssMb: number;
  finalLoss: number;
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

export function trainLm(
  model: Transformer,
  streams: LmStreams,
  s: Schedule,
  orderSeed: number,
  hooks: TrainHooks = {},
): TrainedLm {
  const B = s.batchSize;
  const T = s.seqLen;
  const evals = new LanguageModelEvaluation(
    model,
    { validation: streams.validation, test: streams.test },
    { seqLen: T, batchSize: B, signal: hooks.signal },
  );
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
  let loss = NaN;
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
    hooks.onStep?.(step, loss);
    if (step % s.evalEvery === 0 || step === s.steps) evaluate(step);
  }
  model.training = false;
  const t0 = performance.now();
  const test = evals.test();
  const inferMs = performance.now() - t0;
  const reading = meter.stop();
  return {
    valSeries,
    test,
    trainSeconds: trainMs / 1000,
    trainTokensPerSecond: (s.steps * B * T) / (trainMs / 1000),
    inferTokensPerSecond: test.tokens / (inferMs / 1000),
    peakRssMb: reading.peakRssMb,
    finalLoss: loss,
  };
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
