// The QFFN modules against references written from scratch: a state vector evolved gate by gate with each gate's
// dense matrix (core/quantum/gates.ts gateMatrix, the slow obvious way), the quantum FFN's output
// s_j·‖x‖·|⟨j|U(θ)|x̂⟩|² + b_j from it, and the quantum heads' scores from explicit state vectors: the unitary
// kernel's β·|⟨k̂|U(θ)|q̂⟩|² and the Gaussian kernel's −‖⟨Z⟩(q) − ⟨Z⟩(k)‖².
import { describe, expect, it } from 'vitest';
import { QuantumFfn } from '../../../core/nn/quantum-ffn';
import { GaussianKernelScorer, UnitaryKernelScorer } from '../../../core/nn/quantum-scorer';
import { angleValue, type Circuit, type GateOp } from '../../../core/quantum/circuit';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import { gateMatrix } from '../../../core/quantum/gates';
import { amplitudeFfnCircuit, angleEncodedPqc } from '../../../core/quantum/qffn-circuits';

const sim = createCpuSimulator({ precision: 'f64' });

/** Deterministic values in [−1, 1). */
function data(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** ψ ← G·ψ for a gate on `wires` of an n-qubit state (wire 0 the most significant bit), re/im interleaved. */
function applyDense(
  psi: Float64Array,
  n: number,
  op: GateOp,
  theta: ArrayLike<number>,
  x: ArrayLike<number>,
  nIn: number,
): void {
  const k = op.wires.length;
  const m = gateMatrix(
    op.gate,
    op.angles.map((a) => angleValue(a, theta, x, nIn, 0)),
  );
  const dim = 1 << n;
  const local = 1 << k;
  const bit = (w: number) => 1 << (n - 1 - w);
  const mask = op.wires.reduce((a, w) => a | bit(w), 0);
  const out = Float64Array.from(psi);
  for (let i = 0; i < dim; i++) {
    if (i & mask) continue; // one base index per block of 2^k amplitudes
    const idx = (l: number) => op.wires.reduce((a, w, j) => ((l >> (k - 1 - j)) & 1 ? a | bit(w) : a), i);
    for (let r = 0; r < local; r++) {
      let re = 0;
      let im = 0;
      for (let c = 0; c < local; c++) {
        const mr = m[2 * (r * local + c)];
        const mi = m[2 * (r * local + c) + 1];
        const j = idx(c);
        re += mr * psi[2 * j] - mi * psi[2 * j + 1];
        im += mr * psi[2 * j + 1] + mi * psi[2 * j];
      }
      out[2 * idx(r)] = re;
      out[2 * idx(r) + 1] = im;
    }
  }
  psi.set(out);
}

/** The state of `circuit` for one input row; amplitude encodings of x[start…) on the first register written directly. */
function stateOf(circuit: Circuit, theta: ArrayLike<number>, x: ArrayLike<number>): Float64Array {
  const n = circuit.qubits;
  const psi = new Float64Array(2 << n);
  psi[0] = 1;
  for (const op of circuit.ops) {
    if (op.type === 'gate') {
      applyDense(psi, n, op, theta, x, circuit.numInputs);
      continue;
    }
    // |0…0⟩ on op.wires ← x̂ (zero-padded, normalised); the other wires stay as they are (|0⟩ here)
    const v = Array.from({ length: 1 << op.wires.length }, (_, i) => (i < op.length ? x[op.start + i] : 0));
    const norm = Math.hypot(...v);
    const prev = Float64Array.from(psi);
    psi.fill(0);
    for (let i = 0; i < 1 << n; i++) {
      if (prev[2 * i] === 0 && prev[2 * i + 1] === 0) continue;
      for (let l = 0; l < v.length; l++) {
        let j = i;
        op.wires.forEach((w, t) => {
          if ((l >> (op.wires.length - 1 - t)) & 1) j |= 1 << (n - 1 - w);
        });
        psi[2 * j] += (prev[2 * i] * v[l]) / norm;
        psi[2 * j + 1] += (prev[2 * i + 1] * v[l]) / norm;
      }
    }
  }
  return psi;
}

const prob = (psi: Float64Array, j: number) => psi[2 * j] ** 2 + psi[2 * j + 1] ** 2;

function zOf(psi: Float64Array, n: number, w: number): number {
  let s = 0;
  for (let i = 0; i < 1 << n; i++) s += ((i >> (n - 1 - w)) & 1 ? -1 : 1) * prob(psi, i);
  return s;
}

describe('the quantum FFN against a dense-matrix reference', () => {
  it.each([
    [8, 2],
    [12, 3],
  ])('amplitude form, d = %i, D = %i: y_j = s_j·‖x‖·|⟨j|U(θ)|x̂⟩|² + b_j', (d, D) => {
    const ffn = new QuantumFfn('ffn', d, sim, { form: 'amplitude', depth: D, dtype: 'f64', seed: 3 });
    ffn.scale!.data.set(data(d, 5));
    ffn.bias!.data.set(data(d, 6));
    const N = 3;
    const x = data(N * d, 7);
    const out = new Float64Array(N * d);
    ffn.prepare(N);
    ffn.forward(out, x, N);
    const circuit = amplitudeFfnCircuit(d, D);
    expect(circuit).toEqual(ffn.circuit.circuit);
    for (let r = 0; r < N; r++) {
      const row = x.subarray(r * d, (r + 1) * d);
      const psi = stateOf(circuit, ffn.circuit.theta.data, row);
      const norm = Math.hypot(...row);
      for (let j = 0; j < d; j++) {
        const want = ffn.scale!.data[j] * norm * prob(psi, j) + ffn.bias!.data[j];
        expect(out[r * d + j]).toBeCloseTo(want, 12);
      }
    }
  });

  it('bottleneck form: y = W_out·⟨Z⟩(U(θ)·RY(W_in·x + b_in)) + b_out', () => {
    const d = 6;
    const n = 3;
    const ffn = new QuantumFfn('ffn', d, sim, {
      form: 'bottleneck',
      depth: 2,
      qubits: n,
      dtype: 'f64',
      seed: 4,
    });
    const x = data(d, 9);
    const out = new Float64Array(d);
    ffn.prepare(1);
    ffn.forward(out, x, 1);
    const win = ffn.inProj as unknown as { weight: { data: Float64Array }; bias: { data: Float64Array } };
    const wout = ffn.outProj as unknown as { weight: { data: Float64Array }; bias: { data: Float64Array } };
    const enc = Array.from(
      { length: n },
      (_, i) => win.bias.data[i] + x.reduce((a, v, j) => a + win.weight.data[i * d + j] * v, 0),
    );
    const circuit = angleEncodedPqc(n, 2);
    expect(circuit).toEqual(ffn.circuit.circuit);
    const psi = stateOf(circuit, ffn.circuit.theta.data, enc);
    const z = Array.from({ length: n }, (_, w) => zOf(psi, n, w));
    for (let j = 0; j < d; j++)
      expect(out[j]).toBeCloseTo(
        wout.bias.data[j] + z.reduce((a, v, i) => a + wout.weight.data[j * n + i] * v, 0),
        12,
      );
  });
});

describe('the quantum heads against explicit state vectors', () => {
  const hd = 4;
  const n = 3; // queries
  const S = 3; // keys (n = S: a square causal block)
  const q = data(n * hd, 11);
  const k = data(S * hd, 12);

  it('unitary kernel: score(t, s) = β·|⟨k̂_s|U(θ)|q̂_t⟩|² for every causal pair', () => {
    const sc = new UnitaryKernelScorer('head', hd, sim, { depth: 2, dtype: 'f64', seed: 2, beta: 1.7 });
    sc.prepare(1, S);
    const scores = new Float64Array(n * S);
    sc.forward(scores, q, k, n, S, 0);
    // U(θ) alone on m = 2 qubits: the scorer's Rot layers and CNOT ring, taken from its circuit
    const m = 2;
    const full = sc.pqc.circuit;
    const u: Circuit = {
      qubits: m,
      numParams: full.numParams,
      numInputs: 0,
      ops: full.ops
        .filter(
          (o): o is GateOp =>
            o.type === 'gate' &&
            (o.gate === 'Rot' || (o.gate === 'CNOT' && o.wires.every((w) => w >= 1 && w <= m))),
        )
        .map((o) => ({ ...o, wires: o.wires.map((w) => w - 1) })),
    };
    for (let t = 0; t < n; t++)
      for (let s = 0; s <= t; s++) {
        const qt = Array.from(q.subarray(t * hd, (t + 1) * hd));
        const ks = Array.from(k.subarray(s * hd, (s + 1) * hd));
        const nq = Math.hypot(...qt);
        const nk = Math.hypot(...ks);
        const psi = new Float64Array(2 << m);
        qt.forEach((v, i) => (psi[2 * i] = v / nq));
        for (const op of u.ops) applyDense(psi, m, op as GateOp, sc.pqc.theta.data, [], 0);
        let re = 0;
        let im = 0;
        ks.forEach((v, i) => {
          re += (v / nk) * psi[2 * i];
          im += (v / nk) * psi[2 * i + 1];
        });
        expect(scores[t * S + s]).toBeCloseTo(1.7 * (re * re + im * im), 10);
      }
  });

  it('Gaussian kernel: score(t, s) = −‖⟨Z⟩(U_q RY(q_t)) − ⟨Z⟩(U_k RY(k_s))‖²', () => {
    const sc = new GaussianKernelScorer('head', hd, sim, { depth: 2, dtype: 'f64', seed: 5 });
    sc.prepare(1, S);
    const scores = new Float64Array(n * S);
    sc.forward(scores, q, k, n, S, 0);
    const [thq, thk] = sc.parameters().map((p) => p.data);
    const circuit = angleEncodedPqc(hd, 2);
    const zs = (x: Float64Array, th: ArrayLike<number>) => {
      const psi = stateOf(circuit, th, x);
      return Array.from({ length: hd }, (_, w) => zOf(psi, hd, w));
    };
    for (let t = 0; t < n; t++)
      for (let s = 0; s <= t; s++) {
        const eq = zs(q.subarray(t * hd, (t + 1) * hd), thq);
        const ek = zs(k.subarray(s * hd, (s + 1) * hd), thk);
        expect(scores[t * S + s]).toBeCloseTo(-eq.reduce((a, v, i) => a + (v - ek[i]) ** 2, 0), 10);
      }
  });
});
