// Resource estimate of a circuit: width, depth, gate counts by arity, parameters, inputs, and the
// shots needed for a target standard error of an expectation value.
import { GATES, type Circuit, type GateName } from './circuit';

export interface Resources {
  qubits: number;
  /** Layers when every operation waits for all of its wires to be free (as-soon-as-possible). */
  depth: number;
  /** Gate operations (amplitude encodings not included). */
  gates: number;
  oneQubitGates: number;
  twoQubitGates: number;
  threeQubitGates: number;
  amplitudeOps: number;
  byGate: Partial<Record<GateName, number>>;
  params: number;
  inputs: number;
}

/** The layer (0-based) of every operation, by wire occupancy. */
export function opLayers(circuit: Circuit): number[] {
  const free = new Array<number>(circuit.qubits).fill(0);
  return circuit.ops.map((op) => {
    let layer = 0;
    for (const w of op.wires) layer = Math.max(layer, free[w]);
    for (const w of op.wires) free[w] = layer + 1;
    return layer;
  });
}

export function resources(circuit: Circuit): Resources {
  const layers = opLayers(circuit);
  const r: Resources = {
    qubits: circuit.qubits,
    depth: layers.length ? Math.max(...layers) + 1 : 0,
    gates: 0,
    oneQubitGates: 0,
    twoQubitGates: 0,
    threeQubitGates: 0,
    amplitudeOps: 0,
    byGate: {},
    params: circuit.numParams,
    inputs: circuit.numInputs,
  };
  for (const op of circuit.ops) {
    if (op.type === 'amplitude') {
      r.amplitudeOps++;
      continue;
    }
    r.gates++;
    const k = GATES[op.gate].wires;
    if (k === 1) r.oneQubitGates++;
    else if (k === 2) r.twoQubitGates++;
    else r.threeQubitGates++;
    r.byGate[op.gate] = (r.byGate[op.gate] ?? 0) + 1;
  }
  return r;
}

/**
 * Shots so that the standard error of the estimate of coeff·⟨P⟩ (P a Pauli string, ±1 outcomes)
 * is at most ε: Var = coeff²·(1 − ⟨P⟩²), so N = ⌈coeff²·(1 − ⟨P⟩²)/ε²⌉; without a value, the worst
 * case ⟨P⟩ = 0 gives ⌈coeff²/ε²⌉. At least one shot.
 */
export function shotsForStandardError(
  epsilon: number,
  options: { expval?: number; coeff?: number } = {},
): number {
  if (!(epsilon > 0) || !Number.isFinite(epsilon))
    throw new Error(`epsilon must be a positive number, got ${epsilon}`);
  const coeff = options.coeff ?? 1;
  if (!Number.isFinite(coeff)) throw new Error('coeff must be finite');
  let variance = coeff * coeff;
  if (options.expval !== undefined) {
    const m = options.expval / (coeff || 1);
    if (!(Math.abs(m) <= 1)) throw new Error(`expval must lie in [−|coeff|, |coeff|], got ${options.expval}`);
    variance = coeff * coeff * (1 - m * m);
  }
  // tiny relative slack so 1/0.01² gives 10000, not 10001 from rounding
  return Math.max(1, Math.ceil(variance / (epsilon * epsilon) - 1e-9));
}
