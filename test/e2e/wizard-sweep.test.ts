// A sweep from the wizard, end to end in headless Chromium against the real `qlab serve`: vqc-fit's review
// step offers its sweepable fields and the seed; an out-of-range value is shown beside its axis as it is
// typed, Start stays disabled and nothing is written; a 2 × 2 grid (layers × seed) shows "4 runs" and the
// equivalent `qlab sweep` line, starts through createSweep, every point succeeds; the parent's page saves the
// sweep file and "Clone and edit" opens the wizard with the axes filled; the runs page grouped by sweep shows
// it. Screenshots go to $QLAB_E2E_SHOTS, else test-results/e2e-shots.
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage, useLabInBrowser } from '../helpers/browser';
import { callLabApi, LabServer } from '../helpers/lab-server';

const ROOT = resolve(import.meta.dirname, '../..');
const SHOTS = process.env.QLAB_E2E_SHOTS ?? join(ROOT, 'test-results/e2e-shots');
const server = new LabServer('qlab-e2e-wizard-sweep-');
const lab = useLabInBrowser(server);

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `wizard-sweep-${name}.png`), fullPage: true });
}

async function api<T>(method: string, body: unknown): Promise<T> {
  return (await callLabApi(server.origin, server.token, method, body)) as T;
}

describe('a sweep from the wizard', () => {
  it('vqc-fit: a bad axis value is refused beside its field; a 2 × 2 sweep starts and every point succeeds', async () => {
    const { page, errors } = await openPage(lab.browser, { httpErrors: true });
    await page.goto(`${lab.baseUrl}#/new?kind=vqc-fit`);
    const wizard = page.locator('[data-testid="wizard"][data-kind="vqc-fit"]');
    await wizard.waitFor({ timeout: 10_000 });
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('wizard-next').click();
    // a short training so four points finish quickly on a loaded machine
    await page.getByTestId('wiz-field-epochs').fill('3');
    await page.getByTestId('wizard-next').click();
    expect(await wizard.getAttribute('data-step')).toBe('review');
    const plan = page.getByTestId('wiz-plan');
    expect(await plan.getAttribute('data-runs')).toBe('1');
    expect(await page.getByTestId('wizard-start').textContent()).toBe('Start run');

    // out of range: the message beside the axis as it is typed, Start disabled, nothing written
    await page.getByTestId('wiz-sweep-qubits').fill('2, 40');
    await expect
      .poll(() => page.getByTestId('wiz-sweep-error-qubits').textContent())
      .toMatch(/^qubits=40: config\.qubits: .*16/);
    expect(await page.getByTestId('wizard-start').isDisabled()).toBe(true);
    expect(await page.getByTestId('wiz-sweep-blocked').count()).toBe(1);
    await shot(page, 'invalid-axis');
    await page.getByTestId('wizard-start').click({ force: true });
    expect((await api<unknown[]>('listRuns', {})).length).toBe(0);

    // the 2 × 2 grid: layers × seed
    await page.getByTestId('wiz-sweep-qubits').fill('');
    // the check runs once the typing pauses (SWEEP_CHECK_MS): the message goes then
    await expect.poll(() => page.getByTestId('wiz-sweep-error-qubits').count()).toBe(0);
    await page.getByTestId('wiz-sweep-layers').fill('1, 2');
    await page.getByTestId('wiz-sweep-seed').fill('1..2');
    await page.getByTestId('wiz-name').fill('e2e sweep');
    await expect.poll(() => plan.getAttribute('data-runs')).toBe('4');
    expect(await plan.textContent()).toMatch(
      /This sweep creates 4 runs \(2 × 2\), grouped under one sweep\./,
    );
    expect(await page.getByTestId('wiz-sweep-command').textContent()).toBe(
      'qlab sweep e2e-sweep.json --vary layers=1,2 --vary seed=1,2',
    );
    expect(await page.getByTestId('wiz-sweep-file-command').textContent()).toBe(
      'qlab sweep e2e-sweep.sweep.json',
    );
    // the sweep file downloads with its axes
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('wiz-save-sweep').click(),
    ]);
    expect(download.suggestedFilename()).toBe('e2e-sweep.sweep.json');
    const saved = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { axes: unknown };
    expect(saved.axes).toEqual([
      { field: 'layers', values: [1, 2] },
      { field: 'seed', values: [1, 2] },
    ]);
    expect(await page.getByTestId('wizard-start').textContent()).toBe('Start sweep (4 runs)');
    await shot(page, 'grid');
    await page.getByTestId('wizard-start').click();

    const runPage = page.getByTestId('run-page');
    await runPage.waitFor({ timeout: 15_000 });
    const parentId = (await runPage.getAttribute('data-run-id'))!;
    await expect
      .poll(() => runPage.getByTestId('status').first().getAttribute('data-status'), { timeout: 240_000 })
      .toBe('succeeded');
    const children = await api<{ config: { layers: number }; seed: number; status: string }[]>('listRuns', {
      parentId,
    });
    expect(children.map((c) => [c.status]).length, 'the parent has the four points as its children').toBe(4);
    expect(children.every((c) => c.status === 'succeeded')).toBe(true);
    const detail = await api<{ children: { name: string }[] }>('getRun', { id: parentId });
    expect(detail.children.map((c) => c.name.replace(/^e2e sweep /, '')).sort()).toEqual([
      'layers=1 seed=1',
      'layers=1 seed=2',
      'layers=2 seed=1',
      'layers=2 seed=2',
    ]);
    await shot(page, 'parent');

    // the parent's page saves the sweep (base config and axes), not only its base config
    expect(await page.getByTestId('save-config').textContent()).toBe('Save sweep');
    const [sweepDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('save-config').click(),
    ]);
    expect(sweepDownload.suggestedFilename()).toBe('e2e-sweep.sweep.json');
    const parentFile = JSON.parse(readFileSync((await sweepDownload.path())!, 'utf8')) as {
      kind: string;
      config: { epochs: number };
      axes: unknown;
    };
    expect(parentFile.kind).toBe('vqc-fit');
    expect(parentFile.config.epochs).toBe(3);
    expect(parentFile.axes).toEqual(saved.axes);

    // clone and edit: the wizard opens on the base config with the sweep's axes in its Sweep section
    await page.getByTestId('clone-run').click();
    await wizard.waitFor({ timeout: 10_000 });
    await expect.poll(() => page.getByTestId('cloned-sweep').textContent()).toMatch(/layers × seed/);
    while ((await wizard.getAttribute('data-step')) !== 'review')
      await page.getByTestId('wizard-next').click();
    expect(await page.getByTestId('wiz-sweep-layers').inputValue()).toBe('1, 2');
    expect(await page.getByTestId('wiz-sweep-seed').inputValue()).toBe('1, 2');
    expect(await page.getByTestId('wiz-name').inputValue()).toBe('e2e sweep (copy)');
    await expect.poll(() => plan.getAttribute('data-runs')).toBe('4');
    expect(await page.getByTestId('wizard-start').textContent()).toBe('Start sweep (4 runs)');
    expect(await page.getByTestId('wizard-start').isDisabled()).toBe(false);
    await shot(page, 'cloned-sweep');

    // the runs page grouped by sweep shows it with its four points
    await page.goto(`${lab.baseUrl}#/`);
    await page.getByTestId('group-by').selectOption('sweep');
    const group = page.locator(`[data-testid="group-row"][data-group="${parentId}"]`);
    await group.waitFor({ timeout: 10_000 });
    expect(await group.getByTestId('group-count').textContent()).toBe('(4)');
    await shot(page, 'runs-grouped');
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
