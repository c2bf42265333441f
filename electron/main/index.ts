// The desktop app's main process: one sandboxed window, the LabService on the userData folder with jobs in
// utility processes, the LabApi over an allow-listed IPC bridge. All policy lives in ./security and ./ipc.
import { app, BrowserWindow, dialog, ipcMain, protocol, session, shell, utilityProcess } from 'electron';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLab } from '../../core/lab/service';
import { electronPdfPrinter, folderPicker, pdfRequestAllowed } from './desktop-lab';
import { connectLabWindow } from './ipc';
import {
  APP_SCHEME,
  appEntryUrl,
  appProtocolReply,
  contentSecurityPolicy,
  guardContents,
  isAllowedRequest,
  isAppUrl,
  safeWebPreferences,
  type AppLocation,
} from './security';
import { UtilityProcessLauncher } from './utility-launcher';

const here = fileURLToPath(new URL('.', import.meta.url));
const devServerUrl =
  !app.isPackaged && process.env.ELECTRON_RENDERER_URL ? process.env.ELECTRON_RENDERER_URL : null;
const rendererDir = join(here, '..', 'renderer');
const location: AppLocation =
  devServerUrl === null ? { kind: 'app', rendererDir } : { kind: 'dev', url: devServerUrl };

app.enableSandbox();
// Before ready: app:// is a standard secure origin (fetch, relative URLs, CSP 'self' work as on https).
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

// Any webContents the app ever creates gets the same guards, not just the main window.
// Links in the app's page (notes) open in the system browser; every new window is refused.
app.on('web-contents-created', (_e, contents) =>
  guardContents(contents, location, (url) => {
    shell.openExternal(url).catch(() => undefined);
  }),
);

async function start(): Promise<void> {
  protocol.handle(APP_SCHEME, async (request) => {
    const r = await appProtocolReply(rendererDir, request.url);
    return new Response(new Uint8Array(r.body), {
      status: r.status,
      headers: { 'Content-Type': r.mimeType },
    });
  });
  const csp = contentSecurityPolicy(devServerUrl);
  const ses = session.defaultSession;
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
  });
  ses.webRequest.onBeforeRequest((details, callback) =>
    callback({ cancel: !isAllowedRequest(details.url, location) }),
  );
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);

  const labDir = join(app.getPath('userData'), 'lab');
  const lab = await openLab({
    labDir,
    // The packaged app ships migrations/ beside out/ (electron-builder.yml).
    migrationsDir: join(here, '..', '..', 'migrations'),
    launcher: new UtilityProcessLauncher({
      fork: (modulePath, args, options) => utilityProcess.fork(modulePath, args, options),
      entry: join(here, 'worker.js'),
    }),
  });

  const win = new BrowserWindow({
    width: 1280,
    height: 840,
    show: false,
    title: 'qlab',
    webPreferences: safeWebPreferences(join(here, '..', 'preload', 'index.cjs')),
  });
  // PDFs from Electron's own Chromium, in a hidden window whose session lets no request out but the report's
  // own temporary file (the report is self-contained); file roots from a folder dialog, which only the user
  // can answer.
  lab.pdfPrinter = electronPdfPrinter((width, reportFile) => {
    const pdfSession = session.fromPartition('qlab-pdf');
    pdfSession.webRequest.onBeforeRequest((details, callback) =>
      callback({ cancel: !pdfRequestAllowed(details.url, reportFile) }),
    );
    return new BrowserWindow({
      show: false,
      width,
      height: 800,
      webPreferences: { session: pdfSession, sandbox: true, contextIsolation: true, nodeIntegration: false },
    });
  });
  lab.pickFolder = folderPicker(() =>
    dialog.showOpenDialog(win, {
      title: 'Add a folder the lab may read',
      buttonLabel: 'Add folder',
      properties: ['openDirectory', 'createDirectory'],
    }),
  );
  // IPC, events, and the run watch that brings in runs other processes write to the same lab directory.
  const disconnect = connectLabWindow(ipcMain, lab, win.webContents, (url) => isAppUrl(url, location));
  win.once('ready-to-show', () => win.show());
  await win.loadURL(appEntryUrl(location));

  let closing = false;
  app.on('before-quit', (e) => {
    if (closing) return;
    closing = true;
    e.preventDefault();
    disconnect();
    void lab.close().finally(() => app.exit(0));
  });
}

app.on('window-all-closed', () => app.quit());

app
  .whenReady()
  .then(start)
  .catch((err: unknown) => {
    console.error(`qlab: ${err instanceof Error ? err.message : String(err)}`);
    app.exit(1);
  });
