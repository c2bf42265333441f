// Lab-level sweeps through the LabService on SQLite with real job processes: the grid (cartesian product, first
// axis slowest, the seed as an axis), the MAX_SWEEP_RUNS limit, an invalid point or a field the kind does not
// mark sweepable refused with one message naming it and nothing written, the parent ending with its last child
// (result table, best point by the validation figure, failed points), and cancel of the parent.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../../core/cli/context';
import { main } from '../../../core/cli/main';
import { openLab } from '../../../core/lab/service';
import { MAX_SWEEP_RUNS, parseAxisValues, sweepGrid } from '../../../core/api/sweep';
import { pointFigures } from '../../fixtures/lab-kinds';
import { labFixture, until } from '../../helpers/lab';
import { rejection } from '../../helpers/lab-error';

/** The promise rejects with a LabError of this code and field, its message matching `message` when given. */
async function expectLabError(
  p: Promise<unknown>,
  code: string,
  field: string,
  message?: RegExp,
): Promise<void> {
  const e = await rejection(p);
  expect({ code: e.code, field: e.field }).toEqual({ code, field });
  if (message) expect(e.message).toMatch(message);
}

const lab = labFixture('qlab-sweeps-');

describe('sweep grids', () => {
  it('is the cartesian product, first axis slowest', () => {
    expect(
      sweepGrid([
        { field: 'a', values: [1, 2] },
        { field: 'b', values: ['x', 'y', 'z'] },
      ]),
    ).toEqual([
      { a: 1, b: 'x' },
      { a: 1, b: 'y' },
      { a: 1, b: 'z' },
      { a: 2, b: 'x' },
      { a: 2, b: 'y' },
      { a: 2, b: 'z' },
    ]);
    expect(parseAxisValues('1..4')).toEqual([1, 2, 3, 4]);
    expect(parseAxisValues('0.1, 1e-3,moons,true,[2,4],{"a":[1,2]}')).toEqual([
      0.1,
      0.001,
      'moons',
      true,
      [2, 4],
      { a: [1, 2] },
    ]);
    expect(() => parseAxisValues('5..1')).toThrow(/empty/);
    expect(() => parseAxisValues('1,,2')).toThrow(/empty value/);
  });
});

describe('createSweep on SQLite', () => {
  it('runs every point as its own run and ends the parent with the last one', async () => {
    const l = await lab.open({ concurrency: 2 });
    const parent = await l.createSweep({
      kind: 'test-point',
      name: 'grid',
      config: { steps: 3 },
      tags: ['sw'],
      axes: [
        { field: 'x', values: [0, 2, 4] },
        { field: 'opt.lr', values: [0.1, 0.5] },
        { field: 'seed', values: [11, 12] },
      ],
    });
    expect(parent).toMatchObject({ kind: 'test-point', name: 'grid', status: 'running', childCount: 12 });
    const final = await l.waitForRun(parent.id);
    expect(final.status).toBe('succeeded');
    const d = await l.getRun(parent.id);
    expect(d.children).toHaveLength(12);
    const grid = sweepGrid([
      { field: 'x', values: [0, 2, 4] },
      { field: 'opt.lr', values: [0.1, 0.5] },
      { field: 'seed', values: [11, 12] },
    ]);
    let best = { id: '', v: -Infinity };
    for (const [i, c] of d.children.entries()) {
      const cd = await l.getRun(c.id);
      const p = grid[i] as { x: number; 'opt.lr': number; seed: number };
      expect(cd.status).toBe('succeeded');
      expect(cd.parentId).toBe(parent.id);
      expect(cd.config).toMatchObject({ x: p.x, depth: 1, opt: { lr: p['opt.lr'] }, steps: 3 });
      expect(cd.seed).toBe(p.seed);
      const f = pointFigures({ x: p.x, depth: 1, opt: { lr: p['opt.lr'] } }, p.seed);
      // a sweep's point has no ctx.child of its own (children do not nest)
      expect(cd.summary).toEqual({ ...f, seed: p.seed, inline: 'yes' });
      expect(cd.metrics).toEqual([expect.objectContaining({ key: 'loss', count: 3, last: p['opt.lr'] / 3 })]);
      if (f.val_acc > best.v) best = { id: c.id, v: f.val_acc };
    }
    // the best point by validation (x = 2, seed 12), never by the test figure (which favours x = 0)
    expect(d.summary).toMatchObject({ points: 12, succeeded: 12, best_val_acc: best.v, best_run: best.id });
    expect(d.summary.best_point).toBe('x=2 opt.lr=0.1 seed=12');
    const table = d.report[0];
    expect(table.type).toBe('table');
    if (table.type === 'table') {
      expect(table.columns.slice(0, 5)).toEqual(['#', 'x', 'opt.lr', 'seed', 'status']);
      expect(table.rows).toHaveLength(12);
      expect(table.rows.filter((r) => r.includes('★'))).toHaveLength(1);
    }
    expect(d.tags).toEqual(['sw']);
    // only the parent is a top-level run
    expect((await l.listRuns()).map((r) => r.id)).toEqual([parent.id]);
  });

  it('a failed point fails the parent, which still reports the best of the others', async () => {
    const l = await lab.open({ concurrency: 2 });
    const parent = await l.createSweep({
      kind: 'test-point',
      config: { failAtX: 1 },
      seed: 3,
      axes: [{ field: 'x', values: [0, 1, 2] }],
    });
    const final = await l.waitForRun(parent.id);
    expect(final.status).toBe('failed');
    expect(final.error).toMatch(
      /^1 of 3 point\(s\) did not succeed \(1 failed\); first: x=1: .*fails on purpose/,
    );
    expect(final.summary).toMatchObject({ succeeded: 2, failed: 1, best_point: 'x=2' });
    const kids = (await l.getRun(parent.id)).children;
    for (const k of kids) expect((await l.getRun(k.id)).seed).toBe(3);
  });

  it('refuses, with nothing written: over the limit, an invalid point, a field not sweepable, a bad seed', async () => {
    const l = await lab.open({ schedule: false });
    const big = Array.from({ length: 40 }, (_, i) => i / 10);
    await expectLabError(
      l.createSweep({
        kind: 'test-point',
        config: {},
        axes: [
          { field: 'x', values: big },
          { field: 'depth', values: [1, 2, 3, 4, 5, 6, 7, 8] },
          { field: 'seed', values: [1, 2, 3, 4] },
        ],
      }),
      'invalid',
      'axes',
      new RegExp(
        `1,280 points \\(40 × 8 × 4\\), over the limit of ${MAX_SWEEP_RUNS.toLocaleString('en-US')}`,
      ),
    );
    await expectLabError(
      l.createSweep({
        kind: 'test-point',
        config: {},
        axes: [
          { field: 'depth', values: [1, 2] },
          { field: 'x', values: [0, 20] },
        ],
      }),
      'invalid',
      'axes[1].values[1]',
      /^point 2 of 4 \(depth=1 x=20\): config\.x: /,
    );
    await expectLabError(
      l.createSweep({ kind: 'test-point', config: {}, axes: [{ field: 'steps', values: [1, 2] }] }),
      'invalid',
      'axes[0].field',
      /cannot sweep "steps" \(the kind does not mark it sweepable; sweepable: x, depth, opt\.lr, seed\)/,
    );
    await expectLabError(
      l.createSweep({ kind: 'test-point', config: {}, axes: [{ field: 'seed', values: [1, -2] }] }),
      'invalid',
      'axes[0].values[1]',
      /a seed must be an integer/,
    );
    await expectLabError(
      l.createSweep({ kind: 'test-point', config: { steps: 0 }, axes: [{ field: 'x', values: [1] }] }),
      'invalid',
      'config.steps',
    );
    await expectLabError(
      l.createSweep({
        kind: 'test-point',
        config: {},
        axes: [
          { field: 'x', values: [1] },
          { field: 'x', values: [2] },
        ],
      }),
      'invalid',
      'axes[1].field',
      /varied twice/,
    );
    expect(await l.listRuns({ includeChildren: true })).toEqual([]);
  });

  it('cancel of the parent stops its running points and cancels the queued ones', async () => {
    const l = await lab.open({ concurrency: 2 });
    const parent = await l.createSweep({
      kind: 'test-point',
      config: { steps: 1000, delayMs: 20 },
      axes: [{ field: 'x', values: [0, 1, 2, 3, 4, 5] }],
    });
    await until(async () => {
      const kids = await l.listRuns({ parentId: parent.id });
      return kids.filter((k) => k.status === 'running' && k.progress > 0).length === 2;
    });
    const t0 = performance.now();
    const s = await l.cancelRun(parent.id);
    const ms = performance.now() - t0;
    expect(s.status).toBe('cancelled');
    expect(ms).toBeLessThan(2000);
    const kids = await l.listRuns({ parentId: parent.id });
    expect(kids.map((k) => k.status)).toEqual(Array(6).fill('cancelled'));
    expect(kids.filter((k) => k.startedAt !== null)).toHaveLength(2);
    expect(s.error).toBe('cancelled with 0 of 6 point(s) succeeded');
  });

  it('a point may be cancelled alone; the sweep goes on and fails for it', async () => {
    const l = await lab.open({ concurrency: 1 });
    const parent = await l.createSweep({
      kind: 'test-point',
      config: { steps: 2 },
      axes: [{ field: 'x', values: [0, 1, 2] }],
    });
    const kids = await l.listRuns({ parentId: parent.id });
    expect((await l.cancelRun(kids[2].id)).status).toBe('cancelled');
    const final = await l.waitForRun(parent.id);
    expect(final).toMatchObject({
      status: 'failed',
      summary: expect.objectContaining({ succeeded: 2, cancelled: 1 }),
    });
  });
});

describe('qlab sweep', () => {
  async function qlab(
    dir: string,
    ...argv: string[]
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    const out = { stdout: '', stderr: '' };
    const ctx: CliContext = {
      stdout: { write: (t: string) => (out.stdout += t) },
      stderr: { write: (t: string) => (out.stderr += t) },
      env: {},
      cwd: dir,
      openLab: (labDir, opts) => openLab({ labDir, ...opts }),
    };
    const code = await main([...argv, '--lab-dir', dir], ctx);
    return { code, ...out };
  }

  it('runs the --vary grid and prints the table of points; a bad axis exits 2 with nothing written', async () => {
    writeFileSync(
      join(lab.dir, 'p.json'),
      JSON.stringify({ kind: 'test-point', seed: 4, config: { steps: 2 } }),
    );
    const bad = await qlab(lab.dir, 'sweep', 'p.json', '--vary', 'steps=1,2');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^qlab: axes\[0\]\.field: test-point cannot sweep "steps"/);
    const badValue = await qlab(lab.dir, 'sweep', 'p.json', '--vary', 'x=1,99');
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toMatch(/point 2 of 2 \(x=99\): config\.x: /);
    expect((await qlab(lab.dir, 'sweep', 'p.json')).stderr).toMatch(
      /needs at least one --vary.*"axes" in p\.json/,
    );
    expect((await qlab(lab.dir, 'sweep', 'p.json', '--vary', 'x')).stderr).toMatch(/expected field=v1,v2/);
    const ok = await qlab(lab.dir, 'sweep', 'p.json', '--vary', 'x=1,2', '--vary', 'depth=1..2', '-j', '2');
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/\[4\/4\] x=\d depth=\d: succeeded/);
    expect(ok.stdout).toMatch(/succeeded/);
    expect(ok.stdout).toMatch(/Sweep: 4 point\(s\) over x × depth/);
    // the best point by val_acc: x = 2, depth = 2
    const l = await openLab({ labDir: lab.dir, schedule: false });
    try {
      const [parent] = await l.listRuns();
      expect(parent.summary).toMatchObject({ points: 4, succeeded: 4, best_point: 'x=2 depth=2' });
      expect(await l.listRuns({ includeChildren: true })).toHaveLength(5);
    } finally {
      await l.close();
    }
  });

  it('takes the axes from a sweep file (the wizard saves one); --vary replaces a file axis; qlab run refuses axes', async () => {
    const dir = lab.dir;
    {
      const file = {
        kind: 'test-point',
        name: 'from file',
        seed: 4,
        config: { steps: 2 },
        axes: [
          { field: 'x', values: [1, 2] },
          { field: 'seed', values: [7, 8] },
        ],
      };
      writeFileSync(join(dir, 's.json'), JSON.stringify(file));
      const ok = await qlab(dir, 'sweep', 's.json', '--vary', 'seed=9');
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/Sweep: 2 point\(s\) over x × seed/);
      const l = await openLab({ labDir: dir, schedule: false });
      try {
        const kids = (await l.listRuns({ includeChildren: true })).filter(
          (r) => r.parentId !== null && r.name.startsWith('from file'),
        );
        expect(kids.map((k) => k.name).sort()).toEqual(['from file x=1 seed=9', 'from file x=2 seed=9']);
      } finally {
        await l.close();
      }
      const bad = await qlab(dir, 'sweep', 's.json', '--vary', 'x=1,99');
      expect(bad.stderr).toMatch(/point 3 of 4 \(x=99 seed=7\): config\.x: /);
      const run = await qlab(dir, 'run', 's.json');
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/s\.json: .*axes/);
    }
  });
});
