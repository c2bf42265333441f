import { describe, expect, it } from 'vitest';
import { GPU_F64_MESSAGE } from '../../../core/quantum/precision';
import {
  cpuKernelMode,
  createSimulator,
  describeRan,
  ranRecord,
  recordingSimulator,
} from '../../../core/quantum/simulators';
import { QdllmConfigSchema } from '../../../core/methods/qdllm/schema';
import { QheadConfigSchema } from '../../../core/methods/qhead/schema';
import { reuploadingCircuit, vqcFitKind, VqcFitConfigSchema } from '../../../core/methods/vqc-fit';
import type { Precision } from '../../../core/quantum/backend';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import { fakeJobContext } from '../../helpers/job-context';

const context = (seed: number) => fakeJobContext('/tmp', seed);

describe('precision config field', () => {
  it('defaults to f32 in every kind that simulates circuits, and f64 is accepted', () => {
    expect(QdllmConfigSchema.parse({}).precision).toBe('f32');
    expect(QheadConfigSchema.parse({}).precision).toBe('f32');
    expect(VqcFitConfigSchema.parse({}).precision).toBe('f32');
    expect(QdllmConfigSchema.parse({ precision: 'f64' }).precision).toBe('f64');
    expect(QheadConfigSchema.parse({ precision: 'f64' }).precision).toBe('f64');
    expect(VqcFitConfigSchema.parse({ precision: 'f64' }).precision).toBe('f64');
  });

  it('refuses an unknown precision and gpu + f64, naming the precision field', () => {
    for (const schema of [QdllmConfigSchema, QheadConfigSchema, VqcFitConfigSchema]) {
      const r = schema.safeParse({ precision: 'f16' });
      expect(r.success).toBe(false);
      expect(r.error!.issues.map((i) => i.path.join('.'))).toEqual(['precision']);
    }
    for (const schema of [QdllmConfigSchema, VqcFitConfigSchema]) {
      const r = schema.safeParse({ backend: 'gpu', precision: 'f64' });
      expect(r.success).toBe(false);
      expect(r.error!.issues).toHaveLength(1);
      expect(r.error!.issues[0].path).toEqual(['precision']);
      expect(r.error!.issues[0].message).toBe(GPU_F64_MESSAGE);
      expect(schema.safeParse({ backend: 'gpu' }).success).toBe(true);
    }
  });

  it('createSimulator refuses gpu + f64 before loading the gpu backend, and an unknown precision', async () => {
    await expect(createSimulator('gpu', 'f64')).rejects.toThrow(`precision: ${GPU_F64_MESSAGE}`);
    await expect(createSimulator('cpu', 'f16' as Precision)).rejects.toThrow(
      /^precision: must be "f32" or "f64"/,
    );
    const sim = await createSimulator('cpu', 'f64');
    expect(sim.info.precision).toBe('f64');
    sim.dispose();
  });
});

describe('what ran', () => {
  it("cpuKernelMode agrees with the cpu simulator's own result info at every width, in both precisions", async () => {
    for (const precision of ['f32', 'f64'] as const) {
      const sim = createCpuSimulator({ precision });
      for (let q = 1; q <= 7; q++) {
        const c = reuploadingCircuit(q, 1, 1);
        const r = await sim.expval({
          circuit: c,
          params: new Float64Array(c.numParams).fill(0.3),
          inputs: Float64Array.of(0.1, 0.2),
          batch: 1,
        });
        expect(cpuKernelMode(precision, q), `${precision} ${q} qubits`).toBe(r.info.mode);
      }
      sim.dispose();
    }
    // the SIMD kernels (f32x4 and f64x2) start at 4 amplitudes
    expect(cpuKernelMode('f32', 1)).toBe('js');
    expect(cpuKernelMode('f64', 1)).toBe('js');
    expect(cpuKernelMode('f32', 2)).toBe('wasm-simd');
    expect(cpuKernelMode('f64', 11)).toBe('wasm-simd');
  });

  it('records the info of each result by circuit width; the record names the widest and every width', async () => {
    const { sim, ran } = recordingSimulator(createCpuSimulator({ precision: 'f32' }));
    expect(ranRecord(ran, sim.info)).toEqual(sim.info);
    for (const q of [1, 6]) {
      const c = reuploadingCircuit(q, 1, 1);
      const req = {
        circuit: c,
        params: new Float64Array(c.numParams).fill(0.2),
        inputs: Float64Array.of(0.5, -0.5),
        batch: 1,
      };
      if (q === 1) await sim.expval(req);
      else await sim.vjp(req, new Float64Array(q).fill(1));
    }
    sim.dispose();
    expect(ran.get(1)).toEqual({ backend: 'cpu', mode: 'js', precision: 'f32' });
    expect(ran.get(6)).toEqual({ backend: 'cpu', mode: 'wasm-simd', precision: 'f32' });
    expect(ranRecord(ran, sim.info)).toEqual({
      backend: 'cpu',
      mode: 'wasm-simd',
      precision: 'f32',
      qubits: 6,
      byQubits: { 6: 'wasm-simd', 1: 'js' },
    });
    expect(describeRan(ran)).toBe('cpu/wasm-simd f32 (6 qubits); cpu/js f32 (1 qubit)');
  });
});

describe('vqc-fit in f32 and f64', () => {
  const run = async (precision: Precision, qubits: number) => {
    const cfg = VqcFitConfigSchema.parse({ epochs: 8, samples: 80, qubits, precision, baseline: false });
    const c = context(5);
    const r = await vqcFitKind.run(cfg, c.ctx);
    return { r, losses: c.points.filter((p) => p.key === 'quantum/loss').map((p) => p.value) };
  };

  it('gives close, not identical, losses; the record says wasm-simd for f32 and f64 at 5 qubits', async () => {
    const a = await run('f32', 5);
    const b = await run('f64', 5);
    expect(a.r.backend).toEqual({ backend: 'cpu', mode: 'wasm-simd', precision: 'f32', qubits: 5 });
    expect(b.r.backend).toEqual({ backend: 'cpu', mode: 'wasm-simd', precision: 'f64', qubits: 5 });
    expect(a.r.summary.backend).toBe('cpu/wasm-simd f32 (5 qubits)');
    expect(a.losses).toHaveLength(8);
    // complex64 rounds each amplitude at ~6e-8: the curves agree to far better than a training step moves them
    a.losses.forEach((l, i) => expect(Math.abs(l - b.losses[i])).toBeLessThan(1e-5 * Math.abs(b.losses[i])));
    expect(a.losses).not.toEqual(b.losses);
    expect(a.r.summary.quantum_test_acc).toBe(b.r.summary.quantum_test_acc);
    // from 4 amplitudes the SIMD kernels run
    expect((await run('f32', 2)).r.backend).toMatchObject({ mode: 'wasm-simd', precision: 'f32' });
  });
});
