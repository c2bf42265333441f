// Node-only: runs large Float32 products on worker_threads over shared memory, keeping the matmul API
// synchronous (the calling thread computes its own share of rows, then Atomics.wait()s for the workers).
// With the wasm kernel, every worker instantiates the same module over the engine's shared WebAssembly.Memory
// and sleeps in Atomics.wait on its control block; a product is an op code and its integer arguments written
// there (no message, no copy). The same workers run the row kernels of rows.ts (SwiGLU, softmax cross-entropy,
// Adam) on shared arrays: the arrays arrive on a MessageChannel the worker drains synchronously when woken with
// op 3, and it runs its share of the kernel, compiled from rows.ts's own source. Without it, the JS kernel runs in the workers on SharedArrayBuffer operands (copied into
// shared scratch first when they are not shared already), one postMessage per product.
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import {
  gemmBlockedRows,
  matmulKernel,
  setParallelGemm,
  setParallelWasmGemm,
  type StridedGemm,
  type WasmParallelBatched,
  type WasmParallelGemm,
} from './matmul';
import { ROW_KERNELS, setRowsExecutor, type RowsExecutor } from './rows';
import { MAX_THREADS, wasmGemm } from './wasm/gemm';

/** Loads a thread spins on the control block before it sleeps (about 20–50 µs). */
const SPIN = 4000;
/** The spin of workers started from now on and of the caller's joins (matmulPoolTesting.setSpin). */
let spin = SPIN;
/** Control block: 32 words of job, [32] failure code, [33] message length, [34] tasks begun, then the message. */
const MSG_AT = 40;
const MSG_UNITS = 1024;
const CTRL_WORDS = MSG_AT + MSG_UNITS / 2;
/** The caller waits for a worker in slices this long, checking its liveness between them. */
const WAIT_SLICE_MS = 100;
/**
 * A worker that has not finished its share this long after the caller finished its own (and at least
 * STALL_SHARE_FACTOR times the caller's own share time) is taken for dead: a thread stopped by terminate() or
 * killed runs no JavaScript to say so, and its 'exit' event cannot arrive while the caller is blocked.
 */
let stallMs = 10_000;
const STALL_SHARE_FACTOR = 20;

// The worker runs this copy of gemmBlockedRows (kept as plain JS so it loads without a TypeScript loader or
// bundler); test/unit/nn/matmul.test.ts checks the threaded products against the naive reference.
const WORKER_SRC = `
const { parentPort, receiveMessageOnPort } = require('node:worker_threads');
const KERNELS = [${ROW_KERNELS.map(String).join(',\n')}];
const KC = 256, NC = 256;
const Ap = new Float32Array(4 * KC), Bp = new Float32Array(NC * KC), tile = new Float64Array(16);
function view(d) { return new Float32Array(d.buf, d.off, d.len); }
// a failure is reported in the control block: [32] 1 (threw) or 2 (the thread is exiting), [33] the message's
// length and its UTF-16 units from word ${MSG_AT}; then the done flag is set as for a result, so the caller wakes
let lastCtrl = null, wasmWorker = false;
function report(c, code, e) {
  const text = String((e && e.stack) || e).slice(0, ${MSG_UNITS});
  const u = new Uint16Array(c.buffer, ${MSG_AT} * 4, ${MSG_UNITS});
  for (let i = 0; i < text.length; i++) u[i] = text.charCodeAt(i);
  Atomics.store(c, 33, text.length);
  Atomics.store(c, 32, code);
  if (wasmWorker) { Atomics.store(c, 1, 1); Atomics.notify(c, 1); }
  else { Atomics.store(c, 0, 1); Atomics.notify(c, 0); }
}
process.on('exit', (code) => { if (lastCtrl) report(lastCtrl, 2, 'the worker thread exited (code ' + code + ')'); });
function rows(out, a, b, N, K, acc, aRs, aKs, bCs, bKs, m0, m1) {
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc), npan = (nc + 3) >> 2;
    for (let kc = 0; kc < K; kc += KC) {
      const kl = Math.min(KC, K - kc), first = kc === 0 && !acc;
      for (let p = 0; p < npan; p++) {
        const base = p * kl * 4;
        for (let jj = 0; jj < 4; jj++) {
          const j = jc + p * 4 + jj;
          if (j < N) { let s = j * bCs + kc * bKs; for (let kk = 0; kk < kl; kk++, s += bKs) Bp[base + kk * 4 + jj] = b[s]; }
          else for (let kk = 0; kk < kl; kk++) Bp[base + kk * 4 + jj] = 0;
        }
      }
      for (let i = m0; i < m1; i += 4) {
        const mr = Math.min(4, m1 - i);
        for (let ii = 0; ii < 4; ii++) {
          if (ii < mr) { let s = (i + ii) * aRs + kc * aKs; for (let kk = 0; kk < kl; kk++, s += aKs) Ap[kk * 4 + ii] = a[s]; }
          else for (let kk = 0; kk < kl; kk++) Ap[kk * 4 + ii] = 0;
        }
        for (let p = 0; p < npan; p++) {
          let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
          let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
          let pa = 0, pb = p * kl * 4;
          for (let kk = 0; kk < kl; kk++) {
            const a0 = Ap[pa], a1 = Ap[pa + 1], a2 = Ap[pa + 2], a3 = Ap[pa + 3];
            const b0 = Bp[pb], b1 = Bp[pb + 1], b2 = Bp[pb + 2], b3 = Bp[pb + 3];
            c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
            c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
            c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
            c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            pa += 4; pb += 4;
          }
          const j = jc + p * 4, nr = Math.min(4, N - j);
          tile[0] = c00; tile[1] = c01; tile[2] = c02; tile[3] = c03; tile[4] = c10; tile[5] = c11; tile[6] = c12; tile[7] = c13;
          tile[8] = c20; tile[9] = c21; tile[10] = c22; tile[11] = c23; tile[12] = c30; tile[13] = c31; tile[14] = c32; tile[15] = c33;
          for (let ii = 0; ii < mr; ii++) for (let jj = 0; jj < nr; jj++) {
            const o = (i + ii) * N + j + jj, v = tile[ii * 4 + jj];
            out[o] = first ? v : out[o] + v;
          }
        }
      }
    }
  }
  if (K === 0 && !acc) for (let i = m0 * N; i < m1 * N; i++) out[i] = 0;
}
parentPort.on('message', (m) => {
  if (m.wasm) {
    // control block: [0] sequence number, [1] done flag, [2] op (1 gemm, 2 batched, 3 row kernel, -1 quit),
    // [3…] its arguments; a row kernel's arrays and scalars wait on m.port. [30] is 1 while this worker sleeps
    // and [31] while the caller sleeps on [1]: each side wakes the other (a futex call) only then, since a
    // thread spins for the next job or the result for up to ${SPIN} loads first (the gaps between a step's
    // products are mostly shorter than a sleep and a wake)
    const c = m.ctrl;
    lastCtrl = c;
    wasmWorker = true;
    let ex = null, startError = null; // a module that fails to instantiate is reported with the first task
    try {
      ex = new WebAssembly.Instance(m.module, { env: { mem: m.memory } }).exports;
    } catch (e) {
      startError = e;
    }
    let seen = 0;
    for (;;) {
      for (let i = 0; i < m.spin && Atomics.load(c, 0) === seen; i++);
      // a wake-up is no job by itself: the caller's notify for a job this worker already took (it saw the new
      // sequence number between the caller's add and notify and ran it) can arrive once it sleeps for the next
      // one, so the sequence number is checked again after every wait
      while (Atomics.load(c, 0) === seen) {
        Atomics.store(c, 30, 1);
        Atomics.wait(c, 0, seen);
        Atomics.store(c, 30, 0);
      }
      seen = Atomics.load(c, 0);
      const op = c[2];
      if (op === -1) { lastCtrl = null; break; }
      Atomics.add(c, 34, 1); // tasks begun: the caller's liveness check reads it
      try {
        if (op === 3) {
          const r = receiveMessageOnPort(m.port).message;
          KERNELS[r.k](r.a, r.s, r.t, r.nt, r.w ? ex : null);
        } else if (ex === null) throw startError;
        else if (op === 1) ex.gemm(c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15]);
        else if (op === 2) ex.batched(c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[14],
          c[15], c[16], c[17], c[18], c[19], c[20], c[21]);
      } catch (e) {
        report(c, 1, e);
        continue;
      }
      Atomics.store(c, 1, 1);
      if (Atomics.load(c, 31) === 1) Atomics.notify(c, 1);
    }
    parentPort.close();
    return;
  }
  lastCtrl = m.ctrl;
  Atomics.add(m.ctrl, 34, 1);
  try {
    rows(view(m.out), view(m.a), view(m.b), m.N, m.K, m.acc, m.aRs, m.aKs, m.bCs, m.bKs, m.m0, m.m1);
  } catch (e) {
    report(m.ctrl, 1, e);
    return;
  }
  Atomics.store(m.ctrl, 0, 1);
  Atomics.notify(m.ctrl, 0);
});
`;

interface Desc {
  buf: SharedArrayBuffer;
  off: number;
  len: number;
}

/** Products with fewer multiply-adds than this stay on the calling thread (message latency would dominate). */
export const PARALLEL_MIN_MACS = 1 << 22;

let workers: Worker[] = [];
let ctrls: Int32Array[] = [];
let ports: MessagePort[] = [];
/** Set by a worker's 'exit' or 'error' event between calls: the pool is stopped at the next call. */
let brokenBetweenCalls: string | null = null;
/** Why the pool was stopped, for the error log and tests; null while it has not failed. */
let poolFailure: string | null = null;
let stopping = false;
const scratch: Record<'a' | 'b' | 'out', Float32Array> = {
  a: new Float32Array(new SharedArrayBuffer(4)),
  b: new Float32Array(new SharedArrayBuffer(4)),
  out: new Float32Array(new SharedArrayBuffer(4)),
};

function shared(x: Float32Array, slot: 'a' | 'b' | 'out', copyIn: boolean): Float32Array {
  if (x.buffer instanceof SharedArrayBuffer) return x;
  if (scratch[slot].length < x.length) scratch[slot] = new Float32Array(new SharedArrayBuffer(x.length * 4));
  const s = scratch[slot].subarray(0, x.length);
  if (copyIn) s.set(x);
  return s;
}

function desc(x: Float32Array): Desc {
  return { buf: x.buffer as SharedArrayBuffer, off: x.byteOffset, len: x.length };
}

/** Stops the pool after a failure: later products and row kernels run on the calling thread. */
function breakPool(why: string): void {
  poolFailure = why;
  stopWorkers();
  setParallelGemm(null);
  setParallelWasmGemm(null, null);
  setRowsExecutor(null);
}

/** False (run on the calling thread) when a worker died between calls; the pool is stopped then. */
function poolUsable(): boolean {
  if (workers.length === 0) return false;
  if (brokenBetweenCalls === null) return true;
  breakPool(brokenBetweenCalls);
  process.emitWarning(`matmul pool stopped (${brokenBetweenCalls}); products run on one thread`);
  return false;
}

function failure(t: number, kernel: string, what: string): never {
  const why = `worker ${t + 1} ${what} in ${kernel}`;
  breakPool(why);
  throw new Error(
    `matmul pool: ${why}; the pool is stopped and products run on the calling thread from now on`,
  );
}

/** The failure a worker wrote into its control block, or null. */
function reported(c: Int32Array): string | null {
  const code = Atomics.load(c, 32);
  if (code === 0) return null;
  const n = Atomics.load(c, 33);
  const u = new Uint16Array(c.buffer, MSG_AT * 4, MSG_UNITS);
  let text = '';
  for (let i = 0; i < n; i++) text += String.fromCharCode(u[i]);
  return (code === 2 ? 'exited: ' : 'threw: ') + text;
}

/**
 * Waits until word `at` of worker t's control block leaves 0 (its done flag), in slices of WAIT_SLICE_MS; the
 * worker's reported failure, or no result within the stall limit, ends in failure() (the pool is stopped).
 */
function awaitWorker(t: number, at: number, kernel: string, ownMs: number): void {
  const c = ctrls[t];
  const limit = Math.max(stallMs, STALL_SHARE_FACTOR * ownMs);
  const t0 = performance.now();
  while (Atomics.load(c, at) === 0) {
    if (Atomics.wait(c, at, 0, WAIT_SLICE_MS) !== 'timed-out') continue;
    if (performance.now() - t0 > limit) {
      const begun = Atomics.load(c, 34) > 0 ? 'began tasks' : 'never began a task';
      failure(t, kernel, `gave no result within ${Math.round(limit)} ms (it ${begun}; stopped or killed?)`);
    }
  }
  const err = reported(c);
  if (err !== null) failure(t, kernel, err);
}

const run: StridedGemm = (out, a, b, M, N, K, acc, aRs, aKs, bCs, bKs) => {
  if (M * N * K < PARALLEL_MIN_MACS || M < 8 * (workers.length + 1) || !poolUsable()) return false;
  const sa = shared(a, 'a', true);
  const sb = shared(b, 'b', true);
  const so = shared(out, 'out', acc);
  const n = workers.length + 1;
  const chunk = Math.ceil(M / n / 4) * 4; // 4-row aligned so every thread runs full microkernel tiles
  const msgBase = { a: desc(sa), b: desc(sb), out: desc(so), N, K, acc, aRs, aKs, bCs, bKs };
  let used = 0;
  for (let t = 0; t < workers.length; t++) {
    const m0 = (t + 1) * chunk;
    const m1 = Math.min(M, m0 + chunk);
    if (m0 >= m1) break;
    Atomics.store(ctrls[t], 0, 0);
    workers[t].postMessage({ ...msgBase, m0, m1, ctrl: ctrls[t] });
    used++;
  }
  const t0 = performance.now();
  gemmBlockedRows(so, sa, sb, N, K, acc, aRs, aKs, bCs, bKs, 0, Math.min(M, chunk));
  const own = performance.now() - t0;
  for (let t = 0; t < used; t++) awaitWorker(t, 0, `the JS gemm (${M}×${N}×${K})`, own);
  if (so !== out) out.set(so.subarray(0, out.length));
  return true;
};

// Rows of the wasm kernel's tiles: thread shares are multiples of it so only the last share has an edge tile.
const WASM_MR = 4;
let wasmMode = false;

/** Wakes worker t with op and its arguments written into its control block. */
function post(t: number, op: number, args: number[]): void {
  const c = ctrls[t];
  c[2] = op;
  for (let i = 0; i < args.length; i++) c[3 + i] = args[i];
  Atomics.store(c, 1, 0);
  Atomics.add(c, 0, 1);
  // a sleeping worker set [30] before Atomics.wait, which returns at once if the sequence moved meanwhile
  if (Atomics.load(c, 30) === 1 || op === -1) Atomics.notify(c, 0);
}

/** Waits for workers [0, used) to finish the job posted to them; ownMs: the caller's own share's time. */
function join(used: number, kernel: string, ownMs: number): void {
  for (let t = 0; t < used; t++) {
    const c = ctrls[t];
    for (let i = 0; i < spin && Atomics.load(c, 1) === 0; i++);
    if (Atomics.load(c, 1) === 0) {
      Atomics.store(c, 31, 1);
      try {
        awaitWorker(t, 1, kernel, ownMs);
      } finally {
        Atomics.store(c, 31, 0); // (the pool may be gone by now: c is this job's block either way)
      }
    } else {
      const err = reported(c);
      if (err !== null) failure(t, kernel, err);
    }
  }
}

/**
 * Runs the caller's own share of a job posted to workers [0, used) and returns its time in ms. If it throws, the
 * workers are still waited for before the error goes on: a job left running would overlap the next one posted
 * (its done flag or failure would be taken for the next job's).
 */
function ownShare(used: number, kernel: () => string, f: () => void): number {
  const t0 = performance.now();
  try {
    f();
  } catch (e) {
    try {
      join(used, kernel(), performance.now() - t0);
    } catch {
      // a worker failed too: the pool is stopped (failure()); the caller's own error is the one to throw
    }
    throw e;
  }
  return performance.now() - t0;
}

const runWasm: WasmParallelGemm = (w, s, M, N, K, acc, aRs, aKs, bCs, bKs) => {
  if (M * N * K < PARALLEL_MIN_MACS || M < 2 * WASM_MR * (workers.length + 1) || !poolUsable()) return false;
  const n = workers.length + 1;
  const chunk = Math.ceil(M / n / WASM_MR) * WASM_MR;
  let used = 0;
  for (let t = 0; t < workers.length; t++) {
    const m0 = (t + 1) * chunk;
    const m1 = Math.min(M, m0 + chunk);
    if (m0 >= m1) break;
    post(t, 1, [s.pa, s.pb, s.pc, N, K, acc ? 1 : 0, aRs, aKs, bCs, bKs, m0, m1, w.scratch(t + 1)]);
    used++;
  }
  const kernel = () => `the wasm gemm (${M}×${N}×${K})`;
  const own = ownShare(used, kernel, () => w.run(s, N, K, acc, aRs, aKs, bCs, bKs, 0, Math.min(M, chunk), 0));
  join(used, kernel(), own);
  return true;
};

// batches split by whole output groups (cDiv products), so no two threads add into the same output
const runWasmBatched: WasmParallelBatched = (w, s, M, N, K, acc, aRs, aKs, bCs, bKs, count, bs) => {
  const units = count / bs.cDiv;
  if (count * M * N * K < PARALLEL_MIN_MACS || units < 2 || !Number.isInteger(units) || !poolUsable())
    return false;
  const per = Math.ceil(units / (workers.length + 1)) * bs.cDiv;
  const { aBS, bBS, bDiv, cBS, cDiv } = bs;
  let used = 0;
  for (let t = 0; t < workers.length; t++) {
    const z0 = (t + 1) * per;
    const z1 = Math.min(count, z0 + per);
    if (z0 >= z1) break;
    const args = [s.pa, s.pb, s.pc, N, K, acc ? 1 : 0, aRs, aKs, bCs, bKs, M, z0, z1];
    post(t, 2, [...args, aBS, bBS, bDiv, cBS, cDiv, w.scratch(t + 1)]);
    used++;
  }
  const kernel = () => `the batched wasm gemm (${count} × ${M}×${N}×${K})`;
  const own = ownShare(used, kernel, () =>
    w.runBatched(s, M, N, K, acc, aRs, aKs, bCs, bKs, 0, Math.min(count, per), bs, 0),
  );
  join(used, kernel(), own);
  return true;
};

// every thread runs its share (t of nt) of the kernel; the arrays are shared, so nothing is copied back
const runRowsOnPool: RowsExecutor = (k, a, s, w) => {
  if (!poolUsable()) return false;
  const nt = workers.length + 1;
  for (let t = 0; t < workers.length; t++) {
    // w: the worker runs the engine's kernels through its own instance of the module (same memory)
    ports[t].postMessage({ k, a, s, t: t + 1, nt, w: w !== null });
    post(t, 3, []);
  }
  const kernel = () => `row kernel ${ROW_KERNELS[k]?.name || k}`;
  const own = ownShare(workers.length, kernel, () => ROW_KERNELS[k](a, s, 0, nt, w));
  join(workers.length, kernel(), own);
  return true;
};

function stopWorkers(): void {
  stopping = true;
  brokenBetweenCalls = null;
  for (let t = 0; t < workers.length; t++) {
    if (wasmMode) {
      post(t, -1, []);
    }
    void workers[t].terminate();
  }
  for (const p of ports) p.close();
  workers = [];
  ctrls = [];
  ports = [];
  stopping = false;
}

/**
 * Uses `threads` threads in total (the caller plus threads−1 workers) for large Float32 products; 1 turns it off.
 * The wasm kernel supports up to MAX_THREADS (32) threads. The workers serve the kernel in use at this call.
 */
export function setMatmulThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`threads: must be a positive integer, got ${threads}`);
  const w = wasmGemm();
  // the pool serves the kernel chosen at this moment (setMatmulKernel before setMatmulThreads to switch)
  const wasm = w !== null && w.shared && matmulKernel() === 'wasm';
  if (wasm && threads > MAX_THREADS)
    throw new Error(`threads: the wasm matmul supports at most ${MAX_THREADS}, got ${threads}`);
  stopWorkers();
  poolFailure = null;
  wasmMode = wasm;
  for (let t = 1; t < threads; t++) {
    const worker = new Worker(WORKER_SRC, { eval: true });
    worker.unref(); // an idle pool must not keep the process alive
    // seen only between calls (a blocked caller runs no events): the next call stops the pool
    const mine = worker;
    worker.on('error', (e) => {
      if (workers.includes(mine)) brokenBetweenCalls ??= `worker ${t} failed: ${(e as Error).message}`;
    });
    worker.on('exit', (code) => {
      if (!stopping && workers.includes(mine)) brokenBetweenCalls ??= `worker ${t} exited (code ${code})`;
    });
    const ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
    if (wasm) {
      const { port1, port2 } = new MessageChannel();
      worker.postMessage({ wasm: true, module: w.module, memory: w.memory, ctrl, port: port2, spin }, [
        port2,
      ]);
      port1.unref();
      ports.push(port1);
    }
    workers.push(worker);
    ctrls.push(ctrl);
  }
  // wasm-mode workers sleep on their control block and never read messages, so the JS path stays single-threaded
  setParallelGemm(threads > 1 && !wasm ? run : null);
  setParallelWasmGemm(threads > 1 && wasm ? runWasm : null, threads > 1 && wasm ? runWasmBatched : null);
  setRowsExecutor(threads > 1 && wasm ? runRowsOnPool : null);
}

export function getMatmulThreads(): number {
  return workers.length + 1;
}

/** Why the pool stopped itself after a worker failed (then products run on one thread); null otherwise. */
export function matmulPoolFailure(): string | null {
  return poolFailure;
}

/**
 * For tests of the failure path only: the pool's workers, a setter for the stall limit (ms; returns the old
 * one), the pool's wasm gemm called directly (with staged addresses a test chooses) and a worker's control block.
 */
export const matmulPoolTesting = {
  workers: (): readonly Worker[] => workers,
  /** Sets the spin (loads before a thread sleeps) of the next setMatmulThreads's pool; returns the old one. */
  setSpin(loads: number): number {
    const old = spin;
    spin = loads;
    return old;
  },
  setStallMs(ms: number): number {
    const old = stallMs;
    stallMs = ms;
    return old;
  },
  wasmGemm: runWasm,
  /** Worker t's control block (word 0 its job sequence number, 30 set while it sleeps, 32 its failure code). */
  ctrl: (t: number): Int32Array => ctrls[t],
};
