// GGUF models through node-llama-cpp, an OPTIONAL dependency loaded only when asked for (from the lab's
// node_modules, or the install QLAB_NODE_LLAMA_CPP names): the file check, the loader, prompts and label
// tokens, label log-probabilities at the next position, text embeddings and the parameter count. The QD-LLM
// teacher (core/methods/qdllm/gguf-teacher.ts) and the qhead encoder build on it.
import { stat, type FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FileGuardError, fileGuard, openGuarded } from '../util/file-guard';

/** The slice of node-llama-cpp's v3 API used here (its documented getLlama → loadModel → context calls). */
export interface NodeLlamaCpp {
  getLlama(): Promise<{ loadModel(o: { modelPath: string }): Promise<GgufModel> }>;
}
export interface GgufModel {
  /** `"trimLeadingSpace"` drops the space SentencePiece tokenizers put in front of a text (v3.0 and later). */
  tokenize(text: string, specialTokens?: boolean, options?: 'trimLeadingSpace'): readonly number[];
  readonly tokens: { readonly bos: number | null; readonly shouldPrependBosToken?: boolean };
  /** Tensor shapes from the file's header; absent on fakes. */
  readonly fileInfo?: {
    readonly tensorInfo?: readonly { readonly dimensions: readonly (number | bigint)[] }[];
  };
  createContext(o: { contextSize: number }): Promise<{
    getSequence(): GgufSequence;
    dispose(): Promise<void>;
  }>;
  createEmbeddingContext(o?: { contextSize?: number }): Promise<GgufEmbeddingContext>;
  dispose(): Promise<void>;
}
export interface GgufEmbeddingContext {
  getEmbeddingFor(text: string): Promise<{ readonly vector: readonly number[] }>;
  dispose(): Promise<void>;
}
export interface GgufNextOptions {
  probabilities?: boolean;
  /** Raw logits of just these tokens (and of the top ones); older 3.x versions return none. */
  logits?: { filter: { tokens: readonly number[]; includeTop?: number } };
  /** Σ exp(logit − max logit) over the vocabulary; older 3.x versions return none. */
  totalLogitWeight?: boolean;
  options?: { temperature?: number; topK?: number; topP?: number; minP?: number };
}
export interface GgufNextOutput {
  probabilities?: Map<number, number>;
  logits?: Map<number, number>;
  totalLogitWeight?: number;
}
export interface GgufSequence {
  controlledEvaluate(
    input: (number | [number, { generateNext: GgufNextOptions }])[],
  ): Promise<({ next: GgufNextOutput } | undefined)[]>;
  clearHistory(): Promise<void>;
}

export const GGUF_MISSING = 'install node-llama-cpp to use a GGUF teacher (npm install node-llama-cpp)';

/**
 * Where node-llama-cpp is imported from: the app's own node_modules, or, when the environment names one in
 * QLAB_NODE_LLAMA_CPP (a directory holding node_modules/node-llama-cpp, or the package directory itself),
 * an install kept outside the app, since its CUDA/Vulkan binaries make it too large to ship by default.
 */
export function defaultNodeLlamaCppImporter(specifier: string): Promise<unknown> {
  const dir = process.env.QLAB_NODE_LLAMA_CPP;
  if (!dir) return import(specifier);
  let entry: string;
  try {
    entry = createRequire(join(resolve(dir), 'noop.js')).resolve(specifier);
  } catch {
    const e = new Error(`Cannot find package '${specifier}' from QLAB_NODE_LLAMA_CPP=${dir}`) as Error & {
      code: string;
    };
    e.code = 'ERR_MODULE_NOT_FOUND';
    return Promise.reject(e);
  }
  return import(pathToFileURL(entry).href);
}

/** A GGUF file checked for node-llama-cpp (openGgufFile). */
export interface CheckedGguf {
  /** What to give node-llama-cpp's loadModel: the file checked, by a name that cannot be swapped (see below). */
  readonly modelPath: string;
  /** Lets go of the checked file; call it once loadModel has settled (it has opened the file itself by then). */
  close(): Promise<void>;
}

/** The kernel's name for an open file (Linux), when it names that very file; else null. */
async function procFdPath(fh: FileHandle): Promise<string | null> {
  if (process.platform !== 'linux') return null;
  const p = `/proc/self/fd/${fh.fd}`;
  try {
    const [a, b] = await Promise.all([stat(p), fh.stat()]);
    return a.dev === b.dev && a.ino === b.ino ? p : null;
  } catch {
    return null;
  }
}

/**
 * Checks that `path` is a readable, regular GGUF file (its magic), naming `field` in every refusal, before
 * node-llama-cpp is even imported. Under the job's file guard (a run created over HTTP or IPC,
 * core/util/file-guard.ts) the file is opened through openGuarded: a path outside the roots by name is refused
 * before anything is opened, and the file actually opened must lie inside them. node-llama-cpp takes a path,
 * not a descriptor, and opens the file again itself; so the checked file is held open and handed over as
 * `/proc/self/fd/N` (Linux), which reopens the very file that was checked whatever happens to its name. Where
 * there is no such name (off Linux) the checked path is handed over, and a swap of the file or a folder on its
 * path between this check and node-llama-cpp's own open is followed: the residual race, documented in
 * docs/architecture.md. Without the guard (command-line runs) the path is given as it is. `within`: the roots
 * to check against instead of the job's (the lab's calibration of a file an API request named).
 */
export async function openGgufFile(
  path: string,
  field: string,
  within: readonly string[] | null = fileGuard(),
): Promise<CheckedGguf> {
  let fh: FileHandle;
  try {
    fh = await openGuarded(path, within);
  } catch (e) {
    if (e instanceof FileGuardError) throw new Error(`${field}: ${e.message}`);
    const code = (e as { code?: string }).code;
    throw new Error(
      code === 'ENOENT'
        ? `${field}: no file at ${path}`
        : `${field}: cannot read ${path} (${(e as Error).message})`,
    );
  }
  try {
    if (!(await fh.stat()).isFile()) throw new Error(`${field}: ${path} is not a regular file`);
    const magic = Buffer.alloc(4);
    const { bytesRead } = await fh.read(magic, 0, 4, 0);
    if (bytesRead < 4 || magic.toString('latin1') !== 'GGUF')
      throw new Error(`${field}: ${path} is not a GGUF file (it does not start with "GGUF")`);
    const held = within === null ? null : await procFdPath(fh);
    if (held === null) {
      await fh.close();
      return { modelPath: path, close: async () => undefined };
    }
    let closed = false;
    return {
      modelPath: held,
      close: async () => {
        if (closed) return;
        closed = true;
        await fh.close();
      },
    };
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e;
  }
}

/** Imports node-llama-cpp by a runtime name so bundlers and type-checking never require it. */
export async function importNodeLlamaCpp(
  importer: (specifier: string) => Promise<unknown> = defaultNodeLlamaCppImporter,
  field = 'teacher.source',
): Promise<NodeLlamaCpp> {
  const specifier = 'node-llama-cpp';
  let mod: unknown;
  try {
    mod = await importer(specifier);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (
      code === 'ERR_MODULE_NOT_FOUND' ||
      code === 'MODULE_NOT_FOUND' ||
      /Cannot find (module|package)/.test(String(e))
    )
      throw new Error(
        `${field}: install node-llama-cpp to use a GGUF ${field.startsWith('teacher') ? 'teacher' : 'encoder'} (npm install node-llama-cpp), or set QLAB_NODE_LLAMA_CPP to a directory that has it`,
      );
    throw new Error(`${field}: node-llama-cpp failed to load: ${(e as Error).message}`);
  }
  const m = mod as Partial<NodeLlamaCpp>;
  if (typeof m.getLlama !== 'function')
    throw new Error(`${field}: the installed node-llama-cpp has no getLlama(); version 3 or later is needed`);
  return m as NodeLlamaCpp;
}

/** A GGUF model opened as the QD-LLM teacher runs it, with its two contexts: label logits and text embeddings. */
export interface GgufTeacherModel {
  model: GgufModel;
  context: Awaited<ReturnType<GgufModel['createContext']>>;
  embedder: GgufEmbeddingContext;
  /** Disposes the embedder and the context, then the model they belong to; the first error after all three. */
  dispose(): Promise<void>;
}

/**
 * Opens a GGUF file (checked as openGgufFile checks it, under `within`), imports node-llama-cpp, loads the model
 * and makes its logits and embedding contexts. `imported` runs once node-llama-cpp is in and before the load
 * (the teacher checks its label words there and starts its resource meter). Whatever was made is disposed
 * again when a later step fails.
 */
export async function openGgufTeacherModel(o: {
  path: string;
  field: string;
  contextSize: number;
  within?: readonly string[] | null;
  importer?: (specifier: string) => Promise<unknown>;
  /** The field a missing node-llama-cpp is reported under (default `field`). */
  importField?: string;
  imported?: () => void;
}): Promise<GgufTeacherModel> {
  const file = await openGgufFile(o.path, o.field, o.within === undefined ? fileGuard() : o.within);
  let model: GgufModel;
  try {
    const lib = await importNodeLlamaCpp(o.importer, o.importField ?? o.field);
    o.imported?.();
    const llama = await lib.getLlama();
    model = await llama.loadModel({ modelPath: file.modelPath });
  } finally {
    await file.close();
  }
  // embedder and context first, then the model they belong to
  const open: { dispose(): Promise<void> }[] = [model];
  const dispose = async () => {
    let first: unknown;
    for (const x of open)
      await x.dispose().catch((e: unknown) => {
        first ??= e;
      });
    if (first !== undefined) throw first;
  };
  try {
    const context = await model.createContext({ contextSize: o.contextSize });
    open.unshift(context);
    const embedder = await model.createEmbeddingContext({ contextSize: o.contextSize });
    open.unshift(embedder);
    return { model, context, embedder, dispose };
  } catch (e) {
    await dispose().catch(() => undefined);
    throw e;
  }
}

/** The prompt for one text. */
export function ggufPrompt(template: string, text: string, labelWords: readonly string[]): string {
  return template.replaceAll('{labels}', labelWords.join(', ')).replaceAll('{text}', text);
}

/**
 * The first token of each label word as it would follow the prompt (with a leading space); they must differ.
 * SentencePiece tokenizers (LLaMA, Mistral, Gemma) put a space in front of every text they tokenize, so a
 * plain tokenize(" spam") is ["▁", "▁spam"] and every word would start with "▁"; "trimLeadingSpace" drops
 * that added space and leaves ["▁spam"], the token that follows "Answer:".
 */
export function labelTokens(model: Pick<GgufModel, 'tokenize'>, words: readonly string[]): number[] {
  const ids = words.map((w, i) => {
    const t = model.tokenize(` ${w.trim()}`, false, 'trimLeadingSpace');
    if (t.length === 0) throw new Error(`teacher.labelWords[${i}]: "${w}" tokenizes to nothing`);
    return t[0];
  });
  const seen = new Map<number, number>();
  ids.forEach((id, i) => {
    const j = seen.get(id);
    if (j !== undefined)
      throw new Error(
        `teacher.labelWords: "${words[j]}" and "${words[i]}" start with the same token; choose words that differ at their first token`,
      );
    seen.set(id, i);
  });
  return ids;
}

/** The prompt's tokens as the model is run on them: BOS first when the model asks for one. */
export function promptTokens(model: Pick<GgufModel, 'tokenize' | 'tokens'>, prompt: string): number[] {
  const toks = [...model.tokenize(prompt)];
  const bos = model.tokens.bos;
  // shouldPrependBosToken is false for models whose GGUF says add_bos_token = false (Qwen, GPT-2 style)
  if (bos !== null && (model.tokens.shouldPrependBosToken ?? true)) toks.unshift(bos);
  return toks;
}

// temperature 1 with top-k/top-p/min-p off: llama.cpp's sampler leaves the logits as they are
const PLAIN = { temperature: 1, topK: 0, topP: 1, minP: 0 };
const FLOOR = 1e-30; // only for old versions reading probabilities: a 0 still gets a finite logit

/**
 * Class logits at the last prompt position: log-softmax of the model's next-token logits at the label
 * tokens, log p = z − max z − log Σ exp(z − max z), from the label tokens' raw logits and the vocabulary's
 * total logit weight. Versions of node-llama-cpp without those outputs give the probability map instead.
 */
export async function labelLogits(
  model: GgufModel,
  seq: GgufSequence,
  prompt: string,
  labelIds: readonly number[],
  contextSize = Infinity,
): Promise<Float64Array> {
  const toks = promptTokens(model, prompt);
  if (toks.length >= contextSize)
    throw new Error(
      `teacher.contextSize: the prompt is ${toks.length} tokens, the context ${contextSize}; raise teacher.contextSize or lower teacher.maxTextChars`,
    );
  const last = toks.pop();
  if (last === undefined) throw new Error('teacher.prompt: the prompt tokenizes to nothing');
  const ask = async (next: GgufNextOptions): Promise<GgufNextOutput> => {
    await seq.clearHistory();
    const out = await seq.controlledEvaluate([...toks, [last, { generateNext: next }]]);
    const r = out[toks.length]?.next;
    if (!r) throw new Error('teacher: node-llama-cpp returned nothing for the last prompt position');
    return r;
  };
  const r = await ask({
    // includeTop 1 brings the largest logit; includeMax does not (3.22.1 adds it only when already listed)
    logits: { filter: { tokens: labelIds, includeTop: 1 } },
    totalLogitWeight: true,
    options: PLAIN,
  });
  if (r.logits && r.totalLogitWeight !== undefined) {
    let max = -Infinity;
    for (const z of r.logits.values()) max = Math.max(max, z);
    const lse = max + Math.log(r.totalLogitWeight);
    return Float64Array.from(labelIds, (id) => {
      const z = r.logits?.get(id);
      if (z === undefined) throw new Error(`teacher: node-llama-cpp returned no logit for label token ${id}`);
      return z - lse;
    });
  }
  const probs = (await ask({ probabilities: true, options: PLAIN })).probabilities;
  if (!probs) throw new Error('teacher: node-llama-cpp returned no probabilities for the last position');
  return Float64Array.from(labelIds, (id) => Math.log(Math.max(probs.get(id) ?? 0, FLOOR)));
}

/** Parameters from the file's tensor shapes; null when node-llama-cpp does not expose them. */
export function ggufParamCount(model: Pick<GgufModel, 'fileInfo'>): number | null {
  const infos = model.fileInfo?.tensorInfo;
  if (!infos || infos.length === 0) return null;
  let n = 0;
  for (const t of infos) n += t.dimensions.reduce<number>((a, d) => a * Number(d), 1);
  return n;
}

/**
 * One text's embedding. node-llama-cpp gives an empty vector for a text with no tokens; a lone space
 * always has one, so an empty sample still gets a real (if uninformative) vector of the right width.
 */
export async function embedText(embedder: GgufEmbeddingContext, text: string): Promise<readonly number[]> {
  return (await embedder.getEmbeddingFor(text.length === 0 ? ' ' : text)).vector;
}
