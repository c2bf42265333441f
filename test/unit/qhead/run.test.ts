import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobResult, MetricPoint } from '../../../core/methods/job';
import { qheadKind } from '../../../core/methods/qhead';
import { buildEncoder } from '../../../core/methods/qhead/encoder';
import { QheadConfigSchema } from '../../../core/methods/qhead/schema';
import { fakeJobContext } from '../../helpers/job-context';
import { tinyQhead } from '../../helpers/tiny-configs';

const root = mkdtempSync(join(tmpdir(), 'qhead-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const context = (seed: number) => fakeJobContext(join(root, 'cache'), seed, { workDir: root });

const tiny = tinyQhead(3);

describe('qhead end to end (tiny)', () => {
  let first: JobResult;
  let firstMetrics: MetricPoint[];

  it('runs heads, baselines, sweep and energy and reports every metric', async () => {
    const cfg = QheadConfigSchema.parse({
      ...tiny,
      sweep: { design: 'full', factors: { qubits: [2, 3], reuploads: [1, 2] }, epochs: 1 },
      energy: { qubits: [3, 4, 5], repeats: 1, batch: 2, extrapolateTo: 12 },
    });
    const { ctx, points: metrics, messages: logs, artifacts } = context(5);
    first = await qheadKind.run(cfg, ctx);
    firstMetrics = metrics;
    const s = first.summary;
    for (const k of [
      'quantum_test_acc',
      'quantum_test_acc_std',
      'quantum_test_acc_ci95',
      'quantum_f1_macro',
      'logreg_test_acc',
      'mlp_test_acc',
      'logreg_vs_quantum_p',
      'mlp_params',
    ])
      expect(s[k], k).toBeTypeOf('number');
    expect(s.embedding_dim).toBe(16);
    // 5 qubits for 16 values + the bias amplitude; Module 2: 3·(1+1); Linear (1 + 5)·4 + 4
    expect(s.quantum_params).toBe(5 + 6 + 28);
    expect(s.crossover_forward_qubits).toBeDefined();
    const keys = new Set(metrics.map((m) => m.key));
    for (const k of [
      'encoder/lm_loss',
      'quantum/seed0/lr1/train_loss',
      'quantum/seed0/lr0/val_acc',
      'quantum/seed1/test_acc',
      'logreg/seed0/lr2/train_acc',
      'mlp/seed1/test_acc',
      'sweep/p0/seed0/train_loss',
      'sweep/p3/seed0/val_acc',
      'sweep/val_acc',
      'energy/sim_forward_J',
      'energy/qpu_train_J',
      'energy/measured_forward_s',
    ])
      expect(keys.has(k), k).toBe(true);
    // test is read once per model and seed, never by the sweep (its points read validation)
    const testKeys = metrics.filter((m) => m.key.endsWith('test_acc')).map((m) => m.key);
    expect(testKeys.sort()).toEqual(
      ['logreg', 'mlp', 'quantum'].flatMap((m) => [`${m}/seed0/test_acc`, `${m}/seed1/test_acc`]),
    );
    expect(metrics.filter((m) => m.key === 'energy/qpu_forward_J').map((m) => m.step)).toEqual(
      Array.from({ length: 10 }, (_, i) => i + 3),
    );
    const titles = (first.report ?? []).map((r) => r.title);
    expect(titles.some((t) => t.startsWith('Main effects'))).toBe(true);
    expect(titles.some((t) => t.startsWith('Energy per sample'))).toBe(true);
    const table = first.report![0];
    expect(table.type).toBe('table');
    if (table.type === 'table') {
      expect(table.rows.map((r) => String(r[0]).split(' ')[0])).toEqual([
        'Bag-of-words',
        'quantum',
        'logistic',
        'MLP',
      ]);
      expect(String(table.rows[1][2])).toMatch(/^\d\.\d{4} ± \d\.\d{4}$/);
      expect(table.columns).toContain('accuracy 95% CI (Wilson, test items)');
    }
    const me = first.report!.find((r) => r.title.startsWith('Main effects'));
    if (me?.type === 'table')
      expect(me.rows.map((r) => `${r[0]}=${r[1]}`)).toEqual([
        'qubits=2',
        'qubits=3',
        'reuploads=1',
        'reuploads=2',
      ]);
    expect(artifacts).toEqual(['test-predictions.csv', 'qhead-results.json']);
    expect(first.summary.split_overlap_exact).toBe(0);
    expect(Number(first.summary.bow_test_acc)).toBeGreaterThanOrEqual(0);
    expect(Number(first.summary.mlp_vs_quantum_boot_p)).toBeGreaterThanOrEqual(0);
    expect(titles.some((t) => t.startsWith('Paired comparison on the'))).toBe(true);
    expect(logs.some((l) => l.startsWith('encoder: BPE'))).toBe(true);
  });

  it('reads the embeddings from the cache on a second run and reproduces the first for the same seed', async () => {
    const cfg = QheadConfigSchema.parse({ ...tiny, energy: { enabled: false } });
    const { ctx, points: metrics, messages: logs } = context(5);
    const r = await qheadKind.run(cfg, ctx);
    expect(logs.filter((l) => /from cache/.test(l))).toHaveLength(3);
    expect(logs.some((l) => l.startsWith('encoder: BPE'))).toBe(false);
    expect(r.summary.quantum_test_acc).toBe(first.summary.quantum_test_acc);
    const loss = (ms: MetricPoint[]) =>
      ms.filter((m) => m.key === 'quantum/seed1/lr1/train_loss').map((m) => m.value);
    expect(loss(metrics)).toEqual(loss(firstMetrics));
  });

  it('trains with shots and parameter shift, reproducibly for a seed', async () => {
    const cfg = QheadConfigSchema.parse({
      ...tiny,
      seeds: 1,
      epochs: 1,
      shots: 64,
      baselines: false,
      energy: { enabled: false },
    });
    const a = context(11);
    const b = context(11);
    const ra = await qheadKind.run(cfg, a.ctx);
    await qheadKind.run(cfg, b.ctx);
    expect(String(ra.summary.simulator)).toMatch(/shots\(64\)/);
    const pick = (ms: MetricPoint[]) => ms.filter((m) => m.key.startsWith('quantum/')).map((m) => m.value);
    expect(pick(a.points).length).toBeGreaterThan(0);
    expect(pick(a.points)).toEqual(pick(b.points));
  });

  it('a GGUF encoder without node-llama-cpp fails with one clear message', async () => {
    const enc = (path: string) =>
      buildEncoder({ type: 'gguf', path, maxChars: 10 }, new Set(), { info: () => {} });
    await expect(enc('/nonexistent.gguf')).rejects.toThrow(/^encoder\.path: no file at \/nonexistent\.gguf/);
    const dir = mkdtempSync(join(tmpdir(), 'qlab-gguf-'));
    const fake = join(dir, 'fake.gguf');
    writeFileSync(fake, 'GGUF\u0003\u0000\u0000\u0000');
    // node-llama-cpp missing (an empty QLAB_NODE_LLAMA_CPP, whatever this machine has installed)
    const saved = process.env.QLAB_NODE_LLAMA_CPP;
    process.env.QLAB_NODE_LLAMA_CPP = dir;
    try {
      await expect(enc(fake)).rejects.toThrow(/install node-llama-cpp to use a GGUF/);
    } finally {
      if (saved === undefined) delete process.env.QLAB_NODE_LLAMA_CPP;
      else process.env.QLAB_NODE_LLAMA_CPP = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
