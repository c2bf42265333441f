import { describe, expect, it } from 'vitest';
import { CircuitBuilder, type Circuit, type PauliTerm } from '../../../core/quantum/circuit';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import {
  applyChannelDensity,
  densityExpval,
  densityMatrix,
  matrixScratch,
  pauliExpvalDensity,
} from '../../../core/quantum/density';
import { gateMatrix } from '../../../core/quantum/gates';
import {
  krausOperators,
  parseNoiseModel,
  type ChannelSpec,
  type NoiseModel,
} from '../../../core/quantum/noise';
import { Rng } from '../../../core/util/rng';
import {
  applyChannelTrajectory,
  noisyExpval,
  pauliExpvalState,
  trajectoryExpval,
} from '../../../core/quantum/trajectories';
import { batchRequest as req, denseState } from '../../helpers/quantum';

/** ρ after one gate on |0…0⟩ then the channel on wire 0, via the noise model. */
function oneQubit(prep: (b: CircuitBuilder) => void, channel: ChannelSpec, obs: PauliTerm[]): number[] {
  const b = new CircuitBuilder(1);
  prep(b);
  b.observe(obs);
  const noise: NoiseModel = { rules: [{ channel, after: 'all' }] };
  return [...densityExpval(req(b.build()), noise).expvals];
}

const Z = [{ ops: [{ wire: 0, pauli: 'Z' as const }] }];
const X = [{ ops: [{ wire: 0, pauli: 'X' as const }] }];

describe('channel closed forms (PennyLane conventions)', () => {
  const p = 0.23;
  it('depolarizing on |0⟩: ⟨Z⟩ = 1 − 4p/3; on |+⟩: ⟨X⟩ = 1 − 4p/3', () => {
    expect(oneQubit((b) => b.gate('I', [0]), { type: 'depolarizing', p }, Z)[0]).toBeCloseTo(
      1 - (4 * p) / 3,
      14,
    );
    expect(oneQubit((b) => b.gate('H', [0]), { type: 'depolarizing', p }, X)[0]).toBeCloseTo(
      1 - (4 * p) / 3,
      14,
    );
  });
  it('amplitude damping on |1⟩: ⟨Z⟩ = 2γ − 1; on |+⟩: ⟨X⟩ = √(1−γ)', () => {
    expect(oneQubit((b) => b.gate('X', [0]), { type: 'amplitudeDamping', gamma: p }, Z)[0]).toBeCloseTo(
      2 * p - 1,
      14,
    );
    expect(oneQubit((b) => b.gate('H', [0]), { type: 'amplitudeDamping', gamma: p }, X)[0]).toBeCloseTo(
      Math.sqrt(1 - p),
      14,
    );
  });
  it('amplitude damping on RY(θ)|0⟩: ⟨Z⟩ = 1 − (1−γ)(1 − cos θ)', () => {
    const t = 1.1;
    expect(oneQubit((b) => b.gate('RY', [0], [t]), { type: 'amplitudeDamping', gamma: p }, Z)[0]).toBeCloseTo(
      1 - (1 - p) * (1 - Math.cos(t)),
      14,
    );
  });
  it('phase damping on |+⟩: ⟨X⟩ = √(1−γ), ⟨Z⟩ unchanged', () => {
    expect(oneQubit((b) => b.gate('H', [0]), { type: 'phaseDamping', gamma: p }, X)[0]).toBeCloseTo(
      Math.sqrt(1 - p),
      14,
    );
    expect(oneQubit((b) => b.gate('RY', [0], [0.7]), { type: 'phaseDamping', gamma: p }, Z)[0]).toBeCloseTo(
      Math.cos(0.7),
      14,
    );
  });
  it('bit flip on |0⟩: ⟨Z⟩ = 1 − 2p; phase flip on |+⟩: ⟨X⟩ = 1 − 2p', () => {
    expect(oneQubit((b) => b.gate('I', [0]), { type: 'bitFlip', p }, Z)[0]).toBeCloseTo(1 - 2 * p, 14);
    expect(oneQubit((b) => b.gate('H', [0]), { type: 'phaseFlip', p }, X)[0]).toBeCloseTo(1 - 2 * p, 14);
  });
  it('every Kraus set is trace preserving: Σ K†K = I', () => {
    const specs: ChannelSpec[] = [
      { type: 'depolarizing', p: 0.3 },
      { type: 'amplitudeDamping', gamma: 0.4 },
      { type: 'phaseDamping', gamma: 0.6 },
      { type: 'bitFlip', p: 0.1 },
      { type: 'phaseFlip', p: 0.9 },
    ];
    for (const s of specs) {
      const acc = new Float64Array(8);
      for (const K of krausOperators(s))
        for (let r = 0; r < 2; r++)
          for (let c = 0; c < 2; c++)
            for (let k = 0; k < 2; k++) {
              // (K†K)_{rc} = Σ_k conj(K_kr) K_kc
              const ar = K[2 * (2 * k + r)];
              const ai = -K[2 * (2 * k + r) + 1];
              const br = K[2 * (2 * k + c)];
              const bi = K[2 * (2 * k + c) + 1];
              acc[2 * (2 * r + c)] += ar * br - ai * bi;
              acc[2 * (2 * r + c) + 1] += ar * bi + ai * br;
            }
      expect([...acc].map((v) => +v.toFixed(13))).toEqual([1, 0, 0, 0, 0, 0, 1, 0]);
    }
  });
  it('readout error: ⟨Z⟩ on |0⟩ is 1 − 2·p01, on |1⟩ is 2·p10 − 1; probs go through the confusion matrix', () => {
    const noise: NoiseModel = { rules: [], readout: { p01: 0.1, p10: 0.25 } };
    const c0 = new CircuitBuilder(2).gate('X', [1]).build();
    const r = densityExpval(req(c0), noise);
    expect(r.expvals[0]).toBeCloseTo(0.8, 14);
    expect(r.expvals[1]).toBeCloseTo(-0.5, 14);
    // |01⟩: wire0 reads 0 w.p. 0.9, wire1 reads 1 w.p. 0.75
    [0.9 * 0.25, 0.9 * 0.75, 0.1 * 0.25, 0.1 * 0.75].forEach((v, i) => expect(r.probs[i]).toBeCloseTo(v, 14));
    // ZZ on |01⟩ = −1 exactly; with independent flips E = (1−2·p01)(2·p10−1)
    const zz = new CircuitBuilder(2)
      .gate('X', [1])
      .observe([
        {
          ops: [
            { wire: 0, pauli: 'Z' },
            { wire: 1, pauli: 'Z' },
          ],
        },
      ])
      .build();
    expect(densityExpval(req(zz), noise).expvals[0]).toBeCloseTo(0.8 * -0.5, 14);
  });
});

describe('noise model validation', () => {
  it('accepts a valid model and normalises gate aliases', () => {
    const m = parseNoiseModel(
      {
        rules: [{ channel: { type: 'bitFlip', p: 0.1 }, after: ['CX', 'RY'], wires: [0] }],
        readout: { p01: 0.02 },
      },
      2,
    );
    expect(m.rules[0].after).toEqual(['CNOT', 'RY']);
    expect(m.readout).toEqual({ p01: 0.02, p10: 0 });
  });
  const bad: [unknown, RegExp][] = [
    [
      { rules: [{ channel: { type: 'depolarizing', p: 1.5 } }] },
      /^noise\.rules\[0\]\.channel\.p: must be a probability/,
    ],
    [
      { rules: [{ channel: { type: 'amplitudeDamping', p: 0.1 } }] },
      /^noise\.rules\[0\]\.channel\.gamma: must be a probability/,
    ],
    [
      { rules: [{ channel: { type: 'thermal', p: 0.1 } }] },
      /^noise\.rules\[0\]\.channel\.type: type must be one of/,
    ],
    [
      { rules: [{ channel: { type: 'bitFlip', p: 0.1 }, after: ['FOO'] }] },
      /^noise\.rules\[0\]\.after\[0\]: unknown gate "FOO"/,
    ],
    [
      { rules: [{ channel: { type: 'bitFlip', p: 0.1 }, wires: [5] }] },
      /^noise\.rules\[0\]\.wires\[0\]: wire must be an integer in \[0, 2\]/,
    ],
    [{ readout: { p01: -0.1 } }, /^noise\.readout\.p01: must be a probability/],
    [{ rules: 3 }, /^noise\.rules: must be an array/],
  ];
  for (const [v, re] of bad) it(re.source, () => expect(() => parseNoiseModel(v, 3)).toThrow(re));
});

function randomCircuit(qubits: number, layers: number): Circuit {
  const b = new CircuitBuilder(qubits, qubits);
  for (let l = 0; l < layers; l++) {
    for (let w = 0; w < qubits; w++) b.gate('RY', [w], [b.x(w, 0.7)]).gate('RZ', [w], [b.p()]);
    for (let w = 0; w + 1 < qubits; w++) b.gate(l % 2 ? 'CRX' : 'CNOT', [w, w + 1], l % 2 ? [b.p()] : []);
    b.gate('RXX', [0, qubits - 1], [b.p()]);
  }
  b.observe([
    { ops: [{ wire: 0, pauli: 'Z' }] },
    {
      coeff: 0.5,
      ops: [
        { wire: 1, pauli: 'X' },
        { wire: qubits - 1, pauli: 'Y' },
      ],
    },
    {
      ops: [
        { wire: 0, pauli: 'Y' },
        { wire: 1, pauli: 'Z' },
        { wire: 2, pauli: 'X' },
      ],
    },
  ]);
  return b.build();
}

const seqParams = (n: number): number[] => Array.from({ length: n }, (_, i) => Math.sin(1.3 * i + 0.2) * 2);

describe('density matrix', () => {
  const noise: NoiseModel = {
    rules: [
      { channel: { type: 'depolarizing', p: 0.05 }, after: ['CNOT', 'CRX', 'RXX'] },
      { channel: { type: 'amplitudeDamping', gamma: 0.08 }, after: 'all', wires: [0, 2] },
      { channel: { type: 'phaseDamping', gamma: 0.1 }, after: ['RY'] },
    ],
  };

  it('noiseless ρ equals |ψ⟩⟨ψ| of the reference state vector', () => {
    const c = randomCircuit(3, 2);
    const params = seqParams(c.numParams);
    const inputs = [0.3, -0.8, 1.2];
    const psi = denseState(c, params, inputs);
    const { rho } = densityMatrix(req(c, params, inputs), undefined, 0);
    const dim = 8;
    let maxErr = 0;
    for (let r = 0; r < dim; r++)
      for (let k = 0; k < dim; k++) {
        const re = psi[2 * r] * psi[2 * k] + psi[2 * r + 1] * psi[2 * k + 1];
        const im = psi[2 * r + 1] * psi[2 * k] - psi[2 * r] * psi[2 * k + 1];
        maxErr = Math.max(
          maxErr,
          Math.abs(rho[2 * (r * dim + k)] - re),
          Math.abs(rho[2 * (r * dim + k) + 1] - im),
        );
      }
    expect(maxErr).toBeLessThan(1e-13);
  });

  it('noiseless expvals and probs equal the CPU simulator (f64), with amplitude encoding and a batch', async () => {
    const b = new CircuitBuilder(3, 6);
    b.amplitude([0, 2], 0, 3);
    for (let w = 0; w < 3; w++) b.gate('RY', [w], [b.x(3 + w)]);
    b.gate('CNOT', [0, 1])
      .gate('CRZ', [1, 2], [b.p()])
      .gate('Toffoli', [2, 0, 1])
      .gate('U3', [1], [b.p(), b.p(), 0.4]);
    b.observe([
      {
        ops: [
          { wire: 0, pauli: 'X' },
          { wire: 1, pauli: 'Y' },
        ],
      },
      { coeff: -2, ops: [{ wire: 2, pauli: 'Z' }] },
    ]);
    const c = b.build();
    const inputs = [0.5, -1, 2, 0.1, 0.2, 0.3, 3, 0, -1, -0.4, 1.5, 0.9];
    const r = req(c, [0.3, -1.2, 2.2], inputs, 2);
    const sim = createCpuSimulator({ precision: 'f64' });
    try {
      const ref = await sim.expval(r);
      const refProbs = await sim.probs(r);
      const dm = densityExpval(r);
      for (let i = 0; i < ref.expvals.length; i++) expect(dm.expvals[i]).toBeCloseTo(ref.expvals[i], 12);
      for (let i = 0; i < refProbs.length; i++) expect(dm.probs[i]).toBeCloseTo(refProbs[i], 12);
      expect([...dm.norms]).toEqual([Math.hypot(0.5, -1, 2), Math.hypot(3, 0, -1)]);
    } finally {
      sim.dispose();
    }
  });

  it('stays a density matrix under noise: trace 1, Hermitian, purity ≤ 1, |⟨P⟩| ≤ 1', () => {
    const c = randomCircuit(4, 2);
    const params = seqParams(c.numParams);
    const { rho } = densityMatrix(req(c, params, [0.1, 0.2, 0.3, 0.4]), noise, 0);
    const dim = 16;
    let tr = 0;
    let herm = 0;
    let purity = 0;
    for (let r = 0; r < dim; r++) {
      tr += rho[2 * (r * dim + r)];
      expect(Math.abs(rho[2 * (r * dim + r) + 1])).toBeLessThan(1e-15);
      for (let k = 0; k < dim; k++) {
        const a = 2 * (r * dim + k);
        const b = 2 * (k * dim + r);
        herm = Math.max(herm, Math.abs(rho[a] - rho[b]), Math.abs(rho[a + 1] + rho[b + 1]));
        // Tr ρ² = Σ |ρ_rk|² for Hermitian ρ
        purity += rho[a] * rho[a] + rho[a + 1] * rho[a + 1];
      }
    }
    expect(tr).toBeCloseTo(1, 13);
    expect(herm).toBeLessThan(1e-14);
    expect(purity).toBeLessThan(1 - 1e-3);
    expect(purity).toBeGreaterThan(1 / dim);
    for (const t of c.observables ?? [])
      expect(Math.abs(pauliExpvalDensity(rho, 4, t))).toBeLessThanOrEqual(Math.abs(t.coeff ?? 1) + 1e-12);
  });

  it('handles 10 qubits', () => {
    const b = new CircuitBuilder(10);
    for (let w = 0; w < 10; w++) b.gate('H', [w]);
    for (let w = 0; w < 9; w++) b.gate('CNOT', [w, w + 1]);
    const c = b.build();
    const r = densityExpval(req(c), { rules: [{ channel: { type: 'bitFlip', p: 0.1 }, after: ['H'] }] });
    // H then bit flip leaves |+⟩ unchanged, so every ⟨Z⟩ stays 0
    for (const v of r.expvals) expect(Math.abs(v)).toBeLessThan(1e-12);
    expect(r.probs.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
  });
});

describe('trajectories', () => {
  it('a single-Kraus-choice step matches the exact channel on average for a generic (non-diagonal) Kraus set', () => {
    // K0 = √0.3·U3(a), K1 = √0.7·U3(b): a valid channel whose Kraus rows have two non-zero entries
    const u1 = gateMatrix('U3', [0.9, 0.4, -1.1]).map((v) => v * Math.sqrt(0.3));
    const u2 = gateMatrix('U3', [2.1, -0.7, 0.5]).map((v) => v * Math.sqrt(0.7));
    const c = new CircuitBuilder(2)
      .gate('U3', [0], [1.2, 0.3, 0.8])
      .gate('CNOT', [0, 1])
      .gate('RX', [1], [0.6])
      .build();
    const psi0 = denseState(c);
    const rho = new Float64Array(2 * 16);
    for (let r = 0; r < 4; r++)
      for (let k = 0; k < 4; k++) {
        rho[2 * (r * 4 + k)] = psi0[2 * r] * psi0[2 * k] + psi0[2 * r + 1] * psi0[2 * k + 1];
        rho[2 * (r * 4 + k) + 1] = psi0[2 * r + 1] * psi0[2 * k] - psi0[2 * r] * psi0[2 * k + 1];
      }
    applyChannelDensity(rho, 2, 0, [u1, u2], new Float64Array(32), new Float64Array(32), matrixScratch());
    const terms: PauliTerm[] = [
      { ops: [{ wire: 0, pauli: 'X' }] },
      {
        ops: [
          { wire: 0, pauli: 'Y' },
          { wire: 1, pauli: 'Z' },
        ],
      },
    ];
    const exact = terms.map((t) => pauliExpvalDensity(rho, 2, t));
    const rng = new Rng(11);
    const K = 20000;
    const sums = [0, 0];
    let count0 = 0;
    for (let k = 0; k < K; k++) {
      const s = psi0.slice();
      if (applyChannelTrajectory(s, 2, 0, [u1, u2], rng, matrixScratch()) === 0) count0++;
      terms.forEach((t, i) => (sums[i] += pauliExpvalState(s, 2, t)));
    }
    // unitary mixture: the choice probabilities are 0.3 / 0.7 whatever the state
    expect(Math.abs(count0 / K - 0.3)).toBeLessThan(4 * Math.sqrt((0.3 * 0.7) / K));
    terms.forEach((_, i) => expect(Math.abs(sums[i] / K - exact[i])).toBeLessThan(4 / Math.sqrt(K)));
  });

  it('converge to the density-matrix result within 4 standard errors, reproducibly for a seed', () => {
    const c = randomCircuit(3, 2);
    const params = seqParams(c.numParams);
    const noise: NoiseModel = {
      rules: [
        { channel: { type: 'depolarizing', p: 0.1 }, after: 'all' },
        { channel: { type: 'amplitudeDamping', gamma: 0.15 }, after: ['CNOT', 'CRX'] },
        { channel: { type: 'phaseFlip', p: 0.05 }, after: ['RY'], wires: [1] },
      ],
      readout: { p01: 0.03, p10: 0.08 },
    };
    const r = req(c, params, [0.1, 0.5, -0.7, 1.0, 0.2, -0.3], 2);
    const exact = densityExpval(r, noise);
    const traj = trajectoryExpval(r, noise, { trajectories: 600, seed: 5 });
    const again = trajectoryExpval(r, noise, { trajectories: 600, seed: 5 });
    expect([...again.expvals]).toEqual([...traj.expvals]);
    const stderr = traj.stderr as Float64Array;
    for (let i = 0; i < exact.expvals.length; i++) {
      expect(stderr[i]).toBeGreaterThan(0);
      expect(Math.abs(traj.expvals[i] - exact.expvals[i])).toBeLessThan(4 * stderr[i] + 1e-12);
    }
    for (let i = 0; i < exact.probs.length; i++)
      expect(Math.abs(traj.probs[i] - exact.probs[i])).toBeLessThan(0.05);
    // a different seed gives different numbers
    expect([...trajectoryExpval(r, noise, { trajectories: 600, seed: 6 }).expvals]).not.toEqual([
      ...traj.expvals,
    ]);
  });

  it('noisyExpval picks density up to the limit and trajectories beyond', () => {
    const c = randomCircuit(3, 1);
    const r = req(c, seqParams(c.numParams), [0.1, 0.2, 0.3]);
    const noise: NoiseModel = { rules: [{ channel: { type: 'bitFlip', p: 0.02 }, after: 'all' }] };
    expect(noisyExpval(r, noise).method).toBe('density');
    const t = noisyExpval(r, noise, { densityLimit: 2, trajectories: 10, seed: 1 });
    expect(t.method).toBe('trajectories');
    expect(t.trajectories).toBe(10);
  });
});
