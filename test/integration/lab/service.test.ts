// The LabService end to end with real job processes (child_process.fork of the worker entry through tsx).
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_COMPARE_RUNS, type RunStatus } from '../../../core/api/lab-api';
import { openLab, type LabService } from '../../../core/lab/service';
import { Store } from '../../../core/lab/store';
import { labFixture, RecordingLauncher, ScriptedProcess, until } from '../../helpers/lab';
import { rejection } from '../../helpers/lab-error';

const lab = labFixture('qlab-lab-');

const storedPoints = async (l: LabService, id: string, key: string) =>
  (await l.getRun(id)).metrics.find((m) => m.key === key)?.count ?? 0;

describe('a run end to end', () => {
  it('runs a job in a worker and stores its metrics, result, artifact, host and events', async () => {
    const l = await lab.open();
    const run = await l.createRun({
      kind: 'test-stream',
      name: 'first, "quoted"',
      config: { steps: 60, perStep: 2, artifact: true },
      seed: 42,
      tags: ['smoke'],
    });
    expect(run.status).toBe('queued');
    const done = await l.waitForRun(run.id);
    expect(done.status).toBe('succeeded');
    expect(done.error).toBeNull();
    expect(done.progress).toBe(1);
    const d = await l.getRun(run.id);
    expect(d.config).toEqual({ steps: 60, delayMs: 0, perStep: 2, artifact: true, ignoreCancel: false });
    expect(d.seed).toBe(42);
    expect(d.summary).toMatchObject({ steps: 60, finalLoss: 1 / 60, seed: 42 });
    expect(d.report[0]).toMatchObject({ type: 'table', title: 'Loss' });
    expect(d.metrics.find((m) => m.key === 'loss')).toEqual({
      key: 'loss',
      count: 60,
      lastStep: 59,
      last: 1 / 60,
      min: 1 / 60,
      max: 1,
    });
    expect(d.codeVersion).toMatch(/^qlab@\d+\.\d+\.\d+/);
    expect(d.host).toMatchObject({ node: process.versions.node });
    expect(typeof d.host.cpus).toBe('number');
    expect(d.startedAt).not.toBeNull();
    expect(d.finishedAt).not.toBeNull();
    // The artifact row points at a complete file whose hash it records.
    const content = `60 steps, seed 42\n`;
    expect(d.artifacts).toEqual([
      {
        name: 'steps.txt',
        kind: 'text',
        bytes: content.length,
        sha256: createHash('sha256').update(content).digest('hex'),
      },
    ]);
    expect(readFileSync((await l.artifactFile(run.id, 'steps.txt')) ?? '', 'utf8')).toBe(content);
    // Events: created, running, progress, metrics covering every stored point, a log line, the final update.
    expect(lab.events[0]).toMatchObject({ type: 'run-created', run: { id: run.id } });
    const statuses = lab.events.filter((e) => e.type === 'run-updated').map((e) => e.run.status);
    expect(statuses).toContain('running');
    expect(statuses[statuses.length - 1]).toBe('succeeded');
    const streamed = lab.events.flatMap((e) => (e.type === 'metrics' ? e.points : []));
    expect(streamed).toHaveLength(120);
    expect(lab.events.some((e) => e.type === 'log' && e.message.includes('streaming 60 steps'))).toBe(true);
    const series = await l.getSeries({ runId: run.id, key: 'loss', maxPoints: 10 });
    expect(series.count).toBe(60);
    expect(series.points).toHaveLength(10);
    expect(series.points[9]).toEqual({ step: 59, min: 1 / 60, max: 1 / 55, last: 1 / 60 });
  });
});

describe('a registered job kind', () => {
  it('runs vqc-fit (real training) through a worker and stores its curves', async () => {
    const l = await lab.open();
    const info = (await l.listKinds()).find((k) => k.kind === 'vqc-fit');
    expect(info).toBeDefined();
    const config = { ...(info?.defaults as Record<string, unknown>), epochs: 3, samples: 80 };
    const run = await l.createRun({ kind: 'vqc-fit', config, seed: 5 });
    const s = await l.waitForRun(run.id);
    expect(s.error).toBeNull();
    expect(s.status).toBe('succeeded');
    const d = await l.getRun(run.id);
    expect(d.metrics.length).toBeGreaterThan(0);
    for (const m of d.metrics) {
      expect(m.count).toBeGreaterThan(0);
      expect(Number.isFinite(m.last)).toBe(true);
    }
    expect(Object.keys(d.summary).length).toBeGreaterThan(0);
  });
});

describe('compare and export of real runs', () => {
  it('compares two runs and exports them as JSON, CSV and HTML that parse back', async () => {
    const l = await lab.open();
    const a = await l.createRun({ kind: 'test-stream', config: { steps: 30 }, seed: 1 });
    const b = await l.createRun({ kind: 'test-stream', config: { steps: 40, perStep: 2 }, seed: 2 });
    await l.waitForRun(a.id);
    await l.waitForRun(b.id);
    await l.addNote({ runId: a.id, text: 'baseline' });
    expect((await l.setTags({ runId: b.id, tags: ['x', 'x', 'y'] })).tags).toEqual(['x', 'y']);
    expect((await l.listRuns({ tag: 'y' })).map((r) => r.id)).toEqual([b.id]);
    const cmp = await l.compareRuns({ ids: [a.id, b.id] });
    expect(cmp.configDiff).toEqual([
      { path: 'perStep', values: [1, 2] },
      { path: 'steps', values: [30, 40] },
    ]);
    // aux1 only in b: not a row of the comparison, but listed under the kind.
    expect(cmp.metrics).toEqual([{ key: 'loss', values: [1 / 30, 1 / 40], count: 40 }]);
    expect(cmp.runs.map((r) => [r.id, r.seed, r.tags])).toEqual([
      [a.id, 1, []],
      [b.id, 2, ['x', 'y']],
    ]);
    // An unknown id is named by its place; a run twice or past the limit is refused before any read.
    const ghost = randomUUID();
    await expect(l.compareRuns({ ids: [a.id, ghost] })).rejects.toMatchObject({
      code: 'not-found',
      field: 'ids[1]',
    });
    await expect(l.compareRuns({ ids: [a.id, a.id] })).rejects.toMatchObject({
      code: 'invalid',
      field: 'ids',
    });
    const tooMany = Array.from({ length: MAX_COMPARE_RUNS + 1 }, () => randomUUID());
    await expect(l.compareRuns({ ids: tooMany })).rejects.toThrow(/at most 1,000 runs/);
    expect(cmp.unshared).toEqual([
      { kind: 'test-stream', runs: 2, config: [], metrics: [{ key: 'aux1', runs: 1 }], summary: [] },
    ]);
    const json = JSON.parse((await l.exportRuns({ ids: [a.id, b.id], format: 'json' })).content) as {
      runs: { id: string; notes: { text: string }[]; series: Record<string, { values: number[] }> }[];
    };
    expect(json.runs.map((r) => r.id)).toEqual([a.id, b.id]);
    expect(json.runs[0].notes[0].text).toBe('baseline');
    expect(json.runs[1].series.loss.values).toHaveLength(40);
    const csv = (await l.exportRuns({ ids: [a.id, b.id], format: 'csv' })).content;
    expect(csv.split('\r\n').filter((line) => line !== '')).toHaveLength(1 + 30 + 40 * 2);
    const html = (await l.exportRuns({ ids: [a.id, b.id], format: 'html' })).content;
    // a chart per metric of each run (a: loss; b: loss, aux1) and one overlay of the shared key (loss)
    expect((html.match(/<svg /g) ?? []).length).toBe(4);
    const e = await rejection(l.exportRuns({ ids: [a.id, randomUUID()], format: 'json' }));
    expect(e).toMatchObject({ code: 'not-found', field: 'ids[1]' });
    expect((await rejection(l.exportRuns({ ids: [a.id], format: 'pdf' as 'json' }))).field).toBe('format');
  });
});

describe('validation', () => {
  it('refuses bad requests with a LabError naming the field, and writes nothing', async () => {
    const l = await lab.open();
    let e = await rejection(l.createRun({ kind: 'test-stream', config: { steps: 'ten' } }));
    expect(e.code).toBe('invalid');
    expect(e.field).toBe('config.steps');
    expect(e.message).toMatch(/^config\.steps: /);
    e = await rejection(l.createRun({ kind: 'test-stream', config: { steps: 5, bogus: 1 } }));
    expect(e.field).toBe('config');
    expect(e.message).toMatch(/bogus/);
    e = await rejection(l.createRun({ kind: 'no-such-kind', config: {} }));
    expect(e.field).toBe('kind');
    expect(e.message).toMatch(/unknown job kind "no-such-kind".*test-stream/);
    e = await rejection(l.createRun({ kind: 'test-stream', config: { steps: 5 }, seed: -3 }));
    expect(e.field).toBe('seed');
    e = await rejection(l.createRun({ kind: 'test-stream', config: { steps: 5 }, extra: 1 } as never));
    expect(e.code).toBe('invalid');
    e = await rejection(l.getRun('not-a-uuid'));
    expect(e).toMatchObject({ code: 'invalid', field: 'id' });
    e = await rejection(l.getRun(randomUUID()));
    expect(e).toMatchObject({ code: 'not-found', field: 'id' });
    e = await rejection(l.getSeries({ runId: randomUUID(), key: 'loss', maxPoints: 1 }));
    expect(e).toMatchObject({ code: 'invalid', field: 'maxPoints' });
    e = await rejection(l.listRuns({ status: 'done' as RunStatus }));
    expect(e.field).toBe('status');
    expect(await l.listRuns()).toEqual([]);
    expect(lab.events).toEqual([]);
  });
});

describe('scheduler', () => {
  it('cancels a running job within a second and keeps its points', async () => {
    const l = await lab.open();
    const run = await l.createRun({ kind: 'test-stream', config: { steps: 10_000, delayMs: 10 } });
    await until(async () => (await storedPoints(l, run.id, 'loss')) >= 5);
    const t0 = performance.now();
    const after = await l.cancelRun(run.id);
    const ms = performance.now() - t0;
    expect(after.status).toBe('cancelled');
    expect(ms).toBeLessThan(1000);
    expect(await storedPoints(l, run.id, 'loss')).toBeGreaterThanOrEqual(5);
    const e = await rejection(l.cancelRun(run.id));
    expect(e.code).toBe('conflict');
  });

  it('kills a job that ignores the cancel after the grace period', async () => {
    const l = await lab.open();
    const run = await l.createRun({
      kind: 'test-stream',
      config: { steps: 10_000, delayMs: 50, ignoreCancel: true },
    });
    await until(async () => (await storedPoints(l, run.id, 'loss')) >= 3);
    const t0 = performance.now();
    expect((await l.cancelRun(run.id)).status).toBe('cancelled');
    // 800 ms grace, then SIGKILL; the margin is for a loaded CI machine.
    expect(performance.now() - t0).toBeLessThan(1500);
  });

  it('cancels a queued run at once without starting it', async () => {
    const l = await lab.open();
    const first = await l.createRun({ kind: 'test-stream', config: { steps: 10_000, delayMs: 10 } });
    const second = await l.createRun({ kind: 'test-stream', config: { steps: 5 } });
    const s = await l.cancelRun(second.id);
    expect(s.status).toBe('cancelled');
    expect(s.startedAt).toBeNull();
    await l.cancelRun(first.id);
  });

  it('a kill -9 of the job process fails the run with the signal and keeps every point it sent', async () => {
    const launcher = new RecordingLauncher();
    const l = await lab.open({ launcher });
    const run = await l.createRun({ kind: 'test-stream', config: { steps: 100_000, delayMs: 5 } });
    await until(async () => (await storedPoints(l, run.id, 'loss')) >= 20);
    const pid = launcher.procs[0].pid;
    expect(pid).toBeTypeOf('number');
    process.kill(pid as number, 'SIGKILL');
    const s = await l.waitForRun(run.id);
    expect(s.status).toBe('failed');
    expect(s.error).toMatch(/killed by signal SIGKILL/);
    const streamed = lab.events.flatMap((e) => (e.type === 'metrics' && e.runId === run.id ? e.points : []));
    const stored = await storedPoints(l, run.id, 'loss');
    expect(stored).toBeGreaterThanOrEqual(20);
    expect(stored).toBe(streamed.length);
  });

  it('a job that exits, throws or returns a bad result fails with the reason and keeps its points', async () => {
    const l = await lab.open();
    const exit = await l.createRun({ kind: 'test-crash', config: { steps: 4, how: 'exit' } });
    const thrown = await l.createRun({ kind: 'test-crash', config: { steps: 2, how: 'throw' } });
    const bad = await l.createRun({ kind: 'test-crash', config: { steps: 1, how: 'bad-result' } });
    const [a, b, c] = await Promise.all([
      l.waitForRun(exit.id),
      l.waitForRun(thrown.id),
      l.waitForRun(bad.id),
    ]);
    expect(a).toMatchObject({ status: 'failed' });
    expect(a.error).toMatch(/exited with code 3 before reporting a result/);
    expect(await storedPoints(l, exit.id, 'x')).toBe(4);
    expect(b).toMatchObject({ status: 'failed', error: 'RangeError: the fixture failed on purpose' });
    expect(await storedPoints(l, thrown.id, 'x')).toBe(2);
    expect(c.status).toBe('failed');
    expect(c.error).toMatch(/invalid result: result\.summary\.bad/);
  });

  it('never runs more jobs than the concurrency limit, and starts them in created order', async () => {
    const l = await lab.open({ concurrency: 2 });
    let running = 0;
    let peak = 0;
    const starts: string[] = [];
    const seen = new Map<string, RunStatus>();
    l.onEvent((e) => {
      if (e.type !== 'run-updated') return;
      const prev = seen.get(e.run.id);
      if (prev !== e.run.status) {
        if (e.run.status === 'running') {
          running++;
          starts.push(e.run.id);
        } else if (prev === 'running') running--;
        seen.set(e.run.id, e.run.status);
      }
      peak = Math.max(peak, running);
    });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push((await l.createRun({ kind: 'test-stream', config: { steps: 15, delayMs: 20 } })).id);
    }
    const finals = await Promise.all(ids.map((id) => l.waitForRun(id)));
    expect(finals.map((f) => f.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(peak).toBe(2);
    expect(starts).toEqual(ids);
  });

  it('fails a run whose worker sends an invalid message, naming the field', async () => {
    // An in-process fake job process: exercises the parent's validation and the launcher interface.
    const script = () => [
      { type: 'metrics', points: [{ key: 'a', step: 0, value: 1, wallTime: 0 }] },
      { type: 'metrics', points: [{ key: 'a', step: -1, value: 1, wallTime: 0 }] },
    ];
    const l = await lab.open({ launcher: { name: 'fake', spawn: () => new ScriptedProcess(script, false) } });
    const run = await l.createRun({ kind: 'test-stream', config: { steps: 3 } });
    const s = await l.waitForRun(run.id);
    expect(s.status).toBe('failed');
    expect(s.error).toMatch(/invalid message \(points\[0\]\.step: /);
    expect(await storedPoints(l, run.id, 'a')).toBe(1);
  });

  it('marks runs left running with a stale heartbeat as interrupted at start-up', async () => {
    const store = Store.open(join(lab.dir, 'lab.sqlite'));
    const mk = (heartbeat: string) => {
      const id = randomUUID();
      store.insertRun({
        id,
        kind: 'test-stream',
        name: 'left over',
        config: { steps: 1 },
        seed: 1,
        createdAt: heartbeat,
        codeVersion: 'x',
        tags: [],
      });
      store.claimRun(id, heartbeat, {});
      return id;
    };
    const stale = mk(new Date(Date.now() - 60_000).toISOString());
    const fresh = mk(new Date().toISOString());
    store.close();
    const l = await lab.open({ heartbeatStaleMs: 15_000 });
    expect((await l.getRun(stale)).status).toBe('interrupted');
    expect((await l.getRun(stale)).error).toMatch(/stopped while this run was running/);
    expect((await l.getRun(fresh)).status).toBe('running');
  });

  it('cancels a run owned by another lab process through the store', async () => {
    const owner = await lab.open();
    const run = await owner.createRun({ kind: 'test-stream', config: { steps: 10_000, delayMs: 10 } });
    await until(async () => (await storedPoints(owner, run.id, 'loss')) >= 3);
    const other = await openLab({ labDir: lab.dir });
    try {
      const t0 = performance.now();
      const s = await other.cancelRun(run.id);
      expect(s.status).toBe('cancelled');
      expect(performance.now() - t0).toBeLessThan(1500);
    } finally {
      await other.close();
    }
  });

  it('a passive lab starts nothing; adoptQueued:false starts only its own runs', async () => {
    const passive = await openLab({ labDir: lab.dir, schedule: false });
    const foreign = await passive.createRun({ kind: 'test-stream', config: { steps: 2 } });
    await new Promise((r) => setTimeout(r, 300));
    expect((await passive.getRun(foreign.id)).status).toBe('queued');
    await passive.close();
    const l = await lab.open({ adoptQueued: false });
    const own = await l.createRun({ kind: 'test-stream', config: { steps: 2 } });
    expect((await l.waitForRun(own.id)).status).toBe('succeeded');
    expect((await l.getRun(foreign.id)).status).toBe('queued');
  });

  it('close() interrupts running jobs and stops scheduling', async () => {
    const l = await lab.open();
    const run = await l.createRun({ kind: 'test-stream', config: { steps: 10_000, delayMs: 10 } });
    const queued = await l.createRun({ kind: 'test-stream', config: { steps: 3 } });
    await until(async () => (await storedPoints(l, run.id, 'loss')) >= 2);
    await l.close();
    const store = Store.open(join(lab.dir, 'lab.sqlite'));
    expect(store.status(run.id)).toBe('interrupted');
    expect(store.status(queued.id)).toBe('queued');
    store.close();
  });
});
