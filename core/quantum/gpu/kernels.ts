// gpu.js kernel sources for the batched state-vector simulator, and a factory that builds them for
// one shape. Sources are strings, not TS functions, so no bundler helper can leak into them.
// Layout: the state is complex64 interleaved [row][amplitude][re, im]; one thread per float.
// Kernel locals are f32 in the generated WGSL, so every index stays below 2^24 (see chunks.ts) and
// divisions by non-powers of two use floor((x + 0.5) / d), which f32 rounding cannot push across.
import type { GPU, IGPUKernelSettings, IKernelRunShortcut } from 'gpu.js';

/** Kernel prologue of one thread per float: the float f of row b, amplitude amp, component c (0 re, 1 im). */
const FLOAT_OF_THREAD = `
  const f = this.thread.x;
  const twoN = this.constants.twoN;
  const b = Math.floor(f / twoN);
  const rem = f - b * twoN;
  const amp = Math.floor(rem / 2);
  const c = rem - amp * 2;`;

/** Kernel prologue of pass 1 of a reduction: thread idx sums segment kc (of K, L items each) of group g. */
const SEGMENT_OF_THREAD = `
  const n = this.constants.n;
  const K = this.constants.K;
  const L = this.constants.L;
  const idx = this.thread.x;
  const g = Math.floor(idx / K);
  const kc = idx - g * K;`;

/**
 * 2×2 gate with up to two controls on one target (stride = 2^(n−1−wire); control strides 0 = none).
 * mats holds per-row (rowStride 8) or shared (rowStride 0) matrices at `off`. Threads whose controls
 * are not all 1 return offScale·ψ: 1 for a controlled unitary, 0 for the derivative of one.
 */
const GATE1 = `function (state, mats, stride, c1, c2, rowStride, off, offScale) {${FLOAT_OF_THREAD}
  let on = 1;
  if (c1 > 0.5) { if (Math.floor(amp / c1) % 2 < 0.5) { on = 0; } }
  if (c2 > 0.5) { if (Math.floor(amp / c2) % 2 < 0.5) { on = 0; } }
  if (on < 0.5) { return offScale * state[f]; }
  const bit = Math.floor(amp / stride) % 2;
  const a0 = amp - bit * stride;
  const i0 = b * twoN + 2 * a0;
  const i1 = i0 + 2 * stride;
  const m = off + b * rowStride + bit * 4;
  const ur = mats[m];
  const ui = mats[m + 1];
  const vr = mats[m + 2];
  const vi = mats[m + 3];
  const r0 = state[i0];
  const m0 = state[i0 + 1];
  const r1 = state[i1];
  const m1 = state[i1 + 1];
  if (c < 0.5) { return ur * r0 - ui * m0 + vr * r1 - vi * m1; }
  return ur * m0 + ui * r0 + vr * m1 + vi * r1;
}`;

/** 4×4 gate on wires with strides sA (more significant in the matrix index) and sB. */
const GATE2 = `function (state, mats, sA, sB, rowStride, off) {${FLOAT_OF_THREAD}
  const bA = Math.floor(amp / sA) % 2;
  const bB = Math.floor(amp / sB) % 2;
  const i00 = b * twoN + 2 * (amp - bA * sA - bB * sB);
  const i01 = i00 + 2 * sB;
  const i10 = i00 + 2 * sA;
  const i11 = i10 + 2 * sB;
  const m = off + b * rowStride + (bA * 2 + bB) * 8;
  const r0 = state[i00];
  const q0 = state[i00 + 1];
  const r1 = state[i01];
  const q1 = state[i01 + 1];
  const r2 = state[i10];
  const q2 = state[i10 + 1];
  const r3 = state[i11];
  const q3 = state[i11 + 1];
  if (c < 0.5) {
    return mats[m] * r0 - mats[m + 1] * q0 + mats[m + 2] * r1 - mats[m + 3] * q1
      + mats[m + 4] * r2 - mats[m + 5] * q2 + mats[m + 6] * r3 - mats[m + 7] * q3;
  }
  return mats[m] * q0 + mats[m + 1] * r0 + mats[m + 2] * q1 + mats[m + 3] * r1
    + mats[m + 4] * q2 + mats[m + 5] * r2 + mats[m + 6] * q3 + mats[m + 7] * r3;
}`;

/**
 * Pauli-string data `terms`: terms[0..n) = wire strides, then per term (2n + 2 floats):
 * flip[w] (X or Y on w), sign[w] (Y or Z on w), and the phase i^{#Y} as (re, im).
 * P|y⟩ = i^{#Y}·(−1)^{Σ_sign y_w}·|y ⊕ flip⟩.
 *
 * Pass 1 of ⟨ψ|P|ψ⟩: thread (row, term, segment) sums Re(conj ψ_{a⊕m} · phase(a) · ψ_a) over L amplitudes.
 */
const PAULI_PARTIAL = `function (state, terms) {${SEGMENT_OF_THREAD}
  const T = this.constants.T;
  const b = Math.floor((g + 0.5) / T);
  const t = g - b * T;
  const tb = n + t * (2 * n + 2);
  const pr = terms[tb + 2 * n];
  const pi = terms[tb + 2 * n + 1];
  const base = b * this.constants.twoN;
  let sum = 0;
  for (let j = 0; j < L; j++) {
    const a = kc * L + j;
    let ap = a;
    let sg = 1;
    for (let w = 0; w < n; w++) {
      const s = terms[w];
      const bit = Math.floor(a / s) % 2;
      if (terms[tb + w] > 0.5) { ap = ap + (1 - 2 * bit) * s; }
      if (terms[tb + n + w] > 0.5) { sg = sg * (1 - 2 * bit); }
    }
    const ur = state[base + 2 * ap];
    const ui = state[base + 2 * ap + 1];
    const vr = state[base + 2 * a];
    const vi = state[base + 2 * a + 1];
    const cr = ur * vr + ui * vi;
    const ci = ur * vi - ui * vr;
    sum += sg * (pr * cr - pi * ci);
  }
  return sum;
}`;

/** λ = Σ_t weights[row, t]·P_t ψ: the adjoint seed for the observables (same `terms` layout). */
const APPLY_OBS = `function (state, terms, weights) {${FLOAT_OF_THREAD}
  const n = this.constants.n;
  const T = this.constants.T;
  const x = amp;
  const base = b * twoN;
  let out = 0;
  for (let t = 0; t < T; t++) {
    const tb = n + t * (2 * n + 2);
    let y = x;
    for (let w = 0; w < n; w++) {
      const s = terms[w];
      if (terms[tb + w] > 0.5) { y = y + (1 - 2 * (Math.floor(x / s) % 2)) * s; }
    }
    let sg = weights[b * T + t];
    for (let w = 0; w < n; w++) {
      if (terms[tb + n + w] > 0.5) { sg = sg * (1 - 2 * (Math.floor(y / terms[w]) % 2)); }
    }
    const pr = terms[tb + 2 * n];
    const pi = terms[tb + 2 * n + 1];
    const sr = state[base + 2 * y];
    const si = state[base + 2 * y + 1];
    if (c < 0.5) { out += sg * (pr * sr - pi * si); } else { out += sg * (pr * si + pi * sr); }
  }
  return out;
}`;

/** Pass 1 of Re⟨x|y⟩ per row: a plain float dot product over contiguous segments of `seg` floats. */
const DOT_PARTIAL = `function (x, y) {
  const seg = this.constants.seg;
  const start = this.thread.x * seg;
  let sum = 0;
  for (let i = 0; i < seg; i++) {
    sum += x[start + i] * y[start + i];
  }
  return sum;
}`;

/** Pass 2 of every reduction: sums K consecutive partials. */
const GROUP_SUM = `function (p) {
  const K = this.constants.K;
  const start = this.thread.x * K;
  let sum = 0;
  for (let k = 0; k < K; k++) {
    sum += p[start + k];
  }
  return sum;
}`;

/**
 * Pass 1 of marginal probabilities: thread (row, outcome p, segment) sums |ψ_a|² over L of the
 * R = N/P amplitudes whose selected wires spell p. `wires` per wire w: [stride, selStride, restStride]
 * (selStride 0 when w is not measured, restStride 0 when it is).
 */
const PROBS_PARTIAL = `function (state, wires) {${SEGMENT_OF_THREAD}
  const P = this.constants.P;
  const b = Math.floor(g / P);
  const p = g - b * P;
  const base = b * this.constants.twoN;
  let sum = 0;
  for (let j = 0; j < L; j++) {
    const r = kc * L + j;
    let a = 0;
    for (let w = 0; w < n; w++) {
      const sel = wires[3 * w + 1];
      let bit = 0;
      if (sel > 0.5) { bit = Math.floor(p / sel) % 2; } else { bit = Math.floor(r / wires[3 * w + 2]) % 2; }
      a += bit * wires[3 * w];
    }
    const re = state[base + 2 * a];
    const im = state[base + 2 * a + 1];
    sum += re * re + im * im;
  }
  return sum;
}`;

export type Kernel = IKernelRunShortcut;

function make(
  gpu: GPU,
  src: string,
  output: number,
  constants: Record<string, number>,
  argumentTypes: Record<string, 'Array' | 'Float'>,
): Kernel {
  // loops run to segment lengths and wire counts chosen by the planner, not to gpu.js's default 1000
  // (the setting exists at runtime but is missing from gpu.js's typings)
  const settings: IGPUKernelSettings & { loopMaxIterations: number } = {
    output: [output],
    constants,
    argumentTypes,
    loopMaxIterations: 1 << 24,
  };
  return gpu.createKernel(src, settings);
}

const A = 'Array' as const;
const F = 'Float' as const;

/** Segment length for a two-pass reduction over `count` items (a power of two): about √count. */
export function segmentLength(count: number): number {
  return 2 ** Math.ceil(Math.log2(count) / 2);
}

export function gate1Kernel(gpu: GPU, rows: number, qubits: number): Kernel {
  const twoN = 2 ** (qubits + 1);
  return make(
    gpu,
    GATE1,
    rows * twoN,
    { twoN },
    {
      state: A,
      mats: A,
      stride: F,
      c1: F,
      c2: F,
      rowStride: F,
      off: F,
      offScale: F,
    },
  );
}

export function gate2Kernel(gpu: GPU, rows: number, qubits: number): Kernel {
  const twoN = 2 ** (qubits + 1);
  return make(gpu, GATE2, rows * twoN, { twoN }, { state: A, mats: A, sA: F, sB: F, rowStride: F, off: F });
}

/** ⟨P_t⟩ per (row, term) in two passes: partial sums, then a group sum. */
export function pauliKernels(
  gpu: GPU,
  rows: number,
  qubits: number,
  terms: number,
): { partial: Kernel; sum: Kernel } {
  const N = 2 ** qubits;
  const L = segmentLength(N);
  const K = N / L;
  return {
    partial: make(
      gpu,
      PAULI_PARTIAL,
      rows * terms * K,
      { n: qubits, T: terms, K, L, twoN: 2 * N },
      { state: A, terms: A },
    ),
    sum: make(gpu, GROUP_SUM, rows * terms, { K }, { p: A }),
  };
}

export function applyObservablesKernel(gpu: GPU, rows: number, qubits: number, terms: number): Kernel {
  const twoN = 2 ** (qubits + 1);
  return make(gpu, APPLY_OBS, rows * twoN, { n: qubits, T: terms, twoN }, { state: A, terms: A, weights: A });
}

/** Re⟨x|y⟩ per row in two passes: segment dot products, then a sum per row. */
export function innerProductKernels(gpu: GPU, rows: number, qubits: number): { dot: Kernel; sum: Kernel } {
  const twoN = 2 ** (qubits + 1);
  const seg = segmentLength(twoN);
  const K = twoN / seg;
  return {
    dot: make(gpu, DOT_PARTIAL, rows * K, { seg }, { x: A, y: A }),
    sum: make(gpu, GROUP_SUM, rows, { K }, { p: A }),
  };
}

export function probsKernels(
  gpu: GPU,
  rows: number,
  qubits: number,
  measured: number,
): { partial: Kernel; sum: Kernel } {
  const P = 2 ** measured;
  const R = 2 ** (qubits - measured);
  const L = segmentLength(R);
  const K = R / L;
  return {
    partial: make(
      gpu,
      PROBS_PARTIAL,
      rows * P * K,
      { n: qubits, P, K, L, twoN: 2 ** (qubits + 1) },
      { state: A, wires: A },
    ),
    sum: make(gpu, GROUP_SUM, rows * P, { K }, { p: A }),
  };
}

/** A copy kernel: the state pipeline must end in a kernel step, even for a circuit with no gates. */
export function copyKernel(gpu: GPU, size: number): Kernel {
  return make(gpu, 'function (x) { return x[this.thread.x]; }', size, {}, { x: A });
}
