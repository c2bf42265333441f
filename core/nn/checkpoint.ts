// Model directories in the Hugging Face layout: config.json (LLaMA / Qwen2 fields) + model.safetensors (or
// shards listed in model.safetensors.index.json) + optional tokenizer.json, loaded into and saved from the
// LLaMA flavour of Transformer. This file does file I/O (Node); safetensors.ts is the pure byte format.
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SwigluMlp } from './ffn';
import { Linear } from './layers';
import {
  decodeTensorBytes,
  parseSafetensorsHeader,
  readHeaderLength,
  serializeSafetensors,
  type SafeTensor,
  type SafetensorsDtype,
  type TensorToWrite,
} from './safetensors';
import type { Dtype, Parameter } from './tensor';
import { openGuarded, readFileGuarded } from '../util/file-guard';
import { decodeUtf8Text } from '../util/text';
import { ByteLevelBpe } from './tokenizers/bpe';
import { CharTokenizer } from './tokenizers/char';
import { tokenizerFromJson } from './tokenizers/index';
import type { Tokenizer } from './tokenizers/types';
import { Transformer, type TransformerConfig } from './transformer';

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** Which optional biases the checkpoint carries (Qwen2: q/k/v; LLaMA attention_bias: q/k/v/o; mlp_bias). */
export interface BiasLayout {
  qkv: boolean;
  o: boolean;
  mlp: boolean;
}

export interface HfModelSpec {
  modelType: 'llama' | 'qwen2';
  config: TransformerConfig;
  biases: BiasLayout;
}

// Buffers some exporters write that carry no weights the model needs (recomputed from the config).
const IGNORED_TENSOR = /\.rotary_emb\.inv_freq$/;

function num(
  cfg: Record<string, unknown>,
  field: string,
  check: 'posint' | 'positive',
  fallback?: number,
): number {
  const v = cfg[field] ?? fallback;
  const ok =
    typeof v === 'number' && Number.isFinite(v) && v > 0 && (check === 'positive' || Number.isInteger(v));
  if (!ok) {
    const want = check === 'posint' ? 'a positive integer' : 'a positive number';
    throw new CheckpointError(`config.json: ${field} must be ${want}, got ${JSON.stringify(cfg[field])}`);
  }
  return v as number;
}

/** Validates a config.json object and maps it to the LLaMA flavour's TransformerConfig. */
export function specFromHfConfig(raw: unknown, opts: { maxSeqLen?: number } = {}): HfModelSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CheckpointError('config.json must be a JSON object');
  }
  const cfg = raw as Record<string, unknown>;
  const modelType = cfg.model_type ?? 'llama';
  if (modelType !== 'llama' && modelType !== 'qwen2') {
    throw new CheckpointError(
      `config.json: model_type ${JSON.stringify(modelType)} is not supported (llama or qwen2)`,
    );
  }
  const hidden = num(cfg, 'hidden_size', 'posint');
  const heads = num(cfg, 'num_attention_heads', 'posint');
  const kvHeads = num(cfg, 'num_key_value_heads', 'posint', heads);
  if (hidden % heads !== 0) {
    throw new CheckpointError(
      `config.json: hidden_size ${hidden} is not divisible by num_attention_heads ${heads}`,
    );
  }
  if (heads % kvHeads !== 0) {
    throw new CheckpointError(
      `config.json: num_key_value_heads ${kvHeads} does not divide num_attention_heads ${heads}`,
    );
  }
  if (cfg.head_dim !== undefined && cfg.head_dim !== null && cfg.head_dim !== hidden / heads) {
    throw new CheckpointError(
      `config.json: head_dim ${JSON.stringify(cfg.head_dim)} differs from hidden_size / num_attention_heads = ${hidden / heads}; not supported`,
    );
  }
  if (cfg.hidden_act !== undefined && cfg.hidden_act !== 'silu') {
    throw new CheckpointError(
      `config.json: hidden_act ${JSON.stringify(cfg.hidden_act)} is not supported (silu)`,
    );
  }
  if (cfg.rope_scaling !== undefined && cfg.rope_scaling !== null) {
    throw new CheckpointError('config.json: rope_scaling is set; scaled RoPE is not supported');
  }
  if (cfg.tie_word_embeddings !== undefined && typeof cfg.tie_word_embeddings !== 'boolean') {
    throw new CheckpointError('config.json: tie_word_embeddings must be true or false');
  }
  const maxPos = num(cfg, 'max_position_embeddings', 'posint', 2048);
  const maxSeqLen = opts.maxSeqLen ?? maxPos;
  const attentionBias = cfg.attention_bias === true;
  const config: TransformerConfig = {
    flavour: 'llama',
    vocabSize: num(cfg, 'vocab_size', 'posint'),
    hiddenSize: hidden,
    intermediateSize: num(cfg, 'intermediate_size', 'posint'),
    numLayers: num(cfg, 'num_hidden_layers', 'posint'),
    numHeads: heads,
    numKvHeads: kvHeads,
    maxSeqLen,
    ropeTheta: num(cfg, 'rope_theta', 'positive', 10000),
    normEps: num(cfg, 'rms_norm_eps', 'positive', 1e-6),
    // HF's default for LLaMA is false; Qwen2 configs always state it.
    tieEmbeddings: cfg.tie_word_embeddings === true,
  };
  return {
    modelType,
    config,
    biases: { qkv: modelType === 'qwen2' || attentionBias, o: attentionBias, mlp: cfg.mlp_bias === true },
  };
}

/** Builds the model (with bias-carrying linears swapped in where the layout needs them). */
export function buildModel(spec: HfModelSpec, opts: { dtype?: Dtype; seed?: number } = {}): Transformer {
  const model = new Transformer(spec.config, opts);
  const { qkv, o, mlp } = spec.biases;
  if (qkv || o || mlp) {
    for (const [name, lin] of model.namedLinears()) {
      const kind = /\.(q|k|v|o|gate|up|down)_proj$/.exec(name)?.[1];
      const want =
        (qkv && (kind === 'q' || kind === 'k' || kind === 'v')) ||
        (o && kind === 'o') ||
        (mlp && (kind === 'gate' || kind === 'up' || kind === 'down'));
      if (want) {
        const biased = new Linear(name, lin.inFeatures, lin.outFeatures, { bias: true, dtype: model.dtype });
        biased.weight.data.set(lin.parameters()[0].data);
        model.replaceLinear(name, biased);
      }
    }
  }
  return model;
}

/** The tensors a checkpoint of this model holds: name → parameter, in the model's fixed order. */
export function stateDict(model: Transformer): Map<string, Parameter> {
  if (model.config.flavour !== 'llama') {
    throw new CheckpointError('only the llama flavour is saved in the Hugging Face layout');
  }
  model.blocks.forEach((b, l) => {
    // a quantum or low-rank module has no Hugging Face tensors: saving without it would drop it silently
    if (!(b.ffn instanceof SwigluMlp))
      throw new CheckpointError(
        `model.layers.${l}.mlp is not the dense SwiGLU MLP; it has no Hugging Face layout`,
      );
    if (b.scorers)
      throw new CheckpointError(
        `model.layers.${l}.self_attn has heads with their own scorers; they have no Hugging Face layout`,
      );
  });
  for (const [name, lin] of model.namedLinears()) {
    if (!(lin instanceof Linear)) {
      throw new CheckpointError(
        `${name} is a ${lin.constructor.name}, not a dense Linear; convert it to a dense weight before saving`,
      );
    }
    if (lin.adapter && !lin.adapter.merged) {
      throw new CheckpointError(`${name} has an unmerged adapter; merge it into the weight before saving`);
    }
  }
  const out = new Map<string, Parameter>();
  for (const [name, lin] of model.namedLinears()) {
    if (name === 'lm_head' && model.config.tieEmbeddings) continue;
    const l = lin as Linear;
    out.set(`${name}.weight`, l.weight);
    if (l.bias) out.set(`${name}.bias`, l.bias);
  }
  out.set(model.embed.name, model.embed);
  for (const b of model.blocks) {
    out.set(b.norm1.w.name, b.norm1.w);
    out.set(b.norm2.w.name, b.norm2.w);
  }
  out.set(model.normF.w.name, model.normF.w);
  if (model.score) {
    out.set(model.score.weight.name, model.score.weight);
    if (model.score.bias) out.set(model.score.bias.name, model.score.bias);
  }
  return out;
}

/**
 * Copies named tensors into the model. Every tensor the model needs must be there with its exact shape, and
 * every tensor given must belong to the model; errors name the tensor and the file.
 */
export function loadStateDict(
  model: Transformer,
  tensors: Map<string, SafeTensor & { source?: string }>,
): void {
  const params = stateDict(model);
  for (const [name, t] of tensors) {
    if (IGNORED_TENSOR.test(name)) continue;
    if (name === 'lm_head.weight' && model.config.tieEmbeddings) continue; // some exporters duplicate it
    const p = params.get(name);
    const from = t.source ? ` (in ${t.source})` : '';
    if (!p) throw new CheckpointError(`tensor "${name}"${from} is not a parameter of this model`);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new CheckpointError(
        `tensor "${name}"${from} has shape [${t.shape.join(', ')}], the model expects [${p.shape.join(', ')}]`,
      );
    }
    if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) {
      throw new CheckpointError(
        `tensor "${name}"${from} has integer dtype ${t.dtype}; weights must be floating point`,
      );
    }
    p.data.set(t.data);
  }
  for (const name of params.keys()) {
    if (!tensors.has(name)) throw new CheckpointError(`tensor "${name}" is missing from the checkpoint`);
  }
}

/** Reads one safetensors file tensor by tensor (the header first, then each tensor's bytes). */
export async function readSafetensorsFile(
  path: string,
  only?: Set<string>,
): Promise<Map<string, SafeTensor>> {
  const fh = await openGuarded(path);
  try {
    // the size of the file opened (a stat of the path could see another file, and comes before the guard)
    const size = (await fh.stat()).size;
    const prefix = new Uint8Array(Math.min(8, size));
    await fh.read(prefix, 0, prefix.length, 0);
    const n = readHeaderLength(prefix, size, path);
    const headerBytes = new Uint8Array(n);
    await fh.read(headerBytes, 0, n, 8);
    const header = parseSafetensorsHeader(headerBytes, size - 8 - n, path);
    const out = new Map<string, SafeTensor>();
    for (const e of header.entries) {
      if (only && !only.has(e.name)) continue;
      const raw = new Uint8Array(e.end - e.begin);
      const { bytesRead } = await fh.read(raw, 0, raw.length, 8 + n + e.begin);
      if (bytesRead !== raw.length) throw new CheckpointError(`${path}: tensor "${e.name}" is truncated`);
      out.set(e.name, { dtype: e.dtype, shape: e.shape, data: decodeTensorBytes(e.dtype, raw) });
    }
    return out;
  } finally {
    await fh.close();
  }
}

/** A text file of a model directory under the lab's one text rule (strict UTF-8, a byte-order mark dropped). */
async function readText(path: string): Promise<string> {
  const bytes = await readFileGuarded(path);
  try {
    return decodeUtf8Text(bytes);
  } catch (e) {
    throw new CheckpointError(`${path} ${(e as Error).message}`);
  }
}

async function readJson(path: string, what: string): Promise<unknown> {
  let bytes: Buffer;
  try {
    bytes = await readFileGuarded(path);
  } catch (e) {
    if ((e as { code?: string }).code === 'EOUTSIDE') throw new CheckpointError((e as Error).message);
    throw new CheckpointError(
      `${what} not found or unreadable at ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let text: string;
  try {
    text = decodeUtf8Text(bytes);
  } catch (e) {
    throw new CheckpointError(`${path} ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Largest tensor a typed array can hold, and the longest sequence a model is built for. */
const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;
const MAX_SEQ_LEN = 1 << 20;

/** Weights the config implies (a lower bound: biases and other extras left out). */
export function impliedWeightCount(spec: HfModelSpec): number {
  const c = spec.config;
  const headDim = c.hiddenSize / c.numHeads;
  const attn = c.hiddenSize * (2 * c.hiddenSize + 2 * (c.numKvHeads ?? c.numHeads) * headDim);
  const mlp = 3 * c.hiddenSize * c.intermediateSize;
  const embed = c.vocabSize * c.hiddenSize * (c.tieEmbeddings ? 1 : 2);
  return embed + c.numLayers * (attn + mlp + 2 * c.hiddenSize) + c.hiddenSize;
}

/**
 * Refuses a config whose sizes cannot be real for these files (every weight takes at least one byte) or
 * cannot be allocated at all, naming the fields, before a single buffer is made.
 */
export function checkSpecSizes(spec: HfModelSpec, fileBytes: number): void {
  const c = spec.config;
  const sizes = `vocab_size ${c.vocabSize}, hidden_size ${c.hiddenSize}, intermediate_size ${c.intermediateSize}, num_hidden_layers ${c.numLayers}`;
  const biggest = Math.max(c.vocabSize * c.hiddenSize, c.hiddenSize * c.intermediateSize, c.hiddenSize ** 2);
  if (biggest > MAX_TENSOR_ELEMENTS) {
    throw new CheckpointError(
      `config.json: ${sizes} give a tensor of ${biggest} elements; at most ${MAX_TENSOR_ELEMENTS} fit in memory as one array`,
    );
  }
  if (c.maxSeqLen > MAX_SEQ_LEN) {
    throw new CheckpointError(
      `config.json: max_position_embeddings ${c.maxSeqLen} is more than ${MAX_SEQ_LEN}; pass a shorter window`,
    );
  }
  const implied = impliedWeightCount(spec);
  if (implied > fileBytes) {
    throw new CheckpointError(
      `config.json: ${sizes} imply at least ${implied} weights, but the weight files hold ${fileBytes} bytes; the config does not describe these files`,
    );
  }
}

/** Total bytes of the weight files (model.safetensors, or every shard the index lists); a missing shard is named. */
async function weightFileBytes(dir: string, single: string, indexPath: string): Promise<number> {
  if (await exists(single)) return (await stat(single)).size;
  if (!(await exists(indexPath))) {
    throw new CheckpointError(`${dir} has neither model.safetensors nor model.safetensors.index.json`);
  }
  const index = (await readJson(indexPath, 'model.safetensors.index.json')) as { weight_map?: unknown };
  const map = index.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new CheckpointError('model.safetensors.index.json: weight_map must be an object of tensor → file');
  }
  let total = 0;
  for (const file of new Set(Object.values(map as Record<string, unknown>))) {
    if (typeof file !== 'string' || file.includes('/') || file.includes('\\')) continue; // named below
    const st = await stat(join(dir, file)).catch(() => null);
    if (st === null || !st.isFile()) {
      throw new CheckpointError(
        `model.safetensors.index.json lists the shard ${file}, which is missing from ${dir}`,
      );
    }
    total += st.size;
  }
  return total;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export interface LoadedModel {
  model: Transformer;
  spec: HfModelSpec;
  /** The tokenizer from tokenizer.json, or null (see tokenizerIssue). */
  tokenizer: Tokenizer | null;
  /** Why no tokenizer was loaded, when none was: absent file or an unsupported kind. */
  tokenizerIssue: string | null;
  /** Stored dtypes seen, e.g. { BF16: 170 }. */
  dtypes: Partial<Record<SafetensorsDtype, number>>;
}

/** Loads a Hugging Face model directory into the LLaMA flavour. */
export async function loadModelDir(
  dir: string,
  opts: { dtype?: Dtype; maxSeqLen?: number } = {},
): Promise<LoadedModel> {
  const spec = specFromHfConfig(await readJson(join(dir, 'config.json'), 'config.json'), opts);
  const single = join(dir, 'model.safetensors');
  const indexPath = join(dir, 'model.safetensors.index.json');
  // Bounded before allocated: the config's sizes must fit the weight files before the model is built.
  checkSpecSizes(spec, await weightFileBytes(dir, single, indexPath));
  const model = buildModel(spec, { dtype: opts.dtype });
  const tensors = new Map<string, SafeTensor & { source?: string }>();
  if (await exists(single)) {
    for (const [k, v] of await readSafetensorsFile(single))
      tensors.set(k, { ...v, source: 'model.safetensors' });
  } else if (await exists(indexPath)) {
    const index = (await readJson(indexPath, 'model.safetensors.index.json')) as { weight_map?: unknown };
    const map = index.weight_map;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) {
      throw new CheckpointError(
        'model.safetensors.index.json: weight_map must be an object of tensor → file',
      );
    }
    const byFile = new Map<string, Set<string>>();
    for (const [name, file] of Object.entries(map as Record<string, unknown>)) {
      if (typeof file !== 'string' || file.includes('/') || file.includes('\\')) {
        throw new CheckpointError(
          `model.safetensors.index.json: weight_map["${name}"] must be a file name in the directory`,
        );
      }
      if (!byFile.has(file)) byFile.set(file, new Set());
      byFile.get(file)!.add(name);
    }
    for (const [file, names] of byFile) {
      const got = await readSafetensorsFile(join(dir, file), names);
      for (const name of names) {
        const t = got.get(name);
        if (!t)
          throw new CheckpointError(
            `tensor "${name}" is listed in the index under ${file} but not found there`,
          );
        tensors.set(name, { ...t, source: file });
      }
    }
  } else {
    throw new CheckpointError(`${dir} has neither model.safetensors nor model.safetensors.index.json`);
  }
  loadStateDict(model, tensors);
  const dtypes: Partial<Record<SafetensorsDtype, number>> = {};
  for (const t of tensors.values()) dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;

  let tokenizer: Tokenizer | null = null;
  let tokenizerIssue: string | null = null;
  const tokPath = join(dir, 'tokenizer.json');
  if (await exists(tokPath)) {
    try {
      tokenizer = tokenizerFromJson(await readText(tokPath));
      if (tokenizer.vocabSize > spec.config.vocabSize) {
        tokenizerIssue = `tokenizer.json has ${tokenizer.vocabSize} ids but the model's vocab_size is ${spec.config.vocabSize}`;
        tokenizer = null;
      }
    } catch (e) {
      tokenizerIssue = `tokenizer.json: ${(e as Error).message}`;
    }
  } else tokenizerIssue = 'no tokenizer.json in the model directory';
  return { model, spec, tokenizer, tokenizerIssue, dtypes };
}

export interface SaveOptions {
  /** Stored dtype of the weights (default F32; F16/BF16 round to nearest even). */
  dtype?: 'F32' | 'F16' | 'BF16';
  tokenizer?: Tokenizer | null;
  /** Split into shards of at most this many data bytes, written with model.safetensors.index.json. */
  maxShardBytes?: number;
}

/** The config.json the loader reads back (and transformers' LlamaForCausalLM / Qwen2ForCausalLM accept). */
export function hfConfigOf(
  model: Transformer,
  biases: BiasLayout,
  dtype: 'F32' | 'F16' | 'BF16' = 'F32',
): Record<string, unknown> {
  const c = model.config;
  const qwen2 = biases.qkv && !biases.o;
  return {
    architectures: [qwen2 ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'],
    model_type: qwen2 ? 'qwen2' : 'llama',
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    hidden_act: 'silu',
    max_position_embeddings: c.maxSeqLen,
    rms_norm_eps: c.normEps,
    rope_theta: c.ropeTheta,
    rope_scaling: null,
    tie_word_embeddings: c.tieEmbeddings,
    attention_bias: biases.o,
    mlp_bias: biases.mlp,
    torch_dtype: { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[dtype],
  };
}

function biasLayoutOf(model: Transformer): BiasLayout {
  const b = model.blocks[0];
  const has = (l: unknown): boolean => l instanceof Linear && l.bias !== null;
  const up = b?.ffn.namedLinears().find(([n]) => n === 'mlp.up_proj')?.[1];
  return b ? { qkv: has(b.q), o: has(b.o), mlp: has(up) } : { qkv: false, o: false, mlp: false };
}

/** Writes config.json, model.safetensors (or shards + index) and tokenizer.json when a tokenizer is given. */
export async function saveModelDir(
  dir: string,
  model: Transformer,
  opts: SaveOptions = {},
): Promise<string[]> {
  const dtype = opts.dtype ?? 'F32';
  const params = stateDict(model);
  const biases = biasLayoutOf(model);
  if (biases.qkv && biases.o !== biases.qkv && biases.mlp) {
    throw new CheckpointError('this bias layout has no Hugging Face config equivalent');
  }
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  const write = async (name: string, data: string | Uint8Array) => {
    await writeFile(join(dir, name), data);
    written.push(name);
  };
  await write('config.json', JSON.stringify(hfConfigOf(model, biases, dtype), null, 2) + '\n');
  const entries: [string, TensorToWrite][] = [...params].map(([name, p]) => [
    name,
    { dtype, shape: [...p.shape], data: p.data },
  ]);
  const bytesOf = (t: TensorToWrite) => t.data.length * (dtype === 'F32' ? 4 : 2);
  const metadata = { format: 'pt' };
  const limit = opts.maxShardBytes;
  if (limit === undefined) {
    await write('model.safetensors', serializeSafetensors(entries, metadata));
  } else {
    if (!Number.isInteger(limit) || limit <= 0)
      throw new CheckpointError('maxShardBytes must be a positive integer');
    const shards: [string, TensorToWrite][][] = [[]];
    let used = 0;
    for (const e of entries) {
      const b = bytesOf(e[1]);
      if (used > 0 && used + b > limit) {
        shards.push([]);
        used = 0;
      }
      shards[shards.length - 1].push(e);
      used += b;
    }
    const pad = (i: number) => String(i).padStart(5, '0');
    const weightMap: Record<string, string> = {};
    let total = 0;
    for (let i = 0; i < shards.length; i++) {
      const file = `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`;
      for (const [name, t] of shards[i]) {
        weightMap[name] = file;
        total += bytesOf(t);
      }
      await write(file, serializeSafetensors(shards[i], metadata));
    }
    await write(
      'model.safetensors.index.json',
      JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + '\n',
    );
  }
  if (opts.tokenizer) {
    const t = opts.tokenizer;
    if (t instanceof ByteLevelBpe) await write('tokenizer.json', t.toTokenizerJson());
    else if (t instanceof CharTokenizer) await write('tokenizer.json', t.toJson());
    else throw new CheckpointError('tokenizer: only ByteLevelBpe and CharTokenizer can be saved');
  }
  return written;
}
