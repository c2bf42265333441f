// Runs written by another process (`qlab run --detach`, a second `qlab serve`) reach this process's event
// listeners: the store is read every second while someone listens, and a run that is new or changed since
// the last read goes out as run-created / run-updated. Runs this process writes itself may be announced
// twice; listeners apply events idempotently.
import type { LabApi, LabEvent, RunSummary } from '../api/lab-api';

/** How often the store is read while anyone listens. */
export const RUN_WATCH_MS = 1000;
/** Newest top-level runs read per check: new runs are the newest, and running ones stay near the top. */
const WATCH_LIMIT = 200;

function fingerprint(r: RunSummary): string {
  return `${r.status}|${r.progress}|${r.finishedAt}|${r.childCount}|${r.tags.join(',')}|${r.name}`;
}

/** `api` with an onEvent that also carries the runs other processes wrote (every other member delegated). */
export function withRunWatch<T extends LabApi>(api: T, everyMs = RUN_WATCH_MS): T & { stopWatch(): void } {
  const listeners = new Set<(e: LabEvent) => void>();
  let seen: Map<string, string> | null = null;
  let timer: ReturnType<typeof setInterval> | undefined;
  let busy = false;

  const check = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const runs = await api.listRuns({ limit: WATCH_LIMIT });
      const next = new Map(runs.map((r) => [r.id, fingerprint(r)]));
      if (seen !== null)
        for (const r of runs) {
          const before = seen.get(r.id);
          if (before === next.get(r.id)) continue;
          const event: LabEvent = { type: before === undefined ? 'run-created' : 'run-updated', run: r };
          for (const l of [...listeners]) l(event);
        }
      seen = next;
    } catch {
      // a closed or busy store: the next check tries again
    } finally {
      busy = false;
    }
  };

  const onEvent = (listener: (e: LabEvent) => void): (() => void) => {
    const off = api.onEvent(listener);
    listeners.add(listener);
    if (timer === undefined) {
      void check();
      timer = setInterval(() => void check(), everyMs);
      timer.unref?.();
    }
    return () => {
      off();
      listeners.delete(listener);
      if (listeners.size === 0 && timer !== undefined) {
        clearInterval(timer);
        timer = undefined;
        seen = null;
      }
    };
  };
  const stopWatch = (): void => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };

  return new Proxy(api, {
    get(target, prop) {
      if (prop === 'onEvent') return onEvent;
      if (prop === 'stopWatch') return stopWatch;
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as T & { stopWatch(): void };
}
