// A computed order of the runs table (headline, summary, config, a search) is kept while the writes only touch
// what it does not read — a running run's metrics, progress and heartbeats — and read again when a write
// changes a run's membership or sorted value: a new summary, a tag a search finds, a new run, another
// process's write. Every answer is checked against a fresh connection's (which has no cache).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunQuery } from '../../../core/api/lab-api';
import { orderCacheStats } from '../../../core/lab/run-order-cache';
import { queryRuns } from '../../../core/lab/run-query';
import { Store } from '../../../core/lab/store';

let dir = '';
let store: Store;
let active = '';
const NOW = '2026-10-02T00:00:00.000Z';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qlab-order-cache-'));
  store = Store.open(join(dir, 'lab.sqlite'));
  const t0 = Date.parse('2026-10-01T00:00:00.000Z');
  const finish = store.db.prepare(
    `UPDATE runs SET status = 'succeeded', started_at = ?, finished_at = ?, progress = 1, summary = ? WHERE id = ?`,
  );
  store.db.transaction(() => {
    for (let i = 0; i < 400; i++) {
      const id = crypto.randomUUID();
      const at = new Date(t0 + i * 1000).toISOString();
      store.insertRun({
        id,
        kind: 'qhead',
        name: `run ${i}`,
        config: { qubits: 2 + (i % 7) },
        seed: i,
        createdAt: at,
        codeVersion: 't',
        tags: [],
      });
      if (i === 123) {
        active = id;
        store.db.prepare(`UPDATE runs SET status = 'running', started_at = ? WHERE id = ?`).run(at, id);
      } else finish.run(at, at, JSON.stringify({ quantum_test_acc: (i % 97) / 100 }), id);
    }
  })();
});

afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The page from the store's connection (cached) and from a fresh one (never cached): they must agree. */
function page(q: RunQuery): string[] {
  const ids = queryRuns(store.db, q, (id) => store.getSummary(id), NOW).runs.map((r) => r.id);
  const fresh = Store.open(join(dir, 'lab.sqlite'));
  try {
    expect(ids).toEqual(queryRuns(fresh.db, q, (id) => fresh.getSummary(id), NOW).runs.map((r) => r.id));
  } finally {
    fresh.close();
  }
  return ids;
}

function delta<T>(f: () => T): { reads: number; kept: number; value: T } {
  const { reads, kept } = orderCacheStats(store.db);
  const value = f();
  const after = orderCacheStats(store.db);
  return { reads: after.reads - reads, kept: after.kept - kept, value };
}

describe('computed orders survive writes that do not change them', () => {
  const byHeadline: RunQuery = { sort: 'headline', dir: 'desc', limit: 50 };

  it('a running run’s metrics, progress and heartbeat leave a headline order in place', () => {
    expect(delta(() => page(byHeadline)).reads).toBe(1);
    expect(delta(() => page(byHeadline))).toMatchObject({ reads: 0 });
    const before = page(byHeadline);
    const d = delta(() => {
      store.addMetrics(active, [{ key: 'loss', step: 1, value: 0.5, wallTime: 1 }]);
      store.setProgress(active, 0.5, 'epoch 1', NOW);
      store.heartbeat(active, NOW);
      return page(byHeadline);
    });
    expect(d.reads).toBe(0);
    expect(d.kept).toBe(1);
    expect(d.value).toEqual(before);
  });

  it('a summary that changes the sorted value sorts again: the run moves to the top', () => {
    const d = delta(() => {
      store.setResult(active, { quantum_test_acc: 0.999 }, [], {});
      return page(byHeadline);
    });
    expect(d.reads).toBe(1);
    expect(d.value[0]).toBe(active);
  });

  it('a progress write re-sorts a progress order, not a summary-figure order', () => {
    const byProgress: RunQuery = { sort: 'progress', dir: 'asc', limit: 5 };
    const byFigure: RunQuery = { sort: 'summary:quantum_test_acc', dir: 'asc', limit: 5 };
    page(byProgress);
    page(byFigure);
    const d = delta(() => {
      store.setProgress(active, 0.75, 'epoch 2', NOW);
      return [page(byProgress), page(byFigure)];
    });
    expect(d.reads).toBe(1);
    expect(d.kept).toBe(1);
    expect(d.value[0][0]).toBe(active);
  });

  it('a tag a search finds, a new run and a deleted run change a searched order', () => {
    const q: RunQuery = { search: 'needle', sort: 'name', limit: 50 };
    expect(page(q)).toEqual([]);
    const target = page({ sort: 'name', limit: 1 })[0];
    const d = delta(() => {
      store.setTags(target, ['needle']);
      return page(q);
    });
    expect(d.reads).toBe(1);
    expect(d.value).toEqual([target]);
    const id = crypto.randomUUID();
    store.insertRun({
      id,
      kind: 'qhead',
      name: 'another needle',
      config: {},
      seed: 1,
      createdAt: NOW,
      codeVersion: 't',
      tags: [],
    });
    expect([...page(q)].sort()).toEqual([id, target].sort());
    store.db.prepare('DELETE FROM runs WHERE id = ?').run(id);
    expect(page(q)).toEqual([target]);
  });

  it('a write by another connection (another process) is seen', () => {
    page(byHeadline);
    const other = Store.open(join(dir, 'lab.sqlite'));
    const last = page(byHeadline).at(-1)!;
    other.setResult(last, { quantum_test_acc: 1.5 }, [], {});
    other.close();
    expect(page(byHeadline)[0]).toBe(last);
  });

  it('a duration order (it grows with the clock) is read again after any write', () => {
    const q: RunQuery = { sort: 'duration', limit: 5 };
    page(q);
    const d = delta(() => {
      store.heartbeat(active, NOW);
      return page(q);
    });
    expect(d.reads).toBe(1);
  });
});
