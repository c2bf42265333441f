// What a submission creates, from each kind's `runPlan` (meta.ts): one run and the child runs of its own sweep,
// or a lab-level sweep's points (a point records its own sweep inside itself: the scheduler starts a sweep's
// point without child runs), and the repetitions and seeds inside each run. The wizard's preview says it.
import type { KindMeta, RunPlan } from './meta';

export interface SubmissionPlan {
  /** Runs the submission makes in the runs table besides a sweep's parent: 1, or the sweep's points. */
  runs: number;
  /** Child runs the kind's own config creates under the run (a single run only). */
  childRuns: number;
  /** A lab sweep's points' own sweep points, recorded inside those points (0 for a single run). */
  innerPoints: number;
  /** The plan of the first run (or point), as the kind states it. */
  first: RunPlan;
  /** Sentences: what each run holds (child runs, repetitions, seeds), for the preview. */
  lines: string[];
}

const NONE: RunPlan = { childRuns: 0, repetitions: 1, seeds: 1 };
const plural = (n: number, one: string, many = `${one}s`): string =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/**
 * The plan of submitting `configs` of the kind: one config (a run) or every point's config of a lab-level
 * sweep (`sweep: true`). Each config is read through the kind's schema (defaults filled in); null when one is
 * invalid (the form shows why). `copies`: points per config (a sweep's seed axis varies no config field, so
 * each config stands for one point per seed).
 */
export function submissionPlan(
  meta: Pick<KindMeta, 'schema' | 'runPlan'>,
  configs: readonly unknown[],
  sweep: boolean,
  copies = 1,
): SubmissionPlan | null {
  const plans: RunPlan[] = [];
  for (const c of configs) {
    const r = meta.schema.safeParse(c);
    if (!r.success) return null;
    plans.push(meta.runPlan?.(r.data) ?? NONE);
  }
  const first = plans[0] ?? NONE;
  const inner = copies * plans.reduce((t, p) => t + p.childRuns, 0);
  const same = (f: (p: RunPlan) => number): boolean => plans.every((p) => f(p) === f(first));
  const lines: string[] = [];
  if (!sweep && first.childRuns > 0)
    lines.push(
      `It creates ${plural(first.childRuns, 'child run')} under it: ${first.childRunsWhat ?? "its own sweep's points"}.`,
    );
  if (sweep && inner > 0)
    lines.push(
      `Each point runs its own ${first.childRunsWhat ? first.childRunsWhat.replace(/^the /, '') : 'sweep'}${same((p) => p.childRuns) ? ` (${plural(first.childRuns, 'point')})` : ''} inside itself, ${plural(inner, 'point')} in all, recorded in the point's run (a sweep's point has no child runs of its own).`,
    );
  const who = sweep ? 'Each point' : 'The run';
  if (first.repetitions > 1 && same((p) => p.repetitions))
    lines.push(
      `${who} holds ${plural(first.repetitions, 'repetition')}, each a whole one-seed run${first.repetitionsWhat ? ` with its own ${first.repetitionsWhat}` : ''}, reported side by side.`,
    );
  else if (first.seeds > 1 && same((p) => p.seeds))
    lines.push(`${who} trains every model over ${plural(first.seeds, 'seed')}.`);
  else if (!same((p) => p.seeds) || !same((p) => p.repetitions))
    lines.push(`The seeds and repetitions inside a run differ from point to point.`);
  return {
    runs: sweep ? configs.length * copies : 1,
    childRuns: sweep ? 0 : first.childRuns,
    innerPoints: sweep ? inner : 0,
    first,
    lines,
  };
}
