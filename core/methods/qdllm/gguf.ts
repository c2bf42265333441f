// A GGUF teacher through node-llama-cpp, an OPTIONAL dependency loaded only when asked for. Each text is put
// into a prompt; the class logits are the log-probabilities of each label word's first token as the next
// token after the prompt (read at the last position with controlledEvaluate). The student's frozen
// embedding is the model's own text embedding (its embedding context); the transformer student gets a BPE
// trained on the training texts, since a GGUF vocabulary is far too large for it.
import { ByteLevelBpe } from '../../nn/tokenizers';
import { SPLIT_NAMES, type SplitName, type TextData } from '../common/data';
import { ResourceMeter } from '../common/meter';
import { encodeTexts } from '../common/text';
import type { JobContext } from '../job';
import type { TeacherInfo, TeacherSplit } from './cache';
import type { GgufTeacherConfig, QdllmConfig } from './schema';

/** The slice of node-llama-cpp's v3 API used here (its documented getLlama → loadModel → context calls). */
export interface NodeLlamaCpp {
  getLlama(): Promise<{ loadModel(o: { modelPath: string }): Promise<GgufModel> }>;
}
export interface GgufModel {
  tokenize(text: string): readonly number[];
  readonly tokens: { readonly bos: number | null };
  createContext(o: { contextSize: number }): Promise<{
    getSequence(): GgufSequence;
    dispose(): Promise<void>;
  }>;
  createEmbeddingContext(o: { contextSize: number }): Promise<{
    getEmbeddingFor(text: string): Promise<{ readonly vector: readonly number[] }>;
    dispose(): Promise<void>;
  }>;
  dispose(): Promise<void>;
}
export interface GgufSequence {
  controlledEvaluate(
    input: (
      | number
      | [
          number,
          {
            generateNext: {
              probabilities: boolean;
              options?: { temperature?: number; topK?: number; topP?: number; minP?: number };
            };
          },
        ]
    )[],
  ): Promise<({ next: { probabilities?: Map<number, number> } } | undefined)[]>;
  clearHistory(): Promise<void>;
}

export const GGUF_MISSING = 'install node-llama-cpp to use a GGUF teacher (npm install node-llama-cpp)';

/** Imports node-llama-cpp by a runtime name so bundlers and type-checking never require it. */
export async function importNodeLlamaCpp(
  importer: (specifier: string) => Promise<unknown> = (s) => import(s),
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
      throw new Error(`teacher.source: ${GGUF_MISSING}`);
    throw new Error(`teacher.source: node-llama-cpp failed to load: ${(e as Error).message}`);
  }
  const m = mod as Partial<NodeLlamaCpp>;
  if (typeof m.getLlama !== 'function')
    throw new Error(
      'teacher.source: the installed node-llama-cpp has no getLlama(); version 3 or later is needed',
    );
  return m as NodeLlamaCpp;
}

/** The prompt for one text. */
export function ggufPrompt(template: string, text: string, labelWords: readonly string[]): string {
  return template.replaceAll('{labels}', labelWords.join(', ')).replaceAll('{text}', text);
}

/** The first token of each label word as it would follow the prompt (with a leading space); they must differ. */
export function labelTokens(model: Pick<GgufModel, 'tokenize'>, words: readonly string[]): number[] {
  const ids = words.map((w, i) => {
    const t = model.tokenize(` ${w.trim()}`);
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

const FLOOR = 1e-30; // a label token the sampler gave probability 0 still gets a finite logit

/** Class logits (log-probabilities of the label tokens) at the last prompt position. */
export async function labelLogits(
  model: GgufModel,
  seq: GgufSequence,
  prompt: string,
  labelIds: readonly number[],
): Promise<Float64Array> {
  const toks = [...model.tokenize(prompt)];
  if (model.tokens.bos !== null) toks.unshift(model.tokens.bos);
  const last = toks.pop();
  if (last === undefined) throw new Error('teacher.prompt: the prompt tokenizes to nothing');
  await seq.clearHistory();
  const out = await seq.controlledEvaluate([
    ...toks,
    // temperature 1 with top-k/top-p/min-p off: the probabilities are the plain softmax of the logits
    [last, { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } }],
  ]);
  const probs = out[out.length - 1]?.next.probabilities;
  if (!probs) throw new Error('teacher: node-llama-cpp returned no probabilities for the last position');
  return Float64Array.from(labelIds, (id) => Math.log(Math.max(probs.get(id) ?? 0, FLOOR)));
}

export async function buildGgufTeacher(
  cfg: QdllmConfig,
  t: GgufTeacherConfig,
  data: TextData,
  ctx: JobContext,
  importer?: (specifier: string) => Promise<unknown>,
): Promise<{ splits: Record<SplitName, TeacherSplit>; info: TeacherInfo }> {
  const lib = await importNodeLlamaCpp(importer);
  const C = data.classes.length;
  const words = t.labelWords ?? data.classes;
  if (words.length !== C)
    throw new Error(
      `teacher.labelWords: ${words.length} words for ${C} classes (${data.classes.join(', ')})`,
    );
  const meter = new ResourceMeter().start();
  const llama = await lib.getLlama();
  const model = await llama.loadModel({ modelPath: t.modelPath });
  const context = await model.createContext({ contextSize: t.contextSize });
  const embedder = await model.createEmbeddingContext({ contextSize: t.contextSize });
  try {
    const seq = context.getSequence();
    const labelIds = labelTokens(model, words);
    const tokenizer = ByteLevelBpe.train(
      [data.splits.train.map((x) => x.text.slice(0, cfg.maxTokens * 16)).join('\n')],
      { vocabSize: t.studentVocabSize },
    );
    const splits = {} as Record<SplitName, TeacherSplit>;
    let E = 0;
    let inferSecondsPerSample = 0;
    let done = 0;
    const total = SPLIT_NAMES.reduce((n, s) => n + data.splits[s].length, 0);
    for (const s of SPLIT_NAMES) {
      const items = data.splits[s];
      const logits = new Float64Array(items.length * C);
      const rows: number[][] = [];
      const t0 = performance.now();
      for (let i = 0; i < items.length; i++) {
        if (ctx.signal.aborted) throw new Error('cancelled');
        const text = items[i].text.slice(0, t.maxTextChars);
        logits.set(await labelLogits(model, seq, ggufPrompt(t.prompt, text, words), labelIds), i * C);
        const v = (await embedder.getEmbeddingFor(text)).vector;
        if (E === 0) E = v.length;
        if (v.length !== E)
          throw new Error(`teacher: embedding of ${s}[${i}] has ${v.length} values, expected ${E}`);
        rows.push([...v]);
        meter.sample();
        if (++done % 10 === 0) ctx.progress(0.25 * (done / total), `GGUF teacher ${done}/${total}`);
      }
      if (s === 'test') inferSecondsPerSample = (performance.now() - t0) / 1000 / items.length;
      const embeddings = new Float64Array(items.length * E);
      rows.forEach((r, i) => embeddings.set(r, i * E));
      splits[s] = {
        logits,
        embeddings,
        labels: Int32Array.from(items, (x) => x.label),
        tokens: encodeTexts(
          tokenizer,
          items.map((x) => x.text),
          cfg.maxTokens,
        ),
      };
    }
    const reading = meter.stop();
    return {
      splits,
      info: {
        description: `GGUF ${t.modelPath} through node-llama-cpp, label words ${words.join(', ')}`,
        params: null,
        trainableParams: 0,
        buildSeconds: reading.seconds,
        finetuneEpochs: 0,
        inferSecondsPerSample,
        peakRssMb: reading.peakRssMb,
        peakHeapMb: reading.peakHeapMb,
        vocabSize: tokenizer.vocabSize,
        E,
      },
    };
  } finally {
    await embedder.dispose();
    await context.dispose();
    await model.dispose();
  }
}
