// The causal-LM side of the harness (QFFN and QTHA compare language models by perplexity): the interface a
// model offers — the lab's Transformer has it as it is — and the perplexity of a token stream in windows, with
// validation read as often as a method likes and test once.
import type { Parameter } from '../../nn/tensor';

export interface LanguageModel {
  parameters(): Parameter[];
  /**
   * Next-token logits for tokens (B, T); with targets (B·T ids, −100 where nothing is predicted) returns their
   * mean cross-entropy in nats, which lmBackward differentiates.
   */
  lmForward(tokens: Int32Array, B: number, T: number, targets?: Int32Array): number;
  /** Adds the gradient of the last lmForward's loss into the parameters' grads. */
  lmBackward(): void;
}

export interface Perplexity {
  /** Mean negative log-likelihood per predicted token, nats. */
  nll: number;
  perplexity: number;
  /** Tokens predicted: every token of the stream but the first. */
  tokens: number;
  windows: number;
}

export interface PerplexityOptions {
  /** Tokens per window (at most the model's context). */
  seqLen: number;
  /** Windows per forward. */
  batchSize: number;
  signal?: AbortSignal;
}

const IGNORE = -100;

/**
 * exp(mean NLL) of a token stream read in consecutive windows of seqLen inputs, each predicting the next
 * seqLen tokens, so every token but the first is predicted once with the context since its window began. The
 * last window is right-padded (the padding is never a target, and a causal model's real positions cannot see it).
 */
export function perplexity(model: LanguageModel, stream: Int32Array, o: PerplexityOptions): Perplexity {
  const T = o.seqLen;
  const predicted = stream.length - 1;
  if (!(T >= 1) || !(o.batchSize >= 1))
    throw new Error('perplexity: seqLen and batchSize must be at least 1');
  if (predicted < 1) throw new Error('perplexity: the stream needs at least two tokens');
  const windows = Math.ceil(predicted / T);
  const tokens = new Int32Array(o.batchSize * T);
  const targets = new Int32Array(o.batchSize * T);
  let nll = 0;
  for (let w0 = 0; w0 < windows; w0 += o.batchSize) {
    if (o.signal?.aborted) throw new Error('cancelled');
    const B = Math.min(o.batchSize, windows - w0);
    let count = 0;
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++) {
        const at = (w0 + b) * T + t;
        const real = at < predicted;
        tokens[b * T + t] = real ? stream[at] : 0;
        targets[b * T + t] = real ? stream[at + 1] : IGNORE;
        if (real) count++;
      }
    const loss = model.lmForward(tokens.subarray(0, B * T), B, T, targets.subarray(0, B * T));
    nll += loss * count;
  }
  const mean = nll / predicted;
  return { nll: mean, perplexity: Math.exp(mean), tokens: predicted, windows };
}

/** A model's validation and test streams: validation any number of times, test once (the final report). */
export class LanguageModelEvaluation {
  private testRead = false;

  constructor(
    private readonly model: LanguageModel,
    private readonly splits: { validation: Int32Array; test: Int32Array },
    private readonly o: PerplexityOptions,
  ) {}

  validation(): Perplexity {
    return perplexity(this.model, this.splits.validation, this.o);
  }

  /** The test perplexity; a second call throws (selection must not see test). */
  test(): Perplexity {
    if (this.testRead) throw new Error('the test split was already evaluated for this model');
    this.testRead = true;
    return perplexity(this.model, this.splits.test, this.o);
  }
}
