// The gpu backend checked against a reference simulator on random circuits that use every gate, amplitude
// encoding, parameters, inputs and Pauli-string observables: expectation values, encoding norms, the VJP with
// respect to θ and x, marginal probabilities and the state. The same cases run in CI (webasm, and WebGPU on
// Mesa llvmpipe) and on a real GPU through the GPU check kit (scripts/gpu-kit.mjs), so what the kit reports
// is what the tests assert.
import type { BatchRequest, Simulator } from '../backend';
import { CircuitBuilder, GATES, GATE_NAMES, type Angle } from '../circuit';

export interface SelfCheckCase {
  name: string;
  qubits: number;
  gates: number;
  batch: number;
  seed: number;
}

/** Small cases for every run, and larger ones (more amplitudes per row, bigger batches) for a real device. */
export const SELF_CHECK_CASES: readonly SelfCheckCase[] = [
  { name: 'n=4, 30 gates, B=5 (seed 11)', qubits: 4, gates: 30, batch: 5, seed: 11 },
  { name: 'n=4, 30 gates, B=5 (seed 12)', qubits: 4, gates: 30, batch: 5, seed: 12 },
  { name: 'n=8, 96 gates, B=16', qubits: 8, gates: 96, batch: 16, seed: 21 },
];
export const SELF_CHECK_LARGE_CASES: readonly SelfCheckCase[] = [
  { name: 'n=12, 160 gates, B=64', qubits: 12, gates: 160, batch: 64, seed: 31 },
  { name: 'n=16, 120 gates, B=8', qubits: 16, gates: 120, batch: 8, seed: 41 },
];

/** Relative tolerances (|a − b| ≤ tol · max(1, |b|)) for a float32 backend against an f64 reference. */
export const SELF_CHECK_TOLERANCE = {
  expvals: 1e-4,
  norms: 1e-6,
  dParams: 1e-3,
  dInputs: 1e-3,
  probs: 1e-5,
  state: 1e-5,
} as const;
export type SelfCheckQuantity = keyof typeof SELF_CHECK_TOLERANCE;

export interface SelfCheckResult {
  case: string;
  quantity: SelfCheckQuantity;
  /** Largest |a − b| / max(1, |b|) over the output. */
  maxError: number;
  tolerance: number;
  ok: boolean;
  /** Set when the outputs differ in length (then maxError is Infinity). */
  problem?: string;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/**
 * A random circuit on `qubits` wires: the first two wires amplitude-encode 4 inputs (the rest of the inputs feed
 * rotation angles), then `gates` gates cycling through every gate kind on shuffled wires with angles that are
 * parameters, inputs or constants, observed through three Pauli strings.
 */
export function selfCheckRequest(c: SelfCheckCase): { req: BatchRequest; dExpvals: Float64Array } {
  const r = rng(c.seed);
  const numInputs = 4 + c.qubits;
  const cb = new CircuitBuilder(c.qubits, numInputs);
  cb.amplitude(
    [1, 2].map((w) => w % c.qubits),
    0,
    4,
  );
  const wires = Array.from({ length: c.qubits }, (_, i) => i);
  for (let i = 0; i < c.gates; i++) {
    const gate = GATE_NAMES[(i * 7 + c.seed) % GATE_NAMES.length];
    const spec = GATES[gate];
    // Fisher–Yates on a copy: a comparator built on random numbers is not a shuffle
    const w = wires.slice();
    for (let k = w.length - 1; k > 0; k--) {
      const j = Math.floor(r() * (k + 1));
      [w[k], w[j]] = [w[j], w[k]];
    }
    const angles: Angle[] = Array.from({ length: spec.angles }, () =>
      r() < 0.5 ? cb.p(0.5 + r()) : r() < 0.7 ? cb.x(4 + Math.floor(c.qubits * r())) : cb.c(3 * r()),
    );
    cb.gate(gate, w.slice(0, spec.wires), angles);
  }
  const last = c.qubits - 1;
  cb.observe([
    { ops: [{ wire: 0, pauli: 'Z' }] },
    {
      coeff: 0.7,
      ops: [
        { wire: 1, pauli: 'X' },
        { wire: last, pauli: 'Y' },
      ],
    },
    {
      coeff: -1.2,
      ops: [
        { wire: 2 % c.qubits, pauli: 'Z' },
        { wire: 0, pauli: 'X' },
      ],
    },
  ]);
  const circuit = cb.build();
  const req: BatchRequest = {
    circuit,
    batch: c.batch,
    params: Float64Array.from({ length: circuit.numParams }, () => 4 * r() - 2),
    inputs: Float64Array.from({ length: c.batch * circuit.numInputs }, () => 2 * r() - 1),
  };
  const dExpvals = Float64Array.from({ length: c.batch * 3 }, () => r() - 0.5);
  return { req, dExpvals };
}

function compare(
  name: string,
  quantity: SelfCheckQuantity,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): SelfCheckResult {
  const tolerance = SELF_CHECK_TOLERANCE[quantity];
  if (a.length !== b.length)
    return {
      case: name,
      quantity,
      maxError: Infinity,
      tolerance,
      ok: false,
      problem: `length ${a.length}, expected ${b.length}`,
    };
  let maxError = 0;
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
    // NaN must fail, so compare the negation
    if (!(e <= maxError)) maxError = Number.isNaN(e) ? Infinity : e;
  }
  return { case: name, quantity, maxError, tolerance, ok: maxError <= tolerance };
}

/** Runs each case on `sim` and on `reference`; one result per case and quantity. */
export async function runGpuSelfCheck(
  sim: Simulator,
  reference: Simulator,
  cases: readonly SelfCheckCase[] = SELF_CHECK_CASES,
  onResult?: (r: SelfCheckResult) => void,
): Promise<SelfCheckResult[]> {
  const out: SelfCheckResult[] = [];
  const push = (r: SelfCheckResult): void => {
    out.push(r);
    onResult?.(r);
  };
  for (const c of cases) {
    const { req, dExpvals } = selfCheckRequest(c);
    const [a, b] = [await sim.vjp(req, dExpvals), await reference.vjp(req, dExpvals)];
    push(compare(c.name, 'expvals', a.expvals, b.expvals));
    push(compare(c.name, 'norms', a.norms, b.norms));
    push(compare(c.name, 'dParams', a.dParams, b.dParams));
    push(compare(c.name, 'dInputs', a.dInputs, b.dInputs));
    const wires = [c.qubits - 1, 1];
    push(compare(c.name, 'probs', await sim.probs(req, wires), await reference.probs(req, wires)));
    push(compare(c.name, 'state', await sim.state(req), await reference.state(req)));
  }
  return out;
}
