// Compare at scale, in headless Chromium against `qlab serve`: a 100-run sweep written straight into the store
// is selected on the runs page (tag filter, select all) and compared; the parallel-coordinates view draws one
// polyline per run, and brushing a numeric axis and then a categorical one leaves exactly the runs inside
// both bands (checked against the seeded values); the scatter plots every run; the curves of the best few are
// overlaid. Runs of two kinds compare on what they share (no "null" cell) and list the rest per kind. Past
// MAX_COMPARE_RUNS the Compare button is disabled and the page says why.
// Screenshots go to $QLAB_E2E_SHOTS, else test-results/e2e-shots.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { Store } from '../../core/lab/store';
import { MAX_COMPARE_RUNS } from '../../core/api/lab-api';
import { launchChromium, watchPage } from '../helpers/browser';
import { checkBrowserPrerequisites, LabServer, ROOT } from '../helpers/lab-server';

const SWEEP = 100;
const SHOTS = process.env.QLAB_E2E_SHOTS ?? join(ROOT, 'test-results/e2e-shots');
const OPTIMIZERS = ['adam', 'sgd', 'rmsprop'];
const server = new LabServer('qlab-e2e-compare-');
let browser: Browser | null = null;
let baseUrl = '';
const pageErrors: string[] = [];

/** The sweep's runs, in creation order (the runs table lists newest first). */
const sweep = Array.from({ length: SWEEP }, (_, i) => ({
  id: randomUUID(),
  lr: Number((0.001 * (1 + (i % 10))).toFixed(3)),
  layers: 1 + (i % 4),
  optimizer: OPTIMIZERS[i % 3],
  acc: 0.5 + ((i * 37) % 100) / 250,
}));
const mixed = { qhead: randomUUID(), qdllm: randomUUID() };

function poll<T>(fn: () => T | Promise<T>) {
  return expect.poll(fn, { timeout: 20_000 });
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `compare-${name}.png`), fullPage: false });
}

function fillStore(labDir: string): void {
  const store = Store.open(join(labDir, 'lab.sqlite'));
  const t0 = Date.parse('2026-11-01T00:00:00.000Z');
  const iso = (ms: number) => new Date(ms).toISOString();
  const finish = store.db.prepare(
    `UPDATE runs SET status = 'succeeded', started_at = ?, finished_at = ?, progress = 1, summary = ? WHERE id = ?`,
  );
  store.db.transaction(() => {
    sweep.forEach((s, i) => {
      const at = t0 + i * 60_000;
      store.insertRun({
        id: s.id,
        kind: 'qhead',
        name: `sweep ${String(i).padStart(3, '0')}`,
        config: { lr: s.lr, layers: s.layers, optimizer: s.optimizer, epochs: 10, encoder: { dim: 64 } },
        seed: i,
        createdAt: iso(at),
        codeVersion: 'e2e',
        tags: ['sweep'],
      });
      finish.run(iso(at + 1000), iso(at + 60_000), JSON.stringify({ val_acc_mean: s.acc, params: 40 }), s.id);
      const points = [];
      for (let e = 1; e <= 10; e++) {
        points.push({ key: 'val_acc', step: e, value: s.acc * (1 - 0.5 ** e), wallTime: at });
        points.push({ key: 'train_loss', step: e, value: (1 + s.lr * 100) / e, wallTime: at });
      }
      store.addMetrics(s.id, points);
    });
    // Two runs of different kinds: they share `epochs`, `val_acc` and `quantum_test_acc` only.
    const kinds = [
      {
        id: mixed.qhead,
        kind: 'qhead',
        config: { epochs: 5, encoder: { type: 'bow', dim: 32 }, teacher: null },
        summary: { quantum_test_acc: 0.6, dataset: 'brown-topics' },
        metrics: ['val_acc', 'quantum/val_acc'],
      },
      {
        id: mixed.qdllm,
        kind: 'qdllm',
        config: { epochs: 8, qubits: 4, students: ['quantum', 'mlp'] },
        summary: { quantum_test_acc: 0.7, teacher_acc: 0.9 },
        metrics: ['val_acc', 'student/loss'],
      },
    ];
    kinds.forEach((k, j) => {
      const at = t0 - (j + 1) * 3_600_000;
      store.insertRun({
        id: k.id,
        kind: k.kind,
        name: `mixed ${k.kind}`,
        config: k.config,
        seed: 1,
        createdAt: iso(at),
        codeVersion: 'e2e',
        tags: ['mixed'],
      });
      finish.run(iso(at + 1000), iso(at + 2000), JSON.stringify(k.summary), k.id);
      store.addMetrics(
        k.id,
        k.metrics.flatMap((key) =>
          [1, 2, 3].map((step) => ({ key, step, value: 0.5 + step / 10, wallTime: at })),
        ),
      );
    });
    // A sweep as large as compare takes; with the others, "select all" passes the limit.
    for (let i = 0; i < MAX_COMPARE_RUNS; i++) {
      const id = randomUUID();
      const at = t0 - 7_200_000 - i * 1000;
      store.insertRun({
        id,
        kind: 'qhead',
        name: `large ${i}`,
        config: { lr: 0.001 * (1 + (i % 10)), layers: 1 + (i % 4), optimizer: OPTIMIZERS[i % 3], epochs: 3 },
        seed: i,
        createdAt: iso(at),
        codeVersion: 'e2e',
        tags: ['large'],
      });
      finish.run(iso(at + 100), iso(at + 900), JSON.stringify({ val_acc_mean: (i % 97) / 97 }), id);
      store.addMetrics(
        id,
        [1, 2, 3].map((step) => ({
          key: 'val_acc',
          step,
          value: ((i % 97) / 97) * (step / 3),
          wallTime: at,
        })),
      );
    }
  })();
  store.close();
}

beforeAll(async () => {
  checkBrowserPrerequisites();
  baseUrl = await server.start(fillStore);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server.stop();
});

async function openPage(): Promise<Page> {
  const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
  watchPage(page, pageErrors, { httpErrors: true });
  return page;
}

/** Drags along an axis of the parallel-coordinates view from one fraction of its height to another (0 = top). */
async function brush(page: Page, axisId: string, fromTop: number, toTop: number): Promise<void> {
  const area = page.locator(`[data-testid=pc-axis][data-axis-id="${axisId}"] [data-testid=pc-brush-area]`);
  await area.scrollIntoViewIfNeeded();
  const box = (await area.boundingBox())!;
  const x = box.x + box.width / 2;
  await page.mouse.move(x, box.y + fromTop * box.height);
  await page.mouse.down();
  await page.mouse.move(x, box.y + ((fromTop + toTop) / 2) * box.height, { steps: 4 });
  await page.mouse.move(x, box.y + toTop * box.height, { steps: 4 });
  await page.mouse.up();
}

async function band(page: Page, axisId: string): Promise<{ lo: number; hi: number }> {
  const b = page.locator(`[data-testid=pc-axis][data-axis-id="${axisId}"] [data-testid=pc-brush]`);
  return { lo: Number(await b.getAttribute('data-lo')), hi: Number(await b.getAttribute('data-hi')) };
}

const activeLines = (page: Page) => page.locator('[data-testid=pc-line][data-active="1"]').count();

describe('compare a 100-run sweep', () => {
  it('selects the sweep on the runs page, draws 100 polylines, and brushing filters them', async () => {
    const page = await openPage();
    await page.goto(baseUrl);
    await page.getByTestId('run-row').first().waitFor();
    await page.getByTestId('filter-tag').selectOption('sweep');
    await page.getByTestId('select-all').check();
    await poll(() => page.getByTestId('compare-selected').textContent()).toBe(`Compare (${SWEEP})`);
    const t0 = Date.now();
    await page.getByTestId('compare-selected').click();

    const cmp = page.getByTestId('compare-page');
    await cmp.waitFor();
    await poll(() => page.getByTestId('pc-line').count()).toBe(SWEEP);
    console.log(`compare of ${SWEEP} runs: ${Date.now() - t0} ms from the click to every polyline drawn`);
    expect(await activeLines(page)).toBe(SWEEP);
    // Axes: the three differing config fields and the differing summary figure (params is the same: no axis).
    await poll(() =>
      page.getByTestId('pc-axis').evaluateAll((els) => els.map((e) => e.getAttribute('data-axis-id'))),
    ).toEqual(['config:layers', 'config:lr', 'config:optimizer', 'summary:val_acc_mean']);
    expect(
      await page.locator('[data-testid=pc-axis][data-axis-id="config:optimizer"]').getAttribute('data-type'),
    ).toBe('categorical');
    await poll(() => page.getByTestId('compare-run').count()).toBe(SWEEP);
    // The scatter plots every run; the best five by val_acc_mean are overlaid, their curves fetched.
    await poll(async () =>
      Number(await page.getByTestId('compare-scatter').getAttribute('data-points')),
    ).toBe(SWEEP);
    await poll(() => page.getByTestId('overlay-caption').textContent()).toMatch(
      /5 runs overlaid: the best 5/,
    );
    const best = [...sweep].sort((a, b) => b.acc - a.acc || sweep.indexOf(a) - sweep.indexOf(b)).slice(0, 5);
    const checked = await page
      .locator('[data-testid=compare-run]:has([data-testid=overlay-run]:checked)')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-run-id')));
    expect(new Set(checked)).toEqual(new Set(best.map((b) => b.id)));
    const chart = cmp.locator('[data-testid^="compare-chart-"]').first();
    await poll(async () => Number(await chart.getAttribute('data-points'))).toBe(5 * 10);
    await page.getByTestId('pc-line').first().scrollIntoViewIfNeeded();
    await shot(page, 'sweep');

    // Brush lr over the upper part of its axis: the runs kept are exactly those whose lr lies in the band.
    await brush(page, 'config:lr', 0.1, 0.55);
    await poll(() => page.getByTestId('pc-brush').count()).toBe(1);
    const lr = await band(page, 'config:lr');
    expect(lr.hi).toBeGreaterThan(lr.lo);
    const lrPos = (v: number) => (v - 0.001) / (0.01 - 0.001);
    const inLr = sweep.filter((s) => lrPos(s.lr) >= lr.lo - 1e-9 && lrPos(s.lr) <= lr.hi + 1e-9);
    expect(inLr.length).toBeGreaterThan(0);
    expect(inLr.length).toBeLessThan(SWEEP);
    await poll(() => activeLines(page)).toBe(inLr.length);
    expect(await page.getByTestId('pc-line').count()).toBe(SWEEP);
    await poll(() => page.getByTestId('compare-run').count()).toBe(inLr.length);
    await poll(() => page.getByTestId('compare-active').textContent()).toBe(
      `${inLr.length} of ${SWEEP} pass the brushes`,
    );

    // Then the top of the categorical optimizer axis (categories adam, rmsprop, sgd from the bottom): sgd.
    await brush(page, 'config:optimizer', 0.0, 0.2);
    const opt = await band(page, 'config:optimizer');
    expect(opt.lo).toBeGreaterThan(0.5);
    const both = inLr.filter((s) => s.optimizer === 'sgd');
    expect(both.length).toBeGreaterThan(0);
    await poll(() => activeLines(page)).toBe(both.length);
    const kept = await page
      .locator('[data-testid=pc-line][data-active="1"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-run-id')));
    expect(new Set(kept)).toEqual(new Set(both.map((s) => s.id)));
    await poll(() => page.getByTestId('brush-list').textContent()).toContain('optimizer ∈ {sgd}');
    await shot(page, 'brushed');

    // A click on the axis lets go of its brush; Clear brushes of all.
    const area = page.locator(
      '[data-testid=pc-axis][data-axis-id="config:optimizer"] [data-testid=pc-brush-area]',
    );
    await area.click();
    await poll(() => activeLines(page)).toBe(inLr.length);
    await page.getByTestId('clear-brushes').click();
    await poll(() => activeLines(page)).toBe(SWEEP);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('compares runs of two kinds on what they share, listing the rest once per kind', async () => {
    const page = await openPage();
    await page.goto(`${baseUrl}#/compare/${mixed.qhead},${mixed.qdllm}`);
    const cmp = page.getByTestId('compare-page');
    await poll(() => page.getByTestId('compare-run').count()).toBe(2);
    expect(await page.getByTestId('config-diff-path').allTextContents()).toEqual(['epochs']);
    expect(await page.getByTestId('summary-key').allTextContents()).toEqual(['quantum_test_acc']);
    await expect
      .poll(() => page.getByTestId('final-metrics').locator('thead th').allTextContents())
      .toEqual(['run', 'val_acc']);
    const rows = await page
      .getByTestId('unshared-row')
      .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-kind')}: ${e.textContent}`));
    expect(rows).toHaveLength(6);
    expect(rows.join('\n')).toContain('teacher_acc');
    expect(rows.join('\n')).toContain('encoder.type');
    // No table cell reads null or is empty for a missing value.
    const cells = await cmp.locator('table td').allTextContents();
    expect(cells.filter((t) => /^(null|—|)$/.test(t.trim()))).toEqual([
      '', // the overlay checkbox cells of the two runs
      '',
    ]);
    await shot(page, 'kinds');
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it(`compares ${MAX_COMPARE_RUNS} runs, the most it takes`, async () => {
    const page = await openPage();
    await page.goto(baseUrl);
    await page.getByTestId('run-row').first().waitFor();
    await page.getByTestId('filter-tag').selectOption('large');
    await page.getByTestId('select-all').check();
    const button = page.getByTestId('compare-selected');
    await poll(() => button.textContent()).toBe(`Compare (${MAX_COMPARE_RUNS})`);
    expect(await button.isDisabled()).toBe(false);
    const t0 = Date.now();
    await button.click();
    await poll(() => page.getByTestId('pc-line').count()).toBe(MAX_COMPARE_RUNS);
    const ms = Date.now() - t0;
    console.log(`compare of ${MAX_COMPARE_RUNS} runs: ${ms} ms from the click to every polyline drawn`);
    expect(ms).toBeLessThan(30_000);
    await poll(async () =>
      Number(await page.getByTestId('compare-scatter').getAttribute('data-points')),
    ).toBe(MAX_COMPARE_RUNS);
    // The runs table builds 200 rows at a time.
    expect(await page.getByTestId('compare-run').count()).toBe(200);
    await page.getByTestId('more-rows').click();
    await poll(() => page.getByTestId('compare-run').count()).toBe(400);
    // Brushing stays exact at this size: the top third of val_acc_mean.
    await brush(page, 'summary:val_acc_mean', 0.0, 0.33);
    const b = await band(page, 'summary:val_acc_mean');
    const expected = Array.from({ length: MAX_COMPARE_RUNS }, (_, i) => (i % 97) / 96).filter(
      (p) => p >= b.lo - 1e-9 && p <= b.hi + 1e-9,
    ).length;
    await poll(() => activeLines(page)).toBe(expected);
    await shot(page, 'thousand');
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it(`refuses more than ${MAX_COMPARE_RUNS} runs on the button and on the page, saying why`, async () => {
    const page = await openPage();
    await page.goto(baseUrl);
    await page.getByTestId('run-row').first().waitFor();
    await page.getByTestId('select-all').check();
    const button = page.getByTestId('compare-selected');
    const total = SWEEP + 2 + MAX_COMPARE_RUNS;
    await poll(() => button.textContent()).toBe(`Compare (${total})`);
    expect(await button.isDisabled()).toBe(true);
    expect(await button.getAttribute('title')).toMatch(/at most 1,000 runs/);
    const ids = Array.from({ length: MAX_COMPARE_RUNS + 1 }, () => randomUUID());
    await page.goto(`${baseUrl}#/compare/${ids.join(',')}`);
    await poll(() => page.getByTestId('compare-error').textContent()).toMatch(/at most 1,000/);
    await page.close();
  });
});
