// Batch splitting: gpu.js's WGSL kernels index with f32 locals, exact only below 2^24, so every
// device array of one call (state, per-row matrices, partial sums) must stay within MAX_FLOATS.

export const MAX_FLOATS = 2 ** 24;

export interface ChunkPlan {
  /** Rows every device call is built for; the last chunk is padded up to it (one trace serves all). */
  rowsPerChunk: number;
  /** Real rows of the batch covered by each call. */
  chunks: { start: number; rows: number }[];
}

/**
 * Splits `batch` rows into equal calls so that rowsPerChunk · floatsPerRow ≤ maxFloats.
 * floatsPerRow is the largest per-row footprint among the call's device arrays.
 */
export function planChunks(batch: number, floatsPerRow: number, maxFloats = MAX_FLOATS): ChunkPlan {
  if (!Number.isInteger(batch) || batch < 1)
    throw new Error(`batch must be a positive integer, got ${batch}`);
  if (!(floatsPerRow > 0)) throw new Error(`floatsPerRow must be positive, got ${floatsPerRow}`);
  if (floatsPerRow > maxFloats) {
    throw new Error(
      `one batch row needs ${floatsPerRow} floats on the device, more than the ${maxFloats} that f32 indices address exactly; use fewer qubits or the cpu backend`,
    );
  }
  const maxRows = Math.floor(maxFloats / floatsPerRow);
  const count = Math.ceil(batch / maxRows);
  const rowsPerChunk = Math.ceil(batch / count);
  const chunks: { start: number; rows: number }[] = [];
  for (let start = 0; start < batch; start += rowsPerChunk) {
    chunks.push({ start, rows: Math.min(rowsPerChunk, batch - start) });
  }
  return { rowsPerChunk, chunks };
}
