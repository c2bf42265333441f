// Texts as token ids for the language-model methods: ragged encodings, padded batches, frozen mean-pooled
// embeddings, and a transformer with a pooled classification head whose backward takes any ∂L/∂logits
// (so it can be fine-tuned with CE or distilled with KL/JS).
//
// Padding is exact here: the transformer's attention is causal, so appending pad tokens after a text never
// changes the hidden states of its real positions, and pooling reads only those positions.
import { Linear } from './layers';
import { Rng } from '../util/rng';
import type { Tokenizer } from './tokenizers';
import type { Parameter, Arr } from './tensor';
import type { Transformer } from './transformer';

/** N texts as ragged token ids: text i is ids[offsets[i] .. offsets[i+1]). */
export interface EncodedTexts {
  offsets: Int32Array; // (N + 1)
  ids: Int32Array; // (total)
}

export function encodedCount(e: EncodedTexts): number {
  return e.offsets.length - 1;
}

/**
 * Encodes each text, keeping its first maxTokens ids. Only the first maxTokens·16 characters are tokenised
 * (more could never survive the truncation for any byte-level tokenizer's typical rate). An empty text
 * becomes the single id `emptyId` so every text has at least one position to pool.
 */
export function encodeTexts(
  tokenizer: Tokenizer,
  texts: readonly string[],
  maxTokens: number,
  emptyId = 0,
): EncodedTexts {
  const parts: number[][] = texts.map((t) => {
    const ids = tokenizer.encode(t.slice(0, maxTokens * 16)).slice(0, maxTokens);
    return ids.length > 0 ? ids : [emptyId];
  });
  const offsets = new Int32Array(parts.length + 1);
  parts.forEach((p, i) => (offsets[i + 1] = offsets[i] + p.length));
  const ids = new Int32Array(offsets[parts.length]);
  parts.forEach((p, i) => ids.set(p, offsets[i]));
  return { offsets, ids };
}

export interface PaddedBatch {
  tokens: Int32Array; // (B, T), padded with padId after each text
  lengths: Int32Array; // (B)
  B: number;
  T: number;
}

/** Rows of an encoding as one right-padded batch, T = the longest row. */
export function padBatch(e: EncodedTexts, rows: ArrayLike<number>, padId = 0): PaddedBatch {
  const B = rows.length;
  const lengths = new Int32Array(B);
  let T = 1;
  for (let b = 0; b < B; b++) {
    const r = rows[b];
    lengths[b] = e.offsets[r + 1] - e.offsets[r];
    if (lengths[b] > T) T = lengths[b];
  }
  const tokens = new Int32Array(B * T).fill(padId);
  for (let b = 0; b < B; b++) {
    const r = rows[b];
    tokens.set(e.ids.subarray(e.offsets[r], e.offsets[r + 1]), b * T);
  }
  return { tokens, lengths, B, T };
}

/** Mean of the embedding-table rows of each text's tokens: (N, E) in f64. The table is only read. */
export function meanTokenEmbeddings(table: Arr, E: number, e: EncodedTexts): Float64Array {
  const N = encodedCount(e);
  const out = new Float64Array(N * E);
  for (let i = 0; i < N; i++) {
    const a = e.offsets[i];
    const z = e.offsets[i + 1];
    const o = i * E;
    for (let k = a; k < z; k++) {
      const row = e.ids[k] * E;
      for (let c = 0; c < E; c++) out[o + c] += table[row + c];
    }
    const inv = 1 / Math.max(1, z - a);
    for (let c = 0; c < E; c++) out[o + c] *= inv;
  }
  return out;
}

export type Pooling = 'mean' | 'last';

/**
 * A transformer trunk + pooling over each text's real positions + Linear(hidden → classes).
 * forward returns f64 logits (B, C); backward takes f64 ∂L/∂logits and reaches every unfrozen parameter.
 */
export class TransformerClassifier {
  readonly head: Linear;
  private batch: PaddedBatch | null = null;
  private pooled: Arr | null = null; // (B, H) in the model's dtype

  constructor(
    readonly model: Transformer,
    readonly classes: number,
    readonly pooling: Pooling,
    seed: number,
    name = 'classifier',
  ) {
    const H = model.config.hiddenSize;
    this.head = new Linear(`${name}.head`, H, classes, { bias: true, dtype: model.dtype });
    new Rng(seed).fillNormal(this.head.weight.data, 1 / Math.sqrt(H));
  }

  get hiddenSize(): number {
    return this.model.config.hiddenSize;
  }

  parameters(): Parameter[] {
    return [...this.model.parameters(), ...this.head.parameters()];
  }

  /** Pooled final hidden states (B, H) of a padded batch, in the model's dtype. */
  pool(batch: PaddedBatch): Arr {
    const { B, T, lengths } = batch;
    const H = this.hiddenSize;
    const hidden = this.model.forwardHidden(batch.tokens, B, T);
    const pooled = this.model.dtype === 'f64' ? new Float64Array(B * H) : new Float32Array(B * H);
    for (let b = 0; b < B; b++) {
      const len = lengths[b];
      const t0 = this.pooling === 'mean' ? 0 : len - 1;
      const w = 1 / (len - t0);
      for (let t = t0; t < len; t++) {
        const o = (b * T + t) * H;
        for (let c = 0; c < H; c++) pooled[b * H + c] += w * hidden[o + c];
      }
    }
    this.batch = batch;
    this.pooled = pooled;
    return pooled;
  }

  forward(batch: PaddedBatch): Float64Array {
    const pooled = this.pool(batch);
    const out =
      this.model.dtype === 'f64'
        ? new Float64Array(batch.B * this.classes)
        : new Float32Array(batch.B * this.classes);
    this.head.forward(out, pooled, batch.B);
    return Float64Array.from(out);
  }

  /** Adds gradients of the last forward's loss, given ∂L/∂logits (B, C). */
  backward(dlogits: Float64Array): void {
    const batch = this.batch;
    const pooled = this.pooled;
    if (!batch || !pooled) throw new Error('TransformerClassifier.backward: call forward first');
    const { B, T, lengths } = batch;
    const H = this.hiddenSize;
    const f64 = this.model.dtype === 'f64';
    const dl = f64 ? dlogits : Float32Array.from(dlogits);
    const dpooled = f64 ? new Float64Array(B * H) : new Float32Array(B * H);
    this.head.backward(dpooled, dl, pooled, B);
    const dhidden = f64 ? new Float64Array(B * T * H) : new Float32Array(B * T * H);
    for (let b = 0; b < B; b++) {
      const len = lengths[b];
      const t0 = this.pooling === 'mean' ? 0 : len - 1;
      const w = 1 / (len - t0);
      for (let t = t0; t < len; t++) {
        const o = (b * T + t) * H;
        for (let c = 0; c < H; c++) dhidden[o + c] = w * dpooled[b * H + c];
      }
    }
    this.model.backwardHidden(dhidden);
  }
}

/**
 * Mean of the final hidden states over every token of each text, (N, H) in f64. A text longer than the
 * model's maxSeqLen is cut into windows of maxSeqLen, each run from position 0; windows of several texts
 * share one right-padded forward of up to `batch` rows (exact, see the padding note above).
 */
export function meanHiddenStates(
  model: Transformer,
  e: EncodedTexts,
  batch = 16,
  onProgress?: (textsDone: number) => void,
): Float64Array {
  const N = encodedCount(e);
  const H = model.config.hiddenSize;
  const W = model.config.maxSeqLen;
  // windows as (text, first id, length), in text order
  const wText: number[] = [];
  const wStart: number[] = [];
  const wLen: number[] = [];
  for (let i = 0; i < N; i++)
    for (let s = e.offsets[i]; s < e.offsets[i + 1]; s += W) {
      wText.push(i);
      wStart.push(s);
      wLen.push(Math.min(W, e.offsets[i + 1] - s));
    }
  const out = new Float64Array(N * H);
  for (let w0 = 0; w0 < wText.length; w0 += batch) {
    const B = Math.min(batch, wText.length - w0);
    let T = 1;
    for (let b = 0; b < B; b++) T = Math.max(T, wLen[w0 + b]);
    const tokens = new Int32Array(B * T);
    for (let b = 0; b < B; b++)
      tokens.set(e.ids.subarray(wStart[w0 + b], wStart[w0 + b] + wLen[w0 + b]), b * T);
    const hidden = model.forwardHidden(tokens, B, T);
    for (let b = 0; b < B; b++) {
      const o = wText[w0 + b] * H;
      for (let t = 0; t < wLen[w0 + b]; t++) {
        const r = (b * T + t) * H;
        for (let c = 0; c < H; c++) out[o + c] += hidden[r + c];
      }
    }
    onProgress?.(wText[w0 + B - 1] + (w0 + B === wText.length ? 1 : 0));
  }
  for (let i = 0; i < N; i++) {
    const inv = 1 / Math.max(1, e.offsets[i + 1] - e.offsets[i]);
    for (let c = 0; c < H; c++) out[i * H + c] *= inv;
  }
  return out;
}
