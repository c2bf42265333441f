// Node-only: runs large Float32 products on worker_threads over shared memory, keeping the matmul API
// synchronous (the calling thread computes its own share of rows, then Atomics.wait()s for the workers).
// Operands not already on a SharedArrayBuffer are copied into shared scratch first.
import { Worker } from 'node:worker_threads';
import { gemmBlockedRows, setParallelGemm, type StridedGemm } from './matmul';

// The worker runs this copy of gemmBlockedRows (kept as plain JS so it loads without a TypeScript loader or
// bundler); test/unit/nn/matmul.test.ts checks the threaded products against the naive reference.
const WORKER_SRC = `
const { parentPort } = require('node:worker_threads');
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

/** Uses `threads` threads in total (the caller plus threads−1 workers) for large Float32 products; 1 turns it off. */
export function setMatmulThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`threads: must be a positive integer, got ${threads}`);
  for (const w of workers) void w.terminate();
  workers = [];
  ctrls = [];
  for (let t = 1; t < threads; t++) {
    const w = new Worker(WORKER_SRC, { eval: true });
    w.unref(); // an idle pool must not keep the process alive
    workers.push(w);
    ctrls.push(new Int32Array(new SharedArrayBuffer(4)));
  }
  setParallelGemm(threads > 1 ? run : null);
}

export function getMatmulThreads(): number {
  return workers.length + 1;
}
