// The whole LabService on each RunStore: real job processes (the fixture kinds) write through SQLite and through
// a real PostgreSQL server, and a sweep reads back the same on both. On the shared store, a second lab process
// (a worker) runs what a first (a passive hub) queued, and the hub's cancel reaches the worker through the store.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../../core/api/lab-api';
import { EXTRA_KINDS_ENV } from '../../../core/lab/kinds';
import type { RunStore } from '../../../core/lab/run-store';
import { openLab, type LabService } from '../../../core/lab/service';
import { PgRunStore } from '../../../core/lab/store-pg';
import { SqliteRunStore } from '../../../core/lab/store-sqlite';
import { LAB_KINDS_FIXTURE, until } from '../../helpers/lab';
import { isSkipped, startPostgres, type PgServer } from '../../helpers/servers';

const server = await startPostgres();
const pgServer: PgServer | undefined = isSkipped(server) ? undefined : server;
if (isSkipped(server)) {
  console.warn(`\n*** lab on stores: the PostgreSQL cases are SKIPPED: ${server.skipped} ***\n`);
} else {
  process.env.PGPASSWORD = server.password;
}
beforeAll(() => {
  process.env[EXTRA_KINDS_ENV] = LAB_KINDS_FIXTURE;
});
afterAll(() => pgServer?.stop());

/** A sweep's parent and children with ids, times and hosts left out: what must match across stores. */
function shape(d: RunDetail, children: RunDetail[]) {
  const strip = (x: RunDetail) => ({
    kind: x.kind,
    name: x.name,
    status: x.status,
    config: x.config,
    seed: x.seed,
    progress: x.progress,
    summary: x.summary,
    report: x.report,
    metrics: x.metrics,
    error: x.error,
    childCount: x.childCount,
  });
  return { parent: strip(d), children: children.map(strip) };
}
const sweeps: Record<string, unknown> = {};

const engines: { name: string; skip: boolean; store(dir: string): Promise<RunStore> }[] = [
  { name: 'sqlite', skip: false, store: async (dir) => SqliteRunStore.open(join(dir, 'lab.sqlite')) },
  {
    name: 'postgres',
    skip: pgServer === undefined,
    store: async () => PgRunStore.open(await pgServer!.createDatabase()),
  },
];

for (const engine of engines) {
  describe.skipIf(engine.skip)(`the lab on ${engine.name}`, () => {
    let dir = '';
    const labs: LabService[] = [];
    const open = async (
      store: RunStore,
      opts: Parameters<typeof openLab>[0] extends infer O ? Partial<O> : never = {},
    ) => {
      const l = await openLab({ labDir: dir, store, ...opts });
      labs.push(l);
      return l;
    };
    afterEach(async () => {
      for (const l of labs.splice(0)) await l.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const fresh = () => (dir = mkdtempSync(join(tmpdir(), `qlab-on-${engine.name}-`)));

    it('runs a job: metrics, progress, result, artifact and events', async () => {
      fresh();
      const l = await open(await engine.store(dir));
      const events: string[] = [];
      l.onEvent((e) => events.push(e.type));
      const run = await l.createRun({
        kind: 'test-stream',
        config: { steps: 25, perStep: 2, artifact: true },
      });
      const done = await l.waitForRun(run.id);
      expect(done.status).toBe('succeeded');
      const d = await l.getRun(run.id);
      expect(d.metrics.map((m) => [m.key, m.count, m.last])).toEqual([
        ['aux1', 25, 24],
        ['loss', 25, 1 / 25],
      ]);
      expect(d.progress).toBe(1);
      expect(d.artifacts.map((a) => a.name)).toEqual(['steps.txt']);
      expect(readFileSync((await l.artifactFile(run.id, 'steps.txt'))!, 'utf8')).toBe(
        `25 steps, seed ${d.seed}\n`,
      );
      const s = await l.getSeries({ runId: run.id, key: 'loss', maxPoints: 5 });
      expect(s.count).toBe(25);
      expect(s.points.at(-1)).toEqual({ step: 24, min: 1 / 25, max: 1 / 21, last: 1 / 25 });
      expect(events).toContain('metrics');
      expect(events.filter((e) => e === 'run-created').length).toBe(1);
    });

    it('runs a sweep with child runs, the same on every store', async () => {
      fresh();
      const l = await open(await engine.store(dir));
      const parent = await l.createRun({ kind: 'test-sweep', name: 'sweep', config: { steps: 5 }, seed: 40 });
      expect((await l.waitForRun(parent.id)).status).toBe('succeeded');
      const d = await l.getRun(parent.id);
      const children = await Promise.all(d.children.map((c) => l.getRun(c.id)));
      expect(children.length).toBe(3);
      sweeps[engine.name] = shape(d, children);
      const csv = await l.exportRuns({ ids: [parent.id, ...d.children.map((c) => c.id)], format: 'csv' });
      expect(csv.content.split('\n').filter((x) => x.includes(',loss,')).length).toBe(15);
    });

    it('cancel stops a running job; a queued run cancels at once', async () => {
      fresh();
      const l = await open(await engine.store(dir));
      const run = await l.createRun({ kind: 'test-stream', config: { steps: 100_000, delayMs: 5 } });
      const queued = await l.createRun({ kind: 'test-stream', config: { steps: 2 } });
      await until(async () => ((await l.getRun(run.id)).metrics[0]?.count ?? 0) >= 3);
      expect((await l.cancelRun(queued.id)).status).toBe('cancelled');
      const t0 = performance.now();
      expect((await l.cancelRun(run.id)).status).toBe('cancelled');
      expect(performance.now() - t0).toBeLessThan(1500);
    });

    it.skipIf(engine.name !== 'postgres')(
      'a PostgreSQL restart mid-run loses no point and duplicates none; the run succeeds',
      async () => {
        fresh();
        const l = await open(await engine.store(dir));
        const warnings: string[] = [];
        l.warn = (m) => warnings.push(m);
        const run = await l.createRun({ kind: 'test-stream', config: { steps: 400, delayMs: 10 } });
        await until(async () => ((await l.getRun(run.id)).metrics[0]?.count ?? 0) >= 20);
        pgServer!.restart(); // fast shutdown: every connection is dropped, then the server starts again
        const done = await l.waitForRun(run.id);
        expect(done.status, done.error ?? '').toBe('succeeded');
        const d = await l.getRun(run.id);
        expect(d.metrics.find((m) => m.key === 'loss')).toMatchObject({
          count: 400,
          lastStep: 399,
          last: 1 / 400,
        });
        const s = await l.getSeries({ runId: run.id, key: 'loss', maxPoints: 1000 });
        expect(s.points.map((p) => p.step)).toEqual(Array.from({ length: 400 }, (_, i) => i));
      },
    );

    it('a worker lab runs what a passive hub queued; the hub cancels it through the store', async () => {
      fresh();
      const first = await engine.store(dir);
      const hub = await open(first, { schedule: false });
      const a = await hub.createRun({ kind: 'test-stream', config: { steps: 3 } });
      const b = await hub.createRun({ kind: 'test-stream', config: { steps: 100_000, delayMs: 5 } });
      await new Promise((r) => setTimeout(r, 200));
      expect((await hub.getRun(a.id)).status).toBe('queued');
      const second =
        engine.name === 'postgres' ? await PgRunStore.open(first.location) : await engine.store(dir);
      const worker = await open(second, { concurrency: 2 });
      const hubEvents: { type: string; runId?: string }[] = [];
      hub.onEvent((e) => hubEvents.push({ type: e.type, runId: 'runId' in e ? e.runId : undefined }));
      expect((await hub.waitForRun(a.id)).status).toBe('succeeded');
      await until(async () => ((await hub.getRun(b.id)).metrics[0]?.count ?? 0) >= 3);
      const t0 = performance.now();
      expect((await hub.cancelRun(b.id)).status).toBe('cancelled');
      expect(performance.now() - t0).toBeLessThan(1500);
      expect((await worker.getRun(b.id)).status).toBe('cancelled');
      if (engine.name === 'postgres') {
        // the worker's metric batches reached the hub's listeners live (LISTEN/NOTIFY)
        expect(hubEvents.some((e) => e.type === 'metrics' && e.runId === b.id)).toBe(true);
      }
    });
  });
}

describe.skipIf(pgServer === undefined)('a sweep on both stores', () => {
  it('reads the same on SQLite and PostgreSQL', () => {
    expect(sweeps.sqlite).toBeDefined();
    expect(sweeps.postgres).toEqual(sweeps.sqlite);
  });
});
