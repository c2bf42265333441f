// A tiny llama-flavoured transformer and one batch of tokens for it (2 sequences of 5; one target masked with
// -100), shared by the transformer and FFN tests that check gradients and equivalences on it; and a tiny
// Hugging Face config for the `qlab lm` tests.
import type { TransformerConfig } from '../../core/nn/transformer';

export const tinyTransformer = (over: Partial<TransformerConfig> = {}): TransformerConfig => ({
  flavour: 'llama',
  vocabSize: 11,
  hiddenSize: 8,
  intermediateSize: 12,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  maxSeqLen: 6,
  initStd: 0.3,
  ...over,
});

/** B sequences of T tokens (row-major) and their next-token targets. */
export const TINY_BATCH = {
  B: 2,
  T: 5,
  tokens: Int32Array.of(1, 5, 2, 9, 3, 0, 10, 4, 4, 7),
  targets: Int32Array.of(5, 2, 9, 3, -100, 10, 4, 4, 7, 1),
} as const;

/** The Hugging Face config of a 1-layer, 8-wide LM (2 heads, 1 KV head) on `vocabSize` tokens, `maxPos` long. */
export const tinyHfLm = (vocabSize: number, maxPos: number) => ({
  vocab_size: vocabSize,
  hidden_size: 8,
  intermediate_size: 16,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  max_position_embeddings: maxPos,
});
