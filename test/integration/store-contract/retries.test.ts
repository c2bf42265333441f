// Retries in the store, on SQLite and on a real PostgreSQL (the same cases; both must read the same): a stale
// run with retries left goes back to `queued` as its next attempt instead of ending `interrupted`, its job's
// open children end, the next claim runs it again, and a run out of retries ends `interrupted` as before. A lab
// that cannot re-queue (retry = false) leaves runs with retries left alone. The PostgreSQL half is skipped, with
// a message, only when no server can be started.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CreateRunRequestSchema } from '../../../core/api/lab-api';
import { parseRunFile } from '../../../core/cli/config-file';
import type { RunStore } from '../../../core/lab/run-store';
import { PgRunStore } from '../../../core/lab/store-pg';
import { SqliteRunStore } from '../../../core/lab/store-sqlite';
import { isSkipped, startPostgres, type PgServer } from '../../helpers/servers';

const server = await startPostgres();
const pgServer: PgServer | undefined = isSkipped(server) ? undefined : server;
if (isSkipped(server))
  console.warn(`\n*** retries: the PostgreSQL cases are SKIPPED: ${server.skipped} ***\n`);
else process.env.PGPASSWORD = server.password;
const tmp = mkdtempSync(join(tmpdir(), 'qlab-retries-'));
afterAll(() => {
  pgServer?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const engines = [
  {
    name: 'sqlite',
    skip: false,
    open: async (): Promise<RunStore> =>
      SqliteRunStore.open(join(mkdtempSync(join(tmp, 'sq-')), 'lab.sqlite')),
  },
  {
    name: 'postgres',
    skip: pgServer === undefined,
    open: async (): Promise<RunStore> => PgRunStore.open(await pgServer!.createDatabase()),
  },
];
const seen: Record<string, unknown> = {};

const T0 = Date.parse('2026-01-02T03:04:05.678Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

async function add(s: RunStore, n: number, retries?: number): Promise<string> {
  await s.createRun({
    id: ID(n),
    kind: 'k',
    name: `run ${n}`,
    config: {},
    seed: n,
    createdAt: at(n),
    codeVersion: 'v1',
    tags: [],
    ...(retries === undefined ? {} : { retries }),
  });
  return ID(n);
}

for (const e of engines) {
  describe.skipIf(e.skip)(`retries on ${e.name}`, () => {
    it('re-queues a stale run while it has retries left, then interrupts it; its children end', async () => {
      const s = await e.open();
      try {
        const once = await add(s, 1, 1);
        const never = await add(s, 2);
        const d0 = await s.getDetail(once);
        expect([d0?.attempt, d0?.retries]).toEqual([1, 1]);
        expect((await s.getDetail(never))?.retries).toBe(0);
        expect(await s.claimRun(once, at(100), { worker: 'a' })).toBe(true);
        expect(await s.claimRun(never, at(100), { worker: 'a' })).toBe(true);
        // a child of the job (ctx.child) lives inside attempt 1's process, so it ends with it
        await s.createChildRun({
          id: ID(101),
          parentId: once,
          kind: 'k/point',
          name: 'child',
          config: {},
          seed: 7,
          at: at(110),
          codeVersion: 'v1',
          host: {},
        });
        // a lab that cannot hand re-queued runs on leaves the one with retries alone
        expect(await s.interruptStale(at(1000), at(3000), [], false)).toEqual([never]);
        expect(await s.status(once)).toBe('running');

        const got = await s.interruptStale(at(1000), at(3000));
        expect(got.sort()).toEqual([once, ID(101)].sort());
        const d1 = await s.getDetail(once);
        expect([d1?.status, d1?.attempt, d1?.finishedAt, d1?.error]).toEqual(['queued', 2, null, null]);
        expect(await s.status(ID(101))).toBe('interrupted');
        expect(await s.queuedIds()).toEqual([once]);

        // attempt 2 is claimed like any queued run, and dies too: no retries left now
        expect(await s.claimNext(at(4000), { worker: 'b' })).toBe(once);
        expect((await s.getDetail(once))?.host).toEqual({ worker: 'b' });
        expect(await s.interruptStale(at(5000), at(6000))).toEqual([once]);
        const d2 = await s.getDetail(once);
        expect([d2?.status, d2?.attempt]).toEqual(['interrupted', 2]);
        expect(d2?.error).toMatch(/no heartbeat since/);
        seen[e.name] = { d1: { ...d1, host: null }, d2: { ...d2, host: null } };
      } finally {
        await s.close();
      }
    });
  });
}

describe('retries across stores and requests', () => {
  it.skipIf(pgServer === undefined)('both stores read the same', () => {
    expect(seen.postgres).toEqual(seen.sqlite);
  });

  it('createRun refuses retries that are not a whole number from 0 to 10, naming the field', () => {
    for (const bad of [-1, 11, 1.5, '2']) {
      const r = CreateRunRequestSchema.safeParse({ kind: 'k', config: {}, retries: bad });
      expect(r.success).toBe(false);
      expect(r.error?.issues[0].path).toEqual(['retries']);
    }
    expect(CreateRunRequestSchema.safeParse({ kind: 'k', config: {}, retries: 3 }).success).toBe(true);
  });

  it('a qlab run file carries retries to the request, and a bad value is refused naming the field', () => {
    expect(parseRunFile('{"kind": "k", "retries": 2, "config": {}}', 'run.json').retries).toBe(2);
    expect(parseRunFile('{"kind": "k", "config": {}}', 'run.json').retries).toBeUndefined();
    expect(() => parseRunFile('{"kind": "k", "retries": 99, "config": {}}', 'run.json')).toThrow(
      /run\.json: retries/,
    );
  });
});
