// Quantum modules inside the model, one at a time: the cpu simulator's synchronous pair against its async one,
// and every module's forward/backward (θ, classical parameters and inputs) against central differences in f64.
import { describe, expect, it } from 'vitest';
import { Linear } from '../../../core/nn/layers';
import { QuantumAdapter } from '../../../core/nn/quantum-adapter';
import { QuantumFfn, quantumFfnParamCount } from '../../../core/nn/quantum-ffn';
import { QuantumLayer } from '../../../core/nn/quantum-layer';
import { QuantumModule } from '../../../core/nn/quantum-module';
import { amplitudeFfnCircuit, angleEncodedPqc } from '../../../core/quantum/qffn-circuits';
import { GaussianKernelScorer, UnitaryKernelScorer } from '../../../core/nn/quantum-scorer';
import { CircuitBuilder } from '../../../core/quantum/circuit';
import { countParameters, zeroGrad, type Arr } from '../../../core/nn/tensor';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import { dot, gradCheck, randArr } from './gradcheck';

const sim = createCpuSimulator({ precision: 'f64' });
const N = 3;
// a step of 1e-5: some angles have an exactly zero derivative (a final RZ before ⟨Z⟩), where 1e-6 leaves
// roundoff of ~2e-9, above gradCheck's absolute floor
const H = { h: 1e-5 };

function pairsOf(ps: { data: Arr; grad: Arr }[]): [Arr, Arr][] {
  return ps.map((p) => [p.data, Float64Array.from(p.grad)]);
}

describe('cpu simulator: synchronous interface', () => {
  it('expvalSync and vjpSync equal the async expval and vjp (f64 and f32)', async () => {
    for (const precision of ['f64', 'f32'] as const) {
      const s = createCpuSimulator({ precision });
      const circuit = angleEncodedPqc(5, 2); // 32 amplitudes: the wasm kernels in f32
      const req = { circuit, params: randArr(circuit.numParams, 1), inputs: randArr(4 * 5, 2), batch: 4 };
      const g = randArr(4 * 5, 3);
      const [a, b] = [await s.expval(req), s.expvalSync(req)];
      expect(Array.from(b.expvals)).toEqual(Array.from(a.expvals));
      expect(b.info.mode).toBe(a.info.mode);
      const [va, vb] = [await s.vjp(req, g), s.vjpSync(req, g)];
      expect(Array.from(vb.dParams)).toEqual(Array.from(va.dParams));
      expect(Array.from(vb.dInputs)).toEqual(Array.from(va.dInputs));
      expect(() => s.vjpSync(req, g.subarray(1))).toThrow(/dExpvals: need batch × numObservables = 20/);
    }
  });
});

describe('quantum modules write the simulator’s results into their own arrays', () => {
  it('QuantumModule and QuantumLayer: steps equal plain simulator calls bit for bit; arrays reused, resized with N', async () => {
    const s = createCpuSimulator({ precision: 'f64' });
    const circuit = angleEncodedPqc(5, 2);
    const m = new QuantumModule('m', circuit, s, { seed: 4 });
    const layer = new QuantumLayer('l', circuit, s, { seed: 4 });
    let seen: Float64Array | null = null;
    for (const [step, rows] of [
      [0, 4],
      [1, 4],
      [2, 6],
    ]) {
      const inp = randArr(rows * 5, 10 + step);
      const dout = randArr(rows * 5, 20 + step);
      const req = { circuit, params: m.theta.data, inputs: inp, batch: rows };
      const [e, v] = [s.expvalSync(req), s.vjpSync(req, dout)];
      const out = new Float64Array(rows * 5);
      m.forward(out, inp, rows);
      expect(Array.from(out)).toEqual(Array.from(e.expvals));
      zeroGrad(m.parameters());
      const dinp = new Float64Array(rows * 5);
      m.backward(dinp, dout, inp, rows);
      expect(Array.from(dinp)).toEqual(Array.from(v.dInputs));
      expect(Array.from(m.theta.grad)).toEqual(Array.from(v.dParams));
      expect(Array.from(await layer.forward(inp, rows))).toEqual(Array.from(e.expvals));
      zeroGrad(layer.parameters());
      const dl = await layer.backward(dout);
      expect(Array.from(dl)).toEqual(Array.from(v.dInputs));
      expect(Array.from(layer.theta.grad)).toEqual(Array.from(v.dParams));
      // the same array while N holds (no fresh pages per step), a new one when it changes
      if (step === 1) expect(dl).toBe(seen);
      if (step === 2) expect(dl).not.toBe(seen);
      seen = dl;
    }
  });
});

describe('quantum modules against central differences (f64, θ, parameters and inputs)', () => {
  it('QuantumModule: ⟨Z⟩ of an angle-encoded PQC', () => {
    const q = new QuantumModule('q', angleEncodedPqc(3, 2), sim, { dtype: 'f64', seed: 1 });
    const x = randArr(N * 3, 4);
    const w = randArr(N * 3, 5);
    const out = new Float64Array(N * 3);
    const dx = new Float64Array(N * 3);
    q.forward(out, x, N);
    q.backward(dx, w, x, N);
    const r = gradCheck(
      [[x, dx], ...pairsOf(q.parameters())],
      () => {
        q.forward(out, x, N);
        return dot(out, w);
      },
      H,
    );
    expect(r.maxRel, r.at).toBeLessThan(1e-6);
    expect(() => q.forward(out, x.subarray(1), N)).toThrow(/^q\.inputs: /);
  });

  it('amplitude-form circuit: p = H·z / 2^n are the basis-state probabilities', async () => {
    const c = amplitudeFfnCircuit(6, 2); // 6 features on 3 qubits
    expect(c.qubits).toBe(3);
    expect(c.observables!.length).toBe(7);
    const req = { circuit: c, params: randArr(c.numParams, 6), inputs: randArr(2 * 6, 7), batch: 2 };
    const probs = await sim.probs(req);
    const ffn = new QuantumFfn('f', 6, sim, { form: 'amplitude', depth: 2, dtype: 'f64' });
    ffn.circuit.theta.data.set(req.params);
    ffn.scale!.data.fill(1);
    ffn.prepare(2);
    const out = new Float64Array(2 * 6);
    ffn.forward(out, Float64Array.from(req.inputs), 2);
    for (let r = 0; r < 2; r++) {
      let ss = 0;
      for (let j = 0; j < 6; j++) ss += req.inputs[r * 6 + j] ** 2;
      for (let j = 0; j < 6; j++) expect(out[r * 6 + j]).toBeCloseTo(Math.sqrt(ss) * probs[r * 8 + j], 12);
    }
  });

  for (const [label, opts, d] of [
    ['amplitude form, d = 8 on 3 qubits', { form: 'amplitude', depth: 2 }, 8],
    ['amplitude form, d = 6 (zero-padded to 8 amplitudes)', { form: 'amplitude', depth: 1 }, 6],
    ['bottleneck form, d = 6 through 3 qubits', { form: 'bottleneck', depth: 2, qubits: 3 }, 6],
  ] as const) {
    it(`QuantumFfn, ${label}`, () => {
      const f = new QuantumFfn('f', d, sim, { ...opts, dtype: 'f64', seed: 2 });
      expect(countParameters(f.parameters())).toBe(quantumFfnParamCount(opts.form, d, opts.depth, f.qubits));
      // scale and biases away from their init so every term is exercised
      for (const p of f.parameters()) if (!p.name.endsWith('theta')) p.data.set(randArr(p.size, p.size));
      f.prepare(N);
      const x = randArr(N * d, 8);
      const w = randArr(N * d, 9);
      const out = new Float64Array(N * d);
      const dx = new Float64Array(N * d);
      zeroGrad(f.parameters());
      f.forward(out, x, N);
      f.backward(dx, w, x, N);
      const r = gradCheck(
        [[x, dx], ...pairsOf(f.parameters())],
        () => {
          f.forward(out, x, N);
          return dot(out, w);
        },
        H,
      );
      expect(r.maxRel, r.at).toBeLessThan(1e-6);
    });
  }

  for (const [label, qubits] of [
    ['hd values angle-encoded directly', undefined],
    ['through a learned hd → 3 map', 3],
  ] as const) {
    it(`GaussianKernelScorer (QSANN), ${label}: square (training) and rectangular (cached) score blocks`, () => {
      const hd = 4;
      const sc = new GaussianKernelScorer('h', hd, sim, { depth: 2, qubits, dtype: 'f64', seed: 3 });
      for (const [n, S] of [
        [5, 5],
        [2, 5],
      ]) {
        sc.prepare(2, S);
        const q = randArr(n * hd, 10 + n);
        const k = randArr(S * hd, 11);
        const w = randArr(n * S, 12);
        // only the causal entries are scores: weight the rest by zero as the softmax backward does
        for (let t = 0; t < n; t++) for (let s = S - n + t + 1; s < S; s++) w[t * S + s] = 0;
        const scores = new Float64Array(n * S);
        const dq = new Float64Array(n * hd);
        const dk = new Float64Array(S * hd);
        zeroGrad(sc.parameters());
        sc.forward(scores, q, k, n, S, 1);
        expect(scores[0]).toBeLessThanOrEqual(0);
        sc.backward(dq, dk, w, q, k, n, S, 1);
        const r = gradCheck(
          [[q, dq], [k, dk], ...pairsOf(sc.parameters())],
          () => {
            sc.forward(scores, q, k, n, S, 1);
            return dot(scores, w);
          },
          H,
        );
        expect(r.maxRel, r.at).toBeLessThan(1e-6);
      }
    });
  }

  it('UnitaryKernelScorer: β·|⟨k̂|U(θ)|q̂⟩|² from the SWAP test equals the overlap of the simulated states', async () => {
    const hd = 4;
    const sc = new UnitaryKernelScorer('h', hd, sim, { depth: 2, dtype: 'f64', seed: 6, beta: 1.5 });
    sc.prepare(1, 3);
    const q = randArr(3 * hd, 13);
    const k = randArr(3 * hd, 14);
    const scores = new Float64Array(9);
    sc.forward(scores, q, k, 3, 3, 0);
    // U q̂ alone: the same Rot/CNOT layers on a 2-qubit register, its state read out
    const b = new CircuitBuilder(2, hd);
    b.amplitude([0, 1], 0, hd);
    for (let l = 0; l < 2; l++) {
      for (const w of [0, 1]) b.gate('Rot', [w], [b.p(), b.p(), b.p()]);
      b.gate('CNOT', [0, 1]).gate('CNOT', [1, 0]);
    }
    const psi = await sim.state({ circuit: b.build(), params: sc.pqc.theta.data, inputs: q, batch: 3 });
    for (let t = 0; t < 3; t++)
      for (let s = 0; s <= t; s++) {
        let nk = 0;
        for (let i = 0; i < hd; i++) nk += k[s * hd + i] ** 2;
        let re = 0;
        let im = 0;
        for (let i = 0; i < hd; i++) {
          re += (k[s * hd + i] / Math.sqrt(nk)) * psi[(t * hd + i) * 2];
          im += (k[s * hd + i] / Math.sqrt(nk)) * psi[(t * hd + i) * 2 + 1];
        }
        expect(scores[t * 3 + s]).toBeCloseTo(1.5 * (re * re + im * im), 12);
      }
  });

  it('UnitaryKernelScorer: θ, β, q and k against central differences, square and rectangular blocks', () => {
    const hd = 4;
    const sc = new UnitaryKernelScorer('h', hd, sim, { depth: 1, dtype: 'f64', seed: 7 });
    for (const [n, S] of [
      [4, 4],
      [1, 4],
    ]) {
      sc.prepare(1, S);
      const q = randArr(n * hd, 15 + n);
      const k = randArr(S * hd, 16);
      const w = randArr(n * S, 17);
      for (let t = 0; t < n; t++) for (let s = S - n + t + 1; s < S; s++) w[t * S + s] = 0;
      const scores = new Float64Array(n * S);
      const dq = new Float64Array(n * hd);
      const dk = new Float64Array(S * hd);
      zeroGrad(sc.parameters());
      sc.forward(scores, q, k, n, S, 0);
      sc.backward(dq, dk, w, q, k, n, S, 0);
      const r = gradCheck(
        [[q, dq], [k, dk], ...pairsOf(sc.parameters())],
        () => {
          sc.forward(scores, q, k, n, S, 0);
          return dot(scores, w);
        },
        H,
      );
      expect(r.maxRel, r.at).toBeLessThan(1e-6);
    }
  });

  it('QuantumAdapter (Linear → circuit → Linear) through the LinearAdapter seam: a no-op at init, exact gradients', () => {
    const lin = new Linear('l', 6, 5, { bias: true, dtype: 'f64' });
    lin.weight.data.set(randArr(30, 1));
    const x = randArr(N * 6, 2);
    const base = new Float64Array(N * 5);
    lin.forward(base, x, N);
    const a = new QuantumAdapter(lin, sim, { rank: 3, depth: 1, alpha: 2, seed: 4 });
    lin.adapter = a;
    const out = new Float64Array(N * 5);
    lin.forward(out, x, N);
    expect(Array.from(out)).toEqual(Array.from(base));
    a.up.weight.data.set(randArr(a.up.weight.size, 5));
    const w = randArr(N * 5, 6);
    const dx = new Float64Array(N * 6);
    zeroGrad(lin.parameters());
    lin.forward(out, x, N);
    lin.backward(dx, w, x, N);
    expect(lin.parameters().map((p) => p.name)).toContain('l.adapter.pqc.theta');
    const r = gradCheck(
      [[x, dx], ...pairsOf(lin.parameters())],
      () => {
        lin.forward(out, x, N);
        return dot(out, w);
      },
      H,
    );
    expect(r.maxRel, r.at).toBeLessThan(1e-6);
  });
});
