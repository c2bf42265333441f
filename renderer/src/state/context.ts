// The app's shared objects, handed to every screen through one typed Svelte context.
import { getContext, setContext } from 'svelte';
import type { LabApi } from '../../../core/api/lab-api';
import type { Router } from './router.svelte';
import type { RunsState } from './runs.svelte';

export interface LabContext {
  api: LabApi;
  router: Router;
  runs: RunsState;
}

const KEY = Symbol('qlab');

export function setLabContext(ctx: LabContext): void {
  setContext(KEY, ctx);
}

export function getLabContext(): LabContext {
  const ctx = getContext<LabContext | undefined>(KEY);
  if (!ctx) throw new Error('getLabContext: called outside the App component tree');
  return ctx;
}
