// The runs page's first screen builds no zod schema: the renderer's static import graph from its entry
// (test/helpers/import-graph.ts: value imports, followed through .ts and .svelte files; `import type` is erased
// and `import()` loads a page later) reaches no zod. The request schemas live in core/api/lab-api.ts; the
// renderer takes values from core/api/lab-types.ts. Building them cost 120–200 ms of the first screen.
import { describe, expect, it } from 'vitest';
import { eagerImportGraph as eagerGraph } from '../../helpers/import-graph';

describe('the runs page’s first screen', () => {
  it('loads no zod: the renderer entry’s eager imports reach neither zod nor core/api/lab-api.ts', () => {
    const { files, packages } = eagerGraph('renderer/src/main.ts');
    expect(files).toContain('renderer/src/pages/RunsPage.svelte');
    expect(files).toContain('core/api/lab-types.ts');
    expect(packages).toContain('svelte');
    expect(packages.filter((p) => p === 'zod' || p.startsWith('zod/'))).toEqual([]);
    expect(files.filter((f) => f === 'core/api/lab-api.ts' || f === 'core/api/kinds.ts')).toEqual([]);
  });

  it('the walk sees zod where it is: the wizard page loads it', () => {
    const { packages } = eagerGraph('renderer/src/pages/NewRunPage.svelte');
    expect(packages).toContain('zod');
  });
});
