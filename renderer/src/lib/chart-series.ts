// What a chart draws for a group of metric keys: seeds folded into a mean line with a ± std band per model
// (each seed on demand), one colour per model on every chart and page, the x axis named from the key, and
// the helpers the chart needs (log-scale choice, smoothing). Pure: the tests call it directly.

/** One line of a chart (see components/LineChart.svelte). */
export interface Curve {
  label: string;
  steps: readonly number[];
  values: readonly number[];
  /** A band behind the line: ± std over seeds, or a downsampled bucket's extremes. */
  min?: readonly number[];
  max?: readonly number[];
  /** Palette index: the model's colour. */
  color: number;
  dash?: number;
  /** A single seed drawn beside its model's mean: thin and faint. */
  faint?: boolean;
  /** The band is ± std over this many seeds (absent for a bucket band). */
  seeds?: number;
}

export interface RawSeries {
  key: string;
  steps: readonly number[];
  values: readonly number[];
  min?: readonly number[];
  max?: readonly number[];
}

const SEED = /^seed\d+$/;

// Models the lab's kinds name, with a fixed palette index each, so a model keeps its colour everywhere; the
// models of one kind never share one (qhead: quantum, mlp, logreg; qdllm: quantum, mlp, transformer, teacher;
// qtha: qtha, lora-r, lora-2r, full, base; qffn: qffn, classical, uncompressed, base). The quantum model of every kind is
// the first colour. Other names hash.
const KNOWN_MODELS: Readonly<Record<string, number>> = {
  quantum: 0,
  qtha: 0,
  qffn: 0,
  mlp: 1,
  'lora-r': 1,
  classical: 1,
  transformer: 2,
  'lora-2r': 2,
  uncompressed: 2,
  logreg: 2,
  bow: 3,
  full: 3,
  teacher: 4,
  base: 4,
  encoder: 4,
};
export const PALETTE_SIZE = 8;

/** The palette index of a model, the same on every chart and page. */
export function modelColor(model: string): number {
  const i = KNOWN_MODELS[model];
  if (i !== undefined) return i;
  let h = 0;
  for (let j = 0; j < model.length; j++) h = (h * 31 + model.charCodeAt(j)) >>> 0;
  return h % PALETTE_SIZE;
}

/** A key less its seed segment: `quantum/seed1/lr0/val_acc` → line `quantum/lr0`, seed `seed1`. */
export function splitSeed(key: string): { line: string; seed: string | null; model: string } {
  const parts = key.split('/');
  const metricLess = parts.slice(0, -1);
  const i = metricLess.findIndex((p) => SEED.test(p));
  const seed = i >= 0 ? metricLess[i] : null;
  const rest = metricLess.filter((_, j) => j !== i);
  const line = rest.length > 0 ? rest.join('/') : parts[parts.length - 1];
  return { line, seed, model: rest[0] ?? parts[0] };
}

/**
 * The curves of one chart: series that differ only by seed become one mean line with a ± std band (over the
 * seeds that have a point at that x), plus each seed as a faint line when `showSeeds`. A line with one seed
 * (or none) is drawn as it is, with its downsampling band.
 */
export function seedCurves(series: readonly RawSeries[], showSeeds = false): Curve[] {
  const lines = new Map<string, { model: string; members: RawSeries[]; seeded: boolean }>();
  for (const s of series) {
    const { line, seed, model } = splitSeed(s.key);
    let l = lines.get(line);
    if (!l) lines.set(line, (l = { model, members: [], seeded: false }));
    l.members.push(s);
    if (seed !== null) l.seeded = true;
  }
  const out: Curve[] = [];
  // Lines of one model (its learning-rate candidates, `lr0`, `lr1`, …) share its colour: a dash tells them apart.
  const dashes = new Map<string, number>();
  for (const [label, l] of lines) {
    const color = modelColor(l.model);
    const rest = label.split('/').slice(1).join('/');
    if (!dashes.has(rest)) dashes.set(rest, dashes.size);
    const dash = dashes.get(rest)!;
    if (l.members.length === 1) {
      const s = l.members[0];
      out.push({ label, steps: s.steps, values: s.values, min: s.min, max: s.max, color, dash });
      continue;
    }
    out.push({ label, ...meanStd(l.members), color, dash, seeds: l.members.length });
    if (showSeeds)
      for (const s of l.members)
        out.push({
          label: `${label} ${splitSeed(s.key).seed ?? s.key}`,
          steps: s.steps,
          values: s.values,
          color,
          dash,
          faint: true,
        });
  }
  return out;
}

/** The ± std of a mean over seeds at its j-th point (null for a line that is not one). */
export function seedStd(c: Curve, j: number): number | null {
  if (!c.seeds || c.seeds < 2 || !c.min || !c.max || j < 0 || j >= c.max.length) return null;
  return (c.max[j] - c.min[j]) / 2;
}

/** Mean and mean ± std (population over the seeds present) at every x any member has. */
export function meanStd(members: readonly RawSeries[]): {
  steps: number[];
  values: number[];
  min: number[];
  max: number[];
} {
  const byStep = new Map<number, number[]>();
  for (const s of members)
    for (let j = 0; j < s.steps.length; j++) {
      const v = s.values[j];
      if (!Number.isFinite(v)) continue;
      let list = byStep.get(s.steps[j]);
      if (!list) byStep.set(s.steps[j], (list = []));
      list.push(v);
    }
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  const values: number[] = [];
  const min: number[] = [];
  const max: number[] = [];
  for (const x of steps) {
    const vs = byStep.get(x)!;
    const mean = vs.reduce((a, b) => a + b, 0) / vs.length;
    const std = Math.sqrt(vs.reduce((a, b) => a + (b - mean) ** 2, 0) / vs.length);
    values.push(mean);
    min.push(mean - std);
    max.push(mean + std);
  }
  return { steps, values, min, max };
}

/** Where sim-bench runs before the batched series had its own key wrote its point: x = 100 + qubits. */
const LEGACY_BATCHED_X = 100;

/**
 * A sim-bench run stored before `gate_bandwidth_fraction_batched` existed has its batched point (n = 10, batch
 * B) in `gate_bandwidth_fraction` at x = 100 + n: it is drawn as its own `gate_bandwidth_fraction_batched`
 * line at x = n on the same chart, so the qubits axis is true for old runs too. Other series pass unchanged.
 */
export function splitLegacyBandwidth(kind: string, series: readonly RawSeries[]): RawSeries[] {
  if (kind !== 'sim-bench') return [...series];
  return series.flatMap((s) => {
    if (!/(^|\/)gate_bandwidth_fraction$/.test(s.key) || !s.steps.some((x) => x >= LEGACY_BATCHED_X))
      return [s];
    const pick = (keep: (x: number) => boolean, shift: number): RawSeries => {
      const idx = s.steps.flatMap((x, i) => (keep(x) ? [i] : []));
      return {
        key: shift ? `${s.key}_batched` : s.key,
        steps: idx.map((i) => s.steps[i] - shift),
        values: idx.map((i) => s.values[i]),
        ...(s.min ? { min: idx.map((i) => s.min![i]) } : {}),
        ...(s.max ? { max: idx.map((i) => s.max![i]) } : {}),
      };
    };
    const single = pick((x) => x < LEGACY_BATCHED_X, 0);
    const batched = pick((x) => x >= LEGACY_BATCHED_X, LEGACY_BATCHED_X);
    return single.steps.length ? [single, batched] : [batched];
  });
}

/** The x axis' name for a metric key of a kind: epoch, step, qubits, seconds or sweep point. */
export function xAxisTitle(kind: string, key: string): string {
  const metric = key.slice(key.lastIndexOf('/') + 1);
  if (key.startsWith('energy/')) return 'qubits';
  if (key.startsWith('sweep/')) return 'sweep point';
  if (kind === 'sim-bench') {
    // gate_bandwidth_fraction(_batched): one point per state width (older runs' batched point at 100 + n is
    // moved back by splitLegacyBandwidth)
    if (/^gate_bandwidth_fraction/.test(metric)) return 'qubits';
    if (/_ms$/.test(metric)) return 'qubits';
  }
  if (/(^|_)(seconds|time|wall)(_|$)/.test(metric)) return 'seconds';
  if (/step|pretrain|finetune/.test(metric)) return 'step';
  if (kind === 'qffn' || kind === 'qtha') return 'step';
  // vqc-fit writes one point per epoch of loss and accuracies (and step_loss per batch, above).
  if (kind === 'vqc-fit') return 'epoch';
  // The harness (qhead, qdllm) writes per-epoch curves under <model>/seed<k>/; a model's own train_loss
  // without a seed is per batch step.
  if (/^(train|val|test)_/.test(metric))
    return splitSeed(key).seed === null && metric === 'train_loss' ? 'step' : 'epoch';
  return 'step';
}

/**
 * A chart's title: its metric, "by learning-rate candidate" when its lines are a model's candidates
 * (`lr0`, `lr1`, …), and the seeds its bands span.
 */
export function chartTitle(metric: string, curves: readonly Curve[]): string {
  const candidates = curves.some((c) => /(^|\/)lr\d+(\/|$)/.test(c.label));
  const seeds = Math.max(0, ...curves.map((c) => c.seeds ?? 0));
  // One model's own curve (teacher/pretrain_loss) keeps the model's name.
  const only = curves.filter((c) => !c.faint);
  if (only.length === 1 && only[0].label !== metric && !candidates) metric = `${only[0].label}: ${metric}`;
  return `${metric}${candidates ? ' by learning-rate candidate' : ''}${seeds > 1 ? ` — mean ± std over ${seeds} seeds` : ''}`;
}

/** Whether every x of the curves is a whole number (epochs, steps, qubits): the axis then ticks whole numbers. */
export function wholeSteps(curves: readonly Curve[]): boolean {
  return curves.every((c) => c.steps.every((x) => Number.isInteger(x)));
}

/** The y axis' unit when the key says it: J, ms, s. */
export function yAxisTitle(key: string): string {
  const metric = key.slice(key.lastIndexOf('/') + 1);
  if (/_J$/.test(metric)) return `${metric} (J)`;
  if (/_ms$/.test(metric)) return `${metric} (ms)`;
  if (/_seconds$|_s$/.test(metric)) return `${metric} (s)`;
  return metric;
}

/** Whether a log y axis reads better: every value positive and the values span more than three decades. */
export function wantsLogScale(curves: readonly Curve[]): boolean {
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of curves)
    for (const v of c.values) {
      if (!Number.isFinite(v)) continue;
      if (v <= 0) return false;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  return hi > 0 && lo > 0 && hi / lo > 1e3;
}

/** Exponential moving average with TensorBoard's debiasing (weight 0 = none). */
export function smooth(values: readonly number[], weight: number): number[] {
  if (weight <= 0) return values.slice();
  const out: number[] = [];
  let acc = 0;
  let n = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) {
      out.push(v);
      continue;
    }
    acc = acc * weight + (1 - weight) * v;
    n++;
    out.push(acc / (1 - weight ** n));
  }
  return out;
}

/** A step series noisy enough to start smoothed: many points, per step, jumping about. */
export function isNoisy(curves: readonly Curve[], xTitle: string): boolean {
  if (xTitle !== 'step') return false;
  return curves.some((c) => {
    // a small run's 40 training steps are as noisy as a long run's thousands
    if (c.values.length < 20) return false;
    let flips = 0;
    for (let j = 2; j < c.values.length; j++)
      if (Math.sign(c.values[j] - c.values[j - 1]) !== Math.sign(c.values[j - 1] - c.values[j - 2])) flips++;
    return flips > 0.3 * c.values.length;
  });
}

/** A key qhead's energy model writes per sample, in joules, against qubits: `energy/<source>_<phase>[_lo|_hi]_J`. */
export const ENERGY_KEY = /^energy\/(.+)_J$/;

/**
 * qhead's energy curves as one chart: each `energy/<name>_J` a line (simulation and QPU by colour, forward and
 * training by dash), a `<name>_lo_J` / `<name>_hi_J` pair the band around `<name>_J` — so the crossover of
 * simulation and QPU energy reads off one log axis instead of six charts.
 */
export function energyCurves(series: readonly RawSeries[]): Curve[] {
  const byName = new Map<string, RawSeries>();
  for (const s of series) {
    const m = ENERGY_KEY.exec(s.key);
    if (m) byName.set(m[1], s);
  }
  const sources = new Map<string, number>();
  const phases = new Map<string, number>();
  const out: Curve[] = [];
  for (const [name, s] of byName) {
    if (/_(lo|hi)$/.test(name)) continue;
    const [source, ...rest] = name.split('_');
    const phase = rest.join('_');
    if (!sources.has(source)) sources.set(source, sources.size);
    if (!phases.has(phase)) phases.set(phase, phases.size);
    const lo = byName.get(`${name}_lo`);
    const hi = byName.get(`${name}_hi`);
    // the band only where both edges have a point at the line's x
    const band =
      lo && hi && lo.steps.length === s.steps.length && hi.steps.length === s.steps.length
        ? { min: lo.values, max: hi.values }
        : {};
    out.push({
      label: name.replace(/_/g, ' '),
      steps: s.steps,
      values: s.values,
      ...band,
      color: sources.get(source)!,
      dash: phases.get(phase)!,
    });
  }
  return out;
}
