// The qffn kind end to end on a tiny config with a bare context: the three models' validation series and one
// test perplexity each per seed, every model of a seed on the same batches, the report's tables (Table 1 with
// the closed-form check, Table 2 from the sweep's inline points, paired tests, continuations); and a QFFN model
// as the job builds it (quantum FFN + quantum heads, f64) passes the finite-difference check for parameters and
// inputs end to end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { qffnKind } from '../../../core/methods/qffn';
import { makeQffn } from '../../../core/methods/qffn/models';
import { QffnConfigSchema } from '../../../core/methods/qffn/schema';
import type { ReportSection } from '../../../core/methods/job';
import { zeroGrad } from '../../../core/nn/tensor';
import { Transformer } from '../../../core/nn/transformer';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import { buildModel, saveModelDir, specFromHfConfig } from '../../../core/nn/checkpoint';
import { ByteLevelBpe } from '../../../core/nn/tokenizers';
import { getDataset } from '../../../core/data';
import { fakeJobContext } from '../../helpers/job-context';
import { gradCheck } from '../nn/gradcheck';

const root = mkdtempSync(join(tmpdir(), 'qffn-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TINY_QFFN = {
  base: {
    corpusChars: 60000,
    vocabSize: 300,
    hiddenSize: 16,
    layers: 2,
    heads: 2,
    intermediateSize: 40,
    pretrainSteps: 10,
  },
  steps: 6,
  evalEvery: 3,
  warmupSteps: 1,
  layerwiseSteps: 5,
  batchSize: 4,
  seqLen: 8,
  evalTokens: 128,
  testTokens: 128,
  seeds: 2,
  prompts: ['The'],
  generateTokens: 3,
  lrFactors: [1],
};

const table = (r: ReportSection[], title: RegExp) => {
  const t = r.find((s) => title.test(s.title));
  if (!t || t.type !== 'table') throw new Error(`no table ${title}`);
  return t;
};

describe('qffn end to end (tiny)', () => {
  it('trains the three models per seed, reads test once each, and reports Tables 1 and 2', async () => {
    const cfg = QffnConfigSchema.parse({
      ...TINY_QFFN,
      gpuSpeed: true,
      sweep: { fractions: [1], depths: [] },
      lrFactors: [0.3, 3],
    });
    const { ctx, points, messages } = fakeJobContext(join(root, 'cache'), 3, { workDir: root });
    const res = await qffnKind.run(cfg, ctx);
    for (const m of ['qffn', 'uncompressed', 'classical'])
      for (const k of [0, 1]) {
        const val = points.filter((p) => p.key === `${m}/seed${k}/val_ppl`);
        expect(val.map((p) => p.step)).toEqual([0, 3, 6]);
        expect(points.filter((p) => p.key === `${m}/seed${k}/test_ppl`)).toHaveLength(1);
        expect(points.filter((p) => p.key === `${m}/seed${k}/train_loss`)).toHaveLength(6);
      }
    // the learning-rate search: every model's candidates start from the same weights on the same first batch,
    // validation's last reading chooses, and the chosen candidate's series are the model's own
    const series = (key: string) => points.filter((p) => p.key === key);
    for (const m of ['qffn', 'uncompressed', 'classical'])
      for (const k of [0, 1]) {
        const at = `${m}/seed${k}`;
        const cand = [0, 1].map((j) => ({
          lr: [0.3, 3].map((f) => cfg.lr * f)[j],
          val: series(`${at}/lr${j}/val_ppl`),
          loss: series(`${at}/lr${j}/train_loss`),
        }));
        expect(cand[0].val[0].value).toBe(cand[1].val[0].value);
        expect(cand[0].loss[0].value).toBe(cand[1].loss[0].value);
        const best = cand[0].val[2].value <= cand[1].val[2].value ? cand[0] : cand[1];
        expect(series(`${at}/lr`)[0].value).toBeCloseTo(best.lr, 12);
        expect(series(`${at}/val_ppl`).map((p) => p.value)).toEqual(best.val.map((p) => p.value));
        expect(series(`${at}/train_loss`).map((p) => p.value)).toEqual(best.loss.map((p) => p.value));
      }
    const first = (m: string) => points.find((p) => p.key === `${m}/seed0/val_ppl` && p.step === 0)!.value;
    expect(first('uncompressed')).toBeGreaterThan(1);
    expect(first('qffn')).toBeGreaterThan(1);
    // the sweep point ran inline (bare context) and fed Table 2
    expect(points.some((p) => p.key === 'sweep/fraction=1/qffn/seed0/val_ppl')).toBe(true);
    expect(messages.some((m) => /\[sweep\/fraction=1\] finished/.test(m))).toBe(true);
    const r = res.report!;
    const t1 = table(r, /^Table 1/);
    expect(t1.rows.map((x) => x[0])).toEqual(['QFFN', 'uncompressed', 'classical compressed']);
    expect(t1.columns[5]).toBe('selected lr');
    for (const row of t1.rows) expect(String(row[5])).toMatch(/^(0\.0006|0\.006)/);
    expect(String(res.summary.qffn_lr)).toMatch(/^(0\.0006|0\.006)/);
    expect(t1.rows[1][8]).toBe('1.00 ± 0.00×');
    const comp = table(r, /^Parameters per component/);
    for (const row of comp.rows) expect(row[6]).toBe(row[7]);
    const t2 = table(r, /^Table 2/);
    expect(t2.rows.map((x) => x[0])).toEqual([1, 0.5]);
    expect(t2.columns[3]).toBe('selected lr');
    for (const row of t2.rows) expect(String(row[3])).toMatch(/^(0\.0006|0\.006)/);
    expect(table(r, /^Paired t-tests/).rows).toHaveLength(2);
    expect(table(r, /^Greedy continuations/).rows).toHaveLength(3);
    expect(res.summary.qffn_params).toBe(comp.rows[0][6]);
    // the gpu column: the QFFN step's circuits replayed on the gpu backend, its mode named
    expect(res.summary.gpu_backend).toMatch(/^gpu\//);
    expect(t1.rows[0][10]).toMatch(/×$/);
    const setup = res.report!.find((x) => x.title === 'Setup');
    expect(setup?.type === 'text' && setup.text).toMatch(/replayed on gpu\//);
    // layer-wise initialisation lowered each replaced FFN's MSE against the base's outputs
    const fits = messages.filter((m) => /layer-wise fit of block/.test(m));
    // qffn and classical (one block) × 2 seeds, and the sweep's all-quantum qffn (two blocks) × 2 seeds
    expect(fits.length).toBe(4 + 4);
    for (const m of fits) {
      const [before, after] = /MSE (\S+) → (\S+)/.exec(m)!.slice(1).map(Number);
      expect(after).toBeLessThan(before);
    }
    expect(Number(res.summary.qffn_test_ppl_mean)).toBeGreaterThan(1);
    expect(res.summary.qffn_params).toBeLessThan(Number(res.summary.uncompressed_params));
  }, 120_000);
});

describe('qffn on a model directory (Qwen2 layout: q/k/v biases, grouped-query attention)', () => {
  it('loads the base, copies it with its biases for every model, and runs', async () => {
    const corpus = getDataset('brown');
    if (corpus.kind !== 'lm') throw new Error('brown is a corpus');
    const tok = ByteLevelBpe.train(
      [
        corpus.splits.train
          .map((d) => d.text)
          .join('\n')
          .slice(0, 20000),
      ],
      {
        vocabSize: 300,
      },
    );
    const spec = specFromHfConfig({
      model_type: 'qwen2',
      vocab_size: tok.vocabSize,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      max_position_embeddings: 16,
      tie_word_embeddings: true,
    });
    const dir = join(root, 'qwen');
    await saveModelDir(dir, buildModel(spec, { seed: 3 }), { tokenizer: tok });
    const cfg = QffnConfigSchema.parse({
      ...TINY_QFFN,
      seeds: 1,
      base: { ...TINY_QFFN.base, modelDir: dir },
    });
    const { ctx } = fakeJobContext(join(root, 'cache'), 3, { workDir: root });
    const res = await qffnKind.run(cfg, ctx);
    const comp = table(res.report!, /^Parameters per component/);
    // biases counted with attention; no closed form for a directory's layout
    const base = buildModel(spec);
    expect(comp.rows[1][6]).toBe(base.parameters().reduce((n, p) => n + p.size, 0));
    for (const row of comp.rows) expect(row[7]).toBeNull();
    expect(Number(res.summary.qffn_test_ppl_mean)).toBeGreaterThan(1);
  }, 60_000);
});

describe('a QFFN model as the job builds it passes the f64 finite-difference check', () => {
  it.each(['gaussian', 'unitary'] as const)(
    'amplitude FFN + %s heads: every parameter and the inputs',
    (headKernel) => {
      const c = QffnConfigSchema.parse({
        base: { vocabSize: 300, hiddenSize: 8, layers: 2, heads: 2, intermediateSize: 12 },
        depth: 1,
        headKernel,
        headQubits: 2,
        precision: 'f64',
      });
      const V = 13;
      const model = new Transformer(
        {
          flavour: 'llama',
          vocabSize: V,
          hiddenSize: 8,
          intermediateSize: 12,
          numLayers: 2,
          numHeads: 2,
          maxSeqLen: 4,
          initStd: 0.3,
          tieEmbeddings: true,
        },
        { seed: 2, dtype: 'f64' },
      );
      const comp = makeQffn(model, c, createCpuSimulator({ precision: 'f64' }), 4);
      expect(comp.blocks).toEqual([1]);
      expect(comp.quantum.size).toBeGreaterThan(0);
      const tokens = Int32Array.of(1, 5, 2, 9, 3, 0, 12, 4);
      const targets = Int32Array.of(5, 2, 9, 3, 0, 12, 4, 7);
      const loss = () => model.lmForward(tokens, 2, 4, targets);
      const params = model.parameters();
      zeroGrad(params);
      loss();
      model.lmBackward();
      // the embedding table is the input: ∂L/∂x of every token row
      const pairs = params.map((p) => [p.data, Float64Array.from(p.grad)] as [Float64Array, Float64Array]);
      const quantum = params
        .filter((p) => comp.quantum.has(p))
        .map((p) => [p.data, Float64Array.from(p.grad)] as [Float64Array, Float64Array]);
      const rq = gradCheck(quantum, loss, { samples: 400, h: 1e-5 });
      expect(rq.maxRel, rq.at).toBeLessThan(1e-5);
      const r = gradCheck(pairs, loss, { samples: 12, h: 1e-5 });
      expect(r.maxRel, r.at).toBeLessThan(1e-5);
      for (const [, g] of quantum) expect(g.some((x) => Math.abs(x) > 1e-7)).toBe(true);
    },
  );
});
