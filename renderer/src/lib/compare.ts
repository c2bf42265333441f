// The compare page's results table: each run's final summary (the job's headline figures) side by side.
import { modelColor, splitSeed } from './chart-series';
import { formatValue, scaleOf } from './format';

export interface SummaryRow {
  key: string;
  /** One display value per run ('—' where the run lacks the key). */
  values: string[];
  /** Whether the runs disagree on this row (ignoring runs that lack it). */
  differs: boolean;
}

/**
 * Rows over the union of the runs' summary keys, in first-seen order. A key X whose run also has X_std (or
 * X_mean with X_std) is shown once as "mean ± std" under X, and the _std key gets no row of its own.
 */
export function summaryRows(runs: { summary: Record<string, number | string> }[]): SummaryRow[] {
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const r of runs)
    for (const k of Object.keys(r.summary))
      if (!seen.has(k)) {
        seen.add(k);
        keys.push(k);
      }
  const stdOf = (k: string): string | null => {
    const base = k.endsWith('_mean') ? k.slice(0, -'_mean'.length) : k;
    const s = `${base}_std`;
    return s !== k && seen.has(s) ? s : null;
  };
  const paired = new Set(keys.map(stdOf).filter((s): s is string => s !== null));
  const rows: SummaryRow[] = [];
  for (const k of keys) {
    if (paired.has(k)) continue;
    const std = stdOf(k);
    const scale = scaleOf(runs.map((r) => r.summary[k]));
    const values = runs.map((r) => {
      const v = r.summary[k];
      if (v === undefined) return '—';
      const s = std === null ? undefined : r.summary[std];
      return s === undefined ? formatValue(v, scale) : `${formatValue(v, scale)} ± ${formatValue(s, scale)}`;
    });
    const present = values.filter((v) => v !== '—');
    rows.push({
      key: std !== null && k.endsWith('_mean') ? k.slice(0, -'_mean'.length) : k,
      values,
      differs: new Set(present).size > 1,
    });
  }
  return rows;
}

/**
 * How the compare page draws run `run`'s line of `key`: a key with a model segment (`quantum/seed0/val_acc`)
 * takes that model's colour, the same as on the run page, and runs are told apart by dash; a key without
 * one (`loss`) has no model to colour by, so its runs take a colour each.
 */
export function compareLineStyle(key: string, run: number): { color: number; dash: number } {
  if (!key.includes('/')) return { color: run, dash: 0 };
  return { color: modelColor(splitSeed(key).model), dash: run };
}

/** What a researcher ranks runs by first: the quantum model's test accuracy, any test accuracy, a validation one, a perplexity. */
const HEADLINES = [/^quantum.*_test_acc(_mean)?$/, /test_acc(_mean)?$/, /val_acc(_mean)?$/, /ppl(_mean)?$/];

/**
 * The figure "best 5" ranks by when the page opens: the first headline figure among `keys` (result axes in
 * the page's order), else the first key. Not mlp_params because it comes first in the alphabet.
 */
export function headlineIndex(keys: readonly string[]): number {
  for (const re of HEADLINES) {
    const i = keys.findIndex((k) => re.test(k));
    if (i >= 0) return i;
  }
  return 0;
}
