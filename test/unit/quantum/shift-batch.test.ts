// Parameter shift as ONE batched request (gradients.ts parameterShiftTransform's `batched`, the cpu backend's
// expvalShifted): the shifted circuits run as rows of one batch that differ only in the shifted angle. Checked
// against the reference adjoint (f64), the cpu adjoint, and the one-request-per-shift evaluation, on random
// circuits that use every gate (two-term and four-term shift rules), with threads and on the f32 wasm path.
import { afterAll, describe, expect, it } from 'vitest';
import type { BatchRequest, ShiftedRequest, Simulator } from '../../../core/quantum/backend';
import { shiftRule } from '../../../core/quantum/gates';
import {
  evaluatorOf,
  evaluateAll,
  parameterShiftTransform,
  parameterShiftVjp,
  shiftJacobian,
  type Evaluate,
} from '../../../core/quantum/gradients';
import { referenceVjp } from '../../../core/quantum/reference/adjoint';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import { qdllmStudent } from '../../../core/methods/sim-bench/workloads';
import { maxRel, randomRequest } from '../../helpers/random-circuits';

const sims: Simulator[] = [];
afterAll(() => sims.forEach((s) => s.dispose()));
function cpu(precision: 'f32' | 'f64', threads = 0): Simulator {
  const s = createCpuSimulator({ precision, threads });
  sims.push(s);
  return s;
}

/** The per-request evaluator of a simulator (no `shifted`: one request per shifted circuit). */
const perRequest =
  (sim: Simulator): Evaluate =>
  async (r) =>
    (await sim.expval(r)).expvals;

/** The Jacobian (batch, nObs, P) and (batch, nObs, N) of the reference adjoint, one one-hot seed per entry. */
function referenceJacobian(
  req: BatchRequest,
  nObs: number,
): { jParams: Float64Array; jInputs: Float64Array } {
  const P = req.circuit.numParams;
  const N = req.circuit.numInputs;
  const B = req.batch;
  const jParams = new Float64Array(B * nObs * P);
  const jInputs = new Float64Array(B * nObs * N);
  const g = new Float64Array(B * nObs);
  for (let i = 0; i < B * nObs; i++) {
    g.fill(0);
    g[i] = 1;
    const r = referenceVjp(req, g);
    const b = Math.floor(i / nObs);
    jParams.set(r.dParams, i * P);
    jInputs.set(r.dInputs.subarray(b * N, (b + 1) * N), i * N);
  }
  return { jParams, jInputs };
}

describe('parameter shift as one batch', () => {
  it('the Jacobian equals the reference adjoint and the cpu adjoint (f64, 1e-9), every shift rule', async () => {
    for (const seed of [40, 41, 42]) {
      const { req } = randomRequest(4, seed, 3, { amplitude: false });
      const nObs = req.circuit.observables!.length;
      // both rules are present: two-term (RX…, RZZ…) and four-term (controlled rotations)
      const rules = new Set<number>();
      for (const op of req.circuit.ops)
        if (op.type === 'gate')
          op.angles.forEach((a, ai) => a.kind !== 'const' && rules.add(shiftRule(op.gate, ai).terms.length));
      expect([...rules].sort()).toEqual([2, 4]);
      const sim = cpu('f64');
      let batchedCalls = 0;
      const ev = evaluatorOf(sim);
      const shifted = ev.shifted!;
      ev.shifted = (r) => {
        batchedCalls++;
        return shifted(r);
      };
      const got = await shiftJacobian(ev, req, nObs);
      expect(batchedCalls).toBe(1);
      const want = referenceJacobian(req, nObs);
      expect(maxRel(got.jParams, want.jParams)).toBeLessThan(1e-9);
      expect(maxRel(got.jInputs, want.jInputs)).toBeLessThan(1e-9);
      // the cpu backend's own adjoint, one one-hot seed per (row, observable)
      const adj = new Float64Array(got.jParams.length);
      for (let i = 0; i < req.batch * nObs; i++) {
        const g = new Float64Array(req.batch * nObs);
        g[i] = 1;
        adj.set((await sim.vjp(req, g)).dParams, i * req.circuit.numParams);
      }
      expect(maxRel(got.jParams, adj)).toBeLessThan(1e-9);
    }
  });

  it('each batched row equals its own request (amplitude encoding, Pauli observables, f64 and f32 wasm)', async () => {
    for (const [qubits, precision, tol] of [
      [4, 'f64', 1e-12],
      [6, 'f64', 1e-12],
      [6, 'f32', 1e-5], // 2^6 amplitudes: the wasm SIMD rows, diagonal tables copied to f32 when the shift moves
    ] as const) {
      const { req } = randomRequest(qubits, 50 + qubits, 2);
      const sim = cpu(precision);
      const t = parameterShiftTransform(req);
      const batched = t.split(await sim.expvalShifted!(t.batched));
      const separate = await evaluateAll(perRequest(sim), t);
      expect(batched.length).toBe(separate.length);
      batched.forEach((b, i) => expect(maxRel(b, separate[i])).toBeLessThan(tol));
    }
  });

  it('worker threads give the same numbers as one thread (bit for bit), and the vjp matches', async () => {
    const w = qdllmStudent(5, 2, 4);
    const req: BatchRequest = { circuit: w.circuit, params: w.params, inputs: w.inputs, batch: w.batch };
    const t = parameterShiftTransform(req);
    expect(t.batched.shifts.op.length).toBeGreaterThanOrEqual(128); // ≥ 2 chunks: split over the pool
    const one = await cpu('f64').expvalShifted!(t.batched);
    const two = await cpu('f64', 2).expvalShifted!(t.batched);
    expect(Array.from(two)).toEqual(Array.from(one));
    const g = Array.from({ length: w.batch * w.circuit.qubits }, (_, i) => Math.sin(i));
    const ps = await parameterShiftVjp(evaluatorOf(cpu('f64', 2)), req, g);
    const ref = referenceVjp(req, g);
    expect(maxRel(ps.dParams, ref.dParams)).toBeLessThan(1e-9);
    expect(maxRel(ps.dInputs, ref.dInputs)).toBeLessThan(1e-9);
  });

  it('a later plain call on the same circuit is unshifted (the shift is cleared)', async () => {
    const { req } = randomRequest(4, 60, 2, { amplitude: false });
    const sim = cpu('f64');
    const before = (await sim.expval(req)).expvals;
    await sim.expvalShifted!(parameterShiftTransform(req).batched);
    expect(Array.from((await sim.expval(req)).expvals)).toEqual(Array.from(before));
  });

  it('a bad shifted batch is refused with the field named', async () => {
    const { req } = randomRequest(3, 70, 1, { amplitude: false });
    const t = parameterShiftTransform(req);
    const sim = cpu('f64');
    const bad = (patch: (s: ShiftedRequest) => void): ShiftedRequest => {
      const s: ShiftedRequest = {
        ...t.batched,
        shifts: {
          op: t.batched.shifts.op.slice(),
          arg: t.batched.shifts.arg.slice(),
          delta: t.batched.shifts.delta.slice(),
          inputRow: t.batched.shifts.inputRow.slice(),
        },
      };
      patch(s);
      return s;
    };
    await expect(sim.expvalShifted!(bad((s) => (s.shifts.op[1] = 10_000)))).rejects.toThrow(
      /shifts\.op\[1\]/,
    );
    await expect(sim.expvalShifted!(bad((s) => (s.shifts.arg[0] = 7)))).rejects.toThrow(/shifts\.arg\[0\]/);
    await expect(sim.expvalShifted!(bad((s) => (s.shifts.inputRow[2] = 1)))).rejects.toThrow(
      /shifts\.inputRow\[2\]/,
    );
    await expect(sim.expvalShifted!(bad((s) => (s.shifts.delta[0] = NaN)))).rejects.toThrow(
      /shifts\.delta\[0\]/,
    );
    await expect(sim.expvalShifted!(bad((s) => (s.shifts.arg = s.shifts.arg.subarray(1))))).rejects.toThrow(
      /shifts\.arg: need/,
    );
  });
});
