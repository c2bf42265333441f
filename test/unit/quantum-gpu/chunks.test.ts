import { describe, expect, it } from 'vitest';
import { MAX_FLOATS, planChunks } from '../../../core/quantum/gpu/chunks';

describe('planChunks', () => {
  it('keeps every call under the float limit, covers the batch once and uses the fewest calls', () => {
    for (const batch of [1, 2, 7, 8, 9, 100, 1023, 1024, 1025, 5000]) {
      for (const fpr of [1, 3, 16, 100, 2048, 2 ** 21, 2 ** 24]) {
        const p = planChunks(batch, fpr);
        expect(p.rowsPerChunk * fpr).toBeLessThanOrEqual(MAX_FLOATS);
        const maxRows = Math.floor(MAX_FLOATS / fpr);
        expect(p.chunks.length).toBe(Math.ceil(batch / maxRows));
        let next = 0;
        for (const c of p.chunks) {
          expect(c.start).toBe(next);
          expect(c.rows).toBeGreaterThan(0);
          expect(c.rows).toBeLessThanOrEqual(p.rowsPerChunk);
          next += c.rows;
        }
        expect(next).toBe(batch);
        // equal calls: only the last may be short, so one trace (built for rowsPerChunk) serves all
        p.chunks.slice(0, -1).forEach((c) => expect(c.rows).toBe(p.rowsPerChunk));
      }
    }
  });

  it('splits state vectors at the 2^24 boundary', () => {
    // n = 20: 2^21 floats per row, 8 rows per call
    expect(planChunks(16, 2 ** 21)).toEqual({
      rowsPerChunk: 8,
      chunks: [
        { start: 0, rows: 8 },
        { start: 8, rows: 8 },
      ],
    });
    // balanced rather than greedy: 9 rows of at most 8 become 5 + 4
    expect(planChunks(9, 2 ** 21)).toEqual({
      rowsPerChunk: 5,
      chunks: [
        { start: 0, rows: 5 },
        { start: 5, rows: 4 },
      ],
    });
    // n = 23 is the largest state one call can hold: 2^24 floats, one row per call
    expect(planChunks(3, 2 ** 24).chunks).toHaveLength(3);
    expect(planChunks(1024, 2 ** 11)).toEqual({ rowsPerChunk: 1024, chunks: [{ start: 0, rows: 1024 }] });
  });

  it('refuses a row that cannot fit and a bad batch, naming the problem', () => {
    expect(() => planChunks(1, 2 ** 25)).toThrow(/one batch row needs 33554432 floats/);
    expect(() => planChunks(0, 8)).toThrow(/batch must be a positive integer/);
    expect(() => planChunks(2.5, 8)).toThrow(/batch/);
    expect(planChunks(10, 4, 16)).toEqual({
      rowsPerChunk: 4,
      chunks: [
        { start: 0, rows: 4 },
        { start: 4, rows: 4 },
        { start: 8, rows: 2 },
      ],
    });
  });
});
