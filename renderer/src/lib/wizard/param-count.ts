// Live trainable-parameter counts for the wizards, re-derived here because the methods' own formulas live
// in modules that pull in the simulator and nn code; unit tests check these against core's functions.

/** Classes of the bundled classification datasets (core/methods/common/data.ts). */
export const BUNDLED_CLASSES: Readonly<Record<string, number>> = {
  'spam-assassin': 2,
  'brown-topics': 4,
};

/** QD-LLM quantum student: Linear(E → n) + L(7n − 1) ansatz angles + Linear(n → C). */
export function qdllmStudentParams(E: number, n: number, L: number, C: number): number {
  return E * n + n + L * (7 * n - 1) + n * C + C;
}

export interface QheadShape {
  /** Embedding width d. */
  dim: number;
  classes: number;
  encoders: number;
  encoderDepth: number;
  qubits: number;
  depth: number;
  finalDepth: number;
  measured: number;
  skip: boolean;
  /** head.biasAmplitude: a positive value appends one amplitude to each embedding. */
  biasAmplitude: number;
}

/** Quantum head: E·n·encoderDepth + Q·(depth + finalDepth) + (Q_m + E·n)·C + C, n = ⌈log2(d + bias)⌉. */
export function qheadParams(s: QheadShape): {
  module1: number;
  module2: number;
  linear: number;
  total: number;
} {
  const inputs = s.dim + (s.biasAmplitude > 0 ? 1 : 0);
  const n = Math.ceil(Math.log2(inputs));
  const module1 = s.encoders * n * s.encoderDepth;
  const module2 = s.qubits * (s.depth + s.finalDepth);
  const linear = (s.measured + (s.skip ? s.encoders * n : 0)) * s.classes + s.classes;
  return { module1, module2, linear, total: module1 + module2 + linear };
}
