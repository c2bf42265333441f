import { describe, expect, it } from 'vitest';
import { transposeTable } from '../../../renderer/src/lib/report-table';

describe('report tables turned to fit', () => {
  it('makes each model a column and each figure a row, and back', () => {
    const columns = ['model', 'params', 'accuracy', 'F1'];
    const rows = [
      ['quantum', 431, '0.5000 ± 0.0000', 0.3333],
      ['mlp', 410, '0.5000 ± 0.0000', null],
    ];
    const t = transposeTable(columns, rows);
    expect(t.columns).toEqual(['model', 'quantum', 'mlp']);
    expect(t.rows).toEqual([
      ['params', 431, 410],
      ['accuracy', '0.5000 ± 0.0000', '0.5000 ± 0.0000'],
      ['F1', 0.3333, null],
    ]);
    // turning twice gives the table back (the labels of the first column come back as text)
    const back = transposeTable(t.columns, t.rows);
    expect(back).toEqual({ columns, rows });
  });

  it('fills a short row with null', () => {
    expect(transposeTable(['m', 'a', 'b'], [['x', 1]]).rows).toEqual([
      ['a', 1],
      ['b', null],
    ]);
  });
});
