// Browser mode: POST /api/<method> with the method's single JSON argument, events over SSE at /api/events.
import type { LabApi, LabApiMethod, LabEvent } from '../../../core/api/lab-api';
import { LabError } from '../../../core/api/lab-types';
import { createLabApi, isLabEvent, toLabError } from './client';

/** The part of EventSource this transport uses (so tests can pass a fake). */
export interface EventSourceLike {
  onmessage: ((ev: { data: string }) => void) | null;
  close(): void;
}

export interface HttpTransportOptions {
  /** Origin plus path prefix, e.g. "http://127.0.0.1:4100" or "" for same-origin. */
  baseUrl: string;
  token?: string | null;
  fetch?: typeof fetch;
  eventSource?: (url: string) => EventSourceLike;
}

/** Turns one HTTP response into the value or a LabError naming what went wrong. */
export async function readApiResponse(method: string, res: Response): Promise<unknown> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new LabError(
      'internal',
      `${method}: HTTP ${res.status} with a non-JSON body: ${text.slice(0, 200)}`,
    );
  }
  if (typeof body === 'object' && body !== null && 'ok' in body) {
    const b = body as { ok: unknown; value?: unknown; error?: unknown };
    if (b.ok === true && res.ok) return b.value;
    if (b.ok === false && b.error !== undefined) throw toLabError(b.error);
  }
  throw new LabError('internal', `${method}: HTTP ${res.status} with an unexpected body`);
}

export function createHttpLabApi(opts: HttpTransportOptions): LabApi {
  const doFetch = opts.fetch ?? ((input, init) => fetch(input, init));
  const token = opts.token ?? null;
  const base = opts.baseUrl.replace(/\/$/, '');

  const call = async (method: LabApiMethod, arg: unknown): Promise<unknown> => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await doFetch(`${base}/api/${method}`, { method: 'POST', headers, body: JSON.stringify(arg) });
    } catch (err) {
      throw new LabError('internal', `${method}: the lab server cannot be reached (${String(err)})`);
    }
    return readApiResponse(method, res);
  };

  // One EventSource shared by all listeners, opened on the first and closed after the last.
  const listeners = new Set<(e: LabEvent) => void>();
  let source: EventSourceLike | null = null;
  const openSource = (): EventSourceLike => {
    const url = `${base}/api/events${token ? `?token=${encodeURIComponent(token)}` : ''}`;
    const es = opts.eventSource
      ? opts.eventSource(url)
      : (new EventSource(url) as unknown as EventSourceLike);
    es.onmessage = (ev) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(ev.data);
      } catch {
        return; // keep-alive comments or a garbled line: nothing to deliver
      }
      if (!isLabEvent(parsed)) return;
      for (const l of [...listeners]) l(parsed);
    };
    return es;
  };
  const subscribe = (listener: (e: LabEvent) => void): (() => void) => {
    listeners.add(listener);
    source ??= openSource();
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && source) {
        source.close();
        source = null;
      }
    };
  };

  return createLabApi(call, subscribe);
}
