// Random circuits that use every gate kind (fused blocks, diagonal and permutation runs, lone controlled and
// two-wire primitives, amplitude encoding, trainable, input-fed and constant angles, Pauli and Z-only
// observables), shared by the tests that compare a backend or a gradient method with the reference.
import { expect } from 'vitest';
import type { BatchRequest } from '../../core/quantum/backend';
import {
  CircuitBuilder,
  GATES,
  GATE_NAMES,
  type Angle,
  type GateName,
  type PauliTerm,
} from '../../core/quantum/circuit';
import { compile, type Program } from '../../core/quantum/cpu/program';
import { Runner } from '../../core/quantum/cpu/engine';
import { mulberry32 } from './quantum';

const RUNS: GateName[][] = [
  ['RZZ', 'CZ', 'CRZ', 'CPhase', 'RZ', 'T'], // a diagonal run (lone RZ/T on a wire fuse into blocks)
  ['CNOT', 'SWAP', 'Toffoli', 'CNOT'], // a permutation run
  ['RX', 'RY', 'RZ', 'H', 'U3', 'Rot'], // a block on one wire when the wires repeat
];

/** A random circuit of `qubits` wires using every gate at least once. */
export function randomCircuit(
  qubits: number,
  seed: number,
  opts: { zOnly?: boolean; amplitude?: boolean } = {},
) {
  const r = mulberry32(seed);
  const cb = new CircuitBuilder(qubits, qubits);
  if (opts.amplitude !== false) cb.amplitude([1, 2], 0, 3);
  const wiresFor = (k: number): number[] => [...Array(qubits).keys()].sort(() => r() - 0.5).slice(0, k);
  const angle = (): Angle => {
    const u = r();
    return u < 0.45
      ? cb.p(u < 0.2 ? 0.5 + r() : undefined)
      : u < 0.75
        ? cb.x(Math.floor(qubits * r()), 0.8)
        : cb.c(6 * r() - 3);
  };
  const add = (g: GateName, wires = wiresFor(GATES[g].wires)): void => {
    cb.gate(g, wires, Array.from({ length: GATES[g].angles }, angle));
  };
  const order = [...GATE_NAMES].sort(() => r() - 0.5);
  for (const g of order) add(g);
  for (const run of RUNS) {
    const w = wiresFor(3);
    for (const g of run) add(g, w.slice(0, GATES[g].wires));
  }
  for (let i = 0; i < 12; i++) add(GATE_NAMES[Math.floor(r() * GATE_NAMES.length)]);
  const terms: PauliTerm[] = [];
  for (let t = 0; t < 3; t++) {
    const ops = [...Array(qubits).keys()]
      .filter(() => r() < 0.6)
      .map((wire) => ({
        wire,
        pauli: opts.zOnly ? ('Z' as const) : (['X', 'Y', 'Z'] as const)[Math.floor(3 * r())],
      }));
    terms.push({ coeff: 2 * r() - 1, ops });
  }
  terms.push({ ops: [{ wire: qubits - 1, pauli: 'Z' }] });
  cb.observe(terms);
  return cb.build();
}

export function randomRequest(
  qubits: number,
  seed: number,
  batch: number,
  opts = {},
): { req: BatchRequest; g: number[] } {
  const circuit = randomCircuit(qubits, seed, opts);
  const r = mulberry32(seed + 1000);
  const req = {
    circuit,
    batch,
    params: Array.from({ length: circuit.numParams }, () => 6 * r() - 3),
    inputs: Array.from({ length: batch * circuit.numInputs }, () => 2 * r() - 1),
  };
  const g = Array.from({ length: batch * (circuit.observables?.length ?? qubits) }, () => r() - 0.5);
  return { req, g };
}

/** max |x − y| / max(1, |y|) over the entries. */
export function maxRel(x: ArrayLike<number>, y: ArrayLike<number>): number {
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < y.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]) / Math.max(1, Math.abs(y[i])));
  return m;
}

/**
 * Runs one cpu Runner row by row, as the engine's drivers do (optionally without wasm, without the tape, or with
 * tape runs on or off): its expectation values, ∂L/∂θ and ∂L/∂x for the cotangent g. `prepare` sees the bound
 * Runner before the first row, `afterForward` each row after its forward pass.
 */
export function runnerVjp(
  req: BatchRequest,
  g: ArrayLike<number>,
  precision: 'f32' | 'f64',
  useWasm: boolean,
  taped: boolean,
  opts: {
    tapeRuns?: boolean;
    prepare?: (run: Runner, prog: Program) => void;
    afterForward?: (run: Runner, row: number) => void;
  } = {},
) {
  const prog = compile(req.circuit);
  const run = new Runner(prog, precision, useWasm, opts.tapeRuns);
  run.bind(req.params, req.inputs);
  if (taped) expect(run.enableTape()).toBe(true);
  opts.prepare?.(run, prog);
  const out = runRows(run, req.batch, g, opts.afterForward);
  return { run, prog, ...out, usesWasm: run.usesWasm, steps: prog.steps };
}

/** A bound Runner's rows, forward then adjoint each: expectation values, ∂L/∂θ and ∂L/∂x for the cotangent g. */
export function runRows(
  run: Runner,
  batch: number,
  g: ArrayLike<number>,
  afterForward?: (run: Runner, row: number) => void,
) {
  const prog = run.prog;
  const nObs = prog.observables.length;
  const expvals = new Float64Array(batch * nObs);
  const dParams = new Float64Array(prog.numParams);
  const dInputs = new Float64Array(batch * prog.numInputs);
  for (let b = 0; b < batch; b++) {
    run.forwardRow(b, null, 0);
    afterForward?.(run, b);
    run.expvalsRow(expvals, b * nObs);
    run.backwardRow(b, g, b * nObs, dParams, dInputs);
  }
  return { expvals, dParams, dInputs };
}
