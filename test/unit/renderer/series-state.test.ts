import { describe, expect, it } from 'vitest';
import { capSeries, SeriesState } from '../../../renderer/src/state/series.svelte';
import { FakeLabApi } from './fake-api';

const RUN = '00000000-0000-4000-8000-000000000001';

describe('SeriesState', () => {
  it('appends live points per key, in step order, ignoring repeats and other runs', () => {
    const s = new SeriesState(new FakeLabApi(), RUN);
    s.applyEvent({
      type: 'metrics',
      runId: RUN,
      points: [
        { key: 'loss', step: 1, value: 0.9 },
        { key: 'loss', step: 0, value: 1.0 },
        { key: 'acc', step: 0, value: 0.5 },
      ],
    });
    s.applyEvent({ type: 'metrics', runId: 'other', points: [{ key: 'loss', step: 2, value: 9 }] });
    s.append([
      { key: 'loss', step: 1, value: 123 }, // already have step 1
      { key: 'loss', step: 2, value: 0.8 },
    ]);
    const loss = s.series.get('loss')!;
    expect(loss.steps).toEqual([0, 1, 2]);
    expect(loss.last).toEqual([1.0, 0.9, 0.8]);
    expect(loss.total).toBe(3);
    expect(s.keys).toEqual(['acc', 'loss']);
  });

  it('caps points by merging neighbours, keeping the extremes and the latest value', () => {
    const cap = 16;
    const s = new SeriesState(new FakeLabApi(), RUN, cap);
    const values: number[] = [];
    for (let step = 0; step < 1000; step++) {
      const v = Math.sin(step / 7) * (1 + step / 100);
      values.push(v);
      s.append([{ key: 'x', step, value: v }]);
      const cur = s.series.get('x')!;
      expect(cur.steps.length).toBeLessThanOrEqual(cap);
    }
    const x = s.series.get('x')!;
    expect(x.total).toBe(1000);
    expect(x.steps[x.steps.length - 1]).toBe(999);
    expect(x.last[x.last.length - 1]).toBe(values[999]);
    expect(Math.min(...x.min)).toBe(Math.min(...values));
    expect(Math.max(...x.max)).toBe(Math.max(...values));
    for (let i = 1; i < x.steps.length; i++) expect(x.steps[i]).toBeGreaterThan(x.steps[i - 1]);
    // Each bucket's min/max bound its last value.
    for (let i = 0; i < x.steps.length; i++) {
      expect(x.min[i]).toBeLessThanOrEqual(x.last[i]);
      expect(x.max[i]).toBeGreaterThanOrEqual(x.last[i]);
    }
  });

  it('capSeries leaves short curves alone and halves long ones', () => {
    const short = capSeries(
      { key: 'k', total: 3, steps: [0, 1, 2], last: [1, 2, 3], min: [1, 2, 3], max: [1, 2, 3] },
      4,
    );
    expect(short.steps).toEqual([0, 1, 2]);
    const long = capSeries(
      {
        key: 'k',
        total: 5,
        steps: [0, 1, 2, 3, 4],
        last: [5, 1, 4, 2, 3],
        min: [5, 1, 4, 2, 3],
        max: [5, 1, 4, 2, 3],
      },
      4,
    );
    expect(long.steps).toEqual([1, 3, 4]);
    expect(long.last).toEqual([1, 2, 3]);
    expect(long.min).toEqual([1, 2, 3]);
    expect(long.max).toEqual([5, 4, 3]);
  });

  it('load replaces with the server series and keeps live points newer than it', async () => {
    const api = new FakeLabApi();
    api.points.set(`${RUN}/loss`, [
      { step: 0, value: 3 },
      { step: 1, value: 2 },
    ]);
    const s = new SeriesState(api, RUN);
    s.append([
      { key: 'loss', step: 1, value: 2 },
      { key: 'loss', step: 2, value: 1.5 },
      { key: 'loss', step: 3, value: 1.2 },
    ]);
    await s.load(['loss']);
    const loss = s.series.get('loss')!;
    expect(loss.steps).toEqual([0, 1, 2, 3]);
    expect(loss.last).toEqual([3, 2, 1.5, 1.2]);
    expect(loss.total).toBe(4);
    const req = api.calls.find((c) => c.method === 'getSeries')!.arg as { maxPoints: number };
    expect(req.maxPoints).toBeLessThanOrEqual(s.maxPoints);
  });

  it('refuses a cap below two points', () => {
    expect(() => new SeriesState(new FakeLabApi(), RUN, 1)).toThrow(/maxPoints/);
  });
});
