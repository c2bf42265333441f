// The preload bridge: exposes window.qlabBridge with invoke(method, arg) over an allow-list of LabApi
// methods and onEvent(cb). Besides 'electron' it imports only the LabApi's method names from the zod-free
// core/api/lab-types.ts, which the build bundles into this sandboxed preload (the list exists once; a unit test
// bundles this file and checks that nothing else comes with it): no fs, no child_process, no remote, and the
// renderer never touches ipcRenderer itself.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { LAB_API_METHODS } from '../../core/api/lab-types';

const METHODS: readonly string[] = LAB_API_METHODS;

const EVENT_CHANNEL = 'qlab:event';

interface ErrorInfo {
  code: string;
  message: string;
  field?: string;
}

type Reply = { ok: true; value: unknown } | { ok: false; error: ErrorInfo };

function isReply(x: unknown): x is Reply {
  return typeof x === 'object' && x !== null && typeof (x as { ok?: unknown }).ok === 'boolean';
}

const bridge = {
  /** Calls one LabApi method; rejects with {code, message, field} on any error. */
  invoke(method: string, arg?: unknown): Promise<unknown> {
    if (!METHODS.includes(method)) {
      return Promise.reject({
        code: 'invalid',
        message: `unknown method '${String(method)}'`,
        field: 'method',
      });
    }
    return ipcRenderer.invoke(`qlab:${method}`, arg).then(
      (reply: unknown) => {
        if (!isReply(reply)) throw { code: 'internal', message: 'malformed reply from the lab' };
        if (reply.ok) return reply.value;
        throw reply.error;
      },
      (err: unknown) => {
        throw { code: 'internal', message: err instanceof Error ? err.message : String(err) };
      },
    );
  },
  /** Subscribes to lab events; returns the unsubscribe function. */
  onEvent(cb: (event: unknown) => void): () => void {
    if (typeof cb !== 'function') throw new TypeError('onEvent needs a function');
    const listener = (_e: IpcRendererEvent, event: unknown): void => cb(event);
    ipcRenderer.on(EVENT_CHANNEL, listener);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, listener);
    };
  },
};

contextBridge.exposeInMainWorld('qlabBridge', bridge);
