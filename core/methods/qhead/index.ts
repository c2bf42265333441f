// The `qhead` job kind: a quantum fine-tuning head (arXiv 2504.08732) on a frozen sentence encoder, beside
// logistic regression and a parameter-matched MLP on the same embeddings, splits, schedule and seeds (the
// comparison harness: validation-selected, test read once); an optional screening sweep read on validation
// with its main-effects table; and a simulation-vs-QPU energy and scaling estimate.
import { join } from 'node:path';
import {
  getDataset,
  importClassificationFile,
  splitClassBalanced,
  type ClassificationDataset,
  type LabelledText,
} from '../../data';
import type { SplitName } from '../../data/names';
import { createSimulatorFor, isNoisy } from '../../quantum/sampled-simulators';
import { meanStd } from '../harness/metrics';
import { mlpHiddenForParams } from '../../nn/param-counts';
import { sealTest, TestGate } from '../harness/classifier';
import { bagOfWordsReference, describeBow } from '../harness/bow';
import { wilsonInterval } from '../harness/stats';
import {
  describeDedup,
  describeOverlap,
  overlapTotal,
  splitOverlap,
  type DedupReport,
} from '../../data/dedup';
import { configureCompute } from '../harness/compute';
import { runComparison, type Comparison } from '../harness/compare';
import { fitClassifier } from '../harness/fit';
import { lrCandidates } from '../harness/tuning';
import {
  comparisonSummary,
  confusionTable,
  pairedItemTable,
  pairedTestTable,
  predictionsCsv,
  resultsTable,
  selectionText,
  singleModelCells,
  summedConfusions,
} from '../harness/report';
import { childOrInline, defineJobKind, type JobContext, type JobResult, type ReportSection } from '../job';
import { repetitionReport, runRepetitions } from '../harness/vary';
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
import { describeBackend, describeRan, ranRecord, type RanByWidth } from '../../quantum/simulators';
import { qheadMeta } from './meta';
import type { QheadConfig } from './schema';
import { designPoints, effectSizes, mainEffects, type SweepPoint } from './sweep';
import { baselineSpecs, headData, qheadSeedPlan, quantumHeadSpec, type EmbeddedSplits } from './train';

export { QheadConfigSchema, type QheadConfig } from './schema';

interface Loaded {
  name: string;
  classes: string[];
  splits: Record<SplitName, LabelledText[]>;
  heldOut: Set<string>;
  /** What deduplication before the split dropped. */
  dedup: DedupReport | null;
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
    ds = {
      kind: 'classification',
      name: f.path,
      source: f.path,
      classes: imp.classes,
      splits: s,
      dedup: s.dedup,
    };
  } else {
    const d = getDataset(cfg.dataset, { seed });
    if (d.kind !== 'classification')
      throw new Error(`dataset: ${cfg.dataset} is not a classification dataset`);
    ds = d;
  }
  const C = ds.classes.length;
  return {
    name: ds.name,
    classes: ds.classes,
    splits: {
      train: balancedSubset(ds.splits.train, cfg.maxTrain, C),
      // validation is capped like test (maxTest): it is read every epoch and by the sweep
      validation: balancedSubset(ds.splits.validation, cfg.maxTest, C),
      test: balancedSubset(ds.splits.test, cfg.maxTest, C),
    },
    heldOut: new Set([...ds.splits.validation, ...ds.splits.test].map((d) => d.id)),
    dedup: ds.dedup ?? null,
  };
}

/** Embeds each split once per (encoder, dataset, split), reading and filling <cacheDir>/qhead-embeddings. */
async function embedSplits(
  cfg: QheadConfig,
  data: Loaded,
  ctx: JobContext,
): Promise<{ splits: EmbeddedSplits; encoder: string }> {
  const dir = join(ctx.cacheDir, 'qhead-embeddings');
  const keyOf = (split: string, items: LabelledText[]) =>
    hashKey({ encoder: cfg.encoder, dataset: data.name, split, signature: splitSignature(items) });
  const out: Partial<EmbeddedSplits> = {};
  let encoder: SentenceEncoder | null = null;
  let description = `${cfg.encoder.type} encoder ${JSON.stringify(cfg.encoder)} (embeddings from the cache)`;
  try {
    for (const split of ['train', 'validation', 'test'] as const) {
      const items = data.splits[split];
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
  return { splits: out as EmbeddedSplits, encoder: description };
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

export const qheadKind = defineJobKind({
  meta: qheadMeta,
  run: (cfg, ctx) => runQhead(cfg, ctx),
});

/** Progress over the run's parts: main comparison, sweep, energy, in units of one quantum training. */
class Progress {
  private done = 0;
  constructor(
    private readonly ctx: JobContext,
    private readonly total: number,
  ) {}
  /** Reports `units` of the current part done beyond what is finished. */
  at(units: number, message: string): void {
    this.ctx.progress(0.2 + (0.8 * (this.done + units)) / this.total, message);
  }
  finish(units: number): void {
    this.done += units;
  }
}

interface SweepResult {
  point: SweepPoint;
  /** Mean over the sweep's seeds of the validation-selected accuracy. */
  value: number;
  params: number;
  seconds: number;
}

export async function runQhead(cfg: QheadConfig, ctx: JobContext): Promise<JobResult> {
  return cfg.vary.length ? runVaried(cfg, ctx) : runOnce(cfg, ctx);
}

/**
 * `vary: ["split"]`: repetition k is a whole one-seed run on its own split (dataSeed + k; the encoder, which
 * never sees a validation or test document, is pretrained again for it) and seed stream (harness/vary.ts);
 * the sweep and the energy timing run in the first repetition only (the sweep reads its validation split;
 * the timing does not depend on the data).
 */
async function runVaried(cfg: QheadConfig, ctx: JobContext): Promise<JobResult> {
  const K = cfg.seeds;
  const runs = await runRepetitions(ctx, K, (k, ctxK) =>
    runOnce(
      {
        ...cfg,
        seeds: 1,
        vary: [],
        dataSeed: cfg.dataSeed + k,
        sweep: k === 0 ? cfg.sweep : undefined,
        energy: k === 0 ? cfg.energy : { ...cfg.energy, enabled: false },
      },
      ctxK,
    ),
  );
  return repetitionReport(runs, {
    models: ['bow', 'quantum', 'logreg', 'mlp'],
    reference: 'quantum',
    referenceLabel: 'the quantum head',
    varied: ['head initialisation', 'batch order', 'split'],
    what: 'split',
    details: `Split seeds ${cfg.dataSeed}…${cfg.dataSeed + K - 1}; the encoder is pretrained for each split without its validation and test documents.${cfg.sweep ? ' The screening sweep ran in repetition 1 only.' : ''}${cfg.energy.enabled ? ' The energy timing ran in repetition 1 only.' : ''}`,
  });
}

async function runOnce(cfg: QheadConfig, ctx: JobContext): Promise<JobResult> {
  const threads = configureCompute();
  ctx.log('info', `classical core: matmul on ${threads} thread(s)`);
  const data = await loadData(cfg, cfg.dataSeed);
  const C = data.classes.length;
  if (C < 2) throw new Error(`dataset: ${data.name} has ${C} class(es); need at least 2`);
  const sp = data.splits;
  ctx.log(
    'info',
    `data: ${data.name}, ${C} classes, ${sp.train.length} train / ${sp.validation.length} validation / ${sp.test.length} test`,
  );
  const emb = await embedSplits(cfg, data, ctx);
  const d = emb.splits.train.dim;
  if (d < 2) throw new Error(`encoder: embedding dimension ${d} is too small for amplitude encoding`);
  // every head sees the same embeddings, standardised with train-split statistics unless switched off
  // (standardize reads test only to apply the train statistics); then test is sealed until each model's
  // final evaluation in the comparison, and the sweep never opens it
  const gate = new TestGate();
  const splits = sealTest(cfg.standardize ? standardize(emb.splits) : emb.splits, gate, 'qhead models');
  // the bias amplitude scales with the train rows' typical norm so its share of the state is config-set
  const bias = cfg.head.biasAmplitude * rmsNorm(splits.train);
  const sweepPoints = cfg.sweep ? designPoints(cfg.sweep) : [];
  const sweepSeeds = cfg.sweep?.seeds ?? 0;
  const mainUnits = cfg.seeds * (cfg.baselines ? 1.2 : 1);
  const progress = new Progress(
    ctx,
    mainUnits + sweepPoints.length * sweepSeeds + (cfg.energy.enabled ? 1 : 0),
  );
  if (isNoisy(cfg) && cfg.precision === 'f32')
    ctx.log(
      'info',
      'precision f32 asked, but the noisy (density-matrix / trajectory) simulator runs in f64 only',
    );
  const simFor = (seed: number) =>
    createSimulatorFor({
      shots: cfg.shots,
      noise: cfg.noise,
      trajectories: cfg.trajectories,
      seed,
      precision: cfg.precision,
    });
  const plan = qheadSeedPlan(ctx.seed);
  const schedule = { epochs: cfg.epochs, batchSize: cfg.batchSize };

  // ---- the quantum head and its baselines over K seeds
  const shape = headShape(cfg, d, C, bias);
  const counts = headParameterCounts(shape);
  const hidden = mlpHiddenForParams(counts.total, d, C);
  // what the main runs' circuits ran on, per width (Module 1 and Module 2 may differ in kernels)
  const ran: RanByWidth = new Map();
  const specs = [
    quantumHeadSpec(splits, shape, lrCandidates(cfg.lr, cfg.lrFactors), simFor, ran),
    ...(cfg.baselines ? baselineSpecs(splits, C, hidden, lrCandidates(cfg.lr, cfg.lrFactors)) : []),
  ];
  const comparison = await runComparison(
    specs,
    headData(splits, C),
    { ...schedule, seeds: cfg.seeds, plan, reference: 'quantum', gate },
    {
      signal: ctx.signal,
      metrics: (points) => ctx.metrics(points),
      progress: (f, message) => progress.at(mainUnits * f, message),
    },
  );
  progress.finish(mainUnits);
  const simOwn = simFor(ctx.seed);
  const simInfo = describeRan(ran) || describeBackend(simOwn.info);
  const backend = ranRecord(ran, simOwn.info);
  simOwn.dispose();

  // ---- screening sweep on validation: one child run per point (its curves under seed<k>/); without child
  // runs (a bare context) childOrInline records them in this run under sweep/p<i>/seed<k>/
  const sweepResults: SweepResult[] = [];
  for (const [i, p] of sweepPoints.entries()) {
    const lr = p.lr ?? cfg.lr;
    const epochs = cfg.sweep!.epochs ?? cfg.epochs;
    const child = childOrInline(ctx, `sweep/p${i}`, { point: p, lr, epochs, seeds: sweepSeeds });
    const spec = quantumHeadSpec(splits, headShape(cfg, d, C, bias, p), [lr], simFor, new Map());
    const accs: number[] = [];
    let params = 0;
    let seconds = 0;
    for (let k = 0; k < sweepSeeds; k++) {
      let epoch = 0;
      const fit = await fitClassifier(
        spec,
        headData(splits, C),
        { ...schedule, epochs },
        { order: plan.order(k), init: plan.init(k, 0) },
        {
          signal: ctx.signal,
          gate,
          metric: (key, step, value) => child.metrics([{ key: `seed${k}/${key}`, step, value }]),
          onEpoch: () => progress.at(++epoch / epochs, `sweep p${i} seed ${k + 1}`),
        },
      );
      fit.classifier.dispose?.();
      progress.finish(1);
      accs.push(fit.valAcc);
      params = fit.params;
      seconds += fit.trainSeconds;
    }
    const { mean: value, std } = meanStd(accs);
    // a failure above needs no child.fail: the parent's end gives its open child the parent's status
    child.finish({ summary: { val_acc_mean: value, val_acc_std: std, params, seconds } });
    ctx.metrics([{ key: 'sweep/val_acc', step: i, value }]);
    ctx.log('info', `sweep point ${i}: ${JSON.stringify(p)} → validation accuracy ${value.toFixed(4)}`);
    sweepResults.push({ point: p, value, params, seconds });
  }

  // ---- energy and scaling
  let energy: EnergyEstimate | null = null;
  let energyRun: ScalingMeasurement | null = null;
  if (cfg.energy.enabled) {
    const family: Module2Family = {
      depth: cfg.head.depth,
      finalDepth: cfg.head.finalDepth,
      reuploads: cfg.head.reuploads,
      connectivity: cfg.head.connectivity,
    };
    progress.at(0, 'timing the head circuit against qubits');
    energyRun = await measureScaling(family, cfg.energy, ctx.signal, cfg.precision);
    energy = energyEstimate(
      family,
      energyRun.rows,
      cfg.energy.cpuWatts,
      cfg.energy.qpu,
      cfg.energy.extrapolateTo,
      energyRun.cacheBytes,
      amplitudeBytes(energyRun.precision),
    );
    progress.finish(1);
    logEnergy(ctx, cfg, energy, energyRun);
  }

  // ---- the bag-of-words reference on the same split and truncation (test read once, here)
  const maxWords = 'maxTokens' in cfg.encoder ? cfg.encoder.maxTokens : null;
  const bow = bagOfWordsReference(data.splits, () => data.splits.test, C, { maxWords });
  ctx.log('info', describeBow(bow));
  const overlap = splitOverlap(data.splits);
  const bowSingle = [
    { key: 'bow', label: 'Bag-of-words logistic regression (reference)', predictions: bow.predictions },
  ];
  const bw = wilsonInterval(bow.test.accuracy * bow.test.n, bow.test.n);

  // ---- summary and report
  const summary: Record<string, number | string> = {
    dataset: data.name,
    embedding_dim: d,
    bow_test_acc: bow.test.accuracy,
    bow_test_acc_wilson_lo: bw.lo,
    bow_test_acc_wilson_hi: bw.hi,
    bow_f1_macro: bow.test.f1.macro,
    split_overlap_exact: overlapTotal(overlap),
    split_overlap_prefix: overlapTotal(overlap, 'nearPrefix'),
    dedup_dropped: data.dedup ? data.dedup.before - data.dedup.kept : 0,
    ...comparisonSummary(comparison),
    quantum_params: counts.total,
    simulator: simInfo,
  };
  if (energy && energyRun) Object.assign(summary, energySummary(cfg, energy, energyRun));
  const report: ReportSection[] = [
    resultsTable(
      comparison,
      `${data.name}: ${splits.train.n} train / ${splits.validation.n} validation / ${emb.splits.test.n} test, ${C} classes, ${d}-dim embeddings; test metrics, mean ± std over ${cfg.seeds} seed(s)`,
      {
        before: [
          {
            label: `Bag-of-words logistic regression (reference; ${bow.vocab} words, L2 ${bow.l2})`,
            cells: { ...singleModelCells(bow.test), 'validation accuracy': Number(bow.valAcc.toFixed(4)) },
          },
        ],
      },
    ),
    confusionTable(
      `Confusion matrices on the test split (rows: true class; summed over ${cfg.seeds} seed(s))`,
      data.classes,
      summedConfusions(comparison),
    ),
  ];
  const items = pairedItemTable(comparison, bowSingle);
  if (items) report.push(items);
  const paired = pairedTestTable(comparison);
  if (paired) report.push(paired);
  report.push(setupText(cfg, emb.encoder, shape, bias, counts, simInfo, comparison, ctx.seed));
  report.push({
    type: 'text',
    title: 'Data and reference',
    text: [
      data.dedup ? `${describeDedup(data.dedup)}; ${data.dedup.rule}.` : 'Not deduplicated.',
      `${describeOverlap(overlap)}.`,
      `The encoder's pretraining text leaves out every document of the validation and test splits (${data.heldOut.size} ids).`,
      `Learning-rate search: every model tries ${cfg.lr} × ${cfg.lrFactors.join(', ')}; validation picks one.`,
      `Seeds vary every head’s initialisation and the batch order (and shot or trajectory sampling); the split (dataSeed ${cfg.dataSeed}) and the encoder are the same in every seed.`,
      describeBow(bow),
    ].join(' '),
  });
  await ctx.artifact(
    'test-predictions.csv',
    'predictions',
    predictionsCsv(
      comparison,
      data.classes,
      data.splits.test.map((x) => x.id),
      bowSingle,
    ),
  );
  if (sweepResults.length) report.push(...sweepReport(cfg, sweepPoints, sweepResults));
  if (energy && energyRun) report.push(...energyReport(energy, energyRun, cfg));
  await ctx.artifact(
    'qhead-results.json',
    'json',
    resultsArtifact(cfg, comparison, sweepResults, energy, energyRun),
  );
  ctx.progress(1, 'done');
  return { summary, report, backend };
}

function setupText(
  cfg: QheadConfig,
  encoder: string,
  shape: HeadShape,
  bias: number,
  counts: ReturnType<typeof headParameterCounts>,
  simInfo: string,
  c: Comparison,
  seed: number,
): ReportSection {
  const n1 = module1Qubits(shape);
  const C = shape.classes;
  const d = shape.dim;
  const mlp = c.models.find((m) => m.key === 'mlp');
  return {
    type: 'text',
    title: 'Setup',
    text: [
      `Encoder: ${encoder}. Embeddings ${cfg.standardize ? 'standardised per dimension with train-split statistics' : 'used as the encoder gives them (not standardised)'}.`,
      `Quantum head: Module 1 = ${shape.encoders} encoder(s) × ${n1} qubits (amplitude encoding of ${module1Inputs(shape)} values${bias > 0 ? `: the ${d}-dim embedding and a bias amplitude ${bias.toPrecision(4)} (${cfg.head.biasAmplitude} × the train RMS norm)` : ''}, ${shape.encoderDepth} long-range layer(s)); Module 2 = ${shape.qubits} qubits, ${shape.reuploads} re-uploading block(s) with a shared ${shape.depth}-layer PQC1, ${shape.finalDepth}-layer PQC2, connectivity ${shape.connectivity}, ⟨Z⟩ on ${shape.measured} qubit(s); Linear(${shape.measured}${shape.skip ? ` + ${shape.encoders * n1} skip` : ''} → ${C}).`,
      `Parameters: Module 1 ${counts.module1}, Module 2 ${counts.module2}, Linear ${counts.linear}, total ${counts.total}.`,
      `Simulation: ${simInfo}${isNoisy(cfg) && cfg.precision === 'f32' ? ' (precision f32 asked: the noisy simulator runs in f64 only)' : ''}; ${cfg.shots === null ? 'exact expectation values' : `${cfg.shots} shots per evaluation`}; gradients ${cfg.shots === null && !cfg.noise ? 'adjoint (exact)' : 'parameter shift'}${cfg.noise ? `; depolarizing noise ${JSON.stringify(cfg.noise)}` : ''}.`,
      `Training: cross-entropy, learning rate ${cfg.lr} for every model, seeds ${seed}…${seed + cfg.seeds - 1}. ${selectionText(c, { epochs: cfg.epochs, batchSize: cfg.batchSize })}`,
      mlp && mlp.runs[0].params > 2 * counts.total
        ? `The smallest MLP on ${d}-dim inputs (hidden 1) has ${mlp.runs[0].params} parameters, more than the quantum head's ${counts.total}; it is the closest match possible.`
        : '',
    ]
      .filter(Boolean)
      .join(' '),
  };
}

function sweepReport(cfg: QheadConfig, points: SweepPoint[], results: SweepResult[]): ReportSection[] {
  const factors = Object.keys(points[0]);
  const me = mainEffects(results);
  const sizes = effectSizes(me);
  return [
    {
      type: 'table',
      title: `Screening sweep: ${cfg.sweep!.design} design, ${results.length} points × ${cfg.sweep!.seeds} seed(s); validation accuracy of the validation-selected epoch (test is not read)`,
      columns: ['point', ...factors, 'params', 'validation accuracy', 'train time (s)'],
      rows: results.map((r, i) => [
        `p${i}`,
        ...factors.map((f) => r.point[f as keyof SweepPoint] ?? null),
        r.params,
        Number(r.value.toFixed(4)),
        Number(r.seconds.toFixed(2)),
      ]),
    },
    {
      type: 'table',
      title: 'Main effects: mean validation accuracy at each level of each factor',
      columns: ['factor', 'level', 'mean accuracy', 'points', 'effect range'],
      rows: me.map((r) => [
        r.factor,
        r.level,
        Number(r.mean.toFixed(4)),
        r.n,
        Number((sizes.find((s) => s.factor === r.factor)?.range ?? 0).toFixed(4)),
      ]),
    },
  ];
}

function resultsArtifact(
  cfg: QheadConfig,
  c: Comparison,
  sweep: SweepResult[],
  energy: EnergyEstimate | null,
  energyRun: ScalingMeasurement | null,
): string {
  const heads = c.models.map((m) => ({
    key: m.key,
    model: m.label,
    results: m.runs.map((r) => ({ ...r, predictions: Array.from(r.predictions) })),
  }));
  const e =
    energy && energyRun
      ? {
          ...energy,
          skipped: energyRun.skipped,
          cacheBytes: energyRun.cacheBytes,
          cacheSource: energyRun.cacheSource,
          seconds: energyRun.seconds,
        }
      : null;
  return JSON.stringify({ config: cfg, heads, sweep, energy: e }, null, 1);
}

function logEnergy(ctx: JobContext, cfg: QheadConfig, energy: EnergyEstimate, m: ScalingMeasurement): void {
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
      `; joint fit b = ${energy.fitTrain.b.toFixed(3)} ± ${(energy.fitTrain.t * energy.fitTrain.seB).toFixed(3)} per qubit on ${energy.joint.dof} dof` +
      ` (${energy.memoryBoundWidths} width(s) larger than the ${m.cacheBytes}-byte last-level cache${energy.memoryBound ? '' : ': fewer than 3, fit on the three widest, flagged'})` +
      `; kernels ${timedKernels(m)}`,
  );
}

function energySummary(cfg: QheadConfig, energy: EnergyEstimate, m: ScalingMeasurement) {
  const lim = `> ${cfg.energy.extrapolateTo}`;
  return {
    crossover_forward_qubits: energy.crossoverForward.at ?? lim,
    crossover_train_qubits: energy.crossoverTrain.at ?? lim,
    crossover_train_interval: crossoverInterval(energy.crossoverTrain, cfg.energy.extrapolateTo),
    scaling_b_train: Number(energy.fitTrain.b.toFixed(4)),
    scaling_b_train_ci95: Number((energy.fitTrain.t * energy.fitTrain.seB).toFixed(4)),
    scaling_fit_dof: energy.joint.dof,
    scaling_train_over_forward: Number((2 ** energy.joint.c).toFixed(3)),
    scaling_memory_bound_widths: energy.memoryBoundWidths,
    scaling_memory_bound: energy.memoryBound ? 'yes' : 'no (fewer than 3 widths beyond the cache)',
    cache_bytes: m.cacheBytes,
    scaling_kernels: timedKernels(m),
  };
}

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
        `One joint least-squares fit of both series: log2 t_forward = a + b·Q and log2 t_forward+grad = a + c + b·Q, the slope b shared and c ≥ 0 (the adjoint gradient replays the same circuit a fixed number of times, so it costs a constant multiple of the forward pass at every width; two separate fits could give the forward+gradient line a smaller slope and extrapolate it below the forward line, which is impossible), on the per-width medians at Q ∈ {${ft.used.join(', ')}} (${
          e.memoryBound
            ? `the ${e.memoryBoundWidths} widths whose ${m.precision} state, ${amplitudeBytes(m.precision)}·2^Q bytes, is larger than the last-level cache, ${m.cacheBytes} bytes (${m.cacheSource}): there the time is set by streaming the state through memory`
            : `the three widest. FLAGGED: only ${e.memoryBoundWidths} measured width(s) had a state larger than the last-level cache, ${m.cacheBytes} bytes (${m.cacheSource}), fewer than the 3 a slope with an error needs, so cache effects and fixed overheads may still bend the slope; time wider widths (energy.qubits) for a memory-bound fit`
        }). ${e.joint.clamped ? 'The forward+gradient medians came out below the forward ones (noise), so c is held at 0 and the lines coincide. ' : `Forward+gradient / forward time ratio 2^c = ${(2 ** e.joint.c).toFixed(2)} (c = ${e.joint.c.toFixed(3)} ± ${(ft.t * e.joint.seC).toFixed(3)}). `}95 % intervals from Student's t with ${ft.dof} degree(s) of freedom (2 series × ${ft.used.length} widths − ${e.joint.clamped ? 2 : 3} parameters). b = ${ci(ft.b, ft.t, ft.seB)} per qubit. Expected for a state vector: each gate costs ∝ 2^Q and the circuit has ∝ Q gates, so log2 t ≈ c + Q + log2 Q, whose slope at Q ≈ ${ft.meanN.toFixed(1)} is ${e.theoryB.toFixed(3)}; the measured slope is ${ft.bLo <= e.theoryB && e.theoryB <= ft.bHi ? 'consistent with it' : ft.b < e.theoryB ? 'below it' : 'above it'}. The straight-line extrapolation keeps the slope of the fitted widths, while the log2 Q term flattens with Q, so far beyond them it overstates simulation time by a factor ≈ (Q̄/Q)·2^((Q − Q̄)/(Q̄ ln 2)) (about 1.6 at Q = 40 from Q̄ = 17.5), which moves the crossover later by about a qubit.`,
        `Simulation timing: the Module-2 circuit (${cfg.head.reuploads} blocks × ${cfg.head.depth} shared layers + ${cfg.head.finalDepth} final, connectivity ${cfg.head.connectivity}, Q inputs, one ⟨Z⟩) on this machine's CPU state-vector simulator in ${m.precision} (${m.precision === 'f32' ? 'complex64' : 'complex128'}, the precision the head trains with; kernels timed: ${timedKernels(m)}), per sample; forward = expectation values, forward + gradient = the adjoint method (θ and inputs). Each width is compiled and warmed up once before timing; the timing covers the simulator calls only (no data loading, optimiser or Module 1). ${m.rows.length} widths timed in ${m.seconds.toFixed(1)} s (budget ${cfg.energy.budgetSeconds} s)${m.skipped.length ? `; skipped for the budget: ${m.skipped.join(', ')}` : ''}. The machine may be shared with other work: the median resists that, the spread columns show it. Energy = ${cfg.energy.cpuWatts} W (user-set, not measured) × time. Memory is ignored: a state vector of Q qubits needs ${amplitudeBytes(m.precision)}·2^Q bytes, which no machine holds beyond ~45 qubits.`,
        `QPU model (user-set constants): per shot ${q.resetUs} µs reset + gates executed one after another (${q.gate1Us} µs per one-qubit, ${q.gate2Us} µs per two-qubit gate) + ${q.readoutUs} µs readout; ${q.shots} shots per circuit; ${q.watts} W wall power. Inference runs the circuit once; a training step runs it 1 + 2·(differentiable angles) times (parameter shift). Queueing, compilation, classical control and cooling beyond the wall figure are not modelled.`,
        `Module 1 (amplitude encoding into ⌈log2 d⌉ qubits) is left out of both sides: preparing 2^n amplitudes takes ~2^n gates on a QPU, so it brings no QPU advantage.`,
        `Every figure beyond the widest measured width (${Math.max(...m.rows.map((r) => r.qubits))} qubits), crossovers included, is an extrapolation of the fit, not a measurement${e.memoryBound ? '' : '; here the fit is not on memory-bound widths, so its slope and interval say little about larger states (measure widths whose state exceeds the cache)'}. The paper's crossover at 46 qubits is a GPU-inference figure and is not comparable to this CPU measurement.`,
      ].join(' '),
    },
  ];
}
