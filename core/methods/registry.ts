// The static list of job kinds the lab can run. The lab looks kinds up here by name and never imports a method
// directly. Each kind lives in core/methods/<kind>/; its isomorphic metadata is listed in catalog.ts too.
import type { JobKind } from './job';
import { qdllmKind } from './qdllm';
import { qffnKind } from './qffn';
import { qheadKind } from './qhead';
import { qthaKind } from './qtha';
import { simBenchKind } from './sim-bench';
import { vqcFitKind } from './vqc-fit';

const KINDS: readonly JobKind[] = [simBenchKind, vqcFitKind, qdllmKind, qheadKind, qffnKind, qthaKind];

export function listJobKinds(): JobKind[] {
  return [...KINDS];
}

export function getJobKind(kind: string): JobKind | undefined {
  return KINDS.find((k) => k.kind === kind);
}
