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

// The worker runs this copy of gemmBlockedRows (kept as plain JS so it loads without a TypeScript loader or
// bundler); test/unit/nn/matmul.test.ts checks the threaded products against the naive reference.
const WORKER_SRC = `
const { parentPort, receiveMessageOnPort } = require('node:worker_threads');
const KERNELS = [${ROW_KERNELS.map(String).join(',\n')}];
const KC = 256, NC = 256;
const Ap = new Float32Array(4 * KC), Bp = new Float32Array(NC * KC), tile = new Float64Array(16);
function view(d) { return new Float32Array(d.buf, d.off, d.len); }
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
    const ex = new WebAssembly.Instance(m.module, { env: { mem: m.memory } }).exports;
    const c = m.ctrl;
    let seen = 0;
    for (;;) {
      for (let i = 0; i < ${SPIN} && Atomics.load(c, 0) === seen; i++);
      if (Atomics.load(c, 0) === seen) {
        Atomics.store(c, 30, 1);
        Atomics.wait(c, 0, seen);
        Atomics.store(c, 30, 0);
      }
      seen = Atomics.load(c, 0);
      const op = c[2];
      if (op === -1) break;
      if (op === 3) {
        const r = receiveMessageOnPort(m.port).message;
        KERNELS[r.k](r.a, r.s, r.t, r.nt);
      } else if (op === 1) ex.gemm(c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15]);
      else ex.batched(c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15], c[16],
        c[17], c[18], c[19], c[20], c[21]);
      Atomics.store(c, 1, 1);
      if (Atomics.load(c, 31) === 1) Atomics.notify(c, 1);
    }
    parentPort.close();
    return;
  }
  rows(view(m.out), view(m.a), view(m.b), m.N, m.K, m.acc, m.aRs, m.aKs, m.bCs, m.bKs, m.m0, m.m1);
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

const run: StridedGemm = (out, a, b, M, N, K, acc, aRs, aKs, bCs, bKs) => {
  if (workers.length === 0 || M * N * K < PARALLEL_MIN_MACS || M < 8 * (workers.length + 1)) return false;
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
  gemmBlockedRows(so, sa, sb, N, K, acc, aRs, aKs, bCs, bKs, 0, Math.min(M, chunk));
  for (let t = 0; t < used; t++) Atomics.wait(ctrls[t], 0, 0);
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

function join(used: number): void {
  for (let t = 0; t < used; t++) {
    const c = ctrls[t];
    for (let i = 0; i < SPIN && Atomics.load(c, 1) === 0; i++);
    if (Atomics.load(c, 1) !== 0) continue;
    Atomics.store(c, 31, 1);
    while (Atomics.load(c, 1) === 0) Atomics.wait(c, 1, 0);
    Atomics.store(c, 31, 0);
  }
}

const runWasm: WasmParallelGemm = (w, s, M, N, K, acc, aRs, aKs, bCs, bKs) => {
  if (workers.length === 0 || M * N * K < PARALLEL_MIN_MACS || M < 2 * WASM_MR * (workers.length + 1))
    return false;
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
  w.run(s, N, K, acc, aRs, aKs, bCs, bKs, 0, Math.min(M, chunk), 0);
  join(used);
  return true;
};

// batches split by whole output groups (cDiv products), so no two threads add into the same output
const runWasmBatched: WasmParallelBatched = (w, s, M, N, K, acc, aRs, aKs, bCs, bKs, count, bs) => {
  const units = count / bs.cDiv;
  if (workers.length === 0 || count * M * N * K < PARALLEL_MIN_MACS || units < 2 || !Number.isInteger(units))
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
  w.runBatched(s, M, N, K, acc, aRs, aKs, bCs, bKs, 0, Math.min(count, per), bs, 0);
  join(used);
  return true;
};

// every thread runs its share (t of nt) of the kernel; the arrays are shared, so nothing is copied back
const runRowsOnPool: RowsExecutor = (k, a, s) => {
  const nt = workers.length + 1;
  for (let t = 0; t < workers.length; t++) {
    ports[t].postMessage({ k, a, s, t: t + 1, nt });
    post(t, 3, []);
  }
  ROW_KERNELS[k](a, s, 0, nt);
  join(workers.length);
  return true;
};

function stopWorkers(): void {
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
  wasmMode = wasm;
  for (let t = 1; t < threads; t++) {
    const worker = new Worker(WORKER_SRC, { eval: true });
    worker.unref(); // an idle pool must not keep the process alive
    const ctrl = new Int32Array(new SharedArrayBuffer(32 * 4));
    if (wasm) {
      const { port1, port2 } = new MessageChannel();
      worker.postMessage({ wasm: true, module: w.module, memory: w.memory, ctrl, port: port2 }, [port2]);
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
