// Node-only: worker threads for the synchronous simulator calls, the way core/nn/matmul-threads.ts serves matmuls.
// Started once (asynchronously: the workers report ready by message before they go to sleep); after that a call
// writes its operands into shared memory (shared-rows.ts), wakes the workers, runs its own share of rows in the
// calling thread with the same row drivers, and Atomics.wait()s for the rest. A circuit reaches the workers as
// bytes in shared memory the first time it runs after another one; each worker compiles it once and keeps it.
import { serialize } from 'node:v8';
import type { Worker } from 'node:worker_threads';
import type { BatchRequest, Precision } from '../backend';
import type { Circuit } from '../circuit';
import { GRAD_CHUNK } from './engine';
import type { Program } from './program';
import { expvalRows, vjpRows, type RowsOut, type RowsResult, type VjpRows } from './run';
import * as S from './shared-rows';

/** Rows [r0, r1), chunk-aligned, in row order; the first range runs in the calling thread. */
export type RowRange = [r0: number, r1: number];

export interface SyncRowPool {
  /** Worker threads beside the calling thread. */
  readonly size: number;
  /** Why a call of `batch` rows cannot run on the pool (a dead worker, or beyond the shared arena), or null. */
  unusable(prog: Program, batch: number): string | null;
  /**
   * Parts in range order; the workers' parts are views of shared memory, valid until the next call. `own`: where
   * the calling thread writes its own share's results (the caller's arrays), else fresh arrays.
   */
  expval(
    prog: Program,
    precision: Precision,
    req: BatchRequest,
    ranges: RowRange[],
    own?: RowsOut,
  ): RowsResult[];
  vjp(
    prog: Program,
    precision: Precision,
    req: BatchRequest,
    g: ArrayLike<number>,
    ranges: RowRange[],
    own?: RowsOut,
  ): VjpRows[];
  close(): void;
}

interface GrowableSab extends SharedArrayBuffer {
  grow(byteLength: number): void;
}
// lib ES2023 does not declare growable SharedArrayBuffers (V8 has them since Node 20)
const Growable = SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => GrowableSab;
/** Virtual address space reserved for the arena; only what a call needs is committed. */
const ARENA_MAX = 2 ** 32;
const BYTES_MAX = 2 ** 26;

function copyRows(dst: Float64Array, at: number, src: ArrayLike<number>, from: number, to: number): void {
  if (ArrayBuffer.isView(src)) dst.set((src as Float64Array).subarray(from, to), at);
  else for (let i = from; i < to; i++) dst[at + i - from] = src[i];
}

/** Spawns `size` workers with `spawn` (threads.ts: its own entry file, under tsx from source) and waits until ready. */
/** Slices of the caller's wait for a worker, ms: between slices it checks how long the worker has been silent. */
const WAIT_SLICE_MS = 100;
/** A worker silent this long past the caller's own share (and STALL_FACTOR times it) is taken for dead. */
const STALL_MIN_MS = 10_000;
const STALL_FACTOR = 20;

export interface SyncRowPoolOptions {
  /** The least time a worker may stay silent after the caller finished its own share (default 10 s). */
  stallMs?: number;
}

export async function startSyncRowPool(
  size: number,
  spawn: (data: S.SyncWorkerData) => Worker,
  opts: SyncRowPoolOptions = {},
): Promise<SyncRowPool> {
  const stallMs = opts.stallMs ?? STALL_MIN_MS;
  const arena = new Growable(0, { maxByteLength: ARENA_MAX });
  const bytes = new Growable(0, { maxByteLength: BYTES_MAX });
  const job = new Int32Array(new SharedArrayBuffer(S.JOB_INTS * 4));
  const ctrls = Array.from({ length: size }, () => new Int32Array(new SharedArrayBuffer(S.CTRL_INTS * 4)));
  const workers = ctrls.map((ctrl) => spawn({ kind: 'sync-rows', ctrl, job, arena, bytes }));
  // a worker that dies while the calling thread is idle turns the pool off; one dying during a call is noticed by
  // its silence (the calling thread is blocked in Atomics.wait, where no event arrives): see join
  let broken: string | null = null;
  for (const w of workers) {
    w.on('error', (e) => (broken ??= `a worker thread failed: ${e.message}`));
    w.on('exit', (code) => (broken ??= `a worker thread exited (code ${code})`));
  }
  const ready = (w: Worker): Promise<void> =>
    new Promise((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
      w.once('exit', (code) =>
        reject(new Error(`a worker thread exited with code ${code} before it was ready`)),
      );
    });
  try {
    await Promise.all(workers.map(ready));
  } catch (e) {
    for (const w of workers) void w.terminate();
    throw e;
  }
  // a worker asleep in Atomics.wait must not keep the process alive
  for (const w of workers) w.unref();

  const keys = new WeakMap<Circuit, { key: number; bytes: Uint8Array }>();
  let nextKey = 1;
  let arenaView = new Float64Array(arena);
  const place = (req: BatchRequest, prog: Program, precision: Precision): S.ArenaLayout => {
    const L = S.arenaLayout(prog, req.batch);
    if (arena.byteLength < L.total * 8) {
      // grow by at least a quarter so a batch creeping upward does not grow the arena on every call
      arena.grow(Math.min(ARENA_MAX, Math.max(L.total * 8, Math.ceil((arena.byteLength * 1.25) / 8) * 8)));
      arenaView = new Float64Array(arena);
    }
    let enc = keys.get(req.circuit);
    if (!enc) keys.set(req.circuit, (enc = { key: nextKey++, bytes: serialize(req.circuit) }));
    if (job[S.J_KEY] !== enc.key) {
      if (bytes.byteLength < enc.bytes.length) bytes.grow(enc.bytes.length);
      new Uint8Array(bytes).set(enc.bytes);
      job[S.J_KEY] = enc.key;
      job[S.J_BYTES] = enc.bytes.length;
    }
    job[S.J_BATCH] = req.batch;
    job[S.J_F64] = precision === 'f64' ? 1 : 0;
    copyRows(arenaView, L.params, req.params, 0, prog.numParams);
    return L;
  };
  const post = (t: number, op: number, [r0, r1]: RowRange): void => {
    const c = ctrls[t];
    c[S.C_OP] = op;
    c[S.C_R0] = r0;
    c[S.C_R1] = r1;
    Atomics.store(c, S.C_DONE, 0);
    Atomics.add(c, S.C_SEQ, 1);
    Atomics.notify(c, S.C_SEQ);
  };
  /**
   * Waits for the first n workers; throws the first failure once all are done (none still writes the arena). A
   * worker silent for max(stallMs, STALL_FACTOR × the caller's own share) after the caller's share ended is taken
   * for dead (terminated, crashed, out of memory): the call throws and the pool turns itself off, so later calls
   * run on the calling thread instead of waiting for ever.
   */
  const join = (n: number, ownMs: number): void => {
    let failure: string | null = null;
    const since = performance.now();
    const limit = Math.max(stallMs, STALL_FACTOR * ownMs);
    for (let t = 0; t < n; t++) {
      const c = ctrls[t];
      while (Atomics.load(c, S.C_DONE) === 0) {
        Atomics.wait(c, S.C_DONE, 0, WAIT_SLICE_MS);
        if (Atomics.load(c, S.C_DONE) === 0 && performance.now() - since > limit) {
          broken ??= `worker thread ${t} gave no result for ${Math.round(limit)} ms (it died or was starved)`;
          throw new Error(`worker thread ${t}: no result after ${Math.round(limit)} ms; the pool is off`);
        }
      }
      if (c[S.C_DONE] === S.DONE_FAILED && failure === null)
        failure = String.fromCharCode(...c.subarray(S.C_ERR, S.C_ERR + c[S.C_ERRLEN]));
    }
    if (failure !== null) throw new Error(`worker thread: ${failure}`);
  };
  /** Posts ranges[1…] to the workers, runs ranges[0] here, then waits for them. */
  const run = <T>(op: number, ranges: RowRange[], own: () => T): T => {
    if (ranges.length - 1 > size) throw new Error(`ranges: at most ${size + 1}, got ${ranges.length}`);
    for (let t = 1; t < ranges.length; t++) post(t - 1, op, ranges[t]);
    let mine: T;
    const t0 = performance.now();
    try {
      mine = own();
    } finally {
      join(ranges.length - 1, performance.now() - t0);
    }
    return mine;
  };
  const rowsOf = (L: S.ArenaLayout, prog: Program, [r0, r1]: RowRange): RowsResult => {
    const [no, na] = [prog.observables.length, prog.numAmp];
    return {
      expvals: arenaView.subarray(L.expvals + r0 * no, L.expvals + r1 * no),
      norms: arenaView.subarray(L.norms + r0 * na, L.norms + r1 * na),
    };
  };

  return {
    size,
    unusable: (prog, batch) =>
      broken ??
      (S.arenaLayout(prog, batch).total * 8 > ARENA_MAX
        ? `a batch of ${batch} rows needs more than the ${ARENA_MAX / 2 ** 30} GiB of shared memory`
        : null),
    expval(prog, precision, req, ranges, ownOut) {
      const L = place(req, prog, precision);
      const r1 = ranges[0][1];
      copyRows(
        arenaView,
        L.inputs + r1 * prog.numInputs,
        req.inputs,
        r1 * prog.numInputs,
        req.batch * prog.numInputs,
      );
      const own = run(S.OP_EXPVAL, ranges, () =>
        expvalRows(prog, precision, req.params, req.inputs, 0, r1, ownOut),
      );
      return [own, ...ranges.slice(1).map((r) => rowsOf(L, prog, r))];
    },
    vjp(prog, precision, req, g, ranges, ownOut) {
      const L = place(req, prog, precision);
      const [ni, no, np] = [prog.numInputs, prog.observables.length, prog.numParams];
      const r1 = ranges[0][1];
      copyRows(arenaView, L.inputs + r1 * ni, req.inputs, r1 * ni, req.batch * ni);
      copyRows(arenaView, L.g + r1 * no, g, r1 * no, req.batch * no);
      const own = run(S.OP_VJP, ranges, () =>
        vjpRows(prog, precision, req.params, req.inputs, g, 0, r1, ownOut),
      );
      return [
        own,
        ...ranges.slice(1).map(([a, b]): VjpRows => {
          const c0 = L.dParamChunks + (a / GRAD_CHUNK) * np;
          return {
            ...rowsOf(L, prog, [a, b]),
            dInputs: arenaView.subarray(L.dInputs + a * ni, L.dInputs + b * ni),
            dParamChunks: arenaView.subarray(c0, c0 + Math.ceil((b - a) / GRAD_CHUNK) * np),
          };
        }),
      ];
    },
    close() {
      broken = 'closed';
      for (let t = 0; t < size; t++) post(t, S.OP_QUIT, [0, 0]);
      for (const w of workers) void w.terminate();
    },
  };
}
