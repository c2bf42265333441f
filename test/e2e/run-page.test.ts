// The run page and the compare page as a researcher reads them, in headless Chromium against `qlab serve`: a run
// shaped like a finished qdllm comparison (written straight into the store: three models × two seeds × three
// learning-rate candidates, the chosen candidate's curves, the per-step loss, a 20-column results table,
// sim-bench's list of backends) shows its results table inside a 1,400 px window, one mean ± std band per
// model (and per model and candidate on the candidates' chart) with every line tellable apart, named axes, a header that says each thing once; a brushed categorical axis keeps its
// labels readable. Screenshots of each main screen (runs, run, new run, compare, lab), light and dark, are
// written on every run to $QLAB_E2E_SHOTS, else test-results/e2e-shots (screen-*.png).
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { Store } from '../../core/lab/store';
import { launchChromium, watchPage } from '../helpers/browser';
import { checkBrowserPrerequisites, LabServer, ROOT } from '../helpers/lab-server';

const SHOTS = process.env.QLAB_E2E_SHOTS ?? join(ROOT, 'test-results/e2e-shots');
const server = new LabServer('qlab-e2e-run-page-');
let browser: Browser | null = null;
let baseUrl = '';
const pageErrors: string[] = [];
const qdllmRun = randomUUID();
/** Interrupted: ran 5 min to its last heartbeat; the lab noticed (and wrote its finish) 3 days later. */
const deadRun = randomUUID();
/** A finished sweep whose children report many long metric keys (as qdllm's figures), crowding its table. */
const sweepParent = randomUUID();
const SWEEP_KEYS = ['quantum', 'mlp', 'transformer', 'teacher'].flatMap((m) =>
  ['test_acc', 'test_macro_f1', 'train_seconds'].map((f) => `${m}_${f}`),
);
const MODELS = ['quantum', 'mlp', 'transformer'];
const OPTIMIZERS = ['adam', 'rmsprop', 'sgd'];
const sweep = Array.from({ length: 6 }, (_, i) => ({
  id: randomUUID(),
  optimizer: OPTIMIZERS[i % 3],
  lr: 0.01 * (1 + i),
}));

function poll<T>(fn: () => T | Promise<T>) {
  return expect.poll(fn, { timeout: 20_000 });
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `screen-${name}.png`), fullPage: true });
}

function fillStore(labDir: string): void {
  const store = Store.open(join(labDir, 'lab.sqlite'));
  const t0 = Date.parse('2026-11-01T00:00:00.000Z');
  const iso = (ms: number) => new Date(ms).toISOString();
  store.db.transaction(() => {
    store.insertRun({
      id: qdllmRun,
      kind: 'qdllm',
      name: 'qdllm comparison',
      config: { seeds: 2, epochs: 3 },
      seed: 1,
      createdAt: iso(t0),
      codeVersion: 'e2e',
      tags: [],
    });
    // As qdllm's report: five models × twenty figures (2,273 px wide in a 1,372 px column when laid out as rows).
    const figures = Array.from({ length: 19 }, (_, j) => `figure number ${j} (macro, weighted)`);
    const rows = ['Bag-of-words logistic regression (reference)', 'Teacher', ...MODELS].map((m, i) => [
      m,
      ...figures.map((_, j) =>
        j % 3 === 0 ? `0.${5000 + i * 111 + j} ± 0.0${100 + j}` : 0.5 + i / 10 + j / 100,
      ),
    ]);
    store.setResult(
      qdllmRun,
      { quantum_test_acc: 0.5, mlp_test_acc: 0.5, transformer_test_acc: 0.62 },
      [
        {
          type: 'table',
          title: 'QD-LLM: test metrics, mean ± std over 2 seed(s)',
          columns: ['model', ...figures],
          rows,
        },
      ],
      {
        backends: [
          { backend: 'cpu', mode: 'wasm-simd', precision: 'f64' },
          { backend: 'cpu', mode: 'wasm-simd', precision: 'f32' },
        ],
        peer: null,
      },
    );
    store.db
      .prepare(
        `UPDATE runs SET status = 'succeeded', started_at = ?, finished_at = ?, progress = 1 WHERE id = ?`,
      )
      .run(iso(t0 + 1000), iso(t0 + 9000), qdllmRun);
    const points = [];
    // As the harness writes them: every candidate under lr<j>/, the chosen one's (here lr<k>) repeated under
    // the plain key, and each seed's per-batch loss from its own step 0 (54 points per seed).
    for (const [mi, model] of MODELS.entries())
      for (let k = 0; k < 2; k++) {
        for (let j = 0; j < 3; j++)
          for (let e = 1; e <= 3; e++) {
            const value = 0.5 + 0.05 * mi + 0.03 * j + 0.02 * e + 0.01 * k;
            points.push({ key: `${model}/seed${k}/lr${j}/val_acc`, step: e, value, wallTime: t0 });
            if (j === k) points.push({ key: `${model}/seed${k}/val_acc`, step: e, value, wallTime: t0 });
          }
        for (let step = 0; step < 54; step++) {
          const value = 0.1 + 0.05 * mi + 0.01 * k + 0.05 * Math.sin(step);
          points.push({ key: `${model}/seed${k}/step_loss`, step, value, wallTime: t0 });
        }
      }
    store.addMetrics(qdllmRun, points);

    // Six runs with a categorical optimizer, for the parallel coordinates.
    sweep.forEach((s, i) => {
      const at = t0 + (i + 1) * 60_000;
      store.insertRun({
        id: s.id,
        kind: 'vqc-fit',
        name: `opt ${i}`,
        config: { optimizer: s.optimizer, lr: s.lr },
        seed: i,
        createdAt: iso(at),
        codeVersion: 'e2e',
        tags: ['opt'],
      });
      store.db
        .prepare(
          `UPDATE runs SET status = 'succeeded', started_at = ?, finished_at = ?, progress = 1, summary = ? WHERE id = ?`,
        )
        .run(iso(at + 100), iso(at + 900), JSON.stringify({ quantum_test_acc: 0.5 + i / 20 }), s.id);
      store.addMetrics(
        s.id,
        [1, 2, 3].flatMap((e) => [
          { key: 'quantum/loss', step: e, value: 1 / e + i / 10, wallTime: at },
          { key: 'mlp/loss', step: e, value: 1.2 / e, wallTime: at },
        ]),
      );
    });
    const sweepAt = t0 + 3_600_000;
    store.insertSweep(
      {
        id: sweepParent,
        kind: 'vqc-fit',
        name: 'lr sweep',
        config: { lr: 0.01 },
        seed: 1,
        createdAt: iso(sweepAt),
        codeVersion: 'e2e',
        tags: [],
        sweep: { axes: [{ field: 'lr', values: [0.01, 0.02, 0.05] }] },
      },
      [0.01, 0.02, 0.05].map((lr, i) => ({
        id: randomUUID(),
        kind: 'vqc-fit',
        name: `lr sweep lr=${lr}`,
        config: { lr },
        seed: 1,
        createdAt: iso(sweepAt + i),
        codeVersion: 'e2e',
        tags: [],
      })),
    );
    store.db
      .prepare(
        `UPDATE runs SET status = 'succeeded', started_at = ?, finished_at = ?, progress = 1, summary = ? WHERE parent_id = ?`,
      )
      .run(
        iso(sweepAt + 100),
        iso(sweepAt + 900),
        JSON.stringify(Object.fromEntries(SWEEP_KEYS.map((k, j) => [k, 0.5 + j / 100]))),
        sweepParent,
      );
    store.db
      .prepare(`UPDATE runs SET status = 'succeeded', finished_at = ?, progress = 1 WHERE id = ?`)
      .run(iso(sweepAt + 1000), sweepParent);
    store.insertRun({
      id: deadRun,
      kind: 'vqc-fit',
      name: 'died mid-run',
      config: {},
      seed: 1,
      createdAt: iso(t0),
      codeVersion: 'e2e',
      tags: [],
    });
    store.db
      .prepare(
        `UPDATE runs SET status = 'interrupted', started_at = ?, heartbeat_at = ?, finished_at = ? WHERE id = ?`,
      )
      .run(iso(t0 + 1_000), iso(t0 + 301_000), iso(t0 + 3 * 86_400_000), deadRun);
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

async function openPage(dark = false): Promise<Page> {
  const page = await browser!.newPage({
    viewport: { width: 1400, height: 900 },
    colorScheme: dark ? 'dark' : 'light',
  });
  watchPage(page, pageErrors);
  return page;
}

describe('run page of a comparison', () => {
  it("stops an interrupted run's duration at its last heartbeat, not at the finish the lab wrote days later", async () => {
    const page = await openPage();
    await page.goto(`${baseUrl}#/run/${deadRun}`);
    await poll(() => page.getByTestId('run-duration').textContent()).toBe('5 min 0 s');
    await page.close();
  });

  it('fits its results table, tells every line apart and names what it shows once', async () => {
    const page = await openPage();
    await page.goto(`${baseUrl}#/run/${qdllmRun}`);
    const table = page.getByTestId('report-table').first();
    // Too wide as rows: turned to models as columns, and then within its column.
    await poll(() => table.getAttribute('data-transposed')).toBe('true');
    const fit = await table.evaluate((t) => ({ table: t.scrollWidth, box: t.parentElement!.clientWidth }));
    expect(fit.table).toBeLessThanOrEqual(fit.box);
    expect(await table.locator('thead th').count()).toBe(6);
    // The reader can turn it back.
    await page.getByTestId('report-flip').first().click();
    await poll(() => table.getAttribute('data-transposed')).toBe('false');
    await page.getByTestId('report-flip').first().click();
    await poll(() => table.getAttribute('data-transposed')).toBe('true');

    // The header names the backends once, in words.
    const meta = (await page.getByTestId('run-meta').textContent()) ?? '';
    expect(meta).toContain('cpu wasm-simd f64, cpu wasm-simd f32');
    expect(meta).not.toMatch(/backends|\[\{|"backend"/);

    // The chosen candidates: one band per model over the two seeds.
    const chosen = page.locator('figure[data-testid="chart-*/*/val_acc"]');
    await poll(() => chosen.getAttribute('data-bands')).toBe('3');
    expect(await chosen.getAttribute('data-styles')).toBe('3');
    expect(await chosen.locator('figcaption .title').textContent()).toBe('val_acc — mean ± std over 2 seeds');
    // The candidates: one band per model and candidate over the two seeds; every line has its own colour and dash.
    const acc = page.locator('figure[data-testid="chart-*/*/*/val_acc"]');
    await poll(() => acc.getAttribute('data-bands')).toBe('9');
    expect(await acc.getAttribute('data-styles')).toBe('9');
    expect(await acc.getAttribute('data-x-title')).toBe('epoch');
    expect(await acc.locator('figcaption .title').textContent()).toBe(
      'val_acc by learning-rate candidate — mean ± std over 2 seeds',
    );
    // The per-step loss: x is the step, one band per model (the seeds' steps both from 0, not end to end) in
    // three colours, smoothed as a noisy series.
    const loss = page.locator('figure[data-testid="chart-*/*/step_loss"]');
    expect(await loss.getAttribute('data-x-title')).toBe('step');
    expect(await loss.getAttribute('data-bands')).toBe('3');
    expect(await loss.getAttribute('data-styles')).toBe('3');
    expect(await loss.getByTestId('chart-smooth').inputValue()).toBe('0.6');
    await shot(page, 'run');
    await page.close();
  });
});

describe('run page of a sweep', () => {
  it('breaks the child runs’ headers only between words, and scrolls the table inside its column', async () => {
    // 12 long metric keys crowd the table: its headers broke anywhere ("progres s", "quantum_tes t_acc").
    const page = await openPage();
    await page.goto(`${baseUrl}#/run/${sweepParent}`);
    const table = page.getByTestId('children');
    await poll(() => page.getByTestId('child-row').count()).toBe(3);
    const headers = table.locator('thead th');
    await poll(() => headers.count()).toBe(5 + SWEEP_KEYS.length);
    const report = await headers.evaluateAll((ths) =>
      ths.map((th) => {
        // Each character's line (its box's top); a line may start only after a space or one of _ / . : - or at
        // an upper-case letter after a lower-case one (camelCase).
        const chars: { ch: string; top: number }[] = [];
        const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const text = n.textContent ?? '';
          for (let i = 0; i < text.length; i++) {
            const r = document.createRange();
            r.setStart(n, i);
            r.setEnd(n, i + 1);
            const box = r.getClientRects()[0];
            if (box && box.width > 0) chars.push({ ch: text[i], top: box.top });
          }
        }
        const breaks: string[] = [];
        for (let i = 1; i < chars.length; i++) {
          if (chars[i].top <= chars[i - 1].top + 1) continue;
          const a = chars[i - 1].ch;
          const b = chars[i].ch;
          if (/[\s_/.:-]/.test(a) || /\s/.test(b) || (/[a-z]/.test(a) && /[A-Z]/.test(b))) continue;
          breaks.push(`${a}|${b}`);
        }
        return { text: th.textContent ?? '', breaks, overflow: th.scrollWidth > th.clientWidth };
      }),
    );
    expect(report.map((h) => h.text)).toEqual(['', 'status', 'name', 'progress', ...SWEEP_KEYS, 'error']);
    expect(report.filter((h) => h.breaks.length > 0 || h.overflow)).toEqual([]);
    // A key too long for its share of the row widens the table, which scrolls inside its column; the page
    // itself never scrolls sideways.
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      window: document.documentElement.clientWidth,
    }));
    expect(widths.page).toBeLessThanOrEqual(widths.window);
    await shot(page, 'sweep');
    await page.close();
  });
});

describe('compare page', () => {
  it('keeps the tick labels of a brushed categorical axis readable', async () => {
    const page = await openPage();
    await page.goto(`${baseUrl}#/compare/${sweep.map((s) => s.id).join(',')}`);
    const axis = page.locator('[data-testid=pc-axis][data-axis-id="config:optimizer"]');
    await axis.waitFor();
    const area = axis.getByTestId('pc-brush-area');
    const box = (await area.boundingBox())!;
    const x = box.x + box.width / 2;
    // categories adam, rmsprop, sgd from the bottom: brush the top, sgd
    await page.mouse.move(x, box.y);
    await page.mouse.down();
    await page.mouse.move(x, box.y + 0.1 * box.height, { steps: 4 });
    await page.mouse.move(x, box.y + 0.2 * box.height, { steps: 4 });
    await page.mouse.up();
    await poll(() => page.getByTestId('brush-list').textContent()).toContain('optimizer ∈ {sgd}');
    const geometry = await axis.evaluate((g) => {
      const label = [...g.querySelectorAll('text.tick-label')].find((t) => t.textContent === 'sgd')!;
      const brush = g.querySelector('[data-testid=pc-brush]')!;
      const hit = g.querySelector('[data-testid=pc-brush-area]')!;
      const kids = [...g.children];
      return {
        labelRight: label.getBoundingClientRect().right,
        brushLeft: brush.getBoundingClientRect().left,
        // painted later = on top
        labelOverBrush: kids.indexOf(label) > kids.indexOf(brush),
        // the pressed axis has the focus; no ring may frame it over the labels
        focused: document.activeElement === hit,
        ring: getComputedStyle(hit).outlineStyle,
      };
    });
    expect(geometry.labelRight).toBeLessThanOrEqual(geometry.brushLeft);
    expect(geometry.labelOverBrush).toBe(true);
    if (geometry.focused) expect(geometry.ring).toBe('none');
    await page.locator('[data-testid=parcoords]').scrollIntoViewIfNeeded();
    await shot(page, 'compare');
    await page.close();
  });
});

describe('main screens', () => {
  it('are written as screenshots in both themes', async () => {
    for (const dark of [false, true]) {
      const page = await openPage(dark);
      const theme = dark ? 'dark' : 'light';
      await page.goto(baseUrl);
      await page.getByTestId('run-row').first().waitFor();
      await shot(page, `runs-${theme}`);
      await page.goto(`${baseUrl}#/run/${qdllmRun}`);
      await page.locator('figure[data-testid$="val_acc"][data-bands="9"]').waitFor();
      await shot(page, `run-${theme}`);
      await page.goto(`${baseUrl}#/new?kind=vqc-fit`);
      await page.locator('button.primary').first().waitFor();
      await shot(page, `new-run-${theme}`);
      await page.goto(`${baseUrl}#/compare/${sweep.map((s) => s.id).join(',')}`);
      await page.getByTestId('pc-line').first().waitFor({ state: 'attached' });
      await shot(page, `compare-${theme}`);
      await page.goto(`${baseUrl}#/lab`);
      await page.getByTestId('file-root').first().waitFor();
      await shot(page, `lab-${theme}`);
      await page.close();
    }
    expect(pageErrors).toEqual([]);
  });
});
