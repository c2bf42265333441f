// Node-only: a pool of worker_threads running the same row drivers as the calling thread on
// contiguous, chunk-aligned row ranges, answering by message (the async simulator calls); and the start of the
// synchronous pool over shared memory (sync-pool.ts). This one file is both the pools' start and the worker entry.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { startThread } from '../../util/thread';
import type { AngleShifts, Precision } from '../backend';
import { observablesOf, type Circuit } from '../circuit';
import { compile, type Program } from './program';
import { expvalRows, expvalShiftedRows, vjpRows, type RowsResult, type VjpRows } from './run';
import { serveSyncRows, type SyncWorkerData } from './shared-rows';
import type { RowPool } from './simulator';
import { startSyncRowPool, type SyncRowPool } from './sync-pool';

interface Task {
  id: number;
  kind: 'expval' | 'vjp';
  /** The pool's number for this circuit object: the worker keeps its compiled program (and state memory) by it. */
  key: number;
  circuit: Circuit;
  precision: Precision;
  params: Float64Array;
  /** Rows [r0, r1) of x, re-based to row 0. */
  inputs: Float64Array;
  g: Float64Array | null;
  /** vjp: where to write ∂L/∂x (zeros, shared memory), else a fresh array */
  dInputs?: Float64Array;
  rows: number;
  /** A shifted batch's rows [r0, r1), re-based to row 0 (inputs then hold every input row). */
  shifts?: AngleShifts;
}

type Reply =
  | { id: number; ok: true; result: RowsResult | VjpRows | Float64Array }
  | { id: number; ok: false; message: string };

/** Compiled programs by circuit key, newest last; a few, since a job alternates between one or two circuits. */
const PROGRAMS_KEPT = 4;

/** The distinct ArrayBuffers under a result or a task's arrays, for postMessage's transfer list. */
function buffersOf(
  x: RowsResult | VjpRows | Float64Array | readonly (ArrayBufferView | null)[],
): ArrayBuffer[] {
  const views = ArrayBuffer.isView(x) ? [x] : Array.isArray(x) ? x : Object.values(x);
  const out = new Set<ArrayBuffer>();
  for (const v of views) if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) out.add(v.buffer);
  return [...out];
}

function serve(): void {
  const port = parentPort!;
  const programs = new Map<number, Program>();
  const programFor = (t: Task): Program => {
    let prog = programs.get(t.key);
    if (!prog) {
      prog = compile(t.circuit);
      programs.set(t.key, prog);
      if (programs.size > PROGRAMS_KEPT) programs.delete(programs.keys().next().value!);
    }
    return prog;
  };
  port.on('message', (t: Task) => {
    try {
      const prog = programFor(t);
      const result = t.shifts
        ? expvalShiftedRows(prog, t.precision, t.params, t.inputs, t.shifts, 0, t.rows)
        : t.kind === 'expval'
          ? expvalRows(prog, t.precision, t.params, t.inputs, 0, t.rows)
          : vjpRows(prog, t.precision, t.params, t.inputs, t.g!, 0, t.rows, { dInputs: t.dInputs });
      // the result's arrays are fresh and the worker's no longer: moved, not copied (QFFN's B=1024 ∂L/∂x is 8 MB)
      port.postMessage({ id: t.id, ok: true, result } satisfies Reply, buffersOf(result));
    } catch (e) {
      port.postMessage({
        id: t.id,
        ok: false,
        message: e instanceof Error ? e.message : String(e),
      } satisfies Reply);
    }
  });
}

if (!isMainThread && parentPort) {
  const d = workerData as SyncWorkerData | undefined;
  if (d?.kind === 'sync-rows') serveSyncRows(parentPort, d);
  else serve();
}

/**
 * Starts a worker on this file. Running from TypeScript source (tsx, vitest) the worker first
 * registers tsx's loader, since worker threads do not inherit an in-process transform.
 */
function spawn(url: URL, data?: SyncWorkerData): Worker {
  return startThread(url, data);
}

/** The synchronous pool: `size` workers beside the calling thread, on this file as the message pool's are. */
export function createSyncRowPool(size: number): Promise<SyncRowPool> {
  const url = new URL(import.meta.url);
  return startSyncRowPool(size, (data) => spawn(url, data));
}

export function createRowPool(size: number): RowPool {
  // this module's own file: the .ts source, or out/main/cpu-threads.js (its own entry in electron.vite.config.ts)
  const url = new URL(import.meta.url);
  const workers = Array.from({ length: size }, () => spawn(url));
  const pending = new Map<
    number,
    { resolve: (r: RowsResult | VjpRows | Float64Array) => void; reject: (e: Error) => void }
  >();
  // idle workers must not keep the process alive, busy ones must: an unref'd worker with a task in
  // flight let Node exit with the caller's promise unsettled (exit code 13 under top-level await)
  const setRef = (on: boolean): void => {
    for (const w of workers) {
      if (on) w.ref();
      else w.unref();
    }
  };
  for (const w of workers) {
    w.on('message', (r: Reply) => {
      const p = pending.get(r.id);
      pending.delete(r.id);
      if (pending.size === 0) setRef(false);
      if (r.ok) p?.resolve(r.result);
      else p?.reject(new Error(r.message));
    });
    w.on('error', (e) => {
      for (const p of pending.values()) p.reject(e);
      pending.clear();
      setRef(false);
    });
    w.unref();
  }
  let next = 0;
  const keys = new WeakMap<Circuit, number>();
  let nextKey = 0;
  const keyOf = (c: Circuit): number => {
    let k = keys.get(c);
    if (k === undefined) keys.set(c, (k = nextKey++));
    return k;
  };
  // x reaches a worker through shared memory the pool keeps: a buffer is taken for a task and given back when its
  // reply comes, so a training loop's calls copy x into pages mapped by earlier calls (QFFN's B=1024: 4 MB a
  // worker, ~20 ms of page faults a pass when each call's copy went into a fresh array)
  const shared = typeof SharedArrayBuffer === 'function';
  const free: SharedArrayBuffer[] = [];
  const lent = new Map<number, SharedArrayBuffer>();
  const FREE_KEPT = 2 * size + 2;
  const take = (floats: number): Float64Array => {
    let best = -1;
    for (let i = 0; i < free.length; i++)
      if (free[i].byteLength >= 8 * floats && (best < 0 || free[i].byteLength < free[best].byteLength))
        best = i;
    const sab = best >= 0 ? free.splice(best, 1)[0] : new SharedArrayBuffer(8 * floats);
    return new Float64Array(sab, 0, floats);
  };
  const giveBack = (id: number): void => {
    const sab = lent.get(id);
    if (!sab) return;
    lent.delete(id);
    free.push(sab);
    // the smallest go first: a pool that saw a big batch keeps its big buffers
    if (free.length > FREE_KEPT) free.sort((a, b) => b.byteLength - a.byteLength).pop();
  };
  const post = <T extends RowsResult | Float64Array>(task: Omit<Task, 'id'>): Promise<T> => {
    const id = next++;
    if (task.inputs.buffer instanceof SharedArrayBuffer) lent.set(id, task.inputs.buffer);
    return new Promise<T>((resolve, reject) => {
      if (pending.size === 0) setRef(true);
      pending.set(id, {
        resolve: (r) => {
          giveBack(id);
          (resolve as (r: RowsResult | VjpRows | Float64Array) => void)(r);
        },
        reject: (e) => {
          giveBack(id);
          reject(e);
        },
      });
      // params, inputs, g and shifts are this call's own copies: moved to the worker, not cloned
      const moved = [task.params, task.inputs, task.g, ...(task.shifts ? Object.values(task.shifts) : [])];
      workers[id % workers.length].postMessage({ ...task, id }, buffersOf(moved));
    });
  };
  const slice = (a: ArrayLike<number>, from: number, to: number, pooled = false): Float64Array => {
    // a plain copy loop: Float64Array.from with a map callback cost milliseconds on 2^20 inputs
    const out = pooled && shared ? take(to - from) : new Float64Array(to - from);
    if (a instanceof Float64Array) out.set(a.subarray(from, to));
    else for (let i = from; i < to; i++) out[i - from] = a[i];
    return out;
  };
  return {
    size,
    expval(circuit, precision, req, r0, r1) {
      const ni = circuit.numInputs;
      return post<RowsResult>({
        kind: 'expval',
        key: keyOf(circuit),
        circuit,
        precision,
        params: Float64Array.from(req.params),
        inputs: slice(req.inputs, r0 * ni, r1 * ni, true),
        g: null,
        rows: r1 - r0,
      });
    },
    expvalShifted(circuit, precision, req, r0, r1) {
      const sh = req.shifts;
      return post<Float64Array>({
        kind: 'expval',
        key: keyOf(circuit),
        circuit,
        precision,
        params: Float64Array.from(req.params),
        inputs: slice(req.inputs, 0, req.inputRows * circuit.numInputs, true),
        g: null,
        rows: r1 - r0,
        shifts: {
          op: sh.op.slice(r0, r1),
          arg: sh.arg.slice(r0, r1),
          delta: sh.delta.slice(r0, r1),
          inputRow: sh.inputRow.slice(r0, r1),
        },
      });
    },
    vjp(circuit, precision, req, g, r0, r1, dInputs) {
      const ni = circuit.numInputs;
      const no = observablesOf(circuit).length;
      return post<VjpRows>({
        kind: 'vjp',
        key: keyOf(circuit),
        circuit,
        precision,
        params: Float64Array.from(req.params),
        inputs: slice(req.inputs, r0 * ni, r1 * ni, true),
        g: slice(g, r0 * no, r1 * no),
        ...(dInputs ? { dInputs } : {}),
        rows: r1 - r0,
      });
    },
    close() {
      for (const w of workers) void w.terminate();
    },
  };
}
