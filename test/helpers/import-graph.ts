// The static (eager) import graph of a source file, read as text: value imports and re-exports followed
// through .ts and .svelte files (a component's imports are in its <script> blocks). `import type` and
// `export type` are erased; `import()` loads later and is not followed. `import { type A } from './x'` is
// followed: under verbatimModuleSyntax it still leaves `import {} from './x'`, which loads the module.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

const IMPORT = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

function resolveFile(from: string, spec: string): string {
  const base = resolve(dirname(from), spec);
  for (const c of [base, `${base}.ts`, `${base}/index.ts`])
    if (existsSync(c) && statSync(c).isFile()) return c;
  throw new Error(`${relative(ROOT, from)}: cannot resolve ${spec}`);
}

/**
 * Files (relative to the repository root) and packages a static import chain reaches from `entry` (a path
 * relative to the root). A relative import that resolves to no file throws, naming the importer.
 */
export function eagerImportGraph(entry: string): { files: string[]; packages: string[] } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const todo = [resolve(ROOT, entry)];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f) || !/\.(ts|svelte)$/.test(f)) continue;
    seen.add(f);
    let text = readFileSync(f, 'utf8');
    if (f.endsWith('.svelte'))
      text = [...text.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1];
      if (spec.startsWith('.')) todo.push(resolveFile(f, spec));
      else packages.add(spec);
    }
  }
  return { files: [...seen].map((f) => relative(ROOT, f)), packages: [...packages] };
}
