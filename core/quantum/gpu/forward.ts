// The forward pass on the device (the gpu counterpart of cpu/engine.ts): one gpu.js pipeline per circuit topology
// and chunk size, traced once, whose steps are one kernel call per gate — one function per step kind (a one-qubit
// gate with up to two controls, a two-qubit gate) — followed by the reduction the call wants (expectation values,
// probabilities) or the state itself. Matrices and angles are arguments, never trace-time constants.
import type { GPU, IPipelineRunShortcut, KernelOutput, PipelineResult } from 'gpu.js';
import type { PauliTerm } from '../circuit';
import { copyKernel, gate1Kernel, gate2Kernel, pauliKernels, probsKernels, type Kernel } from './kernels';
import type { DeviceGate, Layout } from './program';

/** A traced pipeline and the kernels it owns (destroyed with it). */
export interface Program {
  pipeline: IPipelineRunShortcut;
  kernels: Kernel[];
}

/**
 * Applies the block of gate g at mats[off..] to a state: a pipeline step, so st and mats are pipeline handles
 * during the trace. offScale 0 zeroes the uncontrolled block (a derivative dU acts only where the controls are set).
 */
export type ApplyGate = (st: unknown, mats: unknown, g: DeviceGate, off: number, offScale: number) => unknown;

/** A one-qubit gate (the 2×2 at mats[off..]) with up to two controls: one gate1 kernel call. */
function applyOneQubit(k1: Kernel, n: number): ApplyGate {
  const stride = (w: number): number => 2 ** (n - 1 - w);
  return (st, mats, g, off, offScale) => {
    const L = g.lowered;
    if (L.kind !== 'g1') throw new Error('applyOneQubit: not a one-qubit gate');
    const c1 = L.controls.length > 0 ? stride(L.controls[0]) : 0;
    const c2 = L.controls.length > 1 ? stride(L.controls[1]) : 0;
    return k1(
      st as Float32Array,
      mats as Float32Array,
      stride(L.target),
      c1,
      c2,
      g.perRow ? 8 : 0,
      off,
      offScale,
    );
  };
}

/** A two-qubit gate (the 4×4 at mats[off..]): one gate2 kernel call. */
function applyTwoQubit(k2: Kernel, n: number): ApplyGate {
  const stride = (w: number): number => 2 ** (n - 1 - w);
  return (st, mats, g, off) => {
    const L = g.lowered;
    if (L.kind !== 'g2') throw new Error('applyTwoQubit: not a two-qubit gate');
    return k2(
      st as Float32Array,
      mats as Float32Array,
      stride(L.wires[0]),
      stride(L.wires[1]),
      g.perRow ? 32 : 0,
      off,
    );
  };
}

/** The gate kernels a layout needs (added to `kernels`) and the function that applies any of its gates. */
export function gateRunner(gpu: GPU, layout: Layout, kernels: Kernel[]): ApplyGate {
  const n = layout.qubits;
  const k1 = gate1Kernel(gpu, layout.rows, n);
  kernels.push(k1);
  const one = applyOneQubit(k1, n);
  if (!layout.gates.some((g) => g.lowered.kind === 'g2')) return one;
  const k2 = gate2Kernel(gpu, layout.rows, n);
  kernels.push(k2);
  const two = applyTwoQubit(k2, n);
  return (st, mats, g, off, offScale) => (g.lowered.kind === 'g1' ? one : two)(st, mats, g, off, offScale);
}

/** Every gate in order from `init` (a trace step sequence); returns the final state's handle. */
export function forwardGates(apply: ApplyGate, gates: DeviceGate[], init: unknown, mats: unknown): unknown {
  let st = init;
  for (const g of gates) st = apply(st, mats, g, g.u, 1);
  return st;
}

/** ⟨P_t⟩ per (row, term): forward, then the two-pass Pauli reduction. Arguments (init, mats, table). */
export function expvalProgram(gpu: GPU, layout: Layout, terms: number): Program {
  const kernels: Kernel[] = [];
  const apply = gateRunner(gpu, layout, kernels);
  const pauli = pauliKernels(gpu, layout.rows, layout.qubits, terms);
  kernels.push(pauli.partial, pauli.sum);
  const gates = layout.gates;
  const pipeline = gpu.createPipeline(function (init: unknown, mats: unknown, table: unknown) {
    const st = forwardGates(apply, gates, init, mats);
    return pauli.sum(pauli.partial(st as Float32Array, table as Float32Array));
  });
  return { pipeline, kernels };
}

/** Probabilities of the basis states of `wires` per row. Arguments (init, mats, table). */
export function probsProgram(gpu: GPU, layout: Layout, wires: number[]): Program {
  const kernels: Kernel[] = [];
  const apply = gateRunner(gpu, layout, kernels);
  const pk = probsKernels(gpu, layout.rows, layout.qubits, wires.length);
  kernels.push(pk.partial, pk.sum);
  const gates = layout.gates;
  const pipeline = gpu.createPipeline(function (init: unknown, mats: unknown, table: unknown) {
    const st = forwardGates(apply, gates, init, mats);
    return pk.sum(pk.partial(st as Float32Array, table as Float32Array));
  });
  return { pipeline, kernels };
}

/** The final states, (rows, 2^n, 2). Arguments (init, mats). */
export function stateProgram(gpu: GPU, layout: Layout): Program {
  const kernels: Kernel[] = [];
  const apply = gateRunner(gpu, layout, kernels);
  const copy = copyKernel(gpu, layout.rows * 2 * 2 ** layout.qubits);
  kernels.push(copy);
  const gates = layout.gates;
  const pipeline = gpu.createPipeline(function (init: unknown, mats: unknown) {
    const st = forwardGates(apply, gates, init, mats);
    // a plan must end in a kernel step even when the circuit has no gates
    return gates.length === 0 ? copy(st as Float32Array) : st;
  });
  return { pipeline, kernels };
}

export function toF32(out: KernelOutput | PipelineResult): Float32Array {
  if (out instanceof Float32Array) return out;
  if (Array.isArray(out)) return Float32Array.from(out as number[]);
  throw new Error('gpu backend: unexpected result shape from gpu.js');
}

/** Expectation values of rows [start, start + real) from the device's (rows, terms) ⟨P_t⟩, times each coeff. */
export function readExpvals(
  ev: Float32Array,
  terms: PauliTerm[],
  start: number,
  real: number,
  expvals: Float64Array,
): void {
  const T = terms.length;
  for (let r = 0; r < real; r++)
    for (let t = 0; t < T; t++) expvals[(start + r) * T + t] = (terms[t].coeff ?? 1) * ev[r * T + t];
}
