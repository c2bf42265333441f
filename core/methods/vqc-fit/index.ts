// The `vqc-fit` job kind: a data re-uploading variational classifier (Pérez-Salinas et al. 2020) trained
// on a seeded 2-D set with the simulator's adjoint gradient, beside an MLP with a matched parameter count
// trained on the same data, seed and schedule. Small and quick: the lab's smoke test of a real training run.
import { Linear } from '../../nn/layers';
import { softmaxCrossEntropyBackward, softmaxCrossEntropyForward } from '../../nn/losses';
import { Adam } from '../../nn/optim';
import { QuantumLayer } from '../../nn/quantum-layer';
import { Rng } from '../../util/rng';
import { countParameters, zeroGrad, type Parameter } from '../../nn/tensor';
import type { Simulator } from '../../quantum/backend';
import { MlpClassifier } from '../../nn/mlp';
import { mlpHiddenForParams } from '../../nn/param-counts';
import {
  createSimulator,
  describeBackend,
  describeRan,
  ranRecord,
  recordingSimulator,
} from '../../quantum/simulators';
import { defineJobKind, type JobContext } from '../job';
import { reuploadingCircuit } from './circuit';
import { makeToyDataset, splitToy, type ToySet } from './data';
import { vqcFitMeta } from './meta';
import type { VqcFitConfig } from './schema';

export { reuploadingCircuit } from './circuit';
export { VqcFitConfigSchema, type VqcFitConfig } from './schema';

const CLASSES = 2;

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

export const vqcFitKind = defineJobKind({
  meta: vqcFitMeta,
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
});
