// A report table turned so its rows become columns: qdllm's results (5 models × 20 figures) fit a 1,400 px
// column as 20 rows × 5 models. Pure: the tests call it directly.

/** The first column's header stays the corner; each row's first cell heads a column; each other column becomes a row. */
export function transposeTable(
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
): { columns: string[]; rows: unknown[][] } {
  return {
    columns: [columns[0] ?? '', ...rows.map((r) => String(r[0] ?? ''))],
    rows: columns.slice(1).map((c, j) => [c, ...rows.map((r) => r[j + 1] ?? null)]),
  };
}
