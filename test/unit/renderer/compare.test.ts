import { describe, expect, it } from 'vitest';
import { summaryRows } from '../../../renderer/src/lib/compare';

describe('summaryRows (compare page results table)', () => {
  it('pairs X with X_std and X_mean with X_std, keeps first-seen order, marks rows that differ', () => {
    const rows = summaryRows([
      { summary: { quantum_test_acc: 0.6583, quantum_test_acc_std: 0.052, quantum_params: 431, note: 'a' } },
      {
        summary: {
          quantum_test_acc: 0.7,
          quantum_test_acc_std: 0.01,
          quantum_params: 431,
          loss_mean: 0.25,
          loss_std: 0.5,
        },
      },
    ]);
    expect(rows).toEqual([
      { key: 'quantum_test_acc', values: ['0.6583 ± 0.052', '0.7 ± 0.01'], differs: true },
      { key: 'quantum_params', values: ['431', '431'], differs: false },
      { key: 'note', values: ['a', '—'], differs: false },
      { key: 'loss', values: ['—', '0.25 ± 0.5'], differs: false },
    ]);
  });

  it('a lone _std key (no base) keeps its own row, and no runs give no rows', () => {
    expect(summaryRows([{ summary: { x_std: 1 } }])).toEqual([
      { key: 'x_std', values: ['1'], differs: false },
    ]);
    expect(summaryRows([])).toEqual([]);
  });
});
