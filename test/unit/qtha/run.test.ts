// The qtha job end to end on tiny sizes: every model's series and the report tables, the frozen base byte-identical
// after every training, the test split read once per model, the classification task with a sweep of child runs,
// and configs refused by field before any work.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { groupMetricKeys } from '../../../core/api/metric-groups';
import { QthaConfigSchema, runQtha, type QthaInput } from '../../../core/methods/qtha';
import { qthaMeta } from '../../../core/methods/qtha/meta';
import { getDataset } from '../../../core/data';
import { buildModel, saveModelDir, specFromHfConfig } from '../../../core/nn/checkpoint';
import type { Parameter } from '../../../core/nn/tensor';
import { ByteLevelBpe } from '../../../core/nn/tokenizers';
import { fakeJobContext } from '../../helpers/job-context';

const TINY_BASE = {
  corpusChars: 20_000,
  vocabSize: 300,
  hiddenSize: 16,
  layers: 1,
  heads: 2,
  intermediateSize: 32,
  pretrainSteps: 4,
  pretrainSeqLen: 16,
};

export function tinyQtha(over: QthaInput = {}): QthaInput {
  return {
    base: TINY_BASE,
    targetChars: 6000,
    evalChars: 600,
    rank: 2,
    mpoWidth: 16,
    mpoBond: 2,
    steps: 6,
    warmupSteps: 2,
    evalEvery: 3,
    seqLen: 16,
    batchSize: 4,
    seeds: 2,
    lrFactors: [1],
    ...over,
  };
}

const ctxOf = () => fakeJobContext(mkdtempSync(join(tmpdir(), 'qtha-')), 5);

describe('qtha end to end', () => {
  it('lm: QTHA, LoRA r, LoRA 2r and full fine-tuning on the same batches; series, tables, frozen base', async () => {
    const run = ctxOf();
    let base: Parameter[] = [];
    let bytes: Uint8Array[] = [];
    const r = await runQtha(QthaConfigSchema.parse(tinyQtha({ full: true })), run.ctx, {
      onBase(b) {
        base = b.model.parameters();
        bytes = base.map((p) => new Uint8Array(p.data.slice().buffer));
      },
    });
    // after the run the base holds its pretrained bytes again (full fine-tuning restored, adapters removed)
    base.forEach((p, i) =>
      expect(Buffer.from(new Uint8Array(p.data.slice().buffer)).equals(Buffer.from(bytes[i])), p.name).toBe(
        true,
      ),
    );
    for (const m of ['qtha', 'lora_r', 'lora_2r', 'full'])
      for (const k of ['params', 'train_loss', 'test_loss', 'test_ppl', 'ms_per_step'])
        expect(Number.isFinite(Number(r.summary[`${m}_${k}`])), `${m}_${k}`).toBe(true);
    expect(Number(r.summary.qtha_params)).toBe(
      qthaMeta.parameterCounts(QthaConfigSchema.parse(tinyQtha()))[0].params,
    );
    expect(Number(r.summary.lora_r_params)).toBe(2 * 2 * (16 + 16)); // r(in + out) on q and v of one layer
    expect(r.summary.frozen_weights).toMatch(/^verified byte-identical after each of 6 adapter trainings/);
    for (const key of ['qtha', 'lora-r', 'lora-2r', 'full']) {
      for (const s of ['seed0/train_loss', 'seed1/val_ppl', 'seed1/test_ppl'])
        expect(
          run.points.some((p) => p.key === `${key}/${s}`),
          `${key}/${s}`,
        ).toBe(true);
      // no seed-mean copies beside the per-seed curves (the chart draws their mean): one chart per metric
      for (const s of ['train_loss', 'val_ppl'])
        expect(
          run.points.some((p) => p.key === `${key}/${s}`),
          `${key}/${s}`,
        ).toBe(false);
      // test once per model and seed
      expect(run.points.filter((p) => p.key === `${key}/seed0/test_ppl`)).toHaveLength(1);
    }
    // the run page's grouping: one train_loss and one val_ppl chart, a band per model over its seeds
    const charts = groupMetricKeys([...new Set(run.points.map((p) => p.key))].sort());
    for (const metric of ['train_loss', 'val_ppl']) {
      const mine = charts.filter((g) => g.metric === metric);
      expect(mine.map((g) => g.title)).toEqual([`*/*/${metric}`]);
      expect(new Set(mine[0].series.map((s) => s.key.split('/')[0]))).toEqual(
        new Set(['qtha', 'lora-r', 'lora-2r', 'full']),
      );
    }
    // same batches for every model: the step-1 loss of the zero-initialised adapters equals the base's loss
    const first = (key: string) =>
      run.points.find((p) => p.key === `${key}/seed0/train_loss` && p.step === 1)!.value;
    expect(first('qtha')).toBe(first('lora-r'));
    expect(first('lora-2r')).toBe(first('lora-r'));
    const [table, paired, curve, setup] = r.report!;
    expect(table.type === 'table' && table.rows.length).toBe(5); // base + 4 models
    if (table.type === 'table') {
      expect(table.columns).toContain('reduction vs LoRA 2r (%)');
      expect(table.rows[1][0]).toMatch(/^QTHA ABC/);
    }
    expect(paired.type === 'table' && paired.rows.length).toBe(3);
    expect(curve.type === 'table' && curve.rows.map((x) => x[0])).toEqual([3, 6]);
    expect(setup.type).toBe('text');
  });

  it('classification with an ablation sweep of child runs, read on validation only', async () => {
    const run = ctxOf();
    const r = await runQtha(
      QthaConfigSchema.parse(
        tinyQtha({
          task: 'classification',
          samplesPerClass: 10,
          promptTokens: 12,
          seeds: 1,
          lora2R: false,
          lrFactors: [0.5, 2],
          sweep: { architectures: ['ABC', 'ABC-silu', 'A'], ranks: [] },
        }),
      ),
      run.ctx,
    );
    expect(Number(r.summary.qtha_test_acc)).toBeGreaterThanOrEqual(0);
    expect(Number(r.summary.base_test_acc)).toBeGreaterThanOrEqual(0);
    const ablation = r.report!.find((s) => s.title.startsWith('Ablation'));
    expect(ablation?.type === 'table' && ablation.rows.map((x) => [x[0], x[2]])).toEqual([
      ['A', 'classical'],
      ['ABC', 'quantum'],
      ['ABC-silu', 'classical'],
    ]);
    // sweep points without child runs are recorded in this run; they never read test
    expect(run.points.some((p) => p.key === 'sweep/ABC-silu-r2/qtha/seed0/val_acc')).toBe(true);
    expect(run.points.some((p) => p.key.startsWith('sweep/') && p.key.includes('test'))).toBe(false);
    // two learning-rate candidates per model: both trained on the same batches, validation's choice tested once
    for (const j of [0, 1]) expect(run.points.some((p) => p.key === `qtha/seed0/lr${j}/val_acc`)).toBe(true);
    const chosen = run.points.find((p) => p.key === 'qtha/seed0/lr')!.value;
    expect([0.001, 0.004]).toContain(chosen);
    expect(String(r.summary.qtha_lr)).toBe(String(chosen));
    expect(
      run.points.filter((p) => p.key.startsWith('qtha/seed0') && p.key.endsWith('test_acc')),
    ).toHaveLength(1);
  });

  it('refuses bad configs by field', () => {
    const issue = (over: QthaInput) => {
      const r = QthaConfigSchema.safeParse(tinyQtha(over));
      return r.success ? null : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    };
    expect(issue({})).toBeNull();
    expect(issue({ mpoWidth: 30 })).toMatch(/^mpoWidth: width 30 cannot be factorised/);
    expect(issue({ base: { ...TINY_BASE, hiddenSize: 18, heads: 1 } })).toMatch(
      /^base\.hiddenSize: width 18/,
    );
    expect(issue({ base: { ...TINY_BASE, hiddenSize: 18, heads: 1 }, architecture: 'BC' })).toBeNull();
    expect(issue({ rank: 1 })).toMatch(/^rank: r = 1/);
    expect(issue({ rank: 1, architecture: 'AB' })).toBeNull();
    expect(issue({ targetCorpus: 'brown' })).toMatch(/^targetCorpus: /);
    expect(issue({ targets: '(q|v' })).toMatch(/^targets: not a valid regular expression/);
    expect(issue({ loraR: false, lora2R: false })).toMatch(/^loraR: /);
    expect(issue({ sweep: { architectures: ['C'], ranks: [1] } })).toMatch(/^sweep\.ranks: r = 1/);
    expect(issue({ architecture: 'XYZ' as 'A' })).toMatch(/^architecture: /);
  });
});

describe('qtha on a model directory (Qwen2 layout: q/k/v biases, grouped-query attention)', () => {
  async function modelDir(kvHeads: number): Promise<string> {
    const corpus = getDataset('brown');
    if (corpus.kind !== 'lm') throw new Error('brown is a corpus');
    const text = corpus.splits.train
      .map((d) => d.text)
      .join('\n')
      .slice(0, 20000);
    const tok = ByteLevelBpe.train([text], { vocabSize: 300 });
    const spec = specFromHfConfig({
      model_type: 'qwen2',
      vocab_size: tok.vocabSize,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: kvHeads,
      max_position_embeddings: 32,
      tie_word_embeddings: true,
    });
    const dir = join(mkdtempSync(join(tmpdir(), 'qtha-dir-')), 'qwen');
    await saveModelDir(dir, buildModel(spec, { seed: 3 }), { tokenizer: tok });
    return dir;
  }

  it('adapts a loaded base; a v_proj narrowed by GQA to 8 = 2·2·2 is refused naming the layer', async () => {
    const ok = await runQtha(
      QthaConfigSchema.parse(tinyQtha({ seeds: 1, base: { ...TINY_BASE, modelDir: await modelDir(2) } })),
      ctxOf().ctx,
    );
    expect(Number(ok.summary.qtha_test_ppl)).toBeGreaterThan(1);
    expect(Number(ok.summary.lora_r_params)).toBe(2 * 2 * (16 + 16));
    const narrow = QthaConfigSchema.parse(
      tinyQtha({ seeds: 1, base: { ...TINY_BASE, modelDir: await modelDir(1) } }),
    );
    await expect(runQtha(narrow, ctxOf().ctx)).rejects.toThrow(
      /model\.layers\.0\.self_attn\.v_proj\.out: width 8 cannot be factorised/,
    );
  }, 60_000);
});
