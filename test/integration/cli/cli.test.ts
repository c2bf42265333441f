// `qlab` end to end as a child process, on a temporary lab directory, with the lab's fixture job kinds.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Comparison, RunDetail, RunSummary } from '../../../core/api/lab-api';
import { qlabIn } from '../../helpers/seed-lab';

const BIN = fileURLToPath(new URL('../../../bin/qlab.js', import.meta.url));
const KINDS = fileURLToPath(new URL('../../fixtures/lab-kinds.ts', import.meta.url));

let dir: string;
let labDir: string;
const env = { ...process.env, QLAB_EXTRA_KINDS: KINDS, QLAB_HOME: '' };

function qlab(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The same commands in this process (for the many error cases; a child process costs a second or two). */
const inproc = (...args: string[]) => qlabIn(() => dir, { QLAB_EXTRA_KINDS: KINDS })(...args);

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function runs(): Promise<RunSummary[]> {
  const r = await inproc('runs', '--lab-dir', labDir, '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as RunSummary[];
}

// The service in this process finds the fixture kinds the same way the child processes do.
process.env.QLAB_EXTRA_KINDS = KINDS;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qlab-cli-'));
  labDir = join(dir, 'lab');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('qlab run and the reading commands', () => {
  let first: RunDetail;
  let second: RunDetail;

  it('runs a config to completion, with progress lines on stderr and the id and summary on stdout', () => {
    const cfg = file(
      'a.json',
      JSON.stringify({ kind: 'test-stream', name: 'alpha', seed: 5, config: { steps: 25 } }),
    );
    const r = qlab('run', cfg, '--lab-dir', labDir, '--tag', 'cli');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^run [0-9a-f-]{36}\n/);
    expect(r.stdout).toMatch(/test-stream {2}"alpha" {2}succeeded in /);
    expect(r.stdout).toMatch(/loss +25 +0\.04 +0\.04 +1\n/);
    expect(r.stderr).toMatch(/progress 100% step 25\/25/);
    const id = /^run ([0-9a-f-]{36})/.exec(r.stdout)![1];
    const shown = qlab('show', id.slice(0, 8), '--lab-dir', labDir, '--json');
    expect(shown.code, shown.stderr).toBe(0);
    first = JSON.parse(shown.stdout) as RunDetail;
    expect(first).toMatchObject({ id, name: 'alpha', seed: 5, status: 'succeeded', tags: ['cli'] });
    expect(first.metrics).toEqual([
      expect.objectContaining({ key: 'loss', count: 25, last: 1 / 25, min: 1 / 25, max: 1 }),
    ]);
  });

  it('--json prints the finished run; a failed run exits 1 with one line', () => {
    const ok = qlab(
      'run',
      file('b.json', '{"kind":"test-stream","config":{"steps":4}}'),
      '--lab-dir',
      labDir,
      '--json',
    );
    expect(ok.code, ok.stderr).toBe(0);
    second = JSON.parse(ok.stdout) as RunDetail;
    expect(second.metrics[0]).toMatchObject({ key: 'loss', count: 4 });

    const bad = qlab(
      'run',
      file('c.json', '{"kind":"test-crash","config":{"how":"throw"}}'),
      '--lab-dir',
      labDir,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n').at(-1)).toMatch(
      /^qlab: run [0-9a-f-]{36} failed: .*the fixture failed on purpose/,
    );
  });

  it('lists, filters, compares and exports', async () => {
    const table = await inproc('runs', '--lab-dir', labDir);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID +KIND +NAME +STATUS/);
    expect(table.stdout).toContain(first.id.slice(0, 8));
    expect((await runs()).map((r) => r.status).sort()).toEqual(['failed', 'succeeded', 'succeeded']);
    const tagged = JSON.parse(
      (await inproc('runs', '--lab-dir', labDir, '--tag', 'cli', '--json')).stdout,
    ) as RunSummary[];
    expect(tagged.map((r) => r.id)).toEqual([first.id]);
    const failed = JSON.parse(
      (await inproc('runs', '--lab-dir', labDir, '--status', 'failed', '--json')).stdout,
    ) as RunSummary[];
    expect(failed).toHaveLength(1);

    const cmp = await inproc('compare', first.id, second.id.slice(0, 6), '--lab-dir', labDir, '--json');
    expect(cmp.code, cmp.stderr).toBe(0);
    const c = JSON.parse(cmp.stdout) as Comparison;
    expect(c.configDiff).toEqual(expect.arrayContaining([{ path: 'steps', values: [25, 4] }]));
    expect(c.metrics).toEqual([{ key: 'loss', values: [1 / 25, 1 / 4], count: 25 }]);
    const text = await inproc('compare', first.id, second.id, '--lab-dir', labDir);
    expect(text.stdout).toMatch(/steps +25 +4/);

    const csvPath = join(dir, 'out.csv');
    const csv = qlab('export', first.id, second.id, '--format', 'csv', '--out', csvPath, '--lab-dir', labDir);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stderr).toMatch(/^wrote .*out\.csv/);
    expect(readFileSync(csvPath, 'utf8').trim().split('\n')).toHaveLength(1 + 25 + 4);
    const json = await inproc('export', first.id, '--format', 'json', '--lab-dir', labDir);
    expect(JSON.parse(json.stdout)).toBeTruthy();
    const html = await inproc('export', first.id, '-f', 'html', '--lab-dir', labDir);
    expect(html.stdout).toMatch(/<svg/);
  });

  it('refuses unknown ids, ambiguous prefixes and bad options with one line', async () => {
    const cases: [string[], RegExp][] = [
      [['show', 'ffffffff', '--lab-dir', labDir], /^qlab: no run matches 'ffffffff'\n$/],
      [['show', 'zz', '--lab-dir', labDir], /^qlab: 'zz' is not a run id/],
      [
        ['export', first.id, '--format', 'docx', '--lab-dir', labDir],
        /^qlab: option --format must be one of json, csv, runs-csv, latex, html, pdf; got 'docx'/,
      ],
      [['export', first.id, '--lab-dir', labDir], /^qlab: 'qlab export' needs --format/],
      [['runs', '--status', 'sleeping', '--lab-dir', labDir], /^qlab: option --status must be one of/],
      [['compare', first.id, '--lab-dir', labDir], /^qlab: 'qlab compare' needs two to 1,000 run ids/],
      [['runs', '--lab-dir', join(dir, 'nowhere')], /^qlab: no lab at /],
      [['cancel', first.id, '--lab-dir', labDir], /^qlab: run [0-9a-f]{8} is already succeeded/],
      [['frob'], /^qlab: unknown command 'frob'/],
    ];
    for (const [args, message] of cases) {
      const r = await inproc(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });
});

describe('config errors write nothing', () => {
  it('names the line and column, the kind, or the field; exit 2; no run row', async () => {
    const before = (await runs()).length;
    const cases: [string, RegExp][] = [
      [
        '{\n  "kind": "test-stream",\n  "config": { "steps": 3, }\n}',
        /^qlab: .*bad1\.json:3:27: invalid JSON: /,
      ],
      ['{"kind": "no-such-kind", "config": {}}', /^qlab: kind: unknown job kind "no-such-kind"/],
      ['{"kind": "test-stream", "config": {"steps": 0}}', /^qlab: config\.steps: /],
      ['{"kind": "test-stream", "config": {"steps": 3, "stepz": 1}}', /^qlab: config: .*stepz/],
      ['{"kind": "test-stream", "seed": "x", "config": {}}', /^qlab: .*bad5\.json: seed: /],
    ];
    for (const [i, [text, message]] of cases.entries()) {
      const r = await inproc('run', file(`bad${i + 1}.json`, text), '--lab-dir', labDir);
      expect(r.code, text).toBe(2);
      expect(r.stderr, text).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    // the same error through the real binary: one line, no stack trace
    const viaBin = qlab('run', join(dir, 'bad3.json'), '--lab-dir', labDir);
    expect(viaBin.code).toBe(2);
    expect(viaBin.stderr).toMatch(/^qlab: config\.steps: [^\n]+\n$/);
    const missing = await inproc('run', join(dir, 'absent.json'), '--lab-dir', labDir);
    expect(missing.stderr).toMatch(/^qlab: config file not found: /);
    expect((await runs()).length).toBe(before);
  });
});

describe('qlab cancel from another process', () => {
  it('cancels a detached run within a few seconds and keeps its points', async () => {
    const cfg = file(
      'long.json',
      JSON.stringify({ kind: 'test-stream', name: 'long', config: { steps: 400, delayMs: 25 } }),
    );
    const d = qlab('run', cfg, '--lab-dir', labDir, '--detach');
    expect(d.code, d.stderr).toBe(0);
    const id = d.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    // wait until it is running with some points stored
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = (await runs()).find((x) => x.id === id)!;
      if (r.status === 'running' && r.progress > 0.05) break;
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((res) => setTimeout(res, 200));
    }
    const t0 = Date.now();
    const c = qlab('cancel', id.slice(0, 8), '--lab-dir', labDir);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toBe(`run ${id} cancelled\n`);
    expect(Date.now() - t0).toBeLessThan(5000);
    const shown = JSON.parse((await inproc('show', id, '--lab-dir', labDir, '--json')).stdout) as RunDetail;
    expect(shown.status).toBe('cancelled');
    expect(shown.metrics[0].count).toBeGreaterThan(5);
    expect(shown.metrics[0].count).toBeLessThan(400);
  });
});

describe('a job process killed with kill -9, and Ctrl-C', () => {
  /** Starts `qlab run` on a long stream and resolves once its job process (a child of it) exists. */
  async function startLong(
    name: string,
  ): Promise<{ child: ReturnType<typeof spawn>; worker: number; output: () => string }> {
    const cfg = file(
      `${name}.json`,
      JSON.stringify({ kind: 'test-stream', name, config: { steps: 2000, delayMs: 20 } }),
    );
    const child = spawn(process.execPath, [BIN, 'run', cfg, '--lab-dir', labDir], { cwd: dir, env });
    let text = '';
    child.stdout!.on('data', (c: Buffer) => (text += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (text += c.toString()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      // wait for a few progress lines, so metric batches have been stored
      if (/progress \d+% step \d+/.test(text)) break;
      expect(Date.now(), text).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 100));
    }
    // The job process is the child running the worker entry (tsx's esbuild service is a child too).
    const ps = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(child.pid)], { encoding: 'utf8' });
    const pids = ps.stdout
      .split('\n')
      .filter((line) => line.includes('worker/main.ts'))
      .map((line) => Number(line.trim().split(/\s+/)[0]));
    expect(pids, ps.stdout).toHaveLength(1);
    return { child, worker: pids[0], output: () => text };
  }

  it('kill -9 of the job process: qlab run exits 1, the run is failed with its points kept', async () => {
    const { child, worker, output } = await startLong('killed');
    await new Promise((r) => setTimeout(r, 800));
    process.kill(worker, 'SIGKILL');
    const code = await new Promise<number | null>((ok) => child.once('exit', (c) => ok(c)));
    expect(code, output()).toBe(1);
    expect(output()).toMatch(/qlab: run [0-9a-f-]{36} failed: .*SIGKILL/);
    const run = (await runs()).find((r) => r.name === 'killed')!;
    expect(run.status).toBe('failed');
    const d = JSON.parse((await inproc('show', run.id, '--lab-dir', labDir, '--json')).stdout) as RunDetail;
    expect(d.metrics[0].count).toBeGreaterThan(10);
    expect(d.metrics[0].lastStep).toBe(d.metrics[0].count - 1); // every point up to the kill, none lost
  });

  it('Ctrl-C (SIGINT) cancels the run and exits 1', async () => {
    const { child, output } = await startLong('interrupted-by-user');
    child.kill('SIGINT');
    const code = await new Promise<number | null>((ok) => child.once('exit', (c) => ok(c)));
    expect(code, output()).toBe(1);
    expect(output()).toMatch(/cancelling run/);
    expect((await runs()).find((r) => r.name === 'interrupted-by-user')!.status).toBe('cancelled');
  });

  it('SIGTERM stops the job and records the run as interrupted (exit 143)', async () => {
    const { child, worker, output } = await startLong('terminated');
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((ok) => child.once('exit', (c) => ok(c)));
    expect(code, output()).toBe(143);
    expect((await runs()).find((r) => r.name === 'terminated')!.status).toBe('interrupted');
    // the job process is gone too
    await new Promise((r) => setTimeout(r, 300));
    expect(() => process.kill(worker, 0)).toThrow();
  });
});

describe('a real job kind from examples/', () => {
  it('runs examples/vqc-fit.json and stores its metric series', async () => {
    const realLab = join(dir, 'real-lab');
    const example = fileURLToPath(new URL('../../../examples/vqc-fit.json', import.meta.url));
    const r = qlab('run', example, '--lab-dir', realLab);
    expect(r.code, r.stderr).toBe(0);
    const id = /^run ([0-9a-f-]{36})/.exec(r.stdout)![1];
    const d = JSON.parse((await inproc('show', id, '--lab-dir', realLab, '--json')).stdout) as RunDetail;
    expect(d).toMatchObject({ kind: 'vqc-fit', status: 'succeeded', seed: 7, tags: ['example', 'vqc'] });
    const loss = d.metrics.find((m) => m.key === 'quantum/loss');
    expect(loss?.count).toBe(15); // one point per epoch
    expect(loss!.last).toBeLessThan(loss!.max);
    const html = await inproc('export', id, '--format', 'html', '--lab-dir', realLab);
    expect(html.code).toBe(0);
    expect(html.stdout).toMatch(/<svg/);
    expect(html.stdout).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);
  });
});

describe('qlab serve as a process', () => {
  it('prints its URL with a token, refuses the API without it, answers with it, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--api-only', '--lab-dir', labDir], {
      cwd: dir,
      env,
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    const [url, token] = await new Promise<[string, string]>((ok, fail) => {
      child.stdout.on('data', (c: string) => {
        out += c;
        const m = /qlab serving on (http:\/\/127\.0\.0\.1:\d+\/)\?token=([A-Za-z0-9_-]{32})\n/.exec(out);
        if (m) ok([m[1], m[2]]);
      });
      child.once('exit', (code) => fail(new Error(`serve exited ${code}`)));
    });
    const without = await fetch(`${url}api/listRuns`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(without.status).toBe(401);
    const res = await fetch(`${url}api/listRuns`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ status: 'cancelled' }),
    });
    const body = (await res.json()) as { ok: boolean; value: RunSummary[] };
    expect(body.ok).toBe(true);
    expect(body.value.map((r) => r.name)).toContain('long');
    expect(body.value.every((r) => r.status === 'cancelled')).toBe(true);
    const code = await new Promise<number | null>((ok) => {
      child.once('exit', (c) => ok(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  });

  it('refuses to start without a built renderer unless --api-only, and refuses a bad port', async () => {
    const r = await inproc('serve', '--renderer-dir', join(dir, 'no-renderer'), '--lab-dir', labDir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^qlab: the renderer is not built .*; run `npm run build` first\n$/);
    expect((await inproc('serve', '--port', 'http', '--lab-dir', labDir)).stderr).toMatch(
      /--port must be an integer/,
    );
  });
});
