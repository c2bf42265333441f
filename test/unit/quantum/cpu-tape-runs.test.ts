// Tape runs (core/quantum/cpu/engine.ts, Runner.runEnd): a taped f64 forward pass records ψ only after the last block
// of each run of consecutive one-qubit blocks on distinct wires, and the backward pass reads every block's cross density
// of the run from (ψ, λ) at the run's end. Checked against the plain f64 reference adjoint
// (core/quantum/reference/adjoint.ts) and f64 finite differences, on SIMD and JS rows; the tape rows of the runs'
// inner blocks are filled with NaN first and must stay NaN (never written, never read).
import { describe, expect, it } from 'vitest';
import { CircuitBuilder, type Circuit } from '../../../core/quantum/circuit';
import { referenceVjp } from '../../../core/quantum/reference/adjoint';
import { referenceExpval } from '../../../core/quantum/reference/state';
import { compile } from '../../../core/quantum/cpu/program';
import { Runner, TAPE_RUNS_MIN_BYTES, tapeRunEnds } from '../../../core/quantum/cpu/engine';
import { qdllmStudent, qffnCircuit } from '../../../core/methods/sim-bench/workloads';
import type { BatchRequest } from '../../../core/quantum/backend';
import { mulberry32 } from '../../helpers/quantum';
import { maxRel, runnerVjp } from '../../helpers/random-circuits';

/**
 * Runs of blocks with every kind a block can hold: input-fed (rebuilt per row), constant (no gradient), PhaseShift
 * (a generator with a trace), Rot, RY·RZ; between them a diagonal run (RZZ), a permutation run (CNOTs), a controlled
 * rotation and a lone block; Z observables and an X one.
 */
function mixedCircuit(n: number): Circuit {
  const b = new CircuitBuilder(n, n);
  for (let q = 0; q < n; q++) b.gate('RX', [q], [b.x(q)]);
  for (let q = 0; q < n; q++) b.gate('Rot', [q], [b.p(), b.p(), b.p()]);
  for (let q = 0; q + 1 < n; q++) b.gate('RZZ', [q, q + 1], [b.p()]);
  b.gate('H', [0]);
  b.gate('PhaseShift', [1], [b.p()]);
  for (let q = 2; q < n; q++) b.gate('RY', [q], [b.p()]).gate('RZ', [q], [b.p(0.5)]);
  for (let q = 0; q + 1 < n; q++) b.gate('CNOT', [q, q + 1]);
  b.gate('CRX', [0, n - 1], [b.p()]);
  b.gate('RY', [2], [b.x(0, 0.7)]);
  for (let q = 0; q < n; q++) b.gate('U3', [q], [b.p(), b.p(), b.p()]);
  b.observe([
    ...Array.from({ length: n }, (_, q) => ({ coeff: 1, ops: [{ wire: q, pauli: 'Z' as const }] })),
    { coeff: 0.5, ops: [{ wire: 1, pauli: 'X' as const }] },
  ]);
  return b.build();
}

function request(c: Circuit, batch: number, seed: number): { req: BatchRequest; g: number[] } {
  const r = mulberry32(seed);
  const req = {
    circuit: c,
    batch,
    params: Array.from({ length: c.numParams }, () => 6 * r() - 3),
    inputs: Array.from({ length: batch * c.numInputs }, () => 4 * r() - 2),
  };
  const nObs = c.observables?.length ?? c.qubits;
  return { req, g: Array.from({ length: batch * nObs }, () => r() - 0.5) };
}

/** Forward and adjoint row by row on one taped Runner; `poison`: NaN in the tape rows of the runs' inner blocks. */
function taped(req: BatchRequest, g: number[], precision: 'f32' | 'f64', useWasm: boolean, poison: boolean) {
  let n2 = 0;
  let inner: boolean[] = [];
  const out = runnerVjp(req, g, precision, useWasm, true, {
    tapeRuns: precision === 'f64',
    prepare: (run, prog) => {
      n2 = 2 * prog.dim;
      inner = prog.steps.map((_, k) => run.runEnd[k] > k);
      if (poison)
        for (let k = 0; k < inner.length; k++) if (inner[k]) run.rows.tape!.fill(NaN, n2 * k, n2 * (k + 1));
    },
    afterForward: (run, b) => expect(run.tapeOf(b)).not.toBeNull(),
  });
  const slot = (k: number) => Array.from(out.run.rows.tape!.subarray(n2 * k, n2 * (k + 1)));
  return { ...out, inner, slot };
}

describe('tape runs', () => {
  it('find the runs of consecutive blocks on distinct wires: one taped row per QD-LLM layer of blocks', () => {
    const prog = compile(qdllmStudent(5, 3, 1).circuit);
    const end = tapeRunEnds(prog);
    const { steps } = prog;
    // the student's layer: 5 blocks, RZZ run, 5 blocks, CNOT run — so 4 block runs of 5 and 2 other steps a layer
    expect(steps.length).toBe(3 * 12);
    for (let k = 0; k < steps.length; k++) {
      const st = steps[k];
      if (st.type !== 'block') {
        expect(end[k], `step ${k}`).toBe(-1);
        continue;
      }
      const first = steps.findIndex((_, j) => j <= k && end[j] === end[k]);
      const run = steps.slice(first, end[k] + 1);
      expect(run.length, `step ${k}`).toBe(5);
      expect(new Set(run.map((s) => (s.type === 'block' ? s.wire : -1))).size).toBe(5);
    }
    // a block after a gate on its own wire starts a new run; a lone block is in none
    const b = new CircuitBuilder(3);
    b.gate('RX', [0], [b.p()]).gate('RY', [1], [b.p()]).gate('CNOT', [0, 1]).gate('RZ', [2], [b.p()]);
    b.gate('RX', [0], [b.p()]).gate('RZZ', [1, 2], [b.p()]).gate('RY', [0], [0.3]);
    const p2 = compile(b.build());
    expect(p2.steps.map((s) => s.type)).toEqual(['block', 'block', 'prim', 'block', 'block', 'prim']);
    expect(Array.from(tapeRunEnds(p2))).toEqual([1, 1, -1, 4, 4, -1]);
  });

  it('are on by default for f64 tapes over TAPE_RUNS_MIN_BYTES only: QD-LLM n = 11, L = 11, not QFFN n = 10, nor f32', () => {
    expect(TAPE_RUNS_MIN_BYTES).toBe(4 << 20);
    const qdllm = compile(qdllmStudent(11, 11, 1).circuit);
    const qffn = compile(qffnCircuit(10, 8, 1).circuit);
    expect(new Runner(qdllm, 'f64').tapeRuns).toBe(true);
    expect(new Runner(qdllm, 'f32').tapeRuns).toBe(false);
    expect(new Runner(qffn, 'f64').tapeRuns).toBe(false);
    expect(new Runner(qffn, 'f64', true, true).tapeRuns).toBe(true);
  });

  for (const n of [3, 5])
    it(`f64 gradients equal the reference adjoint, SIMD and JS rows, n = ${n}; the runs' inner tape rows are never written or read`, () => {
      const c = mixedCircuit(n);
      const { req, g } = request(c, 3, 40 + n);
      const want = referenceVjp(req, g);
      for (const useWasm of [true, false]) {
        const got = taped(req, g, 'f64', useWasm, true);
        const what = `n=${n} wasm=${useWasm}`;
        expect(got.run.usesWasm, what).toBe(useWasm);
        expect(got.run.tapeRuns).toBe(true);
        expect(got.inner.filter(Boolean).length, what).toBeGreaterThanOrEqual(2 * (n - 1));
        expect(maxRel(got.expvals, want.expvals), what).toBeLessThan(1e-12);
        expect(maxRel(got.dParams, want.dParams), what).toBeLessThan(1e-10);
        expect(maxRel(got.dInputs, want.dInputs), what).toBeLessThan(1e-10);
        for (let k = 0; k < got.inner.length; k++)
          if (got.inner[k]) expect(got.slot(k).every(Number.isNaN), `${what} slot ${k}`).toBe(true);
          else if (got.prog.steps[k].type === 'block')
            expect(got.slot(k).some(Number.isNaN), `${what} slot ${k}`).toBe(false);
      }
      expect(Math.min(...want.dParams.map(Math.abs).filter((x) => x > 0))).toBeGreaterThan(0);
      expect(Math.max(...want.dInputs.map(Math.abs))).toBeGreaterThan(1e-3);
    });

  it('f64 gradients match central finite differences of the reference expectation values', () => {
    const c = mixedCircuit(4);
    const { req, g } = request(c, 2, 7);
    const got = taped(req, g, 'f64', true, false);
    const loss = (params: number[], inputs: number[]) => {
      const ev = referenceExpval({ ...req, params, inputs }).expvals;
      let s = 0;
      for (let i = 0; i < ev.length; i++) s += g[i] * ev[i];
      return s;
    };
    const h = 1e-5;
    const params = Array.from(req.params);
    const inputs = Array.from(req.inputs);
    for (let i = 0; i < params.length; i++) {
      const up = params.slice();
      const dn = params.slice();
      up[i] += h;
      dn[i] -= h;
      const fd = (loss(up, inputs) - loss(dn, inputs)) / (2 * h);
      expect(Math.abs(got.dParams[i] - fd), `∂θ${i}`).toBeLessThan(1e-8);
    }
    for (let i = 0; i < inputs.length; i++) {
      const up = inputs.slice();
      const dn = inputs.slice();
      up[i] += h;
      dn[i] -= h;
      const fd = (loss(params, up) - loss(params, dn)) / (2 * h);
      expect(Math.abs(got.dInputs[i] - fd), `∂x${i}`).toBeLessThan(1e-8);
    }
  });

  it('the QD-LLM student (n = 11, L = 2) in f64 on SIMD rows equals the reference; f32 keeps a row per block', () => {
    const w = qdllmStudent(11, 2, 2);
    const nObs = w.circuit.qubits;
    const g = Array.from({ length: 2 * nObs }, (_, i) => Math.sin(i + 1));
    const req = { circuit: w.circuit, batch: 2, params: w.params, inputs: w.inputs };
    const want = referenceVjp(req, g);
    const got = taped(req, g, 'f64', true, true);
    expect(maxRel(got.dParams, want.dParams)).toBeLessThan(1e-10);
    expect(maxRel(got.dInputs, want.dInputs)).toBeLessThan(1e-10);
    const f32 = taped(req, g, 'f32', true, false);
    expect(f32.run.tapeRuns).toBe(false);
    expect(maxRel(f32.dParams, want.dParams)).toBeLessThan(2e-4);
  });
});
