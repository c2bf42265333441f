import { describe, expect, it } from 'vitest';
import { columnScales, formatBytes, formatValue, scaleOf } from '../../../renderer/src/lib/format';

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

  it("finds each column's scale from its numbers only", () => {
    expect(scaleOf(['x', null, -3, 2, NaN, Infinity])).toBe(3);
    expect(scaleOf([])).toBe(0);
    expect(
      columnScales([
        ['a', 0.5, 1e-20],
        ['b', -0.9, 2e-20],
      ]),
    ).toEqual([0, 0.9, 2e-20]);
  });
});
