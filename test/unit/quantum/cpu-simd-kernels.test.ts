// The SIMD kernels in both precisions (f32x4 on complex64 rows, f64x2 on complex128 rows), controlled and not,
// against the reference simulator (core/quantum/reference): each kernel on every target bit with every control
// position (a control on bit 0 in f32 selects half a vector), the adjoint step's cross density and λ update, the
// diagonal, gather and Walsh–Hadamard kernels; then whole Runners with lone controlled gates at every (control,
// target) position, small states from 4 amplitudes, taped and untaped, against the reference adjoint.
import { describe, expect, it } from 'vitest';
import {
  CircuitBuilder,
  GATES,
  type Angle,
  type GateName,
  type PauliTerm,
} from '../../../core/quantum/circuit';
import { gateMatrix } from '../../../core/quantum/gates';
import { applyMatrix } from '../../../core/quantum/reference/state';
import { referenceVjp } from '../../../core/quantum/reference/adjoint';
import { WASM_MIN_DIM } from '../../../core/quantum/cpu/engine';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import {
  adjointPairWasm,
  adjointStep1Wasm,
  applyPairWasm,
  blockSumsWasm,
  pairClasses,
  wasmState,
  wasmStateFailure,
  wasmStateFma,
  type WasmState,
} from '../../../core/quantum/cpu/wasm';
import { RELAXED_SIMD_PROBE } from '../../../core/nn/wasm/relaxed-probe';
import { rot2Matrix } from '../../../core/quantum/cpu/bind';
import {
  adjointDiagTape,
  adjointPairTape,
  adjointStep1Tape,
  applyDiagTable,
  gatherTo,
} from '../../../core/quantum/cpu/kernels';
import type { BatchRequest } from '../../../core/quantum/backend';
import { mulberry32 } from '../../helpers/quantum';
import { maxRel, runnerVjp } from '../../helpers/random-circuits';

const PRECISIONS = ['f32', 'f64'] as const;
/** Amplitude tolerance of one kernel on a unit-norm state. */
const TOL = { f32: 3e-6, f64: 1e-13 };

/** The dense matrix of `base` (2×2) controlled by k wires: identity except the last 2×2 block. */
function controlled(base: Float64Array, k: number): Float64Array {
  const d = 2 << k;
  const m = new Float64Array(2 * d * d);
  for (let i = 0; i < d - 2; i++) m[2 * (i * d + i)] = 1;
  for (let r = 0; r < 2; r++)
    for (let c = 0; c < 2; c++) {
      m[2 * ((d - 2 + r) * d + d - 2 + c)] = base[2 * (2 * r + c)];
      m[2 * ((d - 2 + r) * d + d - 2 + c) + 1] = base[2 * (2 * r + c) + 1];
    }
  return m;
}

/** Every set of at most two control bits, none of them p. */
function controlSets(n: number, p: number): number[][] {
  const bits = [...Array(n).keys()].filter((b) => b !== p);
  const sets: number[][] = [[]];
  for (const b of bits) sets.push([b]);
  for (let i = 0; i < bits.length; i++)
    for (let j = i + 1; j < bits.length; j++) sets.push([bits[i], bits[j]]);
  return sets;
}

function randomRow(r: () => number, row: Float32Array | Float64Array): Float64Array {
  let norm = 0;
  for (let i = 0; i < row.length; i++) norm += (row[i] = r() - 0.5) ** 2;
  for (let i = 0; i < row.length; i++) row[i] /= Math.sqrt(norm);
  return Float64Array.from(row);
}

function maxAbs(x: ArrayLike<number>, y: ArrayLike<number>): number {
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

const KERNELS: [GateName, number[], 'gen' | 'real' | 'diag' | 'flip'][] = [
  ['U3', [0.7, -1.3, 2.1], 'gen'],
  ['RY', [-1.1], 'real'],
  ['RZ', [0.4], 'diag'],
  ['PhaseShift', [2.5], 'diag'], // d0 = 1: the kernel skips the |0⟩ half
  ['X', [], 'flip'],
];

/** Applies the 2×2 m on bit p of the row at byte address `at` with controls cmask, through the kernel of `kind`. */
function applyKernel(
  ws: WasmState,
  kind: string,
  at: number,
  dim: number,
  p: number,
  m: Float64Array,
  cmask: number,
) {
  if (kind === 'gen') ws.gen(at, dim, p, m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], 0, cmask);
  else if (kind === 'real' || kind === 'flip') ws.real(at, dim, p, m[0], m[2], m[4], m[6], 0, cmask);
  else ws.diag(at, dim, p, m[0] === 1 && m[1] === 0 ? 1 : 0, m[0], m[1], m[6], m[7], cmask);
}

describe('SIMD kernels, f32x4 and f64x2, against the reference’s dense matrices', () => {
  it('both modules compile here', () => {
    expect(wasmStateFailure('f32')).toBeNull();
    expect(wasmStateFailure('f64')).toBeNull();
  });

  for (const precision of PRECISIONS)
    for (const [gate, angles, kind] of KERNELS)
      it(`${precision} ${gate} (${kind}) on every bit with every set of ≤ 2 controls, n = 2…5`, () => {
        const m = gateMatrix(gate, angles);
        const r = mulberry32(7);
        for (let n = 2; n <= 5; n++) {
          const dim = 1 << n;
          const ws = wasmState(dim, 3, 0, precision)!;
          for (let p = 0; p < n; p++)
            for (const ctl of controlSets(n, p)) {
              const row = ws.rows[1];
              const before = randomRow(r, row);
              ws.rows[0].fill(7);
              ws.rows[2].fill(-7);
              const want = Float64Array.from(before);
              // wires: controls first, target last (wire = n − 1 − bit)
              applyMatrix(
                want,
                n,
                [...ctl, p].map((b) => n - 1 - b),
                controlled(m, ctl.length),
              );
              const cmask = ctl.reduce((acc, b) => acc | (1 << b), 0);
              applyKernel(ws, kind, row.byteOffset, dim, p, m, cmask);
              const what = `${precision} ${gate} n=${n} p=${p} controls [${ctl}]`;
              expect(maxAbs(row, want), what).toBeLessThan(TOL[precision]);
              expect(
                ws.rows[0].every((v) => v === 7),
                what,
              ).toBe(true);
              expect(
                ws.rows[2].every((v) => v === -7),
                what,
              ).toBe(true);
            }
        }
      });

  for (const precision of PRECISIONS)
    it(`${precision} gen and real out of place (d ≠ 0) equal in place, source untouched`, () => {
      const r = mulberry32(8);
      for (let n = 2; n <= 5; n++) {
        const dim = 1 << n;
        const ws = wasmState(dim, 3, 0, precision)!;
        for (let p = 0; p < n; p++)
          for (const [gate, angles] of [
            ['U3', [0.3, 0.9, -0.4]],
            ['H', []],
          ] as const) {
            const m = gateMatrix(gate, [...angles]);
            const src = randomRow(r, ws.rows[0]);
            const d = ws.rows[2].byteOffset - ws.rows[0].byteOffset;
            if (gate === 'H') ws.real(ws.rows[0].byteOffset, dim, p, m[0], m[2], m[4], m[6], d);
            else ws.gen(ws.rows[0].byteOffset, dim, p, m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], d);
            const want = Float64Array.from(src);
            applyMatrix(want, n, [n - 1 - p], m);
            expect(maxAbs(ws.rows[2], want)).toBeLessThan(TOL[precision]);
            expect(maxAbs(ws.rows[0], src)).toBe(0);
          }
      }
    });

  for (const precision of PRECISIONS)
    it(`${precision} adjoint step (adj): λ ← U†λ over the controlled pairs and the cross density’s anti-Hermitian part, every bit and control set; adjs the same sums bit for bit with λ unchanged; JS adjointStep1Tape alike`, () => {
      const r = mulberry32(9);
      const u = gateMatrix('U3', [1.1, -0.2, 0.8]);
      for (let n = 2; n <= 5; n++) {
        const dim = 1 << n;
        const ws = wasmState(dim, 3, 0, precision)!;
        for (let p = 0; p < n; p++)
          for (const ctl of controlSets(n, p)) {
            const psi = randomRow(r, ws.rows[0]);
            const lam = randomRow(r, ws.rows[1]);
            const cmask = ctl.reduce((acc, b) => acc | (1 << b), 0);
            // the cross density ρ_ab = Σ ψ_a conj(λ_b) over the controlled pairs, then (ρ − ρ†)/2
            const rho = new Float64Array(8);
            for (let i = 0; i < dim; i++) {
              if ((i >> p) & 1 || (i & cmask) !== cmask) continue;
              const idx = [i, i | (1 << p)];
              for (let a = 0; a < 2; a++)
                for (let b = 0; b < 2; b++) {
                  const [pr, pi, lr, li] = [
                    psi[2 * idx[a]],
                    psi[2 * idx[a] + 1],
                    lam[2 * idx[b]],
                    lam[2 * idx[b] + 1],
                  ];
                  rho[2 * (2 * a + b)] += pr * lr + pi * li;
                  rho[2 * (2 * a + b) + 1] += pi * lr - pr * li;
                }
            }
            const want = new Float64Array(8);
            for (let a = 0; a < 2; a++)
              for (let b = 0; b < 2; b++) {
                const ab = 2 * (2 * a + b);
                const ba = 2 * (2 * b + a);
                want[ab] = 0.5 * (rho[ab] - rho[ba]);
                want[ab + 1] = 0.5 * (rho[ab + 1] + rho[ba + 1]);
              }
            const wantLam = Float64Array.from(lam);
            applyMatrix(
              wantLam,
              n,
              [...ctl, p].map((b) => n - 1 - b),
              controlled(u, ctl.length),
            );
            const what = `${precision} n=${n} p=${p} controls [${ctl}]`;
            // adjs (uncontrolled): the same sums, λ left as it was
            const sums = new Float64Array(8);
            if (cmask === 0) {
              blockSumsWasm(ws, ws.rows[0].byteOffset, ws.rows[1].byteOffset, dim, p, sums);
              expect(maxAbs(ws.rows[1], lam), `adjs ${what}`).toBe(0);
            }
            const got = new Float64Array(8);
            adjointStep1Wasm(ws, ws.rows[0].byteOffset, ws.rows[1].byteOffset, dim, p, u, got, cmask);
            expect(maxAbs(got, want), what).toBeLessThan(precision === 'f32' ? 1e-5 : 1e-13);
            if (cmask === 0) expect(Array.from(sums), `adjs ${what}`).toEqual(Array.from(got));
            expect(maxAbs(ws.rows[1], wantLam), what).toBeLessThan(TOL[precision]);
            expect(maxAbs(ws.rows[0], psi), what).toBe(0);
            // the JS kernel on f64 copies
            const l = Float64Array.from(lam);
            const js = new Float64Array(8);
            adjointStep1Tape(psi, 0, l, dim, p, u, js, cmask);
            expect(maxAbs(js, want), `JS ${what}`).toBeLessThan(1e-13);
            expect(maxAbs(l, wantLam), `JS ${what}`).toBeLessThan(1e-13);
          }
      }
    });

  for (const precision of PRECISIONS)
    it(`${precision} dmul, dadj, gather, wht, norm2, rmul and rset against the JS kernels and their definitions`, () => {
      const r = mulberry32(10);
      for (let n = 2; n <= 7; n++) {
        const dim = 1 << n;
        const real = precision === 'f64' ? 8 : 4;
        const ws = wasmState(dim, 3, 2 * real * dim + 4 * dim + real * dim, precision)!;
        const View = precision === 'f64' ? Float64Array : Float32Array;
        let at = ws.extraAt;
        const tab = new View(ws.memory.buffer, at, 2 * dim);
        at += 2 * real * dim;
        const idx = new Int32Array(ws.memory.buffer, at, dim);
        at += 4 * dim;
        const w = new View(ws.memory.buffer, at, dim);
        const t64 = new Float64Array(2 * dim);
        for (let i = 0; i < dim; i++) {
          const a = 6 * r();
          t64[2 * i] = Math.cos(a);
          t64[2 * i + 1] = Math.sin(a);
        }
        tab.set(t64);
        const t = Float64Array.from(tab); // the table as the kernel sees it
        const psi = randomRow(r, ws.rows[0]);
        // dmul out of place
        ws.dmul(ws.rows[0].byteOffset, ws.rows[2].byteOffset, tab.byteOffset, dim);
        const want = new Float64Array(2 * dim);
        applyDiagTable(psi, 0, want, 0, dim, t);
        expect(maxAbs(ws.rows[2], want)).toBeLessThan(TOL[precision]);
        // dadj
        const lam = randomRow(r, ws.rows[1]);
        ws.dadj(ws.rows[0].byteOffset, ws.rows[1].byteOffset, tab.byteOffset, dim, w.byteOffset);
        const wantW = new Float64Array(dim);
        const wantL = Float64Array.from(lam);
        adjointDiagTape(psi, 0, wantL, dim, t, wantW);
        expect(maxAbs(ws.rows[1], wantL)).toBeLessThan(TOL[precision]);
        expect(maxAbs(w, wantW)).toBeLessThan(TOL[precision]);
        // wht of w
        const w0 = Float64Array.from(w);
        ws.wht(w.byteOffset, dim);
        for (let m = 0; m < dim; m++) {
          let acc = 0;
          for (let i = 0; i < dim; i++) {
            let par = 0;
            for (let x = i & m; x; x &= x - 1) par ^= 1;
            acc += par ? -w0[i] : w0[i];
          }
          expect(Math.abs(w[m] - acc), `wht n=${n} m=${m}`).toBeLessThan(precision === 'f32' ? 1e-5 : 1e-13);
        }
        // gather through a random permutation (byte offsets)
        const perm = Int32Array.from([...Array(dim).keys()].sort(() => r() - 0.5));
        for (let j = 0; j < dim; j++) idx[j] = 2 * real * perm[j];
        ws.gather(ws.rows[0].byteOffset, ws.rows[2].byteOffset, idx.byteOffset, dim);
        const wantG = new Float64Array(2 * dim);
        gatherTo(psi, 0, wantG, 0, dim, perm);
        expect(maxAbs(ws.rows[2], wantG)).toBe(0);
        // norm2: w_i = |ψ_i|²
        ws.norm2(ws.rows[0].byteOffset, w.byteOffset, dim);
        const wantN = Float64Array.from({ length: dim }, (_, i) => psi[2 * i] ** 2 + psi[2 * i + 1] ** 2);
        expect(maxAbs(w, wantN), `norm2 n=${n}`).toBeLessThan(precision === 'f32' ? 1e-7 : 1e-16);
        // rmul out of place and in place: dst_i = w_i · src_i with random signed weights
        for (let i = 0; i < dim; i++) w[i] = 2 * r() - 1;
        const wantR = new Float64Array(2 * dim);
        for (let i = 0; i < dim; i++) {
          wantR[2 * i] = w[i] * psi[2 * i];
          wantR[2 * i + 1] = w[i] * psi[2 * i + 1];
        }
        ws.rmul(ws.rows[0].byteOffset, ws.rows[2].byteOffset, w.byteOffset, dim);
        expect(maxAbs(ws.rows[2], wantR), `rmul n=${n}`).toBeLessThan(TOL[precision]);
        expect(maxAbs(ws.rows[0], psi), `rmul source n=${n}`).toBe(0);
        ws.rmul(ws.rows[0].byteOffset, ws.rows[0].byteOffset, w.byteOffset, dim);
        expect(maxAbs(ws.rows[0], wantR), `rmul in place n=${n}`).toBeLessThan(TOL[precision]);
        // rset: dst_i = w_i · (vr + i·vi) (the whole-register amplitude encoding's forward), every lane written
        const [vr, vi] = [2 * r() - 1, 2 * r() - 1];
        const wantS = new Float64Array(2 * dim);
        for (let i = 0; i < dim; i++) {
          wantS[2 * i] = w[i] * vr;
          wantS[2 * i + 1] = w[i] * vi;
        }
        ws.rows[2].fill(7);
        ws.rset(ws.rows[2].byteOffset, w.byteOffset, dim, vr, vi);
        expect(maxAbs(ws.rows[2], wantS), `rset n=${n}`).toBeLessThan(TOL[precision]);
      }
    });
});

describe('two-qubit pair kernels (RXX, RYY, RZZ, SWAP), f32x4 and f64x2', () => {
  const PAULI2: [GateName, number][] = [
    ['RXX', 0],
    ['RYY', 1],
    ['RZZ', 2],
  ];
  /** P⊗P as a dense 4×4 (interleaved) for P = X, Y, Z. */
  const pp = (pauli: number): Float64Array => {
    const one = [
      [1, 0, 0, 0, 0, 0, 1, 0], // X: [[0,1],[1,0]] as [m00 m01; m10 m11] below
      [0, 0, 0, -1, 0, 1, 0, 0], // Y: [[0,−i],[i,0]]
      [1, 0, 0, 0, 0, 0, -1, 0], // Z
    ][pauli];
    const P = pauli === 0 ? [0, 0, 1, 0, 1, 0, 0, 0] : one;
    const m = new Float64Array(32);
    for (let r = 0; r < 4; r++)
      for (let c = 0; c < 4; c++) {
        const [ar, ai] = [P[2 * (2 * (r >> 1) + (c >> 1))], P[2 * (2 * (r >> 1) + (c >> 1)) + 1]];
        const [br, bi] = [P[2 * (2 * (r & 1) + (c & 1))], P[2 * (2 * (r & 1) + (c & 1)) + 1]];
        m[8 * r + 2 * c] = ar * br - ai * bi;
        m[8 * r + 2 * c + 1] = ar * bi + ai * br;
      }
    return m;
  };

  for (const precision of PRECISIONS)
    it(`${precision} pair2 on every ordered pair of bits equals the gate's dense matrix, n = 2…5`, () => {
      const r = mulberry32(12);
      const ab = new Float64Array(16);
      for (let n = 2; n <= 5; n++) {
        const dim = 1 << n;
        const ws = wasmState(dim, 3, 0, precision)!;
        for (let p = 0; p < n; p++)
          for (let q = 0; q < n; q++) {
            if (p === q) continue;
            for (const [gate, pauli] of PAULI2) {
              const a = 6 * r() - 3;
              const m4 = rot2Matrix(pauli, a, new Float64Array(32));
              expect(maxAbs(m4, gateMatrix(gate, [a])), gate).toBeLessThan(1e-15);
              const before = randomRow(r, ws.rows[1]);
              ws.rows[0].fill(7);
              ws.rows[2].fill(-7);
              pairClasses(p, q, m4, ab);
              applyPairWasm(ws, ws.rows[1].byteOffset, dim, p, q, ab);
              const want = Float64Array.from(before);
              applyMatrix(want, n, [n - 1 - p, n - 1 - q], m4);
              const what = `${precision} ${gate} n=${n} p=${p} q=${q}`;
              expect(maxAbs(ws.rows[1], want), what).toBeLessThan(TOL[precision]);
              expect(ws.rows[0].every((v) => v === 7) && ws.rows[2].every((v) => v === -7), what).toBe(true);
            }
          }
      }
    });

  for (const precision of PRECISIONS)
    it(`${precision} adj2: the generator sums equal Im⟨λ|P⊗P|ψ⟩ and λ ← Mλ, every ordered pair; JS adjointPairTape alike`, () => {
      const r = mulberry32(13);
      const ab = new Float64Array(16);
      const sums = new Float64Array(4);
      for (let n = 2; n <= 5; n++) {
        const dim = 1 << n;
        const ws = wasmState(dim, 3, 0, precision)!;
        for (let p = 0; p < n; p++)
          for (let q = 0; q < n; q++) {
            if (p === q) continue;
            for (const [gate, pauli] of PAULI2) {
              const m4 = rot2Matrix(pauli, 6 * r() - 3, new Float64Array(32));
              const psi = randomRow(r, ws.rows[0]);
              const lam = randomRow(r, ws.rows[1]);
              const gpsi = Float64Array.from(psi);
              applyMatrix(gpsi, n, [n - 1 - p, n - 1 - q], pp(pauli));
              let want = 0; // Im Σ conj(λ_i) (P⊗P ψ)_i
              for (let i = 0; i < dim; i++)
                want += lam[2 * i] * gpsi[2 * i + 1] - lam[2 * i + 1] * gpsi[2 * i];
              const wantLam = Float64Array.from(lam);
              applyMatrix(wantLam, n, [n - 1 - p, n - 1 - q], m4);
              const got = (o: Float64Array) =>
                pauli === 0 ? o[0] + o[1] : pauli === 1 ? o[1] - o[0] : o[2] - o[3];
              pairClasses(p, q, m4, ab);
              adjointPairWasm(ws, ws.rows[0].byteOffset, ws.rows[1].byteOffset, dim, p, q, ab, sums);
              const what = `${precision} ${gate} n=${n} p=${p} q=${q}`;
              expect(Math.abs(got(sums) - want), what).toBeLessThan(precision === 'f32' ? 1e-5 : 1e-13);
              expect(maxAbs(ws.rows[1], wantLam), what).toBeLessThan(TOL[precision]);
              const l = Float64Array.from(lam);
              adjointPairTape(psi, 0, l, dim, p, q, m4, sums);
              expect(Math.abs(got(sums) - want), `JS ${what}`).toBeLessThan(1e-13);
              expect(maxAbs(l, wantLam), `JS ${what}`).toBeLessThan(1e-13);
            }
          }
      }
    });

  for (const n of [2, 3, 5])
    it(`Runners with lone RXX, RYY, RZZ and SWAP on every ordered wire pair, n = ${n}: f32/f64, SIMD/JS, taped/untaped against the reference`, () => {
      const r = mulberry32(200 + n);
      const cb = new CircuitBuilder(n, n);
      for (let q = 0; q < n; q++) cb.gate('RY', [q], [cb.x(q, 1)]);
      let k = 0;
      for (let a = 0; a < n; a++)
        for (let b = 0; b < n; b++) {
          if (a === b) continue;
          const g = (['RXX', 'RYY', 'RZZ', 'SWAP'] as const)[k++ % 4];
          const u = r();
          cb.gate(g, [a, b], g === 'SWAP' ? [] : [u < 0.5 ? cb.p() : u < 0.8 ? cb.x(b, 0.6) : cb.c(1.3)]);
          cb.gate('RX', [a], [cb.p()]);
        }
      cb.observe([
        { ops: [{ wire: 0, pauli: 'Z' }] },
        {
          coeff: 0.7,
          ops: [...Array(n).keys()].map((wire) => ({ wire, pauli: (['X', 'Y', 'Z'] as const)[wire % 3] })),
        },
      ]);
      const circuit = cb.build();
      const req: BatchRequest = {
        circuit,
        batch: 2,
        params: Array.from({ length: circuit.numParams }, () => 6 * r() - 3),
        inputs: Array.from({ length: 2 * n }, () => 2 * r() - 1),
      };
      const g = Array.from({ length: 4 }, () => r() - 0.5);
      const want = referenceVjp(req, g);
      for (const precision of PRECISIONS)
        for (const useWasm of [true, false])
          for (const taped of [true, false]) {
            const got = runnerVjp(req, g, precision, useWasm, taped);
            const what = `${precision} wasm=${useWasm} tape=${taped}`;
            const tol = precision === 'f64' ? 1e-10 : 2e-4;
            expect(got.usesWasm, what).toBe(useWasm);
            expect(got.steps.filter((st) => st.type === 'prim').length, what).toBe(n * (n - 1));
            expect(maxRel(got.expvals, want.expvals), what).toBeLessThan(tol);
            expect(maxRel(got.dParams, want.dParams), what).toBeLessThan(tol);
            expect(maxRel(got.dInputs, want.dInputs), what).toBeLessThan(tol);
          }
      expect(Math.max(...want.dParams.map(Math.abs))).toBeGreaterThan(1e-3);
    });
});

/** Every controlled gate at every (control, target) position, lone (a one-qubit gate after each keeps them apart). */
function controlledCircuit(n: number, seed: number, zOnly: boolean) {
  const r = mulberry32(seed);
  const cb = new CircuitBuilder(n, n);
  const angle = (): Angle => {
    const u = r();
    return u < 0.5 ? cb.p() : u < 0.8 ? cb.x(Math.floor(n * r()), 0.7) : cb.c(6 * r() - 3);
  };
  for (let q = 0; q < n; q++) cb.gate('RY', [q], [cb.x(q, 1)]);
  const gates: GateName[] = ['CRX', 'CRY', 'CRZ', 'CPhase', 'CNOT', 'CY', 'CZ', 'CH'];
  let g = 0;
  for (let c = 0; c < n; c++)
    for (let t = 0; t < n; t++) {
      if (c === t) continue;
      for (let k = 0; k < 2; k++) {
        const gate = gates[g++ % gates.length];
        cb.gate(gate, [c, t], Array.from({ length: GATES[gate].angles }, angle));
        cb.gate('RX', [t], [angle()]);
      }
    }
  if (n >= 3)
    for (let t = 0; t < n; t++) {
      const [a, b] = [...Array(n).keys()].filter((q) => q !== t);
      cb.gate('Toffoli', [a, b, t]);
      cb.gate('RX', [t], [angle()]);
    }
  const terms: PauliTerm[] = [];
  for (let k = 0; k < 3; k++)
    terms.push({
      coeff: 2 * r() - 1,
      ops: [...Array(n).keys()]
        .filter(() => r() < 0.6)
        .map((wire) => ({
          wire,
          pauli: zOnly ? ('Z' as const) : (['X', 'Y', 'Z'] as const)[Math.floor(3 * r())],
        })),
    });
  terms.push({ ops: [{ wire: 0, pauli: 'Z' }] });
  cb.observe(terms);
  const circuit = cb.build();
  const batch = 3;
  const req: BatchRequest = {
    circuit,
    batch,
    params: Array.from({ length: circuit.numParams }, () => 6 * r() - 3),
    inputs: Array.from({ length: batch * n }, () => 2 * r() - 1),
  };
  const g2 = Array.from({ length: batch * terms.length }, () => r() - 0.5);
  return { req, g: g2 };
}

describe('Runners with lone controlled gates on the SIMD kernels against the reference adjoint', () => {
  const tol = { f64: 1e-10, f32: 2e-4 };
  expect(WASM_MIN_DIM).toBe(4);
  for (const n of [2, 3, 4, 5])
    for (const zOnly of [false, true])
      it(`n = ${n}${zOnly ? ', Z observables' : ''}: f32 and f64, SIMD and JS, taped and untaped`, () => {
        const { req, g } = controlledCircuit(n, 100 + n + (zOnly ? 10 : 0), zOnly);
        const want = referenceVjp(req, g);
        for (const precision of PRECISIONS)
          for (const useWasm of [true, false])
            for (const taped of [true, false]) {
              const got = runnerVjp(req, g, precision, useWasm, taped);
              const what = `${precision} wasm=${useWasm} tape=${taped}`;
              expect(got.usesWasm, what).toBe(useWasm);
              // the controlled gates really are lone primitive steps
              expect(got.steps.filter((s) => s.type === 'prim').length).toBeGreaterThan(n);
              expect(maxRel(got.expvals, want.expvals), what).toBeLessThan(tol[precision]);
              expect(maxRel(got.dParams, want.dParams), what).toBeLessThan(tol[precision]);
              expect(maxRel(got.dInputs, want.dInputs), what).toBeLessThan(tol[precision]);
            }
        expect(Math.max(...want.dParams.map(Math.abs))).toBeGreaterThan(1e-3);
      });

  it('a WebAssembly memory that cannot be made leaves the Runner on JS rows, with the same results', () => {
    const { req, g } = controlledCircuit(3, 5, true);
    const want = referenceVjp(req, g);
    const Real = WebAssembly.Memory;
    const w = WebAssembly as unknown as { Memory: unknown };
    w.Memory = function () {
      throw new RangeError('WebAssembly.Memory(): could not allocate memory');
    };
    try {
      for (const precision of PRECISIONS) {
        const got = runnerVjp(req, g, precision, true, true);
        expect(got.usesWasm).toBe(false);
        expect(maxRel(got.dParams, want.dParams)).toBeLessThan(precision === 'f64' ? 1e-10 : 2e-4);
      }
    } finally {
      w.Memory = Real;
    }
  });

  it('the simulator reports wasm-simd for f64 and for small states, js for one qubit', async () => {
    for (const precision of PRECISIONS) {
      const sim = createCpuSimulator({ precision });
      for (const n of [2, 5]) {
        const { req } = controlledCircuit(n, 1, true);
        expect((await sim.expval(req)).info.mode).toBe('wasm-simd');
      }
      const one = new CircuitBuilder(1);
      one.gate('RX', [0], [0.3]);
      const c1 = one.build();
      expect((await sim.expval({ circuit: c1, batch: 1, params: [], inputs: [] })).info.mode).toBe('js');
      sim.dispose();
    }
  });
});

describe('relaxed-SIMD FMA in the adjoint kernel', () => {
  it('runs here wherever the runtime compiles relaxed SIMD (vitest starts with it), so the tests above check it', () => {
    const relaxed = WebAssembly.validate(RELAXED_SIMD_PROBE);
    for (const p of PRECISIONS) expect(wasmStateFma(p)).toBe(relaxed && process.env.QLAB_WASM_FMA !== '0');
  });
});
