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
import { tinyQhead } from '../../helpers/tiny-configs';

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

describe('the roots kept for a run until its job starts', () => {
  it('are dropped when the run is cancelled while queued or its job cannot be launched, not kept forever', async () => {
    let spawnFails = false;
    const launcher: JobLauncher = {
      name: 'hanging-or-failing',
      spawn: () => {
        if (spawnFails) throw new Error('no process for you');
        return new ScriptedProcess(() => [], false); // starts, then runs until killed
      },
    };
    const l = await lab.open({ launcher, concurrency: 1 });
    const kept = (l as unknown as { guardedRuns: Map<string, string[]> }).guardedRuns;
    writeFileSync(join(lab.dir, 'imports', 'd.csv'), 'text,label\nhello,a\nworld,b\n');
    const req = {
      kind: 'qhead',
      config: { datasetFile: { path: 'd.csv', format: 'csv', textColumn: 'text', labelColumn: 'label' } },
    };
    const blocker = await l.createRun(req);
    await until(() => !kept.has(blocker.id)); // its job took its roots with the start message
    const queued = await l.createRun(req);
    expect(kept.has(queued.id)).toBe(true);
    expect((await l.cancelRun(queued.id)).status).toBe('cancelled');
    expect(kept.has(queued.id)).toBe(false);

    const unlaunched = await l.createRun(req);
    spawnFails = true;
    await l.cancelRun(blocker.id);
    const failed = await l.waitForRun(unlaunched.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('could not start the job process');
    expect(kept.size).toBe(0);
  });

  it('are dropped for a queued run another lab process cancelled, at the next guarded createRun', async () => {
    const launcher: JobLauncher = { name: 'hanging', spawn: () => new ScriptedProcess(() => [], false) };
    const l = await lab.open({ launcher, concurrency: 1 });
    const kept = (l as unknown as { guardedRuns: Map<string, string[]> }).guardedRuns;
    writeFileSync(join(lab.dir, 'imports', 'd.csv'), 'text,label\nhello,a\nworld,b\n');
    const req = {
      kind: 'qhead',
      config: { datasetFile: { path: 'd.csv', format: 'csv', textColumn: 'text', labelColumn: 'label' } },
    };
    const blocker = await l.createRun(req);
    await until(() => !kept.has(blocker.id));
    const queued = await l.createRun(req);
    const other = await openLab({ labDir: lab.dir, schedule: false });
    try {
      expect((await other.cancelRun(queued.id)).status).toBe('cancelled');
    } finally {
      await other.close();
    }
    expect(kept.has(queued.id)).toBe(true); // this process was not told
    const next = await l.createRun(req);
    expect([...kept.keys()]).toEqual([next.id]);
    await l.cancelRun(next.id);
    await l.cancelRun(blocker.id);
    expect(kept.size).toBe(0);
  });
});

describe('a real qhead job started over the API', () => {
  it('reads its dataset under the roots; refuses it once a folder on the path was swapped for a symlink', async () => {
    const l = await lab.open({ concurrency: 1 });
    const rows = Array.from(
      { length: 40 },
      (_, i) => `${i % 2 ? 'the stars shine' : 'the market fell'} ${i},${i % 2 ? 'sky' : 'money'}`,
    );
    mkdirSync(join(lab.dir, 'imports', 'sub'));
    writeFileSync(join(lab.dir, 'imports', 'sub', 'd.csv'), `text,label\n${rows.join('\n')}\n`);
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
