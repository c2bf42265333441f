// Comparisons and exports of stored runs: JSON (everything), CSV (one row per metric point), CSV (one row per
// run: config flattened, final figures), LaTeX (export-latex.ts) and a single self-contained HTML report (no
// external resources; charts are inline SVG) that the PDF export (export-pdf.ts) prints.
import { runDurationMs, type RunTimes } from '../api/run-duration';
import type {
  ComparedRun,
  Comparison,
  ExportedFile,
  ExportFormat,
  ReportSection,
  RunDetail,
  Series,
  UnsharedByKind,
} from '../api/lab-api';
import { niceTicks } from '../api/compare-axes';
import {
  groupMetricKeys,
  overlayCharts,
  splitSinglePoints,
  withoutStoredSeedMeans,
} from '../api/metric-groups';
import { exportLatex } from './export-latex';
import type { CompareRow } from './store';

export interface ExportSource {
  runs: RunDetail[];
  /** Every stored point of one metric, in step order. */
  points(runId: string, key: string): { step: number; value: number; wallTime: number }[];
  /** Downsampled series for charts. */
  series(runId: string, key: string, maxPoints: number): Series;
}

// ---- comparison ----

/** Flattens a JSON value to leaf paths in dot/bracket notation: {a:{b:[1]}} → "a.b[0]" → 1. */
export function flattenConfig(
  value: unknown,
  prefix = '',
  out = new Map<string, unknown>(),
): Map<string, unknown> {
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(prefix, []);
    value.forEach((v, i) => flattenConfig(v, `${prefix}[${i}]`, out));
  } else if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) out.set(prefix, {});
    for (const [k, v] of entries) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, value);
  }
  return out;
}

/** A run's row in a comparison: its summary fields, seed and code version (config and metrics are in the tables). */
export function comparedRun(r: CompareRow): ComparedRun {
  return {
    id: r.id,
    kind: r.kind,
    name: r.name,
    status: r.status,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    lastSeenAt: r.lastSeenAt ?? null,
    progress: r.progress,
    progressMessage: r.progressMessage,
    tags: r.tags,
    summary: r.summary,
    error: r.error,
    parentId: r.parentId,
    childCount: r.childCount,
    seed: r.seed,
    codeVersion: r.codeVersion,
  };
}

/**
 * The runs side by side on what every one of them has: config paths (split into differing and same), metrics
 * (last value) and summary figures. What only some runs have is listed once per kind with how many of that
 * kind's runs have it, never as a row of missing values. Linear in runs × fields.
 */
export function compareRuns(runs: readonly CompareRow[]): Comparison {
  const n = runs.length;
  const flat = runs.map((r) => flattenConfig(r.config));
  const lastOf = runs.map((r) => new Map(r.metrics.map((m) => [m.key, m])));
  /** Keys every run has (sorted), and per kind the keys some but not all runs have, with their counts. */
  const split = (keysOf: (i: number) => Iterable<string>) => {
    const total = new Map<string, number>();
    const perKind = new Map<string, Map<string, number>>();
    runs.forEach((r, i) => {
      let k = perKind.get(r.kind);
      if (!k) perKind.set(r.kind, (k = new Map()));
      for (const key of keysOf(i)) {
        total.set(key, (total.get(key) ?? 0) + 1);
        k.set(key, (k.get(key) ?? 0) + 1);
      }
    });
    const shared = [...total].filter(([, c]) => c === n).map(([key]) => key);
    shared.sort();
    const byKind = new Map<string, { key: string; runs: number }[]>();
    for (const [kind, counts] of perKind)
      byKind.set(
        kind,
        [...counts]
          .filter(([key]) => total.get(key) !== n)
          .map(([key, c]) => ({ key, runs: c }))
          .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
      );
    return { shared, byKind };
  };
  const cfg = split((i) => flat[i].keys());
  const met = split((i) => lastOf[i].keys());
  const sum = split((i) => Object.keys(runs[i].summary));

  const configDiff: Comparison['configDiff'] = [];
  const configSame: Comparison['configSame'] = [];
  for (const path of cfg.shared) {
    const values = flat.map((f) => f.get(path));
    const first = JSON.stringify(values[0]);
    if (values.some((v) => JSON.stringify(v) !== first)) configDiff.push({ path, values });
    else configSame.push({ path, value: values[0] });
  }
  const metrics = met.shared.map((key) => {
    let count = 0;
    const values = lastOf.map((m) => {
      const s = m.get(key)!;
      count = Math.max(count, s.count);
      return s.last;
    });
    return { key, values, count };
  });
  const summary = sum.shared.map((key) => ({ key, values: runs.map((r) => r.summary[key]) }));
  const kinds = [...new Set(runs.map((r) => r.kind))];
  const unshared: UnsharedByKind[] = kinds
    .map((kind) => ({
      kind,
      runs: runs.filter((r) => r.kind === kind).length,
      config: cfg.byKind.get(kind)!.map(({ key, runs: c }) => ({ path: key, runs: c })),
      metrics: met.byKind.get(kind)!,
      summary: sum.byKind.get(kind)!,
    }))
    .filter((u) => u.config.length + u.metrics.length + u.summary.length > 0);
  return { runs: runs.map(comparedRun), configDiff, configSame, metrics, summary, unshared };
}

// ---- exports ----

function baseName(runs: RunDetail[]): string {
  const first = runs[0]?.id.slice(0, 8) ?? 'empty';
  return runs.length > 1 ? `qlab-${first}-and-${runs.length - 1}-more` : `qlab-${first}`;
}

export function exportRuns(format: ExportFormat, src: ExportSource): ExportedFile {
  switch (format) {
    case 'json':
      return exportJson(src);
    case 'csv':
      return exportCsv(src);
    case 'html':
      return exportHtml(src);
    case 'runs-csv':
      return exportRunsCsv(src);
    case 'latex':
      return exportLatex(src.runs, baseName(src.runs));
  }
}

export function exportJson(src: ExportSource): ExportedFile {
  const runs = src.runs.map((r) => ({
    ...r,
    series: Object.fromEntries(
      r.metrics.map((m) => {
        const pts = src.points(r.id, m.key);
        return [m.key, { steps: pts.map((p) => p.step), values: pts.map((p) => p.value) }];
      }),
    ),
  }));
  const content = JSON.stringify(
    { format: 'qlab-export', version: 1, exportedAt: new Date().toISOString(), runs },
    null,
    2,
  );
  return { filename: `${baseName(src.runs)}.json`, mimeType: 'application/json', content };
}

/** RFC 4180: quote a field holding a comma, quote, CR or LF, doubling inner quotes. */
export function csvField(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function exportCsv(src: ExportSource): ExportedFile {
  const lines = ['run_id,kind,name,key,step,value'];
  for (const r of src.runs) {
    for (const m of r.metrics) {
      for (const p of src.points(r.id, m.key)) {
        lines.push([r.id, r.kind, r.name, m.key, p.step, p.value].map(csvField).join(','));
      }
    }
  }
  return {
    filename: `${baseName(src.runs)}.csv`,
    mimeType: 'text/csv',
    content: lines.join('\r\n') + '\r\n',
  };
}

/** An ended run's duration in seconds (core/api/run-duration.ts: an end without a finish stops at its last
 * heartbeat); '' while it is queued or running, or before it started. */
function seconds(r: RunTimes): number | string {
  if (r.status === 'queued' || r.status === 'running') return '';
  const ms = runDurationMs(r);
  return ms === null ? '' : ms / 1000;
}

/** A flattened config value as one CSV cell: scalars as they are, empty arrays/objects as JSON, null empty. */
function cell(v: unknown): string | number {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? '';
}

/**
 * One row per run (what W&B and MLflow export): identity, status, times, seed, then every config leaf as
 * `config.<path>`, every summary figure as `summary.<key>`, and each metric's last value as `metric.<key>`.
 * Columns are the union over the runs (sorted within each group); a run without a column has an empty cell.
 */
export function exportRunsCsv(src: ExportSource): ExportedFile {
  const runs = src.runs;
  const flat = runs.map((r) => flattenConfig(r.config));
  const configPaths = [...new Set(flat.flatMap((f) => [...f.keys()]))].sort();
  const summaryKeys = [...new Set(runs.flatMap((r) => Object.keys(r.summary)))].sort();
  const metricKeys = [...new Set(runs.flatMap((r) => r.metrics.map((m) => m.key)))].sort();
  const head = [
    'id',
    'kind',
    'name',
    'status',
    'created_at',
    'started_at',
    'finished_at',
    'duration_s',
    'seed',
    'parent_id',
    'tags',
    'code_version',
    ...configPaths.map((p) => `config.${p}`),
    ...summaryKeys.map((k) => `summary.${k}`),
    ...metricKeys.map((k) => `metric.${k}`),
  ];
  const lines = [head.map(csvField).join(',')];
  runs.forEach((r, i) => {
    const last = new Map(r.metrics.map((m) => [m.key, m.last]));
    const row: (string | number)[] = [
      r.id,
      r.kind,
      r.name,
      r.status,
      r.createdAt,
      r.startedAt ?? '',
      r.finishedAt ?? '',
      seconds(r),
      r.seed,
      r.parentId ?? '',
      r.tags.join(';'),
      r.codeVersion,
      ...configPaths.map((p) => (flat[i].has(p) ? cell(flat[i].get(p)) : '')),
      ...summaryKeys.map((k) => cell(r.summary[k])),
      ...metricKeys.map((k) => cell(last.get(k))),
    ];
    lines.push(row.map(csvField).join(','));
  });
  return {
    filename: `${baseName(runs)}-runs.csv`,
    mimeType: 'text/csv',
    content: lines.join('\r\n') + '\r\n',
  };
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Model colours (palette index from groupMetricKeys) and seed dash patterns. */
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const DASHES = ['', '6 3', '2 2', '8 3 2 3', '1 3'];
/** Points asked per curve: enough for a 640-px-wide chart, never the full series. */
/** Points per curve in exported charts (the service reads series at this size before it exports). */
export const CHART_POINTS = 400;
/** Runs overlaid in one comparison chart at most; past this the lines stop being tellable apart. */
const OVERLAY_MAX_RUNS = 8;
/** Lines in one comparison chart at most (runs × series of the group). */
const OVERLAY_MAX_LINES = 12;
/** Config-diff rows shown unfolded in a multi-run report. */
const CONFIG_DIFF_OPEN_MAX = 15;
/**
 * Runs shown as columns of the comparison's tables at most (as `qlab compare` prints them); with more, each run
 * is a row and each figure or config path a column, so a sweep of a hundred runs grows down the page, not across.
 */
const RUNS_AS_COLUMNS_MAX = 8;

function fmt(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/\.?0+$/, '');
  if (typeof v === 'string') return v;
  return JSON.stringify(v) ?? 'undefined';
}

/** Four significant digits: axis ends need to fit in the chart's margin. */
function axisLabel(v: number): string {
  if (v === 0) return '0';
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6 ? String(Number(v.toPrecision(4))) : v.toExponential(2);
}

function table(columns: string[], rows: unknown[][], cls = ''): string {
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows
    .map((row) => `<tr>${row.map((c) => `<td>${escapeHtml(c === null ? '—' : fmt(c))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

// The report's charts and the compare page's axes tick alike.
export { niceTicks };

export interface ChartLine {
  label: string;
  s: Series;
  /** Palette and dash indices (wrapped). */
  color: number;
  dash: number;
}

/**
 * One inline SVG line chart: each line is the bucket's last value, its min..max a faint band; a legend
 * under the plot when there is more than one line.
 */
export function svgChart(title: string, lines: ChartLine[]): string {
  const W = 640;
  const PH = 220;
  const L = 64;
  const R = 12;
  const T = 24;
  const B = 30;
  const all = lines.flatMap((x) => x.s.points);
  if (all.length === 0) return '';
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const p of all) {
    x0 = Math.min(x0, p.step);
    x1 = Math.max(x1, p.step);
    y0 = Math.min(y0, p.min);
    y1 = Math.max(y1, p.max);
  }
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  // Legend columns by label length (about 6 px a character at 11 px), so long run names do not overlap.
  const longest = Math.max(0, ...lines.map((l) => l.label.length));
  const legendCols = longest > 40 ? 1 : longest > 24 ? 2 : 3;
  const legendRows = lines.length > 1 ? Math.ceil(lines.length / legendCols) : 0;
  const H = PH + legendRows * 16 + (legendRows > 0 ? 6 : 0);
  const sx = (x: number) => (L + ((x - x0) / (x1 - x0)) * (W - L - R)).toFixed(1);
  const sy = (y: number) => (T + (1 - (y - y0) / (y1 - y0)) * (PH - T - B)).toFixed(1);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}">`,
    `<text x="${L}" y="16" font-size="13" font-weight="bold">${escapeHtml(title)}</text>`,
    `<line x1="${L}" y1="${PH - B}" x2="${W - R}" y2="${PH - B}" stroke="#888"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${PH - B}" stroke="#888"/>`,
    ...niceTicks(y0, y1, 5).flatMap((v) => [
      `<line x1="${L}" y1="${sy(v)}" x2="${W - R}" y2="${sy(v)}" stroke="#e4e4e4"/>`,
      `<text x="${L - 4}" y="${Number(sy(v)) + 3}" font-size="10" text-anchor="end">${escapeHtml(axisLabel(v))}</text>`,
    ]),
    ...niceTicks(x0, x1, 6, true).map(
      (v) => `<text x="${sx(v)}" y="${PH - B + 14}" font-size="10" text-anchor="middle">${v}</text>`,
    ),
    `<text x="${W - R}" y="${PH - B + 26}" font-size="10" text-anchor="end" fill="#666">step</text>`,
  ];
  lines.forEach(({ label, s, color, dash }, i) => {
    const c = COLORS[color % COLORS.length];
    const d = DASHES[dash % DASHES.length];
    const dashAttr = d ? ` stroke-dasharray="${d}"` : '';
    if (s.points.length > 0) {
      if (s.points.some((p) => p.min !== p.max)) {
        const upper = s.points.map((p) => `${sx(p.step)},${sy(p.max)}`);
        const lower = s.points.map((p) => `${sx(p.step)},${sy(p.min)}`).reverse();
        parts.push(
          `<polygon points="${[...upper, ...lower].join(' ')}" fill="${c}" fill-opacity="0.12" stroke="none"/>`,
        );
      }
      parts.push(
        `<polyline points="${s.points.map((p) => `${sx(p.step)},${sy(p.last)}`).join(' ')}" fill="none" stroke="${c}" stroke-width="1.5"${dashAttr}><title>${escapeHtml(label)}</title></polyline>`,
      );
      // A lone point draws no line: mark it.
      if (s.points.length === 1) {
        const p = s.points[0];
        parts.push(`<circle cx="${sx(p.step)}" cy="${sy(p.last)}" r="2.5" fill="${c}"/>`);
      }
    }
    if (legendRows > 0) {
      const lx = L + (i % legendCols) * ((W - L) / legendCols);
      const ly = PH + 4 + Math.floor(i / legendCols) * 16;
      parts.push(
        `<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${c}" stroke-width="2"${dashAttr}/>`,
        `<text x="${lx + 27}" y="${ly + 4}" font-size="11">${escapeHtml(label)}</text>`,
      );
    }
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function sectionHtml(s: ReportSection): string {
  return s.type === 'table'
    ? `<h3>${escapeHtml(s.title)}</h3>\n${table(s.columns, s.rows)}`
    : `<h3>${escapeHtml(s.title)}</h3>\n<p class="text">${escapeHtml(s.text)}</p>`;
}

/** A parent's children as one table: status and each summary figure (the children are exported by their own ids). */
function childrenHtml(r: RunDetail): string {
  const keys = [...new Set(r.children.flatMap((c) => Object.keys(c.summary)))].sort();
  return (
    `<h3>Child runs (${r.children.length})</h3>\n` +
    table(
      ['name', 'id', 'status', ...keys, 'error'],
      r.children.map((c) => [c.name, c.id, c.status, ...keys.map((k) => c.summary[k] ?? null), c.error]),
    )
  );
}

function isoDuration(r: RunTimes): string {
  const s = seconds(r);
  if (typeof s !== 'number') return '—';
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

function infoLine(o: Record<string, unknown>): string {
  const entries = Object.entries(o);
  return entries.length === 0 ? '—' : entries.map(([k, v]) => `${k}: ${fmt(v)}`).join(' · ');
}

function runLabel(r: RunDetail): string {
  return r.name || r.id.slice(0, 8);
}

/** The run's grouped curves and the pivot of its one-point series (from the stored summary, no fetch). */
function runCurvesHtml(src: ExportSource, r: RunDetail): string {
  const byKey = new Map(r.metrics.map((m) => [m.key, m]));
  const { charts, singles } = splitSinglePoints(
    groupMetricKeys(withoutStoredSeedMeans(r.kind, r.metrics.map((m) => m.key).sort())),
    (k) => byKey.get(k)?.count ?? 0,
    (k) => byKey.get(k)?.last ?? null,
  );
  const svgs = charts.map((g) =>
    svgChart(
      g.title,
      g.series.map((s) => ({
        label: s.label,
        s: src.series(r.id, s.key, CHART_POINTS),
        color: s.color,
        dash: s.dash,
      })),
    ),
  );
  const out: string[] = [];
  if (svgs.length > 0) out.push(`<h3>Curves</h3>\n<div class="charts">\n${svgs.join('\n')}\n</div>`);
  if (singles.rows.length > 0)
    out.push(
      `<h3>Final values</h3>\n` +
        table(
          ['series', ...singles.columns],
          singles.rows.map((row) => [row.label || '—', ...row.values]),
        ),
    );
  return out.join('\n');
}

function runHtml(src: ExportSource, r: RunDetail, multi: boolean): string {
  const meta: [string, string][] = [
    ['kind', r.kind],
    ['status', r.status],
    ['duration', isoDuration(r)],
    ['seed', String(r.seed)],
    ['backend', infoLine(r.backend)],
    ['id', r.id],
    ['finished', r.finishedAt ?? '—'],
    ['code', r.codeVersion],
  ];
  if (r.parentId) meta.push(['parent', r.parentId]);
  if (r.tags.length > 0) meta.push(['tags', r.tags.join(', ')]);
  const summary = Object.entries(r.summary);
  const notes = r.notes.map((n) => `<li>${escapeHtml(n.createdAt)}: ${escapeHtml(n.text)}</li>`).join('');
  const config = [...flattenConfig(r.config)];
  const parts = [
    `<section class="run" id="run-${escapeHtml(r.id)}">`,
    `<${multi ? 'h2' : 'h1'}>${escapeHtml(runLabel(r))}</${multi ? 'h2' : 'h1'}>`,
    `<dl class="meta">${meta.map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd></div>`).join('')}</dl>`,
  ];
  if (r.error) parts.push(`<pre class="error">${escapeHtml(r.error)}</pre>`);
  parts.push(...r.report.map(sectionHtml));
  if (summary.length > 0) {
    const t = table(['figure', 'value'], summary, 'summary');
    // With report sections the summary repeats them in raw form: keep it, folded.
    parts.push(
      r.report.length > 0
        ? `<details><summary>All summary figures (${summary.length})</summary>\n${t}\n</details>`
        : `<h3>Summary</h3>\n${t}`,
    );
  }
  if (r.children.length > 0) parts.push(childrenHtml(r));
  parts.push(runCurvesHtml(src, r));
  if (notes) parts.push(`<h3>Notes</h3><ul>${notes}</ul>`);
  parts.push(
    `<details class="config"><summary>Config (${config.length} values)</summary>\n${table(['path', 'value'], config)}\n</details>`,
    `<p class="host">Host: ${escapeHtml(infoLine(r.host))}</p>`,
    '</section>',
  );
  return parts.filter((p) => p !== '').join('\n');
}

function unsharedHtml(unshared: UnsharedByKind[]): string {
  const list = (items: { name: string; runs: number }[], of: number) =>
    items.map((x) => escapeHtml(x.runs === of ? x.name : `${x.name} (${x.runs} of ${of})`)).join(', ');
  const rows = unshared.flatMap((u) =>
    (
      [
        ['config', u.config.map((c) => ({ name: c.path, runs: c.runs }))],
        ['summary', u.summary.map((c) => ({ name: c.key, runs: c.runs }))],
        ['metrics', u.metrics.map((c) => ({ name: c.key, runs: c.runs }))],
      ] as const
    )
      .filter(([, items]) => items.length > 0)
      .map(
        ([what, items]) =>
          `<tr><td>${escapeHtml(u.kind)} (${u.runs} run${u.runs === 1 ? '' : 's'})</td><td>${what}</td><td>${list(items, u.runs)}</td></tr>`,
      ),
  );
  return `<details><summary>Not shared by all runs (${unshared.length} kind${unshared.length === 1 ? '' : 's'})</summary>
<table><thead><tr><th>kind</th><th>what</th><th>only these runs have</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>
</details>`;
}

/** Multi-run header: who is who, what differs in config, the headline figures, and overlaid curves. */
function comparisonHtml(src: ExportSource, runs: RunDetail[]): string {
  const cmp = compareRuns(runs);
  const labels = runs.map(runLabel);
  // Legends: long names cut, and the id added where two runs share a name.
  const cut = labels.map((n) => (n.length > 28 ? `${n.slice(0, 27)}…` : n));
  const legend = cut.map((n, i) =>
    cut.indexOf(n) !== cut.lastIndexOf(n) ? `${n} (${runs[i].id.slice(0, 8)})` : n,
  );
  const parts = [
    '<section class="comparison">',
    '<h2>Comparison</h2>',
    table(
      ['run', 'kind', 'status', 'duration', 'seed', 'id'],
      runs.map((r, i) => [labels[i], r.kind, r.status, isoDuration(r), r.seed, r.id]),
    ),
  ];
  // Headline figures are the summaries every run has; without any, each shared metric's last value.
  parts.push('<h3>Final metrics</h3>');
  // Runs as columns for a few runs; past RUNS_AS_COLUMNS_MAX, runs as rows.
  const grid = (head: string, rows: { key: string; values: unknown[] }[]): string =>
    runs.length > RUNS_AS_COLUMNS_MAX
      ? table(
          ['run', ...rows.map((r) => r.key)],
          labels.map((l, i) => [l, ...rows.map((r) => r.values[i])]),
        )
      : table(
          [head, ...labels],
          rows.map((r) => [r.key, ...r.values]),
        );
  parts.push(
    cmp.summary.length > 0
      ? grid('figure', cmp.summary)
      : cmp.metrics.length > 0
        ? grid('metric', cmp.metrics)
        : '<p>No figure or metric is shared by all these runs.</p>',
  );
  const diff =
    cmp.configDiff.length > 0
      ? grid(
          'path',
          cmp.configDiff.map((d) => ({ key: d.path, values: d.values })),
        )
      : '<p>The configs are identical.</p>';
  // A long diff (runs of different kinds) would bury the figures: fold it.
  parts.push(
    cmp.configDiff.length > CONFIG_DIFF_OPEN_MAX
      ? `<details><summary>Config differences (${cmp.configDiff.length} paths)</summary>\n${diff}\n</details>`
      : `<h3>Config differences</h3>\n${diff}`,
  );
  // What only some runs have: named once per kind, not as empty cells.
  if (cmp.unshared.length > 0) parts.push(unsharedHtml(cmp.unshared));
  if (runs.length <= OVERLAY_MAX_RUNS) {
    const counts = runs.map((r) => new Map(r.metrics.map((m) => [m.key, m.count])));
    const shared = [...counts[0].keys()].filter((k) => counts.every((c) => c.has(k))).sort();
    const { charts } = splitSinglePoints(
      groupMetricKeys(shared),
      (k) => Math.max(...counts.map((c) => c.get(k) ?? 0)),
      () => null,
    );
    // Colour tells the runs apart, dash the series within a run; crowded groups are split by model.
    const svgs = overlayCharts(charts, runs.length, OVERLAY_MAX_LINES).map((ch) =>
      svgChart(
        ch.title,
        ch.lines.map((l) => ({
          label: legend[l.run] + (l.label ? `: ${l.label}` : ''),
          s: src.series(runs[l.run].id, l.key, CHART_POINTS),
          color: l.run,
          dash: l.dash,
        })),
      ),
    );
    if (svgs.length > 0)
      parts.push(`<h3>Curves side by side</h3>\n<div class="charts">\n${svgs.join('\n')}\n</div>`);
  } else {
    parts.push(
      `<p>Curves are shown per run below (more than ${OVERLAY_MAX_RUNS} runs do not overlay legibly).</p>`,
    );
  }
  parts.push('</section>');
  return parts.join('\n');
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1320px; padding: 0 1.5em; color: #222; }
h1 { font-size: 1.6em; margin: 0.2em 0; }
h2 { font-size: 1.3em; margin: 1.2em 0 0.3em; border-bottom: 2px solid #ddd; padding-bottom: 0.1em; }
h3 { font-size: 1.05em; margin: 1.2em 0 0.3em; }
.exported { color: #666; font-size: 0.85em; }
dl.meta { display: flex; flex-wrap: wrap; gap: 0.2em 1.4em; margin: 0.4em 0 1em; }
dl.meta div { display: flex; gap: 0.4em; }
dl.meta dt { color: #666; }
dl.meta dd { margin: 0; }
table { border-collapse: collapse; margin: 0.4em 0 1em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; font-variant-numeric: tabular-nums; vertical-align: top; }
th { background: #f3f3f3; }
.charts { display: flex; flex-wrap: wrap; gap: 0.5em 1em; }
svg { display: block; max-width: 100%; height: auto; }
details { margin: 0.6em 0; }
summary { cursor: pointer; color: #444; }
pre.error { white-space: pre-wrap; background: #fff2f2; padding: 0.5em; }
.text { white-space: pre-wrap; }
.host { color: #666; font-size: 0.85em; }
section.run { margin-top: 2em; }
@page { size: A4 landscape; margin: 12mm 10mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 10pt; }
  /* Wide tables wrap their headers and cells at spaces; the PDF export zooms a table still wider than the page. */
  table { font-size: 8pt; }
  th, td { padding: 2px 4px; overflow-wrap: break-word; }
  section.run + section.run, section.comparison + section.run { break-before: page; }
  svg, tr, h3 { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  summary { color: #222; }
}
`;

export function exportHtml(src: ExportSource): ExportedFile {
  const runs = src.runs;
  const multi = runs.length > 1;
  const title = multi
    ? `qlab report: ${runs.length} runs`
    : `qlab report: ${runs[0] ? runLabel(runs[0]) : 'no runs'}`;
  const body = [
    multi ? `<h1>${escapeHtml(title)}</h1>` : '',
    multi ? comparisonHtml(src, runs) : '',
    ...runs.map((r) => runHtml(src, r, multi)),
    `<p class="exported">Exported from qlab ${escapeHtml(new Date().toISOString())}; ${runs.length} run(s).</p>`,
  ].filter((p) => p !== '');
  const content = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style></head><body>
${body.join('\n')}
</body></html>
`;
  return { filename: `${baseName(runs)}.html`, mimeType: 'text/html', content };
}
