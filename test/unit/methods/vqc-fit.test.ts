import { describe, expect, it } from 'vitest';
import { makeToyDataset, splitToy } from '../../../core/methods/vqc-fit/data';
import { reuploadingCircuit, vqcFitKind, VqcFitConfigSchema } from '../../../core/methods/vqc-fit';
import { fakeJobContext } from '../../helpers/job-context';

const fakeContext = (seed: number) => fakeJobContext('/tmp', seed);

describe('vqc-fit', () => {
  it('builds the re-uploading circuit with 2 trainable angles per wire per layer', () => {
    const c = reuploadingCircuit(3, 4, Math.PI);
    expect(c.numParams).toBe(3 * 4 * 2);
    expect(c.numInputs).toBe(2);
    expect(c.ops.filter((o) => o.type === 'gate' && o.gate === 'CNOT')).toHaveLength(3 * 4);
  });

  it('makes the same dataset for the same seed and disjoint splits covering every sample', () => {
    const a = makeToyDataset('moons', 50, 0.1, 3);
    const b = makeToyDataset('moons', 50, 0.1, 3);
    expect(Array.from(a.x)).toEqual(Array.from(b.x));
    const c = makeToyDataset('moons', 50, 0.1, 4);
    expect(Array.from(a.x)).not.toEqual(Array.from(c.x));
    const { train, test } = splitToy(a, 0.2, 3);
    expect(train.n + test.n).toBe(50);
    expect(test.n).toBe(10);
    for (const v of a.x) expect(Math.abs(v)).toBeLessThanOrEqual(1);
  });

  it('refuses a bad config naming the field', () => {
    const r = VqcFitConfigSchema.safeParse({ qubits: 0 });
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues[0].path).toEqual(['qubits']);
    expect(VqcFitConfigSchema.safeParse({ dataset: 'nope' }).success).toBe(false);
  });

  it('trains the circuit and a matched MLP to high accuracy on circles, reproducibly', async () => {
    const cfg = VqcFitConfigSchema.parse({ epochs: 12, samples: 120 });
    const run1 = fakeContext(5);
    const r1 = await vqcFitKind.run(cfg, run1.ctx);
    expect(r1.summary.quantum_test_acc).toBeGreaterThan(0.85);
    expect(Math.abs(Number(r1.summary.quantum_params) - Number(r1.summary.mlp_params))).toBeLessThanOrEqual(
      4,
    );
    const losses = run1.points.filter((p) => p.key === 'quantum/loss').map((p) => p.value);
    expect(losses).toHaveLength(12);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    expect(run1.progress[run1.progress.length - 1]).toBeCloseTo(1);
    const run2 = fakeContext(5);
    const r2 = await vqcFitKind.run(cfg, run2.ctx);
    expect(r2.summary.quantum_loss).toBe(r1.summary.quantum_loss);
  });

  it('stops when cancelled', async () => {
    const cfg = VqcFitConfigSchema.parse({ epochs: 50 });
    const run = fakeContext(1);
    run.controller.abort();
    await expect(vqcFitKind.run(cfg, run.ctx)).rejects.toThrow(/cancelled/);
  });
});
