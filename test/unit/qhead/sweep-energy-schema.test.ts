import { describe, expect, it } from 'vitest';
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
