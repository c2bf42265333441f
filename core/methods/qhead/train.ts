// One training run of a head (quantum or classical) on embedded splits: Adam on softmax cross-entropy,
// a seeded shuffle per epoch, per-epoch loss and accuracies as metrics, the test report at the end.
import { softmaxCrossEntropyBackward, softmaxCrossEntropyForward } from '../../nn/losses';
import { Adam } from '../../nn/optim';
import { Rng } from '../../nn/rng';
import { zeroGrad } from '../../nn/tensor';
import { argmaxRows, classificationReport, type ClassificationReport } from '../harness/metrics';
import type { EmbeddedSplit } from './encoder';
import { trainableCount, type Model } from './models';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  classes: number;
}

export interface TrainHooks {
  signal?: AbortSignal;
  /** Metric under the caller's prefix, e.g. `quantum/s1/loss`. */
  metric?(key: string, step: number, value: number): void;
  /** Fraction of this training done. */
  progress?(fraction: number): void;
}

export interface TrainResult {
  loss: number;
  trainAcc: number;
  test: ClassificationReport;
  seconds: number;
  params: number;
  /** Mean inference time per test sample, seconds. */
  inferSeconds: number;
}

/** Logits of a whole split, in batches. */
export async function predict(
  m: Model,
  s: EmbeddedSplit,
  batchSize: number,
  C: number,
): Promise<Float64Array> {
  const out = new Float64Array(s.n * C);
  for (let i = 0; i < s.n; i += batchSize) {
    const B = Math.min(batchSize, s.n - i);
    out.set(await m.forward(s.x.subarray(i * s.dim, (i + B) * s.dim), B), i * C);
  }
  return out;
}

export async function evaluate(
  m: Model,
  s: EmbeddedSplit,
  batchSize: number,
  C: number,
): Promise<ClassificationReport> {
  return classificationReport(s.y, argmaxRows(await predict(m, s, batchSize, C), s.n, C), C);
}

export async function trainModel(
  m: Model,
  data: { train: EmbeddedSplit; test: EmbeddedSplit },
  o: TrainOptions,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const { train: tr } = data;
  const C = o.classes;
  const d = tr.dim;
  const opt = new Adam(m.params);
  const rng = new Rng(o.seed ^ 0x1234567);
  const order = Array.from({ length: tr.n }, (_, i) => i);
  const steps = Math.ceil(tr.n / o.batchSize);
  const xb = new Float64Array(o.batchSize * d);
  const yb = new Int32Array(o.batchSize);
  const t0 = performance.now();
  let loss = NaN;
  let trainAcc = NaN;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    let lossSum = 0;
    let correct = 0;
    for (let s = 0; s < steps; s++) {
      if (hooks.signal?.aborted) throw new Error('cancelled');
      const B = Math.min(o.batchSize, tr.n - s * o.batchSize);
      for (let i = 0; i < B; i++) {
        const k = order[s * o.batchSize + i];
        xb.set(tr.x.subarray(k * d, (k + 1) * d), i * d);
        yb[i] = tr.y[k];
      }
      const x = xb.subarray(0, B * d);
      const y = yb.subarray(0, B);
      zeroGrad(m.params);
      const logits = await m.forward(x, B);
      const probs = new Float64Array(B * C);
      const r = softmaxCrossEntropyForward(probs, logits, y, B, C);
      const dlogits = new Float64Array(B * C);
      softmaxCrossEntropyBackward(dlogits, probs, y, B, C, r.count);
      await m.backward(dlogits, B);
      opt.step(o.lr);
      lossSum += r.loss * B;
      const pred = argmaxRows(logits, B, C);
      for (let i = 0; i < B; i++) if (pred[i] === y[i]) correct++;
    }
    // running figures over the epoch's batches (a second pass over train would double the quantum cost)
    loss = lossSum / tr.n;
    trainAcc = correct / tr.n;
    hooks.metric?.('loss', epoch, loss);
    hooks.metric?.('train_acc', epoch, trainAcc);
    if (epoch < o.epochs) {
      const t = await evaluate(m, data.test, Math.max(o.batchSize, 32), C);
      hooks.metric?.('test_acc', epoch, t.accuracy);
    }
    hooks.progress?.(epoch / o.epochs);
  }
  const seconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const test = await evaluate(m, data.test, Math.max(o.batchSize, 32), C);
  const inferSeconds = (performance.now() - t1) / 1000 / Math.max(1, data.test.n);
  hooks.metric?.('test_acc', o.epochs, test.accuracy);
  return { loss, trainAcc, test, seconds, params: trainableCount(m), inferSeconds };
}
