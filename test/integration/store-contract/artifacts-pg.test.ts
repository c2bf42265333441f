// Artifacts across machines without a shared lab directory: a `qlab worker` process with its own lab directory
// writes an artifact (2.5 MiB of pseudo-random bytes, so several 1 MiB chunks, and a small text file); the hub,
// opened on another lab directory, reads both byte for byte from PostgreSQL. A stored chunk damaged afterwards
// is reported by name (size and SHA-256 against the row) and never served. Real PostgreSQL and Redis; skipped,
// with a message, only when the servers cannot be started.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliLab } from '../../../core/cli/context';
import { EXTRA_KINDS_ENV } from '../../../core/lab/kinds';
import type { LabService } from '../../../core/lab/service';
import { blobBytes } from '../../fixtures/lab-kinds';
import { openHub, spawnWorker, startPgAndRedis, stopProcesses } from '../../helpers/distributed-lab';
import { LAB_KINDS_FIXTURE } from '../../helpers/lab';

const { pg: pgServer, redis, why } = await startPgAndRedis('artifacts on PostgreSQL');

const hubDir = mkdtempSync(join(tmpdir(), 'qlab-art-hub-'));
const workerDir = mkdtempSync(join(tmpdir(), 'qlab-art-worker-'));
let storeUrl = '';
let hub: CliLab | undefined;
let worker: ChildProcess | undefined;
const BYTES = 2.5 * 1024 * 1024 + 17;

describe.skipIf(why !== '')(
  'artifacts written on a worker, read on the hub (no shared lab directory)',
  () => {
    beforeAll(async () => {
      storeUrl = await pgServer!.createDatabase();
      process.env.PGPASSWORD = pgServer!.password;
      process.env[EXTRA_KINDS_ENV] = LAB_KINDS_FIXTURE;
      hub = await openHub(hubDir, storeUrl, redis!.url);
      worker = spawnWorker({ storeUrl, queueUrl: redis!.url, name: 'w1', labDir: workerDir });
    });
    afterAll(async () => {
      await stopProcesses([worker]);
      await hub?.close();
      pgServer?.stop();
      redis?.stop();
      rmSync(hubDir, { recursive: true, force: true });
      rmSync(workerDir, { recursive: true, force: true });
    });

    it('the hub reads what the worker wrote, byte for byte; a damaged blob is reported, not served', async () => {
      const run = await hub!.createRun({
        kind: 'test-stream',
        config: { steps: 3, artifact: true, artifactBytes: BYTES },
      });
      const done = await hub!.waitForRun(run.id);
      expect(done.status, done.error ?? '').toBe('succeeded');
      const d = await hub!.getRun(run.id);
      expect(String(d.host.worker)).toBe('w1');
      expect(d.artifacts.map((a) => [a.name, a.bytes, a.missing ?? false])).toEqual([
        ['blob.bin', BYTES, false],
        ['steps.txt', `3 steps, seed ${d.seed}\n`.length, false],
      ]);
      // nothing of it on the hub's disk before it is read, nothing left on the worker's
      expect(existsSync(join(hubDir, 'artifacts', run.id))).toBe(false);
      const left = existsSync(join(workerDir, 'artifacts', run.id))
        ? readdirSync(join(workerDir, 'artifacts', run.id))
        : [];
      expect(left).toEqual([]);

      const lab = hub as unknown as LabService;
      const file = (await lab.artifactFile(run.id, 'blob.bin'))!;
      expect(file.startsWith(hubDir)).toBe(true);
      expect(Buffer.compare(readFileSync(file), Buffer.from(blobBytes(BYTES, d.seed)))).toBe(0);
      expect(readFileSync((await lab.artifactFile(run.id, 'steps.txt'))!, 'utf8')).toBe(
        `3 steps, seed ${d.seed}\n`,
      );

      // A damaged local copy is not trusted: it is read again from the store.
      writeFileSync(file, 'garbage');
      expect(
        Buffer.compare(
          readFileSync((await lab.artifactFile(run.id, 'blob.bin'))!),
          Buffer.from(blobBytes(BYTES, d.seed)),
        ),
      ).toBe(0);

      // One byte of the second chunk flipped in the database: reported by name, never served.
      const sha = d.artifacts.find((a) => a.name === 'blob.bin')!.sha256;
      const c = new pg.Client({ connectionString: storeUrl });
      await c.connect();
      try {
        const r = await c.query(
          `UPDATE artifact_blobs SET data = set_byte(data, 1000, (get_byte(data, 1000) + 1) % 256)
         WHERE sha256 = $1 AND seq = 1`,
          [sha],
        );
        expect(r.rowCount).toBe(1);
      } finally {
        await c.end();
      }
      rmSync(join(hubDir, 'artifact-cache'), { recursive: true, force: true });
      await expect(lab.artifactFile(run.id, 'blob.bin')).rejects.toThrow(
        new RegExp(
          `artifact blob.bin of run ${run.id} is damaged: ${BYTES} bytes with sha256 [0-9a-f]{64}, its record says ${BYTES} bytes with sha256 ${sha}; it is not served`,
        ),
      );
      // nothing of the damaged bytes was left where a shell would serve it
      expect(existsSync(join(hubDir, 'artifact-cache', sha))).toBe(false);
      expect(readdirSync(join(hubDir, 'artifact-cache'))).toEqual([]);
      // the other artifact still reads
      expect(readFileSync((await lab.artifactFile(run.id, 'steps.txt'))!, 'utf8')).toBe(
        `3 steps, seed ${d.seed}\n`,
      );
    }, 120_000);
  },
);
