// `vary`: seeds that also vary what a single run holds fixed (the split, a teacher). Repetition k is a whole
// one-seed run on its own context (run seed + 1000·k, its curves under seed<k>/, its artifacts rep<k>-…), and
// the repetitions are reported side by side with mean ± std, a Student-t interval over them and a paired
// t-test against the reference model. Item-level tests stay inside each repetition's own report: when the
// split varies, the repetitions' test items differ. Shared by qdllm and qhead.
import { formatMeanStd } from './metrics';
import { meanInterval, pairedTTest } from './stats';
import { intervalText, SHARE, type Cell } from './report';
import type { JobContext, JobResult, ReportSection } from '../job';

/** Repetition k's run seed: the seed stream of one-seed run k (methods' seed plans add 1000 per seed). */
export const repetitionSeed = (seed: number, k: number) => (seed + 1000 * k) >>> 0;

/**
 * Repetition k's context: its own run seed, its seed0 curves renamed seed<k>, progress as the k-th of K
 * parts, artifacts prefixed rep<k>-.
 */
export function repetitionContext(ctx: JobContext, k: number, K: number): JobContext {
  return {
    ...ctx,
    seed: repetitionSeed(ctx.seed, k),
    metrics: (points) =>
      ctx.metrics(points.map((p) => ({ ...p, key: p.key.replace('/seed0/', `/seed${k}/`) }))),
    progress: (f, message) => ctx.progress((k + f) / K, `repetition ${k + 1}/${K}: ${message ?? ''}`),
    artifact: (name, kind, data) => ctx.artifact(`rep${k}-${name}`, kind, data),
  };
}

/** Runs `one(k, ctxK)` for k = 0…K−1, one after another, each on its repetition context. */
export async function runRepetitions(
  ctx: JobContext,
  K: number,
  one: (k: number, ctxK: JobContext) => Promise<JobResult>,
): Promise<JobResult[]> {
  const runs: JobResult[] = [];
  for (let k = 0; k < K; k++) runs.push(await one(k, repetitionContext(ctx, k, K)));
  return runs;
}

export interface RepetitionReportOptions {
  /** Model keys, in table order; each repetition's summary has <key>_test_acc. */
  models: string[];
  /** The model every other one is paired against (a key of `models`). */
  reference: string;
  /** Its name in the titles ("the quantum student"). */
  referenceLabel: string;
  /** What each repetition varies, in words (e.g. ['student initialisation', 'batch order', 'split']). */
  varied: string[];
  /** What the repetitions vary beyond the seeds, for the title ("split", "split and teacher"). */
  what: string;
  /** Sentences after "Each repetition varies: …" (split seeds, teacher seeds; what stayed fixed). */
  details?: string;
}

/**
 * The repetitions side by side: per model its test accuracy in every repetition, mean ± std, the Student-t
 * 95 % interval over the repetitions and a paired t-test against the reference; then "what the seeds vary"
 * and each repetition's own report (titles prefixed "Repetition k: "). The summary has <model>_test_acc
 * (mean), _std, _ci95 (half-width) and <model>_vs_<reference>_p, `varied`, `repetitions` and
 * split_overlap_exact summed over the repetitions.
 */
export function repetitionReport(runs: JobResult[], o: RepetitionReportOptions): JobResult {
  const num = (r: JobResult, k: string) => Number(r.summary[k]);
  const models = o.models.filter((m) => runs[0]?.summary[`${m}_test_acc`] !== undefined);
  const summary: Record<string, number | string> = {
    varied: o.varied.join(', '),
    repetitions: runs.length,
  };
  const rows: Cell[][] = [];
  for (const m of models) {
    const accs = runs.map((r) => num(r, `${m}_test_acc`));
    const mi = meanInterval(accs);
    summary[`${m}_test_acc`] = mi.mean;
    summary[`${m}_test_acc_std`] = mi.std;
    if (!Number.isNaN(mi.half)) summary[`${m}_test_acc_ci95`] = mi.half;
    let p: Cell = null;
    if (m !== o.reference && runs.length > 1) {
      const t = pairedTTest(
        runs.map((r) => num(r, `${o.reference}_test_acc`)),
        accs,
      );
      p = Number.isNaN(t.p) ? 'n/a' : Number(t.p.toFixed(4));
      summary[`${m}_vs_${o.reference}_p`] = p;
    }
    rows.push([
      m,
      ...accs.map((a) => Number(a.toFixed(4))),
      formatMeanStd(accs),
      Number.isNaN(mi.half) ? 'n/a' : intervalText(mi.lo, mi.hi, 4, SHARE),
      p,
    ]);
  }
  if (runs.every((r) => r.summary.split_overlap_exact !== undefined))
    summary.split_overlap_exact = runs.reduce((a, r) => a + num(r, 'split_overlap_exact'), 0);
  const report: ReportSection[] = [
    {
      type: 'table',
      title: `Test accuracy per repetition (each its own ${o.what}), mean ± std, Student-t 95 % interval over the ${runs.length} repetitions and paired t-test against ${o.referenceLabel}`,
      columns: [
        'model',
        ...runs.map((_, k) => `repetition ${k + 1}`),
        'mean ± std',
        '95% CI (t over repetitions)',
        `p vs ${o.reference} (paired t)`,
      ],
      rows,
    },
    {
      type: 'text',
      title: 'What the seeds vary',
      text: `Each repetition varies: ${o.varied.join(', ')}.${o.details ? ` ${o.details}` : ''} Each repetition's own report follows, with its intervals and paired tests over its test items.`,
    },
    ...runs.flatMap((r, k) =>
      (r.report ?? []).map((s) => ({ ...s, title: `Repetition ${k + 1}: ${s.title}` })),
    ),
  ];
  return { summary, report, backend: runs[0]?.backend };
}
