// Browser mode: serves the built renderer and the LabApi over HTTP (POST /api/<method>) plus
// server-sent events (GET /api/events). Loopback only unless a host and a token are given.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { openWithin } from '../util/open-within';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { MAX_BUNDLE_TRANSFER_BYTES, type LabApi, type LabErrorInfo } from '../api/lab-api';
import { dispatch, isLabApiMethod } from './dispatch';
import { jsonDepthError } from './json-locate';
import { CliError, EXIT } from './errors';

export const MAX_BODY_BYTES = 1 << 20;
/** importBundle alone carries a file: its base64 (MAX_BUNDLE_TRANSFER_BYTES of bundle) and a little JSON. */
export const MAX_BUNDLE_BODY_BYTES = Math.ceil(MAX_BUNDLE_TRANSFER_BYTES / 3) * 4 + (64 << 10);
/** An event-stream client with more than this unsent is dropped; it reconnects and re-reads from the store. */
export const MAX_EVENT_BUFFER_BYTES = 1 << 20;
/** Headers must arrive within this, the whole request (body included) within REQUEST_TIMEOUT_MS. */
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;
/** How often Node looks for requests past those timeouts. */
const TIMEOUT_CHECK_MS = 1000;
/** Largest renderer file served (the bundle is a few MB). */
const MAX_STATIC_BYTES = 64 << 20;

/** The page may load its own scripts, styles and data URLs (chart exports) and talk to its own origin only. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

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
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || h === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Decides host and token: loopback by default; any other host must be asked for explicitly. Every server
 * requires a token, as Jupyter does (any local user can reach a loopback port): the given one, or a fresh
 * random one that the printed URL carries.
 */
export function resolveServeSecurity(opts: { host?: string; token?: string }): {
  host: string;
  token: string | null;
  generated: boolean;
} {
  const host = opts.host ?? '127.0.0.1';
  if (host.trim() === '') throw new CliError('option --host must not be empty');
  if (opts.token !== undefined && opts.token.length < 16) {
    throw new CliError('option --token must be at least 16 characters');
  }
  if (opts.token !== undefined) return { host, token: opts.token, generated: false };
  return { host, token: randomBytes(24).toString('base64url'), generated: true };
}

export interface ServerOptions {
  api: LabApi;
  host: string;
  port: number;
  /** Required on every /api request when set (Authorization: Bearer, or ?token= for SSE). */
  token: string | null;
  /** The built renderer (out/renderer); null serves the API only. */
  rendererDir: string | null;
  maxBodyBytes?: number;
  /** Per event-stream client (default MAX_EVENT_BUFFER_BYTES). */
  maxEventBufferBytes?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export interface LabServer {
  readonly url: string;
  readonly port: number;
  /** Open event streams, the bytes they hold unsent, and how many were dropped for falling behind. */
  stats(): { eventClients: number; bufferedBytes: number; dropped: number };
  close(): Promise<void>;
}

function statusFor(code: LabErrorInfo['code']): number {
  return code === 'invalid' ? 400 : code === 'not-found' ? 404 : code === 'conflict' ? 409 : 500;
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  type: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    ...extra,
  });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), 'application/json; charset=utf-8', {
    'Cache-Control': 'no-store',
  });
}

function sendError(res: ServerResponse, status: number, error: LabErrorInfo): void {
  sendJson(res, status, { ok: false, error });
}

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly info: LabErrorInfo,
  ) {
    super(info.message);
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((ok, fail) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      fail(
        new HttpFailure(413, {
          code: 'invalid',
          message: `request body exceeds ${limit} bytes`,
          field: 'body',
        }),
      );
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        fail(
          new HttpFailure(413, {
            code: 'invalid',
            message: `request body exceeds ${limit} bytes`,
            field: 'body',
          }),
        );
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (failed) return;
      try {
        // Strict: invalid UTF-8 is refused, not turned into U+FFFD and stored.
        ok(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)));
      } catch {
        fail(
          new HttpFailure(400, {
            code: 'invalid',
            message: 'request body is not valid UTF-8',
            field: 'body',
          }),
        );
      }
    });
    req.on('error', (e) => {
      if (!failed) fail(e);
    });
  });
}

/**
 * The renderer file a request names, or null: only a regular file whose real path (symlinks followed) is
 * inside the renderer folder; a folder gives its index.html. Opened once, so what is checked is what is sent.
 */
async function openStatic(root: string, file: string): Promise<{ file: string; data: Buffer } | null> {
  // the opened file is what is checked (a symlink swapped in after a check cannot lead outside)
  const opened = await openWithin(root, file);
  if (opened === null) return null;
  const { handle, real, stats } = opened;
  try {
    if (stats.isDirectory()) {
      await handle.close();
      return openStatic(root, join(real, 'index.html'));
    }
    if (!stats.isFile() || stats.size > MAX_STATIC_BYTES) return null;
    return { file: real, data: await handle.readFile() };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function tokenMatches(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startServer(opts: ServerOptions): Promise<LabServer> {
  const limit = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  const rendererRoot = opts.rendererDir === null ? null : resolve(opts.rendererDir);
  const streams = new Set<ServerResponse>();
  const maxEventBuffer = opts.maxEventBufferBytes ?? MAX_EVENT_BUFFER_BYTES;
  let dropped = 0;
  let port = opts.port;

  // A loopback server only answers to loopback names, which keeps DNS-rebinding pages out.
  const hostAllowed = (req: IncomingMessage): boolean => {
    if (!isLoopbackHost(opts.host)) return true;
    const h = req.headers.host;
    if (h === undefined) return false;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(h);
    return m !== null && isLoopbackHost(m[1]) && (m[2] === undefined || Number(m[2]) === port);
  };

  // Browsers send Origin on cross-site requests; only our own origin may call the API.
  const originAllowed = (req: IncomingMessage): boolean => {
    const origin = req.headers.origin;
    return origin === undefined || origin === `http://${req.headers.host}`;
  };

  const authorised = (req: IncomingMessage, url: URL): boolean => {
    if (opts.token === null) return true;
    const auth = req.headers.authorization;
    const bearer = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
    return (
      tokenMatches(bearer, opts.token) || tokenMatches(url.searchParams.get('token') ?? undefined, opts.token)
    );
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (!originAllowed(req)) {
      sendError(res, 403, {
        code: 'invalid',
        message: 'cross-origin requests are not allowed',
        field: 'origin',
      });
      return;
    }
    if (!authorised(req, url)) {
      sendError(res, 401, {
        code: 'invalid',
        message: 'missing or wrong token (send Authorization: Bearer <token>)',
        field: 'token',
      });
      return;
    }
    const name = url.pathname.slice('/api/'.length);
    if (name === 'events') {
      if (req.method !== 'GET') {
        sendError(res, 405, { code: 'invalid', message: 'use GET for /api/events', field: 'method' });
        return;
      }
      openEventStream(req, res);
      return;
    }
    if (req.method !== 'POST') {
      sendError(res, 405, { code: 'invalid', message: `use POST for /api/${name}`, field: 'method' });
      return;
    }
    if (!isLabApiMethod(name)) {
      sendError(res, 404, { code: 'not-found', message: `unknown method '${name}'`, field: 'method' });
      return;
    }
    // Requiring JSON forces a CORS preflight on any cross-site form or fetch, which this server never grants.
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const body = await readBody(
      req,
      name === 'importBundle' ? Math.max(limit, MAX_BUNDLE_BODY_BYTES) : limit,
    );
    if (body.trim() !== '' && type !== 'application/json') {
      sendError(res, 415, {
        code: 'invalid',
        message: 'Content-Type must be application/json',
        field: 'content-type',
      });
      return;
    }
    let arg: unknown = undefined;
    if (body.trim() !== '') {
      const deep = jsonDepthError(body);
      if (deep) {
        sendError(res, 400, {
          code: 'invalid',
          message: `body is not valid JSON: line ${deep.line}, column ${deep.column}: ${deep.message}`,
          field: 'body',
        });
        return;
      }
      try {
        arg = JSON.parse(body) as unknown;
      } catch (e) {
        sendError(res, 400, {
          code: 'invalid',
          message: `body is not valid JSON: ${(e as Error).message}`,
          field: 'body',
        });
        return;
      }
    }
    const result = await dispatch(opts.api, name, arg);
    if (result.ok) sendJson(res, 200, result);
    else sendJson(res, statusFor(result.error.code), result);
  };

  const openEventStream = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(': qlab events\n\n');
    streams.add(res);
    // A client that does not read would make the server hold every event for it: past the bound it is
    // dropped (EventSource reconnects, and the page re-reads what it shows from the store).
    const write = (chunk: string): void => {
      if (res.destroyed) return;
      if (res.writableLength > maxEventBuffer) {
        dropped++;
        done();
        res.destroy();
        return;
      }
      res.write(chunk);
    };
    const unsubscribe = opts.api.onEvent((ev) => write(`data: ${JSON.stringify(ev)}\n\n`));
    // A comment line every 15 s keeps proxies and idle timeouts from closing the stream.
    const ping = setInterval(() => write(': ping\n\n'), 15_000);
    ping.unref();
    const done = (): void => {
      clearInterval(ping);
      unsubscribe();
      streams.delete(res);
    };
    req.on('close', done);
    res.on('close', done);
  };

  const handleStatic = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'method not allowed\n', 'text/plain; charset=utf-8', { Allow: 'GET, HEAD' });
      return;
    }
    if (rendererRoot === null) {
      send(
        res,
        404,
        'the renderer is not served by this server; run `npm run build` first\n',
        'text/plain; charset=utf-8',
      );
      return;
    }
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      send(res, 400, 'bad path\n', 'text/plain; charset=utf-8');
      return;
    }
    if (rel.includes('\0')) {
      send(res, 400, 'bad path\n', 'text/plain; charset=utf-8');
      return;
    }
    let file = resolve(join(rendererRoot, rel));
    if (file !== rendererRoot && !file.startsWith(rendererRoot + sep)) {
      send(res, 403, 'forbidden\n', 'text/plain; charset=utf-8');
      return;
    }
    const served = await openStatic(rendererRoot, file);
    if (served === null) {
      // The renderer routes with location.hash, so every real page is "/"; anything else is missing.
      send(res, 404, 'not found\n', 'text/plain; charset=utf-8');
      return;
    }
    file = served.file;
    const data = served.data;
    const type = MIME[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const cache = file.endsWith('.html') ? 'no-cache' : 'public, max-age=3600';
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': type,
      'Content-Length': data.length,
      'Cache-Control': cache,
    });
    res.end(req.method === 'HEAD' ? undefined : data);
  };

  const server = createServer({ connectionsCheckingInterval: TIMEOUT_CHECK_MS }, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const work = async (): Promise<void> => {
      if (!hostAllowed(req)) {
        send(res, 421, 'unexpected Host header\n', 'text/plain; charset=utf-8');
        return;
      }
      if (url.pathname.startsWith('/api/')) await handleApi(req, res, url);
      else await handleStatic(req, res, url);
    };
    work().catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpFailure) sendError(res, err.status, err.info);
      else
        sendError(res, 500, { code: 'internal', message: err instanceof Error ? err.message : String(err) });
    });
  });
  // Half-sent requests are closed: headers within 10 s, the whole request within 30 s. requestTimeout bounds
  // receiving the request only, so event streams (whose request is complete at once) stay open.
  server.headersTimeout = opts.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  server.requestTimeout = opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;

  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE')
        fail(
          new CliError(
            `port ${opts.port} on ${opts.host} is already in use (pick another with --port, or --port 0 for a free one)`,
            EXIT.lab,
          ),
        );
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') {
        fail(new CliError(`cannot bind host '${opts.host}': ${e.code}`, EXIT.lab));
      } else fail(e);
    });
    server.listen(opts.port, opts.host, () => ok());
  });
  port = (server.address() as AddressInfo).port;
  const hostPart = opts.host.includes(':') && !opts.host.startsWith('[') ? `[${opts.host}]` : opts.host;
  const url = `http://${hostPart}:${port}/`;

  return {
    url,
    port,
    stats: () => {
      let bufferedBytes = 0;
      for (const r of streams) bufferedBytes += r.writableLength;
      return { eventClients: streams.size, bufferedBytes, dropped };
    },
    close: () =>
      new Promise<void>((ok) => {
        for (const s of streams) s.end();
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
