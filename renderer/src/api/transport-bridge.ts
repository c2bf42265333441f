// Desktop: the Electron preload exposes window.qlabBridge; calls and events go through it unchanged.
import type { LabApi, LabEvent } from '../../../core/api/lab-api';
import { createLabApi, isLabEvent } from './client';

export interface QlabBridge {
  invoke(method: string, arg: unknown): Promise<unknown>;
  onEvent(cb: (event: unknown) => void): () => void;
}

export function isQlabBridge(x: unknown): x is QlabBridge {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as QlabBridge).invoke === 'function' &&
    typeof (x as QlabBridge).onEvent === 'function'
  );
}

export function createBridgeLabApi(bridge: QlabBridge): LabApi {
  return createLabApi(
    (method, arg) => bridge.invoke(method, arg),
    (listener: (e: LabEvent) => void) =>
      bridge.onEvent((e) => {
        if (isLabEvent(e)) listener(e);
      }),
  );
}
