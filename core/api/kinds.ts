// The job kinds as the renderer may know them: each kind's metadata (fields from its config schema, wizard
// steps, presets, and pure functions for parameter counts, circuits and resources) with the helpers that read
// it. Part of the isomorphic contract beside lab-api.ts: nothing here loads Node, the store or the kernels
// (test/unit/methods/isomorphic.test.ts walks the import graph).
export { kindMeta, listKindMetas } from '../methods/catalog';
export { rangeText } from '../methods/metadata/field-text';
export { unionOf, unwrapNull, type JsonSchema } from '../methods/metadata/fields';
export {
  fieldsAt,
  type FieldMeta,
  type FieldRef,
  type GroupMeta,
  type KindMeta,
  type ModelCount,
  type ResourceLine,
  type SetupWork,
  type RunPlan,
  type StepItem,
  type SwitchMeta,
  type When,
  type WorkEstimate,
} from '../methods/metadata/meta';
export { submissionPlan, type SubmissionPlan } from '../methods/metadata/run-plan';
export { summarizeCircuits, type CircuitSummary } from '../methods/metadata/sizing';
export { drawSvg } from '../quantum/draw';
