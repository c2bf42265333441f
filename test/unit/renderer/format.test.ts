import { describe, expect, it } from 'vitest';
import { formatBytes, formatValue } from '../../../renderer/src/lib/format';

describe('formatValue', () => {
  it('writes numbers for people', () => {
    expect(formatValue(2.66e-19)).toBe('0');
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
