import { describe, expect, it } from 'vitest';
import { CircuitBuilder, type PauliTerm } from '../../../core/quantum/circuit';
import { densityExpval, densityMatrix, rotatedDiagonalDensity } from '../../../core/quantum/density';
import { createRng, Rng } from '../../../core/util/rng';
import {
  AliasTable,
  countsOf,
  estimateExpvals,
  measurementGroups,
  rotatedProbabilitiesState,
  sampleCounts,
  sampleIndices,
  shotExpvalsFromStates,
} from '../../../core/quantum/shots';
import { pauliExpvalState } from '../../../core/quantum/trajectories';
import { denseState } from '../../helpers/quantum';

describe('xoshiro128**', () => {
  it('matches the reference C implementation from state {1, 2, 3, 4}', () => {
    const r = new Rng(0);
    r.setState([1, 2, 3, 4]);
    // printed by xoshiro128starstar.c (prng.di.unimi.it) compiled with gcc
    expect(Array.from({ length: 8 }, () => r.nextU32())).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849,
    ]);
    for (let i = 0; i < 992; i++) r.nextU32();
    expect(r.nextU32()).toBe(136054147);
  });

  it('is reproducible for a seed, differs across seeds, and saves/restores its state', () => {
    const a = createRng(42);
    const b = createRng(42);
    const xs = Array.from({ length: 100 }, () => a.nextFloat());
    expect(Array.from({ length: 100 }, () => b.nextFloat())).toEqual(xs);
    expect(createRng(43).nextFloat()).not.toBe(xs[0]);
    const saved = a.getState();
    const next = a.nextU32();
    a.setState(saved);
    expect(a.nextU32()).toBe(next);
    expect(() => a.setState([0, 0, 0, 0])).toThrow(/all zero/);
  });

  it('floats are uniform in [0,1) and integers unbiased in range', () => {
    const r = createRng(7);
    const N = 200000;
    let sum = 0;
    const bins = new Array(6).fill(0);
    for (let i = 0; i < N; i++) {
      const u = r.nextFloat();
      expect(u >= 0 && u < 1).toBe(true);
      sum += u;
      bins[r.nextInt(6)]++;
    }
    expect(Math.abs(sum / N - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / N));
    for (const c of bins)
      expect(Math.abs(c / N - 1 / 6)).toBeLessThan(4 * Math.sqrt(((1 / 6) * (5 / 6)) / N));
    expect(() => r.nextInt(0)).toThrow(/nextInt/);
  });
});

describe('shots', () => {
  it('alias sampling reproduces the distribution (binomial tolerance) and is reproducible', () => {
    const probs = [0.5, 0, 0.125, 0.375, 0, 0, 0, 0];
    const N = 100000;
    const s = sampleIndices(probs, N, new Rng(3));
    expect([...sampleIndices(probs, N, new Rng(3))]).toEqual([...s]);
    const counts = countsOf(s, 3);
    expect(Object.keys(counts)).toEqual(['000', '010', '011']);
    for (const [k, c] of Object.entries(counts)) {
      const p = probs[parseInt(k, 2)];
      expect(Math.abs(c / N - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / N));
    }
    expect(() => new AliasTable([0, 0])).toThrow(/all zero/);
    expect(() => sampleIndices([1], 0, new Rng(1))).toThrow(/shots/);
  });

  it('groups qubit-wise commuting terms', () => {
    const terms: PauliTerm[] = [
      { ops: [{ wire: 0, pauli: 'Z' }] },
      { ops: [{ wire: 1, pauli: 'X' }] },
      { ops: [{ wire: 0, pauli: 'X' }] },
      {
        ops: [
          { wire: 0, pauli: 'Z' },
          { wire: 1, pauli: 'X' },
        ],
      },
    ];
    const g = measurementGroups(terms, 2);
    expect(g.map((x) => x.terms)).toEqual([[0, 1, 3], [2]]);
    expect(g[0].basis).toEqual(['Z', 'X']);
  });

  it('rotated probabilities give ⟨P⟩ as a Z-parity sum (X, Y, Z terms)', () => {
    const c = new CircuitBuilder(3)
      .gate('U3', [0], [1.1, 0.3, -0.6])
      .gate('CNOT', [0, 1])
      .gate('RY', [2], [0.8])
      .gate('CRX', [2, 1], [1.7])
      .build();
    const psi = denseState(c);
    const term: PauliTerm = {
      ops: [
        { wire: 0, pauli: 'Y' },
        { wire: 1, pauli: 'X' },
        { wire: 2, pauli: 'Z' },
      ],
    };
    const p = rotatedProbabilitiesState(psi, 3, ['Y', 'X', 'Z']);
    let e = 0;
    for (let i = 0; i < 8; i++) e += p[i] * (((i >> 2) ^ (i >> 1) ^ i) & 1 ? -1 : 1);
    expect(e).toBeCloseTo(pauliExpvalState(psi, 3, term), 13);
    // the density-matrix version of the same rotation agrees
    const { rho } = densityMatrix({ circuit: c, params: [], inputs: [], batch: 1 }, undefined, 0);
    const d = rotatedDiagonalDensity(rho, 3, ['Y', 'X', 'Z']);
    for (let i = 0; i < 8; i++) expect(d[i]).toBeCloseTo(p[i], 13);
  });

  it('shot estimates converge to exact values within binomial error, reproducible per seed', () => {
    const c = new CircuitBuilder(2)
      .gate('RY', [0], [0.9])
      .gate('CNOT', [0, 1])
      .gate('RX', [1], [0.4])
      .build();
    const psi = denseState(c);
    const states = new Float64Array([...psi, ...psi]);
    const terms: PauliTerm[] = [
      { ops: [{ wire: 0, pauli: 'Z' }] },
      {
        coeff: 2,
        ops: [
          { wire: 0, pauli: 'X' },
          { wire: 1, pauli: 'X' },
        ],
      },
      {
        ops: [
          { wire: 0, pauli: 'Y' },
          { wire: 1, pauli: 'Y' },
        ],
      },
    ];
    const shots = 20000;
    const est = shotExpvalsFromStates(states, 2, 2, terms, shots, 99);
    expect([...shotExpvalsFromStates(states, 2, 2, terms, shots, 99).expvals]).toEqual([...est.expvals]);
    // rows get independent streams, so two identical states give different estimates
    expect(est.expvals[0]).not.toBe(est.expvals[3]);
    terms.forEach((t, i) => {
      const exact = pauliExpvalState(psi, 2, t);
      const sd = Math.abs(t.coeff ?? 1) * Math.sqrt((1 - (exact / (t.coeff ?? 1)) ** 2) / shots);
      expect(Math.abs(est.expvals[i] - exact)).toBeLessThan(4 * sd + 1e-12);
      expect(est.stderr[i]).toBeCloseTo(sd, 2);
    });
  });

  it('readout error on samples matches the exact readout-weighted density result', () => {
    const c = new CircuitBuilder(2)
      .gate('RY', [0], [1.2])
      .gate('CNOT', [0, 1])
      .observe([
        {
          ops: [
            { wire: 0, pauli: 'Z' },
            { wire: 1, pauli: 'Z' },
          ],
        },
        { ops: [{ wire: 1, pauli: 'Z' }] },
      ])
      .build();
    const readout = { p01: 0.1, p10: 0.2 };
    const exact = densityExpval(
      { circuit: c, params: [], inputs: [], batch: 1 },
      { rules: [], readout },
    ).expvals;
    const psi = denseState(c);
    const shots = 50000;
    const est = estimateExpvals(
      (basis) => rotatedProbabilitiesState(psi, 2, basis),
      2,
      c.observables ?? [],
      shots,
      new Rng(8),
      readout,
    );
    for (let i = 0; i < 2; i++)
      expect(Math.abs(est.expvals[i] - exact[i])).toBeLessThan(4 / Math.sqrt(shots));
    const counts = sampleCounts([1, 0, 0, 0], 2, 10000, 1, readout);
    // |00⟩ read with flips: P(00) = 0.81, P(11) = 0.01
    expect(Math.abs(counts['00'] / 10000 - 0.81)).toBeLessThan(4 * Math.sqrt((0.81 * 0.19) / 10000));
    expect(Math.abs((counts['11'] ?? 0) / 10000 - 0.01)).toBeLessThan(4 * Math.sqrt((0.01 * 0.99) / 10000));
  });
});
