// Issue 13, files the API may read, across processes: the file roots of a run created over HTTP live in the
// store with the run (migrations/004_run_file_roots.sql), so the job is guarded whichever process launches it.
// Before, they lived in the creating lab's memory: a run created over HTTP by a passive lab A and started by
// lab B on the same lab directory (or by a `qlab worker`: test/integration/store-contract/file-roots-worker.test.ts)
// ran unguarded, and a folder on its checked path swapped for a symlink out of the roots was followed.
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
import { startServer } from '../../../core/cli/server';
import { openLab } from '../../../core/lab/service';
import { SqliteRunStore } from '../../../core/lab/store-sqlite';
import { labFixture } from '../../helpers/lab';
import { callLabApi } from '../../helpers/lab-server';
import { tinyQhead, tinyQheadCsv } from '../../helpers/tiny-configs';

const lab = labFixture('qlab-roots-stored-');
const scratch = mkdtempSync(join(tmpdir(), 'qlab-roots-stored-scratch-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('a run created over HTTP by one lab process and started by another', () => {
  it('is guarded in the job of lab B: a swapped folder out of the roots is refused, the content never echoed', async () => {
    // lab A: passive, serving the LabApi over HTTP with a token; it starts no job
    const a = await openLab({ labDir: lab.dir, schedule: false });
    const token = 'stored-roots-test-token';
    const server = await startServer({ api: a, host: '127.0.0.1', port: 0, token, rendererDir: null });
    let created: RunSummary;
    let cli: RunSummary;
    try {
      mkdirSync(join(lab.dir, 'imports', 'sub'));
      writeFileSync(join(lab.dir, 'imports', 'sub', 'd.csv'), tinyQheadCsv());
      const config = tinyQhead(2, {
        seeds: 1,
        epochs: 1,
        datasetFile: { path: 'sub/d.csv', format: 'csv', textColumn: 'text', labelColumn: 'label' },
      });
      created = (await callLabApi(server.url, token, 'createRun', { kind: 'qhead', config })) as RunSummary;
      // a command-line run on lab A names its own file and stays unguarded (no roots stored)
      cli = await a.createRun(
        { kind: 'test-stream', config: { steps: 1, delayMs: 1 } },
        { localFiles: true },
      );
    } finally {
      await server.close();
      await a.close();
    }

    // meanwhile the folder on the checked path becomes a symlink out of the roots
    const outside = mkdtempSync(join(scratch, 'outside-'));
    writeFileSync(join(outside, 'd.csv'), 'text,label\nSECRET one,x\nSECRET two,y\nSECRET three,x\n');
    renameSync(join(lab.dir, 'imports', 'sub'), join(lab.dir, 'imports', 'sub-was'));
    symlinkSync(outside, join(lab.dir, 'imports', 'sub'));

    // lab B: another process on the same lab directory, which launches what A queued
    const store = SqliteRunStore.open(join(lab.dir, 'lab.sqlite'));
    try {
      expect(await store.fileRoots(created.id)).toEqual([realpathSync(join(lab.dir, 'imports'))]);
      expect(await store.fileRoots(cli.id)).toBeNull();
    } finally {
      await store.close();
    }
    const b = await lab.open({ concurrency: 1 });
    const done = await b.waitForRun(created.id);
    expect(done.status).toBe('failed');
    expect(done.error).toContain("the file opened is outside the lab's file roots");
    expect(done.error).not.toContain('SECRET');
    const log = await b.getRunLog({ runId: created.id });
    expect(log.lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(log)).not.toContain('SECRET');
    expect((await b.waitForRun(cli.id)).status).toBe('succeeded');
  }, 180_000);
});
