// Sizing helpers the kinds' metadata share: state-vector memory, circuit summaries from the built circuits
// (core/quantum/resources.ts counts the gates, so no formula is restated), classes of bundled datasets.
import { BUNDLED_CLASSIFICATION } from '../../data/names';
import type { Precision } from '../../quantum/backend';
import { resources, type Resources } from '../../quantum/resources';
import type { NamedCircuit, ResourceLine } from './meta';

/** Bytes of one amplitude: complex64 (f32) or complex128 (f64). */
export function amplitudeBytes(precision: Precision): number {
  return precision === 'f32' ? 8 : 16;
}

/** Memory of the state vectors a simulator holds: one per sample, a whole batch at once. */
export function stateVectorLines(
  qubits: number,
  precision: Precision,
  batch: number,
  what: string,
): ResourceLine[] {
  const one = amplitudeBytes(precision) * 2 ** qubits;
  return [
    { label: `${what}: one state (${qubits} qubits, ${precision})`, value: one, unit: 'bytes' },
    { label: `${what}: a batch of ${batch}`, value: one * batch, unit: 'bytes' },
  ];
}

export interface CircuitSummary extends Resources {
  name: string;
  note?: string;
}

/** Width, depth, gate counts and parameters of each circuit. */
export function summarizeCircuits(circuits: readonly NamedCircuit[]): CircuitSummary[] {
  return circuits.map((c) => ({
    name: c.name,
    ...(c.note ? { note: c.note } : {}),
    ...resources(c.circuit),
  }));
}

/** Classes of a bundled classification dataset, or null for a file (known only once it is read). */
export function bundledClasses(dataset: string): number | null {
  return Object.prototype.hasOwnProperty.call(BUNDLED_CLASSIFICATION, dataset)
    ? BUNDLED_CLASSIFICATION[dataset]
    : null;
}

/**
 * Documents in each split of a bundled classification dataset (the same at every split seed; a test checks
 * them against the data), or null for a file.
 */
const BUNDLED_SPLIT_SIZES: Readonly<Record<string, { train: number; validation: number; test: number }>> = {
  'spam-assassin': { train: 1710, validation: 570, test: 570 },
  'brown-topics': { train: 192, validation: 64, test: 64 },
};

export function bundledSplitSizes(
  dataset: string,
): { train: number; validation: number; test: number } | null {
  return Object.prototype.hasOwnProperty.call(BUNDLED_SPLIT_SIZES, dataset)
    ? BUNDLED_SPLIT_SIZES[dataset]
    : null;
}

/** The bundled classification datasets as select options, labelled with their class counts. */
export const BUNDLED_OPTIONS = Object.keys(BUNDLED_CLASSIFICATION);
export const BUNDLED_LABELS: Readonly<Record<string, string>> = Object.fromEntries(
  BUNDLED_OPTIONS.map((n) => [n, `${n} (${BUNDLED_CLASSIFICATION[n]} classes)`]),
);
