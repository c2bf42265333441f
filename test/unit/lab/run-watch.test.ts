import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LabEvent } from '../../../core/api/lab-api';
import { withRunWatch } from '../../../core/lab/run-watch';
import { FakeLabApi, makeRun } from '../renderer/fake-api';

afterEach(() => vi.useRealTimers());

describe('withRunWatch', () => {
  it('announces runs another process wrote, and changes to them, while someone listens', async () => {
    vi.useFakeTimers();
    const api = new FakeLabApi();
    const old = makeRun({ status: 'succeeded' });
    api.runs = [old];
    const watched = withRunWatch(api, 1000);
    const events: LabEvent[] = [];
    const off = watched.onEvent((e) => events.push(e));
    await vi.advanceTimersByTimeAsync(10);
    expect(events).toEqual([]); // the first read is the baseline
    const fresh = makeRun({ status: 'queued' });
    api.runs = [fresh, old];
    await vi.advanceTimersByTimeAsync(1000);
    expect(events).toEqual([{ type: 'run-created', run: fresh }]);
    api.runs = [{ ...fresh, status: 'running', progress: 0.5 }, old];
    await vi.advanceTimersByTimeAsync(1000);
    expect(events.map((e) => e.type)).toEqual(['run-created', 'run-updated']);
    // Other members are the api's own.
    expect(await watched.listRuns({})).toHaveLength(2);
    off();
    api.runs = [makeRun(), ...api.runs];
    await vi.advanceTimersByTimeAsync(3000);
    expect(events).toHaveLength(2);
  });
});
