// A lab-level sweep's end: once its last child run has ended, the store that recorded that end (SQLite or
// PostgreSQL, in the same transaction) gives the parent the status and result computed here from its children.
// Pure: both stores call it with the children's rows.
import type { ReportSection, RunStatus } from '../api/lab-api';
import { headline } from '../api/run-headline';
import { SEED_AXIS, type SweepSpec } from '../api/sweep';
import type { RunResult } from './run-store';

/** What the outcome reads of each child (in creation order: the grid's order). */
export interface SweepChildRow {
  id: string;
  status: RunStatus;
  config: unknown;
  seed: number;
  summary: Record<string, number | string>;
  error: string | null;
}

export interface SweepOutcome extends RunResult {
  status: RunStatus;
  error: string | null;
}

/** A validation figure of a summary: the key, and whether higher is better. */
export interface ValidationFigure {
  key: string;
  higherIsBetter: boolean;
}

// Validation figures the methods report (run-headline.ts names the test ones): qhead's `<model>_val_acc` and
// children's `val_acc_mean`, qtha's `val_acc` / `val_ppl` / `val_loss`. Test figures are never used to choose.
const VALIDATION = /^(?:(.+)_)?val_(acc|ppl|loss)(?:_mean)?$/;

/** The validation figures a summary holds, best first: the quantum model's, then accuracy before ppl before loss. */
export function validationFigures(summary: Record<string, number | string>): ValidationFigure[] {
  const out: (ValidationFigure & { rank: number })[] = [];
  for (const [key, value] of Object.entries(summary)) {
    const m = VALIDATION.exec(key);
    if (!m || typeof value !== 'number' || !Number.isFinite(value)) continue;
    const what = m[2];
    const model = m[1] ?? '';
    const rank =
      (model === '' || model.startsWith('quantum') ? 0 : 10) + (what === 'acc' ? 0 : what === 'ppl' ? 1 : 2);
    out.push({ key, higherIsBetter: what === 'acc', rank });
  }
  return out.sort((a, b) => a.rank - b.rank).map(({ key, higherIsBetter }) => ({ key, higherIsBetter }));
}

/** The value at a dotted path of a config (undefined where absent). */
export function fieldAt(config: unknown, path: string): unknown {
  let at: unknown = config;
  for (const k of path.split('.')) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[k];
  }
  return at;
}

function cell(v: unknown): string | number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' || typeof v === 'string') return v;
  return JSON.stringify(v);
}

/**
 * The parent's status and result from its ended children:
 * - `cancelled` when the sweep was cancelled (children that had finished keep their results in the table);
 * - `succeeded` when every child succeeded;
 * - `failed` otherwise (a child failed or was interrupted), the error counting them; the table and the best
 *   point still come from the children that succeeded.
 * The best point is the succeeded child with the best validation figure (the first figure every succeeded
 * child reports, validationFigures' order), ties to the earlier point; none when no such figure exists.
 */
export function sweepOutcome(
  spec: SweepSpec,
  children: readonly SweepChildRow[],
  cancelled: boolean,
): SweepOutcome {
  const count = (s: RunStatus) => children.filter((c) => c.status === s).length;
  const ok = children.filter((c) => c.status === 'succeeded');
  const summary: Record<string, number | string> = {
    points: children.length,
    succeeded: ok.length,
    failed: count('failed'),
    cancelled: count('cancelled'),
    interrupted: count('interrupted'),
  };
  // the figure to choose by: one every succeeded child reports
  let figure: ValidationFigure | undefined;
  if (ok.length > 0) {
    figure = validationFigures(ok[0].summary).find((f) =>
      ok.every((c) => typeof c.summary[f.key] === 'number' && Number.isFinite(c.summary[f.key])),
    );
  }
  let best: SweepChildRow | undefined;
  if (figure) {
    for (const c of ok) {
      const v = c.summary[figure.key] as number;
      const b = best === undefined ? undefined : (best.summary[figure.key] as number);
      if (b === undefined || (figure.higherIsBetter ? v > b : v < b)) best = c;
    }
  }
  const pointOf = (c: SweepChildRow) =>
    Object.fromEntries(
      spec.axes.map((a) => [a.field, a.field === SEED_AXIS ? c.seed : fieldAt(c.config, a.field)]),
    );
  const describe = (c: SweepChildRow) =>
    Object.entries(pointOf(c))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
  if (best && figure) {
    summary[`best_${figure.key}`] = best.summary[figure.key];
    summary.best_point = describe(best);
    summary.best_run = best.id;
  }
  // each child's headline figure: the first one the first succeeded child leads with, read from every child
  const head = ok.length > 0 ? headline(ok[0].summary, 1)[0] : undefined;
  const headKey = head
    ? Object.keys(ok[0].summary).find((k) => {
        const h = headline({ [k]: ok[0].summary[k] }, 1)[0];
        return h !== undefined && h.label === head.label && h.value === head.value;
      })
    : undefined;
  const columns = [
    '#',
    ...spec.axes.map((a) => a.field),
    'status',
    ...(headKey ? [headKey] : []),
    ...(figure && figure.key !== headKey ? [figure.key] : []),
    'best',
    'run',
    'error',
  ];
  const rows = children.map((c, i) => [
    i + 1,
    ...spec.axes.map((a) => cell(pointOf(c)[a.field])),
    c.status,
    ...(headKey ? [cell(c.summary[headKey])] : []),
    ...(figure && figure.key !== headKey ? [cell(c.summary[figure.key])] : []),
    c === best ? '★' : '',
    c.id,
    c.error === null ? null : c.error.slice(0, 200),
  ]);
  const why = figure
    ? `The best point (★) has the ${figure.higherIsBetter ? 'highest' : 'lowest'} ${figure.key} (a validation figure) of the ${ok.length} point(s) that succeeded; test figures are never used to choose.`
    : 'No best point is chosen: the points report no validation figure every succeeded point shares (choosing by a test figure would select on the test set).';
  const report: ReportSection[] = [
    {
      type: 'table',
      title: `Sweep: ${children.length} point(s) over ${spec.axes.map((a) => a.field).join(' × ')}`,
      columns,
      rows,
    },
    { type: 'text', title: 'Best point', text: why },
  ];
  let status: RunStatus;
  let error: string | null = null;
  if (cancelled) {
    status = 'cancelled';
    error = `cancelled with ${ok.length} of ${children.length} point(s) succeeded`;
  } else if (ok.length === children.length) {
    status = 'succeeded';
  } else {
    status = 'failed';
    const parts = (['failed', 'interrupted', 'cancelled'] as const)
      .map((s) => [s, count(s)] as const)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${n} ${s}`);
    const first = children.find((c) => c.status !== 'succeeded' && c.error);
    error = `${children.length - ok.length} of ${children.length} point(s) did not succeed (${parts.join(', ')})${first ? `; first: ${describe(first)}: ${first.error!.slice(0, 300)}` : ''}`;
  }
  return { status, error, summary, report, backend: {} };
}
