// The `vqc-fit` config: a seeded 2-D set, the re-uploading circuit's shape, training, the simulator and the
// matched classical baseline. Isomorphic, so the renderer's wizard validates with it as the lab does.
import { z } from 'zod';
import { GPU_F64_MESSAGE, PrecisionSchema } from '../../quantum/precision';
import { about, PRECISION_LABELS } from '../metadata/meta';
import { TOY_DATASETS } from './data';

const int = (lo: number, hi: number) => z.number().int().min(lo).max(hi);
const sweep = (title: string, unit?: string) => about(title, { sweepable: true, unit });

export const VqcFitConfigSchema = z
  .object({
    dataset: z
      .enum(TOY_DATASETS)
      .default('circles')
      .meta(sweep('dataset'))
      .describe('Seeded 2-D set: concentric circles, two moons, XOR quadrants or two spirals.'),
    samples: int(8, 20_000)
      .default(240)
      .meta(sweep('samples', 'samples'))
      .describe('Points drawn (half per class), then split into train and test.'),
    noise: z
      .number()
      .min(0)
      .max(1)
      .default(0.05)
      .meta(sweep('noise'))
      .describe('Standard deviation of the jitter added to each point (features lie in [−1, 1]).'),
    testFraction: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.25)
      .meta(about('test fraction'))
      .describe('Share of the points held out for the test accuracy.'),
    qubits: int(1, 16)
      .default(3)
      .meta(sweep('qubits', 'qubits'))
      .describe('Wires of the re-uploading circuit; the two features go to alternate wires.'),
    layers: int(1, 32)
      .default(4)
      .meta(sweep('layers', 'layers'))
      .describe('Re-uploading layers: RY(scale·x) on every wire, trainable RZ·RY, a CNOT ring.'),
    inputScale: z
      .number()
      .positive()
      .max(100)
      .default(Math.PI)
      .meta(sweep('input scale'))
      .describe('Input angle = scale · feature (features lie in [−1, 1]).'),
    epochs: int(1, 1000)
      .default(25)
      .meta(sweep('epochs', 'epochs'))
      .describe('Passes over the training points, for the circuit and the baseline alike.'),
    batchSize: int(1, 4096).default(16).meta(sweep('batch', 'samples')).describe('Samples per Adam step.'),
    lr: z
      .number()
      .positive()
      .max(10)
      .default(0.05)
      .meta(sweep('learning rate'))
      .describe('Adam learning rate, shared with the baseline.'),
    backend: z
      .enum(['cpu', 'gpu'])
      .default('cpu')
      .meta(about('simulator'))
      .describe('State-vector simulator: CPU, or GPU where the machine has one (f32 only).'),
    precision: PrecisionSchema.meta(about('precision', { optionLabels: PRECISION_LABELS })).describe(
      'Amplitudes of the simulated state: complex64 (fast) or complex128 for reference runs; the gpu runs f32 only.',
    ),
    baseline: z
      .boolean()
      .default(true)
      .meta(about('MLP baseline'))
      .describe(
        'Also train a GELU MLP with the circuit’s parameter count on the same data, seed and schedule.',
      ),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.backend === 'gpu' && c.precision === 'f64')
      ctx.addIssue({ code: 'custom', path: ['precision'], message: GPU_F64_MESSAGE });
  });
export type VqcFitConfig = z.infer<typeof VqcFitConfigSchema>;
