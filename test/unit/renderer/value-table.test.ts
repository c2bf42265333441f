// The final-values table shared by the run page (single-point series) and the compare page (final metrics),
// rendered on the server as Svelte renders it: headers, one row per label, each column formatted to one scale.
import { render } from 'svelte/server';
import { describe, expect, it } from 'vitest';
import ValueTable from '../../../renderer/src/components/ValueTable.svelte';
import { formatValue, scaleOf } from '../../../renderer/src/lib/format';

/** The table's cells, row by row (headers first), as text. */
function cells(html: string): string[][] {
  const rows = [...html.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((m) => m[1]);
  return rows.map((r) =>
    [...r.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) =>
      c[1].replace(/<!--[\s\S]*?-->/g, '').trim(),
    ),
  );
}

describe('ValueTable', () => {
  it('lays out the corner, the columns and one row per label, each column on its own scale', () => {
    const rows = [
      { key: 'a', label: 'run a', values: [0.5, 1234.5, 'x'] },
      { key: 'b', label: '', values: [2.66e-19, 2, null] },
    ];
    const { body } = render(ValueTable, {
      props: {
        testid: 'final-metrics',
        corner: 'run',
        columns: ['acc', 'loss', 'note'],
        rows,
        monoHeaders: true,
      },
    });
    expect(body).toContain('data-testid="final-metrics"');
    const t = cells(body);
    expect(t[0]).toEqual(['run', 'acc', 'loss', 'note']);
    // a column's numbers share its scale: 2.66e-19 beside 0.5 is a rounding residue of zero, not a figure
    expect(t[1]).toEqual(['run a', '0.5', formatValue(1234.5, 1234.5), 'x']);
    expect(t[2]).toEqual(['—', '0', formatValue(2, scaleOf([1234.5, 2])), '—']);
    expect(formatValue(2.66e-19)).toBe('2.66e-19'); // on its own scale it would show
    expect((body.match(/<th class="mono"/g) ?? []).length).toBe(3);
  });

  it('uses the scales it is given, and a missing value cell as —', () => {
    const { body } = render(ValueTable, {
      props: {
        testid: 'single-points',
        corner: 'series',
        columns: ['x', 'y'],
        rows: [{ key: 'r', label: 'r', values: [1e-13] }],
        scales: [1, 1],
      },
    });
    // the given scale, not the column's own (1e-13 alone would show as 1e-13)
    expect(cells(body)[1]).toEqual(['r', '0', '—']);
    expect(body).not.toContain('class="mono"');
  });
});
