import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QdllmConfigSchema, runQdllm } from '../../../core/methods/qdllm';
import type { Parameter } from '../../../core/nn/tensor';
import { fakeJobContext } from '../../helpers/job-context';
import { tinyQdllm } from '../../helpers/tiny-configs';

const fakeContext = (cacheDir: string) => fakeJobContext(cacheDir, 3);

// Tiny everything: a 1-layer 16-wide teacher pretrained 8 steps, 2 qubits × 1 layer, 20 samples per class.
const tiny = QdllmConfigSchema.parse(tinyQdllm());

describe('qdllm end to end', () => {
  it('runs, keeps the teacher frozen, caches it, and rebuilds a corrupt cache', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'qdllm-'));
    const run1 = fakeContext(cacheDir);
    let teacher: Parameter[] = [];
    let snapshot: Float32Array[] | Float64Array[] = [];
    let checkedAfter = false;
    const r1 = await runQdllm(tiny, run1.ctx, {
      onTeacherBuilt(params) {
        teacher = params;
        snapshot = params.map((p) => p.data.slice()) as Float64Array[];
      },
      afterDistillation() {
        // bit-identical: compare the raw bytes of every teacher tensor
        teacher.forEach((p, i) => {
          const a = new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength);
          const b = new Uint8Array(snapshot[i].buffer);
          expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
          expect(p.frozen).toBe(true);
        });
        checkedAfter = true;
      },
    });
    expect(teacher.length).toBeGreaterThan(0);
    expect(checkedAfter).toBe(true);
    expect(r1.summary.teacher_cache).toBe('miss');
    expect(String(r1.summary.teacher_frozen)).toMatch(/^verified/);

    // every model, every metric
    for (const m of ['quantum', 'mlp', 'transformer']) {
      for (const k of [
        'test_acc',
        'test_acc_std',
        'f1_macro',
        'params',
        'train_seconds',
        'infer_ms_per_sample',
      ])
        expect(Number.isFinite(Number(r1.summary[`${m}_${k}`])), `${m}_${k}`).toBe(true);
      for (const k of [
        'seed0/lr0/val_acc',
        'seed1/lr2/val_acc',
        'seed0/lr1/train_loss',
        'seed1/test_acc',
        'seed0/test_f1_macro',
      ])
        expect(
          run1.points.some((p) => p.key === `${m}/${k}`),
          `${m}/${k}`,
        ).toBe(true);
      // per batch step: each seed's own series from step 0, the chosen candidate's under the plain key
      const steps = (key: string) => run1.points.filter((p) => p.key === key).map((p) => p.step);
      for (const k of [0, 1]) {
        const chosen = steps(`${m}/seed${k}/step_loss`);
        expect(chosen[0], `${m}/seed${k}/step_loss`).toBe(0);
        expect(chosen).toEqual(steps(`${m}/seed${k}/lr0/step_loss`));
      }
      expect(run1.points.some((p) => p.key === `${m}/train_loss`)).toBe(false);
    }
    expect(r1.summary.quantum_params).toBe(r1.summary.quantum_params_formula);
    expect(Math.abs(Number(r1.summary.mlp_params) - Number(r1.summary.quantum_params))).toBeLessThan(20);
    // the reference, the split check, the tuned learning rates, the per-item predictions
    for (const k of [
      'bow_test_acc',
      'bow_test_acc_wilson_lo',
      'quantum_test_acc_wilson_hi',
      'quantum_f1_pos',
    ])
      expect(Number.isFinite(Number(r1.summary[k])), k).toBe(true);
    for (const k of ['mlp_vs_quantum_boot_p', 'transformer_vs_quantum_mcnemar_p'])
      expect(Number(r1.summary[k])).toBeGreaterThanOrEqual(0);
    expect(r1.summary.split_overlap_exact).toBe(0);
    expect(String(r1.summary.quantum_lr)).toMatch(/^(0.018|0.06|0.18)/);
    expect(run1.artifacts).toContain('test-predictions.csv');
    expect(r1.report!.some((s) => s.title.startsWith('Paired comparison on the 8 test items'))).toBe(true);
    const main = r1.report!.find((s) => s.title.startsWith('QD-LLM on'))!;
    expect(main.type).toBe('table');
    if (main.type === 'table') {
      expect(main.rows).toHaveLength(5); // bag-of-words reference, teacher, quantum, mlp, transformer
      expect(String(main.rows[0][0])).toMatch(/^Bag-of-words/);
      expect(main.columns).toContain('accuracy 95% CI (Wilson, test items)');
      expect(main.columns).toContain('F1 (positive class)');
      for (const col of [
        'accuracy',
        'F1 (weighted)',
        'Acc/Param',
        'Acc/T_kd (1/s)',
        'inference / sample (ms)',
        'peak RSS (MiB)',
      ])
        expect(main.columns).toContain(col);
      expect(String(main.rows[2][4])).toMatch(/^\d\.\d{4} ± \d\.\d{4}$/);
    }
    const cm = r1.report!.find((s) => s.title.startsWith('Confusion'))!;
    expect(cm.type === 'table' && cm.rows.length).toBe(4 * 2);
    if (cm.type === 'table') {
      // each student's matrix sums to (test samples × seeds)
      const quantumCells = cm.rows
        .filter((r) => String(r[0]).startsWith('QD-LLM'))
        .flatMap((r) => r.slice(2) as number[]);
      expect(quantumCells.reduce((a, b) => a + b, 0)).toBe(2 * 8);
    }

    // second run: every split from the cache, the teacher never built, same teacher numbers
    const run2 = fakeContext(cacheDir);
    let built = false;
    const r2 = await runQdllm(tiny, run2.ctx, { onTeacherBuilt: () => (built = true) });
    expect(built).toBe(false);
    expect(r2.summary.teacher_cache).toBe('hit');
    expect(r2.summary.teacher_test_acc).toBe(r1.summary.teacher_test_acc);
    expect(r2.summary.quantum_test_acc).toBe(r1.summary.quantum_test_acc);

    // a corrupt cache file is ignored (with a warning) and rewritten
    const dir = join(cacheDir, 'qdllm');
    const file = readdirSync(dir).find((f) => f.endsWith('-validation.bin'))!;
    const bytes = readFileSync(join(dir, file));
    bytes[bytes.length - 3] ^= 0xff;
    writeFileSync(join(dir, file), bytes);
    const run3 = fakeContext(cacheDir);
    const r3 = await runQdllm(tiny, run3.ctx);
    expect(r3.summary.teacher_cache).toBe('miss');
    expect(run3.logs.some((l) => /^warn: teacher cache .*ignored \(checksum mismatch\)/.test(l))).toBe(true);
    expect(r3.summary.teacher_test_acc).toBe(r1.summary.teacher_test_acc);
    const run4 = fakeContext(cacheDir);
    expect((await runQdllm(tiny, run4.ctx)).summary.teacher_cache).toBe('hit');
  }, 60_000);

  it('vary: each seed draws its own split and trains its own teacher, and the report says so', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'qdllm-'));
    const f = fakeContext(cacheDir);
    const r = await runQdllm(
      QdllmConfigSchema.parse({
        ...tinyQdllm(),
        lrFactors: [1],
        vary: ['split', 'teacher'],
        transformerStudent: { ...tiny.transformerStudent, enabled: false },
      }),
      f.ctx,
    );
    expect(r.summary.varied).toBe('student initialisation, batch order, split, teacher');
    expect(Number.isFinite(Number(r.summary.quantum_test_acc_std))).toBe(true);
    expect(Number(r.summary.mlp_vs_quantum_p)).toBeGreaterThanOrEqual(0);
    expect(r.summary.split_overlap_exact).toBe(0);
    const table = r.report![0];
    expect(table.type === 'table' && table.columns.slice(1, 3)).toEqual(['repetition 1', 'repetition 2']);
    // one teacher per repetition (seeds 0 and 1, each on its own split): two cached test splits
    expect(readdirSync(join(cacheDir, 'qdllm')).filter((n) => n.endsWith('-test.bin'))).toHaveLength(2);
    expect(f.points.some((p) => p.key === 'quantum/seed1/test_acc')).toBe(true);
    expect(f.artifacts).toEqual(['rep0-test-predictions.csv', 'rep1-test-predictions.csv']);
    expect(
      QdllmConfigSchema.safeParse({ teacher: { source: 'gguf', modelPath: '/m.gguf' }, vary: ['teacher'] })
        .success,
    ).toBe(false);
  }, 60_000);

  it('runs the loss ablation and refuses more classes than qubits in an imported file', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'qdllm-'));
    const abl = await runQdllm(
      {
        ...tiny,
        seeds: 1,
        ablation: true,
        mlp: { ...tiny.mlp, enabled: false },
        transformerStudent: { ...tiny.transformerStudent, enabled: false },
      },
      fakeContext(cacheDir).ctx,
    );
    const table = abl.report!.find((s) => s.title.startsWith('Loss ablation'));
    expect(table?.type === 'table' && table.rows.map((r) => r[0])).toEqual([
      'CE',
      'T²·KL',
      'JS',
      '(1−α)CE + α(T²KL + JS), α = 0.9',
    ]);
    const csv = join(cacheDir, 'three.csv');
    writeFileSync(
      csv,
      'text,label\n' + Array.from({ length: 30 }, (_, i) => `text number ${i},c${i % 3}`).join('\n'),
    );
    await expect(runQdllm({ ...tiny, dataset: csv }, fakeContext(cacheDir).ctx)).rejects.toThrow(
      /^qubits: 2 qubits cannot give the 3 classes/,
    );
    const gguf = (modelPath: string) =>
      runQdllm(
        QdllmConfigSchema.parse({ ...tiny, teacher: { source: 'gguf', modelPath } }),
        fakeContext(cacheDir).ctx,
      );
    await expect(gguf('/nonexistent.gguf')).rejects.toThrow(
      /^teacher\.modelPath: no file at \/nonexistent\.gguf/,
    );
    const notGguf = join(cacheDir, 'model.bin');
    writeFileSync(notGguf, 'PK\u0003\u0004 not a gguf');
    await expect(gguf(notGguf)).rejects.toThrow(/^teacher\.modelPath: .* is not a GGUF file/);
    // node-llama-cpp missing (an empty QLAB_NODE_LLAMA_CPP, whatever this machine has installed)
    const fake = join(cacheDir, 'fake.gguf');
    writeFileSync(fake, 'GGUF\u0003\u0000\u0000\u0000');
    const saved = process.env.QLAB_NODE_LLAMA_CPP;
    process.env.QLAB_NODE_LLAMA_CPP = mkdtempSync(join(tmpdir(), 'qlab-no-nlc-'));
    try {
      await expect(gguf(fake)).rejects.toThrow(/install node-llama-cpp to use a GGUF teacher/);
    } finally {
      if (saved === undefined) delete process.env.QLAB_NODE_LLAMA_CPP;
      else process.env.QLAB_NODE_LLAMA_CPP = saved;
    }
  }, 60_000);
});
