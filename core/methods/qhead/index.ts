// The `qhead` job kind: a quantum fine-tuning head (arXiv 2504.08732) on a frozen sentence encoder, beside
// logistic regression and a parameter-matched MLP on the same embeddings, splits, epochs and seeds; an
// optional screening sweep with its main-effects table; and a simulation-vs-QPU energy and scaling estimate.
import { join } from 'node:path';
import {
  getDataset,
  importClassificationFile,
  splitClassBalanced,
  type ClassificationDataset,
  type LabelledText,
} from '../../data';
import type { Simulator } from '../../quantum/backend';
import { formatMeanStd, meanStd } from '../common/classification';
import { mlpHiddenForParams } from '../common/mlp';
import { configureCompute } from '../common/compute';
import { childOrInline, type JobContext, type JobKind, type MetricPoint, type ReportSection } from '../job';
import { headParameterCounts, module1Inputs, module1Qubits, type HeadShape } from './circuits';
import {
  buildEncoder,
  hashKey,
  readCachedSplit,
  splitSignature,
  standardize,
  writeCachedSplit,
  type EmbeddedSplit,
  type SentenceEncoder,
} from './encoder';
import { energyEstimate, measureScaling, type EnergyEstimate, type Module2Family } from './energy';
import { createHeadSimulator, logisticModel, mlpModel, quantumHead, type Model } from './models';
import { QheadConfigSchema, type QheadConfig } from './schema';
import { designPoints, effectSizes, mainEffects, type SweepPoint } from './sweep';
import { trainModel, type TrainResult } from './train';

export { QheadConfigSchema, type QheadConfig } from './schema';

interface Loaded {
  name: string;
  classes: string[];
  train: LabelledText[];
  test: LabelledText[];
  heldOut: Set<string>;
}

/** The first `k` items taking classes in turn (a class-balanced prefix of the split's order). */
export function balancedSubset(
  items: LabelledText[],
  k: number | undefined,
  classes: number,
): LabelledText[] {
  if (k === undefined || k >= items.length) return items;
  const by: LabelledText[][] = Array.from({ length: classes }, () => []);
  for (const it of items) by[it.label].push(it);
  const out: LabelledText[] = [];
  for (let i = 0; out.length < k; i++) {
    let any = false;
    for (const c of by)
      if (i < c.length && out.length < k) {
        out.push(c[i]);
        any = true;
      }
    if (!any) break;
  }
  return out;
}

async function loadData(cfg: QheadConfig, seed: number): Promise<Loaded> {
  let ds: ClassificationDataset;
  if (cfg.datasetFile) {
    const f = cfg.datasetFile;
    const imp = await importClassificationFile(f.path, {
      textColumn: f.textColumn,
      labelColumn: f.labelColumn,
      format: f.format,
    });
    if (imp.classes.length < 2)
      throw new Error(
        `datasetFile.labelColumn: ${f.path} has ${imp.classes.length} class(es); need at least 2`,
      );
    const s = splitClassBalanced(imp.examples, imp.classes.length, seed);
    ds = { kind: 'classification', name: f.path, source: f.path, classes: imp.classes, splits: s };
  } else {
    const d = getDataset(cfg.dataset);
    if (d.kind !== 'classification')
      throw new Error(`dataset: ${cfg.dataset} is not a classification dataset`);
    ds = d;
  }
  const C = ds.classes.length;
  return {
    name: ds.name,
    classes: ds.classes,
    train: balancedSubset(ds.splits.train, cfg.maxTrain, C),
    test: balancedSubset(ds.splits.test, cfg.maxTest, C),
    heldOut: new Set([...ds.splits.validation, ...ds.splits.test].map((d) => d.id)),
  };
}

/** Embeds train and test once per (encoder, dataset, split), reading and filling <cacheDir>/qhead-embeddings. */
async function embedSplits(
  cfg: QheadConfig,
  data: Loaded,
  ctx: JobContext,
): Promise<{ train: EmbeddedSplit; test: EmbeddedSplit; encoder: string }> {
  const dir = join(ctx.cacheDir, 'qhead-embeddings');
  const keyOf = (split: string, items: LabelledText[]) =>
    hashKey({ encoder: cfg.encoder, dataset: data.name, split, signature: splitSignature(items) });
  const parts = [
    ['train', data.train],
    ['test', data.test],
  ] as const;
  const out: Partial<Record<'train' | 'test', EmbeddedSplit>> = {};
  let encoder: SentenceEncoder | null = null;
  let description = `${cfg.encoder.type} encoder ${JSON.stringify(cfg.encoder)} (embeddings from the cache)`;
  try {
    for (const [split, items] of parts) {
      const key = keyOf(split, items);
      const hit = await readCachedSplit(dir, key);
      if (hit && hit.n === items.length) {
        ctx.log('info', `embeddings: ${split} (${hit.n}×${hit.dim}) from cache ${key}`);
        out[split] = hit;
        continue;
      }
      if (!encoder) {
        ctx.progress(0.01, 'building the frozen encoder');
        encoder = await buildEncoder(cfg.encoder, data.heldOut, {
          info: (m) => ctx.log('info', m),
          metric: (key, step, value) => ctx.metrics([{ key, step, value }]),
          signal: ctx.signal,
        });
        description = encoder.description;
      }
      const enc = encoder;
      const t0 = performance.now();
      const x = await enc.embed(
        items.map((d) => d.text),
        (done) => ctx.progress(0.1, `embedding ${split} ${done}/${items.length}`),
      );
      const s: EmbeddedSplit = {
        x,
        y: Int32Array.from(items.map((d) => d.label)),
        n: items.length,
        dim: enc.dim,
      };
      ctx.log(
        'info',
        `embeddings: ${split} ${s.n}×${s.dim} in ${((performance.now() - t0) / 1000).toFixed(1)} s, cached as ${key}`,
      );
      await writeCachedSplit(dir, key, s);
      out[split] = s;
    }
  } finally {
    if (encoder) await encoder.dispose();
  }
  return { train: out.train!, test: out.test!, encoder: description };
}

/** Root mean square of the rows' L2 norms (√d for standardised embeddings). */
export function rmsNorm(s: EmbeddedSplit): number {
  let sum = 0;
  for (let i = 0; i < s.x.length; i++) sum += s.x[i] * s.x[i];
  return Math.sqrt(sum / Math.max(1, s.n));
}

function headShape(
  cfg: QheadConfig,
  dim: number,
  classes: number,
  bias: number,
  over: SweepPoint = {},
): HeadShape {
  const h = cfg.head;
  return {
    dim,
    bias,
    classes,
    encoders: h.encoders,
    encoderDepth: h.encoderDepth,
    qubits: over.qubits ?? h.qubits,
    depth: over.depth ?? h.depth,
    finalDepth: h.finalDepth,
    reuploads: over.reuploads ?? h.reuploads,
    connectivity: over.connectivity ?? h.connectivity,
    measured: h.measured,
    skip: h.skip,
  };
}

interface Row {
  model: string;
  results: TrainResult[];
}

function fmt(values: number[], digits = 4): string {
  return formatMeanStd(values, digits);
}

export const qheadKind: JobKind<QheadConfig> = {
  kind: 'qhead',
  title: 'Quantum fine-tuning head',
  description:
    'A quantum classification head (amplitude-encoding encoders, data re-uploading with a shared long-range PQC) on a frozen sentence encoder, beside logistic regression and a parameter-matched MLP, with a screening sweep and a simulation-vs-QPU energy estimate.',
  schema: QheadConfigSchema as unknown as JobKind<QheadConfig>['schema'],
  defaults: QheadConfigSchema.parse({}),
  async run(cfg, ctx) {
    const threads = configureCompute();
    ctx.log('info', `classical core: matmul on ${threads} thread(s)`);
    const data = await loadData(cfg, ctx.seed);
    const C = data.classes.length;
    if (C < 2) throw new Error(`dataset: ${data.name} has ${C} class(es); need at least 2`);
    ctx.log(
      'info',
      `data: ${data.name}, ${C} classes, ${data.train.length} train / ${data.test.length} test`,
    );
    const emb = await embedSplits(cfg, data, ctx);
    const d = emb.train.dim;
    if (d < 2) throw new Error(`encoder: embedding dimension ${d} is too small for amplitude encoding`);
    // every head sees the same embeddings, standardised with train-split statistics unless switched off
    const split = cfg.standardize ? standardize(emb.train, emb.test) : { train: emb.train, test: emb.test };
    // the bias amplitude scales with the train rows' typical norm so its share of the state is config-set
    const bias = cfg.head.biasAmplitude * rmsNorm(split.train);
    const sweepPoints = cfg.sweep ? designPoints(cfg.sweep) : [];
    const sweepSeeds = cfg.sweep?.seeds ?? 0;
    // progress budget: main runs, sweep, energy
    const mainUnits = cfg.seeds * (cfg.baselines ? 1.2 : 1);
    const sweepUnits = sweepPoints.length * sweepSeeds;
    const energyUnits = cfg.energy.enabled ? 1 : 0;
    const total = mainUnits + sweepUnits + energyUnits;
    let doneUnits = 0;
    const at = (u: number) => 0.2 + (0.8 * (doneUnits + u)) / total;

    const simFor = (seed: number): Simulator =>
      createHeadSimulator({ shots: cfg.shots, noise: cfg.noise, trajectories: cfg.trajectories, seed });
    const runHead = async (
      model: Model,
      prefix: string,
      seed: number,
      lr: number,
      epochs: number,
      units: number,
      // where the curves go: the run itself, or a sweep point's child run
      sink: { metrics(points: MetricPoint[]): void } = ctx,
    ): Promise<TrainResult> => {
      const r = await trainModel(
        model,
        split,
        { epochs, batchSize: cfg.batchSize, lr, seed, classes: C },
        {
          signal: ctx.signal,
          metric: (key, step, value) => sink.metrics([{ key: `${prefix}/${key}`, step, value }]),
          progress: (f) => ctx.progress(at(units * f), `${prefix} ${Math.round(100 * f)}%`),
        },
      );
      doneUnits += units;
      return r;
    };

    // ---- the quantum head and its baselines over K seeds
    const shape = headShape(cfg, d, C, bias);
    const counts = headParameterCounts(shape);
    const hidden = mlpHiddenForParams(counts.total, d, C);
    const rows: Row[] = [
      { model: 'quantum head', results: [] },
      ...(cfg.baselines
        ? [
            { model: `logistic regression (${d}→${C})`, results: [] },
            { model: `MLP ${d}-${hidden}-${C} (GELU)`, results: [] },
          ]
        : []),
    ];
    let simInfo = '';
    for (let k = 0; k < cfg.seeds; k++) {
      const seed = ctx.seed + k;
      const sim = simFor(seed);
      try {
        simInfo = `${sim.info.backend}/${sim.info.mode} ${sim.info.precision}`;
        rows[0].results.push(
          await runHead(quantumHead(shape, sim, seed), `quantum/seed${k}`, seed, cfg.lr, cfg.epochs, 1),
        );
      } finally {
        sim.dispose();
      }
      if (cfg.baselines) {
        rows[1].results.push(
          await runHead(logisticModel(d, C, seed), `logreg/seed${k}`, seed, cfg.lr, cfg.epochs, 0.1),
        );
        rows[2].results.push(
          await runHead(mlpModel(d, hidden, C, seed), `mlp/seed${k}`, seed, cfg.lr, cfg.epochs, 0.1),
        );
      }
    }

    // ---- screening sweep: one child run per point (its curves under seed<k>/); without child runs (a bare
    // context) childOrInline records them in this run under sweep/p<i>/seed<k>/ as before
    const sweepResults: { point: SweepPoint; value: number; params: number; seconds: number }[] = [];
    for (let i = 0; i < sweepPoints.length; i++) {
      const p = sweepPoints[i];
      const sweepEpochs = cfg.sweep!.epochs ?? cfg.epochs;
      const child = childOrInline(ctx, `sweep/p${i}`, {
        point: p,
        lr: p.lr ?? cfg.lr,
        epochs: sweepEpochs,
        seeds: sweepSeeds,
      });
      const accs: number[] = [];
      let params = 0;
      let seconds = 0;
      for (let k = 0; k < sweepSeeds; k++) {
        const seed = ctx.seed + k;
        const sim = simFor(seed);
        try {
          const r = await runHead(
            quantumHead(headShape(cfg, d, C, bias, p), sim, seed),
            `seed${k}`,
            seed,
            p.lr ?? cfg.lr,
            sweepEpochs,
            1,
            child,
          );
          accs.push(r.test.accuracy);
          params = r.params;
          seconds += r.seconds;
        } finally {
          sim.dispose();
        }
      }
      const value = meanStd(accs).mean;
      // a failure above needs no child.fail: the parent's end gives its open child the parent's status
      child.finish({
        summary: { test_acc_mean: value, test_acc_std: meanStd(accs).std, params, seconds },
      });
      ctx.metrics([{ key: 'sweep/test_acc', step: i, value }]);
      ctx.log('info', `sweep point ${i}: ${JSON.stringify(p)} → test accuracy ${value.toFixed(4)}`);
      sweepResults.push({ point: p, value, params, seconds });
    }

    // ---- energy and scaling
    let energy: EnergyEstimate | null = null;
    const family: Module2Family = {
      depth: cfg.head.depth,
      finalDepth: cfg.head.finalDepth,
      reuploads: cfg.head.reuploads,
      connectivity: cfg.head.connectivity,
    };
    if (cfg.energy.enabled) {
      ctx.progress(at(0), 'timing the head circuit against qubits');
      const timings = await measureScaling(family, cfg.energy, ctx.signal);
      energy = energyEstimate(family, timings, cfg.energy.cpuWatts, cfg.energy.qpu, cfg.energy.extrapolateTo);
      doneUnits += 1;
      for (const p of energy.curve)
        ctx.metrics([
          { key: 'energy/sim_forward_J', step: p.qubits, value: p.simForwardJ },
          { key: 'energy/qpu_forward_J', step: p.qubits, value: p.qpuForwardJ },
          { key: 'energy/sim_train_J', step: p.qubits, value: p.simTrainJ },
          { key: 'energy/qpu_train_J', step: p.qubits, value: p.qpuTrainJ },
        ]);
      for (const t of timings)
        ctx.metrics([
          { key: 'energy/measured_forward_s', step: t.qubits, value: t.forward },
          { key: 'energy/measured_train_s', step: t.qubits, value: t.train },
        ]);
    }

    // ---- summary and report
    const acc = (r: Row) => r.results.map((x) => x.test.accuracy);
    const summary: Record<string, number | string> = {
      dataset: data.name,
      embedding_dim: d,
      quantum_params: counts.total,
      quantum_acc_mean: meanStd(acc(rows[0])).mean,
      quantum_acc_std: meanStd(acc(rows[0])).std,
      quantum_f1_macro_mean: meanStd(rows[0].results.map((x) => x.test.f1.macro)).mean,
      simulator: simInfo,
    };
    if (cfg.baselines) {
      summary.logreg_acc_mean = meanStd(acc(rows[1])).mean;
      summary.mlp_acc_mean = meanStd(acc(rows[2])).mean;
      summary.logreg_params = rows[1].results[0].params;
      summary.mlp_params = rows[2].results[0].params;
    }
    if (energy) {
      summary.crossover_forward_qubits = energy.crossoverForward ?? `> ${cfg.energy.extrapolateTo}`;
      summary.crossover_train_qubits = energy.crossoverTrain ?? `> ${cfg.energy.extrapolateTo}`;
    }
    const n1 = module1Qubits(shape);
    const report: ReportSection[] = [
      {
        type: 'table',
        title: `${data.name}: ${split.train.n} train / ${split.test.n} test, ${C} classes, ${d}-dim embeddings; mean ± std over ${cfg.seeds} seed(s)`,
        columns: [
          'model',
          'trainable params',
          'test accuracy',
          'precision (macro)',
          'recall (macro)',
          'F1 (macro)',
          'train time (s)',
          'inference (ms/sample)',
        ],
        rows: rows.map((r) => [
          r.model,
          r.results[0].params,
          fmt(acc(r)),
          fmt(r.results.map((x) => x.test.precision.macro)),
          fmt(r.results.map((x) => x.test.recall.macro)),
          fmt(r.results.map((x) => x.test.f1.macro)),
          fmt(
            r.results.map((x) => x.seconds),
            2,
          ),
          fmt(
            r.results.map((x) => 1000 * x.inferSeconds),
            3,
          ),
        ]),
      },
      {
        type: 'text',
        title: 'Setup',
        text: [
          `Encoder: ${emb.encoder}. Embeddings ${cfg.standardize ? 'standardised per dimension with train-split statistics' : 'used as the encoder gives them (not standardised)'}.`,
          `Quantum head: Module 1 = ${shape.encoders} encoder(s) × ${n1} qubits (amplitude encoding of ${module1Inputs(shape)} values${bias > 0 ? `: the ${d}-dim embedding and a bias amplitude ${bias.toPrecision(4)} (${cfg.head.biasAmplitude} × the train RMS norm)` : ''}, ${shape.encoderDepth} long-range layer(s)); Module 2 = ${shape.qubits} qubits, ${shape.reuploads} re-uploading block(s) with a shared ${shape.depth}-layer PQC1, ${shape.finalDepth}-layer PQC2, connectivity ${shape.connectivity}, ⟨Z⟩ on ${shape.measured} qubit(s); Linear(${shape.measured}${shape.skip ? ` + ${shape.encoders * n1} skip` : ''} → ${C}).`,
          `Parameters: Module 1 ${counts.module1}, Module 2 ${counts.module2}, Linear ${counts.linear}, total ${counts.total}.`,
          `Simulation: ${simInfo}; ${cfg.shots === null ? 'exact expectation values' : `${cfg.shots} shots per evaluation`}; gradients ${cfg.shots === null && !cfg.noise ? 'adjoint (exact)' : 'parameter shift'}${cfg.noise ? `; depolarizing noise ${JSON.stringify(cfg.noise)}` : ''}.`,
          `Training: Adam lr ${cfg.lr}, ${cfg.epochs} epochs, batch ${cfg.batchSize}, cross-entropy; every model sees the same embeddings, splits, epochs and seeds (${ctx.seed}…${ctx.seed + cfg.seeds - 1}).`,
          cfg.baselines && rows[2].results[0].params > 2 * counts.total
            ? `The smallest MLP on ${d}-dim inputs (hidden 1) has ${rows[2].results[0].params} parameters, more than the quantum head's ${counts.total}; it is the closest match possible.`
            : '',
        ]
          .filter(Boolean)
          .join(' '),
      },
    ];
    if (sweepResults.length) {
      const factors = Object.keys(sweepPoints[0]);
      report.push({
        type: 'table',
        title: `Screening sweep: ${cfg.sweep!.design} design, ${sweepResults.length} points × ${sweepSeeds} seed(s)`,
        columns: ['point', ...factors, 'params', 'test accuracy', 'train time (s)'],
        rows: sweepResults.map((r, i) => [
          `p${i}`,
          ...factors.map((f) => r.point[f as keyof SweepPoint] ?? null),
          r.params,
          Number(r.value.toFixed(4)),
          Number(r.seconds.toFixed(2)),
        ]),
      });
      const me = mainEffects(sweepResults);
      const sizes = effectSizes(me);
      report.push({
        type: 'table',
        title: 'Main effects: mean test accuracy at each level of each factor',
        columns: ['factor', 'level', 'mean accuracy', 'points', 'effect range'],
        rows: me.map((r) => [
          r.factor,
          r.level,
          Number(r.mean.toFixed(4)),
          r.n,
          Number((sizes.find((s) => s.factor === r.factor)?.range ?? 0).toFixed(4)),
        ]),
      });
    }
    if (energy) report.push(...energyReport(energy, cfg));
    await ctx.artifact(
      'qhead-results.json',
      'json',
      JSON.stringify(
        {
          config: cfg,
          heads: rows.map((r) => ({ model: r.model, results: r.results })),
          sweep: sweepResults,
          energy,
        },
        null,
        1,
      ),
    );
    ctx.progress(1, 'done');
    return { summary, report };
  },
};

function energyReport(e: EnergyEstimate, cfg: QheadConfig): ReportSection[] {
  const q = cfg.energy.qpu;
  const sci = (x: number) => Number(x.toPrecision(3));
  const shown = e.curve.filter(
    (p) =>
      p.measured || p.qubits % 4 === 0 || p.qubits === e.crossoverForward || p.qubits === e.crossoverTrain,
  );
  return [
    {
      type: 'table',
      title:
        'Energy per sample against Module-2 qubits: simulation on this machine (measured, then fitted) vs the QPU model',
      columns: [
        'qubits',
        'source',
        'sim forward (J)',
        'QPU forward (J)',
        'sim forward+grad (J)',
        'QPU forward+grad (J)',
      ],
      rows: shown.map((p) => [
        p.qubits,
        p.measured ? 'measured' : 'extrapolated',
        sci(p.simForwardJ),
        sci(p.qpuForwardJ),
        sci(p.simTrainJ),
        sci(p.qpuTrainJ),
      ]),
    },
    {
      type: 'text',
      title: 'Energy crossover and assumptions',
      text: [
        `Crossover (simulation energy ≥ QPU energy): inference at ${e.crossoverForward ?? `more than ${cfg.energy.extrapolateTo}`} qubits; training step (forward + gradient) at ${e.crossoverTrain ?? `more than ${cfg.energy.extrapolateTo}`} qubits.`,
        `Simulation: the Module-2 circuit (${cfg.head.reuploads} blocks × ${cfg.head.depth} shared layers + ${cfg.head.finalDepth} final, connectivity ${cfg.head.connectivity}, Q inputs) timed per sample on this machine's CPU in f64 (batch ${cfg.energy.batch}, fastest of ${cfg.energy.repeats} repeats); gradient = adjoint. Fit t = exp(a + b·Q) on Q ∈ {${e.fitForward.used.join(', ')}}: forward doubles every ${e.fitForward.doubling.toFixed(2)} qubits, forward+gradient every ${e.fitTrain.doubling.toFixed(2)}. Energy = ${cfg.energy.cpuWatts} W (user-set, not measured) × time. Memory is ignored: a state vector of Q qubits needs 16·2^Q bytes, which no machine holds beyond ~45 qubits.`,
        `QPU model (user-set constants): per shot ${q.resetUs} µs reset + gates executed one after another (${q.gate1Us} µs per one-qubit, ${q.gate2Us} µs per two-qubit gate) + ${q.readoutUs} µs readout; ${q.shots} shots per circuit; ${q.watts} W wall power. Inference runs the circuit once; a training step runs it 1 + 2·(differentiable angles) times (parameter shift). Queueing, compilation, classical control and cooling beyond the wall figure are not modelled.`,
        `Module 1 (amplitude encoding into ⌈log2 d⌉ qubits) is left out of both sides: preparing 2^n amplitudes takes ~2^n gates on a QPU, so it brings no QPU advantage.`,
      ].join(' '),
    },
  ];
}
