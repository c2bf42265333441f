import { describe, expect, it } from 'vitest';
import { RunsState } from '../../../renderer/src/state/runs.svelte';
import { FakeLabApi, makeRun } from './fake-api';

describe('RunsState', () => {
  it('loads newest first and applies created/updated events', async () => {
    const api = new FakeLabApi();
    const a = makeRun({ createdAt: '2026-01-01T00:00:01.000Z', status: 'succeeded' });
    const b = makeRun({ createdAt: '2026-01-01T00:00:02.000Z', status: 'failed' });
    api.runs = [a, b];
    const s = new RunsState(api);
    await s.load();
    expect(s.runs.map((r) => r.id)).toEqual([b.id, a.id]);
    expect(s.hasActive).toBe(false);

    const c = makeRun({ createdAt: '2026-01-01T00:00:03.000Z', status: 'queued' });
    expect(s.applyEvent({ type: 'run-created', run: c })).toBe(true);
    expect(s.runs.map((r) => r.id)).toEqual([c.id, b.id, a.id]);

    const before = s.runs;
    s.applyEvent({ type: 'run-updated', run: { ...c, status: 'running', progress: 0.4 } });
    expect(s.runs).not.toBe(before); // replaced, not mutated: $state.raw consumers see the change
    expect(s.runs[0]).toMatchObject({ id: c.id, status: 'running', progress: 0.4 });
    expect(s.runs).toHaveLength(3);

    // An update for a run this client never saw inserts it.
    const d = makeRun({ createdAt: '2026-01-01T00:00:00.500Z', status: 'succeeded' });
    s.applyEvent({ type: 'run-updated', run: d });
    expect(s.runs.map((r) => r.id)).toEqual([c.id, b.id, a.id, d.id]);

    expect(s.hasActive).toBe(true);
    s.applyEvent({ type: 'run-updated', run: { ...c, status: 'succeeded', progress: 1 } });
    expect(s.hasActive).toBe(false);
    expect(s.applyEvent({ type: 'metrics', runId: c.id, points: [] })).toBe(false);
    expect(s.runs).toHaveLength(4);
  });

  it('filters by kind, status and tag', async () => {
    const api = new FakeLabApi();
    api.runs = [
      makeRun({ kind: 'vqc-fit', status: 'succeeded', tags: ['x'] }),
      makeRun({ kind: 'sim-bench', status: 'failed', tags: ['x', 'y'] }),
      makeRun({ kind: 'vqc-fit', status: 'failed' }),
    ];
    const s = new RunsState(api);
    await s.load();
    expect(s.kinds).toEqual(['sim-bench', 'vqc-fit']);
    expect(s.tags).toEqual(['x', 'y']);
    s.filter.kind = 'vqc-fit';
    expect(s.visible).toHaveLength(2);
    s.filter.status = 'failed';
    expect(s.visible.map((r) => r.id)).toEqual([api.runs[2].id]);
    s.filter = { kind: '', status: '', tag: 'x' };
    expect(s.visible).toHaveLength(2);
    s.filter.tag = 'y';
    expect(s.visible.map((r) => r.kind)).toEqual(['sim-bench']);
  });

  it('keeps the selection in table order and reports load errors', async () => {
    const api = new FakeLabApi();
    const older = makeRun({ createdAt: '2026-01-01T00:00:01.000Z' });
    const newer = makeRun({ createdAt: '2026-01-01T00:00:02.000Z' });
    api.runs = [older, newer];
    const s = new RunsState(api);
    await s.load();
    s.toggle(older.id);
    s.toggle(newer.id, true);
    expect(s.selectedIds).toEqual([newer.id, older.id]);
    s.toggle(newer.id);
    expect(s.selectedIds).toEqual([older.id]);

    api.listRuns = async () => {
      throw new Error('server down');
    };
    await s.load();
    expect(s.error).toBe('server down');
    expect(s.runs).toHaveLength(2);
  });
});
