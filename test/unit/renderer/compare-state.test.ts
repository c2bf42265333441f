// CompareState over a canned comparison: default axes and pick, brushes filter the runs, a hidden axis drops
// its brush, picks are bounded and fetch only the picked runs' curves, and the page refuses past the limit.
import { describe, expect, it } from 'vitest';
import type { Comparison, LabApi, Series, SeriesRequest } from '../../../core/api/lab-api';
import { MAX_COMPARE_RUNS } from '../../../core/api/lab-api';
import { CompareState, MAX_OVERLAY_RUNS } from '../../../renderer/src/state/compare.svelte';

const N = 12;
const ids = Array.from({ length: N }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

function comparison(): Comparison {
  return {
    runs: ids.map((id, i) => ({
      id,
      kind: 'qhead',
      name: `r${i}`,
      status: 'succeeded',
      createdAt: '2026-01-01T00:00:00.000Z',
      startedAt: null,
      finishedAt: null,
      progress: 1,
      progressMessage: null,
      tags: [],
      summary: { val_loss: i % 5, acc: i / N },
      error: null,
      parentId: null,
      childCount: 0,
      seed: i,
      codeVersion: 't',
    })),
    configDiff: [
      { path: 'lr', values: ids.map((_, i) => i % 4) },
      { path: 'opt', values: ids.map((_, i) => (i % 2 ? 'sgd' : 'adam')) },
    ],
    configSame: [{ path: 'epochs', value: 3 }],
    metrics: [
      { key: 'val_acc', values: ids.map((_, i) => i), count: 10 },
      { key: 'params', values: ids.map(() => 7), count: 1 },
    ],
    summary: [
      { key: 'val_loss', values: ids.map((_, i) => i % 5) },
      { key: 'acc', values: ids.map((_, i) => i / N) },
    ],
    unshared: [],
  };
}

class Api {
  series: SeriesRequest[] = [];
  compareCalls = 0;
  async compareRuns(): Promise<Comparison> {
    this.compareCalls++;
    return comparison();
  }
  async getSeries(req: SeriesRequest): Promise<Series> {
    this.series.push(req);
    return { runId: req.runId, key: req.key, count: 2, points: [{ step: 1, min: 1, max: 1, last: 1 }] };
  }
}

async function open() {
  const api = new Api();
  const cmp = new CompareState(api as unknown as LabApi, ids);
  await cmp.load();
  return { api, cmp };
}

describe('CompareState', () => {
  it('shows the config and summary axes and overlays the best five by the first result figure', async () => {
    const { api, cmp } = await open();
    expect(cmp.error).toBeNull();
    expect(cmp.shownAxes.map((a) => a.id)).toEqual([
      'config:lr',
      'config:opt',
      'summary:val_loss',
      'summary:acc',
    ]);
    expect(cmp.axes.map((a) => a.id)).toContain('metric:val_acc');
    expect(cmp.axes.map((a) => a.id)).not.toContain('metric:params'); // the same in every run
    // val_loss: lower is better → the runs with val_loss 0 (i = 0, 5, 10), then 1 (1, 6), in run order.
    expect(cmp.picked).toEqual([0, 1, 5, 6, 10].map((i) => ids[i]));
    expect(cmp.pickedBy).toMatch(/best 5 by val_loss \(lowest\)/);
    // Only the picked runs' curves of more than one point are fetched.
    expect(api.series.map((s) => s.key)).toEqual(Array(5).fill('val_acc'));
    expect(new Set(api.series.map((s) => s.runId))).toEqual(new Set(cmp.picked));
  });

  it('brushes filter runs, clear, and a hidden axis drops its brush', async () => {
    const { cmp } = await open();
    expect(cmp.activeCount).toBe(N);
    // lr ∈ {2, 3} (positions 2/3 and 1)
    cmp.setBrush('config:lr', { lo: 0.9, hi: 0.6 });
    expect(cmp.brushes).toEqual([{ axisId: 'config:lr', lo: 0.6, hi: 0.9 }]);
    expect(cmp.activeCount).toBe(3); // lr = 2 only: i = 2, 6, 10
    cmp.setBrush('config:lr', { lo: 0.6, hi: 1.5 });
    expect(cmp.activeCount).toBe(6);
    cmp.setBrush('config:opt', { lo: 0.9, hi: 1 }); // sgd: odd i
    expect([...cmp.mask].flatMap((v, i) => (v ? [i] : []))).toEqual([3, 7, 11]);
    cmp.toggleAxis('config:opt', false);
    expect(cmp.brushes.map((b) => b.axisId)).toEqual(['config:lr']);
    expect(cmp.activeCount).toBe(6);
    cmp.toggleAxis('config:opt', true);
    expect(cmp.shownAxisIds).toEqual(['config:lr', 'config:opt', 'summary:val_loss', 'summary:acc']);
    // Picks honour the brushes.
    await cmp.pickFirst(2);
    expect(cmp.picked).toEqual([ids[2], ids[3]]);
    await cmp.pickBest('summary:acc', 2);
    expect(cmp.picked).toEqual([ids[11], ids[10]].sort());
    cmp.clearBrushes();
    expect(cmp.activeCount).toBe(N);
  });

  it(`overlays at most ${MAX_OVERLAY_RUNS} runs`, async () => {
    const { cmp } = await open();
    await cmp.pick(ids);
    expect(cmp.picked).toHaveLength(MAX_OVERLAY_RUNS);
    await cmp.togglePick(ids[11]);
    expect(cmp.picked).toHaveLength(MAX_OVERLAY_RUNS);
    expect(cmp.picked).not.toContain(ids[11]);
    await cmp.togglePick(ids[0]);
    expect(cmp.picked).not.toContain(ids[0]);
  });

  it(`refuses more than ${MAX_COMPARE_RUNS} runs without asking the lab`, async () => {
    const api = new Api();
    const many = Array.from({ length: MAX_COMPARE_RUNS + 1 }, (_, i) => String(i));
    const cmp = new CompareState(api as unknown as LabApi, many);
    await cmp.load();
    expect(cmp.error).toMatch(/1,001 runs were asked; compare takes at most 1,000/);
    expect(api.compareCalls).toBe(0);
  });
});
