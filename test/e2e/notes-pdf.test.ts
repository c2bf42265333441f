// Issue 15's run-page leftovers in headless Chromium against `qlab serve`: a note edited (line breaks kept,
// Markdown rendered, its markup escaped) and deleted, surviving a reload as the lab stored it; a refused tag
// shown beside the tag editor; the PDF downloaded from the export menu (a real PDF whose text carries the run id
// and its results); a bundle downloaded and uploaded again on the Lab page, a damaged one refused by name; the
// file roots listed read-only with the CLI named.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { Store } from '../../core/lab/store';
import { launchChromium, watchPage } from '../helpers/browser';
import { checkBrowserPrerequisites, LabServer } from '../helpers/lab-server';

const server = new LabServer('qlab-e2e-notes-');
const runId = randomUUID();
const work = mkdtempSync(join(tmpdir(), 'qlab-e2e-notes-files-'));
let browser: Browser | null = null;
let baseUrl = '';
const pageErrors: string[] = [];

function poll<T>(fn: () => T | Promise<T>) {
  return expect.poll(fn, { timeout: 15_000 });
}

function fillStore(labDir: string): void {
  const store = Store.open(join(labDir, 'lab.sqlite'));
  store.insertRun({
    id: runId,
    kind: 'vqc-fit',
    name: 'noted run',
    config: { qubits: 3 },
    seed: 7,
    createdAt: '2026-11-01T00:00:00.000Z',
    codeVersion: 'e2e-version',
    tags: ['first'],
  });
  store.claimRun(runId, '2026-11-01T00:00:01.000Z', {});
  store.addMetrics(runId, [
    { key: 'loss', step: 0, value: 1, wallTime: 1 },
    { key: 'loss', step: 1, value: 0.5, wallTime: 2 },
  ]);
  store.addNote(runId, 'first note', '2026-11-01T00:00:02.000Z');
  store.finishRun(runId, 'succeeded', '2026-11-01T00:00:03.000Z', null);
  store.db
    .prepare('UPDATE runs SET summary = ? WHERE id = ?')
    .run(JSON.stringify({ final_loss_marker: 0.5 }), runId);
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
  rmSync(work, { recursive: true, force: true });
});

async function open(route: string): Promise<Page> {
  const page = await browser!.newPage({ acceptDownloads: true });
  watchPage(page, pageErrors, { httpErrors: true });
  const u = new URL(baseUrl);
  u.hash = route;
  await page.goto(u.toString());
  return page;
}

describe('run page notes, tags and exports', () => {
  it('edits a note (line breaks kept, markup escaped), deletes it, and the lab agrees after a reload', async () => {
    const page = await open(`#/run/${runId}`);
    const notes = page.getByTestId('note');
    await poll(() => notes.count()).toBe(1);
    await expect(page.getByTestId('note-body').innerText()).resolves.toBe('first note');

    await page.getByTestId('note-edit').click();
    const text = 'line one\nline **two**\n\n<script>window.pwned = 1</script>';
    await page.getByTestId('note-edit-input').fill(text);
    await page.getByTestId('note-save').click();
    const body = page.getByTestId('note-body');
    await poll(() => body.locator('strong').count()).toBe(1);
    const html = await body.innerHTML();
    expect(html).toContain('line one<br>');
    expect(html).toContain('&lt;script&gt;');
    expect(await page.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();

    await page.reload();
    await poll(() => page.getByTestId('note-body').innerHTML()).toContain('line one<br>');
    const r = await fetch(`${server.origin}api/getRun`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}` },
      body: JSON.stringify({ id: runId }),
    });
    const stored = ((await r.json()) as { value: { notes: { text: string }[] } }).value.notes;
    expect(stored.map((n) => n.text)).toEqual([text]);

    await page.getByTestId('note-delete').click();
    await page.getByTestId('note-delete-keep').click();
    await expect(page.getByTestId('note').count()).resolves.toBe(1);
    await page.getByTestId('note-delete').click();
    await page.getByTestId('note-delete-confirm').click();
    await poll(() => page.getByTestId('note').count()).toBe(0);
    await page.reload();
    await poll(() => page.getByTestId('run-id').count()).toBe(1);
    expect(await page.getByTestId('note').count()).toBe(0);
    await page.close();
  });

  it('shows a refused tag beside the tag editor and keeps the editor open', async () => {
    const page = await open(`#/run/${runId}`);
    await page.getByTestId('tags-edit').click();
    await page.getByTestId('tags-input').fill('ok bad\u0007tag');
    await page.getByTestId('tags-save').click();
    const err = page.getByTestId('tags-error');
    await poll(() => err.count()).toBe(1);
    expect(await err.innerText()).toMatch(/^tags\[1\]: contains a control character$/);
    expect(await page.getByTestId('run-error-banner').count()).toBe(0);
    await page.getByTestId('tags-input').fill('ok fine');
    await page.getByTestId('tags-save').click();
    // the lab keeps tags sorted
    await poll(() => page.getByTestId('tags').innerText()).toBe('fine, ok');
    await page.close();
  });

  it('downloads the PDF from the export menu: a real PDF with the run id, code version and results', async () => {
    const page = await open(`#/run/${runId}`);
    await poll(() => page.getByTestId('export-pdf').isEnabled()).toBe(true);
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 90_000 }),
      page.getByTestId('export-pdf').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.pdf$/);
    const file = join(work, 'run.pdf');
    await download.saveAs(file);
    const bytes = readFileSync(file);
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    expect(text).toContain(runId);
    expect(text).toContain('e2e-version');
    expect(text).toContain('final_loss_marker');
    expect(await page.getByTestId('export-error').count()).toBe(0);
    await page.close();
  });

  it('round-trips a bundle through the Lab page and refuses a damaged one by name', async () => {
    const page = await open(`#/run/${runId}`);
    await poll(() => page.getByTestId('export-bundle').isEnabled()).toBe(true);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('export-bundle').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.qlab$/);
    const file = join(work, 'run.qlab');
    await download.saveAs(file);
    const bytes = readFileSync(file);
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('QLABBNDL');

    await page.getByTestId('nav-lab').click();
    // browser mode: the roots are listed, and edited only from the CLI or settings.json
    await poll(() => page.getByTestId('file-root').count()).toBe(1);
    expect(await page.getByTestId('file-roots-readonly').innerText()).toContain('qlab roots add FOLDER');
    expect(await page.getByTestId('file-root-add').count()).toBe(0);

    // the same lab already has the run: nothing changes, and the page says so
    await page.getByTestId('bundle-file').setInputFiles(file);
    await poll(() => page.getByTestId('bundle-result').count()).toBe(1);
    expect(await page.getByTestId('bundle-result').innerText()).toBe(
      'run.qlab: imported 0 run(s) and 0 artifact file(s); 1 already in this lab, left as they were.',
    );

    const cut = join(work, 'cut.qlab');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
    await page.getByTestId('bundle-file').setInputFiles(cut);
    await poll(() => page.getByTestId('bundle-error').count()).toBe(1);
    expect(await page.getByTestId('bundle-error').innerText()).toMatch(/^cut\.qlab is truncated/);
    await page.close();
    // the refused tag and the damaged bundle are the requests allowed to fail (the browser logs each too)
    const expected = [/^HTTP 400 for .*\/api\/(setTags|importBundle)$/, /^console: .*status of 400/];
    const unexpected = pageErrors.filter((e) => !expected.some((re) => re.test(e)));
    expect(unexpected, 'errors in the pages (CSP violations, exceptions, failed requests)').toEqual([]);
    expect(pageErrors.filter((e) => expected[0].test(e))).toEqual([
      expect.stringMatching(/setTags$/),
      expect.stringMatching(/importBundle$/),
    ]);
  });
});
