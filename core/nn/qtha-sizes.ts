// QTHA's sizes and circuit without any kernel, so config schemas, kind metadata and the renderer can size an
// adapter: the factorisation of a width into four MPO factors, the VQC of r qubits, and the trainable
// parameters of the adapter (every architecture of the ablation) and of LoRA, by closed forms that a test
// checks against the built modules (core/nn/qtha-adapter.ts).
import { CircuitBuilder, type Circuit } from '../quantum/circuit';

/**
 * The architectures of the paper's ablation: A = the MPO maps (d → width → d), B = the classical branch
 * CW·h in the r-space, C = the quantum branch QW·VQC(h); ABC-silu is ABC with the VQC replaced by a
 * classical Linear(r → r) + SiLU of the same width.
 */
export const QTHA_ARCHITECTURES = ['ABC', 'A', 'B', 'C', 'AB', 'BC', 'ABC-silu'] as const;
export type QthaArchitecture = (typeof QTHA_ARCHITECTURES)[number];

/** MPO cores and bond ranks of the paper: 4 cores, ranks [1, 8, 8, 8, 1]. */
export const QTHA_MPO_CORES = 4;
export const QTHA_MPO_BOND = 8;
export const QTHA_MPO_WIDTH = 256;

export interface QthaParts {
  mpo: boolean;
  classical: boolean;
  quantum: boolean;
  silu: boolean;
}

export function qthaParts(arch: QthaArchitecture): QthaParts {
  const silu = arch === 'ABC-silu';
  return {
    mpo: arch.includes('A'),
    classical: arch.includes('B'),
    quantum: arch.includes('C') && !silu,
    silu,
  };
}

/**
 * n as a product of `count` factors, each at least 2, as balanced as possible (smallest largest factor, then
 * smallest spread), in ascending order: 4096 → 8·8·8·8, 256 → 4·4·4·4, 48 → 2·2·3·4. null when n has fewer
 * than `count` prime factors (30 = 2·3·5, a prime), which an MPO of `count` cores cannot take.
 */
export function factorize(n: number, count = QTHA_MPO_CORES): number[] | null {
  if (!Number.isInteger(n) || n < 2) return null;
  let best: number[] | null = null;
  const better = (a: number[], b: number[]) => {
    const ma = a[a.length - 1];
    const mb = b[b.length - 1];
    return ma !== mb ? ma < mb : ma - a[0] < mb - b[0];
  };
  const walk = (rest: number, min: number, acc: number[]) => {
    if (acc.length === count - 1) {
      if (rest >= min) {
        const f = [...acc, rest];
        if (!best || better(f, best)) best = f;
      }
      return;
    }
    for (let f = min; f * f <= rest; f++) if (rest % f === 0) walk(rest / f, f, [...acc, f]);
  };
  walk(n, 2, []);
  return best;
}

/** Why a width cannot be an MPO side, or null. */
export function factorizeProblem(n: number, what: string): string | null {
  return factorize(n)
    ? null
    : `${what} ${n} cannot be factorised into ${QTHA_MPO_CORES} factors of at least 2 for the ${QTHA_MPO_CORES}-core MPO (it needs at least ${QTHA_MPO_CORES} prime factors, e.g. 64 = 2·2·4·4)`;
}

/** Σ_k r_{k−1}·o_k·i_k·r_k of an MPO with the given factors and internal bond. */
export function mpoParamCount(
  outFactors: readonly number[],
  inFactors: readonly number[],
  bond: number,
): number {
  const K = outFactors.length;
  let n = 0;
  for (let k = 0; k < K; k++)
    n += (k === 0 ? 1 : bond) * outFactors[k] * inFactors[k] * (k === K - 1 ? 1 : bond);
  return n;
}

/**
 * The VQC of one r-qubit layer stack: per layer RY(h_i) on every qubit (re-uploaded, raw values), CRZ(θ) ring
 * i → i+1, RY(θ) on every qubit, CRZ(θ) ring i → i−1, RY(θ); 4r parameters per layer; ⟨Z_i⟩ on every qubit.
 */
export function qthaCircuit(qubits: number, layers: number): Circuit {
  if (qubits < 2) throw new Error(`rank: the VQC's CRZ rings need at least 2 qubits, got ${qubits}`);
  const b = new CircuitBuilder(qubits, qubits);
  const ring = (step: number) => {
    for (let i = 0; i < qubits; i++) b.gate('CRZ', [i, (i + step + qubits) % qubits], [b.p()]);
  };
  const rotations = () => {
    for (let i = 0; i < qubits; i++) b.gate('RY', [i], [b.p()]);
  };
  for (let l = 0; l < layers; l++) {
    for (let i = 0; i < qubits; i++) b.gate('RY', [i], [b.x(i)]);
    ring(1);
    rotations();
    ring(-1);
    rotations();
  }
  return b.build();
}

export interface QthaShape {
  inFeatures: number;
  outFeatures: number;
  rank: number;
  architecture: QthaArchitecture;
  /** The MPO side (paper: 256). */
  width?: number;
  bond?: number;
  /** VQC layers (paper: r). */
  vqcLayers?: number;
}

/**
 * Trainable parameters of one QTHA adapter by part: MPO_A and MPO_B (Σ r_{k−1}·o_k·i_k·r_k each), MLP_A
 * (m·r + r) and MLP_B (r·m + m) with m the MPO width (or the layer's own in/out without A), CW and QW (r² each,
 * no bias), the VQC (4r per layer) or the SiLU layer (r² + r). Throws a field-named error for a width that
 * cannot be factorised.
 */
export function qthaParamParts(s: QthaShape): Record<string, number> {
  const p = qthaParts(s.architecture);
  const r = s.rank;
  const m = s.width ?? QTHA_MPO_WIDTH;
  const bond = s.bond ?? QTHA_MPO_BOND;
  const L = s.vqcLayers ?? r;
  const out: Record<string, number> = {};
  if (p.mpo) {
    const fi = factorize(s.inFeatures);
    const fo = factorize(s.outFeatures);
    const fm = factorize(m);
    const bad = !fi
      ? factorizeProblem(s.inFeatures, 'in width')
      : !fo
        ? factorizeProblem(s.outFeatures, 'out width')
        : !fm
          ? factorizeProblem(m, 'MPO width')
          : null;
    if (bad) throw new Error(`adapter: ${bad}`);
    out.MPO_A = mpoParamCount(fm!, fi!, bond);
    out.MPO_B = mpoParamCount(fo!, fm!, bond);
  }
  const rSpace = p.classical || p.quantum || p.silu;
  if (rSpace) {
    const inW = p.mpo ? m : s.inFeatures;
    const outW = p.mpo ? m : s.outFeatures;
    out.MLP_A = inW * r + r;
    out.MLP_B = r * outW + outW;
    if (p.classical) out.CW = r * r;
    if (p.quantum || p.silu) out.QW = r * r;
    if (p.quantum) out.VQC = 4 * r * L;
    if (p.silu) out.SiLU = r * r + r;
  }
  return out;
}

export function qthaParamCount(s: QthaShape): number {
  return Object.values(qthaParamParts(s)).reduce((a, b) => a + b, 0);
}

/** LoRA of rank r on an (out, in) projection: r·(in + out). */
export function loraParamCount(inFeatures: number, outFeatures: number, rank: number): number {
  return rank * (inFeatures + outFeatures);
}

/** 100·(1 − a/b): how much smaller a is than b, in %. */
export function reductionPercent(a: number, b: number): number {
  return 100 * (1 - a / b);
}
