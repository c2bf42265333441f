// The adjoint pass on the device (the gpu counterpart of cpu/adjoint.ts; the plain version is reference/adjoint.ts):
// one traced pipeline runs the forward pass, seeds λ = Σ_t w_t P_t ψ, then walks the gates in reverse — one
// function per step kind: a gate (un-apply it to φ, read 2·Re⟨λ|dU·φ⟩ for each differentiable angle, un-apply it
// to λ) on the device, the amplitude encoding (λ at the initial state through the normalisation) on the host.
import type { GPU, KernelOutput } from 'gpu.js';
import type { Circuit } from '../circuit';
import { forwardGates, gateRunner, toF32, type ApplyGate, type Program } from './forward';
import { applyObservablesKernel, innerProductKernels, pauliKernels, type Kernel } from './kernels';
import { amplitudeBackward, type DeviceGate, type Layout } from './program';

/** What the backward walk carries between gates inside the trace (pipeline handles). */
interface Walk {
  apply: ApplyGate;
  mats: unknown;
  /** The state before the gates still to walk (φ), and the adjoint state (λ). */
  phi: unknown;
  lam: unknown;
  /** Re⟨x|y⟩ per row. */
  inner: (x: unknown, y: unknown) => unknown;
  /** Per gradient slot, the (rows) device result. */
  result: Record<string, unknown>;
}

/**
 * A gate's adjoint step: φ ← U†φ (the state before the gate; skipped before the first differentiable gate, where
 * φ is no longer needed), each derivative 2·Re⟨λ|dU·φ⟩ as the slot's per-row result (the factor 2 and the angle's
 * scale are applied on the host), then λ ← U†λ when anything earlier still needs it.
 */
function backGate(w: Walk, g: DeviceGate, stepPhi: boolean, stepLam: boolean): void {
  if (stepPhi) w.phi = w.apply(w.phi, w.mats, g, g.dag, 1);
  for (const d of g.derivs) {
    const mu = w.apply(w.phi, w.mats, g, d.off, 0);
    w.result[`g${d.slot}`] = w.inner(w.lam, mu);
  }
  if (stepLam) w.lam = w.apply(w.lam, w.mats, g, g.dag, 1);
}

/**
 * The vjp program: forward, ⟨P_t⟩ (result `ev`), λ seeded by the weights, the reverse walk over the gates; with
 * amplitude encoding, λ at the initial state as `lam` for backAmplitude. Arguments (init, mats, table, weights).
 */
export function vjpProgram(gpu: GPU, layout: Layout, terms: number): Program {
  const kernels: Kernel[] = [];
  const apply = gateRunner(gpu, layout, kernels);
  const { rows, qubits: n, gates } = layout;
  const pauli = pauliKernels(gpu, rows, n, terms);
  const obs = applyObservablesKernel(gpu, rows, n, terms);
  const ip = innerProductKernels(gpu, rows, n);
  kernels.push(pauli.partial, pauli.sum, obs, ip.dot, ip.sum);
  const inner = (x: unknown, y: unknown): unknown => ip.sum(ip.dot(x as Float32Array, y as Float32Array));
  const withAmp = layout.amplitudes.length > 0;
  let firstSlot = gates.findIndex((g) => g.derivs.length > 0);
  if (firstSlot < 0) firstSlot = gates.length;
  // without amplitude encoding nothing before the first differentiable gate needs φ or λ
  const stopAt = withAmp ? 0 : firstSlot;
  const pipeline = gpu.createPipeline(function (
    init: unknown,
    mats: unknown,
    table: unknown,
    weights: unknown,
  ) {
    const phi = forwardGates(apply, gates, init, mats);
    const ev = pauli.sum(pauli.partial(phi as Float32Array, table as Float32Array));
    // the seed: λ = Σ_t w_t P_t φ; one small (rows) result per slot — a shared accumulator would rewrite rows × A
    // floats per slot
    const lam = obs(phi as Float32Array, table as Float32Array, weights as Float32Array);
    const w: Walk = { apply, mats, phi, lam, inner, result: { ev } };
    for (let k = gates.length - 1; k >= stopAt; k--)
      backGate(w, gates[k], k >= firstSlot, k > firstSlot || withAmp);
    if (withAmp) w.result.lam = w.lam;
    return w.result;
  });
  return { pipeline, kernels };
}

/**
 * The amplitude encoding's adjoint step, on the host: λ at the initial state through the tensor product and the
 * L2 normalisation into dInputs (program.ts amplitudeBackward).
 */
function backAmplitude(
  layout: Layout,
  circuit: Circuit,
  inputs: ArrayLike<number>,
  start: number,
  real: number,
  lam0: Float32Array,
  dInputs: Float64Array,
): void {
  amplitudeBackward(layout, circuit, inputs, start, real, lam0, dInputs);
}

/**
 * The gradient of rows [start, start + real) from a vjp program's results: each slot's 2·Re⟨λ|dU·φ⟩ times its
 * angle's scale into dParams (summed) or dInputs (per row), then the amplitude encoding's share.
 */
export function collectGradients(
  layout: Layout,
  circuit: Circuit,
  inputs: ArrayLike<number>,
  res: Record<string, KernelOutput>,
  start: number,
  real: number,
  dParams: Float64Array,
  dInputs: Float64Array,
): void {
  layout.slots.forEach((s, j) => {
    const a = s.angle;
    if (a.kind === 'const') return;
    const re = toF32(res[`g${j}`]);
    const scale = 2 * (a.scale ?? 1);
    for (let r = 0; r < real; r++) {
      const v = scale * re[r];
      if (a.kind === 'param') dParams[a.index] += v;
      else dInputs[(start + r) * circuit.numInputs + a.index] += v;
    }
  });
  if (layout.amplitudes.length > 0)
    backAmplitude(layout, circuit, inputs, start, real, toF32(res.lam), dInputs);
}
