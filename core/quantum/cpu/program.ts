// Compiles a circuit record into a flat schedule for the CPU kernels: gates split into exact
// single-angle primitives (gates.ts), runs of uncontrolled one-qubit primitives on a wire fused into
// blocks, angle sources resolved to (kind, index, scale) so no per-amplitude dispatch happens.
import { observablesOf, type Circuit } from '../circuit';
import { GATE_RECORDS, gateMatrix } from '../gates';
import type { PauliMasks } from './kernels';

export const K_FIXED1 = 0; // fixed 2×2 on the target, optionally controlled
export const K_X = 1; // X on the target, optionally controlled (X, CNOT, Toffoli)
export const K_ROT = 2; // exp(−i a P/2) on the target, optionally controlled
export const K_PHASE = 3; // diag(1, e^{ia}) on the target, optionally controlled
export const K_SWAP = 4;
export const K_ROT2 = 5; // exp(−i a P⊗P/2) on two wires

export const SRC_CONST = 0;
export const SRC_PARAM = 1;
export const SRC_INPUT = 2;

export interface Prim {
  kind: number;
  /** Target bit (p = n − 1 − wire); for two-wire primitives the bit of the first wire. */
  p: number;
  /** Second bit for SWAP / ROT2. */
  q: number;
  wire: number;
  cmask: number;
  /** 0 X, 1 Y, 2 Z for ROT / ROT2. */
  pauli: number;
  src: number;
  index: number;
  scale: number;
  value: number;
  /** Fixed 2×2 target block (interleaved) for K_FIXED1. */
  fixed: Float64Array | null;
  /** Diagonal fixed matrix (Z, S, T, CZ…): applied by the diagonal kernel. */
  diag: boolean;
  /** Index of the circuit op it came from. */
  op: number;
  /** Which of that op's angle arguments it takes (−1: none), so a shifted batch can find it. */
  arg: number;
  /** Generator G = genScale · Π(genCmask) · P(gen), with U = exp(−i a G), for the adjoint method. */
  gen: PauliMasks;
  genCmask: number;
  genScale: number;
}

export interface BlockStep {
  type: 'block';
  wire: number;
  p: number;
  prims: number[];
  /** Depends on an input-fed angle, so its matrix is rebuilt per row. */
  perRow: boolean;
  /** Holds a trainable or input-fed angle, so the backward pass must differentiate it. */
  diff: boolean;
}
export interface PrimStep {
  type: 'prim';
  prim: number;
}
export interface AmpStep {
  type: 'amp';
  /** Index among the circuit's amplitude ops (column of `norms`). */
  amp: number;
  op: number;
  start: number;
  length: number;
  /** offsets[j]: basis-index offset that puts local index j onto the op's wires. */
  offsets: Int32Array;
  /** Mask of the op's wire bits. */
  mask: number;
}
/** A run of consecutive diagonal primitives (RZZ, CZ, CRZ, CPhase…) applied as one diagonal table. */
export interface DiagStep {
  type: 'diag';
  prims: number[];
  /** Holds an input-fed angle, so the table is rebuilt per row. */
  perRow: boolean;
  diff: boolean;
}
/** A run of consecutive basis permutations (CNOT, Toffoli, X-controlled, SWAP) applied as one gather. */
export interface PermStep {
  type: 'perm';
  prims: number[];
  /** ψ_after[j] = ψ_before[src[j]]. */
  src: Int32Array;
  /** ψ_before[i] = ψ_after[inv[i]]. */
  inv: Int32Array;
}
export type Step = BlockStep | PrimStep | AmpStep | DiagStep | PermStep;

export interface Program {
  qubits: number;
  dim: number;
  numParams: number;
  numInputs: number;
  prims: Prim[];
  steps: Step[];
  numAmp: number;
  observables: { coeff: number; masks: PauliMasks }[];
  /** Every observable is a Z string (flip = 0): expvals and the adjoint seed come from |ψ_i|² weights. */
  diagObs: boolean;
  /** parity[i] = parity of the set bits of i, for i < dim. */
  parity: Uint8Array;
}

/** Diagonal primitives: Z-type rotations (controlled or two-wire), phases, fixed diagonal gates. */
export function isDiagPrim(pr: Prim): boolean {
  return (
    ((pr.kind === K_ROT || pr.kind === K_ROT2) && pr.pauli === 2) ||
    pr.kind === K_PHASE ||
    (pr.kind === K_FIXED1 && pr.diag)
  );
}

function isPermPrim(pr: Prim): boolean {
  return pr.kind === K_X || pr.kind === K_SWAP;
}

/** Where a permutation primitive sends basis index i (each is an involution). */
function permImage(pr: Prim, i: number): number {
  if (pr.kind === K_SWAP) {
    const bp = (i >>> pr.p) & 1;
    const bq = (i >>> pr.q) & 1;
    return bp === bq ? i : i ^ ((1 << pr.p) | (1 << pr.q));
  }
  return (i & pr.cmask) === pr.cmask ? i ^ (1 << pr.p) : i;
}

/** Merges runs of ≥ 2 consecutive diagonal or permutation primitive steps into one step each. */
function fuseRuns(prims: Prim[], steps: Step[], dim: number): Step[] {
  const out: Step[] = [];
  let k = 0;
  while (k < steps.length) {
    const st = steps[k];
    if (st.type !== 'prim') {
      out.push(st);
      k++;
      continue;
    }
    const pred = isDiagPrim(prims[st.prim]) ? isDiagPrim : isPermPrim(prims[st.prim]) ? isPermPrim : null;
    let e = k + 1;
    if (pred)
      while (e < steps.length) {
        const nx = steps[e];
        if (nx.type !== 'prim' || !pred(prims[nx.prim])) break;
        e++;
      }
    if (e - k < 2 || !pred) {
      out.push(st);
      k++;
      continue;
    }
    const run = steps.slice(k, e).map((x) => (x as PrimStep).prim);
    if (pred === isDiagPrim) {
      out.push({
        type: 'diag',
        prims: run,
        perRow: run.some((i) => prims[i].src === SRC_INPUT),
        diff: run.some((i) => prims[i].src !== SRC_CONST),
      });
    } else {
      const src = new Int32Array(dim);
      const inv = new Int32Array(dim);
      for (let j = 0; j < dim; j++) {
        let x = j;
        for (let r = run.length - 1; r >= 0; r--) x = permImage(prims[run[r]], x);
        src[j] = x;
        inv[x] = j;
      }
      out.push({ type: 'perm', prims: run, src, inv });
    }
    k = e;
  }
  return out;
}

const PAULI_INDEX = { X: 0, Y: 1, Z: 2 } as const;

export function pauliMasks(qubits: number, ops: { wire: number; pauli: 'X' | 'Y' | 'Z' }[]): PauliMasks {
  let flip = 0;
  let sign = 0;
  let ny = 0;
  for (const o of ops) {
    const bit = 1 << (qubits - 1 - o.wire);
    if (o.pauli !== 'Z') flip |= bit;
    if (o.pauli !== 'X') sign |= bit;
    if (o.pauli === 'Y') ny++;
  }
  return { flip, sign, ny };
}

function setGenerator(pr: Prim): void {
  const b = pr.kind === K_ROT2 ? (1 << pr.p) | (1 << pr.q) : 1 << pr.p;
  if (pr.kind === K_ROT || pr.kind === K_ROT2) {
    const ny = pr.pauli === 1 ? (pr.kind === K_ROT2 ? 2 : 1) : 0;
    pr.gen = { flip: pr.pauli === 2 ? 0 : b, sign: pr.pauli === 0 ? 0 : b, ny };
    pr.genCmask = pr.cmask;
    pr.genScale = 0.5;
  } else if (pr.kind === K_PHASE) {
    // diag(1, e^{ia}) = exp(−i a (−|1⟩⟨1|))
    pr.genCmask = pr.cmask | b;
    pr.genScale = -1;
  }
}

export function compile(c: Circuit): Program {
  const n = c.qubits;
  if (n > 30) throw new Error(`qubits: the CPU backend simulates at most 30 wires, got ${n}`);
  const bit = (w: number): number => n - 1 - w;
  const prims: Prim[] = [];
  const steps: Step[] = [];
  const open = new Map<number, BlockStep>();
  let numAmp = 0;
  c.ops.forEach((op, oi) => {
    if (op.type === 'amplitude') {
      for (const w of op.wires) open.delete(w);
      const k = op.wires.length;
      const offsets = new Int32Array(1 << k);
      let mask = 0;
      for (const w of op.wires) mask |= 1 << bit(w);
      for (let j = 0; j < 1 << k; j++) {
        let o = 0;
        for (let t = 0; t < k; t++) if ((j >> (k - 1 - t)) & 1) o |= 1 << bit(op.wires[t]);
        offsets[j] = o;
      }
      steps.push({ type: 'amp', amp: numAmp++, op: oi, start: op.start, length: op.length, offsets, mask });
      return;
    }
    for (const pr of GATE_RECORDS[op.gate].decomposition) {
      const wires = pr.wires.map((i) => op.wires[i]);
      let cmask = 0;
      for (let i = 0; i < pr.controls; i++) cmask |= 1 << bit(wires[i]);
      const target = wires[pr.controls];
      let src = SRC_CONST;
      let index = 0;
      let scale = 1;
      let value = pr.constAngle ?? 0;
      if (pr.arg !== undefined) {
        const a = op.angles[pr.arg];
        if (a.kind === 'const') value = a.value;
        else {
          src = a.kind === 'param' ? SRC_PARAM : SRC_INPUT;
          index = a.index;
          scale = a.scale ?? 1;
        }
      }
      const prim: Prim = {
        kind: K_FIXED1,
        p: bit(target),
        q: 0,
        wire: target,
        cmask,
        pauli: pr.pauli ? PAULI_INDEX[pr.pauli] : 0,
        src,
        index,
        scale,
        value,
        fixed: null,
        diag: false,
        op: oi,
        arg: pr.arg ?? -1,
        gen: { flip: 0, sign: 0, ny: 0 },
        genCmask: 0,
        genScale: 0,
      };
      if (pr.kind === 'rot') prim.kind = K_ROT;
      else if (pr.kind === 'phase') prim.kind = K_PHASE;
      else if (pr.kind === 'rot2') {
        prim.kind = K_ROT2;
        prim.p = bit(wires[0]);
        prim.q = bit(wires[1]);
      } else if (pr.gate === 'SWAP') {
        prim.kind = K_SWAP;
        prim.p = bit(wires[0]);
        prim.q = bit(wires[1]);
      } else if (pr.gate === 'X' || pr.gate === 'CNOT' || pr.gate === 'Toffoli') prim.kind = K_X;
      else {
        // controlled fixed gates keep only their target block: the controls live in cmask
        const rec = GATE_RECORDS[pr.gate!];
        prim.fixed = gateMatrix(rec.base, []);
        prim.diag = rec.diagonal;
      }
      setGenerator(prim);
      const pi = prims.push(prim) - 1;
      const oneQubit = prim.kind !== K_SWAP && prim.kind !== K_ROT2 && cmask === 0;
      if (oneQubit) {
        const blk = open.get(target);
        if (blk) {
          blk.prims.push(pi);
          blk.perRow ||= src === SRC_INPUT;
          blk.diff ||= src !== SRC_CONST;
        } else {
          const nb: BlockStep = {
            type: 'block',
            wire: target,
            p: prim.p,
            prims: [pi],
            perRow: src === SRC_INPUT,
            diff: src !== SRC_CONST,
          };
          open.set(target, nb);
          steps.push(nb);
        }
      } else {
        for (const w of wires) open.delete(w);
        steps.push({ type: 'prim', prim: pi });
      }
    }
  });
  const observables = observablesOf(c).map((t) => ({ coeff: t.coeff ?? 1, masks: pauliMasks(n, t.ops) }));
  // 1 << n, not 2 ** n: a Smi, so kernels index with integer arithmetic (2 ** n deopts them to doubles)
  const dim = 1 << n;
  const parity = new Uint8Array(dim);
  for (let i = 1; i < dim; i++) parity[i] = parity[i >>> 1] ^ (i & 1);
  return {
    qubits: n,
    dim,
    numParams: c.numParams,
    numInputs: c.numInputs,
    prims,
    steps: fuseRuns(prims, steps, dim),
    numAmp,
    observables,
    diagObs: observables.every((o) => o.masks.flip === 0),
    parity,
  };
}
