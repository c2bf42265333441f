// Comparison shaping (core/lab/report.ts compareRuns) and its axes (core/api/compare-axes.ts): runs of
// different kinds compare on what they share, with no missing value in any row; what only some runs have is
// listed once per kind; axes are numeric or categorical with positions in [0, 1]; brushes filter runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunDetail } from '../../../core/api/lab-api';
import { CompareRequestSchema, MAX_COMPARE_RUNS } from '../../../core/api/lab-api';
import { comparedRun, compareRuns, exportHtml } from '../../../core/lab/report';
import { Store } from '../../../core/lab/store';
import {
  bestRuns,
  brushExtent,
  brushMask,
  categoryLabel,
  comparisonAxes,
  defaultAxisIds,
  lowerIsBetter,
  makeAxis,
  type NumericAxis,
} from '../../../core/api/compare-axes';

function run(
  id: string,
  kind: string,
  config: unknown,
  metrics: Record<string, number>,
  summary: Record<string, number | string> = {},
): RunDetail {
  return {
    id,
    kind,
    name: `run ${id}`,
    status: 'succeeded',
    createdAt: '2024-01-01T00:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    progress: 1,
    progressMessage: null,
    tags: [],
    summary,
    error: null,
    parentId: null,
    childCount: 0,
    children: [],
    config,
    seed: 7,
    codeVersion: 'qlab@test',
    host: {},
    backend: {},
    heartbeatAt: null,
    metrics: Object.entries(metrics).map(([key, last], i) => ({
      key,
      count: 10 + i,
      lastStep: 9,
      last,
      min: 0,
      max: last,
    })),
    artifacts: [],
    notes: [],
    report: [],
  };
}

/** Every value of every row of a comparison, to check none is missing. */
function allCells(c: ReturnType<typeof compareRuns>): unknown[] {
  return [
    ...c.configDiff.flatMap((d) => d.values),
    ...c.metrics.flatMap((m) => m.values),
    ...c.summary.flatMap((s) => s.values),
  ];
}

describe('compareRuns across kinds', () => {
  // Two qhead-like runs and two qdllm-like runs: they share `seed`-like fields, `epochs` and one metric.
  const runs = [
    run(
      'h1',
      'qhead',
      { epochs: 5, lr: 0.01, encoder: { type: 'bow', dim: 64 }, teacher: null },
      { val_acc: 0.7, 'quantum/val_acc': 0.6 },
      { quantum_test_acc: 0.61, dataset: 'brown' },
    ),
    run(
      'h2',
      'qhead',
      { epochs: 5, lr: 0.02, encoder: { type: 'hf', dim: 64, path: '/m' }, teacher: null },
      { val_acc: 0.8, 'quantum/val_acc': 0.65 },
      { quantum_test_acc: 0.66, dataset: 'brown' },
    ),
    run(
      'd1',
      'qdllm',
      { epochs: 5, qubits: 4, students: ['quantum', 'mlp'] },
      { val_acc: 0.75, 'student/loss': 0.3 },
      { quantum_test_acc: 0.7, teacher_acc: 0.9 },
    ),
    run(
      'd2',
      'qdllm',
      { epochs: 8, qubits: 6, students: ['quantum', 'mlp'] },
      { val_acc: 0.77, 'student/loss': 0.2 },
      { quantum_test_acc: 0.72, teacher_acc: 0.9 },
    ),
  ];
  const c = compareRuns(runs);

  it('keeps only the config paths, metrics and summary figures every run has', () => {
    expect(c.configDiff).toEqual([{ path: 'epochs', values: [5, 5, 5, 8] }]);
    expect(c.configSame).toEqual([]);
    expect(c.metrics).toEqual([{ key: 'val_acc', values: [0.7, 0.8, 0.75, 0.77], count: 10 }]);
    expect(c.summary).toEqual([{ key: 'quantum_test_acc', values: [0.61, 0.66, 0.7, 0.72] }]);
  });

  it('has no missing value in any row (the old shape had rows of null for the other kind)', () => {
    const cells = allCells(c);
    expect(cells.length).toBe((1 + 1 + 1) * 4);
    for (const v of cells) expect(v).not.toBeUndefined();
    // A config value that *is* null in every run of both kinds would be a real value; here none is shared.
    expect(cells.filter((v) => v === null)).toEqual([]);
  });

  it('lists what is not shared once per kind, with how many of its runs have it', () => {
    expect(c.unshared).toEqual([
      {
        kind: 'qhead',
        runs: 2,
        config: [
          { path: 'encoder.dim', runs: 2 },
          { path: 'encoder.path', runs: 1 },
          { path: 'encoder.type', runs: 2 },
          { path: 'lr', runs: 2 },
          { path: 'teacher', runs: 2 },
        ],
        metrics: [{ key: 'quantum/val_acc', runs: 2 }],
        summary: [{ key: 'dataset', runs: 2 }],
      },
      {
        kind: 'qdllm',
        runs: 2,
        config: [
          { path: 'qubits', runs: 2 },
          { path: 'students[0]', runs: 2 },
          { path: 'students[1]', runs: 2 },
        ],
        metrics: [{ key: 'student/loss', runs: 2 }],
        summary: [{ key: 'teacher_acc', runs: 2 }],
      },
    ]);
  });

  it('the HTML report compares the kinds on what they share, naming the rest per kind, no empty cell', () => {
    const html = exportHtml({
      runs,
      points: () => [],
      series: (runId, key) => ({ runId, key, count: 0, points: [] }),
    }).content;
    const section = html.slice(html.indexOf('<section class="comparison">'), html.indexOf('</section>'));
    expect(section).toContain('<td>quantum_test_acc</td>');
    expect(section).not.toContain('<tr><td>teacher_acc</td>'); // a qdllm-only figure is no row
    // The figures and the config differences hold a value in every cell.
    const tables = section.slice(section.indexOf('<h3>Final metrics</h3>'), section.indexOf('<details>'));
    expect(tables).toContain('<td>epochs</td><td>5</td><td>5</td><td>5</td><td>8</td>');
    expect(tables).not.toMatch(/<td>(—|null|)<\/td>/);
    expect(section).toContain('Not shared by all runs (2 kinds)');
    expect(section).toMatch(/<td>qdllm \(2 runs\)<\/td><td>summary<\/td><td>teacher_acc<\/td>/);
    expect(section).toContain('encoder.path (1 of 2)');
  });

  it('carries each run as its summary row with seed and code version, not the full detail', () => {
    expect(c.runs.map((r) => r.id)).toEqual(['h1', 'h2', 'd1', 'd2']);
    expect(c.runs[0]).toMatchObject({ kind: 'qhead', seed: 7, codeVersion: 'qlab@test' });
    expect(c.runs[0]).not.toHaveProperty('config');
    expect(c.runs[0]).not.toHaveProperty('metrics');
  });

  it('splits one kind’s shared paths into differing and same, and keeps a null every run has', () => {
    const one = compareRuns(runs.slice(0, 2));
    expect(one.configDiff.map((d) => d.path)).toEqual(['encoder.type', 'lr']);
    expect(one.configSame).toEqual([
      { path: 'encoder.dim', value: 64 },
      { path: 'epochs', value: 5 },
      { path: 'teacher', value: null },
    ]);
    expect(one.unshared).toEqual([
      { kind: 'qhead', runs: 2, config: [{ path: 'encoder.path', runs: 1 }], metrics: [], summary: [] },
    ]);
    expect(one.metrics.map((m) => m.key)).toEqual(['quantum/val_acc', 'val_acc']);
  });

  it('shapes a 1,000-run sweep in linear time', () => {
    const sweep = Array.from({ length: MAX_COMPARE_RUNS }, (_, i) =>
      run(
        `s${i}`,
        'qhead',
        { lr: 10 ** -(1 + (i % 4)), layers: 1 + (i % 3), opt: i % 2 ? 'adam' : 'sgd', fixed: 1 },
        Object.fromEntries(Array.from({ length: 50 }, (_, k) => [`m${k}`, i + k])),
        { acc: i / MAX_COMPARE_RUNS },
      ),
    );
    const t0 = performance.now();
    const big = compareRuns(sweep);
    const ms = performance.now() - t0;
    expect(big.configDiff.map((d) => d.path)).toEqual(['layers', 'lr', 'opt']);
    expect(big.metrics).toHaveLength(50);
    expect(big.unshared).toEqual([]);
    expect(ms, 'compareRuns of 1,000 runs × 50 metrics').toBeLessThan(2_000);
  });
});

describe('CompareRequestSchema', () => {
  const id = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  it(`takes 2 to ${MAX_COMPARE_RUNS} distinct ids and says why otherwise`, () => {
    expect(CompareRequestSchema.safeParse({ ids: [id(1), id(2)] }).success).toBe(true);
    const max = Array.from({ length: MAX_COMPARE_RUNS }, (_, i) => id(i));
    expect(CompareRequestSchema.safeParse({ ids: max }).success).toBe(true);
    const over = CompareRequestSchema.safeParse({ ids: [...max, id(MAX_COMPARE_RUNS)] });
    expect(over.success).toBe(false);
    expect(over.error?.issues[0].message).toMatch(/at most 1,000 runs/);
    const twice = CompareRequestSchema.safeParse({ ids: [id(1), id(1)] });
    expect(twice.error?.issues[0].message).toMatch(/listed twice/);
    expect(CompareRequestSchema.safeParse({ ids: [id(1)] }).error?.issues[0].message).toMatch(/at least two/);
  });
});

describe('comparison axes', () => {
  it('makes a numeric axis with positions (v − min)/(max − min)', () => {
    const a = makeAxis('config', 'lr', [0.1, 0.3, 0.2, 0.5]) as NumericAxis;
    expect(a.type).toBe('numeric');
    expect(a.min).toBe(0.1);
    expect(a.max).toBe(0.5);
    expect([...a.positions]).toEqual(
      [0, 0.3 / 0.4 - 0.1 / 0.4, 0.1 / 0.4, 1].map((x) => expect.closeTo(x, 12)),
    );
  });

  it('makes a categorical axis for strings, booleans, null and lists, in natural order', () => {
    const a = makeAxis('config', 'opt', ['sgd', 'adam', 'sgd', 'adam10', 'adam2']);
    expect(a?.type).toBe('categorical');
    if (a?.type !== 'categorical') throw new Error('categorical');
    expect(a.categories).toEqual(['adam', 'adam2', 'adam10', 'sgd']);
    expect([...a.index]).toEqual([3, 0, 3, 2, 1]);
    expect([...a.positions]).toEqual([1, 0, 1, 2 / 3, 1 / 3]);
    // Mixed numbers and non-numbers, null, booleans and lists are categories too (labelled as JSON).
    const m = makeAxis('config', 'x', [1, null, true, [2, 4], 'a']);
    expect(m?.type).toBe('categorical');
    if (m?.type !== 'categorical') throw new Error('categorical');
    expect(new Set(m.categories)).toEqual(new Set(['1', 'null', 'true', '[2,4]', 'a']));
    expect(categoryLabel(false)).toBe('false');
    // A non-finite number makes the axis categorical rather than breaking the scale.
    expect(makeAxis('metric', 'loss', [1, Number.NaN, 2])?.type).toBe('categorical');
  });

  it('gives no axis where every run has the same value', () => {
    expect(makeAxis('config', 'a', [3, 3, 3])).toBeNull();
    expect(makeAxis('config', 'b', ['x', 'x'])).toBeNull();
  });

  it('extracts config, summary and metric axes from a comparison, flat ones left out', () => {
    const c = compareRuns([
      run('a', 'k', { lr: 0.1, opt: 'adam', same: 2 }, { loss: 0.5, flat: 1 }, { acc: 0.6, data: 'x' }),
      run('b', 'k', { lr: 0.2, opt: 'sgd', same: 2 }, { loss: 0.4, flat: 1 }, { acc: 0.7, data: 'y' }),
      run('c', 'k', { lr: 0.3, opt: 'adam', same: 2 }, { loss: 0.3, flat: 1 }, { acc: 0.65, data: 'x' }),
    ]);
    const axes = comparisonAxes(c);
    expect(axes.map((a) => [a.id, a.type])).toEqual([
      ['config:lr', 'numeric'],
      ['config:opt', 'categorical'],
      ['summary:acc', 'numeric'],
      ['summary:data', 'categorical'],
      ['metric:loss', 'numeric'],
    ]);
    // Defaults: the config knobs and the summary figures (metrics only without summaries).
    expect(defaultAxisIds(axes)).toEqual(['config:lr', 'config:opt', 'summary:acc', 'summary:data']);
    expect(defaultAxisIds(axes, 3)).toEqual(['config:lr', 'config:opt', 'summary:acc']);
  });

  it('brushes filter runs: a band on a numeric axis and one on a categorical axis intersect', () => {
    const lr = makeAxis('config', 'lr', [0, 1, 2, 3, 4])!;
    const opt = makeAxis('config', 'opt', ['a', 'b', 'a', 'b', 'a'])!;
    // lr in [1, 3] → runs 1, 2, 3
    expect([...brushMask([lr, opt], [{ axisId: lr.id, lo: 0.25, hi: 0.75 }], 5)]).toEqual([0, 1, 1, 1, 0]);
    // and opt = b (position 1) → runs 1, 3
    const both = brushMask(
      [lr, opt],
      [
        { axisId: lr.id, lo: 0.25, hi: 0.75 },
        { axisId: opt.id, lo: 0.6, hi: 1 },
      ],
      5,
    );
    expect([...both]).toEqual([0, 1, 0, 1, 0]);
    // A brush on an axis not shown is ignored; no brushes keep every run.
    expect([...brushMask([opt], [{ axisId: lr.id, lo: 0, hi: 0.1 }], 5)]).toEqual([1, 1, 1, 1, 1]);
    expect(brushExtent(lr, { axisId: lr.id, lo: 0.25, hi: 0.75 })).toEqual({ type: 'range', lo: 1, hi: 3 });
    expect(brushExtent(opt, { axisId: opt.id, lo: 0.6, hi: 1 })).toEqual({
      type: 'categories',
      categories: ['b'],
    });
  });

  it('ranks the best runs by a numeric axis in either direction, within a mask', () => {
    const acc = makeAxis('summary', 'acc', [0.5, 0.9, 0.7, 0.9, 0.1]) as NumericAxis;
    expect(bestRuns(acc, 3, true)).toEqual([1, 3, 2]);
    expect(bestRuns(acc, 2, false)).toEqual([4, 0]);
    expect(bestRuns(acc, 2, true, Uint8Array.from([1, 0, 1, 1, 1]))).toEqual([3, 2]);
    expect(lowerIsBetter('val_loss')).toBe(true);
    expect(lowerIsBetter('test_perplexity')).toBe(true);
    expect(lowerIsBetter('quantum_test_acc')).toBe(false);
  });
});

describe('Store.compareRows (the batched read behind compareRuns)', () => {
  it('gives what getDetail gives for a comparison, in the asked order, across 500-id chunks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qlab-compare-rows-'));
    try {
      const store = Store.open(join(dir, 'lab.sqlite'));
      const ids = Array.from(
        { length: 1_203 },
        (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      );
      store.db.transaction(() => {
        ids.forEach((id, i) => {
          store.insertRun({
            id,
            kind: i % 2 ? 'qhead' : 'qdllm',
            name: `r${i}`,
            config: { lr: i / 10, nested: { list: [i, 'x'] } },
            seed: i,
            createdAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
            codeVersion: 'v',
            tags: i % 3 ? ['b', 'a'] : [],
          });
          if (i % 4)
            store.addMetrics(
              id,
              ['z', 'loss'].flatMap((key, k) =>
                [0, 1].map((step) => ({ key, step, value: i + k + step, wallTime: 0 })),
              ),
            );
        });
      })();
      // Reversed, with an unknown id in the middle: order kept, the unknown one undefined.
      const asked = [...ids].reverse();
      asked.splice(600, 0, '00000000-0000-4000-8000-999999999999');
      const rows = store.compareRows(asked);
      expect(rows).toHaveLength(asked.length);
      expect(rows[600]).toBeUndefined();
      asked.forEach((id, k) => {
        if (k === 600) return;
        const d = store.getDetail(id)!;
        expect(rows[k], id).toEqual({ ...comparedRun(d), config: d.config, metrics: d.metrics });
      });
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
