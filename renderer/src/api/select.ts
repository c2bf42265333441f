// Chosen once at start-up: the preload bridge when the page runs inside Electron, else HTTP to the origin.
import type { LabApi } from '../../../core/api/lab-api';
import { createBridgeLabApi, isQlabBridge } from './transport-bridge';
import { createHttpLabApi } from './transport-http';

export interface StartupEnv {
  qlabBridge?: unknown;
  location: { search: string; origin: string };
}

export function selectLabApi(env: StartupEnv): { api: LabApi; transport: 'bridge' | 'http' } {
  if (isQlabBridge(env.qlabBridge)) return { api: createBridgeLabApi(env.qlabBridge), transport: 'bridge' };
  const token = new URLSearchParams(env.location.search).get('token');
  return { api: createHttpLabApi({ baseUrl: env.location.origin, token }), transport: 'http' };
}
