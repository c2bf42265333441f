// The `vqc-fit` job kind: a data re-uploading variational classifier (Pérez-Salinas et al. 2020) trained
// on a seeded 2-D set with the simulator's adjoint gradient, beside an MLP with a matched parameter count
// trained on the same data, seed and schedule. Small and quick: the lab's smoke test of a real training run.
import { z } from 'zod';
import { Linear } from '../../nn/layers';
import { softmaxCrossEntropyBackward, softmaxCrossEntropyForward } from '../../nn/losses';
import { Adam } from '../../nn/optim';
import { QuantumLayer } from '../../nn/quantum-layer';
import { Rng } from '../../util/rng';
import { countParameters, zeroGrad, type Parameter } from '../../nn/tensor';
import type { Simulator } from '../../quantum/backend';
import { CircuitBuilder, type Circuit } from '../../quantum/circuit';
import { mlpHiddenForParams, MlpClassifier } from '../../nn/mlp';
import { GPU_F64_MESSAGE, PrecisionSchema } from '../../quantum/precision';
import {
  createSimulator,
  describeBackend,
  describeRan,
  ranRecord,
  recordingSimulator,
} from '../../quantum/simulators';
import type { JobContext, JobKind } from '../job';
import { makeToyDataset, splitToy, TOY_DATASETS, type ToySet } from './data';

export const VqcFitConfigSchema = z
  .object({
    dataset: z.enum(TOY_DATASETS).default('circles'),
    samples: z.number().int().min(8).max(20_000).default(240),
    noise: z.number().min(0).max(1).default(0.05),
    testFraction: z.number().gt(0).lt(1).default(0.25),
    qubits: z.number().int().min(1).max(16).default(3),
    layers: z.number().int().min(1).max(32).default(4),
    /** Input angle = scale · feature (features lie in [−1, 1]). */
    inputScale: z.number().positive().max(100).default(Math.PI),
    epochs: z.number().int().min(1).max(1000).default(25),
    batchSize: z.number().int().min(1).max(4096).default(16),
    lr: z.number().positive().max(10).default(0.05),
    backend: z.enum(['cpu', 'gpu']).default('cpu'),
    /** State-vector precision: f32 = complex64 (fast), f64 = complex128 (cpu only, reference). */
    precision: PrecisionSchema,
    /** Train the matched classical baseline beside the circuit. */
    baseline: z.boolean().default(true),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.backend === 'gpu' && c.precision === 'f64')
      ctx.addIssue({ code: 'custom', path: ['precision'], message: GPU_F64_MESSAGE });
  });
export type VqcFitConfig = z.infer<typeof VqcFitConfigSchema>;

const CLASSES = 2;

/** Per layer: RY(scale·x_{q mod 2}) on every wire, RZ(θ)·RY(θ) on every wire, a CNOT ring. */
export function reuploadingCircuit(qubits: number, layers: number, inputScale: number): Circuit {
  const b = new CircuitBuilder(qubits, 2);
  for (let l = 0; l < layers; l++) {
    for (let q = 0; q < qubits; q++) b.gate('RY', [q], [b.x(q % 2, inputScale)]);
    for (let q = 0; q < qubits; q++) {
      b.gate('RZ', [q], [b.p()]);
      b.gate('RY', [q], [b.p()]);
    }
    if (qubits > 1)
      for (let q = 0; q < qubits; q++) if (qubits > 2 || q === 0) b.gate('CNOT', [q, (q + 1) % qubits]);
  }
  return b.build();
}

interface Model {
  name: string;
  params: Parameter[];
  /** Logits (B, 2) for inputs (B, 2). */
  forward(x: Float64Array, B: number): Promise<Float64Array>;
  backward(dlogits: Float64Array, B: number): Promise<void>;
}

function quantumModel(cfg: VqcFitConfig, sim: Simulator, seed: number): Model {
  const circuit = reuploadingCircuit(cfg.qubits, cfg.layers, cfg.inputScale);
  const q = new QuantumLayer('vqc', circuit, sim, { seed, dtype: 'f64' });
  const head = new Linear('head', cfg.qubits, CLASSES, { bias: true, dtype: 'f64' });
  new Rng(seed + 1).fillNormal(head.weight.data, 1 / Math.sqrt(cfg.qubits));
  let z: Float64Array = new Float64Array(0);
  return {
    name: 'quantum',
    params: [...q.parameters(), ...head.parameters()],
    async forward(x, B) {
      z = await q.forward(x, B);
      const out = new Float64Array(B * CLASSES);
      head.forward(out, z, B);
      return out;
    },
    async backward(dlogits, B) {
      const dz = new Float64Array(B * cfg.qubits);
      head.backward(dz, dlogits, z, B);
      await q.backward(dz);
    },
  };
}

function mlpModel(hidden: number, seed: number): Model {
  const mlp = new MlpClassifier(2, hidden, CLASSES, seed);
  return {
    name: 'mlp',
    params: mlp.parameters(),
    async forward(x, B) {
      return mlp.forward(x, B);
    },
    async backward(dlogits) {
      mlp.backward(dlogits);
    },
  };
}

async function accuracy(m: Model, set: ToySet): Promise<number> {
  const logits = await m.forward(set.x, set.n);
  let ok = 0;
  for (let i = 0; i < set.n; i++) if ((logits[2 * i + 1] > logits[2 * i] ? 1 : 0) === set.y[i]) ok++;
  return ok / set.n;
}

async function train(
  m: Model,
  cfg: VqcFitConfig,
  data: { train: ToySet; test: ToySet },
  seed: number,
  ctx: JobContext,
  share: [number, number],
) {
  const opt = new Adam(m.params);
  const rng = new Rng(seed ^ 0x1234567);
  const { train: tr, test } = data;
  const order = Array.from({ length: tr.n }, (_, i) => i);
  const steps = Math.ceil(tr.n / cfg.batchSize);
  let global = 0;
  const t0 = performance.now();
  let last = { loss: NaN, trainAcc: NaN, testAcc: NaN };
  for (let epoch = 1; epoch <= cfg.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    let lossSum = 0;
    for (let s = 0; s < steps; s++) {
      // let the worker's event loop run (cancel messages, timers) between steps
      await new Promise((resolve) => setImmediate(resolve));
      if (ctx.signal.aborted) throw new Error('cancelled');
      const ids = order.slice(s * cfg.batchSize, (s + 1) * cfg.batchSize);
      const B = ids.length;
      const x = new Float64Array(2 * B);
      const y = new Int32Array(B);
      ids.forEach((k, i) => {
        x[2 * i] = tr.x[2 * k];
        x[2 * i + 1] = tr.x[2 * k + 1];
        y[i] = tr.y[k];
      });
      zeroGrad(m.params);
      const logits = await m.forward(x, B);
      const probs = new Float64Array(B * CLASSES);
      const { loss, count } = softmaxCrossEntropyForward(probs, logits, y, B, CLASSES);
      const dlogits = new Float64Array(B * CLASSES);
      softmaxCrossEntropyBackward(dlogits, probs, y, B, CLASSES, count);
      await m.backward(dlogits, B);
      opt.step(cfg.lr);
      lossSum += loss * B;
      ctx.metrics([{ key: `${m.name}/step_loss`, step: ++global, value: loss }]);
    }
    last = { loss: lossSum / tr.n, trainAcc: await accuracy(m, tr), testAcc: await accuracy(m, test) };
    ctx.metrics([
      { key: `${m.name}/loss`, step: epoch, value: last.loss },
      { key: `${m.name}/train_acc`, step: epoch, value: last.trainAcc },
      { key: `${m.name}/test_acc`, step: epoch, value: last.testAcc },
    ]);
    ctx.progress(
      share[0] + (share[1] - share[0]) * (epoch / cfg.epochs),
      `${m.name} epoch ${epoch}/${cfg.epochs}`,
    );
  }
  return { ...last, seconds: (performance.now() - t0) / 1000, params: countParameters(m.params, true) };
}

export const vqcFitKind: JobKind<VqcFitConfig> = {
  kind: 'vqc-fit',
  title: 'Variational circuit fit',
  description:
    'A data re-uploading variational classifier on a seeded 2-D set (circles, moons, XOR, spirals), trained with adjoint gradients beside an MLP with the same number of trainable parameters.',
  schema: VqcFitConfigSchema as unknown as JobKind<VqcFitConfig>['schema'],
  defaults: VqcFitConfigSchema.parse({}),
  async run(cfg, ctx) {
    const data = splitToy(
      makeToyDataset(cfg.dataset, cfg.samples, cfg.noise, ctx.seed),
      cfg.testFraction,
      ctx.seed,
    );
    const { sim, ran } = recordingSimulator(await createSimulator(cfg.backend, cfg.precision));
    ctx.log('info', `backend ${describeBackend(sim.info)}`);
    try {
      const qm = quantumModel(cfg, sim, ctx.seed);
      const qParams = countParameters(qm.params, true);
      const results = [
        {
          model: `VQC ${cfg.qubits} qubits × ${cfg.layers} layers`,
          ...(await train(qm, cfg, data, ctx.seed, ctx, [0, cfg.baseline ? 0.5 : 1])),
        },
      ];
      if (cfg.baseline) {
        const hidden = mlpHiddenForParams(qParams, 2, CLASSES);
        const mm = mlpModel(hidden, ctx.seed + 7);
        results.push({
          model: `MLP 2-${hidden}-2 (GELU)`,
          ...(await train(mm, cfg, data, ctx.seed, ctx, [0.5, 1])),
        });
      }
      const q = results[0];
      const summary: Record<string, number | string> = {
        quantum_test_acc: q.testAcc,
        quantum_train_acc: q.trainAcc,
        quantum_loss: q.loss,
        quantum_params: q.params,
        backend: describeRan(ran),
      };
      if (results[1]) {
        summary.mlp_test_acc = results[1].testAcc;
        summary.mlp_params = results[1].params;
      }
      return {
        summary,
        backend: ranRecord(ran, sim.info),
        report: [
          {
            type: 'table',
            title: `${cfg.dataset}: ${data.train.n} train / ${data.test.n} test samples`,
            columns: ['model', 'trainable params', 'final loss', 'train acc', 'test acc', 'train time (s)'],
            rows: results.map((r) => [
              r.model,
              r.params,
              Number(r.loss.toFixed(4)),
              Number(r.trainAcc.toFixed(4)),
              Number(r.testAcc.toFixed(4)),
              Number(r.seconds.toFixed(2)),
            ]),
          },
        ],
      };
    } finally {
      sim.dispose();
    }
  },
};
