// Issue 13, files the API may read, in the distributed lab: a run created over HTTP on a hub (PostgreSQL store,
// Redis queue) keeps its file roots in the shared store, and the `qlab worker` process that takes it guards its
// job with them. Before, the roots lived in the hub's memory and the worker ran the job unguarded: a folder on
// the checked dataset path swapped for a symlink out of the roots was followed and its content read. Skipped,
// with a message, only when the servers cannot be started.
import type { ChildProcess } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../../core/api/lab-api';
import type { CliLab } from '../../../core/cli/context';
import { startServer } from '../../../core/cli/server';
import { EXTRA_KINDS_ENV } from '../../../core/lab/kinds';
import { PgRunStore } from '../../../core/lab/store-pg';
import { openHub, spawnWorker, startPgAndRedis, stopProcesses } from '../../helpers/distributed-lab';
import { LAB_KINDS_FIXTURE } from '../../helpers/lab';
import { tinyQhead, tinyQheadCsv } from '../../helpers/tiny-configs';

const { pg, redis, why } = await startPgAndRedis('file roots on a worker');

const labDir = mkdtempSync(join(tmpdir(), 'qlab-roots-worker-'));
const outside = mkdtempSync(join(tmpdir(), 'qlab-roots-worker-outside-'));
let hub: CliLab | undefined;
let worker: ChildProcess | undefined;
afterAll(async () => {
  await stopProcesses([worker]);
  await hub?.close();
  pg?.stop();
  redis?.stop();
  rmSync(labDir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe.skipIf(why !== '')('a run created over HTTP on a hub and run by a qlab worker', () => {
  it('is guarded by the roots stored with it: a swapped folder out of them is refused, nothing of it echoed', async () => {
    const storeUrl = await pg!.createDatabase();
    process.env.PGPASSWORD = pg!.password;
    process.env[EXTRA_KINDS_ENV] = LAB_KINDS_FIXTURE;
    hub = await openHub(labDir, storeUrl, redis!.url);
    const token = 'worker-roots-test-token';
    const server = await startServer({ api: hub, host: '127.0.0.1', port: 0, token, rendererDir: null });
    let created: RunSummary;
    try {
      mkdirSync(join(labDir, 'imports', 'sub'), { recursive: true });
      writeFileSync(join(labDir, 'imports', 'sub', 'd.csv'), tinyQheadCsv());
      const config = tinyQhead(2, {
        seeds: 1,
        epochs: 1,
        datasetFile: { path: 'sub/d.csv', format: 'csv', textColumn: 'text', labelColumn: 'label' },
      });
      const r = await fetch(`${server.url}api/createRun`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify({ kind: 'qhead', config }),
      });
      const body = (await r.json()) as { ok: boolean; value: RunSummary };
      expect(body.ok).toBe(true);
      created = body.value;
    } finally {
      await server.close();
    }
    const store = await PgRunStore.open(storeUrl);
    try {
      expect(await store.fileRoots(created.id)).toEqual([realpathSync(join(labDir, 'imports'))]);
    } finally {
      await store.close();
    }

    // before any worker takes it, the folder on the checked path becomes a symlink out of the roots
    writeFileSync(join(outside, 'd.csv'), 'text,label\nSECRET one,x\nSECRET two,y\nSECRET three,x\n');
    renameSync(join(labDir, 'imports', 'sub'), join(labDir, 'imports', 'sub-was'));
    symlinkSync(outside, join(labDir, 'imports', 'sub'));

    worker = spawnWorker({ storeUrl, queueUrl: redis!.url, name: 'w1', labDir });
    let out = '';
    worker.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    worker.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const done = await hub.waitForRun(created.id);
    expect(done.status, out).toBe('failed');
    expect(done.error).toContain("the file opened is outside the lab's file roots");
    expect(done.error).not.toContain('SECRET');
    expect(String((await hub.getRun(created.id)).host.worker)).toBe('w1');
    expect(JSON.stringify(await hub.getRunLog({ runId: created.id }))).not.toContain('SECRET');
    expect(out).not.toContain('SECRET');
  }, 240_000);
});
