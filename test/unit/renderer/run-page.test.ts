import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readSweepFile } from '../../../core/cli/config-file';
import { configFile, plainError, RESYNC_MS, RunPageState } from '../../../renderer/src/state/run-page.svelte';
import { CompareState } from '../../../renderer/src/state/compare.svelte';
import { FakeLabApi, makeRun } from './fake-api';

afterEach(() => {
  vi.useRealTimers();
});

describe('RunPageState', () => {
  it('loads the run and its curves, follows events, and re-fetches once the run ends', async () => {
    const api = new FakeLabApi();
    const run = makeRun({ status: 'running', progress: 0.2 });
    api.runs = [run];
    api.metricKeys.set(run.id, ['loss']);
    api.points.set(`${run.id}/loss`, [{ step: 0, value: 2 }]);
    const page = new RunPageState(api, run.id);
    await page.refresh();
    expect(page.detail?.status).toBe('running');
    expect(page.active).toBe(true);
    expect(page.keys).toEqual(['loss']);

    page.applyEvent({ type: 'metrics', runId: run.id, points: [{ key: 'acc', step: 0, value: 0.5 }] });
    expect(page.keys).toEqual(['acc', 'loss']);
    page.applyEvent({ type: 'run-updated', run: { ...run, id: 'someone-else', status: 'failed' } });
    expect(page.detail?.status).toBe('running');
    page.applyEvent({ type: 'run-updated', run: { ...run, progress: 0.6 } });
    expect(page.detail?.progress).toBe(0.6);

    const getRuns = () => api.calls.filter((c) => c.method === 'getRun').length;
    const before = getRuns();
    api.runs = [{ ...run, status: 'succeeded', progress: 1, summary: { loss: 0.1 } }];
    page.applyEvent({ type: 'run-updated', run: api.runs[0] });
    expect(page.active).toBe(false);
    await vi.waitFor(() => expect(getRuns()).toBe(before + 1));
    await vi.waitFor(() => expect(page.detail?.summary).toEqual({ loss: 0.1 }));
  });

  it('re-syncs on a timer only while the run is active', async () => {
    vi.useFakeTimers();
    const api = new FakeLabApi();
    const run = makeRun({ status: 'running' });
    api.runs = [run];
    const page = new RunPageState(api, run.id);
    await page.refresh();
    page.start();
    const count = () => api.calls.filter((c) => c.method === 'getRun').length;
    await vi.advanceTimersByTimeAsync(RESYNC_MS * 2 + 10);
    expect(count()).toBe(3);
    api.runs = [{ ...run, status: 'cancelled' }];
    await vi.advanceTimersByTimeAsync(RESYNC_MS + 10);
    expect(page.detail?.status).toBe('cancelled');
    await vi.advanceTimersByTimeAsync(RESYNC_MS * 3);
    expect(count()).toBe(4);
    page.stop();
  });

  it('reads the stored log, then appends live lines once (a line written during the read is not doubled)', async () => {
    const api = new FakeLabApi();
    const run = makeRun({ status: 'running' });
    api.runs = [run];
    const at = '2026-12-05T09:00:00.000Z';
    api.logs.set(run.id, [
      { at, level: 'info', message: 'loading data' },
      { at, level: 'warn', message: 'slow step' },
    ]);
    const page = new RunPageState(api, run.id);
    expect(page.logInfo).toBeNull();
    const reading = page.loadLog();
    // Written to the file before the read finished, and announced while it ran: kept once.
    page.applyEvent({ type: 'log', runId: run.id, level: 'warn', message: 'slow step' });
    page.applyEvent({ type: 'log', runId: 'other', level: 'info', message: 'not ours' });
    await reading;
    expect(api.calls.at(-1)).toEqual({ method: 'getRunLog', arg: { runId: run.id, maxLines: 2000 } });
    expect(page.log.map((l) => l.message)).toEqual(['loading data', 'slow step']);
    expect(page.logInfo).toEqual({ truncated: false, bytes: 80 });
    page.applyEvent({ type: 'log', runId: run.id, level: 'info', message: 'epoch 1' });
    expect(page.log.map((l) => l.message)).toEqual(['loading data', 'slow step', 'epoch 1']);
  });

  it('shows a missing run as an error', async () => {
    const page = new RunPageState(new FakeLabApi(), 'nope');
    await page.refresh();
    expect(page.error).toBe('no run nope');
    expect(page.detail).toBeNull();
  });
});

describe('CompareState', () => {
  it('overlays only the metric keys every run has', async () => {
    const api = new FakeLabApi();
    const a = makeRun();
    const b = makeRun();
    api.runs = [a, b];
    api.metricKeys.set(a.id, ['loss', 'acc', 'only-a']);
    api.metricKeys.set(b.id, ['acc', 'loss']);
    api.points.set(`${a.id}/loss`, [{ step: 0, value: 1 }]);
    api.points.set(`${b.id}/loss`, [
      { step: 0, value: 2 },
      { step: 1, value: 1 },
    ]);
    const cmp = new CompareState(api, [a.id, b.id]);
    await cmp.load();
    expect(cmp.error).toBeNull();
    expect(cmp.sharedKeys).toEqual(['acc', 'loss']);
    // Both runs are overlaid (no result figure to rank by: the first few); only curves of two points or
    // more are fetched (loss, not the pointless acc).
    expect(cmp.picked).toEqual([a.id, b.id]);
    expect([a.id, b.id].map((id) => cmp.series.get(id)?.series.get('loss')?.steps.length)).toEqual([1, 2]);
    expect(api.calls.filter((c) => c.method === 'getSeries')).toHaveLength(2);
  });

  it('needs two runs', async () => {
    const cmp = new CompareState(new FakeLabApi(), ['x']);
    await cmp.load();
    expect(cmp.error).toMatch(/at least two/);
  });
});

describe('RunPageState layout', () => {
  it('groups curves into one chart per metric and lists one-point series in a table without fetching them', async () => {
    const api = new FakeLabApi();
    const run = makeRun({ status: 'running' });
    api.runs = [run];
    const keys = [
      'mlp/seed0/loss',
      'quantum/seed0/loss',
      'quantum/seed1/loss',
      'quantum/seed0/test_acc',
      'mlp/seed0/test_acc',
    ];
    api.metricKeys.set(run.id, keys);
    for (const k of keys)
      api.points.set(
        `${run.id}/${k}`,
        k.endsWith('test_acc')
          ? [{ step: 5, value: k.length / 100 }]
          : [0, 1, 2].map((step) => ({ step, value: 1 / (step + 1) })),
      );
    const page = new RunPageState(api, run.id);
    await page.refresh();
    const fetched = api.calls
      .filter((c) => c.method === 'getSeries')
      .map((c) => (c.arg as { key: string }).key);
    expect(fetched.sort()).toEqual(['mlp/seed0/loss', 'quantum/seed0/loss', 'quantum/seed1/loss']);
    expect(page.layout.charts.map((g) => [g.title, g.series.map((s) => s.label)])).toEqual([
      ['*/*/loss', ['mlp/seed0', 'quantum/seed0', 'quantum/seed1']],
    ]);
    expect(page.layout.singles).toEqual({
      columns: ['test_acc'],
      rows: [
        { label: 'mlp/seed0', values: ['mlp/seed0/test_acc'.length / 100] },
        { label: 'quantum/seed0', values: ['quantum/seed0/test_acc'.length / 100] },
      ],
    });

    // A second live point turns a one-point series into a chart.
    page.applyEvent({
      type: 'metrics',
      runId: run.id,
      points: [{ key: 'mlp/seed0/test_acc', step: 6, value: 0.9 }],
    });
    page.applyEvent({
      type: 'metrics',
      runId: run.id,
      points: [{ key: 'mlp/seed0/test_acc', step: 7, value: 0.95 }],
    });
    expect(page.layout.charts.map((g) => g.title)).toEqual(['*/*/loss', '*/seed0/test_acc']);
    expect(page.layout.singles.rows).toEqual([]);
  });
});

describe('run page helpers', () => {
  it('words errors plainly and saves a config file qlab run accepts', () => {
    expect(plainError('LabError: config.qubits: must be at most 24\n    at x (y.ts:1)')).toEqual({
      sentence: 'config.qubits: must be at most 24',
      details: 'at x (y.ts:1)',
    });
    expect(plainError('').sentence).toBe('The run failed without a message.');
    const f = configFile({
      id: 'abcdef123456',
      kind: 'vqc-fit',
      name: 'my run / 2',
      seed: 3,
      tags: ['a'],
      config: { qubits: 3 },
    } as never);
    expect(f.filename).toBe('my-run-2.json');
    expect(JSON.parse(f.content)).toEqual({
      kind: 'vqc-fit',
      name: 'my run / 2',
      seed: 3,
      tags: ['a'],
      config: { qubits: 3 },
    });
  });

  it("saves a sweep's parent as the sweep file qlab sweep takes (base config and axes)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'qlab-sweep-save-'));
    try {
      const axes = [
        { field: 'layers', values: [1, 2] },
        { field: 'seed', values: [1, 2] },
      ];
      const f = configFile({
        id: 'abcdef123456',
        kind: 'vqc-fit',
        name: 'grid',
        seed: 3,
        tags: [],
        config: { qubits: 3 },
        sweep: { axes },
      } as never);
      expect(f.filename).toBe('grid.sweep.json');
      writeFileSync(join(dir, f.filename), f.content);
      const read = readSweepFile(join(dir, f.filename));
      expect(read.axes).toEqual(axes);
      expect(read.run).toMatchObject({ kind: 'vqc-fit', name: 'grid', seed: 3, config: { qubits: 3 } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
