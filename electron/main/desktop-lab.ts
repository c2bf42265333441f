// What only the desktop app gives the lab: PDFs printed by Electron's own Chromium (webContents.printToPDF,
// so the desktop app needs no separate browser) and a folder dialog that adds file roots. Electron is passed
// in (a window factory, the dialog) so this file is tested without it.
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

/**
 * Prints the HTML report in a hidden window (made by `makeWindow` at the page's width, in a session that lets
 * no request out) with the same page setup as the headless-Chromium printer: A4 landscape, wide tables fitted,
 * run ids and code version in the header of every page.
 */
export function electronPdfPrinter(makeWindow: (widthPx: number) => PdfWindowLike): PdfPrinter {
  return {
    async print(html, header) {
      const win = makeWindow(PAGE_WIDTH_PX);
      try {
        await win.loadURL(
          `data:text/html;charset=utf-8;base64,${Buffer.from(html, 'utf8').toString('base64')}`,
        );
        await win.webContents.executeJavaScript(FIT_TABLES_SCRIPT);
        const inches = (mm: number): number => mm / MM_PER_INCH;
        const pdf = await win.webContents.printToPDF({
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
      } finally {
        win.destroy();
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
