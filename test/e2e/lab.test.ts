// The lab end to end in headless Chromium against the real `qlab serve` on a temporary lab dir: launch a
// run from the UI, watch its curve grow while it runs, launch a second, compare the two, export a report.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage, useLabInBrowser } from '../helpers/browser';
import { LabServer } from '../helpers/lab-server';

const PREFERRED_KIND = 'vqc-fit';

const server = new LabServer('qlab-e2e-');
const lab = useLabInBrowser(server);
/** Set QLAB_E2E_SHOTS=<dir> to keep screenshots of each screen for a look by eye. */
const SHOTS = process.env.QLAB_E2E_SHOTS;

async function shot(page: Page, name: string): Promise<void> {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Opens the new-run screen, picks the kind, submits, and returns the new run's id from the run page. */
async function launchRun(
  page: Page,
  name: string,
  seed: number,
  opts: { checkValidation?: boolean; edits?: Record<string, string> } = {},
): Promise<{ id: string; kind: string; edited: string[] }> {
  await page.getByTestId('nav-new').click();
  const select = page.getByTestId('kind-select');
  await expect
    .poll(() => select.locator('option').count(), {
      timeout: 10_000,
      message: 'the lab lists no job kinds (core/methods/registry.ts registers none?)',
    })
    .toBeGreaterThan(0);
  const kinds = await select
    .locator('option')
    .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  const kind = kinds.includes(PREFERRED_KIND) ? PREFERRED_KIND : kinds[0];
  await select.selectOption(kind);
  // Kinds with metadata open in their wizard (test/e2e/wizard.test.ts); this test drives the generic form.
  const generic = page.getByTestId('mode-generic');
  if ((await generic.count()) > 0) await generic.click();
  await page.getByTestId('run-name').fill(name);
  await page.getByTestId('run-seed').fill(String(seed));
  await page.getByTestId('run-tags').fill('e2e');
  // Config edits through the generated form, where the kind has those fields.
  const edited: string[] = [];
  for (const [path, value] of Object.entries(opts.edits ?? {})) {
    const input = page.getByTestId(`field-config.${path}`);
    if ((await input.count()) === 0) continue;
    await input.fill(value);
    edited.push(path);
  }
  if (opts.checkValidation) {
    // A config the kind's schema refuses: the server's error appears next to the config, no run starts.
    await page.getByTestId('mode-json').click();
    const editor = page.getByTestId('json-editor');
    const good = await editor.inputValue();
    await editor.fill('[]');
    await page.getByTestId('submit-run').click();
    await expect.poll(() => page.getByTestId('error-config').textContent()).toMatch(/^config/);
    expect(await page.getByTestId('run-page').count()).toBe(0);
    await editor.fill(good);
  }
  await shot(page, `new-${seed}`);
  await page.getByTestId('submit-run').click();
  const runPage = page.getByTestId('run-page');
  await runPage.waitFor({ timeout: 15_000 });
  const id = await runPage.getAttribute('data-run-id');
  if (!id) throw new Error('the run page shows no run id');
  return { id, kind, edited };
}

/** Points drawn over all of the run page's charts (keys appear as their first points arrive). */
async function chartPoints(page: Page): Promise<number> {
  const counts = await page
    .locator('[data-testid^="chart-"]')
    .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-points') ?? 0)));
  return counts.reduce((a, b) => a + b, 0);
}

async function waitForStatus(page: Page, status: string, timeout = 60_000): Promise<void> {
  const badge = page.getByTestId('run-page').getByTestId('status').first();
  await expect
    .poll(
      async () => {
        const s = await badge.getAttribute('data-status');
        if (s !== status && (s === 'failed' || s === 'cancelled' || s === 'interrupted')) {
          const err = await page
            .getByTestId('run-error')
            .textContent()
            .catch(() => '');
          throw new Error(`run ended ${s}: ${err}`);
        }
        return s;
      },
      { timeout, interval: 100 },
    )
    .toBe(status);
}

describe('lab in the browser', () => {
  it('launches runs, shows a live curve, compares two runs and exports a report', async () => {
    // Page errors, console errors and failed responses, in order.
    const { page, errors: pageErrors } = await openPage(lab.browser, {
      acceptDownloads: true,
      viewport: { width: 1400, height: 1000 },
      httpErrors: true,
    });
    await page.goto(lab.baseUrl);
    await page.getByTestId('runs-table').waitFor();

    // First run: its chart must gain points while the run is still running.
    // More epochs than the default so the run lasts long enough to watch (where the kind has epochs): a few
    // seconds, with the f32 SIMD simulator (60 epochs ran in about a second and the samples could miss it).
    const first = await launchRun(page, 'e2e first', 1, { edits: { epochs: '300' } });
    const samples: { status: string | null; points: number }[] = [];
    const badge = page.getByTestId('run-page').getByTestId('status').first();
    const deadline = Date.now() + 60_000;
    for (;;) {
      const status = await badge.getAttribute('data-status');
      const points = await chartPoints(page);
      samples.push({ status, points });
      if (status !== 'queued' && status !== 'running') break;
      if (Date.now() > deadline) throw new Error('the first run did not finish within 60 s');
      await page.waitForTimeout(100);
    }
    await waitForStatus(page, 'succeeded');
    // Let the final re-sync and a throttled redraw land.
    await expect.poll(() => chartPoints(page)).toBeGreaterThan(0);
    const finalPoints = await chartPoints(page);
    // Live growth: two samples taken while the run was still running, the later with more points drawn.
    const whileRunning = samples.filter((s) => s.status === 'running' && s.points > 0).map((s) => s.points);
    const grew = whileRunning.some((p, i) => i > 0 && p > whileRunning[i - 1]);
    await shot(page, 'run');
    expect(grew, `chart points sampled while running: ${JSON.stringify(samples)}; final ${finalPoints}`).toBe(
      true,
    );

    // A note on the finished run is stored and shown.
    await page.getByTestId('note-input').fill('looks converged');
    await page.getByTestId('note-add').click();
    await expect.poll(() => page.getByTestId('notes').textContent()).toContain('looks converged');

    // Second run, then both in the runs table.
    const second = await launchRun(page, 'e2e second', 2, { checkValidation: true });
    expect(second.kind).toBe(first.kind);
    await waitForStatus(page, 'succeeded');

    // A third, long run is cancelled from its page.
    const third = await launchRun(page, 'e2e cancelled', 3, { edits: { epochs: '1000' } });
    await waitForStatus(page, 'running', 30_000);
    const cancelAt = Date.now();
    await page.getByTestId('cancel-run').click();
    // Cancel asks first.
    await page.getByTestId('cancel-confirm').click();
    await waitForStatus(page, 'cancelled', 10_000);
    const cancelMs = Date.now() - cancelAt;
    console.info(`e2e: cancel shown as cancelled after ${cancelMs} ms`);

    await page.getByTestId('nav-runs').click();
    await expect
      .poll(() =>
        page.locator(`[data-testid="run-row"][data-run-id="${third.id}"]`).getAttribute('data-status'),
      )
      .toBe('cancelled');
    expect(cancelMs, 'cancel takes effect within a few seconds').toBeLessThan(5_000);
    for (const id of [first.id, second.id]) {
      const row = page.locator(`[data-testid="run-row"][data-run-id="${id}"]`);
      await expect.poll(() => row.getAttribute('data-status')).toBe('succeeded');
      await row.getByTestId('select-run').check();
    }
    await shot(page, 'runs');
    await page.getByTestId('compare-selected').click();

    // Compare page: both runs, their seeds differ, a shared metric overlaid as two curves.
    const cmp = page.getByTestId('compare-page');
    await cmp.waitFor();
    await expect
      .poll(() => cmp.getByTestId('compare-run-id').allTextContents(), { timeout: 15_000 })
      .toEqual(expect.arrayContaining([first.id, second.id]));
    for (const path of first.edited) {
      await expect.poll(() => cmp.getByTestId('config-diff-path').allTextContents()).toContain(path);
    }
    // a row per run: the shared final metrics and the jobs' headline figures as columns
    await expect.poll(() => cmp.getByTestId('final-metrics').locator('tbody tr').count()).toBe(2);
    await expect.poll(() => cmp.getByTestId('summary-key').count()).toBeGreaterThan(0);
    await expect.poll(() => cmp.getByTestId('compare-run').count()).toBe(2);
    const overlay = cmp.locator('[data-testid^="compare-chart-"]').first();
    await expect
      .poll(async () => Number(await overlay.getAttribute('data-points')), { timeout: 10_000 })
      .toBeGreaterThan(1);

    await shot(page, 'compare');

    // Export an HTML report of both from the compare page.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      cmp.getByTestId('export-html').click(),
    ]);
    const file = join(server.labDir, 'report.html');
    await download.saveAs(file);
    const html = readFileSync(file, 'utf8');
    expect(download.suggestedFilename()).toMatch(/\.html$/);
    expect(html).toContain(first.id);
    expect(html).toContain(second.id);

    // The refused config above is the one request allowed to fail (the browser logs it too).
    const expected = [/^HTTP 400 for .*\/api\/createRun$/, /^console: .*status of 400/];
    const unexpected = pageErrors.filter((e) => !expected.some((re) => re.test(e)));
    expect(unexpected, 'errors in the page (CSP violations, exceptions, failed requests)').toEqual([]);
    expect(pageErrors.filter((e) => expected[0].test(e))).toHaveLength(1);
    await page.context().close();
  });
});
