import { describe, expect, it } from 'vitest';
import { modelColor } from '../../../renderer/src/lib/chart-series';
import { compareLineStyle, headlineIndex, summaryRows } from '../../../renderer/src/lib/compare';

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

describe('compareLineStyle', () => {
  it('colours a line by its model, as the run page does, and tells runs apart by dash', () => {
    const q0 = compareLineStyle('quantum/seed0/val_acc', 0);
    const q1 = compareLineStyle('quantum/seed0/val_acc', 1);
    expect(q0.color).toBe(modelColor('quantum'));
    expect(q1.color).toBe(q0.color);
    expect(q1.dash).not.toBe(q0.dash);
    expect(compareLineStyle('mlp/val_acc', 0).color).toBe(modelColor('mlp'));
    expect(compareLineStyle('mlp/val_acc', 0).color).not.toBe(q0.color);
    // No model segment: each run its own colour.
    expect(compareLineStyle('loss', 0)).toEqual({ color: 0, dash: 0 });
    expect(compareLineStyle('loss', 1)).toEqual({ color: 1, dash: 0 });
  });
});

describe('the figure the compare page ranks by first', () => {
  it("is the quantum model's test accuracy, then any test accuracy, a validation one, a perplexity", () => {
    // vqc-fit's summary axes in the page's (alphabetical) order: mlp_params came first and was ranked by
    const vqc = ['mlp_params', 'mlp_test_acc', 'quantum_loss', 'quantum_test_acc', 'quantum_train_acc'];
    expect(vqc[headlineIndex(vqc)]).toBe('quantum_test_acc');
    expect(headlineIndex(['params', 'mlp_test_acc'])).toBe(1);
    expect(headlineIndex(['params', 'val_acc_mean'])).toBe(1);
    expect(headlineIndex(['params', 'qtha_test_ppl'])).toBe(1);
    expect(headlineIndex(['val_loss', 'acc'])).toBe(0);
  });
});
