// The gpu.js backend against an independent f64 dense reference: webasm always, webgpu through Dawn
// on Mesa llvmpipe when an adapter can be created here (skipped with the reason printed otherwise).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CircuitBuilder,
  CircuitError,
  GATES,
  GATE_NAMES,
  type Angle,
  type Circuit,
  type GateName,
  type PauliTerm,
} from '../../../core/quantum/circuit';
import { createGpuSimulator, type GpuSimulator } from '../../../core/quantum/gpu/simulator';
import { mulberry32 as rng } from '../../helpers/quantum';
import { refExpvals, refProbs, refState, refVjpFd } from './reference';

function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what: string,
): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  expect(worst, `${what}: worst difference at [${at}]: ${actual[at]} vs ${expected[at]}`).toBeLessThanOrEqual(
    tol,
  );
}

/** A random circuit over every gate kind, with const/param/input angles and random Pauli observables. */
function randomCircuit(
  seed: number,
  qubits: number,
  gates: number,
  withAmplitude: boolean,
): { circuit: Circuit; params: number[]; inputs: number[]; batch: number } {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const numInputs = 4;
  const cb = new CircuitBuilder(qubits, numInputs);
  if (withAmplitude) cb.amplitude([0, 1], 0, 3);
  for (let w = 0; w < qubits; w++) cb.gate('RY', [w], [cb.x(w % numInputs, 0.8)]);
  for (let i = 0; i < gates; i++) {
    const gate = i < GATE_NAMES.length ? GATE_NAMES[(i + seed) % GATE_NAMES.length] : pick(GATE_NAMES);
    const spec = GATES[gate];
    const wires = [...Array(qubits).keys()].sort(() => r() - 0.5).slice(0, spec.wires);
    const angles: Angle[] = Array.from({ length: spec.angles }, () => {
      const k = r();
      if (k < 0.45) return cb.p(r() < 0.5 ? undefined : 0.5 + r());
      if (k < 0.8) return cb.x(Math.floor(r() * numInputs), r() < 0.5 ? undefined : -1.3);
      return cb.c(6 * r() - 3);
    });
    cb.gate(gate, wires, angles);
  }
  const terms: PauliTerm[] = [];
  for (let t = 0; t < 3; t++) {
    const ops = [...Array(qubits).keys()]
      .filter(() => r() < 0.6)
      .map((wire) => ({ wire, pauli: pick(['X', 'Y', 'Z'] as const) }));
    terms.push({ coeff: 2 * r() - 1, ops });
  }
  terms.push({ ops: [{ wire: 0, pauli: 'Z' }] });
  cb.observe(terms);
  const circuit = cb.build();
  const batch = 3;
  const params = Array.from({ length: circuit.numParams }, () => 6 * r() - 3);
  const inputs = Array.from({ length: batch * circuit.numInputs }, () => 2 * r() - 1);
  return { circuit, params, inputs, batch };
}

const webgpuProbe = await createGpuSimulator({ mode: 'webgpu' });
const webgpuOk = webgpuProbe.info.mode === 'webgpu';
webgpuProbe.dispose();
if (!webgpuOk) console.warn(`quantum-gpu: skipping webgpu mode: ${webgpuProbe.info.fallbackReason}`);

const modes = [
  { mode: 'webasm' as const, run: true, executors: ['fused-sync', 'fused-threaded'] },
  { mode: 'webgpu' as const, run: webgpuOk, executors: ['fused-encoder'] },
];

for (const { mode, run, executors } of modes) {
  describe.skipIf(!run)(`gpu simulator, ${mode} mode`, () => {
    let sim: GpuSimulator;
    beforeAll(async () => {
      sim = await createGpuSimulator({ mode });
    });
    afterAll(() => sim.dispose());

    it('reports backend, the mode that ran, f32 and a fused pipeline', async () => {
      const c = new CircuitBuilder(1).gate('RX', [0], [0.4]).build();
      const r = await sim.expval({ circuit: c, params: [], inputs: [], batch: 1 });
      expect(r.info).toEqual({ backend: 'gpu', mode, precision: 'f32' });
      expect(sim.info.mode).toBe(mode);
      expect(executors).toContain(sim.lastRun?.executorKind);
      expect(sim.lastRun?.fallbackReason).toBeNull();
    });

    it('analytic cases: ⟨Z⟩ = cos θ, d⟨Z⟩/dθ = −sin θ, Bell probabilities', async () => {
      const cb = new CircuitBuilder(1);
      const c = cb.gate('RX', [0], [cb.p()]).build();
      for (const t of [0.3, 1.7, -2.4]) {
        const r = await sim.vjp({ circuit: c, params: [t], inputs: [], batch: 1 }, [1]);
        expect(r.expvals[0]).toBeCloseTo(Math.cos(t), 5);
        expect(r.dParams[0]).toBeCloseTo(-Math.sin(t), 4);
      }
      const bell = new CircuitBuilder(2).gate('H', [0]).gate('CNOT', [0, 1]).build();
      const p = await sim.probs({ circuit: bell, params: [], inputs: [], batch: 2 });
      expectClose(p, [0.5, 0, 0, 0.5, 0.5, 0, 0, 0.5], 1e-6, 'Bell probs');
    });

    it('every gate of GATES gives the reference state (angles from params and inputs)', async () => {
      // one circuit holding every gate, behind a layer that makes the state generic
      const cb = new CircuitBuilder(3, 2);
      for (let w = 0; w < 3; w++) cb.gate('U3', [w], [0.3 + w, -0.7 * w, 1.1]);
      const perGate: GateName[] = [];
      GATE_NAMES.forEach((gate, i) => {
        const spec = GATES[gate];
        const wires = [
          [0, 1, 2],
          [2, 0, 1],
          [1, 2, 0],
        ][i % 3].slice(0, spec.wires);
        const angles = Array.from({ length: spec.angles }, (_, j) =>
          (i + j) % 2 === 0 ? cb.p() : cb.x((i + j) % 2, 0.9),
        );
        cb.gate(gate, wires, angles);
        perGate.push(gate);
      });
      const c = cb.build();
      expect(new Set(perGate).size).toBe(GATE_NAMES.length);
      const params = Array.from({ length: c.numParams }, (_, i) => Math.sin(3.1 * i + 0.4) * 2);
      const inputs = [0.3, -1.2, 0.8, 0.5];
      // every prefix would be a new trace; instead compare the final state and the state of each single-gate circuit
      const st = await sim.state({ circuit: c, params, inputs, batch: 2 });
      for (let b = 0; b < 2; b++)
        expectClose(st.slice(b * 16, b * 16 + 16), refState(c, params, inputs, b), 1e-5, `state row ${b}`);
    });

    it('each gate alone matches its reference on a generic 3-qubit state', async () => {
      for (const gate of GATE_NAMES) {
        const spec = GATES[gate];
        const cb = new CircuitBuilder(3, 1);
        cb.gate('U3', [0], [0.4, 0.2, -0.3])
          .gate('U3', [1], [1.2, -0.9, 0.5])
          .gate('U3', [2], [2.1, 0.3, 0.8]);
        cb.gate(
          gate,
          [2, 0, 1].slice(0, spec.wires),
          Array.from({ length: spec.angles }, (_, j) => (j === 0 ? cb.x(0) : 0.37 * (j + 1))),
        );
        const c = cb.build();
        const inputs = [0.9, -0.6];
        const st = await sim.state({ circuit: c, params: [], inputs, batch: 2 });
        for (let b = 0; b < 2; b++)
          expectClose(st.slice(b * 16, b * 16 + 16), refState(c, [], inputs, b), 1e-5, `${gate} row ${b}`);
      }
    });

    for (const [seed, amp] of [
      [1, false],
      [2, true],
      [3, false],
    ] as const) {
      it(`random circuit ${seed}${amp ? ' with amplitude encoding' : ''}: expvals, probs, norms and vjp`, async () => {
        const { circuit, params, inputs, batch } = randomCircuit(seed, 4, 36, amp);
        const req = { circuit, params, inputs, batch };
        const ref = refExpvals(circuit, params, inputs, batch);
        const ev = await sim.expval(req);
        expectClose(ev.expvals, ref, 1e-4, 'expvals');
        if (amp) {
          for (let b = 0; b < batch; b++)
            expect(ev.norms[b]).toBeCloseTo(
              Math.hypot(inputs[4 * b], inputs[4 * b + 1], inputs[4 * b + 2]),
              12,
            );
        }
        const wires = [2, 0];
        expectClose(
          await sim.probs(req, wires),
          refProbs(circuit, params, inputs, batch, wires),
          1e-5,
          'probs',
        );
        const g = Array.from(ref, (_, i) => Math.cos(1.3 * i + seed));
        const r = await sim.vjp(req, g);
        expectClose(r.expvals, ref, 1e-4, 'vjp expvals');
        const fd = refVjpFd(circuit, params, inputs, batch, g);
        expectClose(r.dParams, fd.dParams, 1e-3, 'dParams');
        expectClose(r.dInputs, fd.dInputs, 1e-3, 'dInputs');
      });
    }

    it('splits batches into padded chunks and gives the same numbers', async () => {
      // 2^9 floats per call; this circuit's per-row matrices take ~150 floats a row, so 7 rows need 3 calls
      const small = await createGpuSimulator({ mode, maxFloats: 2 ** 9 });
      try {
        const { circuit, params, inputs } = randomCircuit(5, 3, 12, false);
        const batch = 7;
        const xs = Array.from(
          { length: batch * circuit.numInputs },
          (_, i) => inputs[i % inputs.length] * (1 + 0.1 * i),
        );
        const req = { circuit, params, inputs: xs, batch };
        const ref = refExpvals(circuit, params, xs, batch);
        const g = Array.from(ref, (_, i) => Math.sin(i + 0.5));
        const r = await small.vjp(req, g);
        expect(small.lastRun!.chunks).toBeGreaterThan(1);
        expect(small.lastRun!.rowsPerChunk * batch).toBeLessThan(batch * batch);
        expect(small.lastRun!.rowsPerChunk * small.lastRun!.chunks).toBeGreaterThanOrEqual(batch);
        expectClose(r.expvals, ref, 1e-4, 'chunked expvals');
        const fd = refVjpFd(circuit, params, xs, batch, g);
        expectClose(r.dParams, fd.dParams, 1e-3, 'chunked dParams');
        expectClose(r.dInputs, fd.dInputs, 1e-3, 'chunked dInputs');
        const st = await small.state(req);
        expect(small.lastRun!.chunks).toBeGreaterThan(1);
        for (let b = 0; b < batch; b++)
          expectClose(
            st.slice(b * 16, b * 16 + 16),
            refState(circuit, params, xs, b),
            1e-5,
            `chunked state ${b}`,
          );
      } finally {
        small.dispose();
      }
    });

    it('refuses bad input with a message naming the field', async () => {
      const cb = new CircuitBuilder(2, 2);
      const late = cb.gate('H', [0]).amplitude([0], 0, 2).build();
      await expect(sim.expval({ circuit: late, params: [], inputs: [1, 1], batch: 1 })).rejects.toThrow(
        CircuitError,
      );
      await expect(sim.expval({ circuit: late, params: [], inputs: [1, 1], batch: 1 })).rejects.toThrow(
        /ops\[1\]\.wires/,
      );
      const amp = new CircuitBuilder(1, 2).amplitude([0], 0, 2).build();
      await expect(sim.expval({ circuit: amp, params: [], inputs: [1, 0, 0, 0], batch: 2 })).rejects.toThrow(
        /inputs row 1/,
      );
      const p = new CircuitBuilder(1);
      const withParam = p.gate('RX', [0], [p.p()]).build();
      await expect(sim.expval({ circuit: withParam, params: [], inputs: [], batch: 1 })).rejects.toThrow(
        /^params: need 1 values, got 0/,
      );
      await expect(
        sim.vjp({ circuit: withParam, params: [1], inputs: [], batch: 1 }, [1, 2]),
      ).rejects.toThrow(/dExpvals/);
      await expect(sim.probs({ circuit: withParam, params: [1], inputs: [], batch: 1 }, [1])).rejects.toThrow(
        /wires\[0\]/,
      );
    });
  });
}

describe('gpu simulator mode selection', () => {
  it("'auto' picks webgpu when an adapter answers and otherwise says why it fell back", async () => {
    const sim = await createGpuSimulator();
    try {
      if (webgpuOk) expect(sim.info.mode).toBe('webgpu');
      else {
        expect(['webasm', 'cpu']).toContain(sim.info.mode);
        expect(sim.info.fallbackReason).toMatch(/WebGPU unavailable/);
      }
    } finally {
      sim.dispose();
    }
  });

  it("'cpu' runs gpu.js's cpu kernels and agrees with the reference", async () => {
    const sim = await createGpuSimulator({ mode: 'cpu' });
    try {
      const { circuit, params, inputs, batch } = randomCircuit(7, 3, 10, false);
      const r = await sim.expval({ circuit, params, inputs, batch });
      expect(r.info.mode).toBe('cpu');
      expectClose(r.expvals, refExpvals(circuit, params, inputs, batch), 1e-4, 'cpu-mode expvals');
    } finally {
      sim.dispose();
    }
  });
});
