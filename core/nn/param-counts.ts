// Trainable-parameter counts of the lab's classical models by formula, kept apart from the layers so the
// config schemas' metadata and the renderer can size a comparison without loading any kernel. Tests check
// each against countParameters of the built model.

/** Trainable parameters of the E → h → C MLP with biases: h(E + 1) + C(h + 1). */
export function mlpParamCount(E: number, h: number, C: number): number {
  return h * (E + 1) + C * (h + 1);
}

/** The hidden width whose parameter count is closest to `target` (at least 1). */
export function mlpHiddenForParams(target: number, E: number, C: number): number {
  return Math.max(1, Math.round((target - C) / (E + 1 + C)));
}

export interface LlamaClassifierShape {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  classes: number;
}

/**
 * A LLaMA-flavour transformer with tied embeddings and a Linear(H → C) head (nn/text-classifier.ts):
 * V·H + layers·(2H + 4H² + 3H·I) + H + H·C + C (RMSNorm weights, q/k/v/o without bias, SwiGLU gate/up/down).
 */
export function llamaClassifierParamCount(s: LlamaClassifierShape): number {
  const H = s.hiddenSize;
  const block = 2 * H + 4 * H * H + 3 * H * s.intermediateSize;
  return s.vocabSize * H + s.layers * block + H + H * s.classes + s.classes;
}
