// Distillation of one student on the teacher's cached outputs, and its evaluation: per epoch the training
// loss and validation accuracy are streamed; at the end the test metrics, distillation time, time per
// epoch, inference time per sample and the peak memory seen while it ran.
import { Adam } from '../../nn/optim';
import { Rng } from '../../util/rng';
import { countParameters, zeroGrad } from '../../nn/tensor';
import { argmaxRows, classificationReport, type ClassificationReport } from '../harness/metrics';
import type { SplitName } from '../../data/names';
import { distillLossBackward, distillLossForward, type DistillLossOptions } from '../../nn/distill-loss';
import { ResourceMeter } from '../harness/meter';
import type { JobContext } from '../job';
import type { Student, StudentData } from './students';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  loss: DistillLossOptions;
  seed: number;
  /** Metric keys: `${name}/seed${seedIndex}/…`. */
  seedIndex: number;
  /** Running step counter of `${name}/train_loss` across seeds. */
  stepBase: number;
  onEpoch?: (epoch: number) => void;
}

export interface StudentResult {
  name: string;
  label: string;
  params: number;
  report: ClassificationReport;
  /** Distillation (training) time, s. */
  trainSeconds: number;
  epochSeconds: number;
  inferSecondsPerSample: number;
  peakRssMb: number;
  peakHeapMb: number;
  finalLoss: number;
  steps: number;
}

const EVAL_BATCH = 64;

export async function predict(
  s: Student,
  data: StudentData,
  split: SplitName,
  C: number,
  ctx: JobContext,
): Promise<Float64Array> {
  const n = data[split].labels.length;
  const out = new Float64Array(n * C);
  for (let a = 0; a < n; a += EVAL_BATCH) {
    if (ctx.signal.aborted) throw new Error('cancelled');
    const rows = Int32Array.from({ length: Math.min(EVAL_BATCH, n - a) }, (_, i) => a + i);
    out.set(await s.forward(rows, split), a * C);
  }
  return out;
}

export async function trainStudent(
  s: Student,
  data: StudentData,
  C: number,
  o: TrainOptions,
  ctx: JobContext,
): Promise<StudentResult> {
  const meter = new ResourceMeter().start();
  const opt = new Adam(s.params);
  const rng = new Rng(o.seed ^ 0x9e3779b9);
  const tr = data.train;
  const N = tr.labels.length;
  const order = Int32Array.from({ length: N }, (_, i) => i);
  let step = o.stepBase;
  let finalLoss = NaN;
  const prefix = `${s.name}/seed${o.seedIndex}`;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    for (let i = N - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    let sum = 0;
    for (let a = 0; a < N; a += o.batchSize) {
      if (ctx.signal.aborted) throw new Error('cancelled');
      const rows = order.slice(a, Math.min(N, a + o.batchSize));
      const B = rows.length;
      const teacher = new Float64Array(B * C);
      const y = new Int32Array(B);
      for (let i = 0; i < B; i++) {
        teacher.set(tr.logits.subarray(rows[i] * C, (rows[i] + 1) * C), i * C);
        y[i] = tr.labels[rows[i]];
      }
      zeroGrad(s.params);
      const logits = await s.forward(rows, 'train');
      const { loss } = distillLossForward(logits, teacher, y, B, C, o.loss);
      const dlogits = new Float64Array(B * C);
      distillLossBackward(dlogits, logits, teacher, y, B, C, o.loss);
      await s.backward(dlogits);
      opt.step(o.lr);
      sum += loss * B;
      ctx.metrics([{ key: `${s.name}/train_loss`, step: ++step, value: loss }]);
      meter.sample();
    }
    finalLoss = sum / N;
    const val = data.validation;
    const vlog = await predict(s, data, 'validation', C, ctx);
    const vacc = classificationReport(val.labels, argmaxRows(vlog, val.labels.length, C), C).accuracy;
    ctx.metrics([
      { key: `${prefix}/train_loss`, step: epoch, value: finalLoss },
      { key: `${prefix}/val_acc`, step: epoch, value: vacc },
    ]);
    o.onEpoch?.(epoch);
  }
  const trainSeconds = meter.elapsed();
  const te = data.test;
  const t0 = performance.now();
  const tlog = await predict(s, data, 'test', C, ctx);
  const inferSecondsPerSample = (performance.now() - t0) / 1000 / te.labels.length;
  const reading = meter.stop();
  const report = classificationReport(te.labels, argmaxRows(tlog, te.labels.length, C), C);
  ctx.metrics([
    { key: `${prefix}/test_acc`, step: o.epochs, value: report.accuracy },
    { key: `${prefix}/test_f1_macro`, step: o.epochs, value: report.f1.macro },
  ]);
  return {
    name: s.name,
    label: s.label,
    params: countParameters(s.params, true),
    report,
    trainSeconds,
    epochSeconds: trainSeconds / o.epochs,
    inferSecondsPerSample,
    peakRssMb: reading.peakRssMb,
    peakHeapMb: reading.peakHeapMb,
    finalLoss,
    steps: step - o.stepBase,
  };
}
