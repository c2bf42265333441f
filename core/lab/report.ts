// Comparisons and exports of stored runs: JSON (everything), CSV (one row per metric point) and a single
// self-contained HTML report (no external resources; charts are inline SVG).
import type {
  Comparison,
  ExportedFile,
  ExportFormat,
  ReportSection,
  RunDetail,
  Series,
} from '../api/lab-api';

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

export function compareRuns(runs: RunDetail[]): Comparison {
  const flat = runs.map((r) => flattenConfig(r.config));
  const paths = [...new Set(flat.flatMap((f) => [...f.keys()]))].sort();
  const configDiff: Comparison['configDiff'] = [];
  for (const path of paths) {
    const values = flat.map((f) => (f.has(path) ? f.get(path) : null));
    const first = JSON.stringify(values[0]);
    // A path missing from one run differs from every present value, including null.
    const differs = values.some(
      (v, i) => JSON.stringify(v) !== first || flat[i].has(path) !== flat[0].has(path),
    );
    if (differs) configDiff.push({ path, values });
  }
  const keys = [...new Set(runs.flatMap((r) => r.metrics.map((m) => m.key)))].sort();
  const metrics = keys.map((key) => ({
    key,
    values: runs.map((r) => r.metrics.find((m) => m.key === key)?.last ?? null),
  }));
  return { runs, configDiff, metrics };
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

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

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

function table(columns: string[], rows: unknown[][]): string {
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows
    .map((row) => `<tr>${row.map((c) => `<td>${escapeHtml(c === null ? '—' : fmt(c))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** One inline SVG line chart of a metric across runs: the bucket's last value as a line, min..max as a band. */
export function svgChart(key: string, series: { label: string; s: Series }[]): string {
  const W = 640;
  const H = 240;
  const L = 72;
  const R = 10;
  const T = 24;
  const B = 30;
  const all = series.flatMap((x) => x.s.points);
  if (all.length === 0) return '';
  const x0 = Math.min(...all.map((p) => p.step));
  let x1 = Math.max(...all.map((p) => p.step));
  let y0 = Math.min(...all.map((p) => p.min));
  let y1 = Math.max(...all.map((p) => p.max));
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const sx = (x: number) => (L + ((x - x0) / (x1 - x0)) * (W - L - R)).toFixed(1);
  const sy = (y: number) => (T + (1 - (y - y0) / (y1 - y0)) * (H - T - B)).toFixed(1);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(key)}">`,
    `<text x="${L}" y="16" font-size="13" font-weight="bold">${escapeHtml(key)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#888"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#888"/>`,
    `<text x="${L - 4}" y="${T + 4}" font-size="10" text-anchor="end">${escapeHtml(axisLabel(y1))}</text>`,
    `<text x="${L - 4}" y="${H - B}" font-size="10" text-anchor="end">${escapeHtml(axisLabel(y0))}</text>`,
    `<text x="${L}" y="${H - B + 14}" font-size="10">${x0}</text>`,
    `<text x="${W - R}" y="${H - B + 14}" font-size="10" text-anchor="end">${x1}</text>`,
  ];
  series.forEach(({ label, s }, i) => {
    if (s.points.length === 0) return;
    const color = COLORS[i % COLORS.length];
    const upper = s.points.map((p) => `${sx(p.step)},${sy(p.max)}`);
    const lower = s.points.map((p) => `${sx(p.step)},${sy(p.min)}`).reverse();
    parts.push(
      `<polygon points="${[...upper, ...lower].join(' ')}" fill="${color}" fill-opacity="0.15" stroke="none"/>`,
    );
    parts.push(
      `<polyline points="${s.points.map((p) => `${sx(p.step)},${sy(p.last)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="1.5"><title>${escapeHtml(label)}</title></polyline>`,
    );
    parts.push(
      `<text x="${W - R}" y="${T + 12 * (i + 1)}" font-size="10" text-anchor="end" fill="${color}">${escapeHtml(label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function sectionHtml(s: ReportSection): string {
  return s.type === 'table'
    ? `<h4>${escapeHtml(s.title)}</h4>\n${table(s.columns, s.rows)}`
    : `<h4>${escapeHtml(s.title)}</h4>\n<p>${escapeHtml(s.text)}</p>`;
}

/** A parent's children as one table: status and each summary figure (the children are exported by their own ids). */
function childrenHtml(r: RunDetail): string {
  const keys = [...new Set(r.children.flatMap((c) => Object.keys(c.summary)))].sort();
  return (
    `<h4>Child runs (${r.children.length})</h4>\n` +
    table(
      ['name', 'id', 'status', ...keys, 'error'],
      r.children.map((c) => [c.name, c.id, c.status, ...keys.map((k) => c.summary[k] ?? null), c.error]),
    )
  );
}

export function exportHtml(src: ExportSource): ExportedFile {
  const runs = src.runs;
  const cmp = compareRuns(runs);
  const label = (r: RunDetail) => `${r.name} (${r.id.slice(0, 8)})`;
  const summaryKeys = [...new Set(runs.flatMap((r) => Object.keys(r.summary)))].sort();
  const runRows = runs.map((r) => [
    r.id,
    r.name,
    r.kind,
    r.status,
    r.createdAt,
    r.finishedAt,
    r.seed,
    r.codeVersion,
    r.error,
    ...summaryKeys.map((k) => r.summary[k] ?? null),
  ]);
  const configTable =
    runs.length > 1
      ? cmp.configDiff.length > 0
        ? table(
            ['path', ...runs.map(label)],
            cmp.configDiff.map((d) => [d.path, ...d.values]),
          )
        : '<p>The configs are identical.</p>'
      : table(
          ['path', 'value'],
          [...flattenConfig(runs[0]?.config ?? {})].map(([p, v]) => [p, v]),
        );
  const keys = cmp.metrics.map((m) => m.key);
  const charts = keys
    .map((key) =>
      svgChart(
        key,
        runs
          .filter((r) => r.metrics.some((m) => m.key === key))
          .map((r) => ({ label: label(r), s: src.series(r.id, key, 400) })),
      ),
    )
    .join('\n');
  const reports = runs
    .map((r) => {
      const notes = r.notes.map((n) => `<li>${escapeHtml(n.createdAt)}: ${escapeHtml(n.text)}</li>`).join('');
      return (
        `<section><h3>${escapeHtml(label(r))}</h3>\n` +
        `<p>Host: ${escapeHtml(JSON.stringify(r.host))}<br>Backend: ${escapeHtml(JSON.stringify(r.backend))}</p>\n` +
        r.report.map(sectionHtml).join('\n') +
        (r.children.length > 0 ? `\n${childrenHtml(r)}` : '') +
        (notes ? `\n<h4>Notes</h4><ul>${notes}</ul>` : '') +
        '</section>'
      );
    })
    .join('\n');
  const content = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>qlab report: ${escapeHtml(runs.map((r) => r.name).join(', '))}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; }
svg { display: block; margin: 0.5em 0 1.5em; }
</style></head><body>
<h1>qlab report</h1>
<p>Exported ${escapeHtml(new Date().toISOString())}; ${runs.length} run(s).</p>
<h2>Runs</h2>
${table(['id', 'name', 'kind', 'status', 'created', 'finished', 'seed', 'code', 'error', ...summaryKeys], runRows)}
<h2>${runs.length > 1 ? 'Config differences' : 'Config'}</h2>
${configTable}
<h2>Final metrics</h2>
${table(
  ['metric', ...runs.map(label)],
  cmp.metrics.map((m) => [m.key, ...m.values]),
)}
<h2>Curves</h2>
${charts || '<p>No metrics recorded.</p>'}
<h2>Reports</h2>
${reports}
</body></html>
`;
  return { filename: `${baseName(runs)}.html`, mimeType: 'text/html', content };
}
