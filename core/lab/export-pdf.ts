// PDF export: the self-contained HTML report printed by a headless Chromium (the CLI and the browser-mode
// server; the desktop app prints the same HTML with Electron's printToPDF behind its shell interface). Charts
// stay vector (inline SVG); tables wider than the page are scaled to its width; every page carries the run
// ids and the code version in its header and the page number in its footer.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunDetail } from '../api/lab-api';
import { escapeHtml } from './report';

/** Prints an HTML document to PDF bytes; the header line goes on every page. */
export interface PdfPrinter {
  print(html: string, header: string): Promise<Uint8Array>;
}

/** The header line: every run id (short ids past two runs, at most 24 listed) and the code version(s). */
export function pdfHeader(runs: Pick<RunDetail, 'id' | 'codeVersion'>[]): string {
  const ids = runs.map((r) => (runs.length > 2 ? r.id.slice(0, 8) : r.id));
  const shown = ids.length > 24 ? [...ids.slice(0, 24), `+${ids.length - 24} more`] : ids;
  const versions = [...new Set(runs.map((r) => r.codeVersion))];
  return `qlab · run${runs.length === 1 ? '' : 's'} ${shown.join(', ')} · code ${versions.join(', ')}`;
}

/** A4 landscape: 297 mm less 2 × 10 mm margins, at 96 px per inch. */
export const PAGE_WIDTH_PX = Math.floor(((297 - 20) / 25.4) * 96);

/** Page margins in millimetres (the header and footer sit inside the top and bottom ones). */
export const PDF_MARGINS_MM = { top: 14, bottom: 12, left: 10, right: 10 } as const;

/** The running header (run ids, code version) and footer (page n of m), as Chromium's print templates. */
export function pdfTemplates(header: string): { headerTemplate: string; footerTemplate: string } {
  return {
    headerTemplate: `<div style="font-size:7pt;width:100%;padding:0 10mm;color:#555;font-family:sans-serif;overflow-wrap:anywhere">${escapeHtml(header)}</div>`,
    footerTemplate:
      '<div style="font-size:7pt;width:100%;padding:0 10mm;color:#555;font-family:sans-serif;text-align:right">page <span class="pageNumber"></span> of <span class="totalPages"></span></div>',
  };
}

/**
 * Run in the page before printing: tables wider than the page (a results table with 25 columns) are zoomed to
 * its width, after the print style has let their cells wrap. A string, so both printers can evaluate it.
 */
export const FIT_TABLES_SCRIPT = `(() => {
  const width = document.body.clientWidth;
  for (const t of Array.from(document.querySelectorAll('table'))) {
    const w = t.scrollWidth;
    if (w > width) t.style.zoom = String(width / w);
  }
})()`;

export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = [
    env.QLAB_CHROMIUM,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
  ];
  return candidates.find((p): p is string => !!p && existsSync(p)) ?? null;
}

/**
 * Headless Chromium through playwright-core, with the network cut off (the report needs none); each request the
 * page still tries is refused and reported to `onBlockedRequest` (the tests expect none).
 */
export function chromiumPrinter(
  executablePath: string | null = findChromium(),
  onBlockedRequest: (url: string) => void = () => {},
): PdfPrinter {
  return {
    async print(html, header) {
      if (executablePath === null)
        throw new Error('the PDF export needs Chromium: install it (Debian: chromium) or set QLAB_CHROMIUM');
      let pw: typeof import('playwright-core');
      try {
        pw = await import('playwright-core');
      } catch {
        throw new Error('the PDF export needs the playwright-core package (npm install playwright-core)');
      }
      const profile = mkdtempSync(join(tmpdir(), 'qlab-pdf-'));
      const ctx = await pw.chromium.launchPersistentContext(profile, {
        executablePath,
        headless: true,
        offline: true,
        viewport: { width: PAGE_WIDTH_PX, height: 800 },
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
      try {
        const page = await ctx.newPage();
        await page.route('**/*', (route) => {
          onBlockedRequest(route.request().url());
          return route.abort();
        });
        await page.emulateMedia({ media: 'print' });
        await page.setContent(html, { waitUntil: 'load' });
        await page.evaluate(FIT_TABLES_SCRIPT);
        const pdf = await page.pdf({
          format: 'A4',
          landscape: true,
          printBackground: true,
          margin: {
            top: `${PDF_MARGINS_MM.top}mm`,
            bottom: `${PDF_MARGINS_MM.bottom}mm`,
            left: `${PDF_MARGINS_MM.left}mm`,
            right: `${PDF_MARGINS_MM.right}mm`,
          },
          displayHeaderFooter: true,
          ...pdfTemplates(header),
        });
        return new Uint8Array(pdf);
      } finally {
        await ctx.close();
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}
