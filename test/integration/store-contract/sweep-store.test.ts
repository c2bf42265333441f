// Lab-level sweeps in the RunStore contract, on SQLite and on a real PostgreSQL: the parent and its queued
// children in one transaction; whichever operation ends the last child ends the parent in the same transaction
// (finishRun, endRun, finishChild, interruptStale), also when the last children end at the same moment in
// separate transactions; cancelSweep; and both stores read the same parent result. The PostgreSQL half is
// skipped, with a message, only when no server can be started here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunStore } from '../../../core/lab/run-store';
import { PgRunStore } from '../../../core/lab/store-pg';
import { SqliteRunStore } from '../../../core/lab/store-sqlite';
import { isSkipped, startPostgres, type PgServer } from '../../helpers/servers';

const server = await startPostgres();
const pgServer: PgServer | undefined = isSkipped(server) ? undefined : server;
if (isSkipped(server))
  console.warn(`\n*** sweep store: the PostgreSQL cases are SKIPPED: ${server.skipped} ***\n`);
else process.env.PGPASSWORD = server.password;
const tmp = mkdtempSync(join(tmpdir(), 'qlab-sweep-store-'));
afterAll(() => {
  pgServer?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const engines = [
  {
    name: 'sqlite' as const,
    skip: false,
    open: async (): Promise<RunStore> =>
      SqliteRunStore.open(join(mkdtempSync(join(tmp, 'sq-')), 'lab.sqlite')),
  },
  {
    name: 'postgres' as const,
    skip: pgServer === undefined,
    open: async (): Promise<RunStore> => PgRunStore.open(await pgServer!.createDatabase()),
  },
];
const seen: Record<string, Record<string, unknown>> = { sqlite: {}, postgres: {} };

const T0 = Date.parse('2026-01-02T03:04:05.678Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const result = (summary: Record<string, number | string>) => ({ summary, report: [], backend: {} });

/** A sweep over x = xs (ids base, base+1…), created at `ms`. */
async function addSweep(
  s: RunStore,
  base: number,
  xs: number[],
  ms = base,
): Promise<{ id: string; kids: string[] }> {
  const id = ID(base);
  const kids = xs.map((_, i) => ID(base + 1 + i));
  await s.createSweep(
    {
      id,
      kind: 'k',
      name: `sweep ${base}`,
      config: { x: 0, y: 1 },
      seed: 7,
      createdAt: at(ms),
      codeVersion: 'v1',
      tags: ['grid'],
      sweep: { axes: [{ field: 'x', values: xs }] },
    },
    xs.map((x, i) => ({
      id: kids[i],
      kind: 'k',
      name: `sweep ${base} x=${x}`,
      config: { x, y: 1 },
      seed: 7,
      createdAt: at(ms),
      codeVersion: 'v1',
      tags: [],
    })),
  );
  return { id, kids };
}

for (const engine of engines) {
  describe.skipIf(engine.skip)(`sweeps on ${engine.name}`, () => {
    it('creates the parent running and its children queued in grid order; claims never hand out the parent', async () => {
      const s = await engine.open();
      try {
        const { id, kids } = await addSweep(s, 100, [3, 1, 2]);
        const p = await s.getSummary(id);
        expect(p).toMatchObject({ status: 'running', childCount: 3, parentId: null, tags: ['grid'] });
        expect(await s.sweepSpec(id)).toEqual({ axes: [{ field: 'x', values: [3, 1, 2] }] });
        expect(await s.sweepSpec(kids[0])).toBeNull();
        // the detail carries the axes (clone and save give the sweep); a point's has none
        expect((await s.getDetail(id))!.sweep).toEqual({ axes: [{ field: 'x', values: [3, 1, 2] }] });
        expect('sweep' in (await s.getDetail(kids[0]))!).toBe(false);
        const children = await s.listRuns({ parentId: id });
        expect(children.map((c) => [c.id, c.status])).toEqual(kids.map((k) => [k, 'queued']));
        expect(await s.queuedIds()).toEqual(kids);
        const claimed = [];
        for (let i = 0; i < 4; i++) claimed.push(await s.claimNext(at(1000 + i), { worker: 'w' }));
        expect(claimed).toEqual([...kids, undefined]);
        seen[engine.name].created = {
          p: await s.getDetail(id),
          children: await s.listRuns({ parentId: id }),
        };
      } finally {
        await s.close();
      }
    });

    it('the parent ends with its last child: status, counts, the best point by the validation figure', async () => {
      const s = await engine.open();
      try {
        const { id, kids } = await addSweep(s, 200, [0, 2, 4]);
        for (const k of kids) expect(await s.claimRun(k, at(1000), {})).toBe(true);
        // x=0 has the best test figure, x=4 the best validation figure: the choice must follow validation
        await s.finishChild(kids[0], result({ val_acc: 0.5, test_acc: 0.99 }), 'succeeded', at(2000), null);
        const p = await s.getSummary(id);
        expect(p!.status).toBe('running');
        expect(p!.progress).toBeCloseTo(1 / 3, 12);
        expect(p!.progressMessage).toBe('1 of 3 points ended');
        await s.endRun(kids[1], {
          status: 'failed',
          at: at(2100),
          error: 'boom',
          children: { status: 'failed', error: null },
        });
        expect((await s.getSummary(id))!.status).toBe('running');
        await s.setResult(kids[2], result({ val_acc: 0.8, test_acc: 0.1 }));
        expect(await s.finishRun(kids[2], 'succeeded', at(2200), null)).toBe(true);
        const d = await s.getDetail(id);
        expect(d).toMatchObject({ status: 'failed', finishedAt: at(2200), progress: 1 });
        expect(d!.error).toMatch(/^1 of 3 point\(s\) did not succeed \(1 failed\); first: x=2: boom/);
        expect(d!.summary).toMatchObject({
          points: 3,
          succeeded: 2,
          failed: 1,
          best_val_acc: 0.8,
          best_point: 'x=4',
          best_run: kids[2],
        });
        const table = d!.report[0];
        expect(table.type === 'table' && table.rows.map((r) => [r[1], r[2]])).toEqual([
          [0, 'succeeded'],
          [2, 'failed'],
          [4, 'succeeded'],
        ]);
        // a finished parent is never rewritten
        expect(await s.finishRun(id, 'succeeded', at(9999), null)).toBe(false);
        seen[engine.name].ended = d;
      } finally {
        await s.close();
      }
    });

    it('children ending at the same moment in separate transactions end the parent exactly once', async () => {
      const s = await engine.open();
      try {
        const xs = Array.from({ length: 24 }, (_, i) => i);
        const { id, kids } = await addSweep(s, 300, xs);
        for (const k of kids) await s.claimRun(k, at(1000), {});
        await Promise.all(
          kids.map((k, i) => s.finishChild(k, result({ val_acc: i / 100 }), 'succeeded', at(2000 + i), null)),
        );
        const d = await s.getDetail(id);
        expect(d).toMatchObject({ status: 'succeeded', progress: 1, error: null });
        expect(d!.summary).toMatchObject({ points: 24, succeeded: 24, best_run: kids[23] });
      } finally {
        await s.close();
      }
    });

    it('cancelSweep: queued points end at once, running ones are asked; the parent ends cancelled with the last', async () => {
      const s = await engine.open();
      try {
        const { id, kids } = await addSweep(s, 400, [1, 2, 3, 4]);
        await s.claimRun(kids[0], at(1000), {});
        await s.claimRun(kids[1], at(1000), {});
        const r = await s.cancelSweep(id, at(1500));
        expect(r).toEqual({ cancelled: [kids[2], kids[3]], running: [kids[0], kids[1]] });
        expect(await s.cancelRequested(kids)).toEqual(expect.arrayContaining([kids[0], kids[1]]));
        expect((await s.getSummary(id))!.status).toBe('running');
        expect(await s.cancelSweep(kids[0], at(1500))).toBeNull(); // not a sweep
        await s.endRun(kids[0], {
          status: 'cancelled',
          at: at(1600),
          error: null,
          children: { status: 'cancelled', error: null },
        });
        await s.setResult(kids[1], result({ val_acc: 0.3 }));
        await s.finishRun(kids[1], 'succeeded', at(1700), null);
        const d = await s.getDetail(id);
        expect(d).toMatchObject({ status: 'cancelled', error: 'cancelled with 1 of 4 point(s) succeeded' });
        expect(await s.cancelSweep(id, at(1800))).toBeNull(); // already ended
        // a sweep with nothing running ends at once
        const b = await addSweep(s, 450, [1, 2]);
        expect(await s.cancelSweep(b.id, at(1900))).toEqual({ cancelled: b.kids, running: [] });
        expect((await s.getSummary(b.id))!.status).toBe('cancelled');
        seen[engine.name].cancelled = d;
      } finally {
        await s.close();
      }
    });

    it('stale points are judged by their own heartbeat; the sweep parent (no job) never is, and ends with them', async () => {
      const s = await engine.open();
      try {
        const a = await addSweep(s, 500, [1, 2]);
        const b = await addSweep(s, 510, [1]);
        await s.claimRun(a.kids[0], at(1000), {});
        await s.claimRun(a.kids[1], at(1000), {});
        await s.heartbeat(a.kids[1], at(50_000)); // alive
        const gone = await s.interruptStale(at(40_000), at(60_000));
        expect(gone).toEqual([a.kids[0]]);
        expect((await s.getSummary(a.id))!.status).toBe('running');
        expect((await s.getSummary(b.id))!.status).toBe('running'); // queued child, no heartbeat: left alone
        expect(await s.interruptStale(at(70_000), at(80_000))).toEqual([a.kids[1]]);
        const d = await s.getSummary(a.id);
        // the sweep ended with its last point's last heartbeat (50 000), not when the lab noticed (80 000)
        expect(d).toMatchObject({ status: 'failed', finishedAt: at(50_000) });
        expect(d!.error).toMatch(/2 interrupted/);
        expect((await s.getSummary(b.id))!.status).toBe('running');
      } finally {
        await s.close();
      }
    });
  });
}

describe.skipIf(pgServer === undefined)('both stores', () => {
  it('read the same sweeps', () => {
    expect(Object.keys(seen.sqlite).sort()).toEqual(['cancelled', 'created', 'ended']);
    expect(seen.postgres).toEqual(seen.sqlite);
  });
});
