import { describe, expect, it } from 'vitest';
import { GATES, GATE_NAMES, type GateOp } from '../../../core/quantum/circuit';
import {
  daggerInPlace,
  lowerGate,
  oneQubitMatrix,
  twoQubitMatrix,
  type LoweredGate,
} from '../../../core/quantum/gpu/matrices';
import { gateMatrix } from './reference';

function deviceMatrix(L: LoweredGate, angles: number[], deriv: number): Float64Array {
  const out = new Float64Array(32);
  if (L.kind === 'g1') oneQubitMatrix(L.base, angles, deriv, out, 0);
  else twoQubitMatrix(L.base, angles, deriv, out, 0);
  return out;
}

const angleSets = [
  [0.3, -1.1, 2.2],
  [-2.7, 0.45, -0.8],
];

describe('gpu gate matrices (host side)', () => {
  for (const gate of GATE_NAMES) {
    const spec = GATES[gate];
    const op: GateOp = { type: 'gate', gate, wires: [...Array(spec.wires).keys()], angles: [] };
    const L = lowerGate(op);

    it(`${gate}: lowered matrix equals the reference matrix (target block for controlled gates)`, () => {
      for (const a of angleSets) {
        const angles = a.slice(0, spec.angles);
        const ref = gateMatrix(gate, angles);
        const m = deviceMatrix(L, angles, -1);
        const d = L.kind === 'g1' ? 2 : 4;
        const o = ref.length - d; // controls select the last block
        for (let r = 0; r < d; r++)
          for (let k = 0; k < d; k++) {
            expect(m[2 * (d * r + k)]).toBeCloseTo(ref[o + r][o + k][0], 12);
            expect(m[2 * (d * r + k) + 1]).toBeCloseTo(ref[o + r][o + k][1], 12);
          }
        if (L.kind === 'g1') expect(L.controls).toHaveLength(spec.wires - 1);
      }
    });

    if (spec.angles > 0) {
      it(`${gate}: angle derivatives match central finite differences`, () => {
        const h = 1e-6;
        for (const a of angleSets) {
          const angles = a.slice(0, spec.angles);
          for (let j = 0; j < spec.angles; j++) {
            const up = angles.slice();
            const down = angles.slice();
            up[j] += h;
            down[j] -= h;
            const mu = deviceMatrix(L, up, -1);
            const md = deviceMatrix(L, down, -1);
            const dm = deviceMatrix(L, angles, j);
            for (let i = 0; i < 32; i++) expect(dm[i]).toBeCloseTo((mu[i] - md[i]) / (2 * h), 7);
          }
        }
      });
    }
  }

  it('daggerInPlace is the conjugate transpose and U·U† = I', () => {
    for (const [L, d] of [
      [lowerGate({ type: 'gate', gate: 'U3', wires: [0], angles: [] }), 2],
      [lowerGate({ type: 'gate', gate: 'RYY', wires: [0, 1], angles: [] }), 4],
    ] as const) {
      const u = deviceMatrix(L, [0.7, -0.2, 1.9], -1);
      const v = u.slice();
      daggerInPlace(v, 0, d);
      for (let r = 0; r < d; r++)
        for (let k = 0; k < d; k++) {
          expect(v[2 * (d * r + k)]).toBe(u[2 * (d * k + r)]);
          expect(v[2 * (d * r + k) + 1]).toBe(-u[2 * (d * k + r) + 1]);
          let re = 0;
          let im = 0;
          for (let j = 0; j < d; j++) {
            const [ar, ai] = [u[2 * (d * r + j)], u[2 * (d * r + j) + 1]];
            const [br, bi] = [v[2 * (d * j + k)], v[2 * (d * j + k) + 1]];
            re += ar * br - ai * bi;
            im += ar * bi + ai * br;
          }
          expect(re).toBeCloseTo(r === k ? 1 : 0, 12);
          expect(im).toBeCloseTo(0, 12);
        }
    }
  });
});
