import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ASSUMED_LLC_BYTES,
  detectLlcBytes,
  energyEstimate,
  evalFit,
  fitLog2,
  fitLog2Joint,
} from '../../../core/methods/qhead/energy';
import { tQuantile } from '../../../core/methods/harness/stats';
import { MODULE2_FAMILY as fam, QPU as qpu, timingRow as row } from '../../helpers/qhead-energy';

const root = mkdtempSync(join(tmpdir(), 'qhead-llc-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('joint scaling fit (shared slope, forward+gradient offset c ≥ 0)', () => {
  it('recovers a known slope and offset, with 2k − 3 degrees of freedom', () => {
    const ns = [16, 17, 18, 19, 20];
    const noise = [0.03, -0.02, -0.04, 0.05, -0.02];
    const tf = ns.map((n, i) => 2 ** (-25 + 1.1 * n + noise[i]));
    const tt = ns.map((n, i) => 2.5 * 2 ** (-25 + 1.1 * n - noise[(i + 2) % 5]));
    const j = fitLog2Joint(ns, tf, tt);
    expect(j.dof).toBe(7);
    expect(j.forward.dof).toBe(7);
    expect(j.forward.t).toBeCloseTo(tQuantile(0.975, 7), 12);
    expect(j.forward.b).toBe(j.train.b);
    expect(Math.abs(j.forward.b - 1.1)).toBeLessThan(0.02);
    expect(j.forward.bLo).toBeLessThan(1.1);
    expect(j.forward.bHi).toBeGreaterThan(1.1);
    expect(j.c).toBeCloseTo(Math.log2(2.5), 1);
    expect(j.clamped).toBe(false);
    // exact data: zero error, the lines exact
    const ex = fitLog2Joint(
      ns,
      ns.map((n) => 2 ** (n - 30)),
      ns.map((n) => 4 * 2 ** (n - 30)),
    );
    expect(ex.forward.b).toBeCloseTo(1, 12);
    expect(ex.c).toBeCloseTo(2, 12);
    expect(evalFit(ex.train, 40).log2).toBeCloseTo(12, 9);
    expect(ex.forward.seB).toBeCloseTo(0, 9);
  });

  it('the forward+gradient line never falls below the forward line, where two separate fits cross', () => {
    // forward steeper than forward+gradient over three memory-bound widths (noise in opposite directions)
    const ns = [17, 18, 19];
    const tf = ns.map((n, i) => 2 ** (n - 30 + [-0.15, 0, 0.15][i]));
    const tt = ns.map((n, i) => 2 ** (n - 29 + [0.15, 0, -0.15][i]));
    // the old rule (one fit per series, k − 2 = 1 dof each) crosses: train below forward beyond n = 22
    const of = fitLog2(ns, tf);
    const ot = fitLog2(ns, tt);
    expect(of.dof).toBe(1);
    expect(evalFit(ot, 30).log2).toBeLessThan(evalFit(of, 30).log2);
    const e = energyEstimate(
      fam,
      ns.map((n, i) => row(n, tf[i], tt[i])),
      65,
      qpu,
      60,
      1,
      8,
    );
    expect(e.joint.dof).toBe(3);
    expect(e.fitTrain.dof).toBe(3);
    for (const p of e.curve) {
      expect(p.simTrainJ, `n = ${p.qubits}`).toBeGreaterThanOrEqual(p.simForwardJ);
      expect(p.simTrainLoJ, `n = ${p.qubits}`).toBeGreaterThanOrEqual(p.simForwardLoJ);
      expect(p.simTrainHiJ, `n = ${p.qubits}`).toBeGreaterThanOrEqual(p.simForwardHiJ);
    }
    // the interval's t quantile: 3 dof instead of 1 (12.7 → 3.18)
    expect(of.t).toBeGreaterThan(12);
    expect(e.fitTrain.t).toBeCloseTo(tQuantile(0.975, 3), 12);
    expect(Number.isFinite(evalFit(e.fitTrain, 60).hi)).toBe(true);
  });

  it('a gradient measured faster than the forward pass holds c at 0 (2k − 2 dof)', () => {
    const ns = [16, 17, 18, 19];
    const tf = ns.map((n) => 2 ** (n - 30));
    const tt = ns.map((n, i) => 0.9 * 2 ** (n - 30 + [0.01, -0.01, 0.01, -0.01][i]));
    const j = fitLog2Joint(ns, tf, tt);
    expect(j.clamped).toBe(true);
    expect(j.c).toBe(0);
    expect(j.dof).toBe(6);
    expect(j.train.a).toBe(j.forward.a);
  });

  it('flags fewer than three memory-bound widths and counts them', () => {
    const ns = [10, 12, 14, 16, 18];
    const rows = ns.map((n) => row(n, 2 ** (n - 30), 3 * 2 ** (n - 30)));
    // f32 state 8·2^n: 16 → 512 KiB, 18 → 2 MiB; a 1 MiB last-level cache leaves one memory-bound width
    const few = energyEstimate(fam, rows, 65, qpu, 40, 1024 ** 2, 8);
    expect(few.memoryBound).toBe(false);
    expect(few.memoryBoundWidths).toBe(1);
    expect(few.fitTrain.used).toEqual([14, 16, 18]);
    const many = energyEstimate(fam, rows, 65, qpu, 40, 1024, 8);
    expect(many.memoryBound).toBe(true);
    expect(many.memoryBoundWidths).toBe(5);
    expect(many.joint.dof).toBe(7);
  });
});

describe('last-level cache from sysfs', () => {
  const cacheDir = (name: string, entries: [string, string, string][]) => {
    const dir = join(root, name);
    entries.forEach(([level, type, size], i) => {
      mkdirSync(join(dir, `index${i}`), { recursive: true });
      writeFileSync(join(dir, `index${i}`, 'level'), `${level}\n`);
      writeFileSync(join(dir, `index${i}`, 'type'), `${type}\n`);
      writeFileSync(join(dir, `index${i}`, 'size'), `${size}\n`);
    });
    return dir;
  };

  it('takes the level-3 cache, else the L2 with the reason, else an assumed size', () => {
    const full = cacheDir('full', [
      ['1', 'Data', '32K'],
      ['1', 'Instruction', '32K'],
      ['2', 'Unified', '512K'],
      ['3', 'Unified', '32768K'],
    ]);
    expect(detectLlcBytes(full)).toEqual({ bytes: 32 * 1024 ** 2, source: 'L3 from sysfs (32768K)' });
    const l2 = detectLlcBytes(
      cacheDir('l2', [
        ['1', 'Data', '48K'],
        ['2', 'Unified', '2048K'],
      ]),
    );
    expect(l2.bytes).toBe(2 * 1024 ** 2);
    expect(l2.source).toMatch(/^L2 from sysfs \(2048K\): the OS reports no level-3 cache/);
    const none = detectLlcBytes(join(root, 'absent'));
    expect(none.bytes).toBe(ASSUMED_LLC_BYTES);
    expect(none.source).toMatch(/^assumed 32 MiB: the OS reports no cache sizes/);
  });
});
