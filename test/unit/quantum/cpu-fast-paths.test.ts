// The CPU backend's fast paths (fused diagonal runs, fused permutation runs, flat low-bit loops,
// diagonal-observable expvals and adjoint seed, the forward tape) against an independent dense f64
// reference built from gateMatrix, and the taped adjoint against the un-applying one.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CircuitBuilder, type Circuit, type GateName } from '../../../core/quantum/circuit';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import { compile } from '../../../core/quantum/cpu/program';
import { Runner } from '../../../core/quantum/cpu/engine';
import { finiteDifferenceJacobian } from '../../../core/quantum/gradients';
import { batchRequest as req, denseState, mulberry32 as rng } from '../../helpers/quantum';

const f64 = createCpuSimulator({ precision: 'f64' });
async function expectStates(c: Circuit, params: number[], inputs: number[], batch: number): Promise<void> {
  const got = await f64.state(req(c, params, inputs, batch));
  const len = 2 << c.qubits;
  for (let b = 0; b < batch; b++) {
    const want = denseState(c, params, inputs, b);
    for (let i = 0; i < len; i++)
      expect(Math.abs(got[b * len + i] - want[i]), `row ${b} [${i}]`).toBeLessThan(1e-12);
  }
}

/** H on every wire then a random single-wire layer, so every amplitude is non-trivial. */
function prep(b: CircuitBuilder, n: number, r: () => number): void {
  for (let w = 0; w < n; w++) b.gate('H', [w]).gate('U3', [w], [r() * 3, r() * 3, r() * 3]);
}

describe('fused runs against gateMatrix (f64)', () => {
  it('a run of diagonal gates (RZZ, CZ, CRZ, CPhase) with params, inputs and constants', async () => {
    const n = 5;
    const r = rng(7);
    const b = new CircuitBuilder(n, 2);
    prep(b, n, r);
    b.gate('RZZ', [0, 1], [b.p()])
      .gate('CZ', [4, 2])
      .gate('CRZ', [3, 4], [b.x(0, 0.7)])
      .gate('RZZ', [4, 2], [b.c(0.4)])
      .gate('CPhase', [1, 3], [b.p(1.5)])
      .gate('CPhase', [4, 0], [b.x(1)])
      .gate('RZZ', [3, 4], [b.p()]);
    const c = b.build();
    const prog = compile(c);
    expect(
      prog.steps.filter((s) => s.type === 'diag').map((s) => (s.type === 'diag' ? s.prims.length : 0)),
    ).toEqual([7]);
    const B = 3;
    const params = Array.from({ length: c.numParams }, () => 6 * r() - 3);
    const inputs = Array.from({ length: B * c.numInputs }, () => 2 * r() - 1);
    await expectStates(c, params, inputs, B);
  });

  it('a run of permutations (CNOT ring, Toffoli, SWAP, X-controlled) and a lone CNOT', async () => {
    const n = 5;
    const r = rng(8);
    const b = new CircuitBuilder(n);
    prep(b, n, r);
    for (let q = 0; q < n; q++) b.gate('CNOT', [q, (q + 1) % n]);
    b.gate('Toffoli', [4, 0, 2]).gate('SWAP', [1, 4]).gate('CNOT', [3, 0]);
    b.gate('RY', [2], [0.3]).gate('CNOT', [2, 4]).gate('RY', [4], [0.5]);
    const c = b.build();
    const prog = compile(c);
    const perms = prog.steps.filter((s) => s.type === 'perm');
    expect(perms.map((s) => (s.type === 'perm' ? s.prims.length : 0))).toEqual([8]);
    if (perms[0].type === 'perm') {
      // src and inv are inverse permutations
      for (let j = 0; j < prog.dim; j++) expect(perms[0].inv[perms[0].src[j]]).toBe(j);
    }
    await expectStates(c, [], [], 1);
  });

  it('one-qubit blocks on every bit (flat loops at bits 0-2, strided above): generic, real, diagonal', async () => {
    const n = 6;
    const r = rng(9);
    const b = new CircuitBuilder(n, 1);
    prep(b, n, r);
    const kinds: [GateName, number][] = [
      ['U3', 3],
      ['RY', 1],
      ['RZ', 1],
      ['H', 0],
      ['S', 0],
      ['RX', 1],
    ];
    for (let w = 0; w < n; w++)
      for (const [g, k] of kinds) {
        b.gate(
          g,
          [w],
          Array.from({ length: k }, (_, i) => (i === 0 && w % 2 ? b.x(0, 0.9) : b.p())),
        );
        // a two-wire gate closes the block so the next gate starts a new one
        b.gate('CRX', [w, (w + 1) % n], [r()]);
      }
    const c = b.build();
    const B = 2;
    const params = Array.from({ length: c.numParams }, () => 6 * r() - 3);
    const inputs = Array.from({ length: B }, () => 2 * r() - 1);
    await expectStates(c, params, inputs, B);
  });
});

/** QD-LLM-shaped circuit (angle inputs, RZ-RY-RZ blocks, RZZ and CNOT chains) with mixed observables. */
function qdllmLike(n: number, layers: number, diagonalObs: boolean): Circuit {
  const b = new CircuitBuilder(n, n);
  for (let q = 0; q < n; q++) b.gate('RX', [q], [b.x(q)]);
  for (let l = 0; l < layers; l++) {
    for (let q = 0; q < n; q++) for (const g of ['RZ', 'RY', 'RZ'] as const) b.gate(g, [q], [b.p()]);
    for (let q = 0; q + 1 < n; q++) b.gate('RZZ', [q, q + 1], [b.p()]);
    b.gate('CRZ', [0, n - 1], [b.x(1, 0.5)]);
    for (let q = 0; q < n; q++) b.gate('RY', [q], [b.p()]);
    for (let q = 0; q + 1 < n; q++) b.gate('CNOT', [q, q + 1]);
  }
  const obs = diagonalObs
    ? [
        ...Array.from({ length: n }, (_, w) => ({ ops: [{ wire: w, pauli: 'Z' as const }] })),
        {
          coeff: -0.7,
          ops: [
            { wire: 0, pauli: 'Z' as const },
            { wire: n - 1, pauli: 'Z' as const },
          ],
        },
      ]
    : [{ ops: [{ wire: 1, pauli: 'X' as const }] }, { coeff: 0.5, ops: [{ wire: 0, pauli: 'Z' as const }] }];
  return b.observe(obs).build();
}

describe('diagonal observables, tape and adjoint through fused runs', () => {
  it('⟨Z⟩ and ⟨ZZ⟩ from the fast path equal sums over the dense reference state', async () => {
    const n = 5;
    const c = qdllmLike(n, 2, true);
    expect(compile(c).diagObs).toBe(true);
    const r = rng(11);
    const B = 2;
    const params = Array.from({ length: c.numParams }, () => 6 * r() - 3);
    const inputs = Array.from({ length: B * n }, () => 4 * r());
    const got = await f64.expval(req(c, params, inputs, B));
    const nObs = n + 1;
    for (let b = 0; b < B; b++) {
      const s = denseState(c, params, inputs, b);
      const want = new Float64Array(nObs);
      for (let i = 0; i < 1 << n; i++) {
        const pr = s[2 * i] ** 2 + s[2 * i + 1] ** 2;
        for (let w = 0; w < n; w++) want[w] += (i >> (n - 1 - w)) & 1 ? -pr : pr;
        want[n] += -0.7 * (((i >> (n - 1)) ^ i) & 1 ? -pr : pr);
      }
      for (let o = 0; o < nObs; o++)
        expect(Math.abs(got.expvals[b * nObs + o] - want[o])).toBeLessThan(1e-12);
    }
  });

  for (const diagonalObs of [true, false]) {
    it(`adjoint vjp matches finite differences, taped and untaped alike (diagonal observables: ${diagonalObs})`, async () => {
      const n = 4;
      const c = qdllmLike(n, 2, diagonalObs);
      const r = rng(12);
      const B = 3;
      const nObs = c.observables!.length;
      const params = Array.from({ length: c.numParams }, () => 6 * r() - 3);
      const inputs = Array.from({ length: B * n }, () => 4 * r());
      const g = Array.from({ length: B * nObs }, () => r() - 0.5);
      const rq = req(c, params, inputs, B);
      const adj = await f64.vjp(rq, g);
      const fd = await finiteDifferenceJacobian(async (q) => (await f64.expval(q)).expvals, rq);
      const P = c.numParams;
      for (let k = 0; k < P; k++) {
        let want = 0;
        for (let i = 0; i < B * nObs; i++) want += g[i] * fd.jParams[i * P + k];
        expect(Math.abs(adj.dParams[k] - want), `θ${k}`).toBeLessThan(1e-7);
      }
      for (let bi = 0; bi < B; bi++)
        for (let k = 0; k < n; k++) {
          let want = 0;
          for (let o = 0; o < nObs; o++) want += g[bi * nObs + o] * fd.jInputs[(bi * nObs + o) * n + k];
          expect(Math.abs(adj.dInputs[bi * n + k] - want), `x[${bi},${k}]`).toBeLessThan(1e-7);
        }
      // the backward pass that un-applies every step to ψ (used when the tape would be too large)
      const prog = compile(c);
      for (const taped of [true, false]) {
        const run = new Runner(prog, 'f64');
        run.bind(params, inputs);
        if (taped) expect(run.enableTape()).toBe(true);
        const dP = new Float64Array(P);
        const dX = new Float64Array(B * n);
        for (let b = 0; b < B; b++) {
          run.forwardRow(b, null, 0);
          run.backwardRow(b, g, b * nObs, dP, dX);
        }
        for (let k = 0; k < P; k++)
          expect(Math.abs(dP[k] - adj.dParams[k]), `taped ${taped} θ${k}`).toBeLessThan(1e-12);
        for (let i = 0; i < B * n; i++) expect(Math.abs(dX[i] - adj.dInputs[i])).toBeLessThan(1e-12);
      }
    });
  }

  it('f32 agrees with f64 on the QD-LLM shape (forward and gradient)', async () => {
    const c = qdllmLike(6, 3, true);
    const r = rng(13);
    const B = 4;
    const params = Array.from({ length: c.numParams }, () => 6 * r() - 3);
    const inputs = Array.from({ length: B * 6 }, () => 4 * r());
    const g = Array.from({ length: B * 7 }, () => r() - 0.5);
    const f32 = createCpuSimulator({ precision: 'f32' });
    const a = await f64.vjp(req(c, params, inputs, B), g);
    const b = await f32.vjp(req(c, params, inputs, B), g);
    for (let i = 0; i < a.expvals.length; i++)
      expect(Math.abs(a.expvals[i] - b.expvals[i])).toBeLessThan(1e-5);
    for (let i = 0; i < a.dParams.length; i++)
      expect(Math.abs(a.dParams[i] - b.dParams[i])).toBeLessThan(1e-4);
  });
});

describe('worker threads', () => {
  it('keep the process alive while a threaded batch is in flight (top-level await in a child process)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qlab-threads-'));
    const sim = new URL('../../../core/quantum/cpu/simulator.ts', import.meta.url).href;
    const circ = new URL('../../../core/quantum/circuit.ts', import.meta.url).href;
    const file = join(dir, 'run.mts');
    writeFileSync(
      file,
      `import { createCpuSimulator } from ${JSON.stringify(sim)};
import { CircuitBuilder } from ${JSON.stringify(circ)};
const b = new CircuitBuilder(3, 1);
b.gate('RX', [0], [b.x(0)]).gate('CNOT', [0, 1]).gate('RY', [2], [b.p()]);
const c = b.build();
const s = createCpuSimulator({ precision: 'f64', threads: 2 });
const B = 128;
const r = await s.expval({ circuit: c, params: [0.4], inputs: Array.from({ length: B }, (_, i) => i / B), batch: B });
process.stdout.write(r.info.mode + ' ' + r.expvals.length + ' ' + r.expvals[3 * 5].toFixed(12));
`,
    );
    try {
      const out = execFileSync(process.execPath, ['--import', 'tsx', file], {
        cwd: fileURLToPath(new URL('../../..', import.meta.url)),
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(out).toBe(`wasm-simd-threads ${3 * 128} ${Math.cos(5 / 128).toFixed(12)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 70_000);
});
