// The kinds' metadata and the renderer's wizards load no Node module, no simulator or nn kernel and no lab
// code: their import graph (test/helpers/import-graph.ts: value imports, followed through every .ts and .svelte
// file; `import type` is erased) is walked from the entry points the renderer uses.
import { describe, expect, it } from 'vitest';
import { eagerImportGraph as graph } from '../../helpers/import-graph';

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
