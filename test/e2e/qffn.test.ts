// The QFFN wizard end to end in headless Chromium against the real `qlab serve`: it opens on the small preset
// with the three models' parameter counts, a drawing of one quantum FFN and one quantum head and a run-time
// estimate; the counts follow the width as it is typed; a tiny run (sizes typed into the form) is launched from
// the review and succeeds with its report.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configShape, modelCounts, total } from '../../core/methods/qffn/counts';
import { QffnConfigSchema } from '../../core/methods/qffn/schema';
import { openPage, useLabInBrowser } from '../helpers/browser';
import { LabServer } from '../helpers/lab-server';

const server = new LabServer('qlab-e2e-qffn-');
const lab = useLabInBrowser(server);
/** Set QLAB_E2E_SHOTS=<dir> to keep a screenshot of the preview for a look by eye. */
const SHOTS = process.env.QLAB_E2E_SHOTS;

const count = (patch: Record<string, unknown>) => {
  const c = QffnConfigSchema.parse(patch);
  return total(modelCounts(c, configShape(c)!).qffn);
};

describe('the QFFN wizard in the browser', () => {
  it('previews counts, circuit drawings and a run-time estimate, and launches a small run that succeeds', async () => {
    const { page, errors } = await openPage(lab.browser);
    await page.goto(`${lab.baseUrl}#/new?kind=qffn`);
    const wizard = page.locator('[data-testid="wizard"][data-kind="qffn"]');
    await wizard.waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('preset-small').getAttribute('class')).toContain('on');
    const small = {
      base: { hiddenSize: 64, layers: 2, heads: 4, vocabSize: 512, intermediateSize: 172 },
      headQubits: 4,
    };
    await expect
      .poll(() => page.getByTestId('wiz-params-qffn').getAttribute('data-params'))
      .toBe(String(count(small)));
    expect(await page.getByTestId('wiz-drawing').count()).toBe(2);
    expect(await page.getByTestId('wiz-drawing').locator('img').first().getAttribute('src')).toMatch(
      /^data:image\/svg\+xml/,
    );
    // a fresh lab is not calibrated: no figure is guessed
    expect(await page.getByTestId('wiz-estimate').textContent()).toMatch(/calibrate for an estimate/);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'qffn-wizard-preview.png'), fullPage: true });

    // a tiny run: sizes typed into the form, step by step
    const fill = async (id: string, v: string) => page.getByTestId(`wiz-field-${id}`).fill(v);
    const tiny = {
      'base.corpusChars': '60000',
      'base.vocabSize': '300',
      'base.hiddenSize': '16',
      'base.layers': '2',
      'base.heads': '2',
      'base.intermediateSize': '40',
      'base.pretrainSteps': '10',
    };
    for (const [id, v] of Object.entries(tiny)) await fill(id, v);
    const tinyShape = {
      base: { hiddenSize: 16, layers: 2, heads: 2, vocabSize: 300, intermediateSize: 40 },
      headQubits: 4,
    };
    await expect
      .poll(() => page.getByTestId('wiz-params-qffn').getAttribute('data-params'))
      .toBe(String(count(tinyShape)));
    await page.getByTestId('wizard-next').click();
    expect(await wizard.getAttribute('data-step')).toBe('quantum');
    await page.getByTestId('wizard-next').click();
    for (const [id, v] of Object.entries({
      layerwiseSteps: '5',
      steps: '6',
      batchSize: '4',
      seqLen: '8',
      warmupSteps: '1',
      evalEvery: '3',
      evalTokens: '128',
      testTokens: '128',
      seeds: '1',
    }))
      await fill(id, v);
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('wiz-field-gpuSpeed').uncheck();
    await fill('generateTokens', '3');
    await fill('sweep.fractions', '');
    await fill('sweep.depths', '');
    await page.getByTestId('wizard-next').click();
    expect(JSON.parse(await page.getByTestId('wiz-json').inputValue())).toMatchObject({
      steps: 6,
      seeds: 1,
      gpuSpeed: false,
    });
    await page.getByTestId('wiz-name').fill('e2e qffn wizard');
    await page.getByTestId('wizard-start').click();
    const runPage = page.getByTestId('run-page');
    await runPage.waitFor({ timeout: 15_000 });
    await expect
      .poll(() => runPage.getByTestId('status').first().getAttribute('data-status'), {
        timeout: 100_000,
        interval: 1000,
      })
      .toBe('succeeded');
    await expect.poll(() => page.locator('text=Table 1').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await page.close();
  });
});
