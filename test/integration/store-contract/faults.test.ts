// Faults of the distributed lab on real servers (issue 16): a hub, three `qlab worker` processes, PostgreSQL and
// Redis (persistent: an append-only file fsynced on every write). Each case checks every stored point of every
// run: the steps 0..n-1 exactly once with the values the job computes, so a lost or duplicated point fails.
// - kill -9 of the worker holding a run with retries: 1 → the hub's heartbeat check re-queues it, another
//   worker runs it to the end (attempt 2), the curve has each step once; the detection time is printed.
// - Redis killed (-9) and restarted while runs are in flight and queued → all finish, none lost or doubled, and
//   runs created after the restart run too.
// - PostgreSQL restarted while runs are in flight on several workers → the same.
// - The hub process killed (-9) mid-run → the workers finish its runs; a restarted hub shows them finished.
// Skipped, with a message, only when the servers cannot be started.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../../core/api/lab-api';
import type { CliLab } from '../../../core/cli/context';
import { BullJobQueue } from '../../../core/lab/queue-bullmq';
import { openLab } from '../../../core/lab/service';
import { PgRunStore } from '../../../core/lab/store-pg';
import { DistributedLab, isRunning, QLAB, startPgAndRedis } from '../../helpers/distributed-lab';
import { pollFor } from '../../helpers/lab';
import { callLabApi } from '../../helpers/lab-server';

const servers = await startPgAndRedis('distributed faults');
const lab = DistributedLab.on(servers, 'faults', { testKinds: true });
const { pg, redis, why } = servers;
let hub: CliLab | undefined;
let storeUrl = '';
let labDir = '';

/** Every stored point of `loss`: steps 0..steps-1, each once, each the value test-stream computes. */
async function expectExactCurve(id: string, steps: number): Promise<void> {
  const d = await hub!.getRun(id);
  expect(d.status, `${id}: ${d.error ?? ''}`).toBe('succeeded');
  const loss = d.metrics.find((m) => m.key === 'loss');
  expect(loss?.count).toBe(steps);
  expect(loss?.lastStep).toBe(steps - 1);
  const s = await hub!.getSeries({ runId: id, key: 'loss', maxPoints: Math.max(2, steps) });
  expect(s.count).toBe(steps);
  expect(s.points.map((p) => p.step)).toEqual(Array.from({ length: steps }, (_, i) => i));
  for (const p of s.points) expect(p.last).toBe(1 / (1 + p.step));
}

describe.skipIf(why !== '')('distributed faults on PostgreSQL and Redis (hub + three workers)', () => {
  beforeAll(async () => {
    await lab!.start(['host-a', 'host-b', 'host-c']);
    ({ hub, storeUrl, labDir } = lab!);
  }, 120_000);
  afterAll(() => lab?.close(), 60_000);

  it('kill -9 of the worker holding a run with retries: 1 → re-queued, finished on another worker, each point once', async () => {
    // The hub's heartbeat check re-queues the run; a hub view with a 6 s stale period stands for it here.
    const staleMs = 6000;
    const store = await PgRunStore.open(storeUrl);
    const checker = await openLab({
      labDir,
      schedule: false,
      store,
      queue: new BullJobQueue({ url: redis!.url, store }),
      heartbeatStaleMs: staleMs,
    });
    try {
      const steps = 250;
      const run = await hub!.createRun({
        kind: 'test-stream',
        config: { steps, delayMs: 20 },
        retries: 1,
      });
      const first = await pollFor('points from attempt 1', 60_000, async () => {
        const d = await hub!.getRun(run.id);
        return (d.metrics[0]?.count ?? 0) >= 20 ? d : null;
      });
      expect(first.attempt).toBe(1);
      expect(first.retries).toBe(1);
      const owner = String(first.host.worker);
      const p = lab!.workers.get(owner)!;
      const killedAt = performance.now();
      p.kill('SIGKILL');
      await new Promise((r) => p.once('exit', r));
      const atKill = (await hub!.getRun(run.id)).metrics[0].count;
      expect(atKill).toBeLessThan(steps);
      const second = await pollFor('attempt 2 to start', 45_000, async () => {
        const d = await hub!.getRun(run.id);
        return d.attempt === 2 && d.status === 'running' ? d : null;
      });
      const detectMs = performance.now() - killedAt;
      expect(String(second.host.worker)).not.toBe(owner);
      const final = await checker.waitForRun(run.id);
      const totalMs = performance.now() - killedAt;
      expect(final.status).toBe('succeeded');
      const d: RunDetail = await hub!.getRun(run.id);
      expect(d.attempt).toBe(2);
      await expectExactCurve(run.id, steps);
      const log = (await hub!.getRunLog({ runId: run.id })).lines.map((l) => l.message).join('\n');
      expect(log).toMatch(/re-queued as attempt 2 of 2/);
      expect(log).toMatch(/attempt 2 of 2: the job starts again from the beginning/);
      console.log(
        `faults: kill -9 of ${owner} at ${atKill}/${steps} points: attempt 2 running on ${String(second.host.worker)} ` +
          `${Math.round(detectMs)} ms after the kill (stale period ${staleMs} ms), succeeded after ${Math.round(totalMs)} ms`,
      );
      expect(detectMs).toBeLessThan(staleMs + 15_000);
    } finally {
      await checker.close();
      lab!.startWorker('host-d'); // three workers again
    }
  }, 90_000);

  it('Redis killed and restarted while runs are in flight and queued: every run finishes, no point lost or doubled', async () => {
    const steps = 30;
    const ids: string[] = [];
    // three in flight (one per worker), one waiting in BullMQ
    for (let i = 0; i < 4; i++) {
      ids.push((await hub!.createRun({ kind: 'test-stream', config: { steps, delayMs: 80 } })).id);
    }
    await pollFor('a run with points', 60_000, async () => {
      for (const id of ids) if (((await hub!.getRun(id)).metrics[0]?.count ?? 0) >= 3) return true;
      return null;
    });
    const before = await Promise.all(ids.map((id) => hub!.getRun(id)));
    const t0 = performance.now();
    await redis!.restart();
    const restartMs = performance.now() - t0;
    // queued in BullMQ before the restart (kept by the append-only file) and created after it
    ids.push((await hub!.createRun({ kind: 'test-stream', config: { steps, delayMs: 20 } })).id);
    const finals = await Promise.all(ids.map((id) => hub!.waitForRun(id)));
    expect(finals.map((f) => f.status)).toEqual(Array(ids.length).fill('succeeded'));
    for (const id of ids) await expectExactCurve(id, steps);
    console.log(
      `faults: Redis restarted in ${Math.round(restartMs)} ms with ${before.filter((r) => r.status === 'running').length} ` +
        `run(s) running and ${before.filter((r) => r.status === 'queued').length} queued; all ${ids.length} succeeded ` +
        `${Math.round(performance.now() - t0)} ms later`,
    );
  }, 90_000);

  it('PostgreSQL restarted while runs are in flight on several workers: every run finishes, no point lost or doubled', async () => {
    const steps = 40;
    const ids: string[] = [];
    // one per worker
    for (let i = 0; i < 3; i++) {
      ids.push((await hub!.createRun({ kind: 'test-stream', config: { steps, delayMs: 60 } })).id);
    }
    await pollFor('two runs with points', 60_000, async () => {
      let n = 0;
      for (const id of ids) if (((await hub!.getRun(id)).metrics[0]?.count ?? 0) >= 3) n++;
      return n >= 2 ? true : null;
    });
    const t0 = performance.now();
    pg!.restart();
    const restartMs = performance.now() - t0;
    const finals = await Promise.all(ids.map((id) => hub!.waitForRun(id)));
    expect(finals.map((f) => f.status)).toEqual(Array(ids.length).fill('succeeded'));
    const by = new Set<string>();
    for (const id of ids) {
      await expectExactCurve(id, steps);
      by.add(String((await hub!.getRun(id)).host.worker));
    }
    expect(by.size).toBeGreaterThanOrEqual(2); // spread over workers (one may finish and take the next)
    console.log(
      `faults: PostgreSQL restarted in ${Math.round(restartMs)} ms mid-batch; ${ids.length} runs on ${by.size} workers all succeeded`,
    );
  }, 90_000);

  it('the hub killed with -9 mid-run: the workers finish its runs and a restarted hub shows them', async () => {
    const token = 'faults-test-token-0123456789';
    const startHub = () =>
      new Promise<{ proc: ChildProcess; origin: string }>((resolve, reject) => {
        const proc = spawn(
          process.execPath,
          [QLAB, 'serve', '--api-only', '--port', '0', '--token', token, '--lab-dir', labDir],
          {
            env: { ...lab!.env(), QLAB_STORE: storeUrl, QLAB_QUEUE: redis!.url },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let out = '';
        const timer = setTimeout(() => reject(new Error(`the hub printed no URL in 45 s: ${out}`)), 45_000);
        proc.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /qlab serving on (http:\/\/\S+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve({ proc, origin: new URL(m[1]).origin });
          }
        });
        proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
        proc.once('exit', (code) => reject(new Error(`the hub exited (${code}): ${out}`)));
      });
    const api = (origin: string, method: string, arg: unknown) =>
      callLabApi(`${origin}/`, token, method, arg);
    const steps = 40;
    const first = await startHub();
    const ids: string[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const r = (await api(first.origin, 'createRun', {
          kind: 'test-stream',
          config: { steps, delayMs: 60 },
        })) as { id: string };
        ids.push(r.id);
      }
      await pollFor('a run with points', 60_000, async () => {
        for (const id of ids) {
          const d = (await api(first.origin, 'getRun', { id })) as RunDetail;
          if ((d.metrics[0]?.count ?? 0) >= 3) return true;
        }
        return null;
      });
    } finally {
      first.proc.kill('SIGKILL');
      await new Promise((r) => (isRunning(first.proc) ? first.proc.once('exit', r) : r(null)));
    }
    // no hub: the workers go on writing to PostgreSQL
    const finals = await Promise.all(ids.map((id) => hub!.waitForRun(id)));
    expect(finals.map((f) => f.status)).toEqual(Array(ids.length).fill('succeeded'));
    const second = await startHub();
    try {
      for (const id of ids) {
        const d = (await api(second.origin, 'getRun', { id })) as RunDetail;
        expect(d.status).toBe('succeeded');
        expect(d.metrics.find((m) => m.key === 'loss')?.count).toBe(steps);
        await expectExactCurve(id, steps);
      }
    } finally {
      second.proc.kill('SIGTERM');
      await new Promise((r) => (isRunning(second.proc) ? second.proc.once('exit', r) : r(null)));
    }
  }, 90_000);
});
