// The WebAssembly SIMD one-qubit kernels (core/quantum/cpu/wasm-module.ts) against gateMatrix applied densely in
// f64, on every target bit (p = 0 and 1, where an f32x4 holds one pair or two neighbouring amplitudes, included),
// at a row offset inside the memory with its neighbours checked untouched; then whole f32 runs with the kernels
// against the JS kernels and against the f64 reference.
import { describe, expect, it } from 'vitest';
import { CircuitBuilder, type GateName } from '../../../core/quantum/circuit';
import { gateMatrix } from '../../../core/quantum/gates';
import { compile } from '../../../core/quantum/cpu/program';
import { GRAD_CHUNK, Runner, WASM_MIN_DIM } from '../../../core/quantum/cpu/engine';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import { adjointStep1Wasm, wasmState, wasmStateFailure } from '../../../core/quantum/cpu/wasm';
import {
  adjointDiagTape,
  adjointStep1Tape,
  applyDiagTable,
  gatherTo,
} from '../../../core/quantum/cpu/kernels';
import { applyDense, denseState, mulberry32 as rng } from '../../helpers/quantum';

/** f32 tolerance on amplitudes of a unit-norm state: a few ulps of the largest terms. */
const TOL = 2e-6;

const cases: [GateName, number[], 'gen' | 'real' | 'diag'][] = [
  ['U3', [0.7, -1.3, 2.1], 'gen'],
  ['RX', [0.9], 'gen'],
  ['RY', [-1.1], 'real'],
  ['H', [], 'real'],
  ['RZ', [0.4], 'diag'],
  ['T', [], 'diag'], // d0 = 1: the kernel skips the |0⟩ half
  ['PhaseShift', [2.5], 'diag'],
];

describe('wasm one-qubit kernels against gateMatrix (f64)', () => {
  it('compiles here (Node 20 has WebAssembly SIMD)', () => {
    expect(wasmStateFailure()).toBeNull();
  });

  for (const [gate, angles, kind] of cases)
    it(`${gate} (${kind}) on every bit, n = 1…7`, () => {
      const m = gateMatrix(gate, angles);
      const r = rng(11);
      for (let n = 1; n <= 7; n++) {
        const dim = 1 << n;
        const ws = wasmState(dim, 3)!;
        for (let p = 0; p < n; p++) {
          // random unit-norm state in row 1; rows 0 and 2 hold sentinels that must survive
          const row = ws.rows[1];
          let norm = 0;
          for (let i = 0; i < 2 * dim; i++) norm += (row[i] = r() - 0.5) ** 2;
          for (let i = 0; i < 2 * dim; i++) row[i] /= Math.sqrt(norm);
          ws.rows[0].fill(7);
          ws.rows[2].fill(-7);
          const want = applyDense(Float64Array.from(row), n, m, [n - 1 - p]);
          const at = row.byteOffset;
          if (kind === 'gen') ws.gen(at, dim, p, m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]);
          else if (kind === 'real') {
            expect([m[1], m[3], m[5], m[7]]).toEqual([0, 0, 0, 0]);
            ws.real(at, dim, p, m[0], m[2], m[4], m[6]);
          } else {
            expect([m[2], m[3], m[4], m[5]]).toEqual([0, 0, 0, 0]);
            ws.diag(at, dim, p, m[0] === 1 && m[1] === 0 ? 1 : 0, m[0], m[1], m[6], m[7]);
          }
          let err = 0;
          for (let i = 0; i < 2 * dim; i++) err = Math.max(err, Math.abs(row[i] - want[i]));
          expect(err, `n=${n} p=${p}`).toBeLessThan(TOL);
          expect(ws.rows[0].every((v) => v === 7) && ws.rows[2].every((v) => v === -7), `n=${n} p=${p}`).toBe(
            true,
          );
        }
      }
    });

  it('diag with skip0 leaves the |0⟩ half bit-exact and the generic kernel moves every amplitude', () => {
    const n = 4;
    const dim = 1 << n;
    const ws = wasmState(dim, 1)!;
    const s = ws.rows[0];
    for (let p = 0; p < n; p++) {
      for (let i = 0; i < 2 * dim; i++) s[i] = (i % 7) / 7 - 0.4;
      const before = Float32Array.from(s);
      ws.diag(0, dim, p, 1, 1, 0, 0, 1); // diag(1, i)
      for (let i = 0; i < dim; i++) {
        const [re, im] = [before[2 * i], before[2 * i + 1]];
        const want = (i >> p) & 1 ? [-im, re] : [re, im];
        expect([s[2 * i], s[2 * i + 1]], `p=${p} i=${i}`).toEqual(want);
      }
      // X as a generic 2×2 is an exact swap of the pair
      s.set(before);
      ws.gen(0, dim, p, 0, 0, 1, 0, 1, 0, 0, 0);
      for (let i = 0; i < dim; i++) {
        const j = i ^ (1 << p);
        expect([s[2 * i], s[2 * i + 1]], `p=${p} i=${i}`).toEqual([before[2 * j], before[2 * j + 1]]);
      }
    }
  });

  it('gen and real out of place (d ≠ 0) write M·src to the other row and leave src as it was', () => {
    const r = rng(13);
    for (const [gate, angles] of [
      ['U3', [0.7, -1.3, 2.1]],
      ['RY', [-1.1]],
    ] as [GateName, number[]][]) {
      const m = gateMatrix(gate, angles);
      for (let n = 1; n <= 6; n++) {
        const dim = 1 << n;
        const ws = wasmState(dim, 3)!;
        for (let p = 0; p < n; p++) {
          const [src, dst] = [ws.rows[2], ws.rows[0]];
          for (let i = 0; i < 2 * dim; i++) src[i] = r() - 0.5;
          dst.fill(5);
          const before = Float32Array.from(src);
          const want = applyDense(Float64Array.from(src), n, m, [n - 1 - p]);
          const d = dst.byteOffset - src.byteOffset;
          if (gate === 'RY') ws.real(src.byteOffset, dim, p, m[0], m[2], m[4], m[6], d);
          else ws.gen(src.byteOffset, dim, p, m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], d);
          for (let i = 0; i < 2 * dim; i++)
            expect(Math.abs(dst[i] - want[i]), `${gate} n=${n} p=${p}`).toBeLessThan(TOL);
          expect(Array.from(src)).toEqual(Array.from(before));
        }
      }
    }
  });

  it('the taped adjoint step (λ ← Uλ, cross density) matches the JS kernel on every bit, n = 1…7', () => {
    const r = rng(29);
    const u = Float64Array.from(gateMatrix('U3', [0.3, 1.9, -0.8]));
    for (let n = 1; n <= 7; n++) {
      const dim = 1 << n;
      // rows: sentinel, ψ (tape slot), sentinel, λ, sentinel
      const ws = wasmState(dim, 5)!;
      for (let p = 0; p < n; p++) {
        for (const k of [0, 2, 4]) ws.rows[k].fill(3);
        for (const k of [1, 3]) for (let i = 0; i < 2 * dim; i++) ws.rows[k][i] = r() - 0.5;
        const psi = ws.rows[1];
        const lam = ws.rows[3];
        const lamJs = Float32Array.from(lam);
        const rhoJs = new Float64Array(8);
        const rhoW = new Float64Array(8);
        adjointStep1Tape(psi, 0, lamJs, dim, p, u, rhoJs);
        adjointStep1Wasm(ws, psi.byteOffset, lam.byteOffset, dim, p, u, rhoW);
        for (let i = 0; i < 2 * dim; i++)
          expect(Math.abs(lam[i] - lamJs[i]), `n=${n} p=${p} λ[${i}]`).toBeLessThan(1e-6);
        for (let i = 0; i < 8; i++)
          expect(Math.abs(rhoW[i] - rhoJs[i]), `n=${n} p=${p} ρ[${i}]`).toBeLessThan(1e-5);
        expect(Math.max(...rhoJs.map(Math.abs)), `n=${n} p=${p}`).toBeGreaterThan(1e-3);
        for (const k of [0, 2, 4])
          expect(
            ws.rows[k].every((v) => v === 3),
            `n=${n} p=${p} row ${k}`,
          ).toBe(true);
      }
    }
  });

  it('rejects a dim that is not a power of two', () => {
    expect(() => wasmState(12, 1)).toThrow(/dim: must be a power of two/);
  });
});

describe('f32 runs with the wasm kernels', () => {
  function circuit(n: number, seed: number) {
    const r = rng(seed);
    const b = new CircuitBuilder(n, n);
    for (let w = 0; w < n; w++) b.gate('RX', [w], [b.x(w)]).gate('H', [w]);
    for (let l = 0; l < 2; l++) {
      for (let w = 0; w < n; w++)
        b.gate('RZ', [w], [b.p()])
          .gate('RY', [w], [b.p()])
          .gate('U3', [w], [r() * 3, r() * 3, r() * 3]);
      for (let w = 0; w + 1 < n; w++) b.gate('CNOT', [w, w + 1]);
      // a diagonal run (RZZ chain, CZ, an input-driven RZZ) and a permutation run (SWAP, CNOT, Toffoli)
      for (let w = 0; w + 1 < n; w++) b.gate('RZZ', [w, w + 1], [b.p()]);
      b.gate('CZ', [0, 2]).gate('RZZ', [1, n - 1], [b.x(1)]);
      b.gate('SWAP', [0, n - 1])
        .gate('CNOT', [2, 1])
        .gate('Toffoli', [0, 1, 3]);
      b.gate('CRX', [0, n - 1], [b.p()]);
    }
    for (let w = 0; w < n; w++) b.observe([{ coeff: 1, ops: [{ wire: w, pauli: 'Z' }] }]);
    return b.build();
  }

  it('ψ matches the JS kernels and the dense f64 state', () => {
    for (const n of [4, 5, 7]) {
      const c = circuit(n, n);
      const prog = compile(c);
      const r = rng(100 + n);
      const params = Array.from({ length: c.numParams }, () => r() * 4 - 2);
      const inputs = Array.from({ length: n }, () => r() * 3);
      const wasm = new Runner(prog, 'f32');
      const js = new Runner(prog, 'f32', false);
      expect(wasm.usesWasm).toBe(prog.dim >= WASM_MIN_DIM);
      expect(js.usesWasm).toBe(false);
      for (const run of [wasm, js]) {
        run.bind(params, inputs);
        run.forwardRow(0, null, 0);
      }
      const want = denseState(c, params, inputs, 0);
      for (let i = 0; i < 2 * prog.dim; i++) {
        expect(Math.abs(wasm.psi[i] - want[i]), `n=${n} [${i}]`).toBeLessThan(1e-5);
        expect(Math.abs(wasm.psi[i] - js.psi[i]), `n=${n} [${i}]`).toBeLessThan(1e-5);
      }
    }
  });

  it('adjoint ∂L/∂θ and ∂L/∂x, taped and untaped, match the JS kernels and f64', () => {
    const n = 6;
    const c = circuit(n, 3);
    const prog = compile(c);
    const r = rng(5);
    const params = Array.from({ length: c.numParams }, () => r() * 4 - 2);
    const inputs = Array.from({ length: n }, () => r() * 3);
    const dExp = Array.from({ length: n }, () => r() - 0.5);
    const grad = (run: Runner, tape: boolean) => {
      run.bind(params, inputs);
      if (tape) expect(run.enableTape()).toBe(true);
      const dp = new Float64Array(c.numParams);
      const dx = new Float64Array(n);
      run.forwardRow(0, null, 0);
      run.backwardRow(0, dExp, 0, dp, dx);
      return [...dp, ...dx];
    };
    const ref = grad(new Runner(prog, 'f64'), false);
    for (const tape of [false, true]) {
      const w = new Runner(prog, 'f32');
      expect(w.usesWasm).toBe(true);
      const got = grad(w, tape);
      const js = grad(new Runner(prog, 'f32', false), tape);
      for (let i = 0; i < ref.length; i++) {
        expect(Math.abs(got[i] - ref[i]), `tape=${tape} [${i}]`).toBeLessThan(2e-5);
        expect(Math.abs(got[i] - js[i]), `tape=${tape} [${i}]`).toBeLessThan(2e-5);
      }
      expect(Math.max(...ref.map(Math.abs))).toBeGreaterThan(0.01);
    }
  });
});

describe('wasm gather and diagonal kernels against the JS kernels', () => {
  it('gather, dmul (in and out of place) and dadj match gatherTo, applyDiagTable and adjointDiagTape', () => {
    const r = rng(41);
    for (const n of [2, 3, 6]) {
      const dim = 1 << n;
      const ws = wasmState(dim, 4, 4 * dim + 8 * dim + 4 * dim)!;
      const [a, b, c, d] = ws.rows;
      for (const row of [a, c]) for (let i = 0; i < 2 * dim; i++) row[i] = r() - 0.5;
      const perm = Int32Array.from({ length: dim }, (_, i) => i);
      for (let i = dim - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [perm[i], perm[j]] = [perm[j], perm[i]];
      }
      const idxAt = ws.extraAt;
      new Int32Array(ws.memory.buffer, idxAt, dim).set(perm.map((x) => 8 * x));
      const tabAt = idxAt + 4 * dim;
      const tab64 = new Float64Array(2 * dim);
      for (let i = 0; i < dim; i++)
        [tab64[2 * i], tab64[2 * i + 1]] = [Math.cos(3 * i + 1), Math.sin(3 * i + 1)];
      new Float32Array(ws.memory.buffer, tabAt, 2 * dim).set(tab64);
      const wAt = tabAt + 8 * dim;
      const wv = new Float32Array(ws.memory.buffer, wAt, dim);
      // gather a → b
      const want = new Float32Array(2 * dim);
      gatherTo(a, 0, want, 0, dim, perm);
      ws.gather(a.byteOffset, b.byteOffset, idxAt, dim);
      expect(Array.from(b), `gather n=${n}`).toEqual(Array.from(want));
      // dmul a → b, then in place on a
      applyDiagTable(a, 0, want, 0, dim, new Float64Array(Float32Array.from(tab64)));
      ws.dmul(a.byteOffset, b.byteOffset, tabAt, dim);
      for (let i = 0; i < 2 * dim; i++)
        expect(Math.abs(b[i] - want[i]), `dmul n=${n} [${i}]`).toBeLessThan(1e-6);
      ws.dmul(a.byteOffset, a.byteOffset, tabAt, dim);
      expect(Array.from(a)).toEqual(Array.from(b));
      // dadj: ψ at a, λ at c
      const lam = Float32Array.from(c);
      const w64 = new Float64Array(dim);
      adjointDiagTape(a, 0, lam, dim, new Float64Array(Float32Array.from(tab64)), w64);
      ws.dadj(a.byteOffset, c.byteOffset, tabAt, dim, wAt);
      for (let i = 0; i < 2 * dim; i++)
        expect(Math.abs(c[i] - lam[i]), `dadj λ n=${n} [${i}]`).toBeLessThan(1e-6);
      for (let i = 0; i < dim; i++)
        expect(Math.abs(wv[i] - w64[i]), `dadj w n=${n} [${i}]`).toBeLessThan(1e-6);
      expect(d.every((x) => x === 0)).toBe(true);
    }
  });
});

describe('the backend reports the kernels that ran', () => {
  function layer(n: number) {
    const b = new CircuitBuilder(n, 1);
    for (let w = 0; w < n; w++) b.gate('RY', [w], [b.x(0)]);
    b.observe([{ coeff: 1, ops: [{ wire: 0, pauli: 'Z' }] }]);
    return b.build();
  }
  const req = (n: number, batch: number) => ({
    circuit: layer(n),
    params: [],
    inputs: Array.from({ length: batch }, (_, i) => i / batch),
    batch,
  });

  it('wasm-simd from WASM_MIN_DIM amplitudes in both precisions, js below it', async () => {
    const f32 = createCpuSimulator({ precision: 'f32' });
    const f64 = createCpuSimulator({ precision: 'f64' });
    expect(f32.info.mode).toBe('wasm-simd');
    expect(f64.info.mode).toBe('wasm-simd');
    const small = Math.log2(WASM_MIN_DIM) - 1;
    expect((await f32.expval(req(small, 2))).info.mode).toBe('js');
    expect((await f64.expval(req(small, 2))).info.mode).toBe('js');
    expect((await f32.expval(req(small + 1, 2))).info.mode).toBe('wasm-simd');
    expect((await f32.vjp(req(small + 1, 2), [1, 1])).info.mode).toBe('wasm-simd');
    expect((await f64.expval(req(small + 1, 2))).info.mode).toBe('wasm-simd');
    expect((await f64.vjp(req(small + 1, 2), [1, 1])).info.mode).toBe('wasm-simd');
    // the same numbers either way: RY(x) on wire 0 gives ⟨Z⟩ = cos x
    const r = await f32.expval(req(small + 1, 2));
    expect(r.expvals[1]).toBeCloseTo(Math.cos(0.5), 6);
  });

  it('wasm-simd-threads when a large batch is split over worker threads', async () => {
    const sim = createCpuSimulator({ precision: 'f32', threads: 2 });
    try {
      expect(sim.info.mode).toBe('wasm-simd-threads');
      const big = await sim.expval(req(6, 4 * GRAD_CHUNK));
      expect(big.info).toMatchObject({ mode: 'wasm-simd-threads', threads: 2 });
      // a batch too small for the pool runs here, without threads
      expect((await sim.expval(req(6, 2))).info.mode).toBe('wasm-simd');
    } finally {
      sim.dispose();
    }
  });
});

describe('a Runner reused across calls (cached per program)', () => {
  it('expval, vjp and state interleaved on one circuit equal the same calls on fresh copies', async () => {
    const n = 6;
    const b = new CircuitBuilder(n, n);
    for (let w = 0; w < n; w++) b.gate('RX', [w], [b.x(w)]);
    for (let l = 0; l < 2; l++) {
      for (let w = 0; w < n; w++) b.gate('RY', [w], [b.p()]).gate('RZ', [w], [b.p()]);
      for (let w = 0; w + 1 < n; w++) b.gate('RZZ', [w, w + 1], [b.p()]);
      for (let w = 0; w + 1 < n; w++) b.gate('CNOT', [w, w + 1]);
    }
    b.observe(Array.from({ length: n }, (_, w) => ({ coeff: 1, ops: [{ wire: w, pauli: 'Z' as const }] })));
    const c = b.build();
    const r = rng(77);
    const sim = createCpuSimulator({ precision: 'f32' });
    for (let call = 0; call < 6; call++) {
      const batch = 1 + (call % 3) * 2;
      const req = {
        circuit: c,
        params: Array.from({ length: c.numParams }, () => r() * 6 - 3),
        inputs: Array.from({ length: batch * n }, () => r() * 3),
        batch,
      };
      const g = Array.from({ length: batch * n }, () => r() - 0.5);
      // a fresh copy of the record compiles to a new program, so a new Runner
      const fresh = () => ({ ...req, circuit: structuredClone(c) });
      const kind = ['vjp', 'expval', 'state'][call % 3];
      if (kind === 'vjp') {
        const [a, e] = [await sim.vjp(req, g), await sim.vjp(fresh(), g)];
        expect(Array.from(a.dParams)).toEqual(Array.from(e.dParams));
        expect(Array.from(a.dInputs)).toEqual(Array.from(e.dInputs));
        expect(Array.from(a.expvals)).toEqual(Array.from(e.expvals));
      } else if (kind === 'expval') {
        expect(Array.from((await sim.expval(req)).expvals)).toEqual(
          Array.from((await sim.expval(fresh())).expvals),
        );
      } else {
        expect(Array.from(await sim.state(req))).toEqual(Array.from(await sim.state(fresh())));
      }
    }
  });
});

describe('wasm Walsh–Hadamard transform', () => {
  it('W_m = Σ_i w_i (−1)^popcount(i & m) for dim = 8…256', () => {
    const r = rng(3);
    for (let n = 3; n <= 8; n++) {
      const dim = 1 << n;
      const ws = wasmState(2, 1, 4 * dim + 32)!;
      const sentinel = new Float32Array(ws.memory.buffer, ws.extraAt + 4 * dim, 8).fill(9);
      const w = new Float32Array(ws.memory.buffer, ws.extraAt, dim);
      for (let i = 0; i < dim; i++) w[i] = r() - 0.5;
      const x = Float64Array.from(w);
      ws.wht(ws.extraAt, dim);
      for (let m = 0; m < dim; m++) {
        let want = 0;
        for (let i = 0; i < dim; i++) {
          let c = i & m;
          let odd = 0;
          while (c) {
            odd ^= c & 1;
            c >>= 1;
          }
          want += odd ? -x[i] : x[i];
        }
        expect(Math.abs(w[m] - want), `n=${n} m=${m}`).toBeLessThan(1e-5);
      }
      expect(sentinel.every((v) => v === 9)).toBe(true);
    }
  });
});
