// The seam between a method's models and the comparison harness. A Classifier reads rows of a split of a
// dataset the method owns (a teacher's cached outputs, token ids, sentence embeddings) and returns logits; the
// harness only ever handles row indices and labels. The loss is the method's too: distillation against
// teacher logits (qdllm) or plain cross-entropy (qhead).
import type { SplitName } from '../../data/names';
import { softmaxCrossEntropyBackward, softmaxCrossEntropyForward } from '../../nn/losses';
import type { Parameter } from '../../nn/tensor';

export type MaybePromise<T> = T | Promise<T>;

export interface Classifier {
  parameters(): Parameter[];
  /** Logits (B, C) for rows of a split, B = rows.length; valid until the next forward. */
  forward(rows: Int32Array, split: SplitName): MaybePromise<Float64Array>;
  /** Adds ∂L/∂θ into the parameters' grads, given ∂L/∂logits (B, C) of the last forward. */
  backward(dlogits: Float64Array): MaybePromise<void>;
  /** Frees what the model holds (its own simulator); the harness calls it once it is done with the model. */
  dispose?(): void;
}

/** What the harness needs of a method's dataset: the class count and each split's labels. */
export interface ClassificationData {
  classes: number;
  labels: Record<SplitName, Int32Array>;
}

export interface ClassifierLoss {
  /**
   * Mean loss of logits (B, C) for `rows` of `split` with their `labels` (B); with `dlogits` (B, C), also writes
   * ∂loss/∂logits there (overwriting it).
   */
  evaluate(
    logits: Float64Array,
    rows: Int32Array,
    split: SplitName,
    labels: Int32Array,
    dlogits: Float64Array | null,
  ): number;
}

/** A buffer of at least n values, reallocated only when it must grow. */
export function grow(buf: Float64Array, n: number): Float64Array {
  return buf.length >= n ? buf : new Float64Array(n);
}

/** Softmax cross-entropy against the labels. */
export function crossEntropyLoss(C: number): ClassifierLoss {
  let probs: Float64Array = new Float64Array(0);
  return {
    evaluate(logits, _rows, _split, labels, dlogits) {
      const B = labels.length;
      probs = grow(probs, B * C);
      const r = softmaxCrossEntropyForward(probs, logits, labels, B, C);
      if (dlogits) {
        dlogits.fill(0);
        softmaxCrossEntropyBackward(dlogits, probs, labels, B, C, r.count);
      }
      return r.loss;
    },
  };
}

/** A model over feature rows: (B, d) → logits (B, C). */
export interface FeatureModel {
  parameters(): Parameter[];
  forward(x: Float64Array, B: number): MaybePromise<Float64Array>;
  backward(dlogits: Float64Array): MaybePromise<void>;
  dispose?(): void;
}

/**
 * A FeatureModel as a Classifier over fixed per-split feature matrices (N, d), e.g. a frozen encoder's
 * embeddings: each forward gathers the batch's rows into one reused buffer.
 */
export function featureClassifier(
  model: FeatureModel,
  features: Record<SplitName, Float64Array>,
  d: number,
): Classifier {
  let buf: Float64Array = new Float64Array(0); // (B, d)
  let view = buf;
  return {
    parameters: () => model.parameters(),
    forward(rows, split) {
      const B = rows.length;
      buf = grow(buf, B * d);
      if (view.buffer !== buf.buffer || view.length !== B * d) view = buf.subarray(0, B * d);
      const src = features[split];
      for (let i = 0; i < B; i++) {
        const o = rows[i] * d;
        for (let c = 0; c < d; c++) view[i * d + c] = src[o + c];
      }
      return model.forward(view, B);
    },
    backward: (dlogits) => model.backward(dlogits),
    dispose: () => model.dispose?.(),
  };
}

/**
 * The test split's lock. Closed while models are built, trained and selected; the comparison opens it only
 * inside its final evaluation of each model. Data sealed with `sealTest` and classifiers through the harness
 * throw when the test split is read while it is closed, so a method that peeks at test fails loudly.
 */
export class TestGate {
  private opened = 0;

  get isOpen(): boolean {
    return this.opened > 0;
  }

  /** Throws unless the gate is open; `what` names the reader. */
  check(what: string): void {
    if (this.opened === 0)
      throw new Error(
        `${what}: the test split was read before the final evaluation (model selection reads train and validation only)`,
      );
  }

  /** Runs `f` with the test split readable (the final evaluation). */
  async during<T>(f: () => Promise<T>): Promise<T> {
    this.opened++;
    try {
      return await f();
    } finally {
      this.opened--;
    }
  }
}

/** `splits` with its `test` entry readable only while `gate` is open (the other splits as they are). */
export function sealTest<T>(
  splits: Record<SplitName, T>,
  gate: TestGate,
  what: string,
): Record<SplitName, T> {
  const test = splits.test;
  return Object.defineProperty({ train: splits.train, validation: splits.validation }, 'test', {
    enumerable: true,
    get() {
      gate.check(what);
      return test;
    },
  }) as Record<SplitName, T>;
}

/** A classifier whose forward on the test split throws while `gate` is closed. */
export function gatedClassifier(clf: Classifier, gate: TestGate, what: string): Classifier {
  return {
    parameters: () => clf.parameters(),
    forward(rows, split) {
      if (split === 'test') gate.check(what);
      return clf.forward(rows, split);
    },
    backward: (d) => clf.backward(d),
    dispose: clf.dispose ? () => clf.dispose!() : undefined,
  };
}
