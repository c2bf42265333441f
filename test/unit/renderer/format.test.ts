import { describe, expect, it } from 'vitest';
import {
  columnScales,
  formatBytes,
  formatInfo,
  keyParts,
  formatLogTick,
  formatValue,
  scaleOf,
} from '../../../renderer/src/lib/format';

describe('formatValue', () => {
  it('writes numbers for people', () => {
    expect(formatValue(2.66e-19, 0.8)).toBe('0');
    expect(formatValue(0)).toBe('0');
    expect(formatValue(0.123456)).toBe('0.1235');
    expect(formatValue(114)).toBe('114');
    expect(formatValue(2048)).toBe('2048');
    expect(formatValue(41000000)).toBe('41,000,000');
    expect(formatValue(19563.415)).toBe('19,563');
    expect(formatValue(1.5e38)).toBe('1.5e38');
    expect(formatValue(0.00012)).toBe('1.2e-4');
    expect(formatValue(NaN)).toBe('n/a');
    expect(formatValue('19563.415%')).toBe('19,563%');
    expect(formatValue('12.345%')).toBe('12.3%');
    expect(formatValue('brown-topics')).toBe('brown-topics');
    expect(formatValue(null)).toBe('—');
  });
});

describe('formatBytes', () => {
  it('writes a backend or host record on one line without repeating its label', () => {
    // sim-bench's backend record: a list of backends and a missing peer
    const backend = {
      backends: [
        { backend: 'cpu', mode: 'wasm-simd', precision: 'f64' },
        { backend: 'cpu', mode: 'wasm-simd', precision: 'f32' },
      ],
      peer: null,
    };
    expect(formatInfo(backend, 'backend')).toBe('cpu wasm-simd f64, cpu wasm-simd f32 · peer: —');
    expect(formatInfo({ backend: 'cpu', mode: 'wasm-simd', qubits: 6 }, 'backend')).toBe(
      'cpu · mode: wasm-simd · qubits: 6',
    );
    expect(formatInfo({ os: 'linux', cpus: 2 })).toBe('os: linux · cpus: 2');
    // a NaN a job wrote into a table as text reads like a NaN number
    expect([formatValue('NaN'), formatValue(NaN)]).toEqual(['n/a', 'n/a']);
  });

  it('says a size in B, KiB or MiB with three digits', () => {
    expect(formatBytes(812)).toBe('812 B');
    expect(formatBytes(4300)).toBe('4.2 KiB');
    expect(formatBytes(1024 * 1024)).toBe('1 MiB');
  });
});

describe('residues and genuinely tiny figures', () => {
  it('reads a figure as 0 only against the scale of the figures beside it', () => {
    // Float noise in a column of accuracies of order 1 is 0.
    const accs = [0.81, 2.66e-19, 0.79];
    expect(accs.map((v) => formatValue(v, scaleOf(accs)))).toEqual(['0.81', '0', '0.79']);
    // A column of p-values that are all tiny keeps them.
    const ps = [3.2e-14, 5e-20, 1.1e-13];
    expect(ps.map((v) => formatValue(v, scaleOf(ps)))).toEqual(['3.2e-14', '5e-20', '1.1e-13']);
    // A p-value next to ordinary ones is shown while it is within 1e-12 of the column's largest.
    expect(formatValue(4e-13, scaleOf([0.03, 4e-13, 0.2]))).toBe('4e-13');
    // Alone, a tiny figure is taken as meant.
    expect(formatValue(2.66e-19)).toBe('2.66e-19');
    expect(formatValue(0, 1)).toBe('0');
    expect(formatValue(-1e-30, 5)).toBe('0');
  });

  it('keeps the small figures of a column that climbs through many decades', () => {
    // qhead's energy table: simulation energy per sample from 4 to 60 qubits, 3e-6 J … 1.6e17 J. Each figure
    // is meant; against the largest alone (the old rule) everything under 1.6e5 J read 0.
    const joules = [
      3.01e-6, 1.49e-4, 2.39e-3, 4.92e-3, 0.66, 4.2e3, 1.2e9, 3.76e6, 1.36e11, 4.49e12, 1.62e17,
    ];
    const shown = joules.map((v) => formatValue(v, scaleOf(joules)));
    expect(shown).not.toContain('0');
    expect(shown[0]).toBe('3.01e-6');
    // A residue far below a column's figures still reads 0, however wide the column's own range.
    const withResidue = [...joules, 2.66e-30];
    expect(formatValue(2.66e-30, scaleOf(withResidue))).toBe('0');
    expect(scaleOf([0.81, 2.66e-19, 0.79])).toBe(0.79);
  });

  it('writes log-axis ticks in one notation', () => {
    expect([1e-12, 1e-4, 0.001, 1, 10, 1000, 1e4, 1e6, 1e15, 2e46].map(formatLogTick)).toEqual([
      '1e-12',
      '1e-4',
      '0.001',
      '1',
      '10',
      '1000',
      '1e4',
      '1e6',
      '1e15',
      '2e46',
    ]);
  });

  it("finds each column's scale from its numbers only", () => {
    // the smallest magnitude of the cluster holding the largest: 3 and 2 are one cluster
    expect(scaleOf(['x', null, -3, 2, NaN, Infinity])).toBe(2);
    expect(scaleOf([])).toBe(0);
    expect(
      columnScales([
        ['a', 0.5, 1e-20],
        ['b', -0.9, 2e-20],
      ]),
    ).toEqual([0, 0.5, 1e-20]);
  });
});

describe('keyParts', () => {
  it('cuts a metric key only after its separators and at camelCase humps, and joins back to the key', () => {
    expect(keyParts('quantum_test_acc')).toEqual(['quantum_', 'test_', 'acc']);
    expect(keyParts('quantum/seed0/lr1/val_acc')).toEqual(['quantum/', 'seed0/', 'lr1/', 'val_', 'acc']);
    expect(keyParts('valAcc.top-5')).toEqual(['val', 'Acc.', 'top-', '5']);
    // a run of separators stays with the word before it; none inside a word
    expect(keyParts('a__b')).toEqual(['a__', 'b']);
    expect(keyParts('progress')).toEqual(['progress']);
    expect(keyParts('IBMQ')).toEqual(['IBMQ']);
    expect(keyParts('')).toEqual(['']);
    for (const k of ['x_', '_x', 'a/b/c', 'lossCurve_v2']) expect(keyParts(k).join('')).toBe(k);
  });
});
