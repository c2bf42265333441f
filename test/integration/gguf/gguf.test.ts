// The GGUF paths through a real node-llama-cpp and a real (tiny, random, written here) LLaMA GGUF: label
// logits against an f64 reference forward pass of the same weights, the sentence encoder against the
// reference's final hidden state, and a qdllm job with the GGUF teacher end to end. node-llama-cpp is an
// optional dependency: found in the repo's node_modules or through QLAB_NODE_LLAMA_CPP (a directory with
// node_modules/node-llama-cpp, or the package directory), else the suite is skipped, saying why.
import { mkdtempSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QdllmConfigSchema, runQdllm } from '../../../core/methods/qdllm';
import {
  defaultNodeLlamaCppImporter,
  importNodeLlamaCpp,
  labelLogits,
  labelTokens,
  promptTokens,
  type GgufModel,
  type GgufSequence,
} from '../../../core/nn/gguf';
import { ggufEncoder } from '../../../core/methods/qhead/encoder';
import { setFileGuard } from '../../../core/util/file-guard';
import {
  logSoftmax,
  tinyLlama,
  tinyLlamaForward,
  tinyLlamaGguf,
  type TinyLlama,
} from '../../helpers/gguf-writer';
import { fakeJobContext } from '../../helpers/job-context';
import { whereIsNodeLlamaCpp } from '../../helpers/node-llama-cpp';
import { tinyQdllm } from '../../helpers/tiny-configs';

const where = whereIsNodeLlamaCpp();

const TEXTS = ['the spam is ham', 'yes or no', 'classify this one as text'];

describe.skipIf(!where.found)(`GGUF through node-llama-cpp (${where.why})`, () => {
  let tiny: TinyLlama;
  let path: string;
  let model: GgufModel;
  let seq: GgufSequence;
  let disposeAll: () => Promise<void>;

  beforeAll(async () => {
    tiny = tinyLlama({ seed: 7 });
    const dir = mkdtempSync(join(tmpdir(), 'qlab-gguf-'));
    path = join(dir, 'tiny-llama.gguf');
    writeFileSync(path, tinyLlamaGguf(tiny));
    const lib = await importNodeLlamaCpp(defaultNodeLlamaCppImporter);
    const llama = await lib.getLlama();
    model = await llama.loadModel({ modelPath: path });
    const context = await model.createContext({ contextSize: 256 });
    seq = context.getSequence();
    disposeAll = async () => {
      await context.dispose();
      await model.dispose();
    };
  });
  afterAll(async () => disposeAll?.());

  it('finds the label words as whole tokens after the prompt, and BOS first', () => {
    const spam = tiny.vocab.indexOf('▁spam');
    const ham = tiny.vocab.indexOf('▁ham');
    // a plain tokenize(" spam") on a SentencePiece vocabulary starts with the added "▁": why trimLeadingSpace
    expect(model.tokenize(' spam')[0]).toBe(tiny.vocab.indexOf('▁'));
    expect(labelTokens(model, ['spam', 'ham'])).toEqual([spam, ham]);
    expect(() => labelTokens(model, ['zebra', 'zoo'])).toThrow(/same token/);
    const toks = promptTokens(model, 'the spam is ham');
    expect(toks.map((t) => tiny.vocab[t])).toEqual(['<s>', '▁the', '▁spam', '▁is', '▁ham']);
  });

  it('gives the log-softmax of the model logits at the label tokens, per text', async () => {
    const words = ['spam', 'ham', 'yes', 'no'];
    const ids = labelTokens(model, words);
    const rows: Float64Array[] = [];
    for (const text of TEXTS) {
      const got = await labelLogits(model, seq, text, ids, 256);
      const ref = tinyLlamaForward(tiny, promptTokens(model, text)).logits.at(-1);
      if (!ref) throw new Error('no reference logits');
      const want = logSoftmax(ref);
      ids.forEach((id, c) => {
        expect(Number.isFinite(got[c])).toBe(true);
        expect(got[c]).toBeLessThan(0);
        // llama.cpp computes in f32; the reference in f64
        expect(Math.abs(got[c] - want[id])).toBeLessThan(1e-2);
      });
      rows.push(got);
    }
    for (let a = 0; a < rows.length; a++)
      for (let b = a + 1; b < rows.length; b++) {
        const diff = Math.max(...rows[a].map((v, c) => Math.abs(v - rows[b][c])));
        expect(diff).toBeGreaterThan(0.05);
      }
    // the probability-map path (node-llama-cpp versions without label logits) reads the same numbers
    const probsOnly: GgufSequence = {
      clearHistory: () => seq.clearHistory(),
      controlledEvaluate: async (input) =>
        (await seq.controlledEvaluate(input)).map(
          (o) => o && { next: { probabilities: o.next.probabilities } },
        ),
    };
    const viaProbs = await labelLogits(model, probsOnly, TEXTS[0], ids, 256);
    viaProbs.forEach((v, c) => expect(Math.abs(v - rows[0][c])).toBeLessThan(1e-4));
  });

  it('refuses a prompt longer than the context, naming the fields', async () => {
    const ids = labelTokens(model, ['spam', 'ham']);
    await expect(labelLogits(model, seq, 'spam '.repeat(300), ids, 256)).rejects.toThrow(
      /teacher\.contextSize.*teacher\.maxTextChars/,
    );
  });

  it('embeds texts with the GGUF encoder: the final state of the last token', async () => {
    const enc = await ggufEncoder(path, 1000, defaultNodeLlamaCppImporter);
    try {
      expect(enc.dim).toBe(tiny.config.dim);
      const x = await enc.embed([...TEXTS, '']);
      expect(x.length).toBe(4 * enc.dim);
      expect(x.every(Number.isFinite)).toBe(true);
      TEXTS.forEach((text, i) => {
        const ref = tinyLlamaForward(tiny, promptTokens(model, text)).hidden.at(-1);
        if (!ref) throw new Error('no reference state');
        for (let c = 0; c < enc.dim; c++) expect(Math.abs(x[i * enc.dim + c] - ref[c])).toBeLessThan(1e-2);
      });
      const row = (i: number) => x.subarray(i * enc.dim, (i + 1) * enc.dim);
      expect(Math.max(...row(0).map((v, c) => Math.abs(v - row(1)[c])))).toBeGreaterThan(0.1);
    } finally {
      await enc.dispose();
    }
  });

  it('loads the model under the file guard through the held checked file, with the same embeddings', async () => {
    const plain = await ggufEncoder(path, 1000, defaultNodeLlamaCppImporter);
    setFileGuard([realpathSync(dirname(path))]);
    try {
      const guarded = await ggufEncoder(path, 1000, defaultNodeLlamaCppImporter);
      try {
        // llama.cpp opened /proc/self/fd/N (the file the guard checked) and read the same weights; messages
        // still name the path the config gave
        expect(guarded.description).toContain(path);
        expect(await guarded.embed(TEXTS)).toEqual(await plain.embed(TEXTS));
      } finally {
        await guarded.dispose();
      }
      // and a GGUF outside the roots is refused before node-llama-cpp loads anything
      const outside = join(mkdtempSync(join(tmpdir(), 'qlab-gguf-outside-')), 'm.gguf');
      writeFileSync(outside, tinyLlamaGguf(tiny));
      await expect(ggufEncoder(outside, 1000, defaultNodeLlamaCppImporter)).rejects.toThrow(
        /^encoder\.path: .*m\.gguf: the file opened is outside the lab's file roots/,
      );
    } finally {
      setFileGuard(null);
      await plain.dispose();
    }
  });

  it('runs a qdllm job with the GGUF teacher end to end, then reads it from the cache', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'qlab-gguf-run-'));
    const { ctx, logs } = fakeJobContext(cacheDir, 1);
    const cfg = QdllmConfigSchema.parse(
      tinyQdllm({
        samplesPerClass: 10,
        seeds: 1,
        teacher: {
          source: 'gguf',
          modelPath: path,
          contextSize: 512,
          maxTextChars: 200,
          studentVocabSize: 300,
        },
      }),
    );
    const r1 = await runQdllm(cfg, ctx);
    expect(r1.summary.teacher_cache).toBe('miss');
    expect(logs.join('\n')).toMatch(/GGUF .*tiny-llama\.gguf through node-llama-cpp, label words ham, spam/);
    for (const k of ['teacher_test_acc', 'quantum_test_acc', 'mlp_test_acc', 'transformer_test_acc']) {
      const v = r1.summary[k];
      expect(typeof v === 'number' && v >= 0 && v <= 1, `${k} = ${v}`).toBe(true);
    }
    expect(readdirSync(cacheDir, { recursive: true }).length).toBeGreaterThan(0);
    const r2 = await runQdllm(cfg, ctx);
    expect(r2.summary.teacher_cache).toBe('hit');
    expect(r2.summary.teacher_test_acc).toBe(r1.summary.teacher_test_acc);
  });
});
