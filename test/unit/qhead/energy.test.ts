import { describe, expect, it } from 'vitest';
import {
  crossover,
  detectLlcBytes,
  energyEstimate,
  evalFit,
  fitLog2,
  fitWidths,
  measureScaling,
  median,
  module2GateCounts,
  qpuSeconds,
  type Module2Family,
} from '../../../core/methods/qhead/energy';
import { tQuantile } from '../../../core/methods/harness/stats';
import { QheadConfigSchema } from '../../../core/methods/qhead/schema';
import { Rng } from '../../../core/util/rng';
import { MODULE2_FAMILY, QPU, timingRow as row } from '../../helpers/qhead-energy';

describe('log2-linear scaling fit', () => {
  it('is exact on exact data, with zero error', () => {
    const ns = [10, 12, 14, 16];
    const f = fitLog2(
      ns,
      ns.map((n) => 2 ** (-25 + 1.1 * n)),
    );
    expect(f.b).toBeCloseTo(1.1, 12);
    expect(f.a).toBeCloseTo(-25, 10);
    expect(f.seB).toBeLessThan(1e-9);
    expect(f.dof).toBe(2);
    expect(evalFit(f, 40).log2).toBeCloseTo(-25 + 44, 9);
    expect(() => fitLog2([4, 5, 6], [1, 0, 1])).toThrow(/time at n = 5 must be positive/);
    expect(() => fitLog2([4, 5], [1, 2])).toThrow(/at least three/);
  });

  it('recovers known parameters from noisy data, and its 95 % interval covers the truth ~95 % of the time', () => {
    const rng = new Rng(7);
    const ns = [10, 11, 12, 13, 14, 15, 16, 17, 18];
    const a = -28;
    const b = 1.08;
    const sigma = 0.1; // log2 units: ±7 % time noise
    const sxx = ns.reduce((s, n) => s + (n - 14) ** 2, 0); // 60
    let covered = 0;
    const trials = 400;
    const bs: number[] = [];
    for (let k = 0; k < trials; k++) {
      const ts = ns.map((n) => 2 ** (a + b * n + sigma * rng.normal()));
      const f = fitLog2(ns, ts);
      bs.push(f.b);
      if (f.bLo <= b && b <= f.bHi) covered++;
      if (k === 0) {
        expect(Math.abs(f.b - b)).toBeLessThan(4 * (sigma / Math.sqrt(sxx)));
        expect(f.t).toBe(tQuantile(0.975, 7));
      }
    }
    // coverage of a 95 % interval over 400 trials: binomial sd ≈ 1.1 %
    expect(covered / trials).toBeGreaterThan(0.91);
    expect(covered / trials).toBeLessThan(0.99);
    // the estimator is unbiased and its spread is σ/√Sxx
    const mean = bs.reduce((s, x) => s + x, 0) / trials;
    const sd = Math.sqrt(bs.reduce((s, x) => s + (x - mean) ** 2, 0) / (trials - 1));
    expect(Math.abs(mean - b)).toBeLessThan((4 * sigma) / Math.sqrt(sxx * trials));
    expect(sd / (sigma / Math.sqrt(sxx))).toBeGreaterThan(0.85);
    expect(sd / (sigma / Math.sqrt(sxx))).toBeLessThan(1.15);
  });

  it('band of the line: half width t·s·√(1/k + (n − n̄)²/Sxx) on hand-made residuals', () => {
    // residuals +e, −2e, +e sum to zero and are orthogonal to n − 11, so the fit is exactly log2 t = n − 30
    const e = 0.01;
    const f = fitLog2(
      [10, 11, 12],
      [10, 11, 12].map((n, i) => 2 ** (n - 30 + [e, -2 * e, e][i])),
    );
    expect(f.b).toBeCloseTo(1, 12);
    expect(f.a).toBeCloseTo(-30, 10);
    expect(f.s).toBeCloseTo(e * Math.sqrt(6), 12); // rss 6e², 1 dof
    expect(f.seB).toBeCloseTo((e * Math.sqrt(6)) / Math.sqrt(2), 12);
    const at = evalFit(f, 20);
    // t(0.975) on 1 dof is tan(0.475π) = 12.7062…
    expect(at.hi - at.log2).toBeCloseTo(
      Math.tan(0.475 * Math.PI) * e * Math.sqrt(6) * Math.sqrt(1 / 3 + 81 / 2),
      10,
    );
    expect(at.log2 - at.lo).toBeCloseTo(at.hi - at.log2, 12);
  });

  it('fit rule: widths whose f64 state fills the L2 cache, else the three widest', () => {
    const ns = [10, 11, 12, 13, 14, 15, 16, 17, 18];
    // 16·2^15 = 512 KiB: 15 only fills the cache, 16 and up exceed it
    expect(fitWidths(ns, 512 * 1024)).toEqual({ widths: [16, 17, 18], memoryBound: true });
    expect(fitWidths(ns, 512 * 1024 - 1)).toEqual({ widths: [15, 16, 17, 18], memoryBound: true });
    expect(fitWidths(ns, 64 * 1024 ** 2)).toEqual({ widths: [16, 17, 18], memoryBound: false });
    expect(fitWidths([5, 3, 4, 4], 16)).toEqual({ widths: [3, 4, 5], memoryBound: true });
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    const l2 = detectLlcBytes();
    expect(l2.bytes).toBeGreaterThan(0);
  });
});

describe('QPU model and crossover', () => {
  const fam = MODULE2_FAMILY;

  it('QPU time per sample from gate counts, times, shots', () => {
    const g = module2GateCounts(fam, 5);
    // RY: 3 blocks × 5 encodings + (3·2 + 1) layers × 5; CNOT: 7 layers × 5
    expect(g).toEqual({ oneQubit: 15 + 35, twoQubit: 35, angles: 50 });
    const q = { gate1Us: 10, gate2Us: 100, resetUs: 20, readoutUs: 30, shots: 1000, watts: 1 };
    const shotUs = 20 + 50 * 10 + 35 * 100 + 30;
    const t = qpuSeconds(fam, 5, q);
    expect(t.forward).toBeCloseTo(shotUs * 1e-6 * 1000, 12);
    expect(t.train).toBeCloseTo(t.forward * (1 + 2 * 50), 9);
  });

  it('crossover: first width where simulation energy reaches the QPU energy', () => {
    expect(
      crossover(
        (n) => 2 ** n,
        (n) => 1000 * n,
        1,
        40,
      ),
    ).toBe(14); // 2^14 = 16384 ≥ 14000, 2^13 < 13000
    expect(
      crossover(
        (n) => n,
        () => 1e9,
        1,
        40,
      ),
    ).toBeNull();
  });

  it('crossover and its interval against a hand calculation', () => {
    // one block, one layer, no final layer: 2Q RY, Q CNOT, 2Q angles. 1 µs / 2 µs gates, no reset or
    // readout, 1000 shots, 1 kW: QPU forward = 4Q·1e-3 s·1000 W = 4Q J; training = 4Q·(1 + 4Q) J.
    const f1: Module2Family = { depth: 1, finalDepth: 0, reuploads: 1, connectivity: 1 };
    const qpu = { gate1Us: 1, gate2Us: 2, resetUs: 0, readoutUs: 0, shots: 1000, watts: 1000 };
    expect(qpuSeconds(f1, 7, qpu).forward * qpu.watts).toBeCloseTo(28, 12);
    // simulation: forward 2^(n−30) s, training 3·2^(n−30) s at 100 W
    const exact = [10, 11, 12].map((n) => row(n, 2 ** (n - 30), 3 * 2 ** (n - 30)));
    const ex = energyEstimate(f1, exact, 100, qpu, 60, 1);
    // forward: n = 31: 100·2 = 200 ≥ 124; n = 30: 100 < 120
    expect(ex.crossoverForward).toEqual({ at: 31, early: 31, late: 31 });
    // training: n = 37: 300·128 = 38400 ≥ 4·37·149 = 22052; n = 36: 19200 < 4·36·145 = 20880
    expect(ex.crossoverTrain).toEqual({ at: 37, early: 37, late: 37 });
    expect(ex.curve.find((p) => p.qubits === 11)).toMatchObject({
      measured: true,
      simForwardJ: 100 * 2 ** -19,
    });
    expect(ex.curve.at(-1)!.qubits).toBe(60);

    // noisy medians with residuals (+e, −2e, +e), e = 0.01, in both series: one joint fit (shared slope, offset
    // c = log2 3), rss 2·6e² on 2·3 − 3 = 3 dof, s = 2e; band half width h(n) = t₃·2e·√(1/3 + (n − 11)²/(2·2)),
    // t₃(0.975) = 3.1824 (the separate fits had t₁ = 12.706 and s = e√6: an interval 4.9× wider)
    const e = 0.01;
    const r = [e, -2 * e, e];
    const noisy = [10, 11, 12].map((n, i) => row(n, 2 ** (n - 30 + r[i]), 3 * 2 ** (n - 30 + r[i])));
    const ny = energyEstimate(f1, noisy, 100, qpu, 60, 1);
    expect(ny.joint.dof).toBe(3);
    expect(ny.joint.c).toBeCloseTo(Math.log2(3), 12);
    // early (upper edge): n = 30, h = 0.606: 100·2^0.606 = 152 ≥ 120; n = 29, h = 0.574: 74.4 < 116
    // late (lower edge): n = 31, h = 0.638: 100·2^(1 − 0.638) = 129 ≥ 124; n = 30: 65.7 < 120
    expect(ny.crossoverForward).toEqual({ at: 31, early: 30, late: 31 });
    // training (QPU 4n(1 + 4n) J): early n = 36, h = 0.797: 300·2^(6.797) = 33347 ≥ 20880; n = 35: 16310 < 19740.
    // Late n = 38, h = 0.860: 300·2^(8 − 0.860) = 42312 ≥ 23256; n = 37: 21627 < 22052
    expect(ny.crossoverTrain).toEqual({ at: 37, early: 36, late: 38 });
    expect(ny.fitForward.used).toEqual([10, 11, 12]);
  });
});

describe('measured scaling (tiny sizes)', () => {
  it('times every width, keeps the spread, and fits a finite, plausible slope', async () => {
    const m = await measureScaling(
      { depth: 1, finalDepth: 1, reuploads: 2, connectivity: 1 },
      { qubits: [10, 11, 12, 13, 14], batch: null, repeats: 5, budgetSeconds: 20, cacheBytes: 16 * 128 },
    );
    expect(m.rows.map((r) => r.qubits)).toEqual([10, 11, 12, 13, 14]);
    expect(m.skipped).toEqual([]);
    for (const r of m.rows) {
      expect(r.repeats).toBe(5);
      for (const s of [r.forward, r.train]) {
        expect(s.min).toBeGreaterThan(0);
        expect(s.min).toBeLessThanOrEqual(s.median);
        expect(s.median).toBeLessThanOrEqual(s.max);
      }
    }
    const e = energyEstimate(
      { depth: 1, finalDepth: 1, reuploads: 2, connectivity: 1 },
      m.rows,
      65,
      QPU,
      60,
      m.cacheBytes,
    );
    expect(e.memoryBound).toBe(true);
    for (const f of [e.fitForward, e.fitTrain]) {
      expect(Number.isFinite(f.b)).toBe(true);
      expect(Number.isFinite(f.seB)).toBe(true);
      // a state vector doubles per qubit; at these small widths overheads flatten it, a shared CPU adds noise
      expect(f.b).toBeGreaterThan(0.4);
      expect(f.b).toBeLessThan(1.7);
    }
    expect(e.theoryB).toBeCloseTo(1 + 1 / (12 * Math.LN2), 12);
  }, 60_000);

  it('skips the widths that do not fit the time budget (always timing at least three)', async () => {
    const m = await measureScaling(
      { depth: 1, finalDepth: 0, reuploads: 1, connectivity: 1 },
      { qubits: [3, 4, 5, 16, 22], batch: 1, repeats: 3, budgetSeconds: 1e-3, cacheBytes: null },
    );
    expect(m.rows.map((r) => r.qubits)).toEqual([3, 4, 5]);
    expect(m.skipped).toEqual([16, 22]);
    expect(m.rows[0].repeats).toBe(3);
  });

  it('config: defaults and a refused bad field', () => {
    const c = QheadConfigSchema.parse({}).energy;
    expect(c.qubits).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(c.budgetSeconds).toBe(30);
    expect(c.batch).toBeNull();
    const r = QheadConfigSchema.safeParse({ energy: { budgetSeconds: 0 } });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0].path.join('.')).toBe('energy.budgetSeconds');
  });
});
