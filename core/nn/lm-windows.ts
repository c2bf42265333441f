// Language-model training data: random next-token windows from a token stream (the pretraining and fine-tuning
// loops of qffn, qtha's base model and qdllm's teacher all draw their batches this way).
import type { Rng } from '../util/rng';

/** B random windows of T + 1 tokens from `stream` (inputs and next-token targets), by `rng`. */
export function sampleWindows(
  stream: Int32Array,
  B: number,
  T: number,
  rng: Rng,
  tokens: Int32Array,
  targets: Int32Array,
): void {
  for (let b = 0; b < B; b++) {
    const at = rng.int(stream.length - T - 1);
    tokens.set(stream.subarray(at, at + T), b * T);
    targets.set(stream.subarray(at + 1, at + T + 1), b * T);
  }
}
