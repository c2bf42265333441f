// Issue 13, files the API may read — the job's side: a run created over HTTP or IPC carries the lab's file roots
// in its start message, and the job opens the files its config names only when the file actually opened is
// inside one (core/util/file-guard.ts). A folder on the checked path swapped for a symlink out of the roots
// after createRun is then refused, where before the job followed it and read the file outside.
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  mkdirSync,
  mkdtempSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readDatasetFile } from '../../../core/data/import';
import type { JobLauncher, JobProcess } from '../../../core/lab/launcher';
import type { ParentMessage } from '../../../core/lab/protocol';
import { openLab } from '../../../core/lab/service';
import { setFileGuard } from '../../../core/util/file-guard';
import { labFixture, ScriptedProcess, until } from '../../helpers/lab';
import { tinyQhead, tinyQheadCsv } from '../../helpers/tiny-configs';

const lab = labFixture('qlab-guard-');
const scratch = mkdtempSync(join(tmpdir(), 'qlab-guard-scratch-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(() => setFileGuard(null));

describe('readDatasetFile under the file guard', () => {
  it('refuses a file reached through a folder swapped for a symlink after the check; reads it unguarded', async () => {
    const root = realpathSync(mkdtempSync(join(scratch, 'root-')));
    const outside = realpathSync(mkdtempSync(join(scratch, 'outside-')));
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(root, 'sub', 'data.csv'), 'text,label\nhello,a\n');
    writeFileSync(join(outside, 'data.csv'), 'text,label\nSECRET,b\n');
    const path = join(root, 'sub', 'data.csv'); // the real path createRun stored

    setFileGuard([root]);
    expect(Buffer.from(await readDatasetFile(path)).toString()).toContain('hello');

    // the swap, after the check
    renameSync(join(root, 'sub'), join(root, 'sub-was'));
    symlinkSync(outside, join(root, 'sub'));
    await expect(readDatasetFile(path)).rejects.toThrow(
      `${path}: the file opened is outside the lab's file roots (it was replaced, or a folder on its path was, after the run was checked)`,
    );
    // a missing file keeps its own message under the guard
    await expect(readDatasetFile(join(root, 'nope.csv'))).rejects.toThrow(
      `${join(root, 'nope.csv')}: no such file`,
    );

    // a command-line run (no roots) follows the symlink as the user's own file system says
    setFileGuard(null);
    expect(Buffer.from(await readDatasetFile(path)).toString()).toContain('SECRET');
  });

  it('refuses at once a FIFO outside the roots reached through a swapped folder (no second, blocking open)', async () => {
    const root = realpathSync(mkdtempSync(join(scratch, 'root-')));
    const outside = realpathSync(mkdtempSync(join(scratch, 'outside-')));
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(root, 'sub', 'data.csv'), 'text,label\nhello,a\n');
    const fifo = join(outside, 'data.csv');
    execFileSync('mkfifo', [fifo]);
    const path = join(root, 'sub', 'data.csv');
    renameSync(join(root, 'sub'), join(root, 'sub-was'));
    symlinkSync(outside, join(root, 'sub'));

    setFileGuard([root]);
    const read = readDatasetFile(path).then(
      () => 'read',
      (e: Error) => e.message,
    );
    const settled = await Promise.race([read, new Promise((r) => setTimeout(() => r('blocked'), 2000))]);
    if (settled === 'blocked') {
      // a reader blocked in open(2) on the FIFO: a read-write open (which does not block on Linux) lets it
      // return, so the worker is not left hanging after the test fails
      closeSync(openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK));
      await read;
    }
    expect(settled).toContain("the file opened is outside the lab's file roots");
  });
});

/** A launcher whose processes record the start messages they get, then end their run. */
class StartRecorder implements JobLauncher {
  readonly name = 'start-recorder';
  readonly starts: ParentMessage[] = [];
  spawn(): JobProcess {
    const p = new ScriptedProcess(() => [{ type: 'done' }]);
    const send = p.send.bind(p);
    p.send = (m: ParentMessage) => {
      this.starts.push(m);
      send(m);
    };
    return p;
  }
}

describe('the start message', () => {
  it('carries the roots for a run created over the API, and none for a command-line run', async () => {
    const launcher = new StartRecorder();
    const l = await lab.open({ launcher });
    writeFileSync(join(lab.dir, 'imports', 'd.csv'), 'text,label\nhello,a\nworld,b\n');
    const req = {
      kind: 'qhead',
      config: { datasetFile: { path: 'd.csv', format: 'csv', textColumn: 'text', labelColumn: 'label' } },
    };
    const api = await l.createRun(req);
    await until(() => launcher.starts.length === 1);
    const first = launcher.starts[0] as { runId: string; fileRoots?: string[] };
    expect(first.runId).toBe(api.id);
    expect(first.fileRoots).toEqual([realpathSync(join(lab.dir, 'imports'))]);

    const cli = await l.createRun(
      {
        ...req,
        config: { datasetFile: { ...req.config.datasetFile, path: join(lab.dir, 'imports', 'd.csv') } },
      },
      { localFiles: true },
    );
    await until(() => launcher.starts.length === 2);
    const second = launcher.starts[1] as { runId: string; fileRoots?: string[] };
    expect(second.runId).toBe(cli.id);
    expect(second.fileRoots).toBeUndefined();
  });
});

describe('the roots stored with the run', () => {
  it('reach the start message when another lab process on the same lab directory launches the run', async () => {
    const req = {
      kind: 'qhead',
      config: { datasetFile: { path: 'd.csv', format: 'csv', textColumn: 'text', labelColumn: 'label' } },
    };
    const a = await openLab({ labDir: lab.dir, schedule: false });
    writeFileSync(join(lab.dir, 'imports', 'd.csv'), 'text,label\nhello,a\nworld,b\n');
    let api: { id: string };
    let cli: { id: string };
    try {
      api = await a.createRun(req);
      cli = await a.createRun(
        {
          ...req,
          config: { datasetFile: { ...req.config.datasetFile, path: join(lab.dir, 'imports', 'd.csv') } },
        },
        { localFiles: true },
      );
    } finally {
      await a.close();
    }
    const launcher = new StartRecorder();
    await lab.open({ launcher, concurrency: 1 });
    await until(() => launcher.starts.length === 2);
    const starts = launcher.starts as { runId: string; fileRoots?: string[] }[];
    expect(starts.find((m) => m.runId === api.id)?.fileRoots).toEqual([
      realpathSync(join(lab.dir, 'imports')),
    ]);
    expect(starts.find((m) => m.runId === cli.id)).toBeDefined();
    expect(starts.find((m) => m.runId === cli.id)?.fileRoots).toBeUndefined();
  });
});

describe('a real qhead job started over the API', () => {
  it('reads its dataset under the roots; refuses it once a folder on the path was swapped for a symlink', async () => {
    const l = await lab.open({ concurrency: 1 });
    mkdirSync(join(lab.dir, 'imports', 'sub'));
    writeFileSync(join(lab.dir, 'imports', 'sub', 'd.csv'), tinyQheadCsv());
    const outside = mkdtempSync(join(scratch, 'outside-'));
    writeFileSync(join(outside, 'd.csv'), 'text,label\nSECRET one,x\nSECRET two,y\n');
    const req = {
      kind: 'qhead',
      config: tinyQhead(2, {
        seeds: 1,
        epochs: 1,
        datasetFile: { path: 'sub/d.csv', format: 'csv', textColumn: 'text', labelColumn: 'label' },
      }),
    };

    const ok = await l.createRun(req);
    expect((await l.waitForRun(ok.id)).status).toBe('succeeded');

    // a second run waits behind a slow one; meanwhile the folder on its checked path becomes a symlink out
    const blocker = await l.createRun(
      { kind: 'test-stream', config: { steps: 1000, delayMs: 20 } },
      { localFiles: true },
    );
    const victim = await l.createRun(req);
    renameSync(join(lab.dir, 'imports', 'sub'), join(lab.dir, 'imports', 'sub-was'));
    symlinkSync(outside, join(lab.dir, 'imports', 'sub'));
    await l.cancelRun(blocker.id);
    const done = await l.waitForRun(victim.id);
    expect(done.status).toBe('failed');
    expect(done.error).toContain("the file opened is outside the lab's file roots");
    expect(done.error).not.toContain('SECRET');
  }, 180_000);
});
