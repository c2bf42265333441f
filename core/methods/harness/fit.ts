// One model in one repetition: every learning-rate candidate trained from the same initialisation on the same
// batches, a validation pass after every epoch, and the weights of the best (candidate, epoch) by validation
// kept. Nothing here reads the test split: the comparison evaluates it once, after the fit.
import type { SplitName } from '../../data/names';
import { Adam } from '../../nn/optim';
import { countParameters, zeroGrad, type Arr, type Parameter } from '../../nn/tensor';
import { Rng } from '../../util/rng';
import {
  gatedClassifier,
  TestGate,
  type ClassificationData,
  type Classifier,
  type ClassifierLoss,
  type MaybePromise,
} from './classifier';

export interface ModelSpec {
  /** Metric prefix and summary key: quantum, mlp, quantum-ce… */
  key: string;
  /** Row label in the report. */
  label: string;
  /** The learning rates tried (every model of a comparison gets the same number); validation picks one. */
  lrs: readonly number[];
  loss: ClassifierLoss;
  /** A fresh model; every candidate of a repetition gets the same seed. */
  build(seed: number): MaybePromise<Classifier>;
  /** Relative cost of an epoch, for progress only (default 1). */
  cost?: number;
}

export interface Schedule {
  epochs: number;
  batchSize: number;
  /** Stop a candidate after this many epochs without a better validation score (absent: every epoch runs). */
  patience?: number | null;
  /** Rows per forward when evaluating a split (default max(64, batchSize)). */
  evalBatch?: number;
}

export interface FitHooks {
  signal?: AbortSignal;
  /**
   * Per-epoch curves, keys `train_loss`, `train_acc`, `val_acc`, `val_loss`. With several candidates each
   * candidate's go under `lr<j>/…` as it trains, and after the search the chosen candidate's are repeated
   * under the plain keys, with `lr` (step 0) its learning rate: one curve per model, and the candidates beside.
   */
  metric?(key: string, step: number, value: number): void;
  /**
   * Every training step's loss of the epoch just run, in order, under `key` (`step_loss`, with several
   * candidates `lr<j>/step_loss` and the chosen one's repeated under `step_loss` after the search); the first
   * is at step `first`, the candidate's own count of steps from 0 (the loss of the batch that step k trains on,
   * at the weights after k updates).
   */
  steps?(key: string, first: number, losses: Float64Array): void;
  /** After every epoch of every candidate. */
  onEpoch?(): void;
  /** The test split's lock (the comparison's); absent, the fit keeps its own, closed for good. */
  gate?: TestGate;
}

/** The validation-selected point of a search. */
export interface Selection {
  lr: number;
  lrIndex: number;
  epoch: number;
  valAcc: number;
  valLoss: number;
}

export interface Fitted extends Selection {
  /** The selected candidate, holding the weights of the selected epoch. */
  classifier: Classifier;
  /** Trainable parameters. */
  params: number;
  /** The selected candidate's training time (its training steps, every epoch it ran), s. */
  trainSeconds: number;
  /** Epochs the selected candidate ran (fewer than scheduled after an early stop). */
  epochsRun: number;
  /** The whole search: every candidate's training and validation passes, s. */
  searchSeconds: number;
  /** Mean training loss of the selected candidate's last epoch. */
  finalLoss: number;
}

function checkCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Error('cancelled');
}

/** Batches of a split in row order, cut once: the evaluation pass reuses its buffers. */
export class SplitEvaluator {
  readonly n: number;
  /** Logits (n, C) of the last run. */
  readonly logits: Float64Array;
  private readonly batches: { at: number; rows: Int32Array; labels: Int32Array }[] = [];

  constructor(
    data: ClassificationData,
    readonly split: SplitName,
    private readonly loss: ClassifierLoss,
    batch: number,
  ) {
    const labels = data.labels[split];
    this.n = labels.length;
    this.logits = new Float64Array(this.n * data.classes);
    const rows = Int32Array.from({ length: this.n }, (_, i) => i);
    for (let a = 0; a < this.n; a += batch) {
      const z = Math.min(this.n, a + batch);
      this.batches.push({ at: a, rows: rows.subarray(a, z), labels: labels.subarray(a, z) });
    }
  }

  /** Fills `logits`; returns accuracy and mean loss over the split. */
  async run(clf: Classifier, signal?: AbortSignal): Promise<{ accuracy: number; loss: number }> {
    const C = this.logits.length / Math.max(1, this.n);
    let correct = 0;
    let loss = 0;
    for (const b of this.batches) {
      checkCancelled(signal);
      const out = await clf.forward(b.rows, this.split);
      this.logits.set(out, b.at * C);
      loss += this.loss.evaluate(out, b.rows, this.split, b.labels, null) * b.rows.length;
      correct += countCorrect(out, b.labels, C);
    }
    return { accuracy: correct / Math.max(1, this.n), loss: loss / Math.max(1, this.n) };
  }
}

/** Rows whose largest logit (first on ties) is the label. */
function countCorrect(logits: Float64Array, labels: Int32Array, C: number): number {
  let correct = 0;
  for (let b = 0; b < labels.length; b++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (logits[b * C + c] > logits[b * C + best]) best = c;
    if (best === labels[b]) correct++;
  }
  return correct;
}

/** Reused per-batch buffers of a training split: a full batch and the last, shorter one. */
class TrainBatches {
  readonly order: Int32Array;
  private readonly rows: Int32Array[];
  private readonly labels: Int32Array[];
  private readonly dlogits: Float64Array[];
  readonly steps: number;

  constructor(
    private readonly n: number,
    private readonly size: number,
    C: number,
  ) {
    this.order = new Int32Array(n);
    this.steps = Math.ceil(n / size);
    const sizes = [Math.min(size, n), n % size || Math.min(size, n)];
    this.rows = sizes.map((B) => new Int32Array(B));
    this.labels = sizes.map((B) => new Int32Array(B));
    this.dlogits = sizes.map((B) => new Float64Array(B * C));
  }

  /** Identity order, then one Fisher–Yates shuffle per epoch from `rng`. */
  reset(): void {
    for (let i = 0; i < this.n; i++) this.order[i] = i;
  }
  shuffle(rng: Rng): void {
    const o = this.order;
    for (let i = this.n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = o[i];
      o[i] = o[j];
      o[j] = t;
    }
  }

  /** Step s of the epoch: its rows, their labels and the gradient buffer. */
  step(s: number, labels: Int32Array): { rows: Int32Array; labels: Int32Array; dlogits: Float64Array } {
    const k = s === this.steps - 1 ? 1 : 0;
    const rows = this.rows[k];
    const y = this.labels[k];
    const a = s * this.size;
    for (let i = 0; i < rows.length; i++) {
      rows[i] = this.order[a + i];
      y[i] = labels[rows[i]];
    }
    return { rows, labels: y, dlogits: this.dlogits[k] };
  }
}

interface Best extends Selection {
  clf: Classifier;
  params: Parameter[];
  trainSeconds: number;
  epochsRun: number;
  finalLoss: number;
}

/** The search's best (candidate, epoch) so far and a copy of its weights. */
class BestSoFar {
  best: Best | null = null;
  private snapshot: Arr[] = [];

  /** Keeps the candidate's current weights when they score better on validation; returns whether they did. */
  offer(sel: Selection, clf: Classifier, params: Parameter[]): boolean {
    const b = this.best;
    if (b && !(sel.valAcc > b.valAcc || (sel.valAcc === b.valAcc && sel.valLoss < b.valLoss))) return false;
    if (b && b.clf !== clf) b.clf.dispose?.();
    if (this.snapshot.length !== params.length) this.snapshot = params.map((p) => p.data.slice());
    else for (let i = 0; i < params.length; i++) this.snapshot[i].set(params[i].data);
    this.best = { ...sel, clf, params, trainSeconds: 0, epochsRun: 0, finalLoss: NaN };
    return true;
  }

  /** The best candidate with its selected weights written back. */
  restore(): Best {
    const b = this.best!;
    for (let i = 0; i < b.params.length; i++) b.params[i].data.set(this.snapshot[i]);
    return b;
  }
}

/**
 * Trains every learning-rate candidate of `spec` (Adam, the schedule's epochs and batches, one seeded shuffle
 * per epoch from `seeds.order`) and returns the candidate and epoch with the best validation accuracy (ties:
 * lower validation loss, then the earlier epoch and candidate), its weights restored.
 */
export async function fitClassifier(
  spec: ModelSpec,
  data: ClassificationData,
  s: Schedule,
  seeds: { order: number; init: number },
  hooks: FitHooks = {},
): Promise<Fitted> {
  if (spec.lrs.length === 0) throw new Error(`${spec.key}: no learning rate to try`);
  const t0 = performance.now();
  const run = new CandidateRun(spec, data, s, hooks);
  const kept = new BestSoFar();
  const gate = hooks.gate ?? new TestGate();
  // with several candidates, each one's curves, to repeat the chosen one's under the plain keys
  const curves = spec.lrs.length > 1 ? spec.lrs.map(() => new CandidateCurves()) : null;
  try {
    for (const [j, lr] of spec.lrs.entries()) {
      // the model reaches the test split only through the gate, which stays closed during the search
      const clf = gatedClassifier(await spec.build(seeds.init), gate, spec.key);
      try {
        await run.train(clf, j, lr, seeds.order, kept, curves?.[j] ?? null);
      } finally {
        if (kept.best?.clf !== clf) clf.dispose?.();
      }
    }
  } catch (e) {
    kept.best?.clf.dispose?.();
    throw e;
  }
  const b = kept.restore();
  if (curves) {
    // the choice was made on validation alone (above); this only writes down which candidate it was
    const c = curves[b.lrIndex];
    for (const p of c.epochs) hooks.metric?.(p.key, p.step, p.value);
    hooks.steps?.('step_loss', 0, c.stepLosses());
    hooks.metric?.('lr', 0, b.lr);
  }
  return {
    lr: b.lr,
    lrIndex: b.lrIndex,
    epoch: b.epoch,
    valAcc: b.valAcc,
    valLoss: b.valLoss,
    classifier: b.clf,
    params: countParameters(b.params, true),
    trainSeconds: b.trainSeconds,
    epochsRun: b.epochsRun,
    searchSeconds: (performance.now() - t0) / 1000,
    finalLoss: b.finalLoss,
  };
}

/** One candidate's per-epoch points (plain keys) and every step's loss, in order. */
class CandidateCurves {
  readonly epochs: { key: string; step: number; value: number }[] = [];
  private losses = new Float64Array(0);
  private n = 0;

  addSteps(losses: Float64Array): void {
    if (this.n + losses.length > this.losses.length) {
      const grown = new Float64Array(Math.max(2 * this.losses.length, this.n + losses.length));
      grown.set(this.losses.subarray(0, this.n));
      this.losses = grown;
    }
    this.losses.set(losses, this.n);
    this.n += losses.length;
  }

  stepLosses(): Float64Array {
    return this.losses.subarray(0, this.n);
  }
}

/** One candidate's training: the epochs, the per-epoch validation pass, early stopping. */
class CandidateRun {
  private readonly C: number;
  private readonly labels: Int32Array;
  private readonly batches: TrainBatches;
  private readonly stepLoss: Float64Array;
  private readonly val: SplitEvaluator;

  constructor(
    private readonly spec: ModelSpec,
    data: ClassificationData,
    private readonly s: Schedule,
    private readonly hooks: FitHooks,
  ) {
    this.C = data.classes;
    this.labels = data.labels.train;
    this.batches = new TrainBatches(this.labels.length, s.batchSize, this.C);
    this.stepLoss = new Float64Array(this.batches.steps);
    this.val = new SplitEvaluator(data, 'validation', spec.loss, s.evalBatch ?? Math.max(64, s.batchSize));
  }

  async train(
    clf: Classifier,
    j: number,
    lr: number,
    orderSeed: number,
    kept: BestSoFar,
    curves: CandidateCurves | null,
  ): Promise<void> {
    const { s, hooks } = this;
    const params = clf.parameters();
    const opt = new Adam(params);
    const rng = new Rng(orderSeed);
    const pre = this.spec.lrs.length > 1 ? `lr${j}/` : '';
    this.batches.reset();
    let trainSeconds = 0;
    let own = { acc: -1, loss: Infinity, epoch: 0 };
    let epoch = 0;
    let keptHere = false;
    let finalLoss = NaN;
    while (epoch < s.epochs && !(s.patience != null && epoch - own.epoch >= s.patience)) {
      epoch++;
      const e0 = performance.now();
      const t = await this.epoch(clf, params, opt, lr, rng);
      trainSeconds += (performance.now() - e0) / 1000;
      finalLoss = t.loss;
      hooks.steps?.(`${pre}step_loss`, (epoch - 1) * this.stepLoss.length, this.stepLoss);
      curves?.addSteps(this.stepLoss);
      const v = await this.val.run(clf, hooks.signal);
      const points: [string, number][] = [
        ['train_loss', t.loss],
        ['train_acc', t.accuracy],
        ['val_acc', v.accuracy],
        ['val_loss', v.loss],
      ];
      for (const [key, value] of points) {
        hooks.metric?.(`${pre}${key}`, epoch, value);
        curves?.epochs.push({ key, step: epoch, value });
      }
      if (v.accuracy > own.acc || (v.accuracy === own.acc && v.loss < own.loss))
        own = { acc: v.accuracy, loss: v.loss, epoch };
      const sel = { lr, lrIndex: j, epoch, valAcc: v.accuracy, valLoss: v.loss };
      if (kept.offer(sel, clf, params)) keptHere = true;
      hooks.onEpoch?.();
    }
    if (keptHere && kept.best) Object.assign(kept.best, { trainSeconds, epochsRun: epoch, finalLoss });
  }

  /** One shuffled pass over train; the running loss and accuracy over its batches. */
  private async epoch(
    clf: Classifier,
    params: Parameter[],
    opt: Adam,
    lr: number,
    rng: Rng,
  ): Promise<{ loss: number; accuracy: number }> {
    const { batches, labels, C } = this;
    batches.shuffle(rng);
    let sum = 0;
    let correct = 0;
    for (let k = 0; k < batches.steps; k++) {
      checkCancelled(this.hooks.signal);
      const b = batches.step(k, labels);
      zeroGrad(params);
      const logits = await clf.forward(b.rows, 'train');
      const loss = this.spec.loss.evaluate(logits, b.rows, 'train', b.labels, b.dlogits);
      correct += countCorrect(logits, b.labels, C);
      await clf.backward(b.dlogits);
      opt.step(lr);
      this.stepLoss[k] = loss;
      sum += loss * b.rows.length;
    }
    return { loss: sum / labels.length, accuracy: correct / labels.length };
  }
}
