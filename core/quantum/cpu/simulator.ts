// The CPU backend: hand-written typed-array kernels, row by row, optionally split over worker threads
// (Node only, loaded on demand so this module stays isomorphic). Two pools: the async calls post rows to workers
// by message (threads.ts); the synchronous calls share rows with workers over shared memory (sync-pool.ts).
import { checkBatchRequest, checkShiftedRequest, deliverVjp } from '../request';
import type {
  BackendInfo,
  BatchRequest,
  ExpvalResult,
  Precision,
  ResultBuffers,
  ShiftedRequest,
  Simulator,
  SyncSimulator,
  VjpResult,
} from '../backend';
import type { Circuit } from '../circuit';
import { GRAD_CHUNK, WASM_MIN_DIM } from './engine';
import { wasmStateFailure } from './wasm';
import { compile, type Program } from './program';
import {
  expvalRows,
  expvalShiftedRows,
  stateRows,
  vjpRows,
  type RowsOut,
  type RowsResult,
  type VjpRows,
} from './run';
import { syncThreads } from './sync-threads';

export interface CpuOptions {
  precision?: Precision;
  /**
   * Threads for batches of 2·GRAD_CHUNK rows or more; 0 or 1 runs in the calling thread. Async calls post the rows
   * to `threads` workers; synchronous calls run a share in the calling thread beside threads − 1 workers.
   */
  threads?: number;
}

/** A thread pool that runs the same row drivers in workers (core/quantum/cpu/threads.ts). */
export interface RowPool {
  readonly size: number;
  expval(
    circuit: Circuit,
    precision: Precision,
    req: BatchRequest,
    r0: number,
    r1: number,
  ): Promise<RowsResult>;
  /** Rows [r0, r1) of a shifted batch (every input row travels; shifts are sliced). */
  expvalShifted(
    circuit: Circuit,
    precision: Precision,
    req: ShiftedRequest,
    r0: number,
    r1: number,
  ): Promise<Float64Array>;
  vjp(
    circuit: Circuit,
    precision: Precision,
    req: BatchRequest,
    g: ArrayLike<number>,
    r0: number,
    r1: number,
    /** Where the worker writes ∂L/∂x of rows [r0, r1): zeros in shared memory (its result's dInputs is then this). */
    dInputs?: Float64Array,
  ): Promise<VjpRows>;
  close(): void;
}

const programs = new WeakMap<Circuit, Program>();
function programOf(c: Circuit): Program {
  let p = programs.get(c);
  if (!p) {
    p = compile(c);
    programs.set(c, p);
  }
  return p;
}

export function checkRequest(req: BatchRequest): Program {
  return programOf(checkBatchRequest(req));
}

/** Rows per worker: whole gradient chunks, at least 2 chunks per worker to be worth a message. */
function splits(batch: number, workers: number): [number, number][] {
  const chunks = Math.ceil(batch / GRAD_CHUNK);
  const per = Math.ceil(chunks / workers);
  const out: [number, number][] = [];
  for (let c = 0; c < chunks; c += per) out.push([c * GRAD_CHUNK, Math.min(batch, (c + per) * GRAD_CHUNK)]);
  return out;
}

/** Sums per-chunk ∂L/∂θ in chunk order (the same order whatever the thread split), into `dst` when given. */
function sumChunks(parts: Float64Array[], numParams: number, dst?: Float64Array): Float64Array {
  const d = dst ? dst.fill(0) : new Float64Array(numParams);
  for (const part of parts)
    for (let o = 0; o < part.length; o += numParams) for (let i = 0; i < numParams; i++) d[i] += part[o + i];
  return d;
}

function concat(parts: Float64Array[], dst?: Float64Array): Float64Array {
  if (dst) {
    // the caller's array: each part copied into its place, unless it was written there (the calling thread's own)
    let at = 0;
    for (const p of parts) {
      if (p.buffer !== dst.buffer || p.byteOffset !== dst.byteOffset + 8 * at) dst.set(p, at);
      at += p.length;
    }
    return dst;
  }
  // one part is always the calling thread's own (fresh) array, never a view of a pool's shared memory
  if (parts.length === 1) return parts[0];
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The expectation values and norms of a batch's row ranges, in order (into the caller's arrays when given). */
function joinExpvals(
  parts: { expvals: Float64Array; norms: Float64Array }[],
  out: ResultBuffers = {},
): { expvals: Float64Array; norms: Float64Array } {
  return {
    expvals: concat(
      parts.map((x) => x.expvals),
      out.expvals,
    ),
    norms: concat(
      parts.map((x) => x.norms),
      out.norms,
    ),
  };
}

/** One VJP result from the row ranges' parts (in row order): ∂θ summed per chunk in chunk order. */
function joinVjp(
  parts: VjpRows[],
  prog: Program,
  info: BackendInfo,
  out: ResultBuffers = {},
  withInputs = true,
): VjpResult {
  return {
    ...joinExpvals(parts, out),
    dParams: sumChunks(
      parts.map((x) => x.dParamChunks),
      prog.numParams,
      out.dParams,
    ),
    dInputs: withInputs
      ? concat(
          parts.map((x) => x.dInputs),
          out.dInputs,
        )
      : new Float64Array(0),
    info,
  };
}

/** The caller's result arrays for rows [0, r1) (the calling thread's share), as views. */
function headOf(
  out: ResultBuffers | undefined,
  prog: Program,
  r1: number,
  vjp: boolean,
): RowsOut | undefined {
  if (!out) return undefined;
  const [no, na, ni] = [prog.observables.length, prog.numAmp, prog.numInputs];
  return {
    expvals: out.expvals?.subarray(0, r1 * no),
    norms: out.norms?.subarray(0, r1 * na),
    ...(vjp ? { dInputs: out.dInputs?.subarray(0, r1 * ni) } : {}),
  };
}

/** Whether an array lives in shared memory (worker threads can write into it without a copy). */
function isShared(a: Float64Array | undefined): a is Float64Array {
  return typeof SharedArrayBuffer !== 'undefined' && a !== undefined && a.buffer instanceof SharedArrayBuffer;
}

/** What a circuit of `dim` amplitudes runs on here: the SIMD kernels (f32x4 or f64x2) from WASM_MIN_DIM up, else JS. */
export function cpuKernel(precision: Precision, dim: number): 'wasm-simd' | 'js' {
  return dim >= WASM_MIN_DIM && wasmStateFailure(precision) === null ? 'wasm-simd' : 'js';
}

/** The cpu backend answers both ways: async and synchronously (both with threads for big batches). */
export type CpuSimulator = Simulator & SyncSimulator & { prepareSync(): Promise<void> };

function checkDExpvals(prog: Program, batch: number, dExpvals: ArrayLike<number>): void {
  const want = batch * prog.observables.length;
  if (!dExpvals || dExpvals.length !== want)
    throw new Error(
      `dExpvals: need batch × numObservables = ${want} values, got ${dExpvals ? dExpvals.length : 'none'}`,
    );
}

export function createCpuSimulator(opts: CpuOptions = {}): CpuSimulator {
  const precision: Precision = opts.precision ?? 'f32';
  if (precision !== 'f32' && precision !== 'f64')
    throw new Error(`precision: must be "f32" or "f64", got ${JSON.stringify(precision)}`);
  const threads = opts.threads ?? 0;
  if (!Number.isInteger(threads) || threads < 0)
    throw new Error(`threads: must be a non-negative integer, got ${threads}`);
  let pool: Promise<RowPool | null> | null = null;
  let fallbackReason: string | undefined;
  const simd = wasmStateFailure(precision) === null;
  const kernel = (dim: number): string => cpuKernel(precision, dim);
  const info: BackendInfo = {
    backend: 'cpu',
    mode: threads > 1 ? `${kernel(WASM_MIN_DIM)}-threads` : kernel(WASM_MIN_DIM),
    precision,
  };
  if (threads > 1) info.threads = threads;
  if (!simd) info.fallbackReason = `WebAssembly SIMD unavailable: ${wasmStateFailure(precision)}`;

  const getPool = (): Promise<RowPool | null> => {
    pool ??= import('./threads')
      .then((m) => m.createRowPool(threads))
      .catch((e: unknown) => {
        fallbackReason = `worker threads unavailable: ${e instanceof Error ? e.message : String(e)}`;
        return null;
      });
    return pool;
  };
  const sync = syncThreads(threads);
  const usePool = async (batch: number): Promise<RowPool | null> =>
    threads > 1 && batch >= 2 * GRAD_CHUNK ? getPool() : null;
  const resultInfo = (threaded: boolean, prog: Program, threadReason?: string): BackendInfo => {
    const k = kernel(prog.dim);
    if (threaded) return { ...info, mode: `${k}-threads` };
    const reasons = [info.fallbackReason, threads > 1 ? threadReason : undefined].filter((x) => x);
    return {
      backend: 'cpu',
      mode: k,
      precision,
      ...(reasons.length ? { fallbackReason: reasons.join('; ') } : {}),
    };
  };

  return {
    info,
    async expval(req: BatchRequest): Promise<ExpvalResult> {
      const prog = checkRequest(req);
      const p = await usePool(req.batch);
      if (!p) {
        const r = expvalRows(prog, precision, req.params, req.inputs, 0, req.batch, req.out);
        return { ...r, info: resultInfo(false, prog, fallbackReason) };
      }
      const parts = await Promise.all(
        splits(req.batch, p.size).map(([a, b]) => p.expval(req.circuit, precision, req, a, b)),
      );
      return {
        ...joinExpvals(parts, req.out),
        info: resultInfo(true, prog),
      };
    },
    async expvalShifted(req: ShiftedRequest): Promise<Float64Array> {
      const prog = programOf(checkShiftedRequest(req));
      const rows = req.shifts.op.length;
      const p = await usePool(rows);
      if (!p) return expvalShiftedRows(prog, precision, req.params, req.inputs, req.shifts, 0, rows);
      const parts = await Promise.all(
        splits(rows, p.size).map(([a, b]) => p.expvalShifted(req.circuit, precision, req, a, b)),
      );
      return concat(parts);
    },
    async vjp(req: BatchRequest, dExpvals: ArrayLike<number>): Promise<VjpResult> {
      const prog = checkRequest(req);
      checkDExpvals(prog, req.batch, dExpvals);
      const p = await usePool(req.batch);
      if (!p) {
        const own = [vjpRows(prog, precision, req.params, req.inputs, dExpvals, 0, req.batch, req.out)];
        return joinVjp(own, prog, resultInfo(false, prog, fallbackReason), req.out);
      }
      // ∂L/∂x in one shared array the workers write their rows into: no copy of it to join, and its pages (each
      // mapped in by the OS on first touch, costly on these machines) are touched by the workers at once instead of
      // each worker's and then this thread's own arrays (QFFN's B=1024: 8 MB of ∂L/∂x). The caller's own array
      // when it is shared (a training loop's, reused: no fresh pages at all), else a new one copied into theirs.
      const ni = prog.numInputs;
      const given = req.out?.dInputs;
      const dInputs = isShared(given) ? given : new Float64Array(new SharedArrayBuffer(8 * req.batch * ni));
      const parts = await Promise.all(
        splits(req.batch, p.size).map(([a, b]) =>
          p.vjp(req.circuit, precision, req, dExpvals, a, b, dInputs.subarray(a * ni, b * ni)),
        ),
      );
      const info = resultInfo(true, prog, fallbackReason);
      return deliverVjp(req, { ...joinVjp(parts, prog, info, req.out, false), dInputs });
    },
    expvalSync(req: BatchRequest): ExpvalResult {
      const prog = checkRequest(req);
      const p = sync.poolFor(prog, req.batch);
      if (!p) {
        const r = expvalRows(prog, precision, req.params, req.inputs, 0, req.batch, req.out);
        return { ...r, info: resultInfo(false, prog, sync.reason(prog, req.batch)) };
      }
      const ranges = splits(req.batch, p.size + 1);
      const parts = p.expval(prog, precision, req, ranges, headOf(req.out, prog, ranges[0][1], false));
      return {
        ...joinExpvals(parts, req.out),
        info: resultInfo(true, prog),
      };
    },
    vjpSync(req: BatchRequest, dExpvals: ArrayLike<number>): VjpResult {
      const prog = checkRequest(req);
      checkDExpvals(prog, req.batch, dExpvals);
      const p = sync.poolFor(prog, req.batch);
      const ranges = p ? splits(req.batch, p.size + 1) : [];
      const parts = p
        ? p.vjp(prog, precision, req, dExpvals, ranges, headOf(req.out, prog, ranges[0][1], true))
        : [vjpRows(prog, precision, req.params, req.inputs, dExpvals, 0, req.batch, req.out)];
      const info = resultInfo(p !== null, prog, p ? undefined : sync.reason(prog, req.batch));
      return joinVjp(parts, prog, info, req.out);
    },
    prepareSync: sync.prepare,
    async probs(req: BatchRequest, wires?: number[]): Promise<Float64Array> {
      const prog = checkRequest(req);
      const w = wires ?? Array.from({ length: prog.qubits }, (_, i) => i);
      w.forEach((x, i) => {
        if (!Number.isInteger(x) || x < 0 || x >= prog.qubits)
          throw new Error(`wires[${i}]: must be a wire in [0, ${prog.qubits - 1}], got ${x}`);
      });
      if (new Set(w).size !== w.length) throw new Error('wires: must be distinct');
      return stateRows(prog, precision, req.params, req.inputs, 0, req.batch, w);
    },
    async state(req: BatchRequest): Promise<Float64Array> {
      const prog = checkRequest(req);
      return stateRows(prog, precision, req.params, req.inputs, 0, req.batch, null);
    },
    dispose(): void {
      void pool?.then((p) => p?.close());
      pool = null;
      sync.close();
    },
  };
}
