// The QFFN model's parameter counts by closed form, isomorphic (no nn kernels), so the kind's metadata, the
// wizard and the report size a run with the functions the job uses. The circuits themselves are
// core/quantum/qffn-circuits.ts, the ones core/nn builds; test/unit/qffn/counts.test.ts keeps the counts equal to
// countParameters of the built models.
import { amplitudeQubits } from '../../quantum/qffn-circuits';
import { quantumBlocks, quantumHeadCount, type QffnConfig } from './schema';

/** The shape a config gives the model (known before the run when the base is pretrained here). */
export interface QffnShape {
  V: number;
  H: number;
  I: number;
  layers: number;
  heads: number;
}

export function configShape(c: QffnConfig): QffnShape | null {
  if (c.base.modelDir !== null) return null;
  const b = c.base;
  return { V: b.vocabSize, H: b.hiddenSize, I: b.intermediateSize, layers: b.layers, heads: b.heads };
}

/** Qubits of the quantum FFN: ⌈log2 d⌉ for the amplitude form, the configured width (default the same) otherwise. */
export function ffnQubits(c: QffnConfig, H: number): number {
  return c.ffnForm === 'amplitude' ? amplitudeQubits(H) : (c.qubits ?? amplitudeQubits(H));
}

/** Quantum FFN: 3nD + 2d (amplitude) or 3nD + (d + 1)n + (n + 1)d (bottleneck). */
export function quantumFfnCount(c: QffnConfig, H: number): number {
  const n = ffnQubits(c, H);
  const circuit = 3 * n * c.depth;
  return c.ffnForm === 'amplitude' ? circuit + 2 * H : circuit + (H + 1) * n + (n + 1) * H;
}

/** One quantum head: Gaussian 2·(3nD + hd·n if mapped), unitary 3⌈log2 hd⌉D + 1 (β). */
export function quantumHeadParamCount(c: QffnConfig, hd: number): number {
  if (c.headKernel === 'unitary') return 3 * amplitudeQubits(hd) * c.depth + 1;
  const n = c.headQubits ?? hd;
  return 2 * (3 * n * c.depth + (c.headQubits === null ? 0 : hd * n));
}

/** Parameters the quantum modules of one quantum block add (FFN + its scored heads). */
export function quantumBlockCount(c: QffnConfig, s: QffnShape): number {
  const h = quantumHeadCount(s.heads, c.headShare, c.quantumHeads);
  return quantumFfnCount(c, s.H) + h * quantumHeadParamCount(c, s.H / s.heads);
}

/** The classical compressed FFN's width (narrow) or rank (low-rank) whose count is closest to `target`. */
export function matchedClassical(
  c: QffnConfig,
  s: QffnShape,
  target: number,
): { size: number; params: number } {
  const per = c.classicalForm === 'narrow' ? 3 * s.H : 3 * (s.H + s.I);
  const cap = c.classicalForm === 'narrow' ? s.I : Math.min(s.H, s.I);
  const size = Math.min(cap, Math.max(1, Math.round(target / per)));
  return { size, params: size * per };
}

export interface Components {
  embeddings: number;
  attention: number;
  norms: number;
  ffn: number;
  quantum: number;
}

export const total = (p: Components): number => p.embeddings + p.attention + p.norms + p.ffn + p.quantum;

/** Per-component counts of the three models of a LLaMA-flavour base with tied embeddings. */
export function modelCounts(
  c: QffnConfig,
  s: QffnShape,
): Record<'qffn' | 'uncompressed' | 'classical', Components> {
  const { V, H, I, layers } = s;
  const k = quantumBlocks(layers, c.fraction, c.placement, c.placementSeed).length;
  const shared = { embeddings: V * H, attention: layers * 4 * H * H, norms: (2 * layers + 1) * H };
  const q = quantumBlockCount(c, s);
  const m = matchedClassical(c, s, q);
  return {
    qffn: { ...shared, ffn: (layers - k) * 3 * H * I, quantum: k * q },
    uncompressed: { ...shared, ffn: layers * 3 * H * I, quantum: 0 },
    classical: { ...shared, ffn: (layers - k) * 3 * H * I + k * m.params, quantum: 0 },
  };
}
