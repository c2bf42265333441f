// Browser mode over real HTTP on port 0, against a real LabService in a temporary lab directory.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabEvent, RunDetail, RunSummary } from '../../../core/api/lab-api';
import { resolveServeSecurity, startServer, type LabServer } from '../../../core/cli/server';
import { openLab, type LabService } from '../../../core/lab/service';

process.env.QLAB_EXTRA_KINDS = fileURLToPath(new URL('../../fixtures/lab-kinds.ts', import.meta.url));

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function http(
  url: string,
  opts: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((ok, fail) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', fail);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

async function api(
  base: string,
  method: string,
  arg: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return http(`${base}api/${method}`, {
    method: 'POST',
    body: arg === undefined ? '' : JSON.stringify(arg),
    headers: { ...JSON_HEADERS, ...headers },
  });
}

/** Reads server-sent events until `until` returns true for the collected events. */
function collectEvents(
  url: string,
  until: (events: LabEvent[]) => boolean,
): { done: Promise<LabEvent[]>; ready: Promise<void> } {
  let markReady = (): void => undefined;
  const ready = new Promise<void>((r) => (markReady = r));
  const done = new Promise<LabEvent[]>((ok, fail) => {
    const events: LabEvent[] = [];
    const req = request(url, (res) => {
      if (res.statusCode !== 200) return fail(new Error(`SSE status ${res.statusCode}`));
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk: string) => {
        if (buf === '' && events.length === 0) markReady();
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) !== -1) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          for (const line of block.split('\n')) {
            if (line.startsWith('data: ')) events.push(JSON.parse(line.slice(6)) as LabEvent);
          }
        }
        if (until(events)) {
          req.destroy();
          ok(events);
        }
      });
    });
    req.on('error', (e) => {
      if (!(e as NodeJS.ErrnoException).code?.includes('ECONNRESET')) fail(e);
    });
    req.end();
  });
  return { done, ready };
}

let labDir: string;
let rendererDir: string;
let lab: LabService;
let server: LabServer;
let base: string;

beforeAll(async () => {
  labDir = mkdtempSync(join(tmpdir(), 'qlab-serve-'));
  rendererDir = join(labDir, 'renderer');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>qlab</title>');
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(labDir, 'secret.txt'), 'not for the web');
  lab = await openLab({ labDir: join(labDir, 'lab') });
  server = await startServer({ api: lab, host: '127.0.0.1', port: 0, token: null, rendererDir });
  base = server.url;
});

afterAll(async () => {
  await server?.close();
  await lab?.close();
  rmSync(labDir, { recursive: true, force: true });
});

describe('qlab serve: the LabApi over HTTP', () => {
  it('binds loopback on a free port and prints a parseable URL', () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(server.port).toBeGreaterThan(0);
  });

  it('round-trips a run: create, live events, get, list, series, compare, export', async () => {
    const events = collectEvents(`${base}api/events`, (evs) =>
      evs.some((e) => e.type === 'run-updated' && e.run.status === 'succeeded'),
    );
    await events.ready;
    const created = await api(base, 'createRun', {
      kind: 'test-stream',
      name: 'over http',
      seed: 11,
      tags: ['web'],
      config: { steps: 30, delayMs: 5 },
    });
    expect(created.status).toBe(200);
    const run = (JSON.parse(created.body) as { ok: true; value: RunSummary }).value;
    expect(run).toMatchObject({ kind: 'test-stream', name: 'over http', status: 'queued', tags: ['web'] });

    const seen = await events.done;
    expect(seen[0]).toMatchObject({ type: 'run-created', run: { id: run.id } });
    const metricPoints = seen.flatMap((e) => (e.type === 'metrics' && e.runId === run.id ? e.points : []));
    expect(metricPoints.map((p) => p.step)).toEqual([...Array(30).keys()]);
    for (const p of metricPoints) expect(p.value).toBeCloseTo(1 / (1 + p.step), 12);

    const detail = JSON.parse((await api(base, 'getRun', { id: run.id })).body) as {
      ok: true;
      value: RunDetail;
    };
    expect(detail.value).toMatchObject({ id: run.id, status: 'succeeded', seed: 11, config: { steps: 30 } });
    expect(detail.value.metrics).toEqual([expect.objectContaining({ key: 'loss', count: 30, lastStep: 29 })]);

    const list = JSON.parse((await api(base, 'listRuns', { tag: 'web' })).body) as { value: RunSummary[] };
    expect(list.value.map((r) => r.id)).toEqual([run.id]);

    const series = JSON.parse(
      (await api(base, 'getSeries', { runId: run.id, key: 'loss', maxPoints: 10 })).body,
    ) as {
      value: { count: number; points: { step: number; min: number; max: number; last: number }[] };
    };
    expect(series.value.count).toBe(30);
    expect(series.value.points.length).toBeLessThanOrEqual(10);
    expect(Math.max(...series.value.points.map((p) => p.max))).toBe(1);

    const second = JSON.parse(
      (await api(base, 'createRun', { kind: 'test-stream', config: { steps: 3 } })).body,
    ) as { value: RunSummary };
    await lab.waitForRun(second.value.id);
    const cmp = JSON.parse((await api(base, 'compareRuns', { ids: [run.id, second.value.id] })).body) as {
      value: { configDiff: { path: string; values: unknown[] }[] };
    };
    expect(cmp.value.configDiff).toEqual(expect.arrayContaining([{ path: 'steps', values: [30, 3] }]));

    const csv = JSON.parse((await api(base, 'exportRuns', { ids: [run.id], format: 'csv' })).body) as {
      value: { content: string; mimeType: string };
    };
    expect(csv.value.content.trim().split('\n')).toHaveLength(31);
  });

  it('lists kinds with an empty body or {}', async () => {
    for (const body of [undefined, {}]) {
      const r = await api(base, 'listKinds', body);
      expect(r.status).toBe(200);
      const kinds = (JSON.parse(r.body) as { value: { kind: string }[] }).value.map((k) => k.kind);
      expect(kinds).toEqual(expect.arrayContaining(['test-stream', 'test-crash']));
    }
  });

  it('answers bad methods and bodies with 4xx naming the field, and writes nothing', async () => {
    const before = (await lab.listRuns()).length;
    const cases: [string, string | undefined, Record<string, string>, number, string][] = [
      ['frobnicate', '{}', JSON_HEADERS, 404, 'method'],
      ['onEvent', '{}', JSON_HEADERS, 404, 'method'],
      [
        'createRun',
        '{"kind": "test-stream", "config": {"steps": "many"}}',
        JSON_HEADERS,
        400,
        'config.steps',
      ],
      ['createRun', '{"kind": "nope", "config": {}}', JSON_HEADERS, 400, 'kind'],
      ['createRun', '{"kind": "test-stream", "config": {}, "extra": 1}', JSON_HEADERS, 400, '(root)'],
      ['createRun', '{"kind": "test-stream",', JSON_HEADERS, 400, 'body'],
      [
        'createRun',
        '{"kind": "test-stream", "config": {"steps": 1}}',
        { 'Content-Type': 'text/plain' },
        415,
        'content-type',
      ],
      ['getRun', '{"id": "abc"}', JSON_HEADERS, 400, 'id'],
      ['getRun', '{"id": "0f8fad5b-d9cb-469f-a165-70867728950e"}', JSON_HEADERS, 404, 'id'],
      ['listRuns', '{"status": "sleeping"}', JSON_HEADERS, 400, 'status'],
      ['listKinds', '{"x": 1}', JSON_HEADERS, 400, '(root)'],
    ];
    for (const [method, body, headers, status, field] of cases) {
      const r = await http(`${base}api/${method}`, { method: 'POST', body, headers });
      expect(r.status, `${method} ${body}`).toBe(status);
      const parsed = JSON.parse(r.body) as { ok: boolean; error: { field?: string; message: string } };
      expect(parsed.ok).toBe(false);
      expect(parsed.error.field, `${method} ${body}`).toBe(field);
      expect(parsed.error.message.length).toBeGreaterThan(0);
    }
    const big = JSON.stringify({ kind: 'test-stream', config: {}, name: 'x'.repeat(2 << 20) });
    const r = await http(`${base}api/createRun`, { method: 'POST', body: big, headers: JSON_HEADERS });
    expect(r.status).toBe(413);
    expect((await http(`${base}api/listRuns`)).status).toBe(405);
    expect((await lab.listRuns()).length).toBe(before);
  });

  it('sends strict headers and no CORS; refuses foreign Host and Origin', async () => {
    const r = await http(base);
    expect(r.status).toBe(200);
    expect(r.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    const opt = await http(`${base}api/listRuns`, { method: 'OPTIONS' });
    expect(opt.status).toBe(405);
    expect(opt.headers['access-control-allow-origin']).toBeUndefined();
    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own Host
    const rebound = await api(base, 'listRuns', {}, { Host: `evil.example:${server.port}` });
    expect(rebound.status).toBe(421);
    const cross = await api(base, 'listRuns', {}, { Origin: 'http://evil.example' });
    expect(cross.status).toBe(403);
    const same = await api(base, 'listRuns', {}, { Origin: `http://127.0.0.1:${server.port}` });
    expect(same.status).toBe(200);
  });

  it('serves the renderer files, 404 for anything else, and never leaves its folder', async () => {
    expect((await http(`${base}assets/app.js`)).headers['content-type']).toMatch(/^text\/javascript/);
    expect((await http(`${base}?token=x#/runs/abc`)).body).toContain('<title>qlab</title>');
    expect((await http(`${base}index.html`)).body).toContain('<title>qlab</title>');
    expect((await http(`${base}runs/abc`)).status).toBe(404);
    expect((await http(`${base}assets/missing.js`)).status).toBe(404);
    for (const path of [
      '../secret.txt',
      '%2e%2e/secret.txt',
      '..%2fsecret.txt',
      'assets/..%2f..%2fsecret.txt',
    ]) {
      const r = await http(`${base}${path}`);
      expect(r.body, path).not.toContain('not for the web');
    }
  });
});

describe('tokens', () => {
  it('every server requires a token (loopback too, as Jupyter does) and gets a generated one', () => {
    const local = resolveServeSecurity({});
    expect(local).toMatchObject({ host: '127.0.0.1', generated: true });
    expect(local.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const open = resolveServeSecurity({ host: '0.0.0.0' });
    expect(open.generated).toBe(true);
    expect(open.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(resolveServeSecurity({ host: '0.0.0.0', token: 'a-long-enough-token' }).token).toBe(
      'a-long-enough-token',
    );
    expect(() => resolveServeSecurity({ host: '0.0.0.0', token: 'short' })).toThrow(/at least 16/);
  });

  it('a non-loopback server refuses /api without the token, by header or by ?token= for events', async () => {
    const { host, token } = resolveServeSecurity({ host: '0.0.0.0' });
    const s = await startServer({ api: lab, host, port: 0, token, rendererDir });
    try {
      const local = `http://127.0.0.1:${s.port}/`;
      expect((await api(local, 'listRuns', {})).status).toBe(401);
      expect(
        (await api(local, 'listRuns', {}, { Authorization: 'Bearer wrong-token-wrong-token' })).status,
      ).toBe(401);
      const withHeader = await api(local, 'listRuns', {}, { Authorization: `Bearer ${token}` });
      expect(withHeader.status).toBe(200);
      expect((await api(`${local}`, `listRuns?token=${token}`, {})).status).toBe(200);
      // the page itself loads without the token (it carries no data); the events need it
      expect((await http(local)).status).toBe(200);
      expect((await http(`${local}api/events`)).status).toBe(401);
      const ev = collectEvents(`${local}api/events?token=${encodeURIComponent(token!)}`, (evs) =>
        evs.some((e) => e.type === 'run-updated' && e.run.status === 'succeeded'),
      );
      await ev.ready;
      await lab.createRun({ kind: 'test-stream', config: { steps: 2 } });
      expect((await ev.done).length).toBeGreaterThan(1);
    } finally {
      await s.close();
    }
  });
});
