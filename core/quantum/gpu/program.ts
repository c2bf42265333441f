// Host side of one device program: how a circuit's gates map onto kernel calls and where each gate's
// matrices live in the one `mats` argument, plus the host-only parts of a run (amplitude-encoded
// initial states and their backward pass, Pauli-term tables). Everything here is f64 until the
// final write into the Float32Arrays that are uploaded.
import {
  angleValue,
  CircuitError,
  type AmplitudeOp,
  type Angle,
  type Circuit,
  type GateOp,
  type PauliTerm,
} from '../circuit';
import { daggerInPlace, lowerGate, oneQubitMatrix, twoQubitMatrix, type LoweredGate } from './matrices';

export interface DeviceGate {
  opIndex: number;
  op: GateOp;
  lowered: LoweredGate;
  /** Any angle fed by an input: one matrix per batch row instead of one shared matrix. */
  perRow: boolean;
  /** Floats per matrix: 8 (2×2) or 32 (4×4). */
  block: 8 | 32;
  /** Offsets in `mats` of U and (gradient layouts only) U†. */
  u: number;
  dag: number;
  /** One entry per differentiable (param or input) angle: its dU block and accumulator slot. */
  derivs: { angle: number; off: number; slot: number }[];
}

export interface GradSlot {
  opIndex: number;
  angle: Angle;
}

export interface Layout {
  qubits: number;
  rows: number;
  gates: DeviceGate[];
  /** Length of the `mats` argument. */
  matFloats: number;
  /** Floats of `mats` that scale with the batch, per row. */
  matFloatsPerRow: number;
  slots: GradSlot[];
  amplitudes: { opIndex: number; op: AmplitudeOp }[];
}

/**
 * Lays a circuit out for `rows` batch rows. Amplitude ops are hoisted to the initial state, which is
 * exact when their wires are still |0⟩, i.e. untouched by every earlier gate; anything else is refused.
 */
export function layoutCircuit(circuit: Circuit, rows: number, withGrad: boolean): Layout {
  const gates: DeviceGate[] = [];
  const slots: GradSlot[] = [];
  const amplitudes: Layout['amplitudes'] = [];
  const touched = new Set<number>();
  let off = 0;
  let perRowFloats = 0;
  circuit.ops.forEach((op, opIndex) => {
    if (op.type === 'amplitude') {
      for (const w of op.wires) {
        if (touched.has(w)) {
          throw new CircuitError(
            `amplitude encoding needs its wires in |0⟩, but wire ${w} is acted on earlier; the gpu backend prepares amplitudes only on fresh wires`,
            `ops[${opIndex}].wires`,
          );
        }
      }
      op.wires.forEach((w) => touched.add(w));
      amplitudes.push({ opIndex, op });
      return;
    }
    op.wires.forEach((w) => touched.add(w));
    const differentiable = op.angles.some((a) => a.kind !== 'const');
    // the identity changes nothing and has nothing to differentiate
    if (op.gate === 'I') return;
    const lowered = lowerGate(op);
    const perRow = op.angles.some((a) => a.kind === 'input');
    const block = lowered.kind === 'g1' ? 8 : 32;
    const size = perRow ? rows * block : block;
    const take = (): number => {
      const at = off;
      off += size;
      if (perRow) perRowFloats += block;
      return at;
    };
    const u = take();
    const dag = withGrad ? take() : -1;
    const derivs: DeviceGate['derivs'] = [];
    if (withGrad && differentiable) {
      op.angles.forEach((a, angle) => {
        if (a.kind === 'const') return;
        derivs.push({ angle, off: take(), slot: slots.length });
        slots.push({ opIndex, angle: a });
      });
    }
    gates.push({ opIndex, op, lowered, perRow, block, u, dag, derivs });
  });
  return {
    qubits: circuit.qubits,
    rows,
    gates,
    matFloats: Math.max(off, 1),
    matFloatsPerRow: perRowFloats,
    slots,
    amplitudes,
  };
}

/** Everything about a circuit that fixes a traced pipeline (not the angle values or coefficients). */
export function topologyKey(circuit: Circuit): string {
  return JSON.stringify([
    circuit.qubits,
    circuit.ops.map((op) =>
      op.type === 'amplitude'
        ? ['a', op.wires, op.start, op.length]
        : [op.gate, op.wires, op.angles.map((a) => a.kind[0])],
    ),
  ]);
}

function writeMatrix(
  g: DeviceGate,
  angles: Float64Array,
  deriv: number,
  dagger: boolean,
  out: Float64Array,
): void {
  if (g.lowered.kind === 'g1') oneQubitMatrix(g.lowered.base, angles, deriv, out, 0);
  else twoQubitMatrix(g.lowered.base, angles, deriv, out, 0);
  if (dagger) daggerInPlace(out, 0, g.block === 8 ? 2 : 4);
}

/**
 * Fills `mats` for batch rows [rowStart, rowStart + realRows) of the request; padding rows repeat the
 * last real row so they stay finite.
 */
export function fillMatrices(
  layout: Layout,
  circuit: Circuit,
  params: ArrayLike<number>,
  inputs: ArrayLike<number>,
  rowStart: number,
  realRows: number,
  mats: Float32Array,
): void {
  const scratch = new Float64Array(32);
  const angles = new Float64Array(3);
  for (const g of layout.gates) {
    const rowsHere = g.perRow ? layout.rows : 1;
    for (let r = 0; r < rowsHere; r++) {
      const b = rowStart + Math.min(r, realRows - 1);
      for (let j = 0; j < g.op.angles.length; j++) {
        angles[j] = angleValue(g.op.angles[j], params, inputs, circuit.numInputs, b);
      }
      const put = (off: number): void => {
        const at = off + r * g.block;
        for (let i = 0; i < g.block; i++) mats[at + i] = scratch[i];
      };
      writeMatrix(g, angles, -1, false, scratch);
      put(g.u);
      if (g.dag >= 0) {
        writeMatrix(g, angles, -1, true, scratch);
        put(g.dag);
      }
      for (const d of g.derivs) {
        // d/dα of the angle as the gate sees it; the host applies the param/input scale afterwards
        writeMatrix(g, angles, d.angle, false, scratch);
        put(d.off);
      }
    }
  }
}

/** The L2-normalised, zero-padded amplitude vector of one op for one row; returns the raw norm. */
export function amplitudeVector(
  op: AmplitudeOp,
  inputs: ArrayLike<number>,
  numInputs: number,
  row: number,
  opIndex: number,
  out: Float64Array,
): number {
  let sq = 0;
  for (let i = 0; i < op.length; i++) {
    const v = inputs[row * numInputs + op.start + i];
    sq += v * v;
  }
  const norm = Math.sqrt(sq);
  if (!(norm > 0) || !Number.isFinite(norm)) {
    throw new Error(
      `inputs row ${row}: features ${op.start}..${op.start + op.length - 1} amplitude-encoded by ops[${opIndex}] have norm ${norm}; amplitude encoding needs a finite nonzero vector`,
    );
  }
  out.fill(0);
  for (let i = 0; i < op.length; i++) out[i] = inputs[row * numInputs + op.start + i] / norm;
  return norm;
}

/** Index of each basis state's sub-index on `wires` (wires[0] most significant), for all 2^n states. */
function subIndex(qubits: number, wires: number[], x: number): number {
  let k = 0;
  for (const w of wires) k = 2 * k + ((x >> (qubits - 1 - w)) & 1);
  return k;
}

/**
 * Initial states for rows [rowStart, rowStart + layout.rows) (padding repeats the last real row):
 * |0…0⟩, or the tensor product of the amplitude-encoded vectors on their wires. Writes norms
 * (batch, numAmplitudeOps) for the real rows.
 */
export function initialStates(
  layout: Layout,
  circuit: Circuit,
  inputs: ArrayLike<number>,
  rowStart: number,
  realRows: number,
  norms: Float64Array,
  out: Float32Array,
): void {
  const n = layout.qubits;
  const N = 2 ** n;
  out.fill(0);
  const amps = layout.amplitudes;
  if (amps.length === 0) {
    for (let r = 0; r < layout.rows; r++) out[r * 2 * N] = 1;
    return;
  }
  const covered = new Set(amps.flatMap((a) => a.op.wires));
  let freeMask = 0;
  for (let w = 0; w < n; w++) if (!covered.has(w)) freeMask |= 1 << (n - 1 - w);
  const vecs = amps.map((a) => new Float64Array(2 ** a.op.wires.length));
  for (let r = 0; r < layout.rows; r++) {
    const b = rowStart + Math.min(r, realRows - 1);
    amps.forEach((a, i) => {
      const norm = amplitudeVector(a.op, inputs, circuit.numInputs, b, a.opIndex, vecs[i]);
      if (r < realRows) norms[b * amps.length + i] = norm;
    });
    for (let x = 0; x < N; x++) {
      if ((x & freeMask) !== 0) continue;
      let v = 1;
      for (let i = 0; i < amps.length; i++) v *= vecs[i][subIndex(n, amps[i].op.wires, x)];
      out[r * 2 * N + 2 * x] = v;
    }
  }
}

/**
 * Chains λ0 (the adjoint at the initial state: dL = 2·Re⟨λ0|dψ0⟩) through the tensor product and
 * the L2 normalisation into dInputs for the real rows of one chunk.
 */
export function amplitudeBackward(
  layout: Layout,
  circuit: Circuit,
  inputs: ArrayLike<number>,
  rowStart: number,
  realRows: number,
  lambda0: Float32Array,
  dInputs: Float64Array,
): void {
  const n = layout.qubits;
  const N = 2 ** n;
  const amps = layout.amplitudes;
  const covered = new Set(amps.flatMap((a) => a.op.wires));
  let freeMask = 0;
  for (let w = 0; w < n; w++) if (!covered.has(w)) freeMask |= 1 << (n - 1 - w);
  const vecs = amps.map((a) => new Float64Array(2 ** a.op.wires.length));
  const grads = amps.map((a) => new Float64Array(2 ** a.op.wires.length));
  const norms = new Float64Array(amps.length);
  const ks = new Int32Array(amps.length);
  for (let r = 0; r < realRows; r++) {
    const b = rowStart + r;
    amps.forEach((a, i) => {
      norms[i] = amplitudeVector(a.op, inputs, circuit.numInputs, b, a.opIndex, vecs[i]);
      grads[i].fill(0);
    });
    for (let x = 0; x < N; x++) {
      if ((x & freeMask) !== 0) continue;
      const lr = lambda0[r * 2 * N + 2 * x];
      for (let i = 0; i < amps.length; i++) ks[i] = subIndex(n, amps[i].op.wires, x);
      for (let i = 0; i < amps.length; i++) {
        let others = 1;
        for (let j = 0; j < amps.length; j++) if (j !== i) others *= vecs[j][ks[j]];
        grads[i][ks[i]] += 2 * lr * others;
      }
    }
    amps.forEach((a, i) => {
      // a = x/‖x‖  ⇒  ∂L/∂x = (g − a·(a·g)) / ‖x‖
      let ag = 0;
      for (let k = 0; k < a.op.length; k++) ag += vecs[i][k] * grads[i][k];
      for (let k = 0; k < a.op.length; k++) {
        dInputs[b * circuit.numInputs + a.op.start + k] += (grads[i][k] - vecs[i][k] * ag) / norms[i];
      }
    });
  }
}

/** The `terms` argument of the Pauli kernels: wire strides, then flip/sign flags and i^{#Y} per term. */
export function pauliTable(qubits: number, terms: PauliTerm[]): Float32Array {
  const n = qubits;
  const out = new Float32Array(n + terms.length * (2 * n + 2));
  for (let w = 0; w < n; w++) out[w] = 2 ** (n - 1 - w);
  terms.forEach((t, i) => {
    const tb = n + i * (2 * n + 2);
    let ys = 0;
    for (const { wire, pauli } of t.ops) {
      if (pauli === 'X' || pauli === 'Y') out[tb + wire] = 1;
      if (pauli === 'Y' || pauli === 'Z') out[tb + n + wire] = 1;
      if (pauli === 'Y') ys++;
    }
    const phase = [
      [1, 0],
      [0, 1],
      [-1, 0],
      [0, -1],
    ][ys % 4];
    out[tb + 2 * n] = phase[0];
    out[tb + 2 * n + 1] = phase[1];
  });
  return out;
}

/** The `wires` argument of the probability kernel: per wire [stride, selStride, restStride]. */
export function probsTable(qubits: number, measured: number[]): Float32Array {
  const out = new Float32Array(3 * qubits);
  const m = measured.length;
  const rest = [...Array(qubits).keys()].filter((w) => !measured.includes(w));
  for (let w = 0; w < qubits; w++) {
    out[3 * w] = 2 ** (qubits - 1 - w);
    const pos = measured.indexOf(w);
    if (pos >= 0) out[3 * w + 1] = 2 ** (m - 1 - pos);
    else out[3 * w + 2] = 2 ** (rest.length - 1 - rest.indexOf(w));
  }
  return out;
}
