// Headless Chromium for the end-to-end tests: one launch with the flags every test wants (no sandbox as root,
// no GPU, no background network), and a page that records what went wrong in it — uncaught errors, console
// errors and (unless the test expects refusals) HTTP responses ≥ 400 — so a test can assert the list is empty.
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { checkBrowserPrerequisites, CHROMIUM, type LabServer } from './lab-server';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface WatchedPage {
  page: Page;
  /** Page errors, console errors and (with httpErrors) failed responses, in order. */
  errors: string[];
}

/** Records a page's errors into `errors` (a list the caller may share between pages). */
export function watchPage(page: Page, errors: string[], opts: { httpErrors?: boolean } = {}): void {
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  if (opts.httpErrors)
    page.on('response', (r) => {
      if (r.status() >= 400) errors.push(`HTTP ${r.status()} for ${r.url()}`);
    });
}

/** A new page in its own context (1300 × 1000 unless the options say otherwise), watched for errors. */
export async function openPage(
  browser: Browser,
  opts: BrowserContextOptions & { httpErrors?: boolean } = {},
): Promise<WatchedPage> {
  const { httpErrors, ...context } = opts;
  const ctx = await browser.newContext({ viewport: { width: 1300, height: 1000 }, ...context });
  const page = await ctx.newPage();
  const errors: string[] = [];
  watchPage(page, errors, { httpErrors });
  return { page, errors };
}

/**
 * One `qlab serve` and one headless Chromium for a test file: registers the hooks that start both before its tests
 * (refusing with the missing prerequisite named) and stop both after them, even when a test failed.
 */
export function useLabInBrowser(server: LabServer): { readonly baseUrl: string; readonly browser: Browser } {
  let baseUrl = '';
  let browser: Browser | null = null;
  beforeAll(async () => {
    checkBrowserPrerequisites();
    baseUrl = await server.start();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close().catch(() => {});
    await server.stop();
  });
  return {
    get baseUrl() {
      return baseUrl;
    },
    get browser() {
      if (!browser) throw new Error('the browser is not started yet (used outside a test?)');
      return browser;
    },
  };
}
