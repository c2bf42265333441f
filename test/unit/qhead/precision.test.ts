import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MetricPoint } from '../../../core/methods/job';
import { qheadKind, timedKernels } from '../../../core/methods/qhead';
import { module2Circuit } from '../../../core/methods/qhead/circuits';
import { amplitudeBytes, fitWidths, measureScaling } from '../../../core/methods/qhead/energy';
import { createShotSimulator, createSimulatorFor } from '../../../core/quantum/sampled-simulators';
import { QheadConfigSchema } from '../../../core/methods/qhead/schema';
import { fakeJobContext } from '../../helpers/job-context';
import { tinyQhead } from '../../helpers/tiny-configs';

const root = mkdtempSync(join(tmpdir(), 'qhead-precision-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const context = (seed: number) => fakeJobContext(join(root, 'cache'), seed, { workDir: root });

// 16-dim embeddings + the bias amplitude: Module 1 on 5 qubits; Module 2 on 5 qubits (SIMD kernels in f32)
const tiny = tinyQhead(5, { baselines: false });

describe('qhead precision', () => {
  it('exact head in f32 and f64 (both wasm-simd): close, not identical, curves; energy times the same precision', async () => {
    const energy = { qubits: [3, 4, 5, 6], repeats: 1, batch: 2, extrapolateTo: 12 };
    const a = context(5);
    const ra = await qheadKind.run(QheadConfigSchema.parse({ ...tiny, energy }), a.ctx);
    const b = context(5);
    const rb = await qheadKind.run(QheadConfigSchema.parse({ ...tiny, precision: 'f64', energy }), b.ctx);
    expect(ra.backend).toEqual({ backend: 'cpu', mode: 'wasm-simd', precision: 'f32', qubits: 5 });
    expect(rb.backend).toEqual({ backend: 'cpu', mode: 'wasm-simd', precision: 'f64', qubits: 5 });
    expect(ra.summary.simulator).toBe('cpu/wasm-simd f32 (5 qubits)');
    expect(ra.summary.scaling_kernels).toBe('cpu/wasm-simd f32 at 3–6 qubits');
    expect(rb.summary.scaling_kernels).toBe('cpu/wasm-simd f64 at 3–6 qubits');
    const text = ra.report!.find((s) => s.title.startsWith('Energy crossover'));
    expect(text?.type === 'text' && text.text).toMatch(
      /simulator in f32 \(complex64, the precision the head trains with; kernels timed: cpu\/wasm-simd f32 at 3–6 qubits\)/,
    );
    expect(
      a.messages.some(
        (l) => l.startsWith('energy: ') && l.endsWith('kernels cpu/wasm-simd f32 at 3–6 qubits'),
      ),
    ).toBe(true);

    const loss = (ms: MetricPoint[]) =>
      ms.filter((m) => m.key === 'quantum/seed1/lr1/train_loss').map((m) => m.value);
    expect(loss(a.points)).toHaveLength(2);
    loss(a.points).forEach((v, i) =>
      expect(Math.abs(v - loss(b.points)[i])).toBeLessThan(1e-4 * Math.abs(v)),
    );
    expect(loss(a.points)).not.toEqual(loss(b.points));
  }, 60_000);

  it('the noisy simulator stays f64 when f32 is asked, and says so', async () => {
    const sim = createSimulatorFor({
      shots: null,
      noise: { CNOT: 0.01 },
      trajectories: 4,
      seed: 1,
      precision: 'f32',
    });
    expect(sim.info).toMatchObject({ backend: 'cpu', mode: 'density-matrix', precision: 'f64' });
    sim.dispose();
    const c = context(5);
    const r = await qheadKind.run(
      QheadConfigSchema.parse({
        ...tiny,
        head: { qubits: 2, depth: 1, finalDepth: 0, reuploads: 1 },
        seeds: 1,
        epochs: 1,
        maxTrain: 4,
        maxTest: 4,
        noise: { CNOT: 0.01 },
        energy: { enabled: false },
      }),
      c.ctx,
    );
    expect(r.backend).toMatchObject({ mode: 'density-matrix', precision: 'f64' });
    expect(c.messages).toContain(
      'precision f32 asked, but the noisy (density-matrix / trajectory) simulator runs in f64 only',
    );
    const setup = r.report!.find((s) => s.title === 'Setup');
    expect(setup?.type === 'text' && setup.text).toMatch(
      /precision f32 asked: the noisy simulator runs in f64 only/,
    );
  }, 60_000);

  it('shot results name the kernels that computed the state, by width and precision', async () => {
    const mk = (q: number) =>
      module2Circuit({
        features: q,
        qubits: q,
        depth: 1,
        finalDepth: 0,
        reuploads: 1,
        connectivity: 1,
        measured: 1,
      });
    for (const [q, precision, mode] of [
      [5, 'f32', 'wasm-simd+shots(50)'],
      [4, 'f32', 'wasm-simd+shots(50)'],
      [5, 'f64', 'wasm-simd+shots(50)'],
    ] as const) {
      const c = mk(q);
      const sim = createShotSimulator(50, 1, precision);
      const r = await sim.expval({
        circuit: c,
        params: new Float64Array(c.numParams).fill(0.4),
        inputs: new Float64Array(2 * q).fill(0.3),
        batch: 2,
      });
      expect(r.info, `${q} ${precision}`).toMatchObject({ backend: 'cpu', mode, precision });
      sim.dispose();
    }
  });

  it('fit rule counts 8 bytes per amplitude in f32, 16 in f64', () => {
    expect(amplitudeBytes('f32')).toBe(8);
    expect(amplitudeBytes('f64')).toBe(16);
    const ns = [14, 15, 16, 17, 18, 19];
    // 512 KiB L2: f64 states outgrow it from 16 qubits (16·2^15 = 512 Ki exactly stays in), f32 from 17
    expect(fitWidths(ns, 512 * 1024, 16).widths).toEqual([16, 17, 18, 19]);
    expect(fitWidths(ns, 512 * 1024, 8).widths).toEqual([17, 18, 19]);
  });

  it('measureScaling reports the precision and per-width kernels it timed', async () => {
    const fam = { depth: 1, finalDepth: 0, reuploads: 1, connectivity: 1 };
    const cfg = { qubits: [4, 5, 6], batch: 1, repeats: 1, budgetSeconds: 10, cacheBytes: null };
    const m32 = await measureScaling(fam, cfg, undefined, 'f32');
    expect(m32.precision).toBe('f32');
    expect(m32.rows.map((r) => r.info.mode)).toEqual(['wasm-simd', 'wasm-simd', 'wasm-simd']);
    expect(timedKernels(m32)).toBe('cpu/wasm-simd f32 at 4–6 qubits');
    const m64 = await measureScaling(fam, cfg, undefined, 'f64');
    expect(m64.rows.map((r) => `${r.info.mode} ${r.info.precision}`)).toEqual([
      'wasm-simd f64',
      'wasm-simd f64',
      'wasm-simd f64',
    ]);
  });
});
