// When the cpu simulator's synchronous calls run on worker threads (isomorphic: the Node-only pool, sync-pool.ts,
// is loaded on demand). A synchronous call cannot load that pool: import() is async, a static import would put
// node: modules into the renderer's graph, and a require() (createRequire, process.getBuiltinModule) would have to
// find the built worker entry's file and, under vitest, load TypeScript. So prepare() starts it
// (import('./threads'), as the async pool), and the first synchronous call that wants threads starts it in the
// background: calls before it is ready run in the calling thread with the same numbers (a threaded call computes
// exactly what a single-threaded one does) and say so in fallbackReason.
import { GRAD_CHUNK } from './engine';
import type { Program } from './program';
import type { SyncRowPool } from './sync-pool';

export interface SyncThreads {
  /** Starts the workers (threads − 1 beside the calling thread); resolves when they are ready or have failed. */
  prepare(): Promise<void>;
  /** The pool for a call of `batch` rows, or null to run it in the calling thread. */
  poolFor(prog: Program, batch: number): SyncRowPool | null;
  /** Why a call of `batch` rows that wanted threads ran in the calling thread. */
  reason(prog: Program, batch: number): string | undefined;
  close(): void;
}

export function syncThreads(threads: number): SyncThreads {
  let pool: SyncRowPool | null = null;
  let start: Promise<void> | null = null;
  let failure: string | null = null;
  let closed = false;
  const wanted = (batch: number): boolean => threads > 1 && batch >= 2 * GRAD_CHUNK;
  const prepare = (): Promise<void> => {
    if (threads <= 1 || closed) return Promise.resolve();
    start ??= import('./threads')
      .then((m) => m.createSyncRowPool(threads - 1))
      .then(
        (p) => {
          if (closed) p.close();
          else pool = p;
        },
        (e: unknown) => {
          failure = `worker threads unavailable: ${e instanceof Error ? e.message : String(e)}`;
        },
      );
    return start;
  };
  return {
    prepare,
    poolFor(prog, batch) {
      if (!wanted(batch)) return null;
      if (!pool) void prepare();
      return pool && pool.unusable(prog, batch) === null ? pool : null;
    },
    reason(prog, batch) {
      if (!wanted(batch)) return undefined;
      if (failure) return failure;
      if (closed) return 'the simulator was disposed';
      if (!pool) return 'worker threads still starting (await prepareSync() to use them from the first call)';
      return pool.unusable(prog, batch) ?? undefined;
    },
    close() {
      closed = true;
      pool?.close();
      pool = null;
    },
  };
}
