// The static list of job kinds the lab can run. The lab looks kinds up here by name and never imports a method
// directly. Each kind lives in core/methods/<kind>/.
import type { JobKind } from './job';
import { qdllmKind } from './qdllm';
import { qheadKind } from './qhead';
import { simBenchKind } from './sim-bench';
import { vqcFitKind } from './vqc-fit';

const KINDS: readonly JobKind[] = [
  simBenchKind as JobKind,
  vqcFitKind as JobKind,
  qdllmKind as JobKind,
  qheadKind as JobKind,
];

export function listJobKinds(): JobKind[] {
  return [...KINDS];
}

export function getJobKind(kind: string): JobKind | undefined {
  return KINDS.find((k) => k.kind === kind);
}
