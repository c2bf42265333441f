import { describe, expect, it } from 'vitest';
import { softmaxCrossEntropyBackward, softmaxCrossEntropyForward } from '../../../core/nn/losses';
import { Rng } from '../../../core/nn/rng';
import { zeroGrad } from '../../../core/nn/tensor';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import {
  headParameterCounts,
  module1Circuit,
  module1Inputs,
  module1Qubits,
  type HeadShape,
} from '../../../core/methods/qhead/circuits';
import { standardize, type EmbeddedSplit } from '../../../core/methods/qhead/encoder';
import { rmsNorm } from '../../../core/methods/qhead';
import { quantumHead, trainableCount } from '../../../core/methods/qhead/models';
import { runComparison } from '../../../core/methods/harness/compare';
import { headData, qheadSeedPlan } from '../../../core/methods/qhead/train';
import { crossEntropyLoss, featureClassifier } from '../../../core/methods/harness/classifier';

const sim = createCpuSimulator({ precision: 'f64' });

async function module1Out(d: number, rows: Float64Array, B: number, seed: number): Promise<Float64Array> {
  const c = module1Circuit(d, 2);
  const params = new Float64Array(c.numParams);
  new Rng(seed).fillUniform(params, -Math.PI, Math.PI);
  return (await sim.expval({ circuit: c, params, inputs: rows, batch: B })).expvals;
}

describe('Module 1 reads even functions of the embedding unless a bias amplitude is appended', () => {
  const d = 8;
  const x = new Float64Array(d);
  new Rng(11).fillNormal(x, 1);
  const neg = x.map((v) => -v);

  it('⟨Z⟩ after amplitude encoding and an RY/CNOT circuit is the same for x and −x', async () => {
    const both = new Float64Array(2 * d);
    both.set(x);
    both.set(neg, d);
    for (const seed of [1, 2, 3]) {
      const z = await module1Out(d, both, 2, seed);
      const n = z.length / 2;
      for (let q = 0; q < n; q++) expect(z[q]).toBeCloseTo(z[n + q], 12);
    }
  });

  it('with a constant appended, x and −x give different outputs (a term linear in x)', async () => {
    const rows = new Float64Array(2 * (d + 1));
    rows.set(x);
    rows[d] = Math.sqrt(d);
    rows.set(neg, d + 1);
    rows[2 * d + 1] = Math.sqrt(d);
    const z = await module1Out(d + 1, rows, 2, 1);
    const n = z.length / 2;
    const gap = Math.max(...Array.from({ length: n }, (_, q) => Math.abs(z[q] - z[n + q])));
    expect(gap).toBeGreaterThan(1e-3);
  });
});

describe('quantum head with a bias amplitude', () => {
  const shape: HeadShape = {
    dim: 8, // with the bias: 9 values → 4 qubits
    classes: 3,
    encoders: 2,
    encoderDepth: 1,
    qubits: 3,
    depth: 1,
    finalDepth: 1,
    reuploads: 2,
    connectivity: 1,
    measured: 1,
    skip: true,
    bias: 1.7,
  };

  it('encodes d + 1 values, and the parameter formula follows the wider Module 1', () => {
    expect(module1Inputs(shape)).toBe(9);
    expect(module1Qubits(shape)).toBe(4);
    expect(module1Qubits({ dim: 8 })).toBe(3);
    const f = headParameterCounts(shape);
    expect(f.module1).toBe(2 * 4 * 1);
    expect(f.linear).toBe((1 + 2 * 4) * 3 + 3);
    expect(trainableCount(quantumHead(shape, sim, 1))).toBe(f.total);
  });

  it('logits equal Module 1 run on rows with the constant appended, then Module 2 and the Linear', async () => {
    const B = 3;
    const x = new Float64Array(B * 8);
    new Rng(5).fillNormal(x, 1);
    const m = quantumHead(shape, sim, 4);
    const logits = await m.forward(x, B);
    const rows = new Float64Array(B * 9);
    for (let b = 0; b < B; b++) {
      rows.set(x.subarray(b * 8, (b + 1) * 8), b * 9);
      rows[b * 9 + 8] = 1.7;
    }
    const run = async (circuit: typeof m.module2.circuit, theta: Float64Array, inputs: Float64Array) =>
      (await sim.expval({ circuit, params: Float64Array.from(theta), inputs, batch: B })).expvals;
    const z0 = await run(m.module1[0].circuit, m.module1[0].theta.data as Float64Array, rows);
    const z1 = await run(m.module1[1].circuit, m.module1[1].theta.data as Float64Array, rows);
    const m1 = new Float64Array(B * 8);
    for (let b = 0; b < B; b++)
      for (let q = 0; q < 4; q++) {
        m1[b * 8 + q] = z0[b * 4 + q];
        m1[b * 8 + 4 + q] = z1[b * 4 + q];
      }
    const m2 = await run(m.module2.circuit, m.module2.theta.data as Float64Array, m1);
    const W = m.linear.weight.data;
    const bias = m.linear.bias!.data;
    for (let b = 0; b < B; b++)
      for (let c = 0; c < 3; c++) {
        const feats = [m2[b], ...m1.subarray(b * 8, (b + 1) * 8)];
        let v = bias[c];
        feats.forEach((f, k) => (v += W[c * 9 + k] * f));
        expect(logits[b * 3 + c]).toBeCloseTo(v, 12);
      }
  });

  it('gradient of every parameter matches f64 finite differences', async () => {
    const B = 3;
    const x = new Float64Array(B * 8);
    new Rng(9).fillUniform(x, -1, 1);
    const y = Int32Array.of(2, 0, 1);
    const m = quantumHead(shape, sim, 2);
    const loss = async () =>
      softmaxCrossEntropyForward(new Float64Array(B * 3), await m.forward(x, B), y, B, 3).loss;
    zeroGrad(m.parameters());
    const logits = await m.forward(x, B);
    const probs = new Float64Array(B * 3);
    const { count } = softmaxCrossEntropyForward(probs, logits, y, B, 3);
    const dl = new Float64Array(B * 3);
    softmaxCrossEntropyBackward(dl, probs, y, B, 3, count);
    await m.backward(dl);
    const h = 1e-5;
    for (const p of m.parameters())
      for (let i = 0; i < p.size; i++) {
        const g = p.grad[i];
        const v = p.data[i];
        p.data[i] = v + h;
        const lp = await loss();
        p.data[i] = v - h;
        const lm = await loss();
        p.data[i] = v;
        const fd = (lp - lm) / (2 * h);
        expect(Math.abs(g - fd), `${p.name}[${i}]`).toBeLessThan(1e-7 * Math.max(1, Math.abs(fd)));
      }
  });
});

describe('rmsNorm', () => {
  it('is √d for embeddings standardised with their own statistics', () => {
    const n = 50;
    const d = 7;
    const x = new Float64Array(n * d);
    new Rng(3).fillNormal(x, 2);
    for (let i = 0; i < x.length; i++) x[i] += 5;
    const s: EmbeddedSplit = { x, y: new Int32Array(n), n, dim: d };
    const st = standardize({ train: s });
    expect(rmsNorm(st.train)).toBeCloseTo(Math.sqrt(d), 10);
  });
});

describe('a class signal carried by the sign of the embedding', () => {
  // Two classes at ±μ around the origin: any function even in x sees the same distribution for both.
  // Without the bias amplitude the head stays at chance; with it, it separates them.
  function split(n: number, seed: number): EmbeddedSplit {
    const d = 8;
    const rng = new Rng(seed);
    const x = new Float64Array(n * d);
    rng.fillNormal(x, 0.5);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 2;
      const s = y[i] === 0 ? 1 : -1;
      for (let c = 0; c < d; c++) x[i * d + c] += s * (c < 4 ? 1 : -1);
    }
    return { x, y, n, dim: d };
  }
  const data = standardize({ train: split(64, 1), validation: split(64, 2), test: split(64, 3) });
  const shape: HeadShape = {
    dim: 8,
    classes: 2,
    encoders: 1,
    encoderDepth: 2,
    qubits: 3,
    depth: 1,
    finalDepth: 1,
    reuploads: 1,
    connectivity: 1,
    measured: 1,
    skip: true,
  };
  const testAccuracy = async (head: HeadShape) => {
    const x = { train: data.train.x, validation: data.validation.x, test: data.test.x };
    const spec = {
      key: 'quantum',
      label: 'quantum head',
      lrs: [0.05],
      loss: crossEntropyLoss(2),
      build: (seed: number) => featureClassifier(quantumHead(head, sim, seed), x, 8),
    };
    const opts = { epochs: 15, batchSize: 16, seeds: 1, plan: qheadSeedPlan(1), reference: 'quantum' };
    const c = await runComparison([spec], headData(data, 2), opts, { metrics: () => {} });
    return c.models[0].runs[0].test.accuracy;
  };

  it('is invisible without the bias amplitude and learnt with it', async () => {
    expect(await testAccuracy(shape)).toBeLessThan(0.7);
    expect(await testAccuracy({ ...shape, bias: rmsNorm(data.train) })).toBeGreaterThan(0.9);
  });
});
