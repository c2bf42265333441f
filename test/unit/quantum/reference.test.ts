// The f64 reference simulator and adjoint (core/quantum/reference) checked on their own — forward against the
// gpu tests' independently written matrices, the gate decompositions and generators against gateMatrix, the
// adjoint against f64 central finite differences — and then every backend against them on random circuits that
// cover every gate kind (with fused blocks, diagonal and permutation runs, lone controlled and two-wire
// primitives, amplitude encoding, trainable, input-fed and constant angles, Pauli and Z-only observables).
import { afterAll, describe, expect, it } from 'vitest';
import type { BatchRequest, Simulator } from '../../../core/quantum/backend';
import { CircuitBuilder, GATES, GATE_NAMES } from '../../../core/quantum/circuit';
import {
  GATE_RECORDS,
  gateMatrix,
  primitiveGenerator,
  primitiveMatrix,
  primitives,
  shiftRule,
} from '../../../core/quantum/gates';
import { referenceVjp } from '../../../core/quantum/reference/adjoint';
import { parameterShiftTransform, parameterShiftVjp } from '../../../core/quantum/gradients';
import {
  applyMatrix,
  referenceExpval,
  referenceProbs,
  referenceStates,
} from '../../../core/quantum/reference/state';
import { compile, SRC_PARAM } from '../../../core/quantum/cpu/program';
import { Runner } from '../../../core/quantum/cpu/engine';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import { createGpuSimulator } from '../../../core/quantum/gpu/simulator';
import { refState } from '../quantum-gpu/reference';
import { mulberry32 } from '../../helpers/quantum';
import { maxRel, randomRequest, runRows, runnerVjp } from '../../helpers/random-circuits';

describe('the reference simulator on its own', () => {
  it('forward: agrees with the gpu tests’ independently written matrices (every gate, amplitude encoding)', () => {
    for (const seed of [1, 2]) {
      const { req } = randomRequest(4, seed, 2);
      const states = referenceStates(req);
      for (let b = 0; b < req.batch; b++) {
        const want = refState(req.circuit, req.params, req.inputs, b);
        expect(maxRel(states.subarray(b * want.length, (b + 1) * want.length), want)).toBeLessThan(1e-12);
      }
    }
  });

  it('every gate is the product of its primitives, and each primitive is exp(−i a G) of its generator', () => {
    const r = mulberry32(5);
    for (const g of GATE_NAMES) {
      const spec = GATES[g];
      const angles = Array.from({ length: spec.angles }, () => 6 * r() - 3);
      const k = spec.wires;
      // product in list order (first factor acts first) as a state map on k wires, column by column
      const d = 1 << k;
      for (let col = 0; col < d; col++) {
        const v = new Float64Array(2 * d);
        v[2 * col] = 1;
        const want = Float64Array.from(v);
        applyMatrix(want, k, [...Array(k).keys()], gateMatrix(g, angles));
        for (const pr of primitives(g))
          applyMatrix(v, k, pr.wires, primitiveMatrix(pr, pr.arg === undefined ? 0 : angles[pr.arg]));
        expect(maxRel(v, want), `${g} column ${col}`).toBeLessThan(1e-14);
      }
      for (const pr of primitives(g)) {
        const G = primitiveGenerator(pr);
        if (pr.arg === undefined) continue;
        // dU/da = −i G U, by central differences in f64
        const a = angles[pr.arg];
        const h = 1e-6;
        const up = primitiveMatrix(pr, a + h);
        const down = primitiveMatrix(pr, a - h);
        const u = primitiveMatrix(pr, a);
        const m = Math.round(Math.sqrt(u.length / 2));
        for (let i = 0; i < m; i++)
          for (let j = 0; j < m; j++) {
            let re = 0;
            let im = 0; // (−i G U)_ij = −i Σ G_il U_lj
            for (let l = 0; l < m; l++) {
              const gr = G![2 * (i * m + l)];
              const gi = G![2 * (i * m + l) + 1];
              const ur = u[2 * (l * m + j)];
              const ui = u[2 * (l * m + j) + 1];
              re += gr * ui + gi * ur;
              im -= gr * ur - gi * ui;
            }
            const at = 2 * (i * m + j);
            expect(Math.abs((up[at] - down[at]) / (2 * h) - re), `${g} generator`).toBeLessThan(1e-8);
            expect(Math.abs((up[at + 1] - down[at + 1]) / (2 * h) - im), `${g} generator`).toBeLessThan(1e-8);
          }
      }
    }
  });

  it('gate records: controls and base give the matrix, diagonal flags, shift rules and generators', () => {
    const r = mulberry32(6);
    const diagonal = GATE_NAMES.filter((g) => GATE_RECORDS[g].diagonal).sort();
    expect(diagonal).toEqual(
      ['CPhase', 'CRZ', 'CZ', 'I', 'PhaseShift', 'RZ', 'RZZ', 'S', 'Sdg', 'T', 'Tdg', 'U1', 'Z'].sort(),
    );
    for (const g of GATE_NAMES) {
      const rec = GATE_RECORDS[g];
      expect([rec.name, rec.wires, rec.angles]).toEqual([g, GATES[g].wires, GATES[g].angles]);
      const angles = Array.from({ length: rec.angles }, () => 6 * r() - 3);
      const m = rec.matrix(angles);
      expect(m).toEqual(gateMatrix(g, angles));
      if (rec.controls > 0) {
        // identity except the last 2×2 block, which is the base gate
        const d = 1 << rec.wires;
        const base = gateMatrix(rec.base, angles);
        for (let i = 0; i < d; i++)
          for (let j = 0; j < d; j++) {
            const inBlock = i >= d - 2 && j >= d - 2;
            const want = inBlock ? base[2 * (2 * (i - d + 2) + (j - d + 2))] : i === j ? 1 : 0;
            expect(m[2 * (i * d + j)], `${g} (${i}, ${j})`).toBe(want);
          }
      } else if (g !== 'U1') expect(rec.base).toBe(g);
      for (let arg = 0; arg < rec.angles; arg++) {
        expect(rec.shiftRule(arg)).toEqual(shiftRule(g, arg));
        const { primitive, matrix } = rec.generator(arg);
        expect(rec.decomposition[primitive].arg).toBe(arg);
        expect(matrix).toEqual(primitiveGenerator(rec.decomposition[primitive]));
      }
    }
  });

  it('adjoint: equals f64 central finite differences of the reference forward (params and inputs)', () => {
    for (const seed of [3, 4]) {
      const { req, g } = randomRequest(4, seed, 2);
      const adj = referenceVjp(req, g);
      const loss = (params: ArrayLike<number>, inputs: ArrayLike<number>): number => {
        const e = referenceExpval({ ...req, params, inputs }).expvals;
        return e.reduce((acc, v, i) => acc + g[i] * v, 0);
      };
      const h = 1e-6;
      const fd = (v: number[], f: (w: number[]) => number): Float64Array =>
        Float64Array.from(v, (x, i) => {
          const up = [...v];
          const down = [...v];
          up[i] = x + h;
          down[i] = x - h;
          return (f(up) - f(down)) / (2 * h);
        });
      const dP = fd(req.params as number[], (p) => loss(p, req.inputs));
      const dX = fd(req.inputs as number[], (x) => loss(req.params, x));
      expect(maxRel(adj.dParams, dP)).toBeLessThan(1e-7);
      expect(maxRel(adj.dInputs, dX)).toBeLessThan(1e-7);
      // and it is not trivially zero
      expect(Math.max(...adj.dParams.map(Math.abs))).toBeGreaterThan(1e-3);
    }
  });
});

describe('gradient transforms against the reference adjoint', () => {
  it('parameter shift: one request per (angle, shift term), combined equal to the reference (no amplitude inputs)', async () => {
    for (const seed of [40, 41]) {
      const { req, g } = randomRequest(4, seed, 3, { amplitude: false });
      const t = parameterShiftTransform(req);
      // every trainable or input-fed angle, two terms or four (controlled rotations)
      let terms = 0;
      for (const op of req.circuit.ops)
        if (op.type === 'gate')
          op.angles.forEach((a, ai) => {
            if (a.kind !== 'const') terms += shiftRule(op.gate, ai).terms.length;
          });
      expect(t.requests.length).toBe(terms);
      expect(t.requests.every((r) => r.batch === req.batch)).toBe(true);
      const got = t.combine(
        t.requests.map((r) => referenceExpval(r).expvals),
        g,
      );
      const want = referenceVjp(req, g);
      expect(maxRel(got.dParams, want.dParams)).toBeLessThan(1e-10);
      expect(maxRel(got.dInputs, want.dInputs)).toBeLessThan(1e-10);
      // and through an evaluator (the cpu backend, f64)
      const cpu = createCpuSimulator({ precision: 'f64' });
      const viaCpu = await parameterShiftVjp(async (r) => (await cpu.expval(r)).expvals, req, g);
      cpu.dispose();
      expect(maxRel(viaCpu.dParams, want.dParams)).toBeLessThan(1e-10);
      expect(maxRel(viaCpu.dInputs, want.dInputs)).toBeLessThan(1e-10);
    }
  });
});

describe('every backend against the reference', () => {
  const sims: Simulator[] = [];
  afterAll(() => sims.forEach((s) => s.dispose()));

  // (qubits, precision, tolerance on expvals and gradients): f32 gradients sum many f32 terms
  const widths = [3, 6];
  const tol = { f64: 1e-10, f32: 2e-4 };

  for (const qubits of widths)
    for (const zOnly of [false, true])
      it(`cpu engine rows (f64 and f32, wasm and JS kernels, taped and untaped), n = ${qubits}${zOnly ? ', Z observables' : ''}`, () => {
        const { req, g } = randomRequest(qubits, 10 + qubits + (zOnly ? 1 : 0), 3, { zOnly });
        const want = referenceVjp(req, g);
        for (const precision of ['f64', 'f32'] as const)
          for (const useWasm of [true, false])
            for (const taped of [true, false]) {
              const got = runnerVjp(req, g, precision, useWasm, taped);
              const what = `${precision} wasm=${useWasm} tape=${taped}`;
              if (precision === 'f32' && useWasm && qubits >= 5) expect(got.usesWasm, what).toBe(true);
              expect(maxRel(got.expvals, want.expvals), what).toBeLessThan(tol[precision]);
              expect(maxRel(got.dParams, want.dParams), what).toBeLessThan(tol[precision]);
              expect(maxRel(got.dInputs, want.dInputs), what).toBeLessThan(tol[precision]);
            }
      });

  // a Runner is kept per program across calls: its blocks' gradient coefficients (built once per binding) and the
  // amplitude step's kept features must follow a new θ, a shifted batch's moved angle and new inputs
  it('cpu engine rows, one Runner rebound: θ, a shifted angle, then new θ and x, each against the reference', () => {
    const { req, g } = randomRequest(4, 31, 3);
    const r = mulberry32(77);
    const prog = compile(req.circuit);
    for (const precision of ['f64', 'f32'] as const) {
      const run = new Runner(prog, precision, true);
      expect(run.enableTape()).toBe(true);
      const check = (params: ArrayLike<number>, inputs: ArrayLike<number>, what: string) => {
        run.bind(params, inputs);
        const { dParams, dInputs } = runRows(run, req.batch, g);
        const want = referenceVjp({ ...req, params, inputs }, g);
        expect(maxRel(dParams, want.dParams), `${precision} ${what}`).toBeLessThan(tol[precision]);
        expect(maxRel(dInputs, want.dInputs), `${precision} ${what}`).toBeLessThan(tol[precision]);
      };
      check(req.params, req.inputs, 'first θ');
      // a shifted forward row in between rebuilds the blocks holding the shifted angle
      const shifted = prog.prims.find((p) => p.src === SRC_PARAM)!;
      run.shift(shifted.op, shifted.arg, 0.9);
      run.forwardRow(0, null, 0);
      const params2 = Array.from(req.params, () => 6 * r() - 3);
      check(params2, req.inputs, 'second θ');
      const inputs2 = Array.from(req.inputs, (x) => x + 0.3 * r());
      check(params2, inputs2, 'second θ, new x');
    }
  });

  // an amplitude encoding on the whole register in index order (QFFN's): its backward step runs on SIMD (rdot2)
  for (const [qubits, features, zOnly] of [
    [2, 4, true],
    [3, 7, false],
    [5, 32, true],
    [5, 29, false],
  ] as const)
    it(`cpu engine rows with a whole-register amplitude encoding, n = ${qubits}, ${features} features${zOnly ? ', Z observables' : ''}`, () => {
      const r = mulberry32(70 + qubits + features);
      const wires = [...Array(qubits).keys()];
      const cb = new CircuitBuilder(qubits, features + 1);
      cb.amplitude(wires, 0, features);
      for (const w of wires) cb.gate('RY', [w], [cb.p(0.5 + r())]).gate('RZ', [w], [cb.x(features, 0.7)]);
      for (let w = 0; w + 1 < qubits; w++) cb.gate('CNOT', [w, w + 1]);
      for (const w of wires) cb.gate('RX', [w], [cb.p(0.5 + r())]);
      cb.observe(
        wires.map((w) => ({
          coeff: 2 * r() - 1,
          ops: [{ wire: w, pauli: zOnly || w > 0 ? ('Z' as const) : ('X' as const) }],
        })),
      );
      const circuit = cb.build();
      const batch = 3;
      const req: BatchRequest = {
        circuit,
        params: Array.from({ length: circuit.numParams }, () => 6 * r() - 3),
        inputs: Array.from({ length: batch * (features + 1) }, () => r() + 0.05),
        batch,
      };
      const g = Array.from({ length: batch * qubits }, () => 2 * r() - 1);
      const want = referenceVjp(req, g);
      for (const precision of ['f64', 'f32'] as const)
        for (const useWasm of [true, false])
          for (const taped of [true, false]) {
            const got = runnerVjp(req, g, precision, useWasm, taped);
            const what = `${precision} wasm=${useWasm} tape=${taped}`;
            expect(got.usesWasm, what).toBe(useWasm);
            expect(maxRel(got.expvals, want.expvals), what).toBeLessThan(tol[precision]);
            expect(maxRel(got.dParams, want.dParams), what).toBeLessThan(tol[precision]);
            expect(maxRel(got.dInputs, want.dInputs), what).toBeLessThan(tol[precision]);
          }
    });

  for (const precision of ['f64', 'f32'] as const)
    it(`cpu simulator ${precision}: expval, vjp, probs, state; async and sync; 2 threads on a 64-row batch`, async () => {
      const one = createCpuSimulator({ precision });
      const two = createCpuSimulator({ precision, threads: 2 });
      sims.push(one, two);
      await two.prepareSync();
      for (const [qubits, batch] of [
        [3, 4],
        [6, 64],
      ]) {
        const { req, g } = randomRequest(qubits, 20 + qubits, batch);
        const want = referenceVjp(req, g);
        const t = tol[precision];
        for (const [name, sim] of [
          ['one thread', one],
          ['two threads', two],
        ] as const) {
          // expval first: a fresh Runner's forward pass before any tape exists
          const e = await sim.expval(req);
          const v = await sim.vjp(req, g);
          const vs = sim.vjpSync(req, g);
          if (batch >= 64 && sim === two) {
            expect(v.info.mode).toMatch(/-threads$/);
            expect(vs.info.mode).toMatch(/-threads$/);
          }
          for (const [what, got] of [
            ['vjp', v],
            ['vjpSync', vs],
          ] as const) {
            expect(maxRel(got.expvals, want.expvals), `${name} ${what}`).toBeLessThan(t);
            expect(maxRel(got.norms, want.norms), `${name} ${what}`).toBeLessThan(t);
            expect(maxRel(got.dParams, want.dParams), `${name} ${what}`).toBeLessThan(t);
            expect(maxRel(got.dInputs, want.dInputs), `${name} ${what}`).toBeLessThan(t);
          }
          expect(maxRel(e.expvals, want.expvals)).toBeLessThan(t);
          expect(maxRel(sim.expvalSync(req).expvals, want.expvals)).toBeLessThan(t);
        }
        const small = { ...req, batch: 2 };
        expect(maxRel(await one.probs(small, [2, 0]), referenceProbs(small, [2, 0]))).toBeLessThan(t);
        expect(maxRel(await one.state(small), referenceStates(small))).toBeLessThan(t);
      }
    });

  // the modes the gpu backend's own tests run: webasm always, webgpu where an adapter exists (Dawn here)
  for (const mode of ['webasm', 'webgpu'] as const)
    it(`gpu.js backend (${mode} mode, f32): expval, vjp, probs, state`, async (ctx) => {
      const gpu = await createGpuSimulator({ mode });
      sims.push(gpu);
      if (mode === 'webgpu' && gpu.info.mode !== 'webgpu') {
        console.warn(`reference: skipping webgpu mode: ${gpu.info.fallbackReason}`);
        ctx.skip();
      }
      expect(gpu.info.mode).toBe(mode);
      for (const qubits of widths) {
        const { req, g } = randomRequest(qubits, 30 + qubits, 3);
        const want = referenceVjp(req, g);
        const v = await gpu.vjp(req, g);
        expect(maxRel(v.expvals, want.expvals)).toBeLessThan(1e-4);
        expect(maxRel(v.norms, want.norms)).toBeLessThan(1e-6);
        expect(maxRel(v.dParams, want.dParams)).toBeLessThan(1e-3);
        expect(maxRel(v.dInputs, want.dInputs)).toBeLessThan(1e-3);
        expect(maxRel(await gpu.probs(req, [1, 0]), referenceProbs(req, [1, 0]))).toBeLessThan(1e-5);
        expect(maxRel(await gpu.state(req), referenceStates(req))).toBeLessThan(1e-5);
      }
    });
});
