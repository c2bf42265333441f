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
import { formatMeanStd, meanStd } from '../harness/metrics';
import { mlpHiddenForParams } from '../../nn/param-counts';
import { configureCompute } from '../harness/compute';
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
import {
  amplitudeBytes,
  energyEstimate,
  measureScaling,
  type Crossover,
  type EnergyEstimate,
  type Module2Family,
  type ScalingMeasurement,
} from './energy';
import {
  describeBackend,
  describeRan,
  ranRecord,
  recordingSimulator,
  type RanByWidth,
} from '../../quantum/simulators';
import { createHeadSimulator, isNoisy, logisticModel, mlpModel, quantumHead, type Model } from './models';
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

    // what the main runs' circuits ran on, per width (Module 1 and Module 2 may differ in kernels)
    const ran: RanByWidth = new Map();
    const simFor = (seed: number): { sim: Simulator; ran: RanByWidth } =>
      recordingSimulator(
        createHeadSimulator({
          shots: cfg.shots,
          noise: cfg.noise,
          trajectories: cfg.trajectories,
          seed,
          precision: cfg.precision,
        }),
      );
    if (isNoisy(cfg) && cfg.precision === 'f32')
      ctx.log(
        'info',
        'precision f32 asked, but the noisy (density-matrix / trajectory) simulator runs in f64 only',
      );
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
    let simOwn: Simulator['info'] | null = null;
    for (let k = 0; k < cfg.seeds; k++) {
      const seed = ctx.seed + k;
      const { sim, ran: seedRan } = simFor(seed);
      simOwn = sim.info;
      try {
        rows[0].results.push(
          await runHead(quantumHead(shape, sim, seed), `quantum/seed${k}`, seed, cfg.lr, cfg.epochs, 1),
        );
      } finally {
        sim.dispose();
        for (const [q, info] of seedRan) ran.set(q, info);
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

    const simInfo = describeRan(ran) || (simOwn ? describeBackend(simOwn) : '');

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
        const { sim } = simFor(seed);
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
    let energyRun: ScalingMeasurement | null = null;
    const family: Module2Family = {
      depth: cfg.head.depth,
      finalDepth: cfg.head.finalDepth,
      reuploads: cfg.head.reuploads,
      connectivity: cfg.head.connectivity,
    };
    if (cfg.energy.enabled) {
      ctx.progress(at(0), 'timing the head circuit against qubits');
      const m = await measureScaling(family, cfg.energy, ctx.signal, cfg.precision);
      energy = energyEstimate(
        family,
        m.rows,
        cfg.energy.cpuWatts,
        cfg.energy.qpu,
        cfg.energy.extrapolateTo,
        m.cacheBytes,
        amplitudeBytes(m.precision),
      );
      energyRun = m;
      doneUnits += 1;
      for (const p of energy.curve)
        ctx.metrics([
          { key: 'energy/sim_forward_J', step: p.qubits, value: p.simForwardJ },
          { key: 'energy/qpu_forward_J', step: p.qubits, value: p.qpuForwardJ },
          { key: 'energy/sim_train_J', step: p.qubits, value: p.simTrainJ },
          { key: 'energy/qpu_train_J', step: p.qubits, value: p.qpuTrainJ },
          { key: 'energy/sim_train_lo_J', step: p.qubits, value: p.simTrainLoJ },
          { key: 'energy/sim_train_hi_J', step: p.qubits, value: p.simTrainHiJ },
        ]);
      for (const t of m.rows)
        ctx.metrics([
          { key: 'energy/measured_forward_s', step: t.qubits, value: t.forward.median },
          { key: 'energy/measured_train_s', step: t.qubits, value: t.train.median },
        ]);
      ctx.log(
        'info',
        `energy: timed ${m.rows.map((r) => r.qubits).join(', ')} qubits in ${m.seconds.toFixed(1)} s` +
          (m.skipped.length
            ? ` (skipped ${m.skipped.join(', ')}: over the ${cfg.energy.budgetSeconds} s budget)`
            : '') +
          `; forward+gradient b = ${energy.fitTrain.b.toFixed(3)} ± ${(energy.fitTrain.t * energy.fitTrain.seB).toFixed(3)} per qubit` +
          `; kernels ${timedKernels(m)}`,
      );
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
      const lim = `> ${cfg.energy.extrapolateTo}`;
      summary.crossover_forward_qubits = energy.crossoverForward.at ?? lim;
      summary.crossover_train_qubits = energy.crossoverTrain.at ?? lim;
      summary.crossover_train_interval = crossoverInterval(energy.crossoverTrain, cfg.energy.extrapolateTo);
      summary.scaling_b_train = Number(energy.fitTrain.b.toFixed(4));
      summary.scaling_b_train_ci95 = Number((energy.fitTrain.t * energy.fitTrain.seB).toFixed(4));
      if (energyRun) summary.scaling_kernels = timedKernels(energyRun);
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
          `Simulation: ${simInfo}${isNoisy(cfg) && cfg.precision === 'f32' ? ' (precision f32 asked: the noisy simulator runs in f64 only)' : ''}; ${cfg.shots === null ? 'exact expectation values' : `${cfg.shots} shots per evaluation`}; gradients ${cfg.shots === null && !cfg.noise ? 'adjoint (exact)' : 'parameter shift'}${cfg.noise ? `; depolarizing noise ${JSON.stringify(cfg.noise)}` : ''}.`,
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
    if (energy && energyRun) report.push(...energyReport(energy, energyRun, cfg));
    await ctx.artifact(
      'qhead-results.json',
      'json',
      JSON.stringify(
        {
          config: cfg,
          heads: rows.map((r) => ({ model: r.model, results: r.results })),
          sweep: sweepResults,
          energy:
            energy && energyRun
              ? {
                  ...energy,
                  skipped: energyRun.skipped,
                  cacheBytes: energyRun.cacheBytes,
                  cacheSource: energyRun.cacheSource,
                  seconds: energyRun.seconds,
                }
              : null,
        },
        null,
        1,
      ),
    );
    ctx.progress(1, 'done');
    return { summary, report, backend: simOwn ? ranRecord(ran, simOwn) : {} };
  },
};

/** The kernels the timing sweep ran, grouped by width range: `cpu/js f32 at 3–4 qubits; cpu/wasm-simd f32 at 5–12 qubits`. */
export function timedKernels(m: ScalingMeasurement): string {
  const groups: { text: string; from: number; to: number }[] = [];
  for (const r of m.rows) {
    const text = describeBackend(r.info);
    const last = groups.at(-1);
    if (last && last.text === text) last.to = r.qubits;
    else groups.push({ text, from: r.qubits, to: r.qubits });
  }
  return groups
    .map((g) => `${g.text} at ${g.from === g.to ? g.from : `${g.from}–${g.to}`} qubits`)
    .join('; ');
}

function crossoverInterval(c: Crossover, to: number): string {
  const f = (n: number | null) => (n === null ? `>${to}` : String(n));
  return `${f(c.early)}–${f(c.late)}`;
}

function energyReport(e: EnergyEstimate, m: ScalingMeasurement, cfg: QheadConfig): ReportSection[] {
  const q = cfg.energy.qpu;
  const to = cfg.energy.extrapolateTo;
  const sci = (x: number) => Number(x.toPrecision(3));
  const pct = (s: { median: number; min: number; max: number }) =>
    `${(((s.min - s.median) / s.median) * 100).toFixed(0)} / +${(((s.max - s.median) / s.median) * 100).toFixed(0)} %`;
  const marks = [e.crossoverForward, e.crossoverTrain].flatMap((c) => [c.at, c.early, c.late]);
  const shown = e.curve.filter((p) => p.measured || p.qubits % 4 === 0 || marks.includes(p.qubits));
  const ci = (b: number, t: number, se: number) => `${b.toFixed(3)} ± ${(t * se).toFixed(3)}`;
  const cx = (c: Crossover) =>
    `${c.at ?? `more than ${to}`} qubits (95 % interval ${crossoverInterval(c, to)})`;
  const ff = e.fitForward;
  const ft = e.fitTrain;
  const repeats = m.rows[0]?.repeats ?? 0;
  return [
    {
      type: 'table',
      title:
        'Energy per sample against Module-2 qubits: simulation on this machine (measured median, then fitted with its 95 % band) vs the QPU model',
      columns: [
        'qubits',
        'source',
        'sim forward (J)',
        'QPU forward (J)',
        'sim forward+grad (J)',
        'sim forward+grad 95 % band (J)',
        'QPU forward+grad (J)',
      ],
      rows: shown.map((p) => [
        p.qubits,
        p.measured ? 'measured' : 'extrapolated',
        sci(p.simForwardJ),
        sci(p.qpuForwardJ),
        sci(p.simTrainJ),
        `${sci(p.simTrainLoJ)} – ${sci(p.simTrainHiJ)}`,
        sci(p.qpuTrainJ),
      ]),
    },
    {
      type: 'table',
      title: `Measured simulation time per sample (median of ${repeats} interleaved repeats; spread = fastest / slowest repeat against the median)`,
      columns: [
        'qubits',
        'samples per call',
        'forward (s)',
        'forward spread',
        'forward+grad (s)',
        'forward+grad spread',
        'in fit',
      ],
      rows: m.rows.map((r) => [
        r.qubits,
        r.samples,
        sci(r.forward.median),
        pct(r.forward),
        sci(r.train.median),
        pct(r.train),
        ft.used.includes(r.qubits) ? 'yes' : 'no',
      ]),
    },
    {
      type: 'text',
      title: 'Energy crossover, scaling fit and assumptions',
      text: [
        `Crossover (simulation energy ≥ QPU energy): inference at ${cx(e.crossoverForward)}; training step (forward + gradient) at ${cx(e.crossoverTrain)}. The interval is where the upper and lower edges of the fit's 95 % confidence band cross the QPU line; it covers the fit's statistical error only, not the model assumptions below.`,
        `Fit log2 t = a + b·Q by least squares on the per-width medians at Q ∈ {${ft.used.join(', ')}} (${
          e.memoryBound
            ? `the widths whose ${m.precision} state, ${amplitudeBytes(m.precision)}·2^Q bytes, is larger than the L2 cache, ${m.cacheBytes} bytes (${m.cacheSource}): there the time is set by streaming the state through memory`
            : `the three widest: fewer than three widths had a state larger than the L2 cache, ${m.cacheBytes} bytes (${m.cacheSource}), so fixed overheads may still bend the slope`
        }); 95 % intervals from Student's t with ${ft.dof} degree(s) of freedom. b = ${ci(ff.b, ff.t, ff.seB)} per qubit for the forward pass and ${ci(ft.b, ft.t, ft.seB)} for forward + gradient. Expected for a state vector: each gate costs ∝ 2^Q and the circuit has ∝ Q gates, so log2 t ≈ c + Q + log2 Q, whose slope at Q ≈ ${ft.meanN.toFixed(1)} is ${e.theoryB.toFixed(3)}; the measured forward+gradient slope is ${ft.bLo <= e.theoryB && e.theoryB <= ft.bHi ? 'consistent with it' : ft.b < e.theoryB ? 'below it' : 'above it'}. The straight-line extrapolation keeps the slope of the fitted widths, while the log2 Q term flattens with Q, so far beyond them it overstates simulation time by a factor ≈ (Q̄/Q)·2^((Q − Q̄)/(Q̄ ln 2)) (about 1.6 at Q = 40 from Q̄ = 17.5), which moves the crossover later by about a qubit.`,
        `Simulation timing: the Module-2 circuit (${cfg.head.reuploads} blocks × ${cfg.head.depth} shared layers + ${cfg.head.finalDepth} final, connectivity ${cfg.head.connectivity}, Q inputs, one ⟨Z⟩) on this machine's CPU state-vector simulator in ${m.precision} (${m.precision === 'f32' ? 'complex64' : 'complex128'}, the precision the head trains with; kernels timed: ${timedKernels(m)}), per sample; forward = expectation values, forward + gradient = the adjoint method (θ and inputs). Each width is compiled and warmed up once before timing; the timing covers the simulator calls only (no data loading, optimiser or Module 1). ${m.rows.length} widths timed in ${m.seconds.toFixed(1)} s (budget ${cfg.energy.budgetSeconds} s)${m.skipped.length ? `; skipped for the budget: ${m.skipped.join(', ')}` : ''}. The machine may be shared with other work: the median resists that, the spread columns show it. Energy = ${cfg.energy.cpuWatts} W (user-set, not measured) × time. Memory is ignored: a state vector of Q qubits needs ${amplitudeBytes(m.precision)}·2^Q bytes, which no machine holds beyond ~45 qubits.`,
        `QPU model (user-set constants): per shot ${q.resetUs} µs reset + gates executed one after another (${q.gate1Us} µs per one-qubit, ${q.gate2Us} µs per two-qubit gate) + ${q.readoutUs} µs readout; ${q.shots} shots per circuit; ${q.watts} W wall power. Inference runs the circuit once; a training step runs it 1 + 2·(differentiable angles) times (parameter shift). Queueing, compilation, classical control and cooling beyond the wall figure are not modelled.`,
        `Module 1 (amplitude encoding into ⌈log2 d⌉ qubits) is left out of both sides: preparing 2^n amplitudes takes ~2^n gates on a QPU, so it brings no QPU advantage.`,
      ].join(' '),
    },
  ];
}
