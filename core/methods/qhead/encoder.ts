// The frozen sentence encoder under the quantum head: mean-pooled final hidden states of a transformer from
// core/nn (a small LLaMA-flavour LM pretrained here on a bundled corpus with a BPE tokenizer trained on the
// same text, or a user's Hugging Face model directory), or an embedding model through node-llama-cpp.
// Embeddings are computed once per (encoder, dataset, split) and cached in the lab's cache directory.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getDataset, type LabelledText } from '../../data';
import { loadModelDir } from '../../nn/checkpoint';
import { AdamW } from '../../nn/optim';
import { Rng } from '../../nn/rng';
import { zeroGrad } from '../../nn/tensor';
import { ByteLevelBpe, type Tokenizer } from '../../nn/tokenizers';
import {
  embedText,
  importNodeLlamaCpp,
  openGgufFile,
  type GgufEmbeddingContext,
  type GgufModel,
} from '../../nn/gguf';
import { Transformer, withResidentTraining } from '../../nn/transformer';
import { encodeTexts, meanHiddenStates } from '../../nn/text-classifier';
import type { EncoderConfig } from './schema';

/** A frozen text → vector map. */
export interface SentenceEncoder {
  readonly dim: number;
  readonly description: string;
  embed(texts: readonly string[], onProgress?: (done: number) => void): Promise<Float64Array>;
  dispose(): Promise<void>;
}

export interface EmbeddedSplit {
  x: Float64Array; // (n, dim)
  y: Int32Array; // (n)
  n: number;
  dim: number;
}

export interface EncoderLog {
  info(message: string): void;
  metric?(key: string, step: number, value: number): void;
  signal?: AbortSignal;
}

function transformerEncoder(
  model: Transformer,
  tokenizer: Tokenizer,
  maxTokens: number,
  description: string,
): SentenceEncoder {
  model.training = false;
  const dim = model.config.hiddenSize;
  return {
    dim,
    description,
    async embed(texts, onProgress) {
      // the first maxTokens tokens of each text, mean-pooled over windows of maxSeqLen (core/nn/text-classifier.ts)
      return meanHiddenStates(model, encodeTexts(tokenizer, texts, maxTokens), 16, onProgress);
    },
    async dispose() {},
  };
}

/**
 * Pretrains a small LLaMA-flavour LM on an LM corpus: a byte-level BPE trained on the corpus, then next-token
 * cross-entropy with AdamW on random windows. Documents listed in `exclude` (the classification set's
 * validation and test ids) are left out so the encoder never reads held-out text.
 */
export async function pretrainEncoder(
  cfg: Extract<EncoderConfig, { type: 'pretrain' }>,
  exclude: ReadonlySet<string>,
  log: EncoderLog,
): Promise<{ model: Transformer; tokenizer: ByteLevelBpe; finalLoss: number }> {
  const corpus = getDataset(cfg.corpus);
  if (corpus.kind !== 'lm')
    throw new Error(
      `encoder.corpus: ${cfg.corpus} is a ${corpus.kind} dataset, need a language-modelling corpus`,
    );
  const docs = corpus.splits.train.filter((d) => !exclude.has(d.id));
  let text = docs.map((d) => d.text).join('\n\n');
  if (text.length > cfg.corpusChars) text = text.slice(0, cfg.corpusChars);
  const t0 = performance.now();
  const tokenizer = ByteLevelBpe.train([text], { vocabSize: cfg.vocabSize });
  const ids = Int32Array.from(tokenizer.encode(text));
  log.info(
    `encoder: BPE ${tokenizer.vocabSize} tokens on ${text.length} chars of ${cfg.corpus} (${docs.length} docs, ${exclude.size} held-out ids excluded) → ${ids.length} tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const T = cfg.seqLen;
  if (ids.length < T + 2)
    throw new Error(`encoder.corpusChars: ${ids.length} tokens is too few for seqLen ${T}`);
  const model = new Transformer(
    {
      flavour: 'llama',
      vocabSize: tokenizer.vocabSize,
      hiddenSize: cfg.hiddenSize,
      intermediateSize: cfg.intermediateSize,
      numLayers: cfg.layers,
      numHeads: cfg.heads,
      maxSeqLen: T,
    },
    { dtype: 'f32', seed: cfg.seed },
  );
  model.training = true;
  const params = model.parameters();
  const opt = new AdamW(params, { weightDecay: 0.01 });
  const rng = new Rng(cfg.seed ^ 0x2545f491);
  const B = cfg.batchSize;
  const tokens = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  let ema = NaN;
  const t1 = performance.now();
  withResidentTraining(model, opt, () => {
    for (let step = 1; step <= cfg.steps; step++) {
      if (log.signal?.aborted) throw new Error('cancelled');
      for (let b = 0; b < B; b++) {
        const s = rng.int(ids.length - T - 1);
        for (let t = 0; t < T; t++) {
          tokens[b * T + t] = ids[s + t];
          targets[b * T + t] = ids[s + t + 1];
        }
      }
      zeroGrad(params);
      const loss = model.lmForward(tokens, B, T, targets);
      model.lmBackward();
      // cosine decay from lr to lr/10 keeps the short run stable at the end
      const lr = cfg.lr * (0.1 + 0.45 * (1 + Math.cos((Math.PI * (step - 1)) / cfg.steps)));
      opt.step(lr);
      ema = Number.isNaN(ema) ? loss : 0.9 * ema + 0.1 * loss;
      log.metric?.('encoder/lm_loss', step, loss);
    }
  });
  log.info(
    `encoder: ${cfg.steps} LM steps (batch ${B}×${T}) in ${((performance.now() - t1) / 1000).toFixed(1)} s, loss ${ema.toFixed(3)}`,
  );
  model.training = false;
  for (const p of params) p.frozen = true;
  return { model, tokenizer, finalLoss: ema };
}

/**
 * An embedding model through node-llama-cpp (optional; found as for the GGUF teacher, see
 * defaultNodeLlamaCppImporter): one getEmbeddingFor per text, with the model's own pooling (an embedding
 * model's pooling metadata; for a plain generative model llama.cpp returns the last token's final state).
 */
export async function ggufEncoder(
  path: string,
  maxChars: number,
  importer?: (specifier: string) => Promise<unknown>,
): Promise<SentenceEncoder> {
  const file = await openGgufFile(path, 'encoder.path');
  let model: GgufModel;
  try {
    const mod = await importNodeLlamaCpp(importer, 'encoder.path');
    const llama = await mod.getLlama();
    model = await llama.loadModel({ modelPath: file.modelPath });
  } finally {
    await file.close();
  }
  let ctx: GgufEmbeddingContext;
  try {
    ctx = await model.createEmbeddingContext();
  } catch (e) {
    await model.dispose();
    throw e;
  }
  const embedOne = async (text: string, i: number): Promise<readonly number[]> => {
    try {
      return await embedText(ctx, text.slice(0, maxChars));
    } catch (e) {
      // the usual cause: more tokens than the embedding context holds
      throw new Error(
        `encoder.maxChars: text ${i} (${Math.min(text.length, maxChars)} chars) could not be embedded: ${(e as Error).message}`,
      );
    }
  };
  const dim = (await embedText(ctx, 'probe')).length;
  if (dim === 0) throw new Error(`encoder.path: ${path} gives empty embeddings`);
  return {
    dim,
    description: `GGUF embedding model ${path} (${dim}-dim, node-llama-cpp)`,
    async embed(texts, onProgress) {
      const out = new Float64Array(texts.length * dim);
      for (let i = 0; i < texts.length; i++) {
        const v = await embedOne(texts[i], i);
        if (v.length !== dim)
          throw new Error(`encoder: text ${i} embeds to ${v.length} values, expected ${dim}`);
        out.set(v, i * dim);
        if (onProgress && (i + 1) % 16 === 0) onProgress(i + 1);
      }
      return out;
    },
    async dispose() {
      await ctx.dispose();
      await model.dispose();
    },
  };
}

/** Builds the frozen encoder the config describes. */
export async function buildEncoder(
  cfg: EncoderConfig,
  exclude: ReadonlySet<string>,
  log: EncoderLog,
): Promise<SentenceEncoder> {
  switch (cfg.type) {
    case 'pretrain': {
      const { model, tokenizer } = await pretrainEncoder(cfg, exclude, log);
      return transformerEncoder(
        model,
        tokenizer,
        cfg.maxTokens,
        `LLaMA-flavour LM ${cfg.layers}×${cfg.hiddenSize} pretrained on ${cfg.corpus} (${cfg.steps} steps, BPE ${cfg.vocabSize})`,
      );
    }
    case 'hf-dir': {
      const loaded = await loadModelDir(cfg.path, { dtype: 'f32', maxSeqLen: cfg.seqLen });
      if (!loaded.tokenizer)
        throw new Error(`encoder.path: ${cfg.path}: ${loaded.tokenizerIssue ?? 'no usable tokenizer'}`);
      for (const p of loaded.model.parameters()) p.frozen = true;
      return transformerEncoder(
        loaded.model,
        loaded.tokenizer,
        cfg.maxTokens,
        `model directory ${cfg.path} (${loaded.model.config.numLayers}×${loaded.model.config.hiddenSize})`,
      );
    }
    case 'gguf':
      return ggufEncoder(cfg.path, cfg.maxChars);
  }
}

/**
 * Per-dimension z-scores with the train split's mean and standard deviation, applied to every split (new
 * arrays). Mean-pooled states share a large common direction; without centring, L2-normalised amplitude
 * encodings of different texts are nearly the same state.
 */
export function standardize<S extends { train: EmbeddedSplit }>(splits: S): S {
  const train = splits.train;
  const d = train.dim;
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (let i = 0; i < train.n; i++) for (let c = 0; c < d; c++) mean[c] += train.x[i * d + c] / train.n;
  for (let i = 0; i < train.n; i++)
    for (let c = 0; c < d; c++) sd[c] += (train.x[i * d + c] - mean[c]) ** 2 / train.n;
  for (let c = 0; c < d; c++) sd[c] = Math.sqrt(sd[c]) || 1;
  const apply = (s: EmbeddedSplit): EmbeddedSplit => {
    const x = new Float64Array(s.x.length);
    for (let i = 0; i < s.n; i++)
      for (let c = 0; c < d; c++) x[i * d + c] = (s.x[i * d + c] - mean[c]) / sd[c];
    return { ...s, x };
  };
  const out = { ...splits };
  for (const k of Object.keys(out) as (keyof S)[]) out[k] = apply(splits[k] as EmbeddedSplit) as S[keyof S];
  return out;
}

/** A stable hex key of any JSON-able value. */
export function hashKey(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 24);
}

/** Identity of a split's content: ids and labels in order, so an edited dataset gets a fresh cache entry. */
export function splitSignature(items: readonly LabelledText[]): string {
  const h = createHash('sha256');
  for (const it of items) h.update(`${it.id}\u0000${it.label}\u0001`);
  return h.digest('hex').slice(0, 16);
}

/** Reads a cached split: `<key>.json` (shape) and `<key>.f64` (embeddings then labels as f64). */
export async function readCachedSplit(dir: string, key: string): Promise<EmbeddedSplit | null> {
  try {
    const meta = JSON.parse(await readFile(join(dir, `${key}.json`), 'utf8')) as { n: number; dim: number };
    const buf = await readFile(join(dir, `${key}.f64`));
    const all = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    if (all.length !== meta.n * (meta.dim + 1)) return null;
    return {
      n: meta.n,
      dim: meta.dim,
      x: all.slice(0, meta.n * meta.dim),
      y: Int32Array.from(all.subarray(meta.n * meta.dim)),
    };
  } catch {
    return null;
  }
}

export async function writeCachedSplit(dir: string, key: string, s: EmbeddedSplit): Promise<void> {
  await mkdir(dir, { recursive: true });
  const all = new Float64Array(s.n * (s.dim + 1));
  all.set(s.x);
  for (let i = 0; i < s.n; i++) all[s.n * s.dim + i] = s.y[i];
  const tmp = `.${process.pid}.${Date.now()}`;
  // data before meta, each renamed into place, so a reader never sees a meta without its data
  await writeFile(join(dir, `${key}.f64${tmp}`), new Uint8Array(all.buffer));
  await rename(join(dir, `${key}.f64${tmp}`), join(dir, `${key}.f64`));
  await writeFile(join(dir, `${key}.json${tmp}`), JSON.stringify({ n: s.n, dim: s.dim }));
  await rename(join(dir, `${key}.json${tmp}`), join(dir, `${key}.json`));
}
