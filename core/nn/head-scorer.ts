// The per-head seam of attention: a chosen head (layer l, head h) takes its pre-softmax scores from a HeadScorer
// instead of q·k/√hd. The causal mask, the softmax and the value mixing stay classical (attention.ts), so a
// scorer only maps one sequence's query and key rows of its head to a (rows × keys) score matrix and back.
import { checkPositiveInt, type Arr, type Parameter, type Module } from './tensor';

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
