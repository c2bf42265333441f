// The runs page's first screen builds no zod schema: the renderer's static import graph from its entry
// (value imports, followed through .ts and .svelte files; `import type` is erased and `import()` loads a page
// later) reaches no zod. The request schemas live in core/api/lab-api.ts; the renderer takes values from
// core/api/lab-types.ts. Building them cost 120–200 ms of the first screen.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const IMPORT = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

function resolveFile(from: string, spec: string): string {
  const base = resolve(dirname(from), spec);
  for (const c of [base, `${base}.ts`, `${base}/index.ts`])
    if (existsSync(c) && statSync(c).isFile()) return c;
  throw new Error(`${relative(ROOT, from)}: cannot resolve ${spec}`);
}

/** Files and packages a static (eager) import chain reaches from `entry`. */
function eagerGraph(entry: string): { files: string[]; packages: string[] } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const todo = [resolve(ROOT, entry)];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f) || !/\.(ts|svelte)$/.test(f)) continue;
    seen.add(f);
    let text = readFileSync(f, 'utf8');
    // a component's imports are in its script blocks
    if (f.endsWith('.svelte'))
      text = [...text.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
    // `import { type A, type B } from` is erased too
    for (const m of text.matchAll(IMPORT)) {
      if (/^\s*import\s*\{\s*(?:type\s+\w+(?:\s+as\s+\w+)?\s*,?\s*)+\}\s*from/.test(m[0])) continue;
      const spec = m[1];
      if (spec.startsWith('.')) todo.push(resolveFile(f, spec));
      else packages.add(spec);
    }
  }
  return { files: [...seen].map((f) => relative(ROOT, f)), packages: [...packages] };
}

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
