import { describe, expect, it } from 'vitest';
import {
  configKeys,
  durationSeconds,
  extraValue,
  formatSeconds,
  groupRuns,
  headline,
  matchesSearch,
  queuePlaces,
  rowCells,
  sortRunsBy,
} from '../../../renderer/src/lib/runs-table';
import type { RunSummary } from '../../../core/api/lab-api';
import { REFRESH_DEBOUNCE_MS, RunsState } from '../../../renderer/src/state/runs.svelte';
import { FakeLabApi, makeRun } from './fake-api';

describe('runs table', () => {
  it('leads with each kind’s headline figure', () => {
    // qhead/qdllm: comparisonSummary's <model>_test_acc per model, not the dataset or the teacher.
    const qhead = {
      dataset: 'brown-topics',
      embedding_dim: 64,
      quantum_test_acc: 0.61,
      quantum_test_acc_std: 0.02,
      mlp_test_acc: 0.58,
      quantum_params: 114,
    };
    expect(headline(qhead)).toEqual([
      { label: 'quantum acc', value: 0.61 },
      { label: 'mlp acc', value: 0.58 },
    ]);
    // qdllm: the students, not the teacher or the bag-of-words reference that come first in its summary.
    const qdllm = {
      bow_test_acc: 0.9,
      teacher_test_acc: 0.95,
      quantum_test_acc: 0.7,
      mlp_test_acc: 0.8,
      transformer_test_acc: 0.85,
    };
    expect(headline(qdllm).map((h) => h.label)).toEqual([
      'quantum acc',
      'mlp acc',
      'transformer acc',
      'bow acc',
    ]);
    expect(headline({ test_ppl_mean: 42.1, test_ppl_std: 1, params: 9 })).toEqual([
      { label: 'test ppl', value: 42.1 },
    ]);
    expect(headline({ a: 1, b: 2, c: 3, d: 4 }).map((h) => h.label)).toEqual(['a', 'b', 'c']);
  });

  it('sorts by any column with missing values last, searches every word, groups and queues', () => {
    const a = makeRun({
      name: 'alpha',
      createdAt: '2026-01-01T00:00:01.000Z',
      summary: { x: 2 },
      tags: ['t1'],
    });
    const b = makeRun({
      name: 'beta',
      kind: 'qhead',
      createdAt: '2026-01-01T00:00:02.000Z',
      summary: { x: 1 },
    });
    const c = makeRun({ name: 'gamma', createdAt: '2026-01-01T00:00:03.000Z' });
    expect(sortRunsBy([a, b, c], 'summary:x', 'asc').map((r) => r.name)).toEqual(['beta', 'alpha', 'gamma']);
    expect(sortRunsBy([a, b, c], 'summary:x', 'desc').map((r) => r.name)).toEqual(['alpha', 'beta', 'gamma']);
    expect(sortRunsBy([c, a, b], 'name', 'asc').map((r) => r.name)).toEqual(['alpha', 'beta', 'gamma']);
    expect(matchesSearch(b, 'QHEAD bet')).toBe(true);
    expect(matchesSearch(b, 'qhead alpha')).toBe(false);
    expect(groupRuns([a, b, c], 'tag').map((g) => [g.label, g.runs.length])).toEqual([
      ['t1', 1],
      ['untagged', 2],
    ]);
    expect([...queuePlaces([c, b, a])]).toEqual([
      [a.id, 1],
      [b.id, 2],
      [c.id, 3],
    ]);
  });

  it('measures durations', () => {
    const r = makeRun({ startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:02:05.000Z' });
    expect(durationSeconds(r)).toBe(125);
    expect(formatSeconds(125)).toBe('2 min 5 s');
    expect(formatSeconds(null)).toBe('—');
    expect(formatSeconds(3.25)).toBe('3.3 s');
    // An ended run without a finish time stops at its last sign of life, never at now ("828 h 41 min");
    // an interrupted one there even when the lab wrote a finish days later; a running one counts to now.
    const start = '2026-01-01T00:00:00.000Z';
    const now = Date.parse('2026-02-05T12:41:00.000Z');
    const ended = (status: RunSummary['status'], finishedAt: string | null, lastSeenAt: string | null) =>
      durationSeconds(makeRun({ status, startedAt: start, finishedAt, lastSeenAt }), now);
    expect(ended('interrupted', null, '2026-01-01T00:01:40.000Z')).toBe(100);
    expect(ended('interrupted', '2026-01-20T00:00:00.000Z', '2026-01-01T00:01:40.000Z')).toBe(100);
    expect(ended('cancelled', null, null)).toBe(0);
    expect(ended('failed', '2026-01-01T00:00:30.000Z', '2026-01-01T00:01:40.000Z')).toBe(30);
    expect(ended('running', null, '2026-01-01T00:01:40.000Z')).toBe((now - Date.parse(start)) / 1000);
    // The row's cells: formatted once per run object (a live update brings a new one).
    const done = makeRun({
      status: 'interrupted',
      startedAt: start,
      finishedAt: null,
      lastSeenAt: '2026-01-01T00:01:40.000Z',
      progress: 0.426,
    });
    const cells = rowCells(done, now);
    expect(cells.duration).toBe('1 min 40 s');
    expect(cells.percent).toBe(43);
    expect(rowCells(done)).toBe(cells);
  });

  it('RunsState: search, sort, select all shown, group rows, columns', async () => {
    const api = new FakeLabApi();
    api.runs = Array.from({ length: 30 }, (_, i) =>
      makeRun({
        name: `run ${i}`,
        kind: i % 2 ? 'qhead' : 'vqc-fit',
        status: 'succeeded',
        createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
        summary: { score: i },
      }),
    );
    const s = new RunsState(api);
    await s.load();
    const names = () => s.runs.map((r) => r.name);
    s.search = 'QHEAD';
    await s.load();
    expect(s.total).toBe(15);
    expect(names()[0]).toBe('run 29'); // newest first
    s.sortBy('summary:score');
    await s.load();
    expect(names()[0]).toBe('run 29');
    s.sortBy('summary:score');
    await s.load();
    expect(names()[0]).toBe('run 1');
    await s.selectAll(true);
    expect(s.selectedIds).toHaveLength(15);
    expect(s.allSelected).toBe(true);
    s.search = '';
    expect(s.allSelected).toBe(false);
    await s.load();
    s.groupBy = 'kind';
    await s.load();
    const groups = s.allRows().filter((r) => r.kind === 'group');
    expect(groups.map((r) => (r.kind === 'group' ? [r.label, r.count] : ''))).toEqual([
      ['qhead', 15],
      ['vqc-fit', 15],
    ]);
    expect(s.rowCount).toBe(32);
    expect(s.summaryKeys).toEqual(['score']);
    s.toggleColumn('score');
    expect(s.extraColumns).toEqual(['score']);
    s.toggleColumn('score');
    expect(s.extraColumns).toEqual([]);
  });
});

describe('RunsState first screen', () => {
  it('asks for one window of the newest runs, and the queue over all queued runs', async () => {
    const api = new FakeLabApi();
    api.runs = Array.from({ length: 150 }, (_, i) =>
      makeRun({ createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() }),
    );
    const s = new RunsState(api);
    await s.load();
    expect(api.calls.map((c) => c.arg)).toEqual([
      { sort: 'created', dir: 'desc', offset: 0, limit: 50 },
      { status: 'queued', includeChildren: true, limit: 10_000 },
      { limit: 0, withFacets: true },
    ]);
    expect(s.runs).toHaveLength(50);
    expect(s.rowCount).toBe(150);
    // The oldest queued run is next, though its window is not loaded.
    expect(s.queuePlace.get(api.runs[0].id)).toBe(1);
  });
});

describe('queue places', () => {
  it('places queued runs as the scheduler takes them: a sweep’s points too, ties in stored order, live', async () => {
    const api = new FakeLabApi();
    const parent = makeRun({ status: 'running', createdAt: '2026-01-01T00:00:00.000Z', childCount: 2 });
    const p0 = makeRun({ parentId: parent.id, createdAt: '2026-01-01T00:00:01.000Z' });
    const p1 = makeRun({ parentId: parent.id, createdAt: '2026-01-01T00:00:01.000Z' });
    const later = makeRun({ createdAt: '2026-01-01T00:00:02.000Z' });
    // newest first, as the lab lists them: p0 was stored before p1 in the same millisecond
    api.runs = [later, p1, p0, parent];
    const s = new RunsState(api);
    await s.load();
    expect([...s.queuePlace]).toEqual([
      [p0.id, 1],
      [p1.id, 2],
      [later.id, 3],
    ]);
    // A point starts: every place behind it moves up, though the point is no row of the table.
    const started = { ...p0, status: 'running' as const };
    api.runs = [later, p1, started, parent];
    s.applyEvent({ type: 'run-updated', run: started });
    await new Promise((r) => setTimeout(r, REFRESH_DEBOUNCE_MS + 50));
    expect([...s.queuePlace]).toEqual([
      [p1.id, 1],
      [later.id, 2],
    ]);
    s.dispose();
  });
});

describe('config columns', () => {
  it('offers config fields per kind once the chooser asks, shows and sorts by them, and fetches new runs too', async () => {
    const api = new FakeLabApi();
    const a = makeRun({ kind: 'qhead', name: 'a', createdAt: '2026-01-01T00:00:01.000Z' });
    const b = makeRun({ kind: 'qhead', name: 'b', createdAt: '2026-01-01T00:00:02.000Z' });
    const c = makeRun({ kind: 'vqc-fit', name: 'c', createdAt: '2026-01-01T00:00:03.000Z' });
    api.runs = [a, b, c];
    api.configs.set(a.id, { qubits: 8, 'model.ansatz': 'ring' });
    api.configs.set(b.id, { qubits: 4, 'model.ansatz': 'line' });
    api.configs.set(c.id, { layers: 2, fast: true });
    const s = new RunsState(api);
    await s.load();
    expect(s.configKeys).toEqual([]); // nothing fetched before the chooser opens
    expect(api.calls.some((x) => x.method === 'getRunConfigs')).toBe(false);
    await s.loadConfigs();
    expect(s.configKeys).toEqual(['config:layers', 'config:fast', 'config:qubits', 'config:model.ansatz']);
    s.filter = { kind: 'qhead', status: '', tag: '' };
    expect(s.configKeys).toEqual(['config:qubits', 'config:model.ansatz']);
    s.toggleColumn('config:qubits');
    expect(s.extraColumns).toEqual(['config:qubits']);
    expect(extraValue(a, 'config:qubits', s.configs)).toBe(8);
    expect(extraValue(a, 'missing', s.configs)).toBeUndefined();
    await s.load();
    s.sortBy('config:qubits');
    await s.load();
    expect(s.runs.map((r) => r.name)).toEqual(['a', 'b']);
    s.sortBy('config:qubits');
    await s.load();
    expect(s.runs.map((r) => r.name)).toEqual(['b', 'a']);
    // Only the runs not fetched yet are asked for; a run created later is fetched by itself.
    await s.loadConfigs();
    expect(api.calls.filter((x) => x.method === 'getRunConfigs')).toHaveLength(1);
    const d = makeRun({ kind: 'qhead', name: 'd', createdAt: '2026-01-01T00:00:04.000Z' });
    api.configs.set(d.id, { qubits: 6, 'model.ansatz': 'ring' });
    api.runs.push(d);
    s.applyEvent({ type: 'run-created', run: d });
    await new Promise((r) => setTimeout(r, REFRESH_DEBOUNCE_MS + 50));
    expect(api.calls.at(-1)).toEqual({ method: 'getRunConfigs', arg: { ids: [d.id] } });
    expect(extraValue(d, 'config:qubits', s.configs)).toBe(6);
    expect(configKeys([c], s.configs)).toEqual(['config:layers', 'config:fast']);
  });
});
