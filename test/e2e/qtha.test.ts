// The QTHA wizard end to end in headless Chromium against the real `qlab serve`: generated from the kind's
// metadata (its steps), the small preset opens selected, the live counts of the adapter and of each LoRA follow
// r with QTHA's reduction in the LoRA rows, the VQC is summarised, an MPO width that cannot be factorised is shown
// by its field, and a tiny QTHA run launched from the wizard succeeds.
import { describe, expect, it } from 'vitest';
import { QthaConfigSchema } from '../../core/methods/qtha/schema';
import { qthaMeta } from '../../core/methods/qtha/meta';
import { openPage, useLabInBrowser } from '../helpers/browser';
import { LabServer } from '../helpers/lab-server';

const server = new LabServer('qlab-e2e-qtha-');
const lab = useLabInBrowser(server);

describe('the QTHA wizard in the browser', () => {
  it('live counts and reduction, the VQC, a refused MPO width, and a tiny run that succeeds', async () => {
    const { page, errors } = await openPage(lab.browser);
    await page.goto(`${lab.baseUrl}#/new?kind=qtha`);
    const wizard = page.locator('[data-testid="wizard"][data-kind="qtha"]');
    await wizard.waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('preset-small').getAttribute('class')).toContain('on');
    expect(await page.getByTestId('wizard-progress').locator('button').allTextContents()).toEqual([
      '1. Base model',
      '2. Task & data',
      '3. Adapter',
      '4. Baselines',
      '5. Recipe',
      '6. Sweep',
      '7. Review',
    ]);
    const fill = async (key: string, value: string) => page.getByTestId(`wiz-field-${key}`).fill(value);

    // Base model: a tiny LM
    for (const [k, v] of [
      ['base.corpusChars', '20000'],
      ['base.vocabSize', '300'],
      ['base.hiddenSize', '16'],
      ['base.layers', '1'],
      ['base.heads', '2'],
      ['base.intermediateSize', '32'],
      ['base.pretrainSteps', '4'],
      ['base.pretrainSeqLen', '16'],
    ])
      await fill(k, v);
    await page.getByTestId('wizard-next').click();
    for (const [k, v] of [
      ['targetChars', '6000'],
      ['evalChars', '600'],
      ['seqLen', '16'],
    ])
      await fill(k, v);
    await page.getByTestId('wizard-next').click();

    // Adapter: live counts against the kind's own function, LoRA rows carry QTHA's reduction
    await fill('mpoWidth', '16');
    await fill('mpoBond', '2');
    await fill('rank', '2');
    const config = () => page.getByTestId('wiz-json').inputValue();
    const qtha = page.getByTestId('wiz-params-qtha');
    const expected = (rank: number) => {
      const c = QthaConfigSchema.parse({
        ...qthaMeta.presets[0].config,
        base: {
          corpusChars: 20000,
          vocabSize: 300,
          hiddenSize: 16,
          layers: 1,
          heads: 2,
          intermediateSize: 32,
        },
        mpoWidth: 16,
        mpoBond: 2,
        rank,
      });
      return qthaMeta.parameterCounts(c).map((m) => String(m.params));
    };
    await expect.poll(() => qtha.getAttribute('data-params')).toBe(expected(2)[0]);
    expect(await page.getByTestId('wiz-params-lora-r').getAttribute('data-params')).toBe(expected(2)[1]);
    expect(await page.getByTestId('wiz-params-lora-2r').getAttribute('data-params')).toBe(expected(2)[2]);
    expect(await page.getByTestId('wiz-params-lora-2r').textContent()).toMatch(/QTHA: −?\d+\.\d % fewer/);
    await fill('rank', '3');
    await expect.poll(() => qtha.getAttribute('data-params')).toBe(expected(3)[0]);
    expect(await page.getByTestId('wiz-circuit').first().textContent()).toMatch(
      /VQC \(3 qubits × 3 layers\)/,
    );
    await fill('mpoWidth', '30');
    await expect
      .poll(() => page.getByTestId('wiz-error-mpoWidth').textContent())
      .toMatch(/^config\.mpoWidth: .*factorised/);
    await fill('mpoWidth', '16');
    await fill('rank', '2');
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('wizard-next').click();

    // Recipe: a few steps, one seed
    for (const [k, v] of [
      ['steps', '6'],
      ['batchSize', '4'],
      ['warmupSteps', '2'],
      ['evalEvery', '3'],
      ['seeds', '1'],
    ])
      await fill(k, v);
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('wizard-next').click();
    expect(JSON.parse(await config())).toMatchObject({
      rank: 2,
      steps: 6,
      mpoWidth: 16,
      base: { hiddenSize: 16 },
    });
    await page.getByTestId('wiz-name').fill('e2e qtha wizard');
    await page.getByTestId('wizard-start').click();
    const runPage = page.getByTestId('run-page');
    await runPage.waitFor({ timeout: 15_000 });
    await expect
      .poll(() => runPage.getByTestId('status').first().getAttribute('data-status'), { timeout: 120_000 })
      .toBe('succeeded');
    // one chart per metric, a band per model (beside the learning-rate candidates' chart, four segments): no
    // seed-mean copy drawn as a second train_loss/val_ppl chart
    for (const metric of ['train_loss', 'val_ppl']) {
      const charts = runPage.locator(`[data-testid^="chart-"][data-testid$="/${metric}"]`);
      await expect.poll(() => charts.count(), { timeout: 15_000 }).toBeGreaterThan(0);
      const ids = await charts.evaluateAll((els) => els.map((e) => e.getAttribute('data-testid') ?? ''));
      expect(ids.filter((id) => id.split('/').length < 4)).toEqual([`chart-*/seed0/${metric}`]);
    }
    expect(errors).toEqual([]);
    await page.close();
  });
});
