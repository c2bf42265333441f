// Losses over rows of logits: softmax cross-entropy (with an ignore index), KL(p‖q) and Jensen-Shannon
// divergences between two logit tensors at a temperature τ, and mean squared error. Each returns the mean
// loss; each backward ADDS `scale ×` the gradient of that mean into the given buffers.
import { Kernel, runRows } from './rows';
import { NnError, type Arr } from './tensor';

// shared scratch for the row kernel: the targets (callers' arrays need not be shared) and each row's loss
const canShare = typeof SharedArrayBuffer !== 'undefined';
let sharedTargets: Int32Array<ArrayBufferLike> = new Int32Array(0);
let rowLoss: Float64Array<ArrayBufferLike> = new Float64Array(0);
function rowScratch(targets: Int32Array, N: number): Int32Array {
  if (rowLoss.length < N) {
    const make = (bytes: number) => (canShare ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
    sharedTargets = new Int32Array(make(4 * N));
    rowLoss = new Float64Array(make(8 * N));
  }
  sharedTargets.set(targets.subarray(0, N));
  return sharedTargets;
}

/** ∂(mean cross-entropy)/∂logits in place of the probabilities dlogits: scale·(p − onehot), ignored rows zeroed. */
export function xentGradRows(
  dlogits: Arr,
  targets: Int32Array,
  N: number,
  V: number,
  ignoreIndex: number,
  scale: number,
) {
  runRows(Kernel.XentGrad, [dlogits, rowScratch(targets, N)], [N, V, ignoreIndex, scale], N * V);
}

export function softmaxCrossEntropyForward(
  probs: Arr, // (N, V) softmax of the logits, kept for backward
  logits: Arr, // (N, V)
  targets: Int32Array, // (N) class ids; ignoreIndex rows do not count
  N: number,
  V: number,
  ignoreIndex = -100,
): { loss: number; count: number } {
  for (let n = 0; n < N; n++) {
    const t = targets[n];
    if (t !== ignoreIndex && !(t >= 0 && t < V))
      throw new NnError(`target ${t} is outside [0, ${V - 1}]`, `targets[${n}]`);
  }
  // rows.ts: softmax rows and −log p(target) per row in the log-sum-exp form (finite for tiny probabilities)
  runRows(Kernel.SoftmaxXent, [probs, logits, rowScratch(targets, N), rowLoss], [N, V, ignoreIndex], N * V);
  let total = 0;
  let count = 0;
  for (let n = 0; n < N; n++) {
    if (targets[n] === ignoreIndex) continue;
    total += rowLoss[n];
    count++;
  }
  return { loss: count > 0 ? total / count : 0, count };
}

export function softmaxCrossEntropyBackward(
  dlogits: Arr,
  probs: Arr,
  targets: Int32Array,
  N: number,
  V: number,
  count: number,
  ignoreIndex = -100,
  scale = 1,
) {
  if (count === 0) return;
  const s = scale / count;
  for (let n = 0; n < N; n++) {
    const t = targets[n];
    if (t === ignoreIndex) continue;
    const o = n * V;
    for (let v = 0; v < V; v++) dlogits[o + v] += s * (probs[o + v] - (v === t ? 1 : 0));
  }
}

/** Row softmax of logits/τ. */
export function softmaxRows(out: Float64Array, logits: Arr, N: number, V: number, temperature = 1) {
  for (let n = 0; n < N; n++) {
    const o = n * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (logits[o + v] > max) max = logits[o + v];
    let sum = 0;
    for (let v = 0; v < V; v++) {
      const e = Math.exp((logits[o + v] - max) / temperature);
      out[o + v] = e;
      sum += e;
    }
    for (let v = 0; v < V; v++) out[o + v] /= sum;
  }
}

function checkT(temperature: number) {
  if (!(temperature > 0)) throw new NnError(`must be positive, got ${temperature}`, 'temperature');
}

const TINY = 1e-300; // keeps log(0) finite where a probability underflows

/**
 * Mean over rows of KL(p‖q), p = softmax(pLogits/τ), q = softmax(qLogits/τ). No τ² factor: multiply by τ²
 * yourself for Hinton-style distillation.
 */
export function klDivForward(pLogits: Arr, qLogits: Arr, N: number, V: number, temperature = 1): number {
  checkT(temperature);
  const p = new Float64Array(N * V);
  const q = new Float64Array(N * V);
  softmaxRows(p, pLogits, N, V, temperature);
  softmaxRows(q, qLogits, N, V, temperature);
  let total = 0;
  for (let i = 0; i < N * V; i++) if (p[i] > 0) total += p[i] * (Math.log(p[i]) - Math.log(q[i] + TINY));
  return total / N;
}

/** Chain rule through a row softmax at temperature τ: dz += scale · s ⊙ (g − ⟨s, g⟩) / τ. */
function softmaxRowsBackward(
  dz: Arr,
  s: Float64Array,
  g: Float64Array,
  N: number,
  V: number,
  tau: number,
  scale: number,
) {
  for (let n = 0; n < N; n++) {
    const o = n * V;
    let dot = 0;
    for (let v = 0; v < V; v++) dot += s[o + v] * g[o + v];
    for (let v = 0; v < V; v++) dz[o + v] += (scale * s[o + v] * (g[o + v] - dot)) / tau;
  }
}

export function klDivBackward(
  dpLogits: Arr | null,
  dqLogits: Arr | null,
  pLogits: Arr,
  qLogits: Arr,
  N: number,
  V: number,
  temperature = 1,
  scale = 1,
) {
  checkT(temperature);
  const p = new Float64Array(N * V);
  const q = new Float64Array(N * V);
  softmaxRows(p, pLogits, N, V, temperature);
  softmaxRows(q, qLogits, N, V, temperature);
  const g = new Float64Array(N * V);
  if (dpLogits) {
    for (let i = 0; i < N * V; i++) g[i] = p[i] > 0 ? Math.log(p[i]) - Math.log(q[i] + TINY) + 1 : 0;
    softmaxRowsBackward(dpLogits, p, g, N, V, temperature, scale / N);
  }
  if (dqLogits) {
    for (let i = 0; i < N * V; i++) g[i] = -p[i] / (q[i] + TINY);
    softmaxRowsBackward(dqLogits, q, g, N, V, temperature, scale / N);
  }
}

/** Mean over rows of JS(p, q) = ½KL(p‖m) + ½KL(q‖m), m = (p+q)/2, at temperature τ (natural log). */
export function jsDivForward(pLogits: Arr, qLogits: Arr, N: number, V: number, temperature = 1): number {
  checkT(temperature);
  const p = new Float64Array(N * V);
  const q = new Float64Array(N * V);
  softmaxRows(p, pLogits, N, V, temperature);
  softmaxRows(q, qLogits, N, V, temperature);
  let total = 0;
  for (let i = 0; i < N * V; i++) {
    const m = 0.5 * (p[i] + q[i]);
    if (p[i] > 0) total += 0.5 * p[i] * Math.log(p[i] / m);
    if (q[i] > 0) total += 0.5 * q[i] * Math.log(q[i] / m);
  }
  return total / N;
}

export function jsDivBackward(
  dpLogits: Arr | null,
  dqLogits: Arr | null,
  pLogits: Arr,
  qLogits: Arr,
  N: number,
  V: number,
  temperature = 1,
  scale = 1,
) {
  checkT(temperature);
  const p = new Float64Array(N * V);
  const q = new Float64Array(N * V);
  softmaxRows(p, pLogits, N, V, temperature);
  softmaxRows(q, qLogits, N, V, temperature);
  const g = new Float64Array(N * V);
  // ∂JS/∂p_i = ½ log(p_i/m_i), and symmetrically for q (the m terms cancel)
  if (dpLogits) {
    for (let i = 0; i < N * V; i++) g[i] = p[i] > 0 ? 0.5 * Math.log(p[i] / (0.5 * (p[i] + q[i]))) : 0;
    softmaxRowsBackward(dpLogits, p, g, N, V, temperature, scale / N);
  }
  if (dqLogits) {
    for (let i = 0; i < N * V; i++) g[i] = q[i] > 0 ? 0.5 * Math.log(q[i] / (0.5 * (p[i] + q[i]))) : 0;
    softmaxRowsBackward(dqLogits, q, g, N, V, temperature, scale / N);
  }
}

/** Mean over all n elements of (a − b)². */
export function mseForward(a: Arr, b: ArrayLike<number>, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
  return s / n;
}

export function mseBackward(da: Arr | null, db: Arr | null, a: Arr, b: Arr, n: number, scale = 1) {
  const s = (2 * scale) / n;
  for (let i = 0; i < n; i++) {
    const d = s * (a[i] - b[i]);
    if (da) da[i] += d;
    if (db) db[i] -= d;
  }
}
