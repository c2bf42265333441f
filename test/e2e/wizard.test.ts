// The wizards end to end in headless Chromium against the real `qlab serve`. QD-LLM: the small preset opens
// selected, the live parameter preview follows the qubits, an out-of-range guidance weight is shown by its
// field before Next (nothing is sent), a refusal only the server knows (a too-long name) lands on the review,
// then the run starts and is cancelled. vqc-fit, sim-bench, qhead and qdllm: each generated wizard launches its
// small preset, and the run succeeds (qffn and qtha have their own e2e files).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { qdllmStudentParamCount } from '../../core/methods/qdllm/circuit';
import { openPage, useLabInBrowser, type WatchedPage } from '../helpers/browser';
import { LabServer } from '../helpers/lab-server';

const server = new LabServer('qlab-e2e-wizard-');
const lab = useLabInBrowser(server);
/** Set QLAB_E2E_SHOTS=<dir> to keep screenshots of the wizard for a look by eye. */
const SHOTS = process.env.QLAB_E2E_SHOTS;

const open = (): Promise<WatchedPage> => openPage(lab.browser, { httpErrors: true });

describe('wizards in the browser', () => {
  it('QD-LLM: small preset, live preview, α out of range before Next, a server refusal, started and cancelled', async () => {
    const { page, errors } = await open();
    await page.goto(`${lab.baseUrl}#/new?kind=qdllm`);
    const wizard = page.locator('[data-testid="wizard"][data-kind="qdllm"]');
    await wizard.waitFor({ timeout: 10_000 });
    // the small preset is selected when the wizard opens
    expect(await page.getByTestId('preset-small').getAttribute('class')).toContain('on');
    // qdllm has a work model: before the lab is calibrated the preset's line asks for a calibration, no guess
    expect(await page.getByTestId('preset-estimate').textContent()).toMatch(/calibrate for an estimate/);
    expect(await page.getByTestId('wiz-field-samplesPerClass').inputValue()).toBe(''); // every deduplicated mail

    await page.getByTestId('wizard-next').click();
    expect(await page.getByTestId('wiz-field-teacher.hiddenSize').inputValue()).toBe('48');
    await page.getByTestId('wizard-next').click();
    // Student step: the live count for E = 48 (teacher width), n = 6, L = 3, C = 2, then for n = 7.
    const quantum = page.getByTestId('wiz-params-quantum');
    await expect
      .poll(() => quantum.getAttribute('data-params'))
      .toBe(String(qdllmStudentParamCount(48, 6, 3, 2)));
    await page.getByTestId('wiz-field-qubits').fill('7');
    await expect
      .poll(() => quantum.getAttribute('data-params'))
      .toBe(String(qdllmStudentParamCount(48, 7, 3, 2)));
    expect(await page.getByTestId('wiz-range-qubits').textContent()).toContain('2 to 24 qubits');
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'wizard-student.png'), fullPage: true });
    await page.getByTestId('wiz-field-qubits').fill('40');
    await expect.poll(() => page.getByTestId('wiz-error-qubits').textContent()).toMatch(/^config\.qubits: /);
    expect(await page.getByTestId('wiz-preview-invalid').count()).toBe(1);
    await page.getByTestId('wiz-field-qubits').fill('6');

    await page.getByTestId('wizard-next').click();
    await page.getByTestId('wiz-field-alpha').fill('2');
    // shown by the field at once, and Next stays on the step
    await expect
      .poll(() => page.getByTestId('wiz-error-alpha').textContent())
      .toMatch(/^config\.alpha: .*\[0, 1\]/);
    await page.getByTestId('wizard-next').click();
    expect(await wizard.getAttribute('data-step')).toBe('distill');
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'wizard-refused.png'), fullPage: true });
    await page.getByTestId('wiz-field-alpha').fill('0.9');
    expect(await page.getByTestId('wiz-error-alpha').count()).toBe(0);
    await page.getByTestId('wizard-next').click();

    // the server refuses what only it checks (a name over 200 characters): the message lands by the name
    await page.getByTestId('wiz-name').fill('n'.repeat(201));
    expect(JSON.parse(await page.getByTestId('wiz-json').inputValue())).toMatchObject({
      alpha: 0.9,
      qubits: 6,
    });
    await page.getByTestId('wizard-start').click();
    await expect.poll(() => page.getByTestId('wiz-error-name').textContent()).toMatch(/^name: /);
    expect(await page.getByTestId('run-page').count()).toBe(0);
    await page.getByTestId('wiz-name').fill('e2e wizard');
    await page.getByTestId('wizard-start').click();
    const runPage = page.getByTestId('run-page');
    await runPage.waitFor({ timeout: 15_000 });
    expect(await runPage.getAttribute('data-run-id')).toBeTruthy();

    // No need to wait for the teacher: cancel the run from its page.
    await page.getByTestId('cancel-run').click();
    await page.getByTestId('cancel-confirm').click(); // cancel asks first
    await expect
      .poll(() => runPage.getByTestId('status').first().getAttribute('data-status'), { timeout: 15_000 })
      .toBe('cancelled');

    const expected = [/^HTTP 400 for .*\/api\/createRun$/, /^console: .*status of 400/];
    expect(errors.filter((e) => !expected.some((re) => re.test(e)))).toEqual([]);
    expect(errors.filter((e) => expected[0].test(e))).toHaveLength(1);
    await page.close();
  });

  it('vqc-fit: the generated wizard launches its small preset, and the run succeeds', async () => {
    const { page, errors } = await open();
    await page.goto(`${lab.baseUrl}#/new?kind=vqc-fit`);
    const wizard = page.locator('[data-testid="wizard"][data-kind="vqc-fit"]');
    await wizard.waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('wizard-progress').locator('button').allTextContents()).toEqual([
      '1. Data',
      '2. Circuit',
      '3. Training',
      '4. Review',
    ]);
    expect(await page.getByTestId('wiz-field-dataset').inputValue()).toBe('circles');
    await page.getByTestId('wizard-next').click();
    expect(await page.getByTestId('wiz-params-quantum').getAttribute('data-params')).toBe('32');
    expect(await page.getByTestId('wiz-params-mlp').getAttribute('data-params')).toBe('32');
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('wiz-name').fill('e2e vqc wizard');
    await page.getByTestId('wizard-start').click();
    const runPage = page.getByTestId('run-page');
    await runPage.waitFor({ timeout: 15_000 });
    await expect
      .poll(() => runPage.getByTestId('status').first().getAttribute('data-status'), { timeout: 90_000 })
      .toBe('succeeded');
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'wizard-vqc-run.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  // The other kinds' wizards (qffn and qtha have their own e2e files): each opens on its small preset, walks its
  // steps with Next as generated from its metadata, and the run it starts succeeds. Started together, so the
  // three runs share the lab's scheduler as a user's would.
  it('sim-bench, qhead and qdllm: each small preset launched from its wizard succeeds', async () => {
    const kinds = ['sim-bench', 'qhead', 'qdllm'];
    const started: { kind: string; id: string; page: WatchedPage['page']; errors: string[] }[] = [];
    for (const kind of kinds) {
      const { page, errors } = await open();
      await page.goto(`${lab.baseUrl}#/new?kind=${kind}`);
      await page.locator(`[data-testid="wizard"][data-kind="${kind}"]`).waitFor({ timeout: 10_000 });
      const start = page.getByTestId('wizard-start');
      for (let step = 0; step < 8 && !(await start.isVisible()); step++)
        await page.getByTestId('wizard-next').click();
      await page.getByTestId('wiz-name').fill(`e2e ${kind} wizard`);
      await start.click();
      const runPage = page.getByTestId('run-page');
      await runPage.waitFor({ timeout: 15_000 });
      const id = /#\/run\/([^/?]+)/.exec(page.url())?.[1] ?? '';
      expect(id, `${kind}: the run page's address names the run`).not.toBe('');
      started.push({ kind, id, page, errors });
    }
    // Watched together: one that fails says so at once, and one still going at the deadline is named with its
    // progress, not left behind a bare test timeout. The lab runs one job at a time, so the deadline is for the
    // three in turn: under 4 busy loops (load 9–15) sim-bench took 21–25 s, qhead 2 min 55 s – 3 min 41 s, and
    // qdllm (95 s of CPU) was still at 23–72 % when the old 380 s ran out.
    const deadline = Date.now() + 900_000;
    // read in one go, without waiting for an element (the progress bar shows only while a run is going)
    const state = (page: WatchedPage['page']) =>
      page.evaluate(() => {
        const run = document.querySelector('[data-testid=run-page]');
        const bar = run?.querySelector('[data-testid=run-page-progress]') as HTMLProgressElement | null;
        return {
          status: run?.querySelector('[data-testid=status]')?.getAttribute('data-status') ?? null,
          progress: bar ? bar.value : null,
          duration: run?.querySelector('[data-testid=run-duration]')?.textContent ?? '',
        };
      });
    for (;;) {
      const now = await Promise.all(started.map(async (r) => ({ kind: r.kind, ...(await state(r.page)) })));
      // no status (the run page between two renders) is not an end
      const ended = now.filter((r) =>
        ['succeeded', 'failed', 'cancelled', 'interrupted'].includes(r.status ?? ''),
      );
      const bad = ended.filter((r) => r.status !== 'succeeded');
      if (bad.length > 0) {
        const why = await started
          .find((r) => r.kind === bad[0].kind)!
          .page.getByTestId('run-error')
          .textContent()
          .catch(() => '');
        throw new Error(`${bad[0].kind}'s small preset run ended ${bad[0].status}: ${why}`);
      }
      if (ended.length === now.length) {
        console.log(`wizard presets: ${now.map((r) => `${r.kind} ran ${r.duration}`).join(', ')}`);
        break;
      }
      if (Date.now() > deadline)
        throw new Error(
          `small preset runs still going after 900 s: ${now
            .filter((r) => !ended.includes(r))
            .map(
              (r) => `${r.kind} ${r.status} at ${Math.round((r.progress ?? 0) * 100)} % after ${r.duration}`,
            )
            .join(', ')}; ended: ${ended.map((r) => `${r.kind} in ${r.duration}`).join(', ') || 'none'}`,
        );
      await new Promise((r) => setTimeout(r, 1000));
    }
    for (const { kind, page, errors } of started) {
      if (SHOTS) await page.screenshot({ path: join(SHOTS, `wizard-${kind}-run.png`), fullPage: true });
      expect(errors, kind).toEqual([]);
      await page.close();
    }
  }, 960_000);
});
