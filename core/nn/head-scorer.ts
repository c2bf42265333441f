// The per-head seam of attention: a chosen head (layer l, head h) takes its pre-softmax scores from a HeadScorer
// instead of q·k/√hd. The causal mask, the softmax and the value mixing stay classical (attention.ts), so a
// scorer only maps one sequence's query and key rows of its head to a (rows × keys) score matrix and back.
// A scorer whose work batches well (one simulator call instead of one per sequence) may also offer `batch`:
// the same forward and backward over every sequence of a training step at once; the per-slot calls stay the
// reference (and serve KV-cached decoding).
import { checkPositiveInt, type Arr, type Parameter, type Module } from './tensor';

/** Where slot b's rows start in the batch arrays: q at b·q, k at b·k, its (T, T) scores at b·scores. */
export interface SlotStrides {
  q: number;
  k: number;
  scores: number;
}

/**
 * Forward and backward of slots 0 … B−1 at once over full sequences (n = S = T), equal to B per-slot calls
 * (up to the summation order of the parameter gradients).
 */
export interface HeadScorerBatch {
  /** scores of slot b (T, T) at scores[b·st.scores …] from q (T, hd) at q[b·st.q …] and k at k[b·st.k …]. */
  forward(scores: Arr, q: Arr, k: Arr, B: number, T: number, st: SlotStrides): void;
  /** From dscores laid out as forward's scores: adds into dq and dk (laid out as q and k) and the grads. */
  backward(dq: Arr, dk: Arr, dscores: Arr, q: Arr, k: Arr, B: number, T: number, st: SlotStrides): void;
}

export interface HeadScorer extends Module {
  /** hd: the width of the query and key rows it reads. */
  readonly headDim: number;
  /** Sizes the caches of `slots` forwards of up to `rows` queries and keys each (grows only). */
  prepare(slots: number, rows: number): void;
  /**
   * scores (n, S) row-major: entry (t, s) is the score of query t (position S − n + t) against key s, written for
   * every s ≤ S − n + t (entries above are masked and not read). q (n, hd) and k (S, hd) are the head's rows
   * after RoPE. Keeps what backward needs under `slot` (the model passes the sequence's batch index; the KV-cached
   * decoder passes 0).
   */
  forward(scores: Arr, q: Arr, k: Arr, n: number, S: number, slot: number): void;
  /**
   * From dscores (n, S) of forward `slot` (zero above the causal limit): adds ∂L/∂q into dq (n, hd), ∂L/∂k into
   * dk (S, hd) and ∂L/∂θ into the parameters' grads.
   */
  backward(dq: Arr, dk: Arr, dscores: Arr, q: Arr, k: Arr, n: number, S: number, slot: number): void;
  /** All slots at once (training forward/backward); null or absent: the model calls the per-slot methods. */
  readonly batch?: HeadScorerBatch | null;
}

/**
 * The classical score q·k/√hd as a HeadScorer: the reference the seam is tested against (a model with this
 * scorer on a head computes what the fast path computes, up to summation order).
 */
export class DotProductScorer implements HeadScorer {
  constructor(readonly headDim: number) {
    checkPositiveInt(headDim, 'scorer.headDim');
  }

  parameters(): Parameter[] {
    return [];
  }

  prepare(): void {}

  forward(scores: Arr, q: Arr, k: Arr, n: number, S: number): void {
    const hd = this.headDim;
    const scale = 1 / Math.sqrt(hd);
    for (let t = 0; t < n; t++) {
      const last = S - n + t;
      for (let s = 0; s <= last; s++) {
        let d = 0;
        for (let i = 0; i < hd; i++) d += q[t * hd + i] * k[s * hd + i];
        scores[t * S + s] = d * scale;
      }
    }
  }

  backward(dq: Arr, dk: Arr, dscores: Arr, q: Arr, k: Arr, n: number, S: number): void {
    const hd = this.headDim;
    const scale = 1 / Math.sqrt(hd);
    for (let t = 0; t < n; t++) {
      const last = S - n + t;
      for (let s = 0; s <= last; s++) {
        const g = dscores[t * S + s] * scale;
        if (g === 0) continue;
        for (let i = 0; i < hd; i++) {
          dq[t * hd + i] += g * k[s * hd + i];
          dk[s * hd + i] += g * q[t * hd + i];
        }
      }
    }
  }
}
