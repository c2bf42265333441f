import { describe, expect, it } from 'vitest';
import type { LabEvent } from '../../../core/api/lab-api';
import { createHttpLabApi, type EventSourceLike } from '../../../renderer/src/api/transport-http';
import { createBridgeLabApi } from '../../../renderer/src/api/transport-bridge';
import { selectLabApi } from '../../../renderer/src/api/select';
import { toLabError } from '../../../renderer/src/api/client';
import { rejection } from '../../helpers/lab-error';

type Handler = (url: string, init: RequestInit) => Response | Promise<Response>;

function fakeFetch(handler: Handler): { fetch: typeof fetch; seen: { url: string; init: RequestInit }[] } {
  const seen: { url: string; init: RequestInit }[] = [];
  const f = (async (input: string | URL | Request, init?: RequestInit) => {
    seen.push({ url: String(input), init: init ?? {} });
    return handler(String(input), init ?? {});
  }) as typeof fetch;
  return { fetch: f, seen };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('HTTP transport', () => {
  it('posts the single argument to /api/<method> with the bearer token and returns the value', async () => {
    const { fetch, seen } = fakeFetch(() => json(200, { ok: true, value: { id: 'x' } }));
    const api = createHttpLabApi({ baseUrl: 'http://h:1/', token: 'T0', fetch });
    await api.getRun('abc');
    await api.cancelRun('def');
    await api.listKinds();
    await api.listRuns();
    await api.createRun({ kind: 'k', config: { a: 1 } });
    expect(seen.map((s) => s.url)).toEqual([
      'http://h:1/api/getRun',
      'http://h:1/api/cancelRun',
      'http://h:1/api/listKinds',
      'http://h:1/api/listRuns',
      'http://h:1/api/createRun',
    ]);
    expect(seen.map((s) => JSON.parse(String(s.init.body)))).toEqual([
      { id: 'abc' },
      { id: 'def' },
      {},
      {},
      { kind: 'k', config: { a: 1 } },
    ]);
    for (const s of seen) {
      expect(s.init.method).toBe('POST');
      expect((s.init.headers as Record<string, string>).Authorization).toBe('Bearer T0');
    }
  });

  it('maps an error body to a LabError with its code and field', async () => {
    const { fetch } = fakeFetch(() =>
      json(400, {
        ok: false,
        error: { code: 'invalid', message: 'config.steps: too big', field: 'config.steps' },
      }),
    );
    const err = await rejection(
      createHttpLabApi({ baseUrl: '', fetch }).createRun({ kind: 'k', config: {} }),
    );
    expect(err.code).toBe('invalid');
    expect(err.field).toBe('config.steps');
    expect(err.message).toBe('config.steps: too big');
  });

  it('maps unknown codes, non-JSON bodies and network failures to internal errors', async () => {
    const weird = fakeFetch(() => json(500, { ok: false, error: { code: 'boom', message: 'bad' } }));
    const e1 = await rejection(createHttpLabApi({ baseUrl: '', fetch: weird.fetch }).listKinds());
    expect([e1.code, e1.message, e1.field]).toEqual(['internal', 'bad', undefined]);

    const html = fakeFetch(() => new Response('<html>Bad gateway</html>', { status: 502 }));
    const e2 = await rejection(createHttpLabApi({ baseUrl: '', fetch: html.fetch }).listKinds());
    expect(e2.code).toBe('internal');
    expect(e2.message).toMatch(/listKinds: HTTP 502 with a non-JSON body/);

    const down = fakeFetch(() => {
      throw new TypeError('fetch failed');
    });
    const e3 = await rejection(createHttpLabApi({ baseUrl: '', fetch: down.fetch }).listRuns());
    expect(e3.message).toMatch(/listRuns: the lab server cannot be reached/);

    const shapeless = fakeFetch(() => json(200, { value: 1 }));
    const e4 = await rejection(createHttpLabApi({ baseUrl: '', fetch: shapeless.fetch }).listRuns());
    expect(e4.message).toMatch(/unexpected body/);
  });

  it('delivers server-sent events to every listener, drops malformed ones, closes after the last', () => {
    const sources: (EventSourceLike & { url: string; closed: boolean })[] = [];
    const api = createHttpLabApi({
      baseUrl: 'http://h:2',
      token: 'a b',
      fetch: fakeFetch(() => json(200, { ok: true })).fetch,
      eventSource: (url) => {
        const es = {
          url,
          closed: false,
          onmessage: null,
          close() {
            es.closed = true;
          },
        };
        sources.push(es);
        return es;
      },
    });
    const got1: LabEvent[] = [];
    const got2: LabEvent[] = [];
    const off1 = api.onEvent((e) => got1.push(e));
    const off2 = api.onEvent((e) => got2.push(e));
    expect(sources).toHaveLength(1);
    expect(sources[0].url).toBe('http://h:2/api/events?token=a%20b');
    const event: LabEvent = { type: 'metrics', runId: 'r', points: [{ key: 'loss', step: 0, value: 1 }] };
    sources[0].onmessage!({ data: JSON.stringify(event) });
    sources[0].onmessage!({ data: 'not json' });
    sources[0].onmessage!({ data: JSON.stringify({ type: 'metrics' }) });
    expect(got1).toEqual([event]);
    expect(got2).toEqual([event]);
    off1();
    expect(sources[0].closed).toBe(false);
    off2();
    expect(sources[0].closed).toBe(true);
  });
});

describe('bridge transport', () => {
  it('passes calls through and maps rejections to LabError', async () => {
    const calls: [string, unknown][] = [];
    let emit: (e: unknown) => void = () => {};
    const api = createBridgeLabApi({
      invoke: async (method, arg) => {
        calls.push([method, arg]);
        if (method === 'createRun') throw { code: 'invalid', message: 'name: too long', field: 'name' };
        if (method === 'cancelRun') throw new Error('Error invoking remote method');
        return [];
      },
      onEvent: (cb) => {
        emit = cb;
        return () => {};
      },
    });
    await api.getRun('id1');
    expect(calls).toEqual([['getRun', { id: 'id1' }]]);
    const e1 = await rejection(api.createRun({ kind: 'k', config: {} }));
    expect([e1.code, e1.field]).toEqual(['invalid', 'name']);
    const e2 = await rejection(api.cancelRun('x'));
    expect([e2.code, e2.message]).toEqual(['internal', 'Error invoking remote method']);
    const seen: LabEvent[] = [];
    api.onEvent((e) => seen.push(e));
    emit({ type: 'log', runId: 'r', level: 'info', message: 'hi' });
    emit({ type: 'nonsense' });
    expect(seen).toHaveLength(1);
  });

  it('is chosen when the preload exposes qlabBridge; HTTP with the page token otherwise', () => {
    const bridge = { invoke: async () => null, onEvent: () => () => {} };
    expect(selectLabApi({ qlabBridge: bridge, location: { search: '', origin: 'x' } }).transport).toBe(
      'bridge',
    );
    expect(selectLabApi({ location: { search: '?token=t', origin: 'http://a' } }).transport).toBe('http');
    expect(toLabError('plain').message).toBe('plain');
  });
});
