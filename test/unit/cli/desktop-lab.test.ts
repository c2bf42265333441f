// The desktop app's PDF printer (Electron's printToPDF in a hidden window) and folder picker, with Electron
// replaced by fakes: the same page setup as the headless-Chromium printer, the window always destroyed.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FIT_TABLES_SCRIPT, PAGE_WIDTH_PX } from '../../../core/lab/export-pdf';
import {
  electronPdfPrinter,
  folderPicker,
  pdfRequestAllowed,
  type PdfWindowLike,
} from '../../../electron/main/desktop-lab';

const tmpRoot = mkdtempSync(join(tmpdir(), 'qlab-pdf-test-'));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));

/** What the fake window saw of the report file while loading it: its URL, path, text and modes. */
interface Loaded {
  url: string;
  file: string;
  allowed: string;
  text: string;
  fileMode: number;
  dirMode: number;
}

function fakeWindow(fail?: 'load' | 'print' | 'hang') {
  const log: unknown[][] = [];
  const loaded: Loaded[] = [];
  let destroyed = 0;
  const make = (width: number, reportFile: string): PdfWindowLike => {
    log.push(['make', width]);
    return {
      async loadURL(url) {
        log.push(['load', url]);
        // Chromium refuses data: URLs over 2 MiB; the fake refuses any data: URL
        expect(url.startsWith('file:')).toBe(true);
        const file = fileURLToPath(url);
        loaded.push({
          url,
          file,
          allowed: reportFile,
          text: readFileSync(file, 'utf8'),
          fileMode: statSync(file).mode & 0o777,
          dirMode: statSync(dirname(file)).mode & 0o777,
        });
        if (fail === 'load') throw new Error('ERR_BLOCKED');
        if (fail === 'hang') await new Promise(() => undefined);
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
  return { make, log, loaded, destroyed: () => destroyed };
}

describe('electronPdfPrinter', () => {
  it('loads the HTML from a private temp file, fits the tables, prints A4 landscape with the header on every page', async () => {
    const w = fakeWindow();
    // as big as a 100-run report: about 6 MB as a data: URL, over Chromium's 2 MiB limit
    const html = `<!doctype html><p>é ünïcode <b>report</b></p>${'<td>0.123456</td>'.repeat(260_000)}`;
    const pdf = await electronPdfPrinter(w.make, { tmpRoot }).print(html, 'qlab · run <abc> · code v1');
    expect([...pdf]).toEqual([37, 80, 68, 70]);
    expect(w.log[0]).toEqual(['make', PAGE_WIDTH_PX]);
    const [seen] = w.loaded;
    expect(seen.text).toBe(html);
    expect(seen.url).toBe(pathToFileURL(seen.file).href);
    expect(seen.file.startsWith(tmpRoot)).toBe(true);
    // the window's request filter is given exactly that file
    expect(seen.allowed).toBe(seen.file);
    expect(seen.fileMode).toBe(0o600);
    expect(seen.dirMode).toBe(0o700);
    // removed afterwards, folder and all
    expect(existsSync(dirname(seen.file))).toBe(false);
    expect(readdirSync(tmpRoot)).toEqual([]);
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

  it('destroys the window and removes the file when loading or printing fails', async () => {
    for (const fail of ['load', 'print'] as const) {
      const w = fakeWindow(fail);
      await expect(electronPdfPrinter(w.make, { tmpRoot }).print('<p>x</p>', 'h')).rejects.toThrow();
      expect(w.destroyed()).toBe(1);
      expect(w.loaded).toHaveLength(1);
      expect(readdirSync(tmpRoot)).toEqual([]);
    }
  });

  it('gives up on a print that hangs after the timeout: window destroyed, file removed, the next print runs', async () => {
    const hung = fakeWindow('hang');
    const printer = electronPdfPrinter(hung.make, { tmpRoot, timeoutMs: 200 });
    const t0 = Date.now();
    await expect(printer.print('<p>x</p>', 'h')).rejects.toThrow('the PDF was not printed within 0.2 s');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(hung.destroyed()).toBe(1);
    expect(readdirSync(tmpRoot)).toEqual([]);
    const ok = fakeWindow();
    const pdf = await electronPdfPrinter(ok.make, { tmpRoot, timeoutMs: 200 }).print('<p>y</p>', 'h');
    expect([...pdf]).toEqual([37, 80, 68, 70]);
  });

  it('the PDF window lets through the report file and data: URLs only', () => {
    const file = join(tmpRoot, 'qlab-pdf-x', 'report.html');
    expect(pdfRequestAllowed(pathToFileURL(file).href, file)).toBe(true);
    expect(pdfRequestAllowed('data:image/png;base64,AAAA', file)).toBe(true);
    for (const url of [
      pathToFileURL(join(tmpRoot, 'qlab-pdf-x', 'other.html')).href,
      pathToFileURL('/etc/passwd').href,
      `${pathToFileURL(file).href}?x=1`,
      'file://otherhost' + file,
      'https://example.com/',
      'app://qlab/index.html',
      'not a url',
    ]) {
      expect(pdfRequestAllowed(url, file), url).toBe(false);
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
