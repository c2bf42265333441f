import { describe, expect, it } from 'vitest';
import { softmaxCrossEntropyBackward, softmaxCrossEntropyForward } from '../../../core/nn/losses';
import { Rng } from '../../../core/nn/rng';
import { zeroGrad } from '../../../core/nn/tensor';
import type { Simulator } from '../../../core/quantum/backend';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import type { HeadShape } from '../../../core/methods/qhead/circuits';
import { module2Circuit } from '../../../core/methods/qhead/circuits';
import { quantumHead } from '../../../core/methods/qhead/models';
import type { FeatureModel } from '../../../core/methods/harness/classifier';
import { createShotSimulator, createSimulatorFor } from '../../../core/quantum/sampled-simulators';

const shape: HeadShape = {
  dim: 5, // 3 qubits, zero-padded to 8 amplitudes
  classes: 3,
  encoders: 2,
  encoderDepth: 1,
  qubits: 3,
  depth: 1,
  finalDepth: 1,
  reuploads: 2,
  connectivity: 2,
  measured: 2,
  skip: true,
};
const B = 3;
const x = new Float64Array(B * shape.dim);
new Rng(7).fillUniform(x, -1, 1);
const y = Int32Array.of(0, 2, 1);

async function lossOf(m: FeatureModel): Promise<number> {
  const logits = await m.forward(x, B);
  return softmaxCrossEntropyForward(new Float64Array(B * 3), logits, y, B, 3).loss;
}

async function analyticGrads(m: FeatureModel): Promise<Float64Array[]> {
  zeroGrad(m.parameters());
  const logits = await m.forward(x, B);
  const probs = new Float64Array(B * 3);
  const { count } = softmaxCrossEntropyForward(probs, logits, y, B, 3);
  const dl = new Float64Array(B * 3);
  softmaxCrossEntropyBackward(dl, probs, y, B, 3, count);
  await m.backward(dl);
  return m.parameters().map((p) => Float64Array.from(p.grad));
}

async function checkAgainstFd(m: FeatureModel, tol: number) {
  const grads = await analyticGrads(m);
  const h = 1e-5;
  let checked = 0;
  const params = m.parameters();
  for (let pi = 0; pi < params.length; pi++) {
    const p = params[pi];
    for (let i = 0; i < p.size; i++) {
      const v = p.data[i];
      p.data[i] = v + h;
      const lp = await lossOf(m);
      p.data[i] = v - h;
      const lm = await lossOf(m);
      p.data[i] = v;
      const fd = (lp - lm) / (2 * h);
      expect(
        Math.abs(grads[pi][i] - fd),
        `${p.name}[${i}]: analytic ${grads[pi][i]} vs fd ${fd}`,
      ).toBeLessThan(tol * Math.max(1, Math.abs(fd)));
      checked++;
    }
  }
  return checked;
}

describe('quantum head gradient', () => {
  it('adjoint gradient of every parameter (Module 1, shared PQC1, PQC2, Linear) matches f64 finite differences', async () => {
    const sim = createCpuSimulator({ precision: 'f64' });
    const m = quantumHead(shape, sim, 3);
    const n = await checkAgainstFd(m, 1e-7);
    expect(n).toBe(2 * 3 + 3 * 2 + (2 + 6) * 3 + 3);
  });

  it('parameter shift over the noisy density-matrix simulator matches finite differences of the same noisy model', async () => {
    const sim = createSimulatorFor({
      shots: null,
      noise: { CNOT: 0.02, RY: 0.005 },
      trajectories: 10,
      seed: 1,
    });
    const m = quantumHead({ ...shape, encoders: 1 }, sim, 5);
    await checkAgainstFd(m, 1e-7);
    // and noise changes the outputs relative to the exact simulator
    const exact = quantumHead({ ...shape, encoders: 1 }, createCpuSimulator({ precision: 'f64' }), 5);
    const a = await m.forward(x, B);
    const b = await exact.forward(x, B);
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeGreaterThan(1e-4);
  });
});

describe('shots', () => {
  const c = module2Circuit({
    features: 3,
    qubits: 3,
    depth: 1,
    finalDepth: 1,
    reuploads: 2,
    connectivity: 1,
    measured: 3,
  });
  const params = Float64Array.from({ length: c.numParams }, (_, i) => 0.3 + 0.41 * i);
  const inputs = Float64Array.of(0.1, -0.5, 0.7, 0.3, 0.2, -0.9);
  const req = { circuit: c, params, inputs, batch: 2 };
  const g = Float64Array.of(1, -0.5, 0.25, 0.5, 1, -1);

  async function run(sim: Simulator) {
    const f = await sim.expval(req);
    const v = await sim.vjp(req, g);
    return [...f.expvals, ...v.dParams, ...v.dInputs];
  }

  it('is reproducible bit for bit for a seed and differs for another seed', async () => {
    const a = await run(createShotSimulator(200, 42));
    const b = await run(createShotSimulator(200, 42));
    const c2 = await run(createShotSimulator(200, 43));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c2);
  });

  it('estimates agree with the exact values within sampling error, and parameter shift with the adjoint', async () => {
    const shots = 40_000;
    const exact = createCpuSimulator({ precision: 'f64' });
    const e = await exact.expval(req);
    const s = await createShotSimulator(shots, 9).expval(req);
    for (let i = 0; i < e.expvals.length; i++) {
      const sigma = Math.sqrt((1 - e.expvals[i] ** 2) / shots);
      expect(Math.abs(s.expvals[i] - e.expvals[i])).toBeLessThan(5 * sigma + 1e-12);
    }
    const ve = await exact.vjp(req, g);
    const vs = await createShotSimulator(shots, 9).vjp(req, g);
    // each derivative is a sum of ≤ 2·|g|-weighted shot estimates: a loose 5σ-style bound
    const bound = 5 * 2 * 3 * Math.sqrt(1 / shots) * 2;
    for (let i = 0; i < ve.dParams.length; i++)
      expect(Math.abs(vs.dParams[i] - ve.dParams[i])).toBeLessThan(bound);
  });
});
