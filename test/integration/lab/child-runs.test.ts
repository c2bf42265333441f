// Child runs end to end: the test-sweep fixture kind in real job processes makes one child run per point; the
// service stores, lists, compares and exports them, and ends them with their parent (cancel, kill -9, close).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../../core/lab/store';
import { sweepLoss } from '../../fixtures/lab-kinds';
import { labFixture, RecordingLauncher, ScriptedProcess, until } from '../../helpers/lab';
import { rejection } from '../../helpers/lab-error';

const POINTS = [
  { lr: 0.1, depth: 1 },
  { lr: 0.2, depth: 1 },
  { lr: 0.1, depth: 2 },
];

const lab = labFixture('qlab-children-');

describe('a sweep with child runs', () => {
  it('stores one child per point with its config, seed, metrics and result, listed under the parent', async () => {
    const l = await lab.open();
    const solo = await l.createRun({ kind: 'test-stream', config: { steps: 2 } });
    const parent = await l.createRun({ kind: 'test-sweep', config: { steps: 5 }, seed: 40 });
    expect((await l.waitForRun(parent.id)).status).toBe('succeeded');
    await l.waitForRun(solo.id);

    // Top-level list: the two runs, the sweep with its child count; children only on request.
    const top = await l.listRuns();
    expect(top.map((r) => [r.id, r.parentId, r.childCount])).toEqual([
      [parent.id, null, 3],
      [solo.id, null, 0],
    ]);
    const children = await l.listRuns({ parentId: parent.id });
    expect(children.map((c) => c.name)).toEqual(['point 0', 'point 1', 'point 2']);
    expect(children.every((c) => c.parentId === parent.id && c.kind === 'test-sweep')).toBe(true);
    expect(children.map((c) => c.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect((await l.listRuns({ includeChildren: true })).length).toBe(5);
    expect((await l.listRuns({ parentId: parent.id, kind: 'test-stream' })).length).toBe(0);

    for (const [i, c] of children.entries()) {
      const d = await l.getRun(c.id);
      expect(d.config).toEqual(POINTS[i]);
      expect(d.seed).toBe(40 + i);
      expect(d.progress).toBe(1);
      expect(d.summary).toEqual({ finalLoss: sweepLoss(POINTS[i], 4), seed: 40 + i });
      expect(d.report).toEqual([
        { type: 'text', title: 'Point', text: `lr ${POINTS[i].lr}, depth ${POINTS[i].depth}` },
      ]);
      expect(d.metrics).toEqual([
        {
          key: 'loss',
          count: 5,
          lastStep: 4,
          last: sweepLoss(POINTS[i], 4),
          min: sweepLoss(POINTS[i], 4),
          max: sweepLoss(POINTS[i], 0),
        },
      ]);
      expect(d.startedAt).not.toBeNull();
      expect(d.finishedAt).not.toBeNull();
    }
    const p = await l.getRun(parent.id);
    expect(p.children.map((c) => c.id)).toEqual(children.map((c) => c.id));
    expect(p.summary).toEqual({ points: 3, bestPoint: 0, bestLoss: sweepLoss(POINTS[0], 4) });
    expect(p.metrics.map((m) => [m.key, m.count])).toEqual([['sweep/loss', 3]]);

    // Events: a run-created per child, metrics tagged with the child's id, every child's final update.
    const created = lab.events.filter((e) => e.type === 'run-created').map((e) => e.run.id);
    expect(created.slice(-3)).toEqual(children.map((c) => c.id));
    for (const c of children) {
      const pts = lab.events.flatMap((e) => (e.type === 'metrics' && e.runId === c.id ? e.points : []));
      expect(pts.map((x) => x.step)).toEqual([0, 1, 2, 3, 4]);
      const last = lab.events.filter((e) => e.type === 'run-updated' && e.run.id === c.id).pop();
      expect(last?.type === 'run-updated' && last.run.status).toBe('succeeded');
    }
    expect(
      lab.events.some(
        (e) => e.type === 'log' && e.runId === children[1].id && e.message === 'lr 0.2, depth 1',
      ),
    ).toBe(true);
  });

  it('compares and exports two children like any runs', async () => {
    const l = await lab.open();
    const parent = await l.createRun({ kind: 'test-sweep', config: { steps: 3 } });
    await l.waitForRun(parent.id);
    const [c0, , c2] = await l.listRuns({ parentId: parent.id });
    const cmp = await l.compareRuns({ ids: [c0.id, c2.id] });
    expect(cmp.configDiff).toEqual([{ path: 'depth', values: [1, 2] }]);
    expect(cmp.metrics).toEqual([
      { key: 'loss', values: [sweepLoss(POINTS[0], 2), sweepLoss(POINTS[2], 2)], count: 3 },
    ]);
    const csv = (await l.exportRuns({ ids: [c0.id, c2.id], format: 'csv' })).content;
    expect(csv.split('\r\n').filter((x) => x !== '')).toHaveLength(1 + 3 + 3);
    const html = (await l.exportRuns({ ids: [parent.id], format: 'html' })).content;
    expect(html).toContain('Child runs');
    expect(html).toContain('point 2');
  });

  it('records a child that fails, and fails a child the job left unfinished, while the parent succeeds', async () => {
    const l = await lab.open();
    const parent = await l.createRun({
      kind: 'test-sweep',
      config: { steps: 2, failPoint: 0, leaveLastOpen: true },
    });
    expect((await l.waitForRun(parent.id)).status).toBe('succeeded');
    const [c0, c1, c2] = await l.listRuns({ parentId: parent.id });
    expect(c0).toMatchObject({ status: 'failed', error: 'point 0 failed on purpose' });
    expect(c1).toMatchObject({ status: 'succeeded', error: null });
    expect(c2).toMatchObject({
      status: 'failed',
      error: "the parent's job ended without finishing this child",
    });
    // Its points are kept all the same.
    expect((await l.getRun(c2.id)).metrics[0].count).toBe(2);
  });
});

describe('children end with their parent', () => {
  it('cancelling the parent cancels its running child; a child cannot be cancelled on its own', async () => {
    const l = await lab.open();
    const parent = await l.createRun({ kind: 'test-sweep', config: { steps: 10_000, delayMs: 5 } });
    await until(async () => (await l.listRuns({ parentId: parent.id })).length === 1);
    const [child] = await l.listRuns({ parentId: parent.id });
    await until(async () => ((await l.getRun(child.id)).metrics[0]?.count ?? 0) >= 3);
    const e = await rejection(l.cancelRun(child.id));
    expect(e).toMatchObject({ code: 'conflict', field: 'id' });
    expect(e.message).toContain(`child of run ${parent.id}`);
    expect((await l.cancelRun(parent.id)).status).toBe('cancelled');
    const c = await l.getRun(child.id);
    expect(c.status).toBe('cancelled');
    expect(c.error).toBe('its parent run cancelled');
    expect(c.finishedAt).not.toBeNull();
    expect(c.metrics[0].count).toBeGreaterThanOrEqual(3);
    const last = lab.events.filter((x) => x.type === 'run-updated' && x.run.id === child.id).pop();
    expect(last?.type === 'run-updated' && last.run.status).toBe('cancelled');
  });

  it('a kill -9 of the job process fails the parent and its running child, keeping the child’s points', async () => {
    const launcher = new RecordingLauncher();
    const l = await lab.open({ launcher });
    // Two points of 3 s each: the second child streams long enough that a slow poll on a loaded machine
    // still sees it running (with 200 ms points the third child could start, or the job end, first).
    const parent = await l.createRun({
      kind: 'test-sweep',
      config: {
        points: [
          { lr: 0.1, depth: 1 },
          { lr: 0.2, depth: 1 },
        ],
        steps: 300,
        delayMs: 10,
      },
    });
    // Wait until the first point is done and the second child is streaming.
    await until(async () => {
      const cs = await l.listRuns({ parentId: parent.id });
      return cs.length === 2 && ((await l.getRun(cs[1].id)).metrics[0]?.count ?? 0) >= 3;
    });
    process.kill(launcher.procs[0].pid as number, 'SIGKILL');
    const s = await l.waitForRun(parent.id);
    expect(s.status).toBe('failed');
    expect(s.error).toMatch(/killed by signal SIGKILL/);
    const [first, second] = await l.listRuns({ parentId: parent.id });
    expect(first.status).toBe('succeeded');
    expect(second.status).toBe('failed');
    expect(second.error).toMatch(/^its parent run failed: the job process was killed by signal SIGKILL/);
    const streamed = lab.events.flatMap((e) =>
      e.type === 'metrics' && e.runId === second.id ? e.points : [],
    );
    const stored = (await l.getRun(second.id)).metrics[0].count;
    expect(stored).toBeGreaterThanOrEqual(3);
    expect(stored).toBe(streamed.length);
  });

  it('closing the lab interrupts the parent and its running child', async () => {
    const l = await lab.open();
    const parent = await l.createRun({ kind: 'test-sweep', config: { steps: 10_000, delayMs: 5 } });
    await until(async () => (await l.listRuns({ parentId: parent.id })).length === 1);
    const [child] = await l.listRuns({ parentId: parent.id });
    await l.close();
    const store = Store.open(join(lab.dir, 'lab.sqlite'));
    expect(store.status(parent.id)).toBe('interrupted');
    expect(store.getSummary(child.id)).toMatchObject({ status: 'interrupted' });
    store.close();
  });
});

describe('the service validates child messages', () => {
  const pt = (step: number) => ({ key: 'loss', step, value: 1, wallTime: 0 });
  const start = (childId: string, kind = 'test-sweep') => ({
    type: 'child-start',
    childId,
    name: 'p',
    kind,
    config: { lr: 1 },
    seed: 1,
  });
  const end = (childId: string) => ({
    type: 'child-end',
    childId,
    status: 'succeeded',
    result: { summary: {}, report: [], backend: {} },
    error: null,
  });

  async function scripted(script: (runId: string) => unknown[]) {
    const l = await lab.open({ launcher: { name: 'scripted', spawn: () => new ScriptedProcess(script) } });
    const run = await l.createRun({ kind: 'test-sweep', config: {} });
    return { l, run, final: await l.waitForRun(run.id) };
  }

  it('fails the run on metrics for a child it never started, keeping what came before', async () => {
    const stray = randomUUID();
    const { l, run, final } = await scripted(() => [
      { type: 'metrics', points: [pt(0)] },
      { type: 'metrics', points: [pt(1)], runId: stray },
    ]);
    expect(final.status).toBe('failed');
    expect(final.error).toBe(
      `the lab could not record the job's metrics message: metrics for an unknown child run ${stray} (no child-start came for it)`,
    );
    expect((await l.getRun(run.id)).metrics[0].count).toBe(1);
    expect(await l.listRuns({ includeChildren: true })).toHaveLength(1);
  });

  it('fails the run on data for an ended child, a reused child id, or a foreign kind', async () => {
    const c = randomUUID();
    let r = await scripted(() => [start(c), end(c), { type: 'log', level: 'info', message: 'x', runId: c }]);
    expect(r.final.error).toMatch(/log for child .* which has already ended$/);
    // The child had ended cleanly before the bad message and keeps its own status.
    expect((await r.l.getRun(c)).status).toBe('succeeded');
    await r.l.close();

    const d = randomUUID();
    r = await scripted(() => [start(d), start(d)]);
    expect(r.final.error).toMatch(/a run with this id already exists/);
    expect((await r.l.getRun(d)).status).toBe('failed');
    await r.l.close();

    r = await scripted(() => [start(randomUUID(), 'test-stream')]);
    expect(r.final.error).toMatch(
      /kind "test-stream" is neither the parent's kind "test-sweep" nor "test-sweep\/…"/,
    );
    expect(await r.l.listRuns({ parentId: r.run.id })).toEqual([]);
  });

  it('accepts a child kind with a suffix and a child-end for a failed child', async () => {
    const c = randomUUID();
    const { l, run, final } = await scripted((runId) => [
      start(c, 'test-sweep/point'),
      { type: 'metrics', points: [pt(0), pt(1)], runId: c },
      { type: 'progress', fraction: 0.5, message: 'half', runId: c },
      { ...end(c), status: 'failed', error: 'diverged' },
      { type: 'result', result: { summary: { runId }, report: [], backend: {} } },
      { type: 'done' },
    ]);
    expect(final.status).toBe('succeeded');
    const child = await l.getRun(c);
    expect(child).toMatchObject({
      kind: 'test-sweep/point',
      parentId: run.id,
      status: 'failed',
      error: 'diverged',
      progress: 0.5,
      progressMessage: 'half',
    });
    expect(child.metrics[0].count).toBe(2);
  });
});
