// The QD-LLM teacher from a GGUF model (core/nn/gguf.ts runs it). Each text is put into a prompt; the class
// logits are the log-probabilities of each label word's first token as the next token after the prompt (read
// at the last position with controlledEvaluate). The student's frozen embedding is the model's own text
// embedding (its embedding context); the transformer student gets a BPE trained on the training texts, since
// a GGUF vocabulary is far too large for it.
import { type TextData } from '../../data/text';
import { SPLIT_NAMES, type SplitName } from '../../data/names';
import { ByteLevelBpe } from '../../nn/tokenizers';
import {
  embedText,
  ggufParamCount,
  ggufPrompt,
  labelLogits,
  labelTokens,
  openGgufTeacherModel,
} from '../../nn/gguf';
import { encodeTexts } from '../../nn/text-classifier';
import { ResourceMeter } from '../harness/meter';
import type { JobContext } from '../job';
import type { TeacherInfo, TeacherSplit } from './cache';
import type { GgufTeacherConfig, QdllmConfig } from './schema';

export async function buildGgufTeacher(
  cfg: QdllmConfig,
  t: GgufTeacherConfig,
  data: TextData,
  ctx: JobContext,
  importer?: (specifier: string) => Promise<unknown>,
): Promise<{ splits: Record<SplitName, TeacherSplit>; info: TeacherInfo }> {
  const C = data.classes.length;
  const words = t.labelWords ?? data.classes;
  // the file is checked (and under the job's file guard held open) before node-llama-cpp is even imported
  let meter = new ResourceMeter();
  const { model, context, embedder, dispose } = await openGgufTeacherModel({
    path: t.modelPath,
    field: 'teacher.modelPath',
    contextSize: t.contextSize,
    importer,
    importField: 'teacher.source',
    imported: () => {
      if (words.length !== C)
        throw new Error(
          `teacher.labelWords: ${words.length} words for ${C} classes (${data.classes.join(', ')})`,
        );
      meter = new ResourceMeter().start();
    },
  });
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
      const rows: (readonly number[])[] = [];
      let teacherMs = 0;
      for (let i = 0; i < items.length; i++) {
        if (ctx.signal.aborted) throw new Error('cancelled');
        const text = items[i].text.slice(0, t.maxTextChars);
        const t0 = performance.now();
        const prompt = ggufPrompt(t.prompt, text, words);
        logits.set(await labelLogits(model, seq, prompt, labelIds, t.contextSize), i * C);
        teacherMs += performance.now() - t0;
        const v = await embedText(embedder, text);
        if (E === 0) E = v.length;
        if (v.length !== E || E === 0)
          throw new Error(`teacher: embedding of ${s}[${i}] has ${v.length} values, expected ${E}`);
        rows.push(v);
        meter.sample();
        if (++done % 10 === 0) ctx.progress(0.25 * (done / total), `GGUF teacher ${done}/${total}`);
      }
      // the teacher's own inference (the prompt's forward pass), not the student's embedding
      if (s === 'test') inferSecondsPerSample = teacherMs / 1000 / Math.max(1, items.length);
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
        description: `GGUF ${t.modelPath} through node-llama-cpp, label words ${words.join(', ')}; student embedding: the model's embedding context (${E} wide)`,
        params: ggufParamCount(model),
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
    await dispose();
  }
}
