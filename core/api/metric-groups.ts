// Groups metric keys into charts: keys with the same number of '/'-separated segments and the same last
// segment (the metric) share one chart, one line per key, labelled by the segments that differ (model,
// seed). Pure and dependency-free: the run page, the compare page and the HTML report all use it.

export interface GroupedSeries {
  readonly key: string;
  /** The segments that vary within the group, joined by '/'; the whole key when the group has one member. */
  readonly label: string;
  /** Palette index shared across groups by the first varying segment (e.g. the model), so a model keeps its colour. */
  readonly color: number;
  /** Dash-pattern index within the group for the remaining varying segments (e.g. the seed); 0 = solid. */
  readonly dash: number;
}

export interface MetricGroup {
  /** Unique among the groups returned by one call. */
  readonly id: string;
  /** The key pattern, varying segments shown as '*': "*\/seed*\/val_acc"; the key itself for a single member. */
  readonly title: string;
  /** The last segment: the quantity plotted. */
  readonly metric: string;
  readonly series: readonly GroupedSeries[];
}

function splitKey(key: string): string[] {
  return key.split('/');
}

/**
 * Groups `keys` (in the order given; duplicates ignored) by segment count and last segment. Groups come in
 * the order of their first key, and series in key order within a group.
 */
export function groupMetricKeys(keys: readonly string[]): MetricGroup[] {
  const buckets = new Map<string, string[]>();
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) continue;
    seen.add(key);
    const parts = splitKey(key);
    // The count is all digits, so the first NUL ends it whatever the metric name holds.
    const bucket = `${parts.length}\u0000${parts[parts.length - 1]}`;
    let list = buckets.get(bucket);
    if (!list) buckets.set(bucket, (list = []));
    list.push(key);
  }
  const colorOf = new Map<string, number>();
  const groups: MetricGroup[] = [];
  for (const members of buckets.values()) {
    const split = members.map(splitKey);
    const n = split[0].length;
    const metric = split[0][n - 1];
    // Segments (before the last, which is equal by construction) whose value is not the same in every member.
    const varying: number[] = [];
    for (let j = 0; j < n - 1; j++) if (split.some((p) => p[j] !== split[0][j])) varying.push(j);
    const title =
      members.length === 1 ? members[0] : split[0].map((s, j) => (varying.includes(j) ? '*' : s)).join('/');
    const dashOf = new Map<string, number>();
    const series = members.map((key, i) => {
      const parts = split[i];
      // The colour follows the first varying segment; a lone key takes its first segment when it has a prefix.
      const colorSeg = varying.length > 0 ? parts[varying[0]] : n > 1 ? parts[0] : '';
      if (!colorOf.has(colorSeg)) colorOf.set(colorSeg, colorOf.size);
      const rest = varying
        .slice(1)
        .map((j) => parts[j])
        .join('/');
      if (!dashOf.has(rest)) dashOf.set(rest, dashOf.size);
      return {
        key,
        label: members.length === 1 ? key : varying.map((j) => parts[j]).join('/'),
        color: colorOf.get(colorSeg)!,
        dash: dashOf.get(rest)!,
      };
    });
    // Titles keep the segment count and the metric, the bucket's key, so they are unique ids.
    groups.push({ id: title, title, metric, series });
  }
  return groups;
}

/** The metrics qtha runs stored before each model's seeds were drawn as one band wrote as seed means too. */
const STORED_SEED_MEANS: Readonly<Record<string, readonly string[]>> = { qtha: ['train_loss', 'val_ppl'] };

/**
 * `keys` less a stored run's seed-mean copies: qtha wrote `<model>/train_loss` and `<model>/val_ppl` as the mean
 * over `<model>/seed<k>/…` until its charts drew the seeds as one band per model; such a key is dropped when its
 * model's per-seed keys of that metric are there (the chart draws the same mean from them), so an old run shows
 * one chart per metric, as a new one does. Other kinds' two-segment keys are their own curves (qdllm's old
 * per-batch `<model>/train_loss`) and pass unchanged.
 */
export function withoutStoredSeedMeans(kind: string, keys: readonly string[]): string[] {
  const metrics = STORED_SEED_MEANS[kind];
  if (!metrics) return [...keys];
  const seeded = new Set<string>();
  for (const key of keys) {
    const p = key.split('/');
    if (p.length === 3 && /^seed\d+$/.test(p[1]) && metrics.includes(p[2])) seeded.add(`${p[0]}/${p[2]}`);
  }
  return keys.filter((key) => !seeded.has(key));
}

export interface SinglePointTable {
  /** Metric names (last key segment), in order of first appearance. */
  readonly columns: readonly string[];
  /** One row per key prefix (the key less its last segment; '' for one-segment keys), in order of first appearance. */
  readonly rows: readonly { readonly label: string; readonly values: readonly (number | null)[] }[];
}

/**
 * Splits groups into those worth a chart (some series has two points or more) and a pivot table of the
 * rest: final values of one-point series, rows by key prefix, columns by metric. `count(key)` is the
 * number of stored points of a key, `last(key)` its last value.
 */
export function splitSinglePoints(
  groups: readonly MetricGroup[],
  count: (key: string) => number,
  last: (key: string) => number | null,
): { charts: MetricGroup[]; singles: SinglePointTable } {
  const charts: MetricGroup[] = [];
  const columns: string[] = [];
  const rowIndex = new Map<string, Map<string, number | null>>();
  for (const g of groups) {
    if (g.series.some((s) => count(s.key) > 1)) {
      charts.push(g);
      continue;
    }
    for (const s of g.series) {
      const cut = s.key.lastIndexOf('/');
      const prefix = cut < 0 ? '' : s.key.slice(0, cut);
      const metric = s.key.slice(cut + 1);
      if (!columns.includes(metric)) columns.push(metric);
      let row = rowIndex.get(prefix);
      if (!row) rowIndex.set(prefix, (row = new Map()));
      row.set(metric, last(s.key));
    }
  }
  const rows = [...rowIndex].map(([label, row]) => ({
    label,
    values: columns.map((c) => (row.has(c) ? row.get(c)! : null)),
  }));
  return { charts, singles: { columns, rows } };
}

export interface OverlayLine {
  /** Index of the run. */
  readonly run: number;
  readonly key: string;
  /** The series label within its group ('' when the chart holds one key per run). */
  readonly label: string;
  /** Dash index: the series' position within the chart, so runs differ by colour and series by dash. */
  readonly dash: number;
}

export interface OverlayChart {
  readonly id: string;
  readonly title: string;
  readonly lines: readonly OverlayLine[];
}

/**
 * Charts comparing `runs` runs over shared groups: a group's series for every run in one chart while that
 * stays within `maxLines` lines; a crowded group is split by its colour segment (the model), and a still
 * crowded part into one chart per key.
 */
export function overlayCharts(
  groups: readonly MetricGroup[],
  runs: number,
  maxLines: number,
): OverlayChart[] {
  const out: OverlayChart[] = [];
  const chart = (id: string, title: string, series: readonly GroupedSeries[], labelled: boolean): void => {
    out.push({
      id,
      title,
      lines: Array.from({ length: runs }, (_, run) =>
        series.map((s, dash) => ({ run, key: s.key, label: labelled ? s.label : '', dash })),
      ).flat(),
    });
  };
  for (const g of groups) {
    if (g.series.length * runs <= maxLines) {
      chart(g.id, g.title, g.series, g.series.length > 1);
      continue;
    }
    const byColor = new Map<number, GroupedSeries[]>();
    for (const s of g.series) {
      let list = byColor.get(s.color);
      if (!list) byColor.set(s.color, (list = []));
      list.push(s);
    }
    for (const part of byColor.values()) {
      if (part.length > 1 && part.length * runs <= maxLines && byColor.size > 1) {
        // The group's pattern with its first '*' filled by this part's model: "quantum/*/val_acc".
        const first = part[0].label.split('/')[0];
        const title = g.title.replace('*', first);
        chart(`${g.id}@${first}`, title, part, true);
      } else {
        for (const s of part) chart(s.key, s.key, [s], false);
      }
    }
  }
  return out;
}
