// The gpu backend against the CPU backend in f64 (core/quantum/cpu, written separately), on random
// circuits with params, inputs, amplitude encoding and Pauli observables. Skipped, with the reason
// printed, only while that module is absent from the checkout.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Simulator } from '../../../core/quantum/backend';
import { CircuitBuilder, GATES, GATE_NAMES, type Angle } from '../../../core/quantum/circuit';
import { createGpuSimulator } from '../../../core/quantum/gpu/simulator';

const cpuPath = fileURLToPath(new URL('../../../core/quantum/cpu/simulator.ts', import.meta.url));
const haveCpu = existsSync(cpuPath);
if (!haveCpu)
  console.warn('quantum-gpu: skipping the cpu cross-check: core/quantum/cpu/simulator.ts is absent');

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

describe.skipIf(!haveCpu)('gpu backend (webasm) vs cpu backend (f64)', () => {
  it('agrees on expvals, probs, state and vjp for random circuits', async () => {
    const mod = (await import(/* @vite-ignore */ cpuPath)) as {
      createCpuSimulator(o: { precision: 'f64' }): Simulator;
    };
    const cpu = mod.createCpuSimulator({ precision: 'f64' });
    const gpu = await createGpuSimulator({ mode: 'webasm' });
    try {
      for (const seed of [11, 12]) {
        const r = rng(seed);
        const cb = new CircuitBuilder(4, 4);
        cb.amplitude([1, 2], 0, 4);
        for (let i = 0; i < 30; i++) {
          const gate = GATE_NAMES[(i * 7 + seed) % GATE_NAMES.length];
          const spec = GATES[gate];
          const wires = [0, 1, 2, 3].sort(() => r() - 0.5).slice(0, spec.wires);
          const angles: Angle[] = Array.from({ length: spec.angles }, () =>
            r() < 0.5 ? cb.p(0.5 + r()) : r() < 0.7 ? cb.x(Math.floor(4 * r())) : cb.c(3 * r()),
          );
          cb.gate(gate, wires, angles);
        }
        cb.observe([
          { ops: [{ wire: 0, pauli: 'Z' }] },
          {
            coeff: 0.7,
            ops: [
              { wire: 1, pauli: 'X' },
              { wire: 3, pauli: 'Y' },
            ],
          },
          {
            coeff: -1.2,
            ops: [
              { wire: 2, pauli: 'Z' },
              { wire: 0, pauli: 'X' },
            ],
          },
        ]);
        const circuit = cb.build();
        const batch = 5;
        const req = {
          circuit,
          batch,
          params: Array.from({ length: circuit.numParams }, () => 4 * r() - 2),
          inputs: Array.from({ length: batch * circuit.numInputs }, () => 2 * r() - 1),
        };
        const g = Array.from({ length: batch * 3 }, () => r() - 0.5);
        const [a, b] = [await gpu.vjp(req, g), await cpu.vjp(req, g)];
        const close = (x: ArrayLike<number>, y: ArrayLike<number>, tol: number): void => {
          expect(x.length).toBe(y.length);
          for (let i = 0; i < y.length; i++)
            expect(Math.abs(x[i] - y[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(y[i])));
        };
        close(a.expvals, b.expvals, 1e-4);
        close(a.norms, b.norms, 1e-6);
        close(a.dParams, b.dParams, 1e-3);
        close(a.dInputs, b.dInputs, 1e-3);
        close(await gpu.probs(req, [3, 1]), await cpu.probs(req, [3, 1]), 1e-5);
        close(await gpu.state(req), await cpu.state(req), 1e-5);
      }
    } finally {
      gpu.dispose();
      cpu.dispose();
    }
  });
});
