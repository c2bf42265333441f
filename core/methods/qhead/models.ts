// The quantum head and its classical baselines as models over (B, d) embeddings (the harness's
// FeatureModel); the simulators they run on are chosen in core/quantum/sampled-simulators.ts.
import { Linear } from '../../nn/layers';
import { QuantumLayer } from '../../nn/quantum-layer';
import { Rng } from '../../util/rng';
import { countParameters } from '../../nn/tensor';
import type { Simulator } from '../../quantum/backend';
import type { FeatureModel } from '../harness/classifier';
import { module1Circuit, module1Inputs, module1Qubits, module2Circuit, type HeadShape } from './circuits';

export interface QuantumHead extends FeatureModel {
  readonly module1: QuantumLayer[];
  readonly module2: QuantumLayer;
  readonly linear: Linear;
  readonly features: number;
}

/**
 * Module 1 (E encoders) → Module 2 (re-uploading, shared PQC1, PQC2) → Linear([⟨Z⟩_m2, skip]) → logits.
 * With shape.bias > 0 each embedding row gets the constant shape.bias appended before amplitude encoding.
 */
export function quantumHead(shape: HeadShape, sim: Simulator, seed: number): QuantumHead {
  const n = module1Qubits(shape);
  const F = shape.encoders * n;
  const d = shape.dim;
  const din = module1Inputs(shape);
  const c1 = module1Circuit(din, shape.encoderDepth);
  const c2 = module2Circuit({
    features: F,
    qubits: shape.qubits,
    depth: shape.depth,
    finalDepth: shape.finalDepth,
    reuploads: shape.reuploads,
    connectivity: shape.connectivity,
    measured: shape.measured,
  });
  const module1 = Array.from(
    { length: shape.encoders },
    (_, e) => new QuantumLayer(`module1.${e}`, c1, sim, { seed: seed + 101 + e, dtype: 'f64' }),
  );
  const module2 = new QuantumLayer('module2', c2, sim, { seed: seed + 97, dtype: 'f64' });
  const Qm = shape.measured;
  const fin = Qm + (shape.skip ? F : 0);
  const C = shape.classes;
  const linear = new Linear('head', fin, C, { bias: true, dtype: 'f64' });
  new Rng(seed + 3).fillNormal(linear.weight.data, 1 / Math.sqrt(fin));
  const params = [...module1.flatMap((l) => l.parameters()), ...module2.parameters(), ...linear.parameters()];
  // per-batch buffers, reallocated only when the batch size changes
  let B0 = -1;
  let xin = new Float64Array(0); // (B, din) the embedding with the bias amplitude appended
  let m1 = new Float64Array(0); // (B, F) Module 1's ⟨Z⟩
  let h = new Float64Array(0); // (B, fin) the Linear's input
  let out = new Float64Array(0); // (B, C)
  let dh = new Float64Array(0);
  let dm2 = new Float64Array(0);
  let dm1 = new Float64Array(0);
  let dz = new Float64Array(0);
  const size = (B: number) => {
    if (B === B0) return;
    B0 = B;
    [xin, m1, h, out] = [din, F, fin, C].map((w) => new Float64Array(B * w));
    [dh, dm2, dm1, dz] = [fin, Qm, F, n].map((w) => new Float64Array(B * w));
  };
  return {
    module1,
    module2,
    linear,
    features: F,
    parameters: () => params,
    async forward(x, B) {
      size(B);
      let input = x;
      if (din !== d) {
        input = xin;
        for (let b = 0; b < B; b++) {
          for (let c = 0; c < d; c++) xin[b * din + c] = x[b * d + c];
          xin[b * din + d] = shape.bias ?? 0;
        }
      }
      for (let e = 0; e < module1.length; e++) {
        const z = await module1[e].forward(input, B);
        for (let b = 0; b < B; b++) for (let q = 0; q < n; q++) m1[b * F + e * n + q] = z[b * n + q];
      }
      const m2 = await module2.forward(m1, B);
      for (let b = 0; b < B; b++) {
        for (let q = 0; q < Qm; q++) h[b * fin + q] = m2[b * Qm + q];
        if (shape.skip) for (let f = 0; f < F; f++) h[b * fin + Qm + f] = m1[b * F + f];
      }
      linear.forward(out, h, B);
      return out;
    },
    async backward(dlogits) {
      const B = B0;
      dh.fill(0);
      linear.backward(dh, dlogits, h, B);
      dm1.fill(0);
      for (let b = 0; b < B; b++) {
        for (let q = 0; q < Qm; q++) dm2[b * Qm + q] = dh[b * fin + q];
        if (shape.skip) for (let f = 0; f < F; f++) dm1[b * F + f] = dh[b * fin + Qm + f];
      }
      await module2.backward(dm2, dm1);
      for (let e = 0; e < module1.length; e++) {
        for (let b = 0; b < B; b++) for (let q = 0; q < n; q++) dz[b * n + q] = dm1[b * F + e * n + q];
        // the embedding is frozen: Module 1's input gradient is not needed
        await module1[e].backward(dz);
      }
    },
  };
}

/** Logistic regression (softmax over C classes; d·C + C parameters). */
export function logisticModel(d: number, C: number, seed: number): FeatureModel {
  const lin = new Linear('logreg', d, C, { bias: true, dtype: 'f64' });
  new Rng(seed).fillNormal(lin.weight.data, 0.01);
  let x0: Float64Array = new Float64Array(0);
  let out: Float64Array = new Float64Array(0); // (B, C)
  let B0 = 0;
  return {
    parameters: () => lin.parameters(),
    forward(x, B) {
      x0 = x;
      B0 = B;
      if (out.length !== B * C) out = new Float64Array(B * C);
      lin.forward(out, x, B);
      return out;
    },
    backward(dlogits) {
      lin.backward(null, dlogits, x0, B0);
    },
  };
}

export function trainableCount(m: FeatureModel): number {
  return countParameters(m.parameters(), true);
}
