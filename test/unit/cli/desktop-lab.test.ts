// The desktop app's PDF printer (Electron's printToPDF in a hidden window) and folder picker, with Electron
// replaced by fakes: the same page setup as the headless-Chromium printer, the window always destroyed.
import { describe, expect, it } from 'vitest';
import { FIT_TABLES_SCRIPT, PAGE_WIDTH_PX } from '../../../core/lab/export-pdf';
import { electronPdfPrinter, folderPicker, type PdfWindowLike } from '../../../electron/main/desktop-lab';

function fakeWindow(fail?: 'load' | 'print') {
  const log: unknown[][] = [];
  let destroyed = 0;
  const make = (width: number): PdfWindowLike => {
    log.push(['make', width]);
    return {
      async loadURL(url) {
        log.push(['load', url]);
        if (fail === 'load') throw new Error('ERR_BLOCKED');
      },
      destroy() {
        destroyed++;
      },
      webContents: {
        async executeJavaScript(code) {
          log.push(['js', code]);
        },
        async printToPDF(options) {
          log.push(['print', options]);
          if (fail === 'print') throw new Error('print failed');
          return new Uint8Array([37, 80, 68, 70]);
        },
      },
    };
  };
  return { make, log, destroyed: () => destroyed };
}

describe('electronPdfPrinter', () => {
  it('loads the HTML as a data URL, fits the tables, prints A4 landscape with the header on every page', async () => {
    const w = fakeWindow();
    const html = '<!doctype html><p>é ünïcode <b>report</b></p>';
    const pdf = await electronPdfPrinter(w.make).print(html, 'qlab · run <abc> · code v1');
    expect([...pdf]).toEqual([37, 80, 68, 70]);
    expect(w.log[0]).toEqual(['make', PAGE_WIDTH_PX]);
    const url = w.log[1][1] as string;
    expect(url.startsWith('data:text/html;charset=utf-8;base64,')).toBe(true);
    expect(Buffer.from(url.split(',')[1], 'base64').toString('utf8')).toBe(html);
    expect(w.log[2]).toEqual(['js', FIT_TABLES_SCRIPT]);
    const opts = w.log[3][1] as Record<string, unknown>;
    expect(opts).toMatchObject({
      landscape: true,
      pageSize: 'A4',
      printBackground: true,
      displayHeaderFooter: true,
    });
    // 14 mm top margin in inches, the header escaped
    expect((opts.margins as { top: number }).top).toBeCloseTo(14 / 25.4, 12);
    expect(opts.headerTemplate).toContain('qlab · run &#60;abc&#62; · code v1');
    expect(opts.footerTemplate).toContain('class="pageNumber"');
    expect(w.destroyed()).toBe(1);
  });

  it('destroys the window when loading or printing fails', async () => {
    for (const fail of ['load', 'print'] as const) {
      const w = fakeWindow(fail);
      await expect(electronPdfPrinter(w.make).print('<p>x</p>', 'h')).rejects.toThrow();
      expect(w.destroyed()).toBe(1);
    }
  });
});

describe('folderPicker', () => {
  it('gives the chosen folder, or null when the dialog is dismissed', async () => {
    expect(await folderPicker(async () => ({ canceled: false, filePaths: ['/data/sets'] }))()).toBe(
      '/data/sets',
    );
    expect(await folderPicker(async () => ({ canceled: true, filePaths: [] }))()).toBeNull();
    expect(await folderPicker(async () => ({ canceled: false, filePaths: [] }))()).toBeNull();
  });
});
