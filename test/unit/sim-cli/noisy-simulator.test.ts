// The noisy Simulator: closed forms of channels on RX(θ), the noiseless limit against the CPU
// state-vector backend (f64), parameter-shift gradients against f64 finite differences under noise,
// trajectories against the density matrix, seeded shots within binomial error, and state() refusal.
import { describe, expect, it } from 'vitest';
import type { BatchRequest } from '../../../core/quantum/backend';
import { CircuitBuilder, type Circuit, type GateName } from '../../../core/quantum/circuit';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import { finiteDifferenceJacobian } from '../../../core/quantum/gradients';
import { parseNoiseModel, type NoiseModel } from '../../../core/quantum/noise';
import { createNoisySimulator } from '../../../core/quantum/noisy-simulator';
import { Rng } from '../../../core/util/rng';

const rxCircuit = (): Circuit => {
  const b = new CircuitBuilder(1);
  return b.gate('RX', [0], [b.p()]).build();
};
const one = (circuit: Circuit, theta: number[]): BatchRequest => ({
  circuit,
  params: theta,
  inputs: [],
  batch: 1,
});

/** A random circuit with trainable and input angles over a mix of one-, two- and three-wire gates. */
function randomCircuit(qubits: number, seed: number, ops = 14): Circuit {
  const rng = new Rng(seed);
  const gates: GateName[] = [
    'RX',
    'RY',
    'RZ',
    'H',
    'U3',
    'Rot',
    'CNOT',
    'CRZ',
    'CRX',
    'CU3',
    'RZZ',
    'RXX',
    'Toffoli',
  ];
  const b = new CircuitBuilder(qubits, 2);
  for (let i = 0; i < ops; i++) {
    let g = gates[rng.nextInt(gates.length)];
    if (g === 'Toffoli' && qubits < 3) g = 'CNOT';
    const k = g === 'Toffoli' ? 3 : ['CNOT', 'CRZ', 'CRX', 'CU3', 'RZZ', 'RXX'].includes(g) ? 2 : 1;
    const wires: number[] = [];
    while (wires.length < k) {
      const w = rng.nextInt(qubits);
      if (!wires.includes(w)) wires.push(w);
    }
    const nAngles =
      g === 'U3' || g === 'Rot' || g === 'CU3' ? 3 : g === 'H' || g === 'CNOT' || g === 'Toffoli' ? 0 : 1;
    const angles = Array.from({ length: nAngles }, () => {
      const r = rng.nextInt(3);
      return r === 0
        ? b.x(rng.nextInt(2), 0.5 + rng.nextFloat())
        : r === 1
          ? b.p()
          : b.c(rng.nextFloat() * 3 - 1.5);
    });
    b.gate(g, wires, angles);
  }
  return b.build();
}

function randomRequest(c: Circuit, batch: number, seed: number): BatchRequest {
  const rng = new Rng(seed);
  return {
    circuit: c,
    params: Float64Array.from({ length: c.numParams }, () => rng.nextFloat() * 4 - 2),
    inputs: Float64Array.from({ length: batch * c.numInputs }, () => rng.nextFloat() * 2 - 1),
    batch,
  };
}

const model = (v: unknown): NoiseModel => parseNoiseModel(v);

describe('noisy simulator: closed forms', () => {
  const thetas = [-2.1, -0.4, 0.7, 1.9];
  it('depolarizing(p) after RX(θ): ⟨Z⟩ = (1 − 4p/3)·cos θ, gradient −(1 − 4p/3)·sin θ', async () => {
    const p = 0.12;
    const sim = createNoisySimulator({
      noise: model({ rules: [{ channel: { type: 'depolarizing', p }, after: ['RX'] }] }),
    });
    for (const t of thetas) {
      const r = await sim.vjp(one(rxCircuit(), [t]), [1]);
      expect(r.expvals[0]).toBeCloseTo((1 - (4 * p) / 3) * Math.cos(t), 13);
      expect(r.dParams[0]).toBeCloseTo(-(1 - (4 * p) / 3) * Math.sin(t), 13);
    }
    expect(sim.info).toMatchObject({
      backend: 'cpu',
      mode: 'density-matrix',
      precision: 'f64',
      method: 'density',
    });
  });

  it('amplitude damping(γ) after RX(θ): P(1) = (1 − γ)·sin²(θ/2), d⟨Z⟩/dθ = −(1 − γ)·sin θ', async () => {
    const g = 0.3;
    const sim = createNoisySimulator({
      noise: model({ rules: [{ channel: { type: 'amplitudeDamping', gamma: g }, after: 'all' }] }),
    });
    for (const t of thetas) {
      const req = one(rxCircuit(), [t]);
      const pr = await sim.probs(req);
      expect(pr[1]).toBeCloseTo((1 - g) * Math.sin(t / 2) ** 2, 14);
      expect(pr[0] + pr[1]).toBeCloseTo(1, 14);
      const v = await sim.vjp(req, [1]);
      expect(v.dParams[0]).toBeCloseTo(-(1 - g) * Math.sin(t), 13);
    }
  });

  it('readout error: ⟨Z⟩ on |0⟩ is 1 − 2·p01 and probs are [1 − p01, p01]; the state stays pure', async () => {
    const sim = createNoisySimulator({ noise: model({ rules: [], readout: { p01: 0.07, p10: 0.2 } }) });
    const req = one(rxCircuit(), [0]);
    expect((await sim.expval(req)).expvals[0]).toBeCloseTo(1 - 2 * 0.07, 14);
    expect(Array.from(await sim.probs(req))).toEqual([expect.closeTo(0.93, 14), expect.closeTo(0.07, 14)]);
    // RX(π): |1⟩ reads 0 with p10
    expect((await sim.expval(one(rxCircuit(), [Math.PI]))).expvals[0]).toBeCloseTo(-(1 - 2 * 0.2), 14);
    const st = await sim.state(req);
    expect(Array.from(st)).toEqual([1, 0, 0, 0]);
  });

  it('state() refuses a mixed state; density() is Hermitian with unit trace', async () => {
    const noise = model({ rules: [{ channel: { type: 'phaseDamping', gamma: 0.4 }, after: 'all' }] });
    const sim = createNoisySimulator({ noise });
    const req = randomRequest(randomCircuit(3, 5), 2, 6);
    await expect(sim.state(req)).rejects.toThrow(/mixed state.*density\(\)/);
    const rho = await sim.density(req);
    const dim = 8;
    for (let b = 0; b < 2; b++) {
      const o = b * 2 * dim * dim;
      let tr = 0;
      let purity = 0;
      for (let i = 0; i < dim; i++) {
        tr += rho[o + 2 * (i * dim + i)];
        for (let j = 0; j < dim; j++) {
          const a = o + 2 * (i * dim + j);
          const c = o + 2 * (j * dim + i);
          expect(rho[a]).toBeCloseTo(rho[c], 14);
          expect(rho[a + 1]).toBeCloseTo(-rho[c + 1], 14);
          purity += rho[a] * rho[a] + rho[a + 1] * rho[a + 1];
        }
      }
      expect(tr).toBeCloseTo(1, 13);
      // the circuit dephases, so the state is really mixed
      expect(purity).toBeLessThan(0.999);
    }
  });
});

describe('noisy simulator: against the state-vector backend and finite differences', () => {
  it('with no noise it equals the CPU f64 backend: expval, probs, state and vjp', async () => {
    const cpu = createCpuSimulator({ precision: 'f64' });
    const noisy = createNoisySimulator();
    for (const seed of [1, 2, 3]) {
      const c = randomCircuit(3, seed);
      const req = randomRequest(c, 3, seed + 10);
      const g = Float64Array.from({ length: 9 }, (_, i) => Math.cos(i + seed));
      const [a, b] = [await cpu.vjp(req, g), await noisy.vjp(req, g)];
      for (let i = 0; i < a.expvals.length; i++) expect(b.expvals[i]).toBeCloseTo(a.expvals[i], 12);
      for (let i = 0; i < a.dParams.length; i++) expect(b.dParams[i]).toBeCloseTo(a.dParams[i], 11);
      for (let i = 0; i < a.dInputs.length; i++) expect(b.dInputs[i]).toBeCloseTo(a.dInputs[i], 11);
      const [pa, pb] = [await cpu.probs(req, [2, 0]), await noisy.probs(req, [2, 0])];
      for (let i = 0; i < pa.length; i++) expect(pb[i]).toBeCloseTo(pa[i], 12);
      const [sa, sb] = [await cpu.state(req), await noisy.state(req)];
      for (let i = 0; i < sa.length; i++) expect(sb[i]).toBeCloseTo(sa[i], 12);
    }
  });

  it('parameter-shift vjp under noise matches f64 finite differences of the density-matrix evaluator', async () => {
    const noise = model({
      rules: [
        { channel: { type: 'depolarizing', p: 0.05 }, after: ['CNOT', 'CRZ', 'CU3', 'RZZ'] },
        { channel: { type: 'amplitudeDamping', gamma: 0.08 }, after: 'all', wires: [0, 2] },
        { channel: { type: 'bitFlip', p: 0.03 }, after: ['RX', 'U3'] },
      ],
      readout: { p01: 0.02, p10: 0.04 },
    });
    const sim = createNoisySimulator({ noise });
    for (const seed of [21, 22]) {
      const c = randomCircuit(3, seed, 12);
      const req = randomRequest(c, 2, seed);
      const nObs = 3;
      const fd = await finiteDifferenceJacobian(async (r) => (await sim.expval(r)).expvals, req, 1e-5);
      const g = Float64Array.from({ length: 2 * nObs }, (_, i) => Math.sin(1 + i));
      const v = await sim.vjp(req, g);
      const P = c.numParams;
      for (let k = 0; k < P; k++) {
        let want = 0;
        for (let b = 0; b < 2; b++)
          for (let o = 0; o < nObs; o++) want += g[b * nObs + o] * fd.jParams[(b * nObs + o) * P + k];
        expect(v.dParams[k]).toBeCloseTo(want, 8);
      }
      const N = c.numInputs;
      for (let b = 0; b < 2; b++)
        for (let k = 0; k < N; k++) {
          let want = 0;
          for (let o = 0; o < nObs; o++) want += g[b * nObs + o] * fd.jInputs[(b * nObs + o) * N + k];
          expect(v.dInputs[b * N + k]).toBeCloseTo(want, 8);
        }
    }
  });
});

describe('noisy simulator: sampling', () => {
  const noise = model({
    rules: [
      { channel: { type: 'depolarizing', p: 0.06 }, after: 'all' },
      { channel: { type: 'phaseFlip', p: 0.1 }, after: ['H', 'RX', 'RY'] },
    ],
  });
  const c = randomCircuit(4, 31, 16);
  const req = randomRequest(c, 2, 32);

  it('trajectories beyond the density limit agree with the density matrix within 5 standard errors, reproducibly', async () => {
    const exact = await createNoisySimulator({ noise }).expval(req);
    const traj = createNoisySimulator({ noise, densityLimit: 3, trajectories: 400, seed: 9 });
    expect(traj.methodFor(4)).toBe('trajectories');
    const a = await traj.expval(req);
    expect(a.info).toMatchObject({
      mode: 'trajectories',
      method: 'trajectories',
      trajectories: 400,
      seed: 9,
    });
    const b = await createNoisySimulator({ noise, densityLimit: 3, trajectories: 400, seed: 9 }).expval(req);
    expect(Array.from(b.expvals)).toEqual(Array.from(a.expvals));
    // per-term bound: |⟨P⟩| ≤ 1, so a trajectory mean has standard error ≤ 1/√K
    for (let i = 0; i < a.expvals.length; i++)
      expect(Math.abs(a.expvals[i] - exact.expvals[i])).toBeLessThan(5 / Math.sqrt(400));
    const differentSeed = await createNoisySimulator({
      noise,
      densityLimit: 3,
      trajectories: 400,
      seed: 10,
    }).expval(req);
    expect(Array.from(differentSeed.expvals)).not.toEqual(Array.from(a.expvals));
  });

  it('shots: seeded estimates are reproducible bit for bit and within binomial error of the exact values', async () => {
    const shots = 4000;
    const exactSim = createNoisySimulator({ noise });
    const exact = await exactSim.expval(req);
    const exactProbs = await exactSim.probs(req);
    const s1 = createNoisySimulator({ noise, shots, seed: 77 });
    const s2 = createNoisySimulator({ noise, shots, seed: 77 });
    const [e1, e2] = [await s1.expval(req), await s2.expval(req)];
    expect(Array.from(e1.expvals)).toEqual(Array.from(e2.expvals));
    expect(s1.info.shots).toBe(shots);
    for (let i = 0; i < e1.expvals.length; i++) {
      const m = exact.expvals[i];
      const sd = Math.sqrt((1 - m * m) / shots);
      expect(Math.abs(e1.expvals[i] - m)).toBeLessThan(5 * sd + 1e-12);
      // a shot mean of ±1 outcomes is a multiple of 2/shots
      expect(Number.isInteger(Math.round((((e1.expvals[i] + 1) * shots) / 2) * 1e6) / 1e6)).toBe(true);
    }
    const p1 = await s1.probs(req);
    for (let i = 0; i < p1.length; i++) {
      const p = exactProbs[i];
      expect(Math.abs(p1[i] - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / shots) + 1e-12);
      expect(Math.abs(p1[i] * shots - Math.round(p1[i] * shots))).toBeLessThan(1e-9);
    }
    // the stream advances: a second call draws new shots; reseed restarts it
    const again = await s1.expval(req);
    expect(Array.from(again.expvals)).not.toEqual(Array.from(e1.expvals));
    s1.reseed(77);
    expect(Array.from((await s1.expval(req)).expvals)).toEqual(Array.from(e1.expvals));
  });

  it('shot-based parameter shift: gradient within a few standard errors of the exact noisy gradient', async () => {
    const noise1 = model({ rules: [{ channel: { type: 'depolarizing', p: 0.12 }, after: ['RX'] }] });
    const shots = 20000;
    const sim = createNoisySimulator({ noise: noise1, shots, seed: 4 });
    const t = 0.9;
    const v = await sim.vjp(one(rxCircuit(), [t]), [1]);
    const f = 1 - (4 * 0.12) / 3;
    // (f(θ+π/2) − f(θ−π/2))/2: two independent shot means, each with variance ≤ 1/shots
    expect(Math.abs(v.dParams[0] + f * Math.sin(t))).toBeLessThan(5 * Math.sqrt(0.5 / shots));
    expect(v.dParams[0]).not.toBe(-f * Math.sin(t));
  });

  it('rejects bad options with the field name', () => {
    expect(() => createNoisySimulator({ shots: 0 })).toThrow(/^shots:/);
    expect(() => createNoisySimulator({ densityLimit: 13 })).toThrow(/^densityLimit:/);
    expect(() => createNoisySimulator({ trajectories: 1.5 })).toThrow(/^trajectories:/);
  });
});
