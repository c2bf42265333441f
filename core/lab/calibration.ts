// Run-time estimates from a calibration this machine measures once, with the lab's own kernels: seconds per
// amplitude update (a batch of re-uploading circuits through the cpu simulator's adjoint vjp, counted as a
// kind's WorkEstimate counts a training step: 4 sweeps of gates × 2^(n−1) amplitude pairs) and seconds per
// flop (training steps of a small llama-style LM: 6 flops per parameter per token), stored in
// `<labDir>/calibration.json` with the date and the host. A kind states the work of a config
// (KindMeta.work); the estimate is work × these rates. Every rate comes from a timing on this machine.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { rateAt, type Calibration } from '../api/lab-api';
import { reuploadingCircuit } from '../methods/vqc-fit/circuit';
import { countParameters, zeroGrad } from '../nn/tensor';
import { Transformer, type TransformerConfig } from '../nn/transformer';
import { observablesOf } from '../quantum/circuit';
import { resources } from '../quantum/resources';
import { createSimulator } from '../quantum/simulators';

export const CALIBRATION_FILE = 'calibration.json';

const CalibrationSchema = z
  .object({
    measuredAt: z.string(),
    secondsPerAmplitudeOp: z.number().positive().finite(),
    amplitudeRates: z
      .array(
        z
          .object({
            qubits: z.number().int().positive(),
            secondsPerAmplitudeOp: z.number().positive().finite(),
          })
          .strict(),
      )
      .min(1),
    secondsPerFlop: z.number().positive().finite(),
    host: z.object({ cpu: z.string(), cores: z.number().int().positive() }),
    detail: z.string(),
  })
  .strict();

/** The stored calibration, or null when none was measured (or the file is not one). */
export function readCalibration(labDir: string): Calibration | null {
  const file = join(labDir, CALIBRATION_FILE);
  if (!existsSync(file)) return null;
  try {
    const r = CalibrationSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

export function writeCalibration(labDir: string, c: Calibration): void {
  const file = join(labDir, CALIBRATION_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(c, null, 2)}\n`);
  renameSync(tmp, file);
}

/**
 * The best of a few timings of `f` (after one warm-up call), in seconds: other work on a busy machine only
 * ever slows a timing down, so the fastest is the machine's own speed.
 */
async function bestSeconds(f: () => unknown, repeats: number): Promise<number> {
  await f();
  const t: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const a = performance.now();
    await f();
    t.push((performance.now() - a) / 1000);
  }
  return Math.min(...t);
}

/** Workload sizes: small enough for a few seconds in all on 2 cores. */
export const CALIBRATION_SIM = { layers: 4, batch: 32 };
/** Circuit widths the simulator is timed at. */
export const CALIBRATION_WIDTHS = [4, 6, 8, 10, 12] as const;
export const CALIBRATION_NN: TransformerConfig = {
  flavour: 'llama',
  vocabSize: 256,
  hiddenSize: 64,
  intermediateSize: 172,
  numLayers: 2,
  numHeads: 4,
  maxSeqLen: 32,
};
const NN_BATCH = 4;

/** Transformer FLOPs of one training step (forward + backward: 6 per parameter per token, the usual rule). */
export function transformerStepFlops(params: number, tokens: number): number {
  return 6 * params * tokens;
}

/** Amplitude updates (2×2 gate on one amplitude pair) of `batch` rows through `gates` gates on `qubits` qubits, `sweeps` times. */
export function amplitudeOps(gates: number, qubits: number, batch: number, sweeps: number): number {
  return gates * 2 ** (qubits - 1) * batch * sweeps;
}

/** Gate sweeps of one adjoint training pass (forward and the adjoint's backward sweeps), as the kinds count it. */
export const TRAINING_SWEEPS = 4;

/** Measures both rates on this machine (a few seconds). */
export async function measureCalibration(now = () => new Date()): Promise<Calibration> {
  // Simulator: a training step (forward expval, then the adjoint vjp) of a batch of re-uploading circuits,
  // as vqc-fit trains them, at several widths: small circuits pay per-gate overheads that an amplitude
  // count misses, so the rate is kept per width and an estimate reads it at the run's width.
  const sim = await createSimulator('cpu', 'f32');
  const amplitudeRates: { qubits: number; secondsPerAmplitudeOp: number }[] = [];
  const parts: string[] = [];
  try {
    for (const qubits of CALIBRATION_WIDTHS) {
      const { layers, batch } = CALIBRATION_SIM;
      const circuit = reuploadingCircuit(qubits, layers, 1);
      const gates = resources(circuit).gates;
      const params = Float64Array.from({ length: circuit.numParams }, (_, i) => 0.1 * (i + 1));
      const inputs = Float64Array.from({ length: batch * circuit.numInputs }, (_, i) => Math.sin(i));
      const req = { circuit, params, inputs, batch };
      const d = new Float64Array(batch * observablesOf(circuit).length).fill(1);
      const seconds = await bestSeconds(async () => {
        await sim.expval(req);
        await sim.vjp(req, d);
      }, 5);
      amplitudeRates.push({
        qubits,
        secondsPerAmplitudeOp: seconds / amplitudeOps(gates, qubits, batch, TRAINING_SWEEPS),
      });
      parts.push(`${qubits} qubits ${(seconds * 1000).toFixed(1)} ms`);
    }
  } finally {
    sim.dispose();
  }

  // Transformer: zero grads, LM forward with targets, backward.
  const m = new Transformer(CALIBRATION_NN, { dtype: 'f32', seed: 1 });
  const T = CALIBRATION_NN.maxSeqLen;
  const tokens = Int32Array.from({ length: NN_BATCH * T }, (_, i) => (i * 7) % CALIBRATION_NN.vocabSize);
  const targets = Int32Array.from({ length: NN_BATCH * T }, (_, i) => (i * 7 + 1) % CALIBRATION_NN.vocabSize);
  const params = countParameters(m.parameters());
  const nnSeconds = await bestSeconds(() => {
    zeroGrad(m.parameters());
    m.lmForward(tokens, NN_BATCH, T, targets);
    m.lmBackward();
  }, 5);
  const nnFlops = transformerStepFlops(params, NN_BATCH * T);

  const cpu = cpus();
  return {
    measuredAt: now().toISOString(),
    secondsPerAmplitudeOp: rateAt(amplitudeRates, CALIBRATION_WIDTHS[CALIBRATION_WIDTHS.length - 1]),
    amplitudeRates,
    secondsPerFlop: nnSeconds / nnFlops,
    host: { cpu: cpu[0]?.model ?? 'unknown', cores: Math.max(1, cpu.length) },
    detail:
      `simulator: a training step (expval + vjp, f32, cpu) of ${CALIBRATION_SIM.layers}-layer re-uploading circuits, batch ${CALIBRATION_SIM.batch}: ${parts.join(', ')}; ` +
      `transformer: ${params} parameters, ${NN_BATCH}×${T} tokens, a training step in ${(nnSeconds * 1000).toFixed(1)} ms (f32)`,
  };
}
