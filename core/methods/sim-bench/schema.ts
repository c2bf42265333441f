import { z } from 'zod';

export const SimBenchConfigSchema = z
  .object({
    /** Qubit counts for the large-state gate-throughput workload (B = 1). */
    largeQubits: z.array(z.number().int().min(4).max(26)).max(6).default([20, 22, 24]),
    /** One-qubit gates per large-state timing. */
    largeGates: z.number().int().min(4).max(200).default(24),
    /** QML batch for the n = 10 gate-throughput workload. */
    qmlBatch: z.number().int().min(1).max(8192).default(1024),
    /** Batches for the QD-LLM student circuit (n = 11, L = 11). */
    qdllmBatches: z.array(z.number().int().min(1).max(4096)).max(4).default([8, 256]),
    qdllmLayers: z.number().int().min(1).max(32).default(11),
    /** QFFN-sized circuit: n = 10, strongly entangling depth 8, amplitude input, batch 1024. */
    qffnBatch: z.number().int().min(1).max(8192).default(1024),
    qffnDepth: z.number().int().min(1).max(32).default(8),
    /** Time parameter-shift gradients too (2 evaluations per angle: slow by design). */
    parameterShift: z.boolean().default(true),
    /** Worker threads for the cpu backend's batched runs (0 = the calling thread only). */
    threads: z.number().int().min(0).max(64).default(2),
    /** Also run the gpu.js backend (webgpu where an adapter exists, else webasm). */
    gpu: z.boolean().default(false),
    /** Run the PyTorch peer (shared/peers/torch_statevector.py) in the same run when available. */
    peer: z.boolean().default(true),
    repeats: z.number().int().min(1).max(50).default(3),
  })
  .strict();

export type SimBenchConfig = z.infer<typeof SimBenchConfigSchema>;
