// The `sim-bench` config: which workloads the simulator benchmark times and how often. Isomorphic.
import { z } from 'zod';
import { about } from '../metadata/meta';

const int = (lo: number, hi: number) => z.number().int().min(lo).max(hi);
const sweep = (title: string, unit?: string) => about(title, { sweepable: true, unit });

export const SimBenchConfigSchema = z
  .object({
    largeQubits: z
      .array(int(4, 26))
      .max(6)
      .default([20, 22, 24])
      .meta(about('large states', { unit: 'qubits' }))
      .describe(
        'Qubit counts of the large-state gate-throughput workload (batch 1), against memcpy bandwidth.',
      ),
    largeGates: int(4, 200)
      .default(24)
      .meta(sweep('gates per timing', 'gates'))
      .describe('One-qubit gates per large-state timing (at most one per wire).'),
    qmlBatch: int(1, 8192)
      .default(1024)
      .meta(sweep('QML batch', 'samples'))
      .describe('Batch of the n = 10 gate-throughput workload.'),
    qdllmBatches: z
      .array(int(1, 4096))
      .max(4)
      .default([8, 256])
      .meta(about('QD-LLM batches', { unit: 'samples' }))
      .describe('Batches of the QD-LLM student circuit (n = 11), forward and adjoint gradient.'),
    qdllmLayers: int(1, 32)
      .default(11)
      .meta(sweep('QD-LLM layers', 'layers'))
      .describe('Ansatz layers L of the QD-LLM student circuit (the paper: 11).'),
    qffnBatch: int(1, 8192)
      .default(1024)
      .meta(sweep('QFFN batch', 'samples'))
      .describe('Batch of the QFFN-sized circuit: n = 10, amplitude input, strongly entangling layers.'),
    qffnDepth: int(1, 32)
      .default(8)
      .meta(sweep('QFFN depth', 'layers'))
      .describe('Strongly entangling layers of the QFFN-sized circuit.'),
    parameterShift: z
      .boolean()
      .default(true)
      .meta(about('parameter shift'))
      .describe('Time parameter-shift gradients too (2 evaluations per angle: slow by design).'),
    f64: z
      .boolean()
      .default(true)
      .meta(about('f64 rows'))
      .describe(
        'Also time the f64 (complex128) simulator beside f32: one-qubit gates up to 22 qubits and the QD-LLM circuits.',
      ),
    threads: int(0, 64)
      .default(2)
      .meta(sweep('threads'))
      .describe('Worker threads of the cpu backend for batched runs (0: the calling thread only).'),
    gpu: z
      .boolean()
      .default(false)
      .meta(about('gpu backend'))
      .describe('Also run the gpu.js backend (webgpu where an adapter exists, else webasm).'),
    peer: z
      .boolean()
      .default(true)
      .meta(about('PyTorch peer'))
      .describe('Run the PyTorch state-vector peer (shared/peers/torch_statevector.py) when available.'),
    repeats: int(1, 50)
      .default(3)
      .meta(about('repeats'))
      .describe('Timed repeats of each figure (the median is reported).'),
  })
  .strict();

export type SimBenchConfig = z.infer<typeof SimBenchConfigSchema>;

/** `--quick` (qlab bench sim, the GPU check kit): small states and batches, one repeat — a smoke run in seconds. */
export const QUICK_SIM_BENCH = {
  largeQubits: [16, 18],
  qmlBatch: 128,
  qdllmBatches: [8],
  qffnBatch: 64,
  qdllmLayers: 2,
  qffnDepth: 2,
  repeats: 1,
} as const satisfies Partial<SimBenchConfig>;
