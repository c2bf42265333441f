// What only the desktop app gives the lab: PDFs printed by Electron's own Chromium (webContents.printToPDF,
// so the desktop app needs no separate browser) and a folder dialog that adds file roots. Electron is passed
// in (a window factory, the dialog) so this file is tested without it.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  FIT_TABLES_SCRIPT,
  PAGE_WIDTH_PX,
  PDF_MARGINS_MM,
  pdfTemplates,
  type PdfPrinter,
} from '../../core/lab/export-pdf';

/** The part of a hidden BrowserWindow the printer uses. */
export interface PdfWindowLike {
  loadURL(url: string): Promise<void>;
  destroy(): void;
  readonly webContents: {
    executeJavaScript(code: string): Promise<unknown>;
    printToPDF(options: {
      landscape: boolean;
      pageSize: 'A4';
      printBackground: boolean;
      margins: { top: number; bottom: number; left: number; right: number };
      displayHeaderFooter: boolean;
      headerTemplate: string;
      footerTemplate: string;
    }): Promise<Uint8Array>;
  };
}

const MM_PER_INCH = 25.4;

/** One print (load, fit, print) that takes longer fails, so a hung page cannot hold the lab's PDF queue. */
export const PDF_PRINT_TIMEOUT_MS = 120_000;

export interface ElectronPdfOptions {
  /** Default PDF_PRINT_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Where the private folder for the report file is made; default the system's temp folder. */
  tmpRoot?: string;
}

/**
 * The PDF window's request filter: the report file itself (exactly that file: URL) and data: URLs inside it;
 * every other request, other files included, is refused.
 */
export function pdfRequestAllowed(url: string, reportFile: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol === 'data:') return true;
  if (u.protocol !== 'file:' || u.search !== '' || u.host !== '') return false;
  try {
    return fileURLToPath(u) === reportFile;
  } catch {
    return false;
  }
}

/**
 * Prints the HTML report in a hidden window (made by `makeWindow` at the page's width, in a session that lets
 * no request out but the report file it is given) with the same page setup as the headless-Chromium printer:
 * A4 landscape, wide tables fitted, run ids and code version in the header of every page. The report is
 * written to a private temporary folder (0700) and loaded from there, not as a data: URL, which Chromium
 * refuses over 2 MiB (a 100-run report is about 6 MB as one); the folder is removed afterwards, and a print
 * that takes longer than the timeout fails.
 */
export function electronPdfPrinter(
  makeWindow: (widthPx: number, reportFile: string) => PdfWindowLike,
  opts: ElectronPdfOptions = {},
): PdfPrinter {
  const timeoutMs = opts.timeoutMs ?? PDF_PRINT_TIMEOUT_MS;
  return {
    async print(html, header) {
      const dir = await mkdtemp(join(opts.tmpRoot ?? tmpdir(), 'qlab-pdf-'));
      let win: PdfWindowLike | null = null;
      let timer: NodeJS.Timeout | undefined;
      try {
        await chmod(dir, 0o700);
        const file = join(dir, 'report.html');
        await writeFile(file, html, { encoding: 'utf8', mode: 0o600, flag: 'wx' });
        const w = (win = makeWindow(PAGE_WIDTH_PX, file));
        const printing = (async () => {
          await w.loadURL(pathToFileURL(file).href);
          await w.webContents.executeJavaScript(FIT_TABLES_SCRIPT);
          const inches = (mm: number): number => mm / MM_PER_INCH;
          const pdf = await w.webContents.printToPDF({
            landscape: true,
            pageSize: 'A4',
            printBackground: true,
            margins: {
              top: inches(PDF_MARGINS_MM.top),
              bottom: inches(PDF_MARGINS_MM.bottom),
              left: inches(PDF_MARGINS_MM.left),
              right: inches(PDF_MARGINS_MM.right),
            },
            displayHeaderFooter: true,
            ...pdfTemplates(header),
          });
          return new Uint8Array(pdf);
        })();
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the PDF was not printed within ${timeoutMs / 1000} s`)),
            timeoutMs,
          );
        });
        return await Promise.race([printing, timeout]);
      } finally {
        clearTimeout(timer);
        win?.destroy();
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** The dialog's answer, as Electron's dialog.showOpenDialog gives it. */
export interface OpenDialogResult {
  canceled: boolean;
  filePaths: string[];
}

/** A folder picker for the lab's pickFileRoot: the folder chosen, or null when the dialog was dismissed. */
export function folderPicker(show: () => Promise<OpenDialogResult>): () => Promise<string | null> {
  return async () => {
    const r = await show();
    return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0];
  };
}
