// Child runs in the renderer's state: the runs table shows children under an expanded parent and keeps them
// live; the run page lists a parent's children, follows their events and picks children to compare.
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../../core/api/lab-api';
import { RunPageState } from '../../../renderer/src/state/run-page.svelte';
import { RunsState } from '../../../renderer/src/state/runs.svelte';
import { FakeLabApi, makeRun } from './fake-api';

function sweep(api: FakeLabApi): { parent: RunSummary; kids: RunSummary[]; other: RunSummary } {
  const parent = makeRun({ createdAt: '2026-01-01T00:00:01.000Z', status: 'running', childCount: 2 });
  const other = makeRun({ createdAt: '2026-01-01T00:00:05.000Z', status: 'succeeded' });
  // Stored newest first on purpose: children must come out oldest first, as the sweep made them.
  const kids = [
    makeRun({ createdAt: '2026-01-01T00:00:03.000Z', parentId: parent.id, name: 'p1', status: 'running' }),
    makeRun({ createdAt: '2026-01-01T00:00:02.000Z', parentId: parent.id, name: 'p0', status: 'succeeded' }),
  ];
  api.runs = [parent, other, ...kids];
  return { parent, kids, other };
}

/** The table's run rows (no group headers without grouping). */
function runRows(s: RunsState): { run: RunSummary; depth: 0 | 1 }[] {
  return s.allRows().flatMap((r) => (r.kind === 'run' && r.run ? [{ run: r.run, depth: r.depth }] : []));
}

describe('RunsState with child runs', () => {
  it('lists top-level runs, and a parent’s children under it once expanded', async () => {
    const api = new FakeLabApi();
    const { parent, kids, other } = sweep(api);
    const s = new RunsState(api);
    await s.load();
    expect(runRows(s).map((r) => [r.run.id, r.depth])).toEqual([
      [other.id, 0],
      [parent.id, 0],
    ]);
    await s.toggleExpanded(parent.id);
    expect(api.calls.at(-1)).toEqual({ method: 'listRuns', arg: { parentId: parent.id, limit: 10_000 } });
    expect(runRows(s).map((r) => [r.run.name, r.depth])).toEqual([
      ['', 0],
      ['', 0],
      ['p0', 1],
      ['p1', 1],
    ]);
    expect(runRows(s)[2].run.id).toBe(kids[1].id);
    // Collapsing hides them without forgetting them; expanding again does not re-fetch.
    await s.toggleExpanded(parent.id);
    expect(s.allRows()).toHaveLength(2);
    const calls = api.calls.length;
    await s.toggleExpanded(parent.id, true);
    expect(api.calls.length).toBe(calls);
    expect(s.allRows()).toHaveLength(4);
    // A filter that hides the parent hides its children too.
    s.filter.status = 'succeeded';
    await s.load();
    expect(runRows(s).map((r) => r.run.id)).toEqual([other.id]);
  });

  it('keeps child events under their parent, never as top-level rows', async () => {
    const api = new FakeLabApi();
    const { parent, kids } = sweep(api);
    const s = new RunsState(api);
    await s.load();
    // Not expanded yet: a child's event changes nothing.
    const p2 = makeRun({ createdAt: '2026-01-01T00:00:04.000Z', parentId: parent.id, name: 'p2' });
    expect(s.applyEvent({ type: 'run-created', run: p2 })).toBe(false);
    expect(s.runs).toHaveLength(2);
    api.runs.push(p2);
    await s.toggleExpanded(parent.id);
    expect(s.childrenOf(parent.id).map((c) => c.name)).toEqual(['p0', 'p1', 'p2']);
    const p3 = makeRun({ createdAt: '2026-01-01T00:00:06.000Z', parentId: parent.id, name: 'p3' });
    expect(s.applyEvent({ type: 'run-created', run: p3 })).toBe(true);
    s.applyEvent({ type: 'run-updated', run: { ...kids[0], status: 'cancelled' } });
    expect(s.childrenOf(parent.id).map((c) => [c.name, c.status])).toEqual([
      ['p0', 'succeeded'],
      ['p1', 'cancelled'],
      ['p2', 'queued'],
      ['p3', 'queued'],
    ]);
    expect(s.runs.map((r) => r.id)).not.toContain(p3.id);
    // The parent's own update carries the new child count.
    s.applyEvent({ type: 'run-updated', run: { ...parent, childCount: 4 } });
    expect(s.runs.find((r) => r.id === parent.id)?.childCount).toBe(4);
  });

  it('selects children for compare in table order', async () => {
    const api = new FakeLabApi();
    const { parent, kids, other } = sweep(api);
    const s = new RunsState(api);
    await s.load();
    await s.toggleExpanded(parent.id);
    s.toggle(kids[0].id);
    s.toggle(other.id);
    s.toggle(kids[1].id);
    expect(s.selectedIds).toEqual([other.id, kids[1].id, kids[0].id]);
  });

  it('re-fetches the children of expanded parents on load', async () => {
    const api = new FakeLabApi();
    const { parent } = sweep(api);
    const s = new RunsState(api);
    await s.load();
    await s.toggleExpanded(parent.id);
    api.runs.push(makeRun({ createdAt: '2026-01-01T00:00:09.000Z', parentId: parent.id, name: 'late' }));
    await s.load();
    expect(s.childrenOf(parent.id).map((c) => c.name)).toEqual(['p0', 'p1', 'late']);
  });
});

describe('RunPageState with child runs', () => {
  it('lists the children, follows their events and picks children to compare', async () => {
    const api = new FakeLabApi();
    const { parent, kids } = sweep(api);
    const page = new RunPageState(api, parent.id);
    await page.refresh();
    expect(page.detail?.children.map((c) => c.id)).toEqual([kids[0].id, kids[1].id]);

    const p2 = makeRun({ parentId: parent.id, name: 'p2', status: 'running' });
    page.applyEvent({ type: 'run-created', run: p2 });
    page.applyEvent({ type: 'run-updated', run: { ...kids[0], status: 'succeeded', summary: { acc: 0.9 } } });
    // Another run's child is not ours.
    page.applyEvent({ type: 'run-created', run: makeRun({ parentId: crypto.randomUUID() }) });
    expect(page.detail?.children.map((c) => [c.id, c.status])).toEqual([
      [kids[0].id, 'succeeded'],
      [kids[1].id, 'succeeded'],
      [p2.id, 'running'],
    ]);
    expect(page.detail?.children[0].summary).toEqual({ acc: 0.9 });
    // The parent's own update keeps the children.
    page.applyEvent({ type: 'run-updated', run: { ...parent, progress: 0.5 } });
    expect(page.detail?.progress).toBe(0.5);
    expect(page.detail?.children).toHaveLength(3);

    page.toggleChild(p2.id);
    page.toggleChild(kids[0].id);
    expect(page.selectedChildIds).toEqual([kids[0].id, p2.id]);
    page.toggleChild(p2.id);
    expect(page.selectedChildIds).toEqual([kids[0].id]);
  });

  it('shows a child with its parent id and no children', async () => {
    const api = new FakeLabApi();
    const { parent, kids } = sweep(api);
    const page = new RunPageState(api, kids[0].id);
    await page.refresh();
    expect(page.detail).toMatchObject({ parentId: parent.id, children: [] });
  });
});
