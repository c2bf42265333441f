// The window's security settings and guards, kept apart from Electron's objects so they can be tested.
import { pathToFileURL } from 'node:url';

/** Like the browser mode's policy; the dev server additionally needs its websocket for hot reload. */
export function contentSecurityPolicy(devServerUrl: string | null): string {
  const connect =
    devServerUrl === null ? "'self'" : `'self' ${new URL(devServerUrl).origin.replace(/^http/, 'ws')}`;
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Where the app's page lives: the built index.html, or the dev server in `electron-vite dev`. */
export type AppLocation = { kind: 'file'; indexHtml: string } | { kind: 'dev'; url: string };

export function appEntryUrl(loc: AppLocation): string {
  return loc.kind === 'file' ? pathToFileURL(loc.indexHtml).href : loc.url;
}

/** True only for the app's own page (any hash or query); everything else is refused. */
export function isAppUrl(url: string, loc: AppLocation): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (loc.kind === 'file') {
    const entry = new URL(pathToFileURL(loc.indexHtml).href);
    return u.protocol === 'file:' && u.host === '' && u.pathname === entry.pathname;
  }
  return u.origin === new URL(loc.url).origin;
}

/** Network requests the renderer may make: its own files or dev server, nothing remote. */
export function isAllowedRequest(url: string, loc: AppLocation): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol === 'devtools:' || u.protocol === 'data:' || u.protocol === 'blob:') return true;
  if (loc.kind === 'file') return u.protocol === 'file:';
  const dev = new URL(loc.url);
  return u.host === dev.host && (u.protocol === dev.protocol || u.protocol === 'ws:');
}

export interface SafeWebPreferences {
  preload: string;
  contextIsolation: true;
  sandbox: true;
  nodeIntegration: false;
  nodeIntegrationInWorker: false;
  nodeIntegrationInSubFrames: false;
  webSecurity: true;
  allowRunningInsecureContent: false;
  webviewTag: false;
  spellcheck: false;
}

export function safeWebPreferences(preload: string): SafeWebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: false,
  };
}

/** The part of Electron's WebContents the guards need. */
export interface GuardedContents {
  on(
    event: 'will-navigate' | 'will-redirect',
    listener: (e: { preventDefault(): void }, url: string) => void,
  ): unknown;
  on(event: 'will-attach-webview', listener: (e: { preventDefault(): void }) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

/** Blocks navigation away from the app, new windows and webviews; external links are dropped, not opened. */
export function guardContents(contents: GuardedContents, loc: AppLocation): void {
  const keepInApp = (e: { preventDefault(): void }, url: string): void => {
    if (!isAppUrl(url, loc)) e.preventDefault();
  };
  contents.on('will-navigate', keepInApp);
  contents.on('will-redirect', keepInApp);
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}
