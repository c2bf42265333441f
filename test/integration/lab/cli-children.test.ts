// `qlab runs` and `qlab show` with child runs, in process against a lab holding a finished sweep.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../../core/api/lab-api';
import type { CliContext } from '../../../core/cli/context';
import { main } from '../../../core/cli/main';
import { EXTRA_KINDS_ENV } from '../../../core/lab/kinds';
import { openLab } from '../../../core/lab/service';
import { sweepLoss } from '../../fixtures/lab-kinds';
import { LAB_KINDS_FIXTURE } from '../../helpers/lab';

let dir: string;
let parent: RunSummary;
let solo: RunSummary;
let children: RunSummary[];

beforeAll(async () => {
  process.env[EXTRA_KINDS_ENV] = LAB_KINDS_FIXTURE;
  dir = mkdtempSync(join(tmpdir(), 'qlab-cli-children-'));
  const lab = await openLab({ labDir: dir });
  try {
    solo = await lab.createRun({ kind: 'test-stream', name: 'solo', config: { steps: 2 } });
    await lab.waitForRun(solo.id);
    parent = await lab.createRun({ kind: 'test-sweep', name: 'sweep', config: { steps: 3 } });
    await lab.waitForRun(parent.id);
    children = await lab.listRuns({ parentId: parent.id });
  } finally {
    await lab.close();
  }
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function qlab(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const ctx: CliContext = {
    stdout: { write: (s: string) => (out.stdout += s) },
    stderr: { write: (s: string) => (out.stderr += s) },
    env: {},
    cwd: dir,
    openLab: (labDir, opts) => openLab({ labDir, ...opts }),
  };
  const code = await main([...argv, '--lab-dir', dir], ctx);
  return { code, ...out };
}

const idsIn = (text: string) => [...text.matchAll(/^(?:└ )?([0-9a-f]{8}) /gm)].map((m) => m[1]);

describe('qlab runs and show with child runs', () => {
  it('runs lists top-level runs with their child count; --all puts children under their parent', async () => {
    expect(children).toHaveLength(3);
    const plain = await qlab('runs');
    expect(plain.code).toBe(0);
    expect(idsIn(plain.stdout)).toEqual([parent.id.slice(0, 8), solo.id.slice(0, 8)]);
    expect(plain.stdout.split('\n')[0]).toContain('CHILDREN');
    expect(plain.stdout.split('\n')[1]).toMatch(/\s3(\s|$)/);

    const all = await qlab('runs', '--all');
    expect(idsIn(all.stdout)).toEqual([
      parent.id.slice(0, 8),
      ...children.map((c) => c.id.slice(0, 8)),
      solo.id.slice(0, 8),
    ]);
    expect(all.stdout.match(/^└ /gm)).toHaveLength(3);

    const json = JSON.parse((await qlab('runs', '--all', '--json')).stdout) as RunSummary[];
    expect(json.map((r) => r.parentId)).toEqual([null, parent.id, parent.id, parent.id, null]);
  });

  it('runs --parent lists one run’s children (by id prefix); a child id prefix resolves too', async () => {
    const r = await qlab('runs', '--parent', parent.id.slice(0, 8));
    expect(r.code).toBe(0);
    expect(idsIn(r.stdout)).toEqual(children.map((c) => c.id.slice(0, 8)));
    expect((await qlab('runs', '--parent', solo.id)).stderr).toBe('no child runs\n');
    const both = await qlab('runs', '--all', '--parent', parent.id);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('qlab: give either --all or --parent, not both\n');
  });

  it('show lists a parent’s children with their summaries, and a child’s parent', async () => {
    const p = await qlab('show', parent.id.slice(0, 8));
    expect(p.code).toBe(0);
    expect(p.stdout).toContain('children (3)');
    const rows = p.stdout.split('\n').filter((l) => /^ {2}[0-9a-f]{8} {2}point \d/.test(l));
    expect(rows).toHaveLength(3);
    expect(rows[2]).toContain('succeeded');
    expect(rows[2]).toContain(String(Number(sweepLoss({ lr: 0.1, depth: 2 }, 2).toPrecision(6))));

    const c = await qlab('show', children[1].id.slice(0, 8));
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(new RegExp(`^parent +${parent.id}$`, 'm'));
    expect(c.stdout).not.toContain('children (');
  });

  it('run prints the finished sweep with its children', async () => {
    const file = join(dir, 'sweep.json');
    writeFileSync(file, JSON.stringify({ kind: 'test-sweep', name: 'cli sweep', config: { steps: 2 } }));
    const r = await qlab('run', file, '--quiet');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('children (3)');
    expect(r.stdout.match(/^ {2}[0-9a-f]{8} {2}point \d {2}succeeded/gm)).toHaveLength(3);
  }, 60_000);

  it('export --children writes a sweep and its points in one file', async () => {
    const r = await qlab('export', parent.id.slice(0, 8), '--children', '--format', 'csv');
    expect(r.code).toBe(0);
    const ids = new Set(
      r.stdout
        .split('\r\n')
        .slice(1)
        .filter((l) => l !== '')
        .map((l) => l.split(',')[0]),
    );
    // The parent's own sweep/loss points and each child's loss curve.
    expect(ids).toEqual(new Set([parent.id, ...children.map((c) => c.id)]));
    const plain = await qlab('export', parent.id, '--format', 'csv');
    expect(plain.stdout.split('\r\n').filter((l) => l !== '')).toHaveLength(1 + 3);
  });
});
