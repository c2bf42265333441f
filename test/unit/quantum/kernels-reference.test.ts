// Every JS kernel of core/quantum/cpu/kernels.ts against the reference simulator's dense matrices
// (core/quantum/reference/state.ts), in f64 and f32, on every target bit (bits 0–2 take the flat loops), with and
// without controls, on a row at a non-zero offset whose neighbours must stay untouched.
import { describe, expect, it } from 'vitest';
import * as K from '../../../core/quantum/cpu/kernels';
import { gateMatrix } from '../../../core/quantum/gates';
import { applyMatrix, applyPauli, inner } from '../../../core/quantum/reference/state';
import { mulberry32 } from '../../helpers/quantum';

const N = 5;
const DIM = 1 << N;

/** A random unit-norm state of n qubits, f64. */
function randomState(r: () => number, n = N): Float64Array {
  const v = Float64Array.from({ length: 2 << n }, () => r() - 0.5);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/** The 2×2 u on target wire t, controlled by the wires in cs (dense, for applyMatrix). */
function controlled(u: Float64Array, k: number): Float64Array {
  const d = 1 << (k + 1);
  const m = new Float64Array(2 * d * d);
  for (let i = 0; i < d - 2; i++) m[2 * (i * d + i)] = 1;
  for (let a = 0; a < 2; a++)
    for (let b = 0; b < 2; b++) {
      m[2 * ((d - 2 + a) * d + d - 2 + b)] = u[2 * (2 * a + b)];
      m[2 * ((d - 2 + a) * d + d - 2 + b) + 1] = u[2 * (2 * a + b) + 1];
    }
  return m;
}

const wireOf = (bit: number): number => N - 1 - bit;
const bitsOf = (mask: number): number[] => [...Array(N).keys()].filter((b) => (mask >> b) & 1);

/** A row of `v` at offset 2·DIM in an f32 or f64 array of three rows, sentinels around it. */
function place(v: Float64Array, f32: boolean): { s: K.Amps; off: number } {
  const s = f32 ? new Float32Array(6 * DIM) : new Float64Array(6 * DIM);
  s.fill(9);
  s.set(v, 2 * DIM);
  return { s, off: 2 * DIM };
}

function expectRow(s: K.Amps, off: number, want: Float64Array, f32: boolean, what: string): void {
  const tol = f32 ? 3e-6 : 1e-14;
  for (let i = 0; i < 2 * DIM; i++)
    expect(Math.abs(s[off + i] - want[i]), `${what} [${i}]`).toBeLessThan(tol);
  for (let i = 0; i < 2 * DIM; i++) expect(s[i], `${what}: row before`).toBe(9);
  for (let i = 4 * DIM; i < 6 * DIM; i++) expect(s[i], `${what}: row after`).toBe(9);
}

const U = gateMatrix('U3', [0.7, -1.3, 2.1]);
const REAL = gateMatrix('RY', [-1.1]);
const DIAG = gateMatrix('RZ', [0.4]);
const X = gateMatrix('X');

describe('one-qubit kernels against the reference', () => {
  for (const f32 of [false, true])
    it(`apply1Gen, apply1Real, apply1Diag, apply1X, kernelFor on every bit, controls 0, 1 and 2 (${f32 ? 'f32' : 'f64'})`, () => {
      const r = mulberry32(f32 ? 2 : 1);
      for (let p = 0; p < N; p++)
        for (const cmask of [
          0,
          ...[0b11 << ((p + 1) % (N - 1))].map((m) => m & ((1 << N) - 1) & ~(1 << p)),
        ]) {
          for (const cm of cmask === 0 ? [0] : [cmask, cmask & -cmask]) {
            const cw = bitsOf(cm).map(wireOf);
            const v = randomState(r);
            const wires = [...cw, wireOf(p)];
            const cases: [string, Float64Array, (s: K.Amps, off: number) => void][] = [
              ['apply1Gen', U, (s, o) => K.apply1Gen(s, o, DIM, p, cm, U, 0)],
              ['apply1Real', REAL, (s, o) => K.apply1Real(s, o, DIM, p, cm, REAL, 0)],
              ['apply1Diag', DIAG, (s, o) => K.apply1Diag(s, o, DIM, p, cm, DIAG, 0)],
              ['apply1X', X, (s, o) => K.apply1X(s, o, DIM, p, cm, X, 0)],
              // the dispatch by entries, with the matrix at an offset in a longer array
              ['kernelFor', U, (s, o) => K.kernelFor(U, 0)(s, o, DIM, p, cm, Float64Array.of(5, 5, ...U), 2)],
              ['kernelFor', REAL, (s, o) => K.kernelFor(REAL, 0)(s, o, DIM, p, cm, REAL, 0)],
              ['kernelFor', DIAG, (s, o) => K.kernelFor(DIAG, 0)(s, o, DIM, p, cm, DIAG, 0)],
            ];
            for (const [name, m, run] of cases) {
              const want = Float64Array.from(v);
              applyMatrix(want, N, wires, cw.length ? controlled(m, cw.length) : m);
              const { s, off } = place(v, f32);
              run(s, off);
              expectRow(s, off, want, f32, `${name} p=${p} cmask=${cm}`);
            }
          }
        }
    });
});

describe('two-qubit, table and permutation kernels against the reference', () => {
  it('applySwap, applyParityDiag, apply2 on every ordered pair of bits', () => {
    const r = mulberry32(3);
    const rxx = gateMatrix('RXX', [0.9]);
    const rzz = gateMatrix('RZZ', [-0.6]);
    for (let p = 0; p < N; p++)
      for (let q = 0; q < N; q++) {
        if (p === q) continue;
        const v = randomState(r);
        const wires = [wireOf(p), wireOf(q)];
        const cases: [string, Float64Array, (s: K.Amps, o: number) => void][] = [
          ['applySwap', gateMatrix('SWAP'), (s, o) => K.applySwap(s, o, DIM, p, q)],
          [
            'applyParityDiag',
            rzz,
            (s, o) => K.applyParityDiag(s, o, DIM, p, q, rzz[0], rzz[1], rzz[10], rzz[11]),
          ],
          ['apply2', rxx, (s, o) => K.apply2(s, o, DIM, p, q, rxx)],
        ];
        for (const [name, m, run] of cases) {
          const want = Float64Array.from(v);
          applyMatrix(want, N, wires, m);
          const { s, off } = place(v, false);
          run(s, off);
          expectRow(s, off, want, false, `${name} p=${p} q=${q}`);
        }
      }
  });

  it('applyDiagTable, gatherTo and applyGather as full-state matrices', () => {
    const r = mulberry32(4);
    const v = randomState(r);
    const t = new Float64Array(2 * DIM);
    for (let i = 0; i < DIM; i++) [t[2 * i], t[2 * i + 1]] = [Math.cos(7 * r()), Math.sin(7 * r())];
    const src = Int32Array.from([...Array(DIM).keys()].sort(() => r() - 0.5));
    const all = [...Array(N).keys()];
    const diag = new Float64Array(2 * DIM * DIM);
    const perm = new Float64Array(2 * DIM * DIM);
    for (let i = 0; i < DIM; i++) {
      diag[2 * (i * DIM + i)] = t[2 * i];
      diag[2 * (i * DIM + i) + 1] = t[2 * i + 1];
      perm[2 * (i * DIM + src[i])] = 1; // out_i = v_src[i]
    }
    const wantD = Float64Array.from(v);
    applyMatrix(wantD, N, all, diag);
    const wantP = Float64Array.from(v);
    applyMatrix(wantP, N, all, perm);
    let { s, off } = place(v, false);
    K.applyDiagTable(s, off, s, off, DIM, t);
    expectRow(s, off, wantD, false, 'applyDiagTable');
    ({ s, off } = place(v, false));
    K.applyGather(s, off, DIM, src, new Float64Array(2 * DIM));
    expectRow(s, off, wantP, false, 'applyGather');
    const d = new Float64Array(2 * DIM);
    K.gatherTo(Float64Array.from(v), 0, d, 0, DIM, src);
    expect(Math.max(...d.map((x, i) => Math.abs(x - wantP[i])))).toBeLessThan(1e-15);
  });
});

/** Pauli strings as masks and as reference terms. */
const STRINGS: { wire: number; pauli: 'X' | 'Y' | 'Z' }[][] = [
  [{ wire: 0, pauli: 'Z' }],
  [
    { wire: 1, pauli: 'X' },
    { wire: 3, pauli: 'Y' },
  ],
  [
    { wire: 0, pauli: 'Y' },
    { wire: 2, pauli: 'Y' },
    { wire: 4, pauli: 'Z' },
  ],
  [{ wire: 4, pauli: 'X' }],
];

function masks(ops: { wire: number; pauli: 'X' | 'Y' | 'Z' }[]): K.PauliMasks {
  let flip = 0;
  let sign = 0;
  let ny = 0;
  for (const o of ops) {
    const b = 1 << wireOf(o.wire);
    if (o.pauli !== 'Z') flip |= b;
    if (o.pauli !== 'X') sign |= b;
    if (o.pauli === 'Y') ny++;
  }
  return { flip, sign, ny };
}

describe('expectation and adjoint kernels against the reference', () => {
  it('pauliInner (real and imaginary parts, with and without controls), addPauliApplied, signedSum', () => {
    const r = mulberry32(5);
    for (const ops of STRINGS) {
      const v = randomState(r);
      const l = randomState(r);
      const m = masks(ops);
      const pv = applyPauli(v, N, { ops });
      expect(Math.abs(K.pauliInner(v, 0, v, 0, DIM, m, 0, false) - inner(v, pv)[0])).toBeLessThan(1e-14);
      const acc = Float64Array.from(l);
      K.addPauliApplied(acc, v, 0, DIM, m, 0.7);
      expect(Math.max(...acc.map((x, i) => Math.abs(x - (l[i] + 0.7 * pv[i]))))).toBeLessThan(1e-14);
      // G = Π(cmask) P, cmask on bits outside the string
      const free = ((1 << N) - 1) & ~(m.flip | m.sign);
      for (const cmask of [0, free & -free]) {
        const gv = Float64Array.from(pv);
        for (let i = 0; i < DIM; i++) if ((i & cmask) !== cmask) gv[2 * i] = gv[2 * i + 1] = 0;
        expect(Math.abs(K.pauliInner(l, 0, v, 0, DIM, m, cmask, true) - inner(l, gv)[1])).toBeLessThan(1e-14);
        expect(Math.abs(K.pauliInner(l, 0, v, 0, DIM, m, cmask, false) - inner(l, gv)[0])).toBeLessThan(
          1e-14,
        );
      }
      if (m.flip === 0) {
        const w = Float64Array.from({ length: DIM }, (_, i) => v[2 * i] ** 2 + v[2 * i + 1] ** 2);
        const par = Uint8Array.from({ length: DIM }, (_, i) => bitsOf(i).length & 1);
        expect(Math.abs(K.signedSum(w, DIM, m.sign, 0, par) - inner(v, pv)[0])).toBeLessThan(1e-14);
      }
    }
  });

  for (const so of [0, 2 * DIM])
    it(`adjointStep1Tape (ψ at offset ${so}): λ ← Uλ, ψ unchanged, and Im Tr(Gρ) = Im⟨λ|G|ψ⟩ for G = X, Y, Z, |1⟩⟨1| on every bit`, () => {
      const r = mulberry32(7 + so);
      for (let p = 0; p < N; p++) {
        const v = randomState(r);
        const l = randomState(r);
        const t = wireOf(p);
        const gens: [string, Float64Array][] = [
          ['X', gateMatrix('X')],
          ['Y', gateMatrix('Y')],
          ['Z', gateMatrix('Z')],
          ['P1', Float64Array.of(0, 0, 0, 0, 0, 0, 1, 0)],
        ];
        const rho = new Float64Array(8);
        const ls = Float64Array.from(l);
        const vs = new Float64Array(so + 2 * DIM);
        vs.set(v, so);
        K.adjointStep1Tape(vs, so, ls, DIM, p, U, rho);
        for (const [name, g] of gens) {
          const gv = Float64Array.from(v);
          applyMatrix(gv, N, [t], g);
          // Im Tr(Gρ) with ρ_ab = Σ ψ_a conj(λ_b): Tr(Gρ) = Σ_ab G_ba ρ_ab
          let im = 0;
          for (let a = 0; a < 2; a++)
            for (let b = 0; b < 2; b++) {
              const [gr, gi] = [g[2 * (2 * b + a)], g[2 * (2 * b + a) + 1]];
              im += gr * rho[2 * (2 * a + b) + 1] + gi * rho[2 * (2 * a + b)];
            }
          expect(Math.abs(im - inner(l, gv)[1]), `${name} p=${p}`).toBeLessThan(1e-14);
        }
        const wantL = Float64Array.from(l);
        applyMatrix(wantL, N, [t], U);
        expect(Math.max(...ls.map((x, i) => Math.abs(x - wantL[i])))).toBeLessThan(1e-14);
        expect(vs.subarray(so)).toEqual(v);
      }
    });

  for (const conj of [false, true])
    it(`adjointDiagTape: w_i = Im(conj(λ_i) ψ_i), then D† on λ; applyDiagTable (conj: ${conj}) on ψ`, () => {
      const r = mulberry32(conj ? 9 : 8);
      const v = randomState(r);
      const l = randomState(r);
      const t = new Float64Array(2 * DIM);
      for (let i = 0; i < DIM; i++) [t[2 * i], t[2 * i + 1]] = [Math.cos(5 * r()), Math.sin(5 * r())];
      const dagD = new Float64Array(2 * DIM * DIM);
      for (let i = 0; i < DIM; i++) {
        dagD[2 * (i * DIM + i)] = t[2 * i];
        dagD[2 * (i * DIM + i) + 1] = -t[2 * i + 1];
      }
      const all = [...Array(N).keys()];
      const w = new Float64Array(DIM);
      const vs = Float64Array.from(v);
      const ls = Float64Array.from(l);
      K.adjointDiagTape(vs, 0, ls, DIM, t, w);
      if (conj) K.applyDiagTable(vs, 0, vs, 0, DIM, t, true);
      for (let i = 0; i < DIM; i++) {
        // Im(conj(λ_i) ψ_i) = ⟨λ|Π_i|ψ⟩'s imaginary part
        const e = new Float64Array(2 * DIM);
        e[2 * i] = v[2 * i];
        e[2 * i + 1] = v[2 * i + 1];
        expect(Math.abs(w[i] - inner(l, e)[1])).toBeLessThan(1e-15);
      }
      const wantL = Float64Array.from(l);
      applyMatrix(wantL, N, all, dagD);
      const wantV = Float64Array.from(v);
      if (conj) applyMatrix(wantV, N, all, dagD);
      expect(Math.max(...ls.map((x, i) => Math.abs(x - wantL[i])))).toBeLessThan(1e-15);
      expect(Math.max(...vs.map((x, i) => Math.abs(x - wantV[i])))).toBeLessThan(1e-15);
    });
});
