// The knowledge-distillation loss of QD-LLM (and any student that learns from a frozen teacher's logits):
//   all: (1 − α)·CE(z_s, y) + α·(T²·KL(p_t ‖ p_s) + JS(p_t, p_s)),  p = softmax(z / T)
// and the ablation modes ce | kl | js that keep one term alone (CE, T²·KL, JS).
import {
  jsDivBackward,
  jsDivForward,
  klDivBackward,
  klDivForward,
  softmaxCrossEntropyBackward,
  softmaxCrossEntropyForward,
} from './losses';

export const DISTILL_MODES = ['ce', 'kl', 'js', 'all'] as const;
export type DistillMode = (typeof DISTILL_MODES)[number];

export interface DistillLossOptions {
  /** Guidance weight α in [0, 1]: the share of the teacher terms in mode "all". */
  alpha: number;
  /** Softmax temperature T > 0 of both distributions in the KL and JS terms. */
  temperature: number;
  mode: DistillMode;
}

export interface DistillLossValue {
  /** The weighted total that training minimises (batch mean). */
  loss: number;
  /** The unweighted batch means of each term (KL without the T² factor). */
  ce: number;
  kl: number;
  js: number;
}

/** Weights of CE, KL and JS in the total for a mode. */
export function distillWeights(o: DistillLossOptions): { ce: number; kl: number; js: number } {
  if (!(o.alpha >= 0 && o.alpha <= 1)) throw new Error(`alpha: must be in [0, 1], got ${o.alpha}`);
  if (!(o.temperature > 0)) throw new Error(`temperature: must be positive, got ${o.temperature}`);
  const t2 = o.temperature * o.temperature;
  switch (o.mode) {
    case 'ce':
      return { ce: 1, kl: 0, js: 0 };
    case 'kl':
      return { ce: 0, kl: t2, js: 0 };
    case 'js':
      return { ce: 0, kl: 0, js: 1 };
    case 'all':
      return { ce: 1 - o.alpha, kl: o.alpha * t2, js: o.alpha };
    default:
      throw new Error(`mode: must be one of ${DISTILL_MODES.join(', ')}, got ${String(o.mode)}`);
  }
}

/** Loss of student logits (N, C) against teacher logits (N, C) and labels (N). */
export function distillLossForward(
  student: Float64Array,
  teacher: Float64Array,
  labels: Int32Array,
  N: number,
  C: number,
  o: DistillLossOptions,
): DistillLossValue {
  const w = distillWeights(o);
  const probs = new Float64Array(N * C);
  const ce = softmaxCrossEntropyForward(probs, student, labels, N, C).loss;
  const kl = klDivForward(teacher, student, N, C, o.temperature);
  const js = jsDivForward(teacher, student, N, C, o.temperature);
  return { loss: w.ce * ce + w.kl * kl + w.js * js, ce, kl, js };
}

/** Adds ∂loss/∂student into dstudent (N, C); the teacher gets no gradient (it is frozen). */
export function distillLossBackward(
  dstudent: Float64Array,
  student: Float64Array,
  teacher: Float64Array,
  labels: Int32Array,
  N: number,
  C: number,
  o: DistillLossOptions,
): void {
  const w = distillWeights(o);
  if (w.ce !== 0) {
    const probs = new Float64Array(N * C);
    const { count } = softmaxCrossEntropyForward(probs, student, labels, N, C);
    softmaxCrossEntropyBackward(dstudent, probs, labels, N, C, count, -100, w.ce);
  }
  if (w.kl !== 0) klDivBackward(null, dstudent, teacher, student, N, C, o.temperature, w.kl);
  if (w.js !== 0) jsDivBackward(null, dstudent, teacher, student, N, C, o.temperature, w.js);
}
