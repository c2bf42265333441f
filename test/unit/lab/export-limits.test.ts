// One limit per export: the schemas the server checks and the export menu (which disables a format a selection
// exceeds) read the same numbers, so a button never offers what the server refuses.
import { describe, expect, it } from 'vitest';
import {
  BundleExportRequestSchema,
  EXPORT_FORMATS,
  ExportRequestSchema,
  MAX_COMPARE_RUNS,
  MAX_EXPORT_RUNS,
  PdfRequestSchema,
  exportLimit,
} from '../../../core/api/lab-api';

const ids = (n: number) =>
  Array.from({ length: n }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

describe('export limits', () => {
  it('each report format takes exactly exportLimit(format) runs', () => {
    for (const format of EXPORT_FORMATS) {
      const n = exportLimit(format);
      expect(n).toBe(MAX_EXPORT_RUNS);
      expect(ExportRequestSchema.safeParse({ ids: ids(n), format }).success).toBe(true);
      expect(ExportRequestSchema.safeParse({ ids: ids(n + 1), format }).success).toBe(false);
    }
    expect(PdfRequestSchema.safeParse({ ids: ids(exportLimit('pdf')) }).success).toBe(true);
    expect(PdfRequestSchema.safeParse({ ids: ids(exportLimit('pdf') + 1) }).success).toBe(false);
  });

  it('a bundle takes as many runs as a comparison', () => {
    expect(exportLimit('bundle')).toBe(MAX_COMPARE_RUNS);
    expect(BundleExportRequestSchema.safeParse({ ids: ids(MAX_COMPARE_RUNS) }).success).toBe(true);
    expect(BundleExportRequestSchema.safeParse({ ids: ids(MAX_COMPARE_RUNS + 1) }).success).toBe(false);
  });
});
