// The window's security settings and guards, kept apart from Electron's objects so they can be tested.
import { extname, join, resolve } from 'node:path';
import { openWithin } from '../../core/util/open-within';

/**
 * The renderer is served from app://qlab/… (a standard, secure custom scheme) rather than file://, so the page
 * has a real origin and no file: URL is ever loaded: every file: request is refused.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'qlab';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

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

/** Where the app's page lives: the built renderer folder (served on app://qlab/), or the dev server. */
export type AppLocation = { kind: 'app'; rendererDir: string } | { kind: 'dev'; url: string };

export function appEntryUrl(loc: AppLocation): string {
  return loc.kind === 'app' ? `${APP_ORIGIN}/index.html` : loc.url;
}

/** True only for the app's own page (any hash or query); everything else is refused. */
export function isAppUrl(url: string, loc: AppLocation): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (loc.kind === 'app') {
    return (
      u.protocol === `${APP_SCHEME}:` &&
      u.host === APP_HOST &&
      (u.pathname === '/' || u.pathname === '/index.html')
    );
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
  if (loc.kind === 'app') return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
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
  /** Any frame's navigation, subframes included (Electron ≥ 25); the details carry the url. */
  on(event: 'will-frame-navigate', listener: (e: { preventDefault(): void; url: string }) => void): unknown;
  on(event: 'will-attach-webview', listener: (e: { preventDefault(): void }) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
  /** The page this contents shows now. */
  getURL(): string;
}

/** Links the system may open for the app: web pages and mail only (no file:, app:, javascript:, custom schemes). */
export function isExternalLink(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol === 'mailto:') return true;
  return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' && u.username === '';
}

/**
 * Blocks navigation away from the app, new windows and webviews. A new window the app's own page asks for
 * (a note's link, which opens with target=_blank) is refused too, but an http(s) or mailto: link is handed to
 * `openExternal` (the system browser or mail program); no other contents (the hidden PDF window) and no other
 * scheme gets that.
 */
export function guardContents(
  contents: GuardedContents,
  loc: AppLocation,
  openExternal?: (url: string) => void,
): void {
  const keepInApp = (e: { preventDefault(): void }, url: string): void => {
    if (!isAppUrl(url, loc)) e.preventDefault();
  };
  contents.on('will-navigate', keepInApp);
  contents.on('will-redirect', keepInApp);
  contents.on('will-frame-navigate', (e) => keepInApp(e, e.url));
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (openExternal && isExternalLink(url) && isAppUrl(contents.getURL(), loc)) openExternal(url);
    return { action: 'deny' };
  });
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

export interface AppProtocolReply {
  status: number;
  mimeType: string;
  body: Buffer;
}

/**
 * The app:// handler's answer, apart from Electron: only a regular file whose real path (symlinks followed)
 * is inside the renderer folder; anything else, another host included, is 404.
 */
export async function appProtocolReply(rendererDir: string, requestUrl: string): Promise<AppProtocolReply> {
  const missing: AppProtocolReply = { status: 404, mimeType: 'text/plain', body: Buffer.from('not found') };
  let u: URL;
  try {
    u = new URL(requestUrl);
  } catch {
    return missing;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return missing;
  let rel: string;
  try {
    rel = decodeURIComponent(u.pathname);
  } catch {
    return missing;
  }
  if (rel.includes('\0')) return missing;
  if (rel === '/' || rel === '') rel = '/index.html';
  // openWithin refuses a path named outside the folder before opening anything (..%2F..%2Fetc%2Fshadow is
  // never opened), then checks the opened file: a symlink swapped in after a check cannot lead out of it.
  const opened = await openWithin(rendererDir, resolve(join(rendererDir, rel)));
  if (opened === null) return missing;
  const { handle, real, stats } = opened;
  try {
    if (!stats.isFile()) return missing;
    return {
      status: 200,
      mimeType: MIME[extname(real).toLowerCase()] ?? 'application/octet-stream',
      body: await handle.readFile(),
    };
  } finally {
    await handle.close();
  }
}
