// The tuning budget every model of a comparison gets: its learning rate times each of the same factors
// (the kinds' `lrFactors` field, metadata/tuning-fields.ts), chosen on validation (fit.ts).
export { DEFAULT_LR_FACTORS } from '../metadata/tuning-fields';

/** The candidates of a model with base learning rate `lr`. */
export function lrCandidates(lr: number, factors: readonly number[]): number[] {
  return factors.map((f) => Number((lr * f).toPrecision(6)));
}
