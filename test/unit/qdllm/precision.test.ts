import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MetricPoint } from '../../../core/methods/job';
import { QdllmConfigSchema, runQdllm } from '../../../core/methods/qdllm';
import { fakeJobContext } from '../../helpers/job-context';
import { tinyQdllm } from '../../helpers/tiny-configs';

const cacheDir = mkdtempSync(join(tmpdir(), 'qdllm-precision-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

const context = () => fakeJobContext(cacheDir, 3);

// A tiny teacher (built once, then read from the cache) and a 5-qubit student: wide enough for the SIMD kernels.
const config = (precision: 'f32' | 'f64') =>
  QdllmConfigSchema.parse(
    tinyQdllm({
      qubits: 5,
      layers: 2,
      epochs: 2,
      precision,
      mlp: { enabled: false },
      transformerStudent: { enabled: false },
    }),
  );

describe('qdllm precision', () => {
  it('trains the quantum student in f32 and f64 (both wasm-simd) to close, not identical, curves', async () => {
    const a = context();
    const ra = await runQdllm(config('f32'), a.ctx);
    const b = context();
    const rb = await runQdllm(config('f64'), b.ctx);
    expect(ra.backend).toEqual({ backend: 'cpu', mode: 'wasm-simd', precision: 'f32', qubits: 5 });
    expect(rb.backend).toEqual({ backend: 'cpu', mode: 'wasm-simd', precision: 'f64', qubits: 5 });
    expect(ra.summary.simulator).toBe('cpu/wasm-simd f32 (5 qubits)');
    expect(a.logs).toContain('info: quantum circuits ran on cpu/wasm-simd f32 (5 qubits)');
    const setup = ra.report!.find((s) => s.title === 'Setup');
    expect(setup?.type === 'text' && setup.text).toMatch(
      /Simulation: cpu\/wasm-simd f32 \(5 qubits\); complex64/,
    );

    // every seed's and candidate's per-step loss, in the order trained
    const curve = (ps: MetricPoint[]) =>
      ps.filter((p) => /^quantum\/seed\d+\/lr\d+\/step_loss$/.test(p.key)).map((p) => p.value);
    const ca = curve(a.points);
    const cb = curve(b.points);
    expect(ca.length).toBeGreaterThan(4);
    expect(ca).toHaveLength(cb.length);
    ca.forEach((v, i) => expect(Math.abs(v - cb[i]), `step ${i}`).toBeLessThan(1e-4 * Math.abs(cb[i])));
    expect(ca).not.toEqual(cb);
    expect(
      Math.abs(Number(ra.summary.quantum_test_acc) - Number(rb.summary.quantum_test_acc)),
    ).toBeLessThanOrEqual(1 / 8);
  }, 60_000);
});
