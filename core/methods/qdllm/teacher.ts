// The QD-LLM teacher: a language model turned classifier, built once, frozen, and asked for its class
// logits and its frozen text embedding on every split. Its outputs are cached per (teacher, data, split).
//   lab-transformer: a LLaMA-flavour transformer pretrained as an LM on a bundled corpus (BPE trained on the
//     same corpus) or loaded from a model directory, then fine-tuned with LoRA + a classification head and
//     merged (the paper's LoRA teacher).
//   gguf: see gguf-teacher.ts.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { getDataset, type TextDocument } from '../../data';
import { excludeHeldOut } from '../../data/dedup';
import { loadModelDir } from '../../nn/checkpoint';
import { applyLora } from '../../nn/lora';
import { Adam, AdamW } from '../../nn/optim';
import { Rng } from '../../util/rng';
import { sampleWindows } from '../../nn/lm-windows';
import { softmaxCrossEntropyBackward, softmaxCrossEntropyForward } from '../../nn/losses';
import { countParameters, zeroGrad, type Parameter } from '../../nn/tensor';
import { ByteLevelBpe, type Tokenizer } from '../../nn/tokenizers';
import { Transformer, withResidentTraining } from '../../nn/transformer';
import { type TextData } from '../../data/text';
import { SPLIT_NAMES, type SplitName } from '../../data/names';
import { ResourceMeter } from '../harness/meter';
import {
  encodeTexts,
  meanTokenEmbeddings,
  padBatch,
  TransformerClassifier,
  type EncodedTexts,
} from '../../nn/text-classifier';
import type { JobContext } from '../job';
import {
  readTeacherSplit,
  teacherCacheKey,
  teacherCachePath,
  writeTeacherSplit,
  type TeacherInfo,
  type TeacherSplit,
} from './cache';
import { buildGgufTeacher } from './gguf-teacher';
import type { LabTeacherConfig, QdllmConfig } from './schema';

export interface TeacherOutputs {
  splits: Record<SplitName, TeacherSplit>;
  C: number;
  info: TeacherInfo;
  /** 'hit': every split came from the cache; 'miss': the teacher was built (and the cache written). */
  cache: 'hit' | 'miss';
  key: string;
}

/** Hooks for tests: see the teacher right after it is built and frozen. */
export interface TeacherHooks {
  onTeacherBuilt?(params: Parameter[]): void;
}

function cancelled(ctx: JobContext): void {
  if (ctx.signal.aborted) throw new Error('cancelled');
}

async function pretrainedModel(
  t: LabTeacherConfig,
  maxTokens: number,
  ctx: JobContext,
  heldOut: readonly TextDocument[],
): Promise<{ model: Transformer; tokenizer: Tokenizer; note: string }> {
  if (t.modelDir !== null) {
    const loaded = await loadModelDir(t.modelDir, { maxSeqLen: maxTokens });
    if (!loaded.tokenizer)
      throw new Error(
        `teacher.modelDir: ${t.modelDir} has no usable tokenizer (${loaded.tokenizerIssue ?? 'unknown'})`,
      );
    return { model: loaded.model, tokenizer: loaded.tokenizer, note: `loaded from ${t.modelDir}` };
  }
  const corpus = getDataset(t.corpus);
  if (corpus.kind !== 'lm') throw new Error(`teacher.corpus: ${t.corpus} is not a text corpus`);
  // never pretrain on a document the comparison evaluates on (brown-topics' texts are Brown documents)
  const { docs, excluded } = excludeHeldOut(corpus.splits.train, heldOut);
  const text = docs
    .map((d) => d.text)
    .join('\n')
    .slice(0, t.corpusChars);
  const tokenizer = ByteLevelBpe.train([text], { vocabSize: t.vocabSize });
  const stream = Int32Array.from(tokenizer.encode(text));
  const T = t.pretrainSeqLen;
  if (t.pretrainSteps > 0 && stream.length < T + 2)
    throw new Error(`teacher.corpusChars: ${stream.length} tokens are too few for windows of ${T}`);
  const model = new Transformer(
    {
      flavour: 'llama',
      vocabSize: tokenizer.vocabSize,
      hiddenSize: t.hiddenSize,
      intermediateSize: t.intermediateSize,
      numLayers: t.layers,
      numHeads: t.heads,
      maxSeqLen: Math.max(T, maxTokens),
      tieEmbeddings: true,
    },
    { seed: t.seed, dtype: 'f32' },
  );
  model.training = true;
  const opt = new AdamW(model.parameters(), { weightDecay: 0.01 });
  const rng = new Rng(t.seed ^ 0x5eed);
  const B = t.pretrainBatch;
  const tokens = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  withResidentTraining(model, opt, () => {
    for (let step = 1; step <= t.pretrainSteps; step++) {
      cancelled(ctx);
      sampleWindows(stream, B, T, rng, tokens, targets);
      zeroGrad(model.parameters());
      const loss = model.lmForward(tokens, B, T, targets);
      model.lmBackward();
      opt.step(t.pretrainLr);
      if (step % 10 === 0 || step === t.pretrainSteps) {
        ctx.metrics([{ key: 'teacher/pretrain_loss', step, value: loss }]);
        ctx.progress(0.15 * (step / t.pretrainSteps), `teacher pretraining ${step}/${t.pretrainSteps}`);
      }
    }
  });
  model.training = false;
  return {
    model,
    tokenizer,
    note: `pretrained ${t.pretrainSteps} steps on ${stream.length} tokens of ${t.corpus} (${excluded} document(s) of the validation and test splits left out), BPE vocabulary ${tokenizer.vocabSize}`,
  };
}

/** Builds, fine-tunes, merges and freezes the lab transformer teacher and computes its outputs. */
async function buildLabTeacher(
  cfg: QdllmConfig,
  t: LabTeacherConfig,
  data: TextData,
  ctx: JobContext,
  hooks: TeacherHooks,
): Promise<{ splits: Record<SplitName, TeacherSplit>; info: TeacherInfo }> {
  const meter = new ResourceMeter().start();
  const C = data.classes.length;
  const heldOut = [...data.splits.validation, ...data.splits.test];
  const { model, tokenizer, note } = await pretrainedModel(t, cfg.maxTokens, ctx, heldOut);
  const enc = {} as Record<SplitName, EncodedTexts>;
  for (const s of SPLIT_NAMES)
    enc[s] = encodeTexts(
      tokenizer,
      data.splits[s].map((x) => x.text),
      cfg.maxTokens,
    );
  const labels = {} as Record<SplitName, Int32Array>;
  for (const s of SPLIT_NAMES) labels[s] = Int32Array.from(data.splits[s].map((x) => x.label));

  // fine-tuning for the task: LoRA adapters and the classification head, or every weight and the head
  const clf = new TransformerClassifier(model, C, t.pooling, t.seed + 1, 'teacher');
  const adapters =
    t.finetune === 'lora'
      ? applyLora(model, new RegExp(t.loraTargets), {
          rank: t.loraRank,
          alpha: t.loraAlpha ?? 2 * t.loraRank,
          seed: t.seed + 2,
        })
      : [];
  if (t.finetune === 'full') for (const p of clf.parameters()) p.frozen = false;
  const trainable = clf.parameters().filter((p) => !p.frozen);
  const trainableParams = countParameters(trainable);
  const opt = new Adam(trainable);
  const rng = new Rng(t.seed + 3);
  const N = labels.train.length;
  const order = Int32Array.from({ length: N }, (_, i) => i);
  let step = 0;
  const ftStart = performance.now();
  for (let epoch = 1; epoch <= t.finetuneEpochs; epoch++) {
    for (let i = N - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const tmp = order[i];
      order[i] = order[j];
      order[j] = tmp;
    }
    let sum = 0;
    for (let a = 0; a < N; a += t.finetuneBatch) {
      cancelled(ctx);
      const rows = order.subarray(a, Math.min(N, a + t.finetuneBatch));
      const B = rows.length;
      const y = Int32Array.from(rows, (r) => labels.train[r]);
      zeroGrad(trainable);
      const logits = clf.forward(padBatch(enc.train, rows));
      const probs = new Float64Array(B * C);
      const { loss, count } = softmaxCrossEntropyForward(probs, logits, y, B, C);
      const dlogits = new Float64Array(B * C);
      softmaxCrossEntropyBackward(dlogits, probs, y, B, C, count);
      clf.backward(dlogits);
      opt.step(t.finetuneLr);
      sum += loss * B;
      ctx.metrics([{ key: 'teacher/finetune_step_loss', step: ++step, value: loss }]);
      meter.sample();
    }
    ctx.metrics([{ key: 'teacher/finetune_loss', step: epoch, value: sum / N }]);
    ctx.progress(0.15 + 0.1 * (epoch / t.finetuneEpochs), `teacher fine-tuning ${epoch}/${t.finetuneEpochs}`);
  }
  const finetuneSeconds = (performance.now() - ftStart) / 1000;
  // the paper merges W' = W + BA; the teacher is frozen from here on
  for (const a of adapters) a.merge();
  const loraParams = adapters.reduce((n, a) => n + countParameters(a.parameters()), 0);
  const all = clf.parameters();
  for (const p of all) p.frozen = true;
  hooks.onTeacherBuilt?.(all);

  const E = model.config.hiddenSize;
  const splits = {} as Record<SplitName, TeacherSplit>;
  let inferSecondsPerSample = 0;
  for (const s of SPLIT_NAMES) {
    const n = labels[s].length;
    const logits = new Float64Array(n * C);
    const hiddenEmb = cfg.embedding === 'hidden' ? new Float64Array(n * E) : null;
    const t0 = performance.now();
    for (let a = 0; a < n; a += 16) {
      cancelled(ctx);
      const rows = Int32Array.from({ length: Math.min(16, n - a) }, (_, i) => a + i);
      const batch = padBatch(enc[s], rows);
      const out = clf.forward(batch);
      logits.set(out, a * C);
      if (hiddenEmb) {
        const pooled = clf.pool(batch);
        for (let i = 0; i < pooled.length; i++) hiddenEmb[a * E + i] = pooled[i];
      }
      meter.sample();
    }
    if (s === 'test') inferSecondsPerSample = (performance.now() - t0) / 1000 / n;
    const embeddings = hiddenEmb ?? meanTokenEmbeddings(model.embed.data, E, enc[s]);
    splits[s] = { logits, embeddings, labels: labels[s], tokens: enc[s] };
  }
  const reading = meter.stop();
  return {
    splits,
    info: {
      description: `LLaMA-flavour transformer ${model.config.numLayers}×${E} (${note}); ${t.finetune === 'lora' ? `LoRA rank ${t.loraRank} on ${t.loraTargets}` : 'every weight'} + head fine-tuned ${t.finetuneEpochs} epochs at lr ${t.finetuneLr} (${finetuneSeconds.toFixed(1)} s)${t.finetune === 'lora' ? ', merged' : ''}`,
      params: countParameters(all) - loraParams,
      trainableParams,
      buildSeconds: reading.seconds,
      finetuneSeconds,
      finetuneEpochs: t.finetuneEpochs,
      inferSecondsPerSample,
      peakRssMb: reading.peakRssMb,
      peakHeapMb: reading.peakHeapMb,
      vocabSize: tokenizer.vocabSize,
      E,
    },
  };
}

/** Size and modification time of the teacher's model file (GGUF) or of every file of its model directory. */
export function modelIdentity(t: QdllmConfig['teacher']): unknown {
  const path = t.source === 'gguf' ? t.modelPath : t.modelDir;
  if (path === null || path === undefined) return null;
  const stamp = (p: string) => {
    const st = statSync(p);
    return { size: st.size, mtimeMs: st.mtimeMs };
  };
  try {
    if (!statSync(path).isDirectory()) return stamp(path);
    return readdirSync(path)
      .sort()
      .map((f) => [f, stamp(join(path, f))]);
  } catch {
    return null; // missing: the load reports it
  }
}

/** The teacher's outputs for every split: from the cache when all three files are valid, else built and cached. */
export async function teacherOutputs(
  cfg: QdllmConfig,
  data: TextData,
  ctx: JobContext,
  hooks: TeacherHooks = {},
): Promise<TeacherOutputs> {
  const C = data.classes.length;
  const key = teacherCacheKey({
    // 2: pretraining leaves out the evaluation splits' documents
    version: 2,
    teacher: cfg.teacher,
    // a model replaced at the same path must not reuse the old model's outputs
    model: modelIdentity(cfg.teacher),
    maxTokens: cfg.maxTokens,
    embedding: cfg.embedding,
    data: data.id,
    classes: data.classes,
  });
  const cached = {} as Record<SplitName, TeacherSplit>;
  let info: TeacherInfo | null = null;
  let hits = 0;
  for (const s of SPLIT_NAMES) {
    const path = teacherCachePath(ctx.cacheDir, key, s);
    const r = readTeacherSplit(path, key, s);
    const expected = data.splits[s];
    if (
      r.ok &&
      r.C === C &&
      r.split.labels.length === expected.length &&
      r.split.labels.every((y, i) => y === expected[i].label)
    ) {
      cached[s] = r.split;
      info = r.info;
      hits++;
    } else {
      const why = r.ok ? 'labels differ from the dataset' : r.reason;
      if (why !== 'no cache file') ctx.log('warn', `teacher cache ${path} ignored (${why}); rebuilding`);
    }
  }
  if (hits === SPLIT_NAMES.length && info) {
    ctx.log('info', `teacher outputs read from the cache (${key.slice(0, 12)})`);
    return { splits: cached, C, info, cache: 'hit', key };
  }
  const built =
    cfg.teacher.source === 'gguf'
      ? await buildGgufTeacher(cfg, cfg.teacher, data, ctx)
      : await buildLabTeacher(cfg, cfg.teacher, data, ctx, hooks);
  for (const s of SPLIT_NAMES) {
    const path = teacherCachePath(ctx.cacheDir, key, s);
    try {
      writeTeacherSplit(path, key, s, built.splits[s], C, built.info);
    } catch (e) {
      ctx.log('warn', `could not write the teacher cache ${path}: ${(e as Error).message}`);
    }
  }
  return { splits: built.splits, C, info: built.info, cache: 'miss', key };
}
