// The theme's palette (renderer/src/global.css, each colour once as light-dark()) in Chromium: for a light and a
// dark system scheme and each choice of the header's switch (system, light, dark) the page gets the expected
// colours, and themeColor() — what the charts draw with — resolves a variable to the rgb() in force, where the
// raw custom property reads back as unresolved light-dark() text a canvas cannot use.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser';
import { checkBrowserPrerequisites, ROOT } from '../helpers/lab-server';

const css = readFileSync(join(ROOT, 'renderer/src/global.css'), 'utf8');
const themeColorJs = transformSync(readFileSync(join(ROOT, 'renderer/src/lib/theme-color.ts'), 'utf8'), {
  loader: 'ts',
  format: 'iife',
  globalName: 'qlabTheme',
}).code;
const LIGHT = { fg: 'rgb(34, 34, 34)', bg: 'rgb(246, 247, 249)' };
const DARK = { fg: 'rgb(227, 230, 234)', bg: 'rgb(21, 24, 29)' };

let browser: Browser | null = null;
beforeAll(async () => {
  checkBrowserPrerequisites();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close().catch(() => {});
});

describe('theme palette', () => {
  for (const scheme of ['light', 'dark'] as const) {
    it(`follows a ${scheme} system scheme unless the switch forces one, and themeColor resolves it`, async () => {
      const ctx = await browser!.newContext({ colorScheme: scheme });
      const page = await ctx.newPage();
      await page.setContent(`<html><head><style>${css}</style></head><body></body></html>`);
      await page.addScriptTag({ content: themeColorJs });
      for (const choice of ['system', 'light', 'dark'] as const) {
        const got = await page.evaluate((choice) => {
          const root = document.documentElement;
          if (choice === 'system') delete root.dataset.theme;
          else root.dataset.theme = choice;
          const t = (window as unknown as { qlabTheme: { themeColor(n: string, f: string): string } })
            .qlabTheme;
          return {
            fg: t.themeColor('--fg', 'red'),
            bg: getComputedStyle(root).backgroundColor,
            raw: getComputedStyle(root).getPropertyValue('--fg').trim(),
            missing: t.themeColor('--no-such-colour', 'rgb(1, 2, 3)'),
          };
        }, choice);
        const want = (choice === 'system' ? scheme : choice) === 'dark' ? DARK : LIGHT;
        expect({ choice, fg: got.fg, bg: got.bg }).toEqual({ choice, ...want });
        expect(got.raw).toMatch(/^light-dark\(/);
        expect(got.missing).toBe('rgb(1, 2, 3)');
      }
      await ctx.close();
    });
  }
});
