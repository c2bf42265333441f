// The QFFN report: Table 1 (model, params, test PPL, speed with the circuits on the cpu simulator and on the gpu
// backend, relative to the uncompressed model), the parameters per component against the closed forms, Table 2
// (the fraction ablation) and the depth ablation from the sweep's child runs, paired tests over seeds, greedy
// continuations of the fixed prompts, and the setup with every choice the run made.
import { formatMeanStd, meanStd } from '../harness/metrics';
import { pairedTTest } from '../harness/stats';
import { lrCandidates } from '../harness/tuning';
import type { JobResult, ReportSection } from '../job';
import type { Base } from './base';
import { modelCounts, total, type Components } from './counts';
import type { GpuSpeed } from './gpu-speed';
import { shapeOf, type ModelKey } from './models';
import type { QffnConfig } from './schema';
import type { TestedLm, TrainedLm } from './train';

export interface SeedRecord extends TestedLm {
  key: ModelKey;
  seedIndex: number;
  counts: Components;
  blocks: number[];
  headsPerBlock: number;
  matched?: number;
  layerwise: { block: number; before: number; after: number }[];
  /** The training of validation's choice among the learning-rate candidates (its weights were tested). */
  trained: TrainedLm;
  /** Every candidate's learning rate and last validation perplexity. */
  lrCandidates: { lr: number; valPpl: number }[];
  /** Greedy continuations of the prompts (seed 0 only). */
  texts: string[];
}

export interface SweepRecord {
  name: string;
  patch: Partial<QffnConfig>;
  runs: SeedRecord[];
}

const LABELS: Record<ModelKey, string> = {
  qffn: 'QFFN',
  uncompressed: 'uncompressed',
  classical: 'classical compressed',
};

type Cell = string | number | null;
const f2 = (v: number) => Number(v.toFixed(2));
const fmt = (vs: number[], d = 2) => (vs.length > 1 ? formatMeanStd(vs, d) : vs[0].toFixed(d));
const ratio = (vs: number[]) => `${fmt(vs)}×`;

/** The learning rates validation chose: one value, or each with how many seeds chose it. */
export function chosenLrs(rs: SeedRecord[]): string {
  const n = new Map<number, number>();
  for (const r of rs) n.set(r.trained.lr, (n.get(r.trained.lr) ?? 0) + 1);
  return n.size === 1 ? String(rs[0].trained.lr) : [...n].map(([lr, k]) => `${lr} (${k}×)`).join(', ');
}

/**
 * Per-seed ratio of a model's figure to the uncompressed model's in the same seed (measured in the same run);
 * `scale` multiplies the model's own figure (the gpu column's replayed circuit time).
 */
function relative(
  rs: SeedRecord[],
  ref: SeedRecord[] | undefined,
  f: (r: SeedRecord) => number,
  scale = 1,
): string | null {
  if (!ref?.length) return null;
  return ratio(rs.map((r) => (scale * f(r)) / f(ref.find((x) => x.seedIndex === r.seedIndex)!)));
}

function table1(cfg: QffnConfig, by: Map<ModelKey, SeedRecord[]>, gpu: GpuSpeed | null): ReportSection {
  const ref = by.get('uncompressed');
  const refParams = ref ? total(ref[0].counts) : null;
  const rows: Cell[][] = [];
  for (const [key, rs] of by) {
    const params = total(rs[0].counts);
    const ppl = rs.map((r) => r.test.perplexity);
    const gpuInfer = gpu && key === 'qffn' ? 1 / gpu.inferFactor : 1;
    const gpuTrain = gpu && key === 'qffn' ? 1 / gpu.trainFactor : 1;
    rows.push([
      LABELS[key],
      params,
      refParams ? `${((100 * params) / refParams).toFixed(1)}%` : null,
      fmt(ppl),
      fmt(rs.map((r) => Math.min(...r.trained.valSeries.map(([, v]) => v)))),
      chosenLrs(rs),
      fmt(
        rs.map((r) => r.trained.trainTokensPerSecond),
        0,
      ),
      fmt(
        rs.map((r) => r.inferTokensPerSecond),
        0,
      ),
      relative(rs, ref, (r) => r.trained.trainTokensPerSecond),
      relative(rs, ref, (r) => r.inferTokensPerSecond),
      gpu ? relative(rs, ref, (r) => r.inferTokensPerSecond, gpuInfer) : 'not measured',
      gpu ? relative(rs, ref, (r) => r.trained.trainTokensPerSecond, gpuTrain) : 'not measured',
      fmt(
        rs.map((r) => r.trained.peakRssMb),
        0,
      ),
    ]);
  }
  return {
    type: 'table',
    title: `Table 1: test perplexity, parameters and speed (mean ± std over ${cfg.seeds} seed(s); speeds relative to the uncompressed model, same seed, same run)`,
    columns: [
      'model',
      'params',
      'params vs uncompressed',
      'test PPL',
      'best validation PPL',
      'selected lr',
      'train tokens/s',
      'inference tokens/s',
      'train speed (CPU sim)',
      'inference speed (CPU sim)',
      'inference speed (GPU sim)',
      'train speed (GPU sim)',
      'peak RSS (MiB)',
    ],
    rows,
  };
}

function componentsTable(cfg: QffnConfig, base: Base, by: Map<ModelKey, SeedRecord[]>): ReportSection {
  // the closed forms describe the lab's own base (LLaMA flavour, tied embeddings, no biases)
  const closed = base.fromDir ? null : modelCounts(cfg, shapeOf(base.model));
  const rows: Cell[][] = [...by].map(([key, rs]) => {
    const c = rs[0].counts;
    return [
      LABELS[key],
      c.embeddings,
      c.attention,
      c.norms,
      c.ffn,
      c.quantum,
      total(c),
      closed ? total(closed[key]) : null,
    ];
  });
  return {
    type: 'table',
    title: 'Parameters per component (counted on the built models; the last column is the closed form)',
    columns: ['model', 'embeddings', 'attention', 'norms', 'FFN', 'quantum', 'total', 'closed form'],
    rows,
  };
}

function ablation(
  title: string,
  what: string,
  main: { level: number; runs: SeedRecord[] },
  sweeps: { level: number; runs: SeedRecord[] }[],
  ref: SeedRecord[] | undefined,
  gpu: GpuSpeed | null,
): ReportSection | null {
  if (!sweeps.length) return null;
  const levels = [main, ...sweeps].sort((a, b) => b.level - a.level);
  const refInfer = ref ? meanStd(ref.map((r) => r.inferTokensPerSecond)).mean : NaN;
  return {
    type: 'table',
    title,
    columns: [
      what,
      'params',
      'test PPL',
      'selected lr',
      'inference speed (CPU sim)',
      'inference speed (GPU sim, main config only)',
    ],
    rows: levels.map((l) => {
      const inf = meanStd(l.runs.map((r) => r.inferTokensPerSecond)).mean;
      return [
        l.level,
        total(l.runs[0].counts),
        fmt(l.runs.map((r) => r.test.perplexity)),
        chosenLrs(l.runs),
        ref ? `${(inf / refInfer).toFixed(2)}×` : null,
        gpu && l === main ? `${(inf / gpu.inferFactor / refInfer).toFixed(2)}×` : null,
      ];
    }),
  };
}

function pairedTable(by: Map<ModelKey, SeedRecord[]>): ReportSection | null {
  const q = by.get('qffn')!;
  if (q.length < 2) return null;
  const rows: Cell[][] = [];
  for (const [key, rs] of by) {
    if (key === 'qffn') continue;
    const t = pairedTTest(
      q.map((r) => r.test.perplexity),
      rs.map((r) => r.test.perplexity),
    );
    rows.push([
      `QFFN − ${LABELS[key]}`,
      f2(t.meanDiff),
      `${t.lo.toFixed(2)} – ${t.hi.toFixed(2)}`,
      Number(t.t.toFixed(3)),
      Number(t.p.toFixed(4)),
    ]);
  }
  return {
    type: 'table',
    title: 'Paired t-tests of test perplexity over seeds (same batches per seed)',
    columns: ['difference', 'mean', '95 % interval', 't', 'p'],
    rows,
  };
}

function continuationsTable(cfg: QffnConfig, by: Map<ModelKey, SeedRecord[]>): ReportSection | null {
  if (!cfg.prompts.length || cfg.generateTokens === 0) return null;
  const rows: Cell[][] = [];
  cfg.prompts.forEach((p, i) => {
    for (const [key, rs] of by) rows.push([p, LABELS[key], rs[0].texts[i] ?? '']);
  });
  return {
    type: 'table',
    title: `Greedy continuations (${cfg.generateTokens} tokens, seed 0 of each model)`,
    columns: ['prompt', 'model', 'continuation'],
    rows,
  };
}

function setupText(
  cfg: QffnConfig,
  base: Base,
  by: Map<ModelKey, SeedRecord[]>,
  gpu: GpuSpeed | null,
  simulator: string,
): ReportSection {
  const q = by.get('qffn')![0];
  const c = by.get('classical')?.[0];
  const s = shapeOf(base.model);
  const lw = [...by.values()].flatMap((rs) =>
    rs[0].layerwise.map(
      (x) =>
        `${LABELS[rs[0].key]} block ${x.block}: ${x.before.toExponential(2)} → ${x.after.toExponential(2)}`,
    ),
  );
  return {
    type: 'text',
    title: 'Setup',
    text: [
      `Base: ${base.note}; ${s.layers} blocks × d = ${s.H}, ${s.heads} heads, FFN ${s.I}, vocabulary ${s.V}.`,
      `Quantum blocks (${cfg.placement}, fraction ${cfg.fraction}): [${q.blocks.join(', ')}]; quantum FFN ${cfg.ffnForm}, D = ${cfg.depth}; ${q.headsPerBlock} quantum head(s) per quantum block (${cfg.headKernel} kernel${cfg.headKernel === 'gaussian' ? `, ${cfg.headQubits ?? 'd_h'} qubits` : ''}). Attention projections stay classical (only the q·k score is replaced), so quantum heads add parameters rather than remove them.`,
      c
        ? `Classical compressed: ${cfg.classicalForm === 'narrow' ? `SwiGLU FFN of width ${c.matched} (units of largest ‖gate‖·‖up‖·‖down‖ kept from the base)` : `rank-${c.matched} factorised SwiGLU maps`} in the same blocks; ${cfg.classicalForm === 'narrow' ? 'width' : 'rank'} chosen as the one whose count is closest to the QFFN model's.`
        : 'No classical compressed baseline.',
      cfg.layerwiseInit
        ? `Layer-wise initialisation: ${cfg.layerwiseSteps} Adam steps (lr 0.01) on one batch of the base's FFN activations; MSE ${lw.join('; ') || 'n/a'}.`
        : 'No layer-wise initialisation: quantum and compressed modules start from their own init.',
      `Training: ${cfg.steps} steps × ${cfg.batchSize} sequences × ${cfg.seqLen} tokens, AdamW at the peak learning rate validation picks among ${lrCandidates(cfg.lr, cfg.lrFactors).join(', ')} (the same candidates for every model, each from the same initialisation on the same batches; the lowest last validation perplexity wins and its weights are the ones tested; warmup ${cfg.warmupSteps}, cosine to lr/10), weight decay ${cfg.weightDecay}, clip ${cfg.clip}; every model of a seed sees the same batches. Validation perplexity on the first ${base.streams.validation.length - 1} validation tokens every ${cfg.evalEvery} steps; test perplexity on ${base.streams.test.length - 1} test tokens, read once per model and seed.`,
      `Speed: tokens/s of the training steps (evaluation excluded) and of the test pass, measured in this run for every model on the same machine (other processes may share it). Circuits: ${simulator}, adjoint gradients.`,
      gpu
        ? `GPU-sim column: one training step and one inference forward of the QFFN model were recorded and their circuits replayed on ${gpu.info.backend}/${gpu.info.mode}${gpu.info.fallbackReason ? ` (${gpu.info.fallbackReason})` : ''}; the figure replaces the cpu circuit time (${(100 * gpu.cpuCircuitShare.infer).toFixed(0)} % of inference, ${(100 * gpu.cpuCircuitShare.train).toFixed(0)} % of a training step) by the gpu time. It is a replay, not the model running on the gpu.`
        : 'GPU-sim column not measured (gpuSpeed off).',
    ].join('\n'),
  };
}

export function buildReport(
  cfg: QffnConfig,
  base: Base,
  runs: SeedRecord[],
  sweeps: SweepRecord[],
  gpu: GpuSpeed | null,
  simulator: string,
): JobResult {
  const by = new Map<ModelKey, SeedRecord[]>();
  for (const r of runs) by.set(r.key, [...(by.get(r.key) ?? []), r]);
  const summary: Record<string, number | string> = {};
  for (const [key, rs] of by) {
    const ppl = meanStd(rs.map((r) => r.test.perplexity));
    summary[`${key}_test_ppl_mean`] = f2(ppl.mean);
    summary[`${key}_test_ppl_std`] = f2(ppl.std);
    summary[`${key}_params`] = total(rs[0].counts);
    summary[`${key}_lr`] = chosenLrs(rs);
    summary[`${key}_train_tok_s`] = Math.round(meanStd(rs.map((r) => r.trained.trainTokensPerSecond)).mean);
    summary[`${key}_infer_tok_s`] = Math.round(meanStd(rs.map((r) => r.inferTokensPerSecond)).mean);
  }
  const ref = by.get('uncompressed');
  if (ref) {
    const q = by.get('qffn')!;
    const per = q.map((r, i) => ref[i].trained.trainSeconds / r.trained.trainSeconds);
    summary.qffn_train_step_vs_uncompressed = f2(1 / meanStd(per).mean);
  }
  if (gpu) summary.gpu_backend = `${gpu.info.backend}/${gpu.info.mode}`;
  const level = (key: 'fraction' | 'depth') =>
    sweeps
      .filter((s) => s.patch[key] !== undefined)
      .map((s) => ({ level: s.patch[key] as number, runs: s.runs }));
  const qRuns = by.get('qffn')!;
  const sections: (ReportSection | null)[] = [
    table1(cfg, by, gpu),
    componentsTable(cfg, base, by),
    ablation(
      `Table 2: fraction of quantum FFN sub-layers (mean ± std over ${cfg.seeds} seed(s); speeds relative to this run's uncompressed model)`,
      'fraction',
      { level: cfg.fraction, runs: qRuns },
      level('fraction'),
      ref,
      gpu,
    ),
    ablation(
      `Depth ablation (D of the FFN and head circuits)`,
      'depth D',
      { level: cfg.depth, runs: qRuns },
      level('depth'),
      ref,
      gpu,
    ),
    pairedTable(by),
    continuationsTable(cfg, by),
    setupText(cfg, base, by, gpu, simulator),
  ];
  return { summary, report: sections.filter((s): s is ReportSection => s !== null) };
}
