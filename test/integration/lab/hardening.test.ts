// Issue 13, "the lab process must not die": best-effort cleanup after a run, periodic stale-heartbeat checks,
// orphaned scratch folders removed at open, job processes that outlive their lab, and runs whose files vanished.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Store } from '../../../core/lab/store';
import { labFixture, ScriptedProcess, until } from '../../helpers/lab';

const lab = labFixture('qlab-hard-');

/** A job that reports a result at once (no real process). */
const okJob = () => [
  { type: 'result', result: { summary: { ok: 1 }, report: [], backend: {} } },
  { type: 'done' },
];

/**
 * Whether `nobody` can load this checkout's packages (a clone inside a root-only 0700 folder, as mktemp -d makes,
 * cannot): the EACCES case needs it and is skipped otherwise.
 */
function nobodyCanReadProject(): boolean {
  const tsx = fileURLToPath(new URL('../../../node_modules/tsx/package.json', import.meta.url));
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'test', '-r', tsx], {
    timeout: 10_000,
  });
  return r.status === 0;
}

describe('the lab process survives what happens after a run', () => {
  it('keeps running when a finished run’s scratch folder cannot be removed, logs a warning and starts the next run', async () => {
    const warnings: string[] = [];
    // A regular file where the work/ folder should be: removing work/<id> fails (ENOTDIR), as EACCES does
    // for a non-root user whose job left a read-only folder; root ignores chmod, so this stands in for it.
    writeFileSync(join(lab.dir, 'work'), 'not a folder');
    const l = await lab.open({
      launcher: { name: 'scripted', spawn: () => new ScriptedProcess(okJob) },
      onWarning: (m) => warnings.push(m),
    });
    const a = await l.createRun({ kind: 'test-stream', config: { steps: 1 } });
    const b = await l.createRun({ kind: 'test-stream', config: { steps: 1 } });
    expect((await l.waitForRun(a.id)).status).toBe('succeeded');
    expect((await l.waitForRun(b.id)).status).toBe('succeeded');
    expect(warnings.some((w) => w.includes('could not remove the scratch folder') && w.includes(a.id))).toBe(
      true,
    );
  });

  it.skipIf(process.getuid?.() !== 0 || !nobodyCanReadProject())(
    'as a non-root user whose job left a read-only scratch folder (EACCES), logs it and runs the next run',
    async () => {
      // Root ignores chmod, so the lab runs as `nobody` (setpriv) in a folder it owns.
      const { chownSync } = await import('node:fs');
      const { spawnSync } = await import('node:child_process');
      chownSync(lab.dir, 65534, 65534);
      const script = fileURLToPath(new URL('./fixtures/eacces-lab.ts', import.meta.url));
      const r = spawnSync(
        'setpriv',
        [
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          process.execPath,
          '--import',
          'tsx',
          script,
          lab.dir,
        ],
        { encoding: 'utf8', env: { ...process.env, HOME: lab.dir }, timeout: 60_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
        a: string;
        b: string;
        warnings: string[];
      };
      expect(out.a).toBe('succeeded');
      expect(out.b).toBe('succeeded');
      expect(out.warnings.join('\n')).toMatch(/could not remove the scratch folder .*EACCES/);
      // chmod back so the fixture can remove the folder
      spawnSync('chmod', ['-R', 'u+w', lab.dir]);
    },
    90_000,
  );

  it('fails a run whose lab directory was deleted while it ran, saying so', async () => {
    const l = await lab.open({
      launcher: {
        name: 'scripted',
        spawn: () =>
          new ScriptedProcess(() => {
            rmSync(lab.dir, { recursive: true, force: true });
            return okJob();
          }),
      },
      onWarning: () => undefined,
    });
    const r = await l.createRun({ kind: 'test-stream', config: { steps: 1 } });
    const done = await l.waitForRun(r.id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/lab directory .* was deleted while this run was running/);
  });

  it('interrupts a run whose heartbeat goes stale after the lab opened (not only at open)', async () => {
    // A run left `running` by a lab process killed a moment ago: fresh at open, stale 600 ms later.
    mkdirSync(lab.dir, { recursive: true });
    const l0 = await lab.open({ schedule: false });
    await l0.close();
    const store = Store.open(join(lab.dir, 'lab.sqlite'));
    const id = randomUUID();
    const at = new Date().toISOString();
    store.insertRun({
      id,
      kind: 'test-stream',
      name: 'orphan',
      config: { steps: 1 },
      seed: 1,
      createdAt: at,
      codeVersion: 'x',
      tags: [],
    });
    store.claimRun(id, at, {} as never);
    store.heartbeat(id, at);
    store.close();
    const warnings: string[] = [];
    const l = await lab.open({ heartbeatStaleMs: 600, schedule: false, onWarning: (m) => warnings.push(m) });
    expect((await l.getRun(id)).status).toBe('running');
    await until(async () => (await l.getRun(id)).status === 'interrupted', 5000);
    expect(warnings.join('\n')).toContain(id);
  });

  it('removes scratch folders of runs that are no longer running when the lab opens', async () => {
    const l0 = await lab.open({ schedule: false });
    const done = await l0.createRun({ kind: 'test-stream', config: { steps: 1 } });
    await l0.close();
    const orphan = join(lab.dir, 'work', done.id);
    const stray = join(lab.dir, 'work', randomUUID());
    mkdirSync(join(orphan, 'sub'), { recursive: true });
    writeFileSync(join(orphan, 'sub', 'f.bin'), 'x');
    mkdirSync(stray, { recursive: true });
    // The queued run is cancelled through a passive lab so no job starts.
    const l1 = await lab.open({ schedule: false });
    await l1.cancelRun(done.id);
    await l1.close();
    mkdirSync(orphan, { recursive: true });
    await lab.open({ schedule: false });
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(stray)).toBe(false);
  });

  it('fails a run that reported success but whose artifact file was deleted while it ran', async () => {
    const l = await lab.open({
      launcher: {
        name: 'scripted',
        spawn: () =>
          new ScriptedProcess((runId) => {
            const dir = join(lab.dir, 'artifacts', runId);
            mkdirSync(dir, { recursive: true });
            const tmp = join(dir, '.tmp-a.txt-1');
            writeFileSync(tmp, '');
            return [
              {
                type: 'artifact',
                name: 'a.txt',
                kind: 'text',
                tmpPath: tmp,
                bytes: 0,
                sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
              },
              { type: 'log', level: 'info', message: 'deleting' },
              { type: 'result', result: { summary: {}, report: [], backend: {} } },
              { type: 'done' },
            ];
          }),
      },
      onWarning: () => undefined,
    });
    l.onEvent((e) => {
      if (e.type === 'log' && e.message === 'deleting') rmSync(join(lab.dir, 'artifacts', e.runId, 'a.txt'));
    });
    const r = await l.createRun({ kind: 'test-stream', config: { steps: 1 } });
    const done = await l.waitForRun(r.id);
    expect(done.status).toBe('failed');
    expect(done.error).toContain('a.txt');
    expect(done.error).toContain('deleted');
    // `show` (and the JSON export, which carries the detail) say the file is gone.
    const d = await l.getRun(r.id);
    expect(d.artifacts).toEqual([expect.objectContaining({ name: 'a.txt', missing: true })]);
    const { describeRun } = await import('../../../core/cli/commands');
    expect(describeRun(d)).toMatch(/a\.txt .*MISSING/);
  });
});

describe('a job process whose lab died', () => {
  it('exits within seconds even while its job blocks the event loop', async () => {
    const script = fileURLToPath(new URL('./fixtures/orphan-lab.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, lab.dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    try {
      await until(() => /worker \d+/.test(out), 30_000);
      // The job pauses 400 ms after that progress, then spins without yielding: kill the lab mid-spin.
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      child.kill('SIGKILL');
    }
    const pid = Number(/worker (\d+)/.exec(out)?.[1]);
    const killedAt = Date.now();
    const alive = (): boolean => {
      try {
        const st = readFileSync(`/proc/${pid}/status`, 'utf8');
        return !/^State:\s+Z/m.test(st);
      } catch {
        return false;
      }
    };
    try {
      await until(() => !alive(), 5000);
    } finally {
      if (alive()) process.kill(pid, 'SIGKILL');
    }
    expect(Date.now() - killedAt).toBeLessThan(5000);
  }, 60_000);
});
