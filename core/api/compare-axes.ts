// Axes of a comparison for the parallel-coordinates view and the scatter: each differing config field, each
// summary figure and each metric's last value that every compared run has, as a numeric axis (every value a
// finite number) or a categorical one (anything else: strings, booleans, null, short lists). Positions are
// normalised to [0, 1] (0 at the bottom); a brush is a [lo, hi] band of positions on one axis, and a run
// passes the brushes when its position on every brushed axis lies inside the band. Isomorphic and pure.
import type { Comparison } from './lab-api';

export type AxisSource = 'config' | 'summary' | 'metric';

interface AxisBase {
  /** `<source>:<path or key>`, unique within a comparison. */
  id: string;
  source: AxisSource;
  /** The config path, summary figure or metric key. */
  key: string;
  /** One position in [0, 1] per run, in the comparison's run order. */
  positions: Float64Array;
}

export interface NumericAxis extends AxisBase {
  type: 'numeric';
  values: Float64Array;
  min: number;
  max: number;
}

export interface CategoricalAxis extends AxisBase {
  type: 'categorical';
  /** The distinct values as labels, in natural order (`2` before `10`, `false` before `true`). */
  categories: string[];
  /** Per run, the index of its value in `categories`. */
  index: Int32Array;
}

export type Axis = NumericAxis | CategoricalAxis;

/** A band of positions on one axis, lo ≤ hi, both in [0, 1]. */
export interface Brush {
  axisId: string;
  lo: number;
  hi: number;
}

/** How a value that is not a finite number reads as a category. */
export function categoryLabel(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v) ?? String(v);
}

const natural = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' });

/** An axis over one value per run; null when every run has the same value (a flat axis tells nothing). */
export function makeAxis(source: AxisSource, key: string, values: readonly unknown[]): Axis | null {
  const n = values.length;
  const id = `${source}:${key}`;
  const positions = new Float64Array(n);
  if (values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    const vs = Float64Array.from(values as number[]);
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      if (vs[i] < min) min = vs[i];
      if (vs[i] > max) max = vs[i];
    }
    if (!(max > min)) return null;
    const span = max - min;
    for (let i = 0; i < n; i++) positions[i] = (vs[i] - min) / span;
    return { id, source, key, type: 'numeric', values: vs, min, max, positions };
  }
  const labels = values.map(categoryLabel);
  const categories = [...new Set(labels)].sort(natural.compare);
  if (categories.length < 2) return null;
  const at = new Map(categories.map((c, i) => [c, i]));
  const index = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    index[i] = at.get(labels[i])!;
    positions[i] = index[i] / (categories.length - 1);
  }
  return { id, source, key, type: 'categorical', categories, index, positions };
}

/**
 * Every axis a comparison offers, in order: differing config fields, summary figures, metrics' last values
 * (each group in the comparison's key order). Rows where all runs agree give no axis.
 */
export function comparisonAxes(c: Comparison): Axis[] {
  const out: Axis[] = [];
  const add = (a: Axis | null) => {
    if (a) out.push(a);
  };
  for (const d of c.configDiff) add(makeAxis('config', d.path, d.values));
  for (const s of c.summary) add(makeAxis('summary', s.key, s.values));
  for (const m of c.metrics) add(makeAxis('metric', m.key, m.values));
  return out;
}

/**
 * The axes shown first: the differing config fields and the summary figures (a sweep's knobs and its
 * results), else the metrics where there are no summaries; at most `max`, config fields taking at most
 * two thirds so a few results always show.
 */
export function defaultAxisIds(axes: readonly Axis[], max = 10): string[] {
  const config = axes.filter((a) => a.source === 'config');
  const summary = axes.filter((a) => a.source === 'summary');
  const results = summary.length > 0 ? summary : axes.filter((a) => a.source === 'metric');
  const nConfig = Math.min(config.length, Math.max(max - results.length, Math.ceil((2 * max) / 3)));
  return [...config.slice(0, nConfig), ...results.slice(0, max - nConfig)].map((a) => a.id);
}

/**
 * Which runs pass every brush: 1 where run i's position on each brushed axis lies in [lo, hi]. A brush
 * naming no axis of `axes` is ignored (the axis was taken off the view).
 */
export function brushMask(axes: readonly Axis[], brushes: readonly Brush[], runs: number): Uint8Array {
  const mask = new Uint8Array(runs).fill(1);
  const byId = new Map(axes.map((a) => [a.id, a]));
  const EPS = 1e-9;
  for (const b of brushes) {
    const a = byId.get(b.axisId);
    if (!a) continue;
    for (let i = 0; i < runs; i++) {
      const p = a.positions[i];
      if (p < b.lo - EPS || p > b.hi + EPS) mask[i] = 0;
    }
  }
  return mask;
}

/** What a brush keeps, in the axis' terms: a value range, or the categories inside the band. */
export function brushExtent(
  a: Axis,
  b: Brush,
): { type: 'range'; lo: number; hi: number } | { type: 'categories'; categories: string[] } {
  if (a.type === 'numeric')
    return { type: 'range', lo: a.min + b.lo * (a.max - a.min), hi: a.min + b.hi * (a.max - a.min) };
  const last = a.categories.length - 1;
  return {
    type: 'categories',
    categories: a.categories.filter((_, i) => i / last >= b.lo - 1e-9 && i / last <= b.hi + 1e-9),
  };
}

/** Round tick values (1, 2 or 5 × 10^k apart) inside [lo, hi], about `count` of them; integers only if asked. */
export function niceTicks(lo: number, hi: number, count: number, integers = false): number[] {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 5, 10].map((m) => m * mag).find((x) => x >= raw) ?? 10 * mag;
  if (integers) step = Math.max(1, Math.round(step));
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

/**
 * The indices of the `n` runs with the best value on a numeric axis (highest first when `higherIsBetter`,
 * else lowest first), ties kept in run order; only runs where `mask` is 1 when a mask is given.
 */
export function bestRuns(a: NumericAxis, n: number, higherIsBetter: boolean, mask?: Uint8Array): number[] {
  const idx: number[] = [];
  for (let i = 0; i < a.values.length; i++) if (!mask || mask[i]) idx.push(i);
  idx.sort((i, j) => {
    const d = higherIsBetter ? a.values[j] - a.values[i] : a.values[i] - a.values[j];
    return d !== 0 ? d : i - j;
  });
  return idx.slice(0, n);
}

/** Whether a figure's name says lower is better (losses, errors, perplexities, times, energies). */
export function lowerIsBetter(key: string): boolean {
  return /(loss|error|err\b|perplexity|ppl|_ms\b|_s\b|seconds|time|energy|_J\b|mse|mae|rmse|regret|distance)/i.test(
    key,
  );
}
