// QTHA's report: the paper's comparison (adapter, trainable params, reduction % against each LoRA, train loss,
// eval loss and perplexity, accuracy, time per step, memory) as mean ± std over seeds, the paired t-tests of
// QTHA against each baseline on the test loss, the validation perplexity per evaluation step, and the ablation
// table of the sweep (quantum and classical architectures side by side, on validation).
import { reductionPercent } from '../../nn/qtha-sizes';
import { formatMeanStd, meanStd } from '../harness/metrics';
import { ci95, intervalText, PERPLEXITY, SHARE_DIFFERENCE } from '../harness/report';
import { pairedTTest } from '../harness/stats';
import type { ReportSection } from '../job';
import type { Evaluation } from './tasks';
import type { ModelPlan, SeedResult } from './train';

export interface ModelRuns {
  plan: ModelPlan;
  runs: SeedResult[];
}

export interface SweepRow {
  architecture: string;
  rank: number;
  role: 'quantum' | 'baseline';
  params: number;
  /** LoRA at the same r on the same targets. */
  loraParams: number;
  runs: SeedResult[];
}

export interface ReportFacts {
  task: 'lm' | 'classification';
  setup: string;
  /** The frozen base without any adapter, test read once. */
  baseTest: Evaluation;
  seeds: number;
}

/** The chosen learning rates: one value, or each with how many seeds chose it. */
function chosenLrs(runs: SeedResult[]): string {
  const n = new Map<number, number>();
  for (const r of runs) n.set(r.lr, (n.get(r.lr) ?? 0) + 1);
  return n.size === 1 ? String(runs[0].lr) : [...n].map(([lr, k]) => `${lr} (${k}×)`).join(', ');
}

const pct = (a: number, b: number | undefined) => (b ? Number(reductionPercent(a, b).toFixed(1)) : null);
const lastVal = (r: SeedResult) => r.validation[r.validation.length - 1]?.ev;

function accCell(values: (number | null)[]): string {
  return values.some((v) => v === null) ? 'n/a' : formatMeanStd(values as number[], 4);
}

export function comparisonTable(models: ModelRuns[], f: ReportFacts): ReportSection {
  const params = (key: string) => models.find((m) => m.plan.key === key)?.runs[0]?.params;
  const loraR = params('lora-r');
  const lora2R = params('lora-2r');
  const nan = NaN;
  return {
    type: 'table',
    title: `The paper’s comparison: mean ± std over ${f.seeds} seed(s); eval = the test split, read once per model and seed`,
    columns: [
      'adapter',
      'trainable params',
      'reduction vs LoRA r (%)',
      'reduction vs LoRA 2r (%)',
      'train loss (last 10 % of steps)',
      'eval loss (nats/token)',
      'eval PPL',
      'eval PPL 95% CI',
      'accuracy',
      'selected lr',
      'time / step (ms)',
      'peak RSS (MiB)',
    ],
    rows: [
      [
        'base (frozen, no adapter)',
        0,
        null,
        null,
        null,
        f.baseTest.loss.toFixed(4),
        f.baseTest.perplexity.toFixed(3),
        null,
        f.baseTest.accuracy === null ? 'n/a' : f.baseTest.accuracy.toFixed(4),
        null,
        null,
        null,
      ],
      ...models.map((m) => {
        const p = m.runs[0]?.params ?? nan;
        return [
          m.plan.label,
          p,
          pct(p, loraR),
          pct(p, lora2R),
          formatMeanStd(
            m.runs.map((r) => r.finalLoss),
            4,
          ),
          formatMeanStd(
            m.runs.map((r) => r.test.loss),
            4,
          ),
          formatMeanStd(
            m.runs.map((r) => r.test.perplexity),
            3,
          ),
          ci95(
            m.runs.map((r) => r.test.perplexity),
            3,
            PERPLEXITY,
          ),
          accCell(m.runs.map((r) => r.test.accuracy)),
          chosenLrs(m.runs),
          formatMeanStd(
            m.runs.map((r) => r.msPerStep),
            1,
          ),
          formatMeanStd(
            m.runs.map((r) => r.peakRssMb),
            0,
          ),
        ];
      }),
    ],
  };
}

export function pairedTable(models: ModelRuns[], f: ReportFacts): ReportSection | null {
  const [ref, ...others] = models;
  if (!ref || !others.length) return null;
  const metric = f.task === 'classification' ? 'accuracy' : 'loss';
  const pick = (r: SeedResult) => (metric === 'accuracy' ? (r.test.accuracy ?? NaN) : r.test.loss);
  const num = (v: number, d: number) => (Number.isFinite(v) ? Number(v.toFixed(d)) : String(v));
  return {
    type: 'table',
    title: `Paired t-test on the test ${metric} over ${f.seeds} seed(s): ${ref.plan.label} against each baseline (same seed: same batches and base)`,
    columns: [
      'baseline',
      'mean difference (QTHA − baseline)',
      '95% CI of the difference',
      't',
      'dof',
      'p (two-sided)',
    ],
    rows: others.map((m) => {
      const t = pairedTTest(ref.runs.map(pick), m.runs.map(pick));
      if (t.n < 2) return [m.plan.label, num(t.meanDiff, 4), 'n/a (one seed)', null, null, null];
      return [
        m.plan.label,
        num(t.meanDiff, 4),
        intervalText(t.lo, t.hi, 4, metric === 'accuracy' ? SHARE_DIFFERENCE : undefined),
        num(t.t, 3),
        t.dof,
        num(t.p, 4),
      ];
    }),
  };
}

/** Validation perplexity (and accuracy) at every evaluation step, mean ± std over seeds, one column per model. */
export function validationCurveTable(models: ModelRuns[], f: ReportFacts): ReportSection {
  const steps = models[0]?.runs[0]?.validation.map((v) => v.step) ?? [];
  const cell = (m: ModelRuns, i: number) => {
    const ppl = formatMeanStd(
      m.runs.map((r) => r.validation[i].ev.perplexity),
      3,
    );
    return f.task === 'classification'
      ? `${ppl} (acc ${formatMeanStd(
          m.runs.map((r) => r.validation[i].ev.accuracy ?? NaN),
          3,
        )})`
      : ppl;
  };
  return {
    type: 'table',
    title: `Validation perplexity per evaluation step${f.task === 'classification' ? ' (and accuracy)' : ''}, mean ± std over seeds`,
    columns: ['step', ...models.map((m) => m.plan.label)],
    rows: steps.map((s, i) => [s, ...models.map((m) => cell(m, i))]),
  };
}

export function ablationTable(rows: SweepRow[], task: ReportFacts['task']): ReportSection {
  const sorted = [...rows].sort((a, b) => a.rank - b.rank || a.architecture.localeCompare(b.architecture));
  return {
    type: 'table',
    title:
      'Ablation (sweep child runs, QTHA only, read on validation): A = MPOs, B = classical branch, C = quantum branch; ABC-silu puts a classical SiLU layer where the VQC is',
    columns: [
      'architecture',
      'r',
      'kind',
      'trainable params',
      'reduction vs LoRA r (%)',
      'train loss (last 10 % of steps)',
      'validation loss',
      'validation PPL',
      'validation accuracy',
      'selected lr',
      'time / step (ms)',
    ],
    rows: sorted.map((s) => [
      s.architecture,
      s.rank,
      s.role === 'quantum' ? 'quantum' : 'classical',
      s.params,
      pct(s.params, s.loraParams),
      formatMeanStd(
        s.runs.map((r) => r.finalLoss),
        4,
      ),
      formatMeanStd(
        s.runs.map((r) => lastVal(r).loss),
        4,
      ),
      formatMeanStd(
        s.runs.map((r) => lastVal(r).perplexity),
        3,
      ),
      task === 'classification' ? accCell(s.runs.map((r) => lastVal(r).accuracy)) : 'n/a',
      chosenLrs(s.runs),
      formatMeanStd(
        s.runs.map((r) => r.msPerStep),
        1,
      ),
    ]),
  };
}

/** Summary keys per model (key with '-' → '_'): params, reduction vs each LoRA, train loss, test loss/PPL/acc. */
export function summaryOf(models: ModelRuns[], f: ReportFacts): Record<string, number | string> {
  const out: Record<string, number | string> = {
    base_test_loss: f.baseTest.loss,
    base_test_ppl: f.baseTest.perplexity,
  };
  if (f.baseTest.accuracy !== null) out.base_test_acc = f.baseTest.accuracy;
  const params = (key: string) => models.find((m) => m.plan.key === key)?.runs[0]?.params;
  for (const m of models) {
    const k = m.plan.key.replace(/-/g, '_');
    const mean = (g: (r: SeedResult) => number) => meanStd(m.runs.map(g));
    const p = m.runs[0].params;
    out[`${k}_params`] = p;
    for (const lora of ['lora-r', 'lora-2r'] as const) {
      const lp = params(lora);
      if (lp && lora !== m.plan.key)
        out[`${k}_reduction_vs_${lora.replace('-', '_')}_pct`] = reductionPercent(p, lp);
    }
    out[`${k}_train_loss`] = mean((r) => r.finalLoss).mean;
    out[`${k}_test_loss`] = mean((r) => r.test.loss).mean;
    out[`${k}_test_ppl`] = mean((r) => r.test.perplexity).mean;
    out[`${k}_test_ppl_std`] = mean((r) => r.test.perplexity).std;
    if (m.runs[0].test.accuracy !== null) out[`${k}_test_acc`] = mean((r) => r.test.accuracy ?? NaN).mean;
    out[`${k}_ms_per_step`] = mean((r) => r.msPerStep).mean;
    out[`${k}_lr`] = chosenLrs(m.runs);
  }
  return out;
}

export function buildReport(models: ModelRuns[], sweep: SweepRow[], f: ReportFacts): ReportSection[] {
  const out: ReportSection[] = [comparisonTable(models, f)];
  const paired = pairedTable(models, f);
  if (paired) out.push(paired);
  out.push(validationCurveTable(models, f));
  if (sweep.length) out.push(ablationTable(sweep, f.task));
  out.push({ type: 'text', title: 'Setup', text: f.setup });
  return out;
}
