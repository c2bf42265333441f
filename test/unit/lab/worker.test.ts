// The worker runner in-process over a fake port: batching, result, failures, artifacts and cancel.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { JobKind } from '../../../core/methods/job';
import { WorkerMessageSchema, type WorkerMessage } from '../../../core/lab/protocol';
import { runWorker } from '../../../core/lab/worker/runner';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'qlab-worker-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const kinds: JobKind[] = [
  {
    kind: 'many',
    title: 'many points',
    description: '',
    schema: z.object({ n: z.number().int().min(1) }).strict(),
    defaults: { n: 1 },
    async run(config, ctx) {
      const c = config as { n: number };
      // The shared cache folder exists and is the lab's, not the run's.
      if (ctx.cacheDir !== join(dir, 'cache') || !existsSync(ctx.cacheDir)) throw new Error('no cache dir');
      for (let i = 0; i < c.n; i++) ctx.metrics([{ key: 'k', step: i, value: i * 0.5 }]);
      ctx.progress(1, 'done');
      await ctx.artifact('out.txt', 'text', 'hello\n');
      return { summary: { n: c.n }, backend: { name: 'fake' } } as { summary: Record<string, number> };
    },
  },
  {
    kind: 'nan',
    title: 'nan',
    description: '',
    schema: z.object({}),
    defaults: {},
    async run(_config, ctx) {
      ctx.metrics([{ key: 'loss', step: 7, value: Number.NaN }]);
      return { summary: {} };
    },
  },
  {
    kind: 'wait',
    title: 'waits for cancel',
    description: '',
    schema: z.object({}),
    defaults: {},
    async run(_config, ctx) {
      let step = 0;
      while (!ctx.signal.aborted) {
        ctx.metrics([{ key: 'k', step: step++, value: 1 }]);
        await new Promise((r) => setTimeout(r, 5));
      }
      throw new Error('aborted');
    },
  },
];

function harness() {
  const sent: WorkerMessage[] = [];
  let deliver: (m: unknown) => void = () => undefined;
  let exitCode: number | undefined;
  let onExit: () => void = () => undefined;
  const exited = new Promise<void>((r) => (onExit = r));
  runWorker(
    {
      send: async (m) => {
        // Everything the worker sends must pass the parent's validation.
        expect(WorkerMessageSchema.safeParse(m).success, JSON.stringify(m)).toBe(true);
        sent.push(m as WorkerMessage);
      },
      onMessage: (cb) => (deliver = cb),
    },
    {
      exit: (code) => {
        exitCode = code;
        onExit();
      },
      maxBatch: 2000,
      flushMs: 10_000,
      loadKinds: async () => new Map(kinds.map((k) => [k.kind, k])),
      catchProcessErrors: false,
    },
  );
  const runId = randomUUID();
  const start = (kind: string, config: unknown) =>
    deliver({ type: 'start', runId, kind, config, seed: 3, workDir: join(dir, 'work'), labDir: dir });
  return { sent, deliver, start, exited, runId, code: () => exitCode };
}

describe('worker runner', () => {
  it('announces itself, batches metrics by size, then sends result and done in order', async () => {
    const h = harness();
    expect(h.sent[0]).toEqual({ type: 'ready', pid: process.pid });
    h.start('many', { n: 5000 });
    await h.exited;
    expect(h.code()).toBe(0);
    const batches = h.sent
      .filter((m) => m.type === 'metrics')
      .map((m) => (m.type === 'metrics' ? m.points : []));
    expect(batches.map((b) => b.length)).toEqual([2000, 2000, 1000]);
    expect(batches.flat().map((p) => p.step)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    const types = h.sent.map((m) => m.type).filter((t) => t !== 'metrics' && t !== 'heartbeat');
    expect(types).toEqual(['ready', 'artifact', 'progress', 'result', 'done']);
    const result = h.sent.find((m) => m.type === 'result');
    expect(result).toEqual({
      type: 'result',
      result: { summary: { n: 5000 }, report: [], backend: { name: 'fake' } },
    });
    const art = h.sent.find((m) => m.type === 'artifact');
    if (art?.type !== 'artifact') throw new Error('no artifact message');
    expect(dirname(art.tmpPath)).toBe(join(dir, 'artifacts', h.runId));
    expect(basename(art.tmpPath).startsWith('.tmp-out.txt-')).toBe(true);
    expect(readFileSync(art.tmpPath, 'utf8')).toBe('hello\n');
    expect(art.bytes).toBe(6);
    expect(art.sha256).toBe(createHash('sha256').update('hello\n').digest('hex'));
  });

  it('fails a job that records a non-finite metric, naming key and step', async () => {
    const h = harness();
    h.start('nan', {});
    await h.exited;
    expect(h.code()).toBe(1);
    const failed = h.sent.find((m) => m.type === 'failed');
    expect(failed?.type === 'failed' && failed.error.message).toBe(
      'metrics: loss at step 7 is not finite (NaN)',
    );
    expect(h.sent[h.sent.length - 1]).toEqual({ type: 'done' });
  });

  it('fails on an unknown kind, an invalid config or an invalid start message', async () => {
    const cases: [unknown, RegExp][] = [
      [{ kind: 'nope', config: {} }, /kind: unknown job kind "nope"/],
      [{ kind: 'many', config: { n: 0 } }, /^config\.n: /],
    ];
    for (const [c, re] of cases) {
      const h = harness();
      const { kind, config } = c as { kind: string; config: unknown };
      h.start(kind, config);
      await h.exited;
      const failed = h.sent.find((m) => m.type === 'failed');
      expect(failed?.type === 'failed' && failed.error.message).toMatch(re);
    }
    const h = harness();
    h.deliver({ type: 'start', runId: 'r' });
    await h.exited;
    const failed = h.sent.find((m) => m.type === 'failed');
    expect(failed?.type === 'failed' && failed.error.message).toMatch(
      /invalid message from the lab: runId: /,
    );
  });

  it('on cancel aborts the signal, flushes what it has and sends done without a result', async () => {
    const h = harness();
    h.start('wait', {});
    await new Promise((r) => setTimeout(r, 60));
    h.deliver({ type: 'cancel' });
    await h.exited;
    expect(h.code()).toBe(0);
    expect(h.sent.some((m) => m.type === 'result' || m.type === 'failed')).toBe(false);
    const points = h.sent.flatMap((m) => (m.type === 'metrics' ? m.points : []));
    expect(points.length).toBeGreaterThan(0);
    expect(h.sent[h.sent.length - 1]).toEqual({ type: 'done' });
  });

  it('a cancel that arrives before start ends the worker without running the job', async () => {
    const h = harness();
    h.deliver({ type: 'cancel' });
    h.start('many', { n: 10 });
    await h.exited;
    expect(h.sent.map((m) => m.type)).toEqual(['ready', 'done']);
    expect(existsSync(join(dir, 'work'))).toBe(false);
  });
});
