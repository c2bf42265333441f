// The kinds' metadata and the renderer's wizards load no Node module, no simulator or nn kernel and no lab
// code: their import graph (value imports, followed through every file; `import type` is erased) is walked
// from the entry points the renderer uses.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const ENTRIES = [
  'core/api/kinds.ts',
  'renderer/src/lib/wizard/index.ts',
  'renderer/src/state/wizard.svelte.ts',
];
/** Packages the graph may load besides its own files. */
const PACKAGES = new Set(['zod']);
/** Folders and files that would pull Node, native code, kernels or the lab into the renderer. */
const FORBIDDEN = [
  /^core\/(lab|cli)\//,
  /^electron\//,
  /^core\/quantum\/(cpu|gpu)\//,
  /^core\/quantum\/(simulators|gradients|noise|noisy-simulator|shots|trajectories|density|sampled-simulators)\.ts$/,
  /^core\/nn\/(?!(param-counts|qtha-sizes)\.ts$)/,
  /^core\/data\/(?!names\.ts$)/,
  /^core\/methods\/harness\//,
];

const IMPORT = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

function resolveFile(from: string, spec: string): string {
  const base = resolve(dirname(from), spec);
  for (const c of [base, `${base}.ts`, `${base}/index.ts`])
    if (existsSync(c) && statSync(c).isFile()) return c;
  throw new Error(`${relative(ROOT, from)}: cannot resolve ${spec}`);
}

function graph(entry: string): { files: string[]; packages: string[] } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const todo = [resolve(ROOT, entry)];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f) || !f.endsWith('.ts')) continue;
    seen.add(f);
    for (const m of readFileSync(f, 'utf8').matchAll(IMPORT)) {
      const spec = m[1];
      if (spec.startsWith('.')) todo.push(resolveFile(f, spec));
      else packages.add(spec);
    }
  }
  return { files: [...seen].map((f) => relative(ROOT, f)), packages: [...packages] };
}

describe('isomorphic metadata and wizards', () => {
  it.each(ENTRIES)('%s loads no Node, kernel or lab module', (entry) => {
    const { files, packages } = graph(entry);
    expect(files.length).toBeGreaterThan(3);
    expect(packages.filter((p) => !PACKAGES.has(p))).toEqual([]);
    expect(files.filter((f) => FORBIDDEN.some((re) => re.test(f)))).toEqual([]);
  });

  it('the walk sees what it must: a kind’s run module would fail it', () => {
    const { files, packages } = graph('core/methods/registry.ts');
    expect(packages.some((p) => p.startsWith('node:'))).toBe(true);
    expect(files.some((f) => FORBIDDEN.some((re) => re.test(f)))).toBe(true);
  });
});
