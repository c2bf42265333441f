import { describe, expect, it } from 'vitest';
import {
  CircuitBuilder,
  GATES,
  GATE_NAMES,
  parseCircuit,
  type Circuit,
  type GateName,
  type PauliTerm,
} from '../../../core/quantum/circuit';
import { gateMatrix, matMul, shiftRule } from '../../../core/quantum/gates';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import { finiteDifferenceJacobian, parameterShiftVjp } from '../../../core/quantum/gradients';
import type { BatchRequest } from '../../../core/quantum/backend';
import { applyDense, batchRequest as req, mulberry32 as rng } from '../../helpers/quantum';

const f64 = createCpuSimulator({ precision: 'f64' });
const f32 = createCpuSimulator({ precision: 'f32' });
describe('gateMatrix', () => {
  it('is unitary for every gate at random angles', () => {
    const r = rng(1);
    for (const g of GATE_NAMES) {
      const a = Array.from({ length: GATES[g].angles }, () => 6 * r() - 3);
      const m = gateMatrix(g, a);
      const d = 1 << GATES[g].wires;
      const dag = new Float64Array(m.length);
      for (let i = 0; i < d; i++)
        for (let j = 0; j < d; j++) {
          dag[2 * (i * d + j)] = m[2 * (j * d + i)];
          dag[2 * (i * d + j) + 1] = -m[2 * (j * d + i) + 1];
        }
      const p = matMul(dag, m, d);
      for (let i = 0; i < d; i++)
        for (let j = 0; j < d; j++) {
          expect(p[2 * (i * d + j)], `${g}`).toBeCloseTo(i === j ? 1 : 0, 12);
          expect(p[2 * (i * d + j) + 1], `${g}`).toBeCloseTo(0, 12);
        }
    }
  });
  it('rejects wrong angle counts', () => {
    expect(() => gateMatrix('RX', [])).toThrow(/RX takes 1 angle/);
  });
});

describe('cpu kernels against gateMatrix', () => {
  it('every gate on random wires of a random 4-qubit state (f64, 1e-12)', async () => {
    const r = rng(2);
    const n = 4;
    for (const g of GATE_NAMES) {
      for (let trial = 0; trial < 4; trial++) {
        const k = GATES[g].wires;
        const pool = [0, 1, 2, 3].sort(() => r() - 0.5);
        const wires = pool.slice(0, k);
        const angles = Array.from({ length: GATES[g].angles }, () => 6 * r() - 3);
        // random state through amplitude encoding of a random real vector then a random phase layer
        const x = Array.from({ length: 16 }, () => r() - 0.5);
        const b = new CircuitBuilder(n, 16).amplitude([0, 1, 2, 3], 0, 16);
        for (let w = 0; w < n; w++) b.gate('RZ', [w], [r() * 3]).gate('RX', [w], [r() * 3]);
        const prep = b.build();
        const before = await f64.state(req(prep, [], x));
        const c = parseCircuit({ ...prep, ops: [...prep.ops, { type: 'gate', gate: g, wires, angles }] });
        const after = await f64.state(req(c, [], x));
        const want = applyDense(before, n, gateMatrix(g, angles), wires);
        for (let i = 0; i < want.length; i++)
          expect(Math.abs(after[i] - want[i]), `${g} on ${wires}`).toBeLessThan(1e-12);
      }
    }
  });
});

describe('analytic cases', () => {
  it('Bell and GHZ states', async () => {
    const bell = new CircuitBuilder(2).gate('H', [0]).gate('CNOT', [0, 1]).build();
    const p = await f64.probs(req(bell));
    expect(Array.from(p).map((v) => +v.toFixed(12))).toEqual([0.5, 0, 0, 0.5]);
    const ghz = new CircuitBuilder(3).gate('H', [0]).gate('CNOT', [0, 1]).gate('CNOT', [1, 2]).build();
    const s = await f64.state(req(ghz));
    expect(s[0]).toBeCloseTo(Math.SQRT1_2, 14);
    expect(s[14]).toBeCloseTo(Math.SQRT1_2, 14);
    const p01 = await f64.probs(req(ghz), [2, 0]);
    expect(Array.from(p01).map((v) => +v.toFixed(12))).toEqual([0.5, 0, 0, 0.5]);
  });
  it('⟨Z⟩ = cos θ for RX and RY, and d⟨Z⟩/dθ = −sin θ', async () => {
    for (const g of ['RX', 'RY'] as GateName[]) {
      const b = new CircuitBuilder(1);
      const c = b.gate(g, [0], [b.p()]).build();
      for (const t of [0.3, 1.7, -2.2]) {
        const e = await f64.expval(req(c, [t]));
        expect(e.expvals[0]).toBeCloseTo(Math.cos(t), 14);
        const v = await f64.vjp(req(c, [t]), [1]);
        expect(v.dParams[0]).toBeCloseTo(-Math.sin(t), 13);
      }
    }
  });
  it('amplitude encoding reports norms and normalises', async () => {
    const c = new CircuitBuilder(2, 3).amplitude([0, 1], 0, 3).build();
    const e = await f64.expval(req(c, [], [3, 0, 4, 1, 1, 1], 2));
    expect(Array.from(e.norms)).toEqual([5, Math.sqrt(3)]);
    const p = await f64.probs(req(c, [], [3, 0, 4, 1, 1, 1], 2));
    expect(p[0]).toBeCloseTo(9 / 25, 14);
    expect(p[2]).toBeCloseTo(16 / 25, 14);
    expect(p[3]).toBe(0);
    await expect(f64.expval(req(c, [], [0, 0, 0], 1))).rejects.toThrow(/zero or non-finite norm/);
  });
  it('rejects short params with a message naming the field', async () => {
    const b = new CircuitBuilder(1);
    const c = b.gate('RX', [0], [b.p()]).build();
    await expect(f64.expval(req(c, []))).rejects.toThrow(/^params:/);
  });
});

/** A random circuit over every gate kind with params, input-scaled angles and an optional amplitude op. */
function randomCircuit(
  seed: number,
  n: number,
  depth: number,
  amp: boolean,
  observables: PauliTerm[],
): Circuit {
  const r = rng(seed);
  const b = new CircuitBuilder(n, amp ? 5 : 3);
  if (amp) b.amplitude([0, 1, 2], 2, 5);
  for (let d = 0; d < depth; d++) {
    const g = GATE_NAMES[Math.floor(r() * GATE_NAMES.length)];
    const k = GATES[g].wires;
    const wires = Array.from({ length: n }, (_, i) => i)
      .sort(() => r() - 0.5)
      .slice(0, k);
    const angles = Array.from({ length: GATES[g].angles }, () => {
      const u = r();
      return u < 0.5
        ? b.p(u < 0.2 ? 0.7 : undefined)
        : u < 0.8
          ? b.x(Math.floor(r() * 2), 1.3)
          : b.c(r() * 3);
    });
    b.gate(g, wires, angles);
  }
  return b.observe(observables).build();
}

describe('adjoint vjp', () => {
  const obs: PauliTerm[] = [
    { coeff: 0.8, ops: [{ wire: 0, pauli: 'Z' }] },
    {
      ops: [
        { wire: 1, pauli: 'X' },
        { wire: 3, pauli: 'Y' },
      ],
    },
    {
      coeff: -1.3,
      ops: [
        { wire: 2, pauli: 'Y' },
        { wire: 0, pauli: 'X' },
        { wire: 3, pauli: 'Z' },
      ],
    },
  ];
  for (const amp of [false, true]) {
    it(`matches parameter shift and finite differences on random circuits (amplitude input: ${amp})`, async () => {
      for (let seed = 10; seed < 16; seed++) {
        const c = randomCircuit(seed, 4, 40, amp, obs);
        const r = rng(seed + 100);
        const B = 3;
        const params = Array.from({ length: c.numParams }, () => 6 * r() - 3);
        const inputs = Array.from({ length: B * c.numInputs }, () => 2 * r() - 1);
        const g = Array.from({ length: B * obs.length }, () => r() - 0.5);
        const rq = req(c, params, inputs, B);
        const adj = await f64.vjp(rq, g);
        const evaluate = async (q: BatchRequest) => (await f64.expval(q)).expvals;
        const fd = await finiteDifferenceJacobian(evaluate, rq);
        const P = c.numParams;
        const N = c.numInputs;
        const nO = obs.length;
        for (let k = 0; k < P; k++) {
          let want = 0;
          for (let b = 0; b < B; b++)
            for (let o = 0; o < nO; o++) want += g[b * nO + o] * fd.jParams[(b * nO + o) * P + k];
          expect(Math.abs(adj.dParams[k] - want), `seed ${seed} θ${k}`).toBeLessThan(1e-7);
        }
        for (let b = 0; b < B; b++)
          for (let k = 0; k < N; k++) {
            let want = 0;
            for (let o = 0; o < nO; o++) want += g[b * nO + o] * fd.jInputs[(b * nO + o) * N + k];
            expect(Math.abs(adj.dInputs[b * N + k] - want), `seed ${seed} x[${b},${k}]`).toBeLessThan(1e-7);
          }
        if (!amp) {
          const ps = await parameterShiftVjp(evaluate, rq, g);
          for (let k = 0; k < P; k++)
            expect(Math.abs(ps.dParams[k] - adj.dParams[k]), `ps θ${k}`).toBeLessThan(1e-12);
          for (let i = 0; i < B * N; i++)
            expect(Math.abs(ps.dInputs[i] - adj.dInputs[i]), `ps x${i}`).toBeLessThan(1e-12);
        }
      }
    });
  }
});

describe('shift rules', () => {
  it('every angle argument of every gate matches central differences', async () => {
    const r = rng(5);
    for (const g of GATE_NAMES) {
      for (let ai = 0; ai < GATES[g].angles; ai++) {
        const n = 3;
        const b = new CircuitBuilder(n);
        for (let w = 0; w < n; w++) b.gate('RY', [w], [r() * 3]).gate('RZ', [w], [r() * 3]);
        const wires = [2, 0, 1].slice(0, GATES[g].wires);
        const base = Array.from({ length: GATES[g].angles }, () => 6 * r() - 3);
        const c0 = b.build();
        const f = async (a: number) => {
          const angles = base.map((v, j) => (j === ai ? a : v));
          const c = parseCircuit({
            ...c0,
            ops: [...c0.ops, { type: 'gate', gate: g, wires, angles }, { gate: 'CNOT', wires: [0, 2] }],
            observables: [
              {
                ops: [
                  { wire: 0, pauli: 'X' },
                  { wire: 2, pauli: 'Z' },
                ],
              },
              { ops: [{ wire: 1, pauli: 'Y' }] },
            ],
          });
          return (await f64.expval(req(c))).expvals;
        };
        const h = 1e-6;
        const fp = await f(base[ai] + h);
        const fm = await f(base[ai] - h);
        const rule = shiftRule(g, ai);
        for (let o = 0; o < 2; o++) {
          let ps = 0;
          for (const t of rule.terms) ps += t.coeff * (await f(base[ai] + t.shift))[o];
          expect(Math.abs(ps - (fp[o] - fm[o]) / (2 * h)), `${g} arg ${ai}`).toBeLessThan(1e-8);
        }
      }
    }
  });
});

describe('precision and threads', () => {
  it('f32 agrees with f64', async () => {
    const c = randomCircuit(21, 5, 60, true, [
      {
        ops: [
          { wire: 4, pauli: 'Z' },
          { wire: 1, pauli: 'X' },
        ],
      },
    ]);
    const r = rng(3);
    const B = 4;
    const params = Array.from({ length: c.numParams }, () => 6 * r() - 3);
    const inputs = Array.from({ length: B * c.numInputs }, () => 2 * r() - 1);
    const a = await f64.vjp(req(c, params, inputs, B), [1, 1, 1, 1]);
    const b = await f32.vjp(req(c, params, inputs, B), [1, 1, 1, 1]);
    expect(b.info.precision).toBe('f32');
    for (let i = 0; i < B; i++) expect(Math.abs(a.expvals[i] - b.expvals[i])).toBeLessThan(1e-5);
    for (let i = 0; i < a.dParams.length; i++)
      expect(Math.abs(a.dParams[i] - b.dParams[i])).toBeLessThan(1e-4);
  });
  it('threads give results identical to one thread', async () => {
    const c = randomCircuit(31, 5, 50, true, [
      { ops: [{ wire: 0, pauli: 'Z' }] },
      { ops: [{ wire: 2, pauli: 'Y' }] },
    ]);
    const r = rng(4);
    const B = 150;
    const params = Array.from({ length: c.numParams }, () => 6 * r() - 3);
    const inputs = Array.from({ length: B * c.numInputs }, () => 2 * r() - 1);
    const g = Array.from({ length: 2 * B }, () => r() - 0.5);
    const th = createCpuSimulator({ precision: 'f64', threads: 2 });
    try {
      const a = await f64.vjp(req(c, params, inputs, B), g);
      const b = await th.vjp(req(c, params, inputs, B), g);
      expect(b.info.mode).toBe('wasm-simd-threads');
      expect(Array.from(b.expvals)).toEqual(Array.from(a.expvals));
      expect(Array.from(b.dParams)).toEqual(Array.from(a.dParams));
      expect(Array.from(b.dInputs)).toEqual(Array.from(a.dInputs));
      expect(Array.from(b.norms)).toEqual(Array.from(a.norms));
    } finally {
      th.dispose();
    }
  });
});
