// The QD-LLM wizard end to end in headless Chromium against the real `qlab serve`: small preset, a guidance
// weight the server refuses shown on the Distillation step, fixed, started, the run page opened, cancelled.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { qdllmStudentParamCount } from '../../core/methods/qdllm/circuit';
import { checkBrowserPrerequisites, CHROMIUM, LabServer } from '../helpers/lab-server';

const server = new LabServer('qlab-e2e-wizard-');
let browser: Browser | null = null;
/** Set QLAB_E2E_SHOTS=<dir> to keep screenshots of the wizard for a look by eye. */
const SHOTS = process.env.QLAB_E2E_SHOTS;

describe('QD-LLM wizard in the browser', () => {
  let baseUrl = '';

  beforeAll(async () => {
    checkBrowserPrerequisites();
    baseUrl = await server.start();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  });

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await server.stop();
  });

  it('small preset, α refused on the Distillation step, fixed, started and cancelled', async () => {
    const page = await browser!.newPage({ viewport: { width: 1300, height: 1000 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) pageErrors.push(`HTTP ${r.status()} for ${r.url()}`);
    });
    await page.goto(`${baseUrl}#/new?kind=qdllm`);
    const wizard = page.locator('[data-testid="wizard"][data-kind="qdllm"]');
    await wizard.waitFor({ timeout: 10_000 });
    await page.getByTestId('preset-small').click();
    expect(await page.getByTestId('wiz-field-samplesPerClass').inputValue()).toBe('100');

    await page.getByTestId('wizard-next').click();
    expect(await page.getByTestId('wiz-field-teacher.hiddenSize').inputValue()).toBe('48');
    await page.getByTestId('wizard-next').click();
    // Student step: the live count for E = 48 (teacher width), n = 6, L = 3, C = 2, then for n = 7.
    const count = (n: number): string => qdllmStudentParamCount(48, n, 3, 2).toLocaleString('en-US');
    await expect
      .poll(() => page.getByTestId('wiz-summary').textContent())
      .toContain(`parameters: ${count(6)} `);
    await page.getByTestId('wiz-field-qubits').fill('7');
    await expect
      .poll(() => page.getByTestId('wiz-summary').textContent())
      .toContain(`parameters: ${count(7)} `);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'wizard-student.png'), fullPage: true });
    await page.getByTestId('wiz-field-qubits').fill('6');

    await page.getByTestId('wizard-next').click();
    await page.getByTestId('wiz-field-alpha').fill('2');
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('wiz-name').fill('e2e wizard');
    expect(JSON.parse(await page.getByTestId('wiz-json').inputValue())).toMatchObject({
      alpha: 2,
      qubits: 6,
    });
    await page.getByTestId('wizard-start').click();

    // The server refuses α = 2: the wizard goes back to Distillation with the message by the field.
    await expect.poll(() => wizard.getAttribute('data-step')).toBe('distill');
    await expect
      .poll(() => page.getByTestId('wiz-error-alpha').textContent())
      .toMatch(/^config\.alpha: .*\[0, 1\]/);
    expect(await page.getByTestId('run-page').count()).toBe(0);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'wizard-refused.png'), fullPage: true });

    await page.getByTestId('wiz-field-alpha').fill('0.9');
    expect(await page.getByTestId('wiz-error-alpha').count()).toBe(0);
    await page.getByTestId('wizard-step-review').click();
    await page.getByTestId('wizard-start').click();
    const runPage = page.getByTestId('run-page');
    await runPage.waitFor({ timeout: 15_000 });
    expect(await runPage.getAttribute('data-run-id')).toBeTruthy();

    // No need to wait for the teacher: cancel the run from its page.
    await page.getByTestId('cancel-run').click();
    await expect
      .poll(() => runPage.getByTestId('status').first().getAttribute('data-status'), { timeout: 15_000 })
      .toBe('cancelled');

    const expected = [/^HTTP 400 for .*\/api\/createRun$/, /^console: .*status of 400/];
    expect(pageErrors.filter((e) => !expected.some((re) => re.test(e)))).toEqual([]);
    expect(pageErrors.filter((e) => expected[0].test(e))).toHaveLength(1);
    await page.close();
  });
});
