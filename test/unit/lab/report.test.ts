import { describe, expect, it } from 'vitest';
import type { RunDetail, Series } from '../../../core/api/lab-api';
import {
  compareRuns,
  csvField,
  exportCsv,
  exportHtml,
  exportJson,
  exportRunsCsv,
  flattenConfig,
  niceTicks,
  svgChart,
  type ExportSource,
} from '../../../core/lab/report';
import {
  bestCells,
  betterDirection,
  escapeLatex,
  latexCell,
  latexDocument,
} from '../../../core/lab/export-latex';

function run(id: string, config: unknown, metrics: [string, number][], name = `run ${id}`): RunDetail {
  return {
    id,
    kind: 'k',
    name,
    status: 'succeeded',
    createdAt: '2024-01-01T00:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    progress: 1,
    progressMessage: null,
    tags: [],
    summary: { acc: 0.5 },
    error: null,
    parentId: null,
    childCount: 0,
    children: [],
    config,
    seed: 1,
    codeVersion: 'qlab@0.1.0',
    host: {},
    backend: {},
    heartbeatAt: null,
    metrics: metrics.map(([key, last]) => ({ key, count: 3, lastStep: 2, last, min: 0, max: last })),
    artifacts: [],
    notes: [{ id: 1, text: 'a <b> note', createdAt: '2024-01-01T00:00:00.000Z' }],
    report: [{ type: 'table', title: 'T', columns: ['a', 'b'], rows: [[1, 'x<y']] }],
  };
}

/** Parses RFC 4180 CSV (quoted fields with doubled quotes, CRLF rows) back into rows of fields. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else field += c;
      i++;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
    i++;
  }
  if (field !== '' || row.length > 0) throw new Error('CSV must end with CRLF');
  return rows;
}

function source(runs: RunDetail[]): ExportSource {
  const pts = (id: string, key: string) =>
    [0, 1, 2].map((step) => ({
      step,
      value: (id.charCodeAt(0) + key.length) * (step + 1) * 0.1,
      wallTime: 0,
    }));
  return {
    runs,
    points: pts,
    series: (id, key): Series => ({
      runId: id,
      key,
      count: 3,
      points: pts(id, key).map((p) => ({ step: p.step, min: p.value, max: p.value, last: p.value })),
    }),
  };
}

describe('flattenConfig', () => {
  it('gives dot/bracket leaf paths, keeping empty containers as leaves', () => {
    expect([...flattenConfig({ a: { b: [1, { c: null }] }, d: 'x', e: [], f: {} })]).toEqual([
      ['a.b[0]', 1],
      ['a.b[1].c', null],
      ['d', 'x'],
      ['e', []],
      ['f', {}],
    ]);
  });
});

describe('compareRuns', () => {
  it('lists exactly the differing paths and the final metrics side by side', () => {
    const a = run('a', { lr: 0.1, layers: [4, 4], opt: { name: 'adam' }, same: 1 }, [['loss', 0.3]]);
    const b = run('b', { lr: 0.2, layers: [4, 8], opt: { name: 'adam' }, same: 1, extra: null }, [
      ['loss', 0.2],
      ['acc', 0.9],
    ]);
    const c = compareRuns([a, b]);
    // Only what both runs have is a row; `extra` and `acc` (b only) are listed under the kind instead.
    expect(c.configDiff).toEqual([
      { path: 'layers[1]', values: [4, 8] },
      { path: 'lr', values: [0.1, 0.2] },
    ]);
    expect(c.metrics).toEqual([{ key: 'loss', values: [0.3, 0.2], count: 3 }]);
    expect(c.unshared).toEqual([
      {
        kind: 'k',
        runs: 2,
        config: [{ path: 'extra', runs: 1 }],
        metrics: [{ key: 'acc', runs: 1 }],
        summary: [],
      },
    ]);
  });
});

describe('exports', () => {
  const runs = [
    run('a', { lr: 0.1 }, [['loss', 1]], 'comma, "quote"\nnewline'),
    run('b', { lr: 0.2 }, [['loss', 2]]),
  ];

  it('csvField quotes only what RFC 4180 requires', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField(1.5)).toBe('1.5');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
  });

  it('CSV parses back to one row per point with the exact values', () => {
    const f = exportCsv(source(runs));
    expect(f.mimeType).toBe('text/csv');
    const rows = parseCsv(f.content);
    expect(rows[0]).toEqual(['run_id', 'kind', 'name', 'key', 'step', 'value']);
    expect(rows).toHaveLength(1 + 2 * 3);
    expect(rows[1]).toEqual(['a', 'k', 'comma, "quote"\nnewline', 'loss', '0', String((97 + 4) * 0.1)]);
    for (const r of rows.slice(1))
      expect(Number(r[5])).toBe(source(runs).points(r[0], r[3])[Number(r[4])].value);
  });

  it('JSON parses back with configs, summaries, series and report sections', () => {
    const f = exportJson(source(runs));
    const parsed = JSON.parse(f.content) as {
      format: string;
      runs: (RunDetail & { series: Record<string, { steps: number[]; values: number[] }> })[];
    };
    expect(parsed.format).toBe('qlab-export');
    expect(parsed.runs.map((r) => r.config)).toEqual([{ lr: 0.1 }, { lr: 0.2 }]);
    expect(parsed.runs[1].series.loss.steps).toEqual([0, 1, 2]);
    expect(parsed.runs[1].series.loss.values).toEqual(
      source(runs)
        .points('b', 'loss')
        .map((p) => p.value),
    );
    expect(parsed.runs[0].report).toEqual(runs[0].report);
  });

  it('HTML is one self-contained, printable file with escaped text', () => {
    const f = exportHtml(source(runs));
    expect(f.mimeType).toBe('text/html');
    expect(f.content.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(f.content).not.toMatch(/\s(src|href)\s*=/i);
    expect(f.content).not.toMatch(/<script/i);
    expect(f.content).not.toMatch(/url\(/i);
    expect(f.content).toContain('@media print');
    expect(f.content).toContain('x&#60;y');
    expect(f.content).toContain('a &#60;b&#62; note');
    expect(f.content).not.toContain('<b> note');
    expect(f.content).toContain('comma, &#34;quote&#34;');
    expect(f.content).not.toContain('"quote"');
    expect(f.content).toContain('Config differences');
  });

  /** Offsets of each needle in `html`, failing on a missing one. */
  function offsets(html: string, needles: string[]): number[] {
    return needles.map((n) => {
      const i = html.indexOf(n);
      if (i < 0) throw new Error(`missing ${n}`);
      return i;
    });
  }
  const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]);

  it('one run: header, report sections, grouped curves, one-point values, config folded, host last', () => {
    const r = run('a', { lr: 0.1, opt: { name: '<adam>' } }, [
      ['quantum/seed0/loss', 0.3],
      ['quantum/seed1/loss', 0.2],
      ['mlp/seed0/loss', 0.4],
      ['quantum/seed0/test_acc', 0.9],
      ['mlp/seed0/test_acc', 0.8],
    ]);
    r.metrics = r.metrics.map((m) => (m.key.endsWith('test_acc') ? { ...m, count: 1 } : m));
    r.report.push({ type: 'text', title: 'Setup & <notes>', text: 'a < b' });
    r.host = { hostname: 'box<1>' };
    r.backend = { device: 'cpu' };
    const html = exportHtml(source([r])).content;
    const at = offsets(html, [
      '<h1>run a</h1>',
      'backend</dt><dd>device: cpu</dd>',
      '<h3>T</h3>',
      '<h3>Setup &#38; &#60;notes&#62;</h3>',
      '<h3>Curves</h3>',
      '<h3>Final values</h3>',
      '<h3>Notes</h3>',
      '<details class="config"><summary>Config',
      'Host: hostname: box&#60;1&#62;',
    ]);
    expect(increasing(at)).toBe(true);
    expect(html).toContain('<td>opt.name</td><td>&#60;adam&#62;</td>');
    // The three loss keys are one chart with a legend; the one-point test_acc keys are a table, not charts.
    expect((html.match(/<svg /g) ?? []).length).toBe(1);
    expect((html.match(/<polyline /g) ?? []).length).toBe(3);
    expect(html).toContain('aria-label="*/*/loss"');
    for (const label of ['quantum/seed0', 'quantum/seed1', 'mlp/seed0'])
      expect(html).toContain(`font-size="11">${label}</text>`);
    expect(html).toContain('<tr><td>quantum/seed0</td><td>0.9</td></tr>');
    expect(html).toContain('<tr><td>mlp/seed0</td><td>0.8</td></tr>');
    expect(html).not.toContain('Comparison');
  });

  it('several runs: a comparison first (runs, final figures, config diff, overlaid curves), then each run', () => {
    const html = exportHtml(source(runs)).content;
    const at = offsets(html, [
      '<h2>Comparison</h2>',
      '<h3>Final metrics</h3>',
      '<h3>Config differences</h3>',
      'aria-label="loss"',
      '<h2>comma, &#34;quote&#34;\nnewline</h2>',
      '<h2>run b</h2>',
    ]);
    expect(increasing(at)).toBe(true);
    expect(html).toContain('<tr><td>lr</td><td>0.1</td><td>0.2</td></tr>');
    expect(html).toContain('<tr><td>acc</td><td>0.5</td><td>0.5</td></tr>');
    // One overlay of both runs, then each run's own chart.
    expect((html.match(/<svg /g) ?? []).length).toBe(3);
    expect((html.match(/<polyline /g) ?? []).length).toBe(4);
    // The overlay's polylines are the two runs' downsampled series, in pixel space: check the ends.
    const overlay = html.slice(html.indexOf('aria-label="loss"'), html.indexOf('</svg>'));
    const ys = [...overlay.matchAll(/<polyline points="([^"]+)"/g)].map((m) =>
      m[1].split(' ').map((p) => Number(p.split(',')[1])),
    );
    expect(ys).toHaveLength(2);
    // Run a's values (97+4)·0.1·(k+1) sit below run b's (98+4)·0.1·(k+1): larger y in SVG space.
    for (let k = 0; k < 3; k++) expect(ys[0][k]).toBeGreaterThan(ys[1][k]);
    // The highest value (run b, step 2) touches the top of the plot area.
    expect(ys[1][2]).toBeCloseTo(24, 5);
  });
});

describe('comparison of many runs', () => {
  it('puts each run on a row (figures and config paths as columns) past eight runs, as columns up to eight', () => {
    const make = (n: number) =>
      Array.from({ length: n }, (_, i) => {
        const r = run(`r${i}`, { lr: 0.01 * (i + 1), depth: 2 }, [['loss', i + 1]], `run ${i}`);
        r.summary = { acc: (50 + i) / 100 };
        return r;
      });
    const rowsOf = (html: string, after: string): string[] => {
      const from = html.indexOf(after);
      const t = html.slice(html.indexOf('<table', from), html.indexOf('</table>', from));
      return [...t.matchAll(/<tr>(.*?)<\/tr>/gs)].map((m) => m[1]);
    };
    const many = exportHtml(source(make(12))).content;
    const figures = rowsOf(many, '<h3>Final metrics</h3>');
    expect(figures).toHaveLength(1 + 12);
    expect(figures[0]).toBe('<th>run</th><th>acc</th>');
    expect(figures[12]).toBe('<td>run 11</td><td>0.61</td>');
    const diff = rowsOf(many, '<h3>Config differences</h3>');
    expect(diff[0]).toBe('<th>run</th><th>lr</th>');
    expect(diff).toHaveLength(13);
    const few = exportHtml(source(make(8))).content;
    const cols = rowsOf(few, '<h3>Final metrics</h3>');
    expect(cols).toHaveLength(2);
    expect(cols[1]).toBe(
      `<td>acc</td>${Array.from({ length: 8 }, (_, i) => `<td>${(50 + i) / 100}</td>`).join('')}`,
    );
  });
});

describe('per-run CSV', () => {
  it('has one row per run, config leaves as config.* columns (empty where a run lacks one) and final figures', () => {
    const a = run('a', { lr: 0.1, model: { depth: 2 } }, [['loss', 1]], 'comma, "quote"\nnewline');
    const b = run('b', { lr: 0.2, tags: [] }, [['loss', 2]]);
    b.summary = { acc: 0.75, note: 'x' };
    const f = exportRunsCsv(source([a, b]));
    expect(f.filename).toMatch(/-runs\.csv$/);
    const rows = parseCsv(f.content);
    expect(rows).toHaveLength(3);
    const head = rows[0];
    const at = (row: string[], c: string) => row[head.indexOf(c)];
    expect(head.slice(0, 3)).toEqual(['id', 'kind', 'name']);
    expect(head).toEqual(
      expect.arrayContaining([
        'config.lr',
        'config.model.depth',
        'config.tags',
        'summary.acc',
        'metric.loss',
      ]),
    );
    expect(at(rows[1], 'name')).toBe('comma, "quote"\nnewline');
    expect(at(rows[1], 'config.model.depth')).toBe('2');
    expect(at(rows[2], 'config.model.depth')).toBe('');
    expect(at(rows[2], 'config.tags')).toBe('[]');
    expect(at(rows[2], 'summary.acc')).toBe('0.75');
    expect(at(rows[1], 'summary.note')).toBe('');
    expect(at(rows[2], 'metric.loss')).toBe('2');
  });

  it('gives an ended run without a finish (or noticed late) the duration to its last heartbeat', () => {
    const started = '2024-01-01T00:00:00.000Z';
    const a = { ...run('a', {}, []), status: 'interrupted' as const, startedAt: started };
    a.finishedAt = '2024-02-01T00:00:00.000Z'; // the lab noticed the dead job a month later
    a.lastSeenAt = '2024-01-01T00:01:40.000Z';
    const b = { ...run('b', {}, []), status: 'cancelled' as const, startedAt: started };
    b.lastSeenAt = '2024-01-01T00:00:30.000Z';
    const c = { ...run('c', {}, []), status: 'running' as const, startedAt: started };
    const rows = parseCsv(exportRunsCsv(source([a, b, c])).content);
    const col = rows[0].indexOf('duration_s');
    expect(rows.slice(1).map((r) => r[col])).toEqual(['100', '30', '']);
  });
});

describe('LaTeX export', () => {
  it('escapes the specials and maps the report symbols', () => {
    expect(escapeLatex('a_b & 50% #1 $x {y} ~ ^ \\')).toBe(
      'a\\_b \\& 50\\% \\#1 \\$x \\{y\\} \\textasciitilde{} \\textasciicircum{} \\textbackslash{}',
    );
    expect(escapeLatex('α ± 0.1 – T² ✓ é')).toBe('$\\alpha$ $\\pm$ 0.1 -- T$^{2}$ ? é');
  });

  it('writes mean ± std in math mode and bolds the best value per column by its direction', () => {
    expect(latexCell('0.8125 ± 0.0125', false)).toBe('$0.8125 \\pm 0.0125$');
    expect(latexCell(25408, true)).toBe('{\\boldmath$25{,}408$}');
    expect(latexCell(null, false)).toBe('---');
    expect(betterDirection('accuracy')).toBe('max');
    expect(betterDirection('train time (s)')).toBe('min');
    expect(betterDirection('Acc/Param')).toBe('max');
    expect(betterDirection('trainable params')).toBeNull();
    expect(betterDirection('p vs quantum (paired t)')).toBeNull();
    const cols = ['model', 'accuracy', 'loss', 'trainable params'];
    const rows = [
      ['q', '0.80 ± 0.01', 0.5, 100],
      ['c', '0.90 ± 0.02', 0.7, 200],
    ];
    expect(bestCells(cols, rows).map((s) => [...s])).toEqual([[], [1], [0], []]);
  });

  it('makes one document with a booktabs table per report table and the summary figures', () => {
    const r = run('a', {}, [], 'name_with & specials');
    r.report.push({ type: 'text', title: 'not a table', text: 'x' });
    const tex = latexDocument([r]);
    expect(tex).toContain('\\usepackage{booktabs}');
    expect(tex.match(/\\begin\{tabular\}/g)).toHaveLength(1);
    expect(tex).toContain('name\\_with \\& specials');
    expect(tex).toContain('x\\textless{}y');
    expect(tex).toContain('\\texttt{acc} & $0.5$');
    expect(tex.trimEnd().endsWith('\\end{document}')).toBe(true);
  });
});

describe('chart axes', () => {
  it('gives round ticks inside the range (integers for steps)', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.04, 1, 5)).toEqual([0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 3, 6, true)).toEqual([0, 1, 2, 3]);
    expect(niceTicks(0, 2400, 6, true)).toEqual([0, 500, 1000, 1500, 2000]);
  });

  it('labels several ticks on each axis, not only the ends', () => {
    const pts = [0, 1, 2, 3, 4].map((step) => ({ step, min: step / 4, max: step / 4, last: step / 4 }));
    const svg = svgChart('loss', [
      { label: 'a', s: { runId: 'r', key: 'loss', count: 5, points: pts }, color: 0, dash: 0 },
    ]);
    expect(svg.match(/text-anchor="end">0\.[2468]<\/text>/g)).toHaveLength(4);
    expect(svg.match(/text-anchor="middle">\d<\/text>/g)).toHaveLength(5);
  });
});
