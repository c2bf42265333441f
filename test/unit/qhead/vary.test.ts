import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { qheadKind } from '../../../core/methods/qhead';
import { QheadConfigSchema } from '../../../core/methods/qhead/schema';
import { repetitionReport } from '../../../core/methods/harness/vary';
import { fakeJobContext } from '../../helpers/job-context';
import { tinyQhead } from '../../helpers/tiny-configs';

const root = mkdtempSync(join(tmpdir(), 'qhead-vary-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('qhead vary: ["split"]', () => {
  it('each repetition runs on its own split and seed stream; the report tables the repetitions', async () => {
    const cfg = QheadConfigSchema.parse({
      ...tinyQhead(3),
      lrFactors: [1],
      dataSeed: 4,
      vary: ['split'],
      energy: { qubits: [3, 4, 5], repeats: 1, batch: 2, extrapolateTo: 8 },
    });
    const { ctx, points, artifacts, messages } = fakeJobContext(join(root, 'cache'), 7, { workDir: root });
    const r = await qheadKind.run(cfg, ctx);
    expect(r.summary.varied).toBe('head initialisation, batch order, split');
    expect(r.summary.repetitions).toBe(2);
    for (const k of ['quantum_test_acc', 'quantum_test_acc_std', 'logreg_vs_quantum_p', 'bow_test_acc'])
      expect(Number.isFinite(Number(r.summary[k])), k).toBe(true);
    expect(r.summary.split_overlap_exact).toBe(0);
    const table = r.report![0];
    expect(table.type).toBe('table');
    if (table.type === 'table') {
      expect(table.columns.slice(1, 3)).toEqual(['repetition 1', 'repetition 2']);
      expect(table.rows.map((row) => row[0])).toEqual(['bow', 'quantum', 'logreg', 'mlp']);
    }
    const vary = r.report!.find((s) => s.title === 'What the seeds vary');
    expect(vary?.type === 'text' && vary.text).toMatch(/Split seeds 4…5/);
    expect(vary?.type === 'text' && vary.text).toMatch(/energy timing ran in repetition 1 only/);
    // each repetition's own report, with its own split seed
    const data = r.report!.filter((s) => /^Repetition \d: Data and reference$/.test(s.title));
    expect(data.map((s) => s.type === 'text' && /dataSeed (\d)/.exec(s.text)?.[1])).toEqual(['4', '5']);
    // curves of repetition k under seed<k>; energy only once
    const keys = new Set(points.map((p) => p.key));
    expect(keys.has('quantum/seed0/test_acc') && keys.has('quantum/seed1/test_acc')).toBe(true);
    expect(points.filter((p) => p.key === 'energy/qpu_forward_J')).toHaveLength(6);
    expect(artifacts.filter((a) => a.endsWith('test-predictions.csv'))).toEqual([
      'rep0-test-predictions.csv',
      'rep1-test-predictions.csv',
    ]);
    expect(messages.length).toBeGreaterThan(0);
  }, 120_000);

  it('repetitionReport pairs against the reference over repetitions', () => {
    const run = (q: number, b: number) => ({ summary: { quantum_test_acc: q, base_test_acc: b } });
    const r = repetitionReport([run(0.8, 0.7), run(0.9, 0.7), run(0.85, 0.72)], {
      models: ['quantum', 'base', 'absent'],
      reference: 'quantum',
      referenceLabel: 'the quantum model',
      varied: ['split'],
      what: 'split',
    });
    expect(r.summary.quantum_test_acc).toBeCloseTo(0.85, 12);
    expect(r.summary.base_test_acc_std).toBeCloseTo(0.011547, 5);
    // differences 0.1, 0.2, 0.13: mean 0.1433, sd 0.0513, t = 4.84 on 2 dof → p ≈ 0.040
    expect(Number(r.summary.base_vs_quantum_p)).toBeCloseTo(0.04, 2);
    const t = r.report![0];
    expect(t.type === 'table' && t.rows.map((row) => row[0])).toEqual(['quantum', 'base']);
    expect(r.summary.split_overlap_exact).toBeUndefined();
  });
});
