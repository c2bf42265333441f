import { describe, expect, it } from 'vitest';
import {
  crossover,
  energyEstimate,
  evalFit,
  fitExponential,
  module2GateCounts,
  qpuSeconds,
  type Module2Family,
} from '../../../core/methods/qhead/energy';
import { QheadConfigSchema } from '../../../core/methods/qhead/schema';
import {
  designPoints,
  effectSizes,
  fullFactorial,
  mainEffects,
  orthogonalArray,
} from '../../../core/methods/qhead/sweep';

describe('sweep design and main effects', () => {
  it('main effects on a hand-made set of results', () => {
    const results = [
      { point: { qubits: 4, lr: 0.1 }, value: 0.6 },
      { point: { qubits: 4, lr: 0.01 }, value: 0.7 },
      { point: { qubits: 8, lr: 0.1 }, value: 0.8 },
      { point: { qubits: 8, lr: 0.01 }, value: 1.0 },
    ];
    const me = mainEffects(results);
    expect(me).toEqual([
      { factor: 'qubits', level: 4, mean: expect.closeTo(0.65, 12), n: 2 },
      { factor: 'qubits', level: 8, mean: expect.closeTo(0.9, 12), n: 2 },
      { factor: 'lr', level: 0.01, mean: expect.closeTo(0.85, 12), n: 2 },
      { factor: 'lr', level: 0.1, mean: expect.closeTo(0.7, 12), n: 2 },
    ]);
    const sizes = effectSizes(me);
    expect(sizes.find((s) => s.factor === 'qubits')!.range).toBeCloseTo(0.25, 12);
    expect(sizes.find((s) => s.factor === 'lr')!.range).toBeCloseTo(0.15, 12);
  });

  it('full factorial has every combination once', () => {
    const pts = fullFactorial([
      ['qubits', [2, 3]],
      ['depth', [1, 2, 3]],
    ]);
    expect(pts).toHaveLength(6);
    expect(new Set(pts.map((p) => `${p.qubits},${p.depth}`)).size).toBe(6);
  });

  it('the fractional design is an orthogonal array: every pair of factors sees every level pair equally often', () => {
    const f: ['qubits' | 'depth' | 'lr' | 'reuploads' | 'connectivity', number[]][] = [
      ['qubits', [4, 6, 8]],
      ['depth', [1, 2, 3]],
      ['lr', [0.1, 0.03, 0.01]],
      ['reuploads', [1, 2, 3]],
    ];
    const pts = orthogonalArray(f);
    expect(pts).toHaveLength(9); // 3^4 = 81 for the full design
    for (let i = 0; i < f.length; i++)
      for (let j = i + 1; j < f.length; j++) {
        const pairs = new Map<string, number>();
        for (const p of pts) {
          const k = `${p[f[i][0]]}|${p[f[j][0]]}`;
          pairs.set(k, (pairs.get(k) ?? 0) + 1);
        }
        expect(pairs.size).toBe(9);
        expect([...pairs.values()].every((c) => c === 1)).toBe(true);
      }
    // five two-level factors: L = 5 (prime, L + 1 ≥ 5), 25 runs
    const five = designPoints({
      design: 'fractional',
      factors: { qubits: [4, 8], depth: [1, 2], lr: [0.1, 0.01], reuploads: [1, 2], connectivity: [1, 3] },
      seeds: 1,
      maxPoints: 64,
    });
    expect(five).toHaveLength(25);
    expect(() =>
      designPoints({
        design: 'full',
        factors: { qubits: [3, 4, 5], depth: [1, 2, 3] },
        seeds: 1,
        maxPoints: 5,
      }),
    ).toThrow(/sweep\.maxPoints/);
  });
});

describe('energy model', () => {
  const fam: Module2Family = { depth: 2, finalDepth: 1, reuploads: 3, connectivity: 1 };

  it('fits an exponential exactly on exponential data and extrapolates', () => {
    const ns = [4, 6, 8, 10];
    const ts = ns.map((n) => 1e-6 * Math.exp(0.7 * n));
    const f = fitExponential(ns, ts);
    expect(f.b).toBeCloseTo(0.7, 10);
    expect(evalFit(f, 20)).toBeCloseTo(1e-6 * Math.exp(14), 6);
    expect(f.doubling).toBeCloseTo(Math.LN2 / 0.7, 10);
    expect(f.used).toEqual([6, 8, 10]);
    expect(() => fitExponential([4, 5], [1, 0])).toThrow(/positive/);
  });

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
    const timings = [4, 6, 8].map((n) => ({ qubits: n, forward: 1e-6 * 2 ** n, train: 3e-6 * 2 ** n }));
    const qpu = { gate1Us: 1, gate2Us: 1, resetUs: 0, readoutUs: 0, shots: 1, watts: 1 };
    const e = energyEstimate(fam, timings, 100, qpu, 40);
    const want = crossover(
      (n) => 100 * 1e-6 * 2 ** n,
      (n) => qpuSeconds(fam, n, qpu).forward,
      4,
      40,
    );
    expect(e.crossoverForward).toBe(want);
    expect(e.curve.find((p) => p.qubits === 6)).toMatchObject({
      measured: true,
      simForwardJ: 100 * 1e-6 * 64,
    });
    expect(e.curve.at(-1)!.qubits).toBe(40);
  });
});

describe('config validation', () => {
  const issue = (v: unknown) => {
    const r = QheadConfigSchema.safeParse(v);
    expect(r.success).toBe(false);
    return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
  };

  it('fills paper-style defaults', () => {
    const c = QheadConfigSchema.parse({});
    expect(c.shots).toBeNull();
    expect(c.head.measured).toBe(1);
    expect(c.encoder.type).toBe('pretrain');
    expect(c.standardize).toBe(true);
    expect(c.head.biasAmplitude).toBe(1);
  });

  it('refuses bad configs naming the field', () => {
    expect(issue({ dataset: 'nope' })).toMatch(/^dataset: unknown classification dataset "nope"/m);
    expect(issue({ dataset: 'brown' })).toMatch(/^dataset: /m); // an LM corpus, not a classification set
    expect(issue({ head: { qubits: 3, measured: 4 } })).toMatch(/^head\.measured: /m);
    expect(issue({ head: { qubits: 4, connectivity: 8 } })).toMatch(/^head\.connectivity: /m);
    expect(issue({ noise: { CZ: 0.1 } })).toMatch(/^noise\.CZ: unknown gate kind/m);
    expect(issue({ noise: { CNOT: 1.5 } })).toMatch(/^noise\.CNOT/m);
    expect(issue({ shots: 0 })).toMatch(/^shots/m);
    expect(issue({ lr: -1 })).toMatch(/^lr/m);
    expect(issue({ encoder: { type: 'pretrain', corpus: 'spam-assassin' } })).toMatch(/^encoder\.corpus: /m);
    expect(issue({ encoder: { type: 'pretrain', hiddenSize: 30, heads: 4 } })).toMatch(/^encoder\.heads: /m);
    expect(issue({ sweep: { factors: {} } })).toMatch(/^sweep\.factors: /m);
    expect(issue({ sweep: { factors: { qubits: [2, 3], connectivity: [1, 2] } } })).toMatch(
      /^sweep\.factors\.connectivity: level 2 is a multiple of qubits level 2/m,
    );
    expect(issue({ energy: { qubits: [4, 4, 6] } })).toMatch(/^energy\.qubits: /m);
    expect(issue({ head: { qubitz: 3 } })).toMatch(/qubitz/);
    expect(issue({ head: { biasAmplitude: -0.5 } })).toMatch(/^head\.biasAmplitude/m);
    expect(issue({ standardize: 'yes' })).toMatch(/^standardize/m);
  });
});
