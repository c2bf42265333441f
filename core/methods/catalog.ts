// The job kinds' metadata, importable without Node (the renderer builds its wizards from it; the lab's
// registry.ts holds the runnable kinds, and a test keeps each kind's `meta` the one listed here).
import type { KindMeta } from './metadata/meta';
import { qdllmMeta } from './qdllm/meta';
import { qffnMeta } from './qffn/meta';
import { qheadMeta } from './qhead/meta';
import { qthaMeta } from './qtha/meta';
import { simBenchMeta } from './sim-bench/meta';
import { vqcFitMeta } from './vqc-fit/meta';

const METAS: readonly KindMeta[] = [simBenchMeta, vqcFitMeta, qdllmMeta, qheadMeta, qffnMeta, qthaMeta];

export function listKindMetas(): KindMeta[] {
  return [...METAS];
}

export function kindMeta(kind: string): KindMeta | undefined {
  return METAS.find((m) => m.kind === kind);
}
