// One JobQueue contract, two queues: the local queue (the store is the queue) and BullMQ on a real Redis server
// (started here as the redis user on a loopback port, stopped after). Consumers stand for separate processes:
// each has its own queue object and its own connection to the store. The BullMQ half is skipped, with a
// message, only when no Redis server can be started.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LocalJobQueue, type JobQueue } from '../../../core/lab/job-queue';
import { BullJobQueue, redisConnection } from '../../../core/lab/queue-bullmq';
import type { RunStore } from '../../../core/lab/run-store';
import { SqliteRunStore } from '../../../core/lab/store-sqlite';
import { isSkipped, startRedis, type RedisServer } from '../../helpers/servers';

const server = await startRedis();
const redis: RedisServer | undefined = isSkipped(server) ? undefined : server;
if (isSkipped(server)) console.warn(`\n*** job queue: the BullMQ cases are SKIPPED: ${server.skipped} ***\n`);
const tmp = mkdtempSync(join(tmpdir(), 'qlab-queue-'));
afterAll(() => {
  redis?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

let n = 0;
interface Kind {
  name: string;
  skip: boolean;
  /** A queue on its own store connection, as one process would have. */
  make(file: string, queueName: string): { store: RunStore; queue: JobQueue };
}
const kinds: Kind[] = [
  {
    name: 'local',
    skip: false,
    make: (file) => {
      const store = SqliteRunStore.open(file);
      return { store, queue: new LocalJobQueue(store) };
    },
  },
  {
    name: 'bullmq',
    skip: redis === undefined,
    make: (file, queueName) => {
      const store = SqliteRunStore.open(file);
      return { store, queue: new BullJobQueue({ url: redis!.url, store, queueName, lockDurationMs: 5000 }) };
    },
  },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of kinds) {
  describe.skipIf(kind.skip)(`JobQueue contract: ${kind.name}`, () => {
    const opened: { store: RunStore; queue: JobQueue }[] = [];
    let file = '';
    let queueName = '';
    const proc = () => {
      const p = kind.make(file, queueName);
      opened.push(p);
      return p;
    };
    afterEach(async () => {
      for (const p of opened.splice(0)) {
        await p.queue.stop();
        await p.store.close();
      }
    });
    const setup = () => {
      file = join(mkdtempSync(join(tmp, 'q-')), 'lab.sqlite');
      queueName = `qlab-test-${process.pid}-${++n}`;
    };
    const create = async (hub: { store: RunStore; queue: JobQueue }, count: number) => {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const id = `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`;
        await hub.store.createRun({
          id,
          kind: 'k',
          name: `r${i}`,
          config: {},
          seed: i,
          createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
          codeVersion: 'v',
          tags: [],
        });
        await hub.queue.enqueue(id);
        ids.push(id);
      }
      return ids;
    };

    it('hands each run to exactly one consumer, claimed, never more than `concurrency` at once', async () => {
      setup();
      const hub = proc();
      const ids = await create(hub, 12);
      const got: { id: string; by: string; status: string | undefined }[] = [];
      const peak: Record<string, number> = { a: 0, b: 0 };
      const now: Record<string, number> = { a: 0, b: 0 };
      for (const name of ['a', 'b']) {
        const c = proc();
        c.queue.consume(
          async (id) => {
            now[name]++;
            peak[name] = Math.max(peak[name], now[name]);
            got.push({ id, by: name, status: await c.store.status(id) });
            await sleep(60);
            await c.store.finishRun(id, 'succeeded', new Date().toISOString(), null);
            now[name]--;
          },
          { concurrency: 2, host: () => ({ hostname: name }) },
        );
      }
      const end = Date.now() + 20_000;
      while (got.length < 12 && Date.now() < end) await sleep(20);
      await sleep(300); // nothing more may come
      expect(got.map((g) => g.id).sort()).toEqual(ids);
      expect(got.every((g) => g.status === 'running')).toBe(true);
      expect(peak.a).toBeLessThanOrEqual(2);
      expect(peak.b).toBeLessThanOrEqual(2);
      expect(got.some((g) => g.by === 'a') && got.some((g) => g.by === 'b')).toBe(true);
      expect((await hub.store.getDetail(got[0].id))!.host).toEqual({ hostname: got[0].by });
    });

    it('never hands out a run that was cancelled before a consumer took it', async () => {
      setup();
      const hub = proc();
      const ids = await create(hub, 3);
      await hub.store.finishRun(ids[1], 'cancelled', new Date().toISOString(), 'cancelled before it started');
      const c = proc();
      const got: string[] = [];
      c.queue.consume(
        async (id) => {
          got.push(id);
          await c.store.finishRun(id, 'succeeded', new Date().toISOString(), null);
        },
        { concurrency: 1, host: () => ({}) },
      );
      const end = Date.now() + 10_000;
      while (got.length < 2 && Date.now() < end) await sleep(20);
      await sleep(300);
      expect(got).toEqual([ids[0], ids[2]]);
      expect(await hub.store.status(ids[1])).toBe('cancelled');
    });

    it('after stop() a consumer takes nothing more', async () => {
      setup();
      const hub = proc();
      const c = proc();
      const got: string[] = [];
      c.queue.consume(
        async (id) => {
          got.push(id);
        },
        { concurrency: 1, host: () => ({}) },
      );
      await sleep(200);
      await c.queue.stop();
      const [id] = await create(hub, 1);
      await sleep(600);
      expect(got).toEqual([]);
      expect(await hub.store.status(id)).toBe('queued');
    });
  });
}

describe('the Redis URL', () => {
  it('takes host, port, database and TLS from the URL and the password only from the environment', () => {
    expect(redisConnection('rediss://u@h.example:6380/2', { QLAB_REDIS_PASSWORD: 's3cret' })).toMatchObject({
      host: 'h.example',
      port: 6380,
      db: 2,
      username: 'u',
      password: 's3cret',
      tls: {},
    });
    expect(redisConnection('redis://127.0.0.1', {})).toMatchObject({
      port: 6379,
      db: 0,
      password: undefined,
    });
    expect(() => redisConnection('redis://:pw@h:1', {})).toThrow(
      /must not hold a password.*QLAB_REDIS_PASSWORD/,
    );
    expect(() => redisConnection('http://h', {})).toThrow(/redis:\/\/ or rediss:\/\//);
    expect(() => redisConnection('redis://h/x', {})).toThrow(/database must be a number/);
  });
});
