// The report pieces every comparison shares: the results table (mean ± std and the 95 % t interval over the
// seeds), the paired t-tests of the reference (quantum) model against each baseline, the confusion matrices
// summed over the seeds, the sentence that states the selection discipline, and the summary keys.
import type { ReportSection } from '../job';
import type { Comparison, ModelResult, SeedRun } from './compare';
import type { Schedule } from './fit';
import { formatMeanStd, meanStd, type ClassificationReport } from './metrics';
import { discordant, mcnemar, meanInterval, pairedBootstrap, pairedTTest, wilsonInterval } from './stats';

export type Cell = string | number | null;

/** A column of the results table: the cell of one model from its runs (one per seed). */
export interface Column {
  title: string;
  cell(runs: SeedRun[]): Cell;
}

/** mean ± std of a per-run figure with `digits` decimals. */
export function meanStdColumn(title: string, f: (r: SeedRun) => number, digits = 4): Column {
  return { title, cell: (runs) => formatMeanStd(runs.map(f), digits) };
}

/** mean ± std in exponent notation (ratios such as accuracy per parameter). */
export function sciColumn(title: string, f: (r: SeedRun) => number): Column {
  return {
    title,
    cell: (runs) => {
      const { mean, std } = meanStd(runs.map(f));
      return `${mean.toExponential(3)} ± ${std.toExponential(2)}`;
    },
  };
}

/** The range a bounded figure can take: [lowest, highest]. */
export type Range = readonly [number, number];
/** Accuracy, precision, recall, F1: shares of test items. */
export const SHARE: Range = [0, 1];
/** The difference of two shares (one model's accuracy minus another's). */
export const SHARE_DIFFERENCE: Range = [-1, 1];
/** Perplexity: e^(mean cross-entropy) ≥ 1. */
export const PERPLEXITY: Range = [1, Infinity];

/**
 * "0.5812 – 0.6355": an interval as a table cell, kept inside `range` when one is given. A Student-t interval
 * over few seeds is symmetric and wide (two seeds: ±12.7 standard errors) and can pass a bounded figure's limits
 * (an accuracy's −0.96 – 2.21); the cell then shows the interval clipped to the range and says so,
 * "0.0000 – 1.0000 (clipped to [0, 1])". Every report's interval over seeds or repetitions goes through here.
 */
export function intervalText(lo: number, hi: number, digits = 4, range?: Range): string {
  if (!range) return `${lo.toFixed(digits)} – ${hi.toFixed(digits)}`;
  const [min, max] = range;
  const cl = Math.max(min, Math.min(max, lo));
  const ch = Math.max(min, Math.min(max, hi));
  const clipped = cl !== lo || ch !== hi;
  const bound = (v: number) => (v === Infinity ? '∞' : v === -Infinity ? '-∞' : String(v));
  const note = clipped ? ` (clipped to [${bound(min)}, ${bound(max)}${max === Infinity ? ')' : ']'})` : '';
  return `${cl.toFixed(digits)} – ${ch.toFixed(digits)}${note}`;
}

/**
 * "0.5812 – 0.6355": the Student-t 95 % interval of the mean over seeds (needs two seeds), clipped to `range`
 * for a bounded figure (see intervalText).
 */
export function ci95(values: number[], digits = 4, range?: Range): string {
  const m = meanInterval(values);
  return Number.isNaN(m.half) ? 'n/a (one seed)' : intervalText(m.lo, m.hi, digits, range);
}

/**
 * "0.8123 – 0.8790": the Wilson 95 % interval of the accuracy over the n test items (k = mean correct count
 * over the seeds); unlike the t interval over seeds it shows how few test items there are.
 */
export function wilson95(runs: SeedRun[], digits = 4): string | null {
  if (!runs.length) return null;
  const n = runs[0].test.n;
  const w = wilsonInterval(meanStd(runs.map((r) => r.test.accuracy)).mean * n, n);
  return `${w.lo.toFixed(digits)} – ${w.hi.toFixed(digits)}`;
}

/** Positive-class figure (class 1, e.g. spam) of a binary task; null on more classes. */
function positive(f: (r: SeedRun) => number[]): Column['cell'] {
  return (runs) =>
    runs.length && f(runs[0]).length === 2
      ? formatMeanStd(
          runs.map((r) => f(r)[1]),
          4,
        )
      : null;
}

/** The chosen learning rates: one value, or each with how many seeds chose it. */
function chosenLrs(runs: SeedRun[]): string {
  const n = new Map<number, number>();
  for (const r of runs) n.set(r.lr, (n.get(r.lr) ?? 0) + 1);
  return n.size === 1 ? String(runs[0].lr) : [...n].map(([lr, k]) => `${lr} (${k}×)`).join(', ');
}

/** Column title of the Wilson interval over test items. */
export const WILSON_TITLE = 'accuracy 95% CI (Wilson, test items)';

export const STANDARD_COLUMNS: readonly Column[] = [
  { title: 'trainable params', cell: (runs) => runs[0]?.params ?? null },
  meanStdColumn('accuracy', (r) => r.test.accuracy),
  {
    title: 'accuracy 95% CI',
    cell: (runs) =>
      ci95(
        runs.map((r) => r.test.accuracy),
        4,
        SHARE,
      ),
  },
  { title: WILSON_TITLE, cell: (runs) => wilson95(runs) },
  meanStdColumn('precision (macro)', (r) => r.test.precision.macro),
  meanStdColumn('recall (macro)', (r) => r.test.recall.macro),
  meanStdColumn('F1 (macro)', (r) => r.test.f1.macro),
  { title: 'precision (positive class)', cell: positive((r) => r.test.precision.perClass) },
  { title: 'recall (positive class)', cell: positive((r) => r.test.recall.perClass) },
  { title: 'F1 (positive class)', cell: positive((r) => r.test.f1.perClass) },
  meanStdColumn('precision (weighted)', (r) => r.test.precision.weighted),
  meanStdColumn('recall (weighted)', (r) => r.test.recall.weighted),
  meanStdColumn('F1 (weighted)', (r) => r.test.f1.weighted),
  { title: 'selected lr', cell: chosenLrs },
  meanStdColumn('selected epoch', (r) => r.epoch, 1),
  meanStdColumn('validation accuracy', (r) => r.valAcc),
  meanStdColumn('train time (s)', (r) => r.trainSeconds, 2),
  meanStdColumn('train time / epoch (s)', (r) => r.epochSeconds, 3),
  meanStdColumn('inference / sample (ms)', (r) => 1000 * r.inferSecondsPerSample, 4),
  meanStdColumn('peak RSS (MiB)', (r) => r.peakRssMb, 1),
  meanStdColumn('peak heap (MiB)', (r) => r.peakHeapMb, 1),
];

/** A row from outside the comparison (a teacher, a reference model): its cells by column title. */
export interface ExtraRow {
  label: string;
  cells: Record<string, Cell>;
}

/**
 * The test-metric cells of a single fitted model outside the comparison (a teacher, the bag-of-words
 * reference), under the standard column titles.
 */
export function singleModelCells(t: ClassificationReport): Record<string, Cell> {
  const r4 = (v: number) => Number(v.toFixed(4));
  const w = wilsonInterval(t.accuracy * t.n, t.n);
  const binary = t.precision.perClass.length === 2;
  return {
    accuracy: r4(t.accuracy),
    [WILSON_TITLE]: `${w.lo.toFixed(4)} – ${w.hi.toFixed(4)}`,
    'precision (macro)': r4(t.precision.macro),
    'recall (macro)': r4(t.recall.macro),
    'F1 (macro)': r4(t.f1.macro),
    ...(binary
      ? {
          'precision (positive class)': r4(t.precision.perClass[1]),
          'recall (positive class)': r4(t.recall.perClass[1]),
          'F1 (positive class)': r4(t.f1.perClass[1]),
        }
      : {}),
    'precision (weighted)': r4(t.precision.weighted),
    'recall (weighted)': r4(t.recall.weighted),
    'F1 (weighted)': r4(t.f1.weighted),
  };
}

/** A model outside the comparison with one set of test predictions (teacher, reference), for paired tests. */
export interface SinglePredictions {
  /** Short name (summary keys, the predictions file). */
  key: string;
  label: string;
  predictions: Int32Array;
}

export interface ResultsTableOptions {
  /** Method-specific columns, each placed after the named standard column. */
  columns?: { after: string; column: Column }[];
  /** Rows shown above the comparison's models. */
  before?: ExtraRow[];
}

/** The comparison's columns: the standard ones with the method's inserted. */
export function resultsColumns(extra: ResultsTableOptions['columns'] = []): Column[] {
  const out: Column[] = [];
  for (const c of STANDARD_COLUMNS) {
    out.push(c);
    for (const e of extra) if (e.after === c.title) out.push(e.column);
  }
  return out;
}

/** The results table; a column empty in every row (positive-class figures of a multi-class task) is left out. */
export function resultsTable(c: Comparison, title: string, o: ResultsTableOptions = {}): ReportSection {
  const all = resultsColumns(o.columns);
  const rows = [
    ...(o.before ?? []).map((r) => [r.label, ...all.map((col) => r.cells[col.title] ?? null)]),
    ...c.models.map((m) => [m.label, ...all.map((col) => col.cell(m.runs))]),
  ];
  const keep = all.map((_, j) => rows.some((row) => row[j + 1] !== null));
  return {
    type: 'table',
    title,
    columns: ['model', ...all.filter((_, j) => keep[j]).map((col) => col.title)],
    rows: rows.map((row) => [row[0], ...row.slice(1).filter((_, j) => keep[j])]),
  };
}

const accuracies = (m: ModelResult) => m.runs.map((r) => r.test.accuracy);

/** Paired t-test of the reference's per-seed test accuracy against each other model's; null with one model. */
export function pairedTestTable(c: Comparison): ReportSection | null {
  const ref = c.models.find((m) => m.key === c.reference)!;
  const others = c.models.filter((m) => m !== ref);
  if (!others.length) return null;
  const f = (v: number, d: number) => (Number.isFinite(v) ? Number(v.toFixed(d)) : String(v));
  return {
    type: 'table',
    title: `Paired t-test on test accuracy over ${c.seeds} seed(s): ${ref.label} against each baseline (seed i of one model paired with seed i of the other: same data, batches and budget)`,
    columns: [
      'baseline',
      'mean difference (reference − baseline)',
      '95% CI of the difference',
      't',
      'dof',
      'p (two-sided)',
    ],
    rows: others.map((m) => {
      const t = pairedTTest(accuracies(ref), accuracies(m));
      if (t.n < 2) return [m.label, f(t.meanDiff, 4), 'n/a (one seed)', null, null, null];
      const ci = Number.isNaN(t.lo) ? 'n/a' : intervalText(t.lo, t.hi, 4, SHARE_DIFFERENCE);
      return [m.label, f(t.meanDiff, 4), ci, f(t.t, 3), t.dof, f(t.p, 4)];
    }),
  };
}

/** Per test item, the share of a model's seeds that got it right. */
export function itemCorrectness(m: ModelResult, labels: Int32Array): Float64Array {
  const out = new Float64Array(labels.length);
  for (const r of m.runs)
    for (let i = 0; i < labels.length; i++) if (r.predictions[i] === labels[i]) out[i]++;
  for (let i = 0; i < out.length; i++) out[i] /= Math.max(1, m.runs.length);
  return out;
}

/** One set of predictions as a model with the same predictions in every seed (pairs with each seed). */
function asModel(s: SinglePredictions, seeds: number): ModelResult {
  const run = { predictions: s.predictions } as SeedRun;
  return { key: s.key, label: s.label, runs: Array.from({ length: seeds }, () => run) };
}

/** Item-level paired comparison of the reference with one baseline: bootstrap over items, McNemar per seed. */
export function pairedItems(c: Comparison, ref: ModelResult, m: ModelResult) {
  const boot = pairedBootstrap(itemCorrectness(ref, c.testLabels), itemCorrectness(m, c.testLabels), {
    seed: 0x5eed,
  });
  const perSeed = ref.runs.flatMap((r, k) => {
    const other = m.runs[k];
    if (!other) return [];
    const d = discordant(r.predictions, other.predictions, c.testLabels);
    return [mcnemar(d.b, d.c)];
  });
  return { boot, mcnemar: perSeed };
}

/**
 * The paired comparison on test items of the reference (quantum) model against each baseline: the accuracy
 * difference (mean over seeds) with its paired-bootstrap 95 % interval and p over the test items, and McNemar's
 * exact test for each seed's pair of models. Null with one model.
 */
export function pairedItemTable(c: Comparison, singles: SinglePredictions[] = []): ReportSection | null {
  const ref = c.models.find((m) => m.key === c.reference)!;
  const others = [...singles.map((s) => asModel(s, c.seeds)), ...c.models.filter((m) => m !== ref)];
  if (!others.length || c.testLabels.length === 0) return null;
  const f = (v: number, d: number) => Number(v.toFixed(d));
  return {
    type: 'table',
    title: `Paired comparison on the ${c.testLabels.length} test items: ${ref.label} against each baseline (bootstrap: 2,000 resamples of the items, each item's correctness averaged over ${c.seeds} seed(s); McNemar: exact binomial test on the items one model got right and the other wrong, seed by seed)`,
    columns: [
      'baseline',
      'accuracy difference (reference − baseline)',
      '95% CI (paired bootstrap over items)',
      'p (paired bootstrap)',
      'McNemar b / c per seed',
      'McNemar exact p per seed',
    ],
    rows: others.map((m) => {
      const { boot, mcnemar: mc } = pairedItems(c, ref, m);
      return [
        m.label,
        f(boot.estimate, 4),
        `${boot.lo.toFixed(4)} – ${boot.hi.toFixed(4)}`,
        f(boot.p, 4),
        mc.map((t) => `${t.b}/${t.c}`).join(', '),
        mc.map((t) => t.pExact.toPrecision(3)).join(', '),
      ];
    }),
  };
}

/**
 * Every model's prediction for every test item and seed, as CSV (row, id, label, model, seed, predicted,
 * correct), so any metric can be recomputed; `ids` names the rows (the data's item ids) where known.
 */
export function predictionsCsv(
  c: Comparison,
  classes: string[],
  ids?: readonly string[],
  singles: SinglePredictions[] = [],
): string {
  const q = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = ['row,id,label,model,seed,predicted,correct'];
  const models = [...c.models, ...singles.map((x) => asModel(x, 1))];
  for (const m of models)
    for (const r of m.runs)
      for (let i = 0; i < c.testLabels.length; i++) {
        const y = c.testLabels[i];
        const p = r.predictions[i];
        lines.push(
          [
            i,
            q(ids?.[i] ?? ''),
            q(classes[y] ?? String(y)),
            q(m.key),
            r.seedIndex ?? 0,
            q(classes[p] ?? String(p)),
            p === y ? 1 : 0,
          ].join(','),
        );
      }
  return lines.join('\n') + '\n';
}

/** Each model's test confusion matrix summed over its seeds. */
export function summedConfusions(c: Comparison): { label: string; confusion: number[][] }[] {
  return c.models.map((m) => {
    const sum = Array.from({ length: c.classes }, () => new Array<number>(c.classes).fill(0));
    for (const r of m.runs) r.test.confusion.forEach((row, t) => row.forEach((v, p) => (sum[t][p] += v)));
    return { label: m.label, confusion: sum };
  });
}

/** Confusion matrices as one table (rows: model × true class; columns: predicted class). */
export function confusionTable(
  title: string,
  classes: string[],
  entries: { label: string; confusion: number[][] }[],
): ReportSection {
  return {
    type: 'table',
    title,
    columns: ['model', 'true class', ...classes.map((c) => `predicted ${c}`)],
    rows: entries.flatMap((e) => e.confusion.map((row, t) => [e.label, classes[t], ...row])),
  };
}

/** The selection discipline in one paragraph, for a method's setup text. */
export function selectionText(c: Comparison, s: Schedule): string {
  const search =
    c.candidates > 1
      ? `${c.candidates} learning-rate candidates per model (the same budget for every model)`
      : 'one learning rate per model';
  return [
    `Every model: Adam, ${s.epochs} epochs${s.patience != null ? ` (early stop after ${s.patience} without a better validation score)` : ''}, batch ${s.batchSize}, the same seeded batch order in each repetition; ${search}.`,
    'The learning rate and epoch with the best validation accuracy (ties: lower validation loss) are kept; the test split is read once per model and seed, after that choice (the harness hands it over only in that final evaluation).',
    `Intervals: Wilson 95 % over the ${c.testLabels.length} test items for each accuracy, and Student t over the ${c.seeds} seed(s) (an interval passing a figure's range is shown clipped to it and marked so); paired tests against the quantum model: bootstrap over test items, McNemar per seed, and a t-test on the per-seed accuracies. Precision, recall and F1 are labelled macro, weighted or positive class (class 1 of a binary task). Train time counts the selected candidate's training steps (no validation passes).`,
  ].join(' ');
}

/**
 * Summary keys per model (key with '-' → '_'): `<k>_test_acc` (mean), `_test_acc_std`, `_test_acc_ci95` (half
 * width, two seeds or more), `_f1_macro`, `_params`, `_train_seconds`, `_infer_ms_per_sample`, `_val_acc`,
 * `_epoch`, `_lr`, `_test_acc_wilson_lo`/`_hi` (Wilson 95 % over test items), on binary tasks `_precision_pos`,
 * `_recall_pos`, `_f1_pos` (class 1); for every model but the reference, `<k>_vs_<reference>_p` (paired t-test,
 * two seeds or more), `_diff` (baseline − reference accuracy), `_boot_p` (paired bootstrap over test items) and
 * `_mcnemar_p` (exact McNemar, first seed).
 */
export function comparisonSummary(c: Comparison): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  const name = (key: string) => key.replace(/-/g, '_');
  const ref = c.models.find((m) => m.key === c.reference)!;
  for (const m of c.models) {
    const k = name(m.key);
    const acc = meanInterval(accuracies(m));
    const mean = (f: (r: SeedRun) => number) => meanStd(m.runs.map(f)).mean;
    out[`${k}_test_acc`] = acc.mean;
    out[`${k}_test_acc_std`] = acc.std;
    if (!Number.isNaN(acc.half)) out[`${k}_test_acc_ci95`] = acc.half;
    out[`${k}_f1_macro`] = mean((r) => r.test.f1.macro);
    out[`${k}_params`] = m.runs[0].params;
    out[`${k}_train_seconds`] = mean((r) => r.trainSeconds);
    out[`${k}_infer_ms_per_sample`] = mean((r) => 1000 * r.inferSecondsPerSample);
    out[`${k}_val_acc`] = mean((r) => r.valAcc);
    out[`${k}_epoch`] = mean((r) => r.epoch);
    const lr = chosenLrs(m.runs);
    out[`${k}_lr`] = Number.isNaN(Number(lr)) ? lr : Number(lr);
    const n = m.runs[0].test.n;
    const w = wilsonInterval(acc.mean * n, n);
    out[`${k}_test_acc_wilson_lo`] = w.lo;
    out[`${k}_test_acc_wilson_hi`] = w.hi;
    if (c.classes === 2) {
      out[`${k}_precision_pos`] = mean((r) => r.test.precision.perClass[1]);
      out[`${k}_recall_pos`] = mean((r) => r.test.recall.perClass[1]);
      out[`${k}_f1_pos`] = mean((r) => r.test.f1.perClass[1]);
    }
    if (m !== ref && c.seeds > 1) {
      const p = pairedTTest(accuracies(ref), accuracies(m)).p;
      out[`${k}_vs_${name(ref.key)}_p`] = Number.isNaN(p) ? 'n/a' : p;
    }
    if (m !== ref && c.testLabels.length) {
      const { boot, mcnemar: mc } = pairedItems(c, ref, m);
      const vs = `${k}_vs_${name(ref.key)}`;
      out[`${vs}_diff`] = -boot.estimate;
      out[`${vs}_boot_p`] = boot.p;
      out[`${vs}_mcnemar_p`] = mc[0]?.pExact ?? 'n/a';
    }
  }
  return out;
}
