// The desktop transport of the LabApi, main side: one ipcMain.handle channel per allow-listed method,
// every call checked (sender, argument count, argument schema) before the service sees it, and lab events
// pushed to the window. Errors return as values because Electron strips custom fields from thrown errors.
import { LAB_API_METHODS, type LabApi, type LabEvent } from '../../core/api/lab-api';
import { dispatch, type DispatchResult } from '../../core/cli/dispatch';
import { RUN_WATCH_MS, withRunWatch } from '../../core/lab/run-watch';

/** Invoke channels are `qlab:<method>`; the preload builds the same names from the same allow-list. */
export const INVOKE_CHANNEL_PREFIX = 'qlab:';
export const EVENT_CHANNEL = 'qlab:event';

export interface InvokeEventLike {
  readonly senderFrame: { readonly url: string } | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export function invokeChannel(method: string): string {
  return `${INVOKE_CHANNEL_PREFIX}${method}`;
}

/**
 * Registers the handlers; `isTrustedUrl` decides whether the calling frame is our own page.
 * Returns a function that removes them again.
 */
export function registerLabIpc(
  ipc: IpcMainLike,
  api: LabApi,
  isTrustedUrl: (url: string) => boolean,
): () => void {
  for (const method of LAB_API_METHODS) {
    ipc.handle(invokeChannel(method), async (event, ...args): Promise<DispatchResult> => {
      const url = event.senderFrame?.url ?? '';
      if (!isTrustedUrl(url)) {
        return {
          ok: false,
          error: { code: 'invalid', message: 'calls are accepted from the app window only', field: 'sender' },
        };
      }
      if (args.length > 1) {
        return {
          ok: false,
          error: { code: 'invalid', message: `${method} takes one argument`, field: 'arg' },
        };
      }
      return dispatch(api, method, args[0]);
    });
  }
  return () => {
    for (const method of LAB_API_METHODS) ipc.removeHandler(invokeChannel(method));
  };
}

export interface EventTarget {
  isDestroyed(): boolean;
  send(channel: string, event: LabEvent): void;
}

/** Forwards every lab event to the window while it lives; returns the unsubscribe function. */
export function forwardLabEvents(api: LabApi, target: EventTarget): () => void {
  const unsubscribe = api.onEvent((ev) => {
    if (target.isDestroyed()) unsubscribe();
    else target.send(EVENT_CHANNEL, ev);
  });
  return unsubscribe;
}

/**
 * The whole desktop transport for one window: the lab wrapped in the run watch (runs that `qlab run
 * --detach` or a `qlab serve` on the same lab directory write reach the window within a second, as in
 * browser mode), its methods on IPC and its events forwarded. Returns the function that undoes all three.
 */
export function connectLabWindow(
  ipc: IpcMainLike,
  lab: LabApi,
  target: EventTarget,
  isTrustedUrl: (url: string) => boolean,
  watchEveryMs = RUN_WATCH_MS,
): () => void {
  const watched = withRunWatch(lab, watchEveryMs);
  const unregister = registerLabIpc(ipc, watched, isTrustedUrl);
  const stopEvents = forwardLabEvents(watched, target);
  return () => {
    stopEvents();
    watched.stopWatch();
    unregister();
  };
}
