// One LabApi over any request/response channel: the HTTP and preload transports differ only in how a
// (method, argument) pair travels and how events arrive, so the argument mapping and error shape live here.
import { LabError, LAB_API_METHODS } from '../../../core/api/lab-types';
import type { LabApi, LabApiMethod, LabErrorInfo, LabEvent } from '../../../core/api/lab-api';

/** Sends one call; resolves with the method's value or rejects with anything (mapped by toLabError). */
export type CallFn = (method: LabApiMethod, arg: unknown) => Promise<unknown>;
/** Subscribes to raw events; returns the unsubscribe function. */
export type SubscribeFn = (listener: (event: LabEvent) => void) => () => void;

const ERROR_CODES: readonly LabErrorInfo['code'][] = ['invalid', 'not-found', 'conflict', 'internal'];

/** Maps whatever a transport rejected with ({code,message,field}, Error, string) to a LabError. */
export function toLabError(err: unknown): LabError {
  if (err instanceof LabError) return err;
  if (typeof err === 'object' && err !== null) {
    const o = err as Record<string, unknown>;
    if (typeof o.message === 'string') {
      const code = ERROR_CODES.includes(o.code as LabErrorInfo['code'])
        ? (o.code as LabErrorInfo['code'])
        : 'internal';
      const field = typeof o.field === 'string' && o.field !== '' ? o.field : undefined;
      return new LabError(code, o.message, field);
    }
  }
  return new LabError('internal', typeof err === 'string' ? err : String(err));
}

/** The single JSON argument each method sends (getRun/cancelRun wrap the id; listKinds sends {}). */
export function requestBody(method: LabApiMethod, args: unknown[]): unknown {
  switch (method) {
    case 'listKinds':
    case 'getFileRoots':
    case 'pickFileRoot':
      return {};
    case 'getRun':
    case 'cancelRun':
      return { id: args[0] };
    case 'listRuns':
      return args[0] ?? {};
    default:
      return args[0];
  }
}

export function createLabApi(call: CallFn, subscribe: SubscribeFn): LabApi {
  const invoke = async (method: LabApiMethod, ...args: unknown[]): Promise<never> => {
    try {
      return (await call(method, requestBody(method, args))) as never;
    } catch (err) {
      throw toLabError(err);
    }
  };
  const api: Record<string, unknown> = { onEvent: subscribe };
  for (const m of LAB_API_METHODS) api[m] = (...args: unknown[]) => invoke(m, ...args);
  return api as unknown as LabApi;
}

/** Cheap structural check of an event from outside (SSE text, preload), so a malformed one is dropped. */
export function isLabEvent(x: unknown): x is LabEvent {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Record<string, unknown>;
  switch (e.type) {
    case 'run-created':
    case 'run-updated':
      return (
        typeof e.run === 'object' && e.run !== null && typeof (e.run as { id?: unknown }).id === 'string'
      );
    case 'metrics':
      return typeof e.runId === 'string' && Array.isArray(e.points);
    case 'log':
      return typeof e.runId === 'string' && typeof e.message === 'string';
    default:
      return false;
  }
}
