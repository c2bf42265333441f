// Issue 13: the browser-mode server under slow and hostile clients (stalled event streams, half-sent
// requests) and its static files (no symlink out of the renderer folder).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabApi, LabEvent } from '../../../core/api/lab-api';
import { startServer, type LabServer } from '../../../core/cli/server';

let dir = '';
let rendererDir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qlab-srvh-'));
  rendererDir = join(dir, 'renderer');
  mkdirSync(rendererDir);
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>qlab</title>');
  writeFileSync(join(dir, 'secret.txt'), 'not for the web');
  symlinkSync(join(dir, 'secret.txt'), join(rendererDir, 'link.txt'));
  symlinkSync(dir, join(rendererDir, 'up'));
  symlinkSync('/dev/zero', join(rendererDir, 'zero.js'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A LabApi whose only live part is onEvent; the test pushes events through `emit`. */
function eventSource(): { api: LabApi; emit: (e: LabEvent) => void } {
  const listeners = new Set<(e: LabEvent) => void>();
  const api = {
    onEvent: (l: (e: LabEvent) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  } as unknown as LabApi;
  return { api, emit: (e) => listeners.forEach((l) => l(e)) };
}

function rawGet(port: number, path: string): Promise<string> {
  return new Promise((ok, fail) => {
    const s = connect(port, '127.0.0.1', () =>
      s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`),
    );
    let out = '';
    s.on('data', (c) => (out += c.toString()));
    s.on('end', () => ok(out));
    s.on('error', fail);
  });
}

describe('static files', () => {
  it('serves only regular files whose real path is inside the renderer folder', async () => {
    const s = await startServer({
      api: eventSource().api,
      host: '127.0.0.1',
      port: 0,
      token: null,
      rendererDir,
    });
    try {
      expect(await rawGet(s.port, '/')).toContain('<title>qlab</title>');
      for (const p of ['/link.txt', '/up/secret.txt', '/zero.js']) {
        const r = await rawGet(s.port, p);
        expect(r, p).toMatch(/^HTTP\/1.1 404/);
        expect(r).not.toContain('not for the web');
      }
    } finally {
      await s.close();
    }
  });
});

describe('slow and hostile clients', () => {
  it('drops event-stream clients that stop reading, so memory stays flat', async () => {
    const { api, emit } = eventSource();
    const s: LabServer = await startServer({
      api,
      host: '127.0.0.1',
      port: 0,
      token: null,
      rendererDir: null,
      maxEventBufferBytes: 256 * 1024,
    });
    const stalled: Socket[] = [];
    try {
      for (let i = 0; i < 10; i++) {
        const sock = connect(s.port, '127.0.0.1');
        await new Promise<void>((r) => sock.once('connect', () => r()));
        sock.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n\r\n`);
        sock.pause(); // never reads
        sock.on('error', () => undefined);
        stalled.push(sock);
      }
      await new Promise((r) => setTimeout(r, 200));
      expect(s.stats().eventClients).toBe(10);
      const points = Array.from({ length: 2000 }, (_, k) => ({ key: 'loss', step: k, value: 1 / (k + 1) }));
      const before = process.memoryUsage().rss;
      // ~100 MB of events per client if nothing were dropped (300 batches of 2000 points).
      for (let b = 0; b < 300; b++) {
        emit({ type: 'metrics', runId: '00000000-0000-4000-8000-000000000000', points });
        if (b % 20 === 0) await new Promise((r) => setImmediate(r));
      }
      const grown = (process.memoryUsage().rss - before) / 2 ** 20;
      const st = s.stats();
      expect(st.dropped).toBe(10);
      expect(st.eventClients).toBe(0);
      expect(grown).toBeLessThan(100);
      console.log(`stalled SSE: rss grew ${grown.toFixed(1)} MB; dropped ${st.dropped}`);
    } finally {
      stalled.forEach((x) => x.destroy());
      await s.close();
    }
  });

  it('closes connections that send headers and one byte of the body, by the request timeout', async () => {
    const s = await startServer({
      api: eventSource().api,
      host: '127.0.0.1',
      port: 0,
      token: null,
      rendererDir: null,
      requestTimeoutMs: 1000,
      headersTimeoutMs: 1000,
    });
    try {
      const socks = await Promise.all(
        Array.from({ length: 30 }, () => {
          return new Promise<Socket>((ok) => {
            const sock = connect(s.port, '127.0.0.1', () => {
              sock.write(
                `POST /api/listRuns HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
              );
              ok(sock);
            });
            sock.on('error', () => undefined);
            sock.resume(); // reads (and so sees) the server's 408 and its close
          });
        }),
      );
      const t0 = Date.now();
      await Promise.all(socks.map((x) => new Promise((r) => (x.destroyed ? r(null) : x.once('close', r)))));
      expect(Date.now() - t0).toBeLessThan(4000);
    } finally {
      await s.close();
    }
  });

  it('has header and request timeouts by default', async () => {
    const { HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS } = await import('../../../core/cli/server');
    expect(HEADERS_TIMEOUT_MS).toBeLessThanOrEqual(10_000);
    expect(REQUEST_TIMEOUT_MS).toBeLessThanOrEqual(30_000);
  });
});
