// RunsState over windows (LabApi.queryRuns, served here by the JS reference in reference-query.ts): the
// first screen asks for one window, scrolling asks for the windows it shows, a new query starts over, groups
// are sections with counts that fold, select all takes every matching id, and live events patch or re-read.
import { describe, expect, it } from 'vitest';
import {
  RunsState,
  PAGE_SIZE,
  PREFETCH_ROWS,
  REFRESH_DEBOUNCE_MS,
} from '../../../renderer/src/state/runs.svelte';
import { FakeLabApi, makeRun } from './fake-api';
import type { RunSummary } from '../../../core/api/lab-api';

const at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

function lab(n: number): FakeLabApi {
  const api = new FakeLabApi();
  api.runs = Array.from({ length: n }, (_, i) =>
    makeRun({
      name: `run-${i}`,
      kind: i % 2 ? 'qhead' : 'vqc-fit',
      status: 'succeeded',
      createdAt: at(i),
      summary: { score: i % 7 },
      tags: i % 3 === 0 ? ['three'] : i % 5 === 0 ? ['five', 'three'] : [],
    }),
  );
  return api;
}

const ids = (s: RunsState) =>
  s.allRows().map((r) => (r.kind === 'run' ? (r.run?.id ?? 'loading') : `group:${r.label}`));
const queries = (api: FakeLabApi) => api.calls.filter((c) => c.method === 'queryRuns');

describe('RunsState windows', () => {
  it('asks for one window first, then the windows the scroll shows, newest first', async () => {
    const api = lab(350);
    const s = new RunsState(api);
    await s.load();
    // The first screen's window alone, then the filters' choices (and the queue, from listRuns).
    expect(queries(api).map((c) => c.arg)).toEqual([
      { sort: 'created', dir: 'desc', offset: 0, limit: PAGE_SIZE },
      { limit: 0, withFacets: true },
    ]);
    expect(s.total).toBe(350);
    expect(s.all).toBe(350);
    expect(s.rowCount).toBe(350);
    const newest = [...api.runs].reverse();
    expect(s.rowAt(0)).toMatchObject({ kind: 'run', run: { id: newest[0].id } });
    expect(s.rowAt(250)).toEqual({ kind: 'run', run: undefined, depth: 0 });
    // Rows 260–270, and PREFETCH_ROWS either side (200–330), lie in the windows at 200, 250 and 300: one
    // request each.
    s.ensureRows(260, 270);
    s.ensureRows(260, 270); // already on their way: not asked twice
    await tick();
    expect(PREFETCH_ROWS).toBe(60);
    expect(
      queries(api)
        .slice(2)
        .map((c) => (c.arg as { offset: number }).offset),
    ).toEqual([200, 250, 300]);
    expect((s.rowAt(250) as { run: RunSummary }).run.id).toBe(newest[250].id);
    expect(s.rowAt(150)).toMatchObject({ run: undefined });
    // A new run re-reads the first window (with the count) and the windows in view (200–349), not every
    // window loaded (those at 50–199 are dropped and read again if scrolled back to).
    s.ensureRows(100, 100); // loads the windows at 50, 100 and 150
    await tick();
    s.ensureRows(300, 310); // then the view moves on to those at 200, 250 and 300
    const newer = makeRun({ createdAt: at(10_000), status: 'succeeded' });
    api.runs.push(newer);
    const before = queries(api).length;
    s.applyEvent({ type: 'run-created', run: newer });
    await tick(REFRESH_DEBOUNCE_MS + 30);
    const reread = queries(api)
      .slice(before)
      .map((c) =>
        (c.arg as { offset?: number; withFacets?: boolean }).withFacets
          ? 'facets'
          : (c.arg as { offset: number }).offset,
      );
    expect(reread.sort()).toEqual([0, 200, 250, 300, 'facets'].sort());
    expect(s.total).toBe(351);
    expect(s.rowAt(0)).toMatchObject({ run: { id: newer.id } });
    expect(s.kinds).toEqual(['qhead', 'vqc-fit']);
    expect(s.tags).toEqual(['five', 'three']);
  });

  it('asks again on a new filter, search or sort, and the lab sorts', async () => {
    const api = lab(60);
    const s = new RunsState(api);
    await s.load();
    s.filter.kind = 'qhead';
    s.search = 'UN-5';
    await s.load();
    expect(queries(api).at(-2)!.arg).toMatchObject({ kind: 'qhead', search: 'UN-5' });
    // qhead runs are the odd ones: run-5, 51, 53, 55, 57, 59, newest first (no id holds 'un-').
    expect(s.allRows().map((r) => (r.kind === 'run' ? r.run!.name : ''))).toEqual([
      'run-59',
      'run-57',
      'run-55',
      'run-53',
      'run-51',
      'run-5',
    ]);
    expect(s.total).toBe(6);
    expect(s.all).toBe(60);
    s.sortBy('summary:score');
    expect(s.sortDir).toBe('desc');
    await s.load();
    // scores (i % 7): 59→3, 57→1, 55→6, 53→4, 51→2, 5→5
    expect(s.allRows().map((r) => (r.kind === 'run' ? r.run!.name : ''))).toEqual([
      'run-55',
      'run-5',
      'run-53',
      'run-59',
      'run-51',
      'run-57',
    ]);
  });

  it('selects every matching run, not just the loaded ones', async () => {
    const api = lab(250);
    const s = new RunsState(api);
    await s.load();
    s.filter.tag = 'three';
    await s.load();
    await s.selectAll(true);
    const want = api.runs.filter((r) => r.tags.includes('three')).length;
    expect(want).toBeGreaterThan(PAGE_SIZE);
    expect(s.selectedIds).toHaveLength(want);
    expect(s.allSelected).toBe(true);
    s.toggle(s.selectedIds[0], false);
    expect(s.allSelected).toBe(false);
    s.filter.tag = '';
    expect(s.allSelected).toBe(false);
    await s.selectAll(false);
    expect(s.selectedIds).toHaveLength(0);
  });

  it('keeps select all ticked when the new filter’s load finishes after it', async () => {
    // The user picks a tag and ticks "select all" before the table for that tag has arrived: the load
    // that started first finishes last, and must not untick a selection made for its own query (it did,
    // ~30 ms later in the browser, so a second click re-ticked instead of clearing; CI's e2e caught it).
    const api = lab(60);
    const s = new RunsState(api);
    await s.load();
    s.filter.tag = 'five';
    // The load's first request is held until select all has answered.
    const plain = api.queryRuns.bind(api);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    api.queryRuns = async (req) => {
      api.queryRuns = plain;
      await gate;
      return plain(req);
    };
    const loading = s.load();
    await s.selectAll(true);
    expect(s.allSelected).toBe(true);
    open();
    await loading;
    expect(s.loadedKey).toBe(s.queryKey);
    expect(s.allSelected).toBe(true);
    await s.selectAll(false);
    expect(s.selectedIds).toHaveLength(0);
    // A load for another query still drops it (and allSelected never reads another query's ids).
    await s.selectAll(true);
    s.filter.tag = 'three';
    await s.load();
    expect(s.allSelected).toBe(false);
  });

  it('groups by kind, tag and sweep into sections with counts that fold', async () => {
    const api = lab(40);
    const parent = makeRun({ name: 'sweep', createdAt: at(100), childCount: 2, status: 'succeeded' });
    api.runs.push(parent);
    const s = new RunsState(api);
    await s.load();
    s.groupBy = 'kind';
    await s.load();
    expect(s.sections.map((x) => [x.label, x.count])).toEqual([
      ['qhead', 20],
      ['vqc-fit', 21],
    ]);
    expect(s.rowCount).toBe(43);
    expect(s.rowAt(0)).toMatchObject({ kind: 'group', label: 'qhead', count: 20, collapsed: false });
    expect(s.rowAt(21)).toMatchObject({ kind: 'group', label: 'vqc-fit' });
    s.toggleGroup('qhead');
    expect(s.rowCount).toBe(23);
    expect(s.rowAt(1)).toMatchObject({ kind: 'group', label: 'vqc-fit', collapsed: false });
    s.toggleGroup('qhead');
    expect(s.rowCount).toBe(43);

    // A run with two tags is in both groups; untagged runs have their own.
    s.groupBy = 'tag';
    await s.load();
    const count = (t: string) =>
      api.runs.filter((r) => (t ? r.tags.includes(t) : r.tags.length === 0)).length;
    expect(s.sections.map((x) => [x.label, x.count])).toEqual([
      ['five', count('five')],
      ['three', count('three')],
      ['untagged', count('')],
    ]);
    expect(ids(s).filter((x) => x.startsWith('group:'))).toEqual([
      'group:five',
      'group:three',
      'group:untagged',
    ]);
    expect(ids(s)).not.toContain('loading');

    // One section per sweep, headed by its parent run with its points' count, the points as its runs; then
    // the single runs.
    api.runs.push(
      makeRun({ parentId: parent.id, name: 'p0', createdAt: at(101) }),
      makeRun({ parentId: parent.id, name: 'p1', createdAt: at(102) }),
    );
    s.groupBy = 'sweep';
    await s.load();
    expect(s.sections.map((x) => [x.value, x.label, x.count, x.run?.id])).toEqual([
      [parent.id, 'sweep', 2, parent.id],
      ['single', 'single runs', 40, undefined],
    ]);
    // the sweep is one matching top-level run, its points are not
    expect(s.total).toBe(41);
    await s.ensureRows(0, 10);
    expect(s.rowAt(0)).toMatchObject({ kind: 'group', value: parent.id, count: 2, run: { id: parent.id } });
    expect(
      s
        .allRows()
        .slice(0, 4)
        .map((r) => (r.kind === 'run' ? [r.run!.name, r.depth] : r.label)),
    ).toEqual(['sweep', ['p1', 0], ['p0', 0], 'single runs']);
    s.toggleGroup(parent.id);
    expect(s.rowAt(1)).toMatchObject({ kind: 'group', value: 'single' });
  });

  it('patches live updates in place and re-reads for a new run or a changed status', async () => {
    const api = lab(5);
    const s = new RunsState(api);
    await s.load();
    const first = s.runs[0];
    expect(s.applyEvent({ type: 'run-updated', run: { ...first, name: 'renamed' } })).toBe(true);
    expect(s.runs[0].name).toBe('renamed');
    const before = queries(api).length;
    await tick(REFRESH_DEBOUNCE_MS + 30);
    expect(queries(api).length).toBe(before); // a rename moves nothing: no re-read
    const c = makeRun({ createdAt: at(50), status: 'queued' });
    api.runs.push(c);
    s.applyEvent({ type: 'run-created', run: c });
    s.applyEvent({ type: 'run-updated', run: c }); // a burst: one re-read
    await tick(REFRESH_DEBOUNCE_MS + 30);
    expect(queries(api).length).toBe(before + 2); // the window and the filters' choices
    expect(s.runs[0].id).toBe(c.id);
    expect([...s.queuePlace]).toEqual([[c.id, 1]]);
    expect(s.hasActive).toBe(true);
    expect(s.applyEvent({ type: 'metrics', runId: c.id, points: [] })).toBe(false);
  });

  it('reports a failed read and keeps what it shows', async () => {
    const api = lab(3);
    const s = new RunsState(api);
    await s.load();
    api.queryRuns = async () => {
      throw new Error('server down');
    };
    await s.load();
    expect(s.error).toBe('server down');
    expect(s.runs).toHaveLength(3);
  });
});
