// The f64 reference adjoint method (Jones & Gacon 2020), in the shape of PennyLane-Lightning's
// `adjointJacobian`: seed λ = Σ_o g_o O_o ψ, then walk the operations backwards; for each primitive factor
// U = exp(−i a G) of a gate (gates.ts), apply the generator to ψ, update the Jacobian with 2·Im⟨λ|Gψ⟩, and apply
// U† to ψ and λ. Dense matrices throughout; the fast engines are tested against it.
import type { BatchRequest } from '../backend';
import { observablesOf, type AmplitudeOp, type Angle, type Circuit } from '../circuit';
import { GATE_RECORDS, primitiveGenerator, primitiveMatrix } from '../gates';
import {
  amplitudeMatrix,
  amplitudeOf,
  applyMatrix,
  applyPauli,
  dagger,
  inner,
  opAngles,
  referenceExpval,
  referenceState,
} from './state';

export interface ReferenceVjp {
  expvals: Float64Array;
  norms: Float64Array;
  /** ∂L/∂θ summed over the batch. */
  dParams: Float64Array;
  /** ∂L/∂x, (batch, numInputs). */
  dInputs: Float64Array;
}

/** Where ∂L/∂(angle) goes: θ or x of row b, times the angle's scale (constants go nowhere). */
function updateJacobian(c: Circuit, a: Angle, b: number, d: number, out: ReferenceVjp): void {
  if (a.kind === 'param') out.dParams[a.index] += (a.scale ?? 1) * d;
  else if (a.kind === 'input') out.dInputs[b * c.numInputs + a.index] += (a.scale ?? 1) * d;
}

/** ψ ← U†ψ for the op's dense matrix on its wires. */
function applyAdjointOp(psi: Float64Array, n: number, wires: readonly number[], u: Float64Array): void {
  applyMatrix(psi, n, wires, dagger(u));
}

/**
 * Steps back over an amplitude op V (|0⟩ ↦ |a⟩ on its wires): ψ ← V†ψ, λ ← V†λ, and ∂L/∂a_j = 2·Re⟨λ|(∂V/∂a_j)ψ⟩
 * carried through a = x/‖x‖ into ∂L/∂x.
 */
function amplitudeBackward(
  c: Circuit,
  op: AmplitudeOp,
  inputs: ArrayLike<number>,
  b: number,
  psi: Float64Array,
  lam: Float64Array,
  out: ReferenceVjp,
): void {
  const n = c.qubits;
  const { a, norm } = amplitudeOf(c, op, inputs, b);
  const d = 1 << op.wires.length;
  applyAdjointOp(psi, n, op.wires, amplitudeMatrix(a, op.wires.length));
  const ga = a.map((_, j) => {
    const e = new Float64Array(2 * d * d); // ∂V/∂a_j = |j⟩⟨0|
    e[2 * j * d] = 1;
    const mu = Float64Array.from(psi);
    applyMatrix(mu, n, op.wires, e);
    return 2 * inner(lam, mu)[0];
  });
  applyAdjointOp(lam, n, op.wires, amplitudeMatrix(a, op.wires.length));
  const ag = a.reduce((acc, v, j) => acc + v * ga[j], 0);
  for (let j = 0; j < a.length; j++)
    out.dInputs[b * c.numInputs + op.start + j] += (ga[j] - a[j] * ag) / norm;
}

/** The adjoint-method VJP of L = Σ g·expvals, row by row, in f64 with dense matrices. */
export function referenceVjp(req: BatchRequest, dExpvals: ArrayLike<number>): ReferenceVjp {
  const c = req.circuit;
  const n = c.qubits;
  const terms = observablesOf(c);
  const out: ReferenceVjp = {
    ...referenceExpval(req),
    dParams: new Float64Array(c.numParams),
    dInputs: new Float64Array(req.batch * c.numInputs),
  };
  for (let b = 0; b < req.batch; b++) {
    const psi = referenceState(c, req.params, req.inputs, b).psi;
    const lam = new Float64Array(psi.length);
    terms.forEach((t, o) => {
      const p = applyPauli(psi, n, t);
      for (let i = 0; i < p.length; i++) lam[i] += dExpvals[b * terms.length + o] * p[i];
    });
    for (let oi = c.ops.length - 1; oi >= 0; oi--) {
      const op = c.ops[oi];
      if (op.type === 'amplitude') {
        amplitudeBackward(c, op, req.inputs, b, psi, lam, out);
        continue;
      }
      const angles = opAngles(c, oi, req.params, req.inputs, b);
      const prims = GATE_RECORDS[op.gate].decomposition;
      for (let j = prims.length - 1; j >= 0; j--) {
        const pr = prims[j];
        const wires = pr.wires.map((w) => op.wires[w]);
        if (pr.arg !== undefined && op.angles[pr.arg].kind !== 'const') {
          const mu = Float64Array.from(psi);
          applyMatrix(mu, n, wires, primitiveGenerator(pr)!); // applyGenerator
          updateJacobian(c, op.angles[pr.arg], b, 2 * inner(lam, mu)[1], out);
        }
        const u = primitiveMatrix(pr, pr.arg === undefined ? 0 : angles[pr.arg]);
        applyAdjointOp(psi, n, wires, u);
        applyAdjointOp(lam, n, wires, u);
      }
    }
  }
  return out;
}
