// The `qdllm` config: data, teacher, student and baselines, with the paper's defaults (Adam lr 0.06,
// 10 epochs, batch 8, n = 11 qubits, L = 11 layers, s = 10, α = 0.9, T = 2, 5 seeds).
import { z } from 'zod';
import { BUNDLED_CLASSIFICATION, datasetNameProblem } from '../../data/names';
import { DISTILL_MODES } from '../../nn/distill-loss';
import { GPU_F64_MESSAGE, PrecisionSchema } from '../../quantum/precision';

const int = (lo: number, hi: number) => z.number().int().min(lo).max(hi);

export const LabTeacherSchema = z
  .object({
    source: z.literal('lab-transformer'),
    /** Corpus the LM is pretrained on (and its BPE tokenizer trained on). */
    corpus: z.enum(['brown', 'moby-dick']).default('brown'),
    /** A Hugging Face model directory (config.json + safetensors + tokenizer.json) instead of pretraining. */
    modelDir: z.string().min(1).nullable().default(null),
    /** Characters of the corpus's train split used for the tokenizer and the pretraining stream. */
    corpusChars: int(1000, 50_000_000).default(400_000),
    vocabSize: int(260, 65_536).default(1024),
    hiddenSize: int(8, 4096).default(64),
    layers: int(1, 48).default(2),
    heads: int(1, 64).default(4),
    intermediateSize: int(8, 16_384).default(172),
    pretrainSteps: int(0, 1_000_000).default(300),
    pretrainBatch: int(1, 512).default(8),
    pretrainSeqLen: int(4, 4096).default(64),
    pretrainLr: z.number().positive().max(1).default(3e-3),
    /** LoRA rank (the paper: 200 on 1–8B models; the lab's small teacher defaults to 8). */
    loraRank: int(1, 1024).default(8),
    /** LoRA α; the adapter adds (α/r)·B·A. Defaults to 2r. */
    loraAlpha: z.number().positive().nullable().default(null),
    /** Which projections get adapters (regex over names like model.layers.0.self_attn.q_proj). */
    loraTargets: z.string().min(1).default('(q|v)_proj$'),
    finetuneEpochs: int(0, 1000).default(3),
    finetuneBatch: int(1, 512).default(8),
    finetuneLr: z.number().positive().max(1).default(2e-3),
    pooling: z.enum(['mean', 'last']).default('mean'),
    seed: int(0, 2 ** 31 - 1).default(0),
  })
  .strict();

export const GgufTeacherSchema = z
  .object({
    source: z.literal('gguf'),
    modelPath: z.string().min(1),
    /** Prompt template: {text} is the sample, {labels} the label words joined by ", ". */
    prompt: z.string().min(1).default('Classify the text as one of: {labels}.\nText: {text}\nAnswer:'),
    /** One word per class whose first token's logit at the last position is the class logit; default the class names. */
    labelWords: z.array(z.string().min(1)).nullable().default(null),
    contextSize: int(64, 131_072).default(2048),
    /** Characters of each text put into the prompt. */
    maxTextChars: int(16, 1_000_000).default(2000),
    /** BPE vocabulary (trained on the training texts) for the transformer student: the GGUF vocabulary is too big for it. */
    studentVocabSize: int(260, 65_536).default(1024),
  })
  .strict();

export const TeacherSchema = z.discriminatedUnion('source', [LabTeacherSchema, GgufTeacherSchema]);
export type LabTeacherConfig = z.infer<typeof LabTeacherSchema>;
export type GgufTeacherConfig = z.infer<typeof GgufTeacherSchema>;
export type TeacherConfig = z.infer<typeof TeacherSchema>;

export const QdllmConfigSchema = z
  .object({
    /** A bundled classification dataset (spam-assassin, brown-topics) or a .csv/.tsv/.jsonl path. */
    dataset: z.string().min(1).default('spam-assassin'),
    textColumn: z.string().min(1).default('text'),
    labelColumn: z.string().min(1).default('label'),
    dataSeed: int(0, 2 ** 31 - 1).default(0),
    /** Keep at most this many samples per class (split 6:2:2); null keeps every sample. */
    samplesPerClass: int(5, 10_000_000).nullable().default(null),
    /** Tokens kept from the start of each text. */
    maxTokens: int(1, 4096).default(64),
    teacher: TeacherSchema.default(LabTeacherSchema.parse({ source: 'lab-transformer' })),
    /** The student's frozen text embedding: mean of the teacher's token embeddings, or of its final hidden states. */
    embedding: z.enum(['tokens', 'hidden']).default('tokens'),
    qubits: int(2, 24).default(11),
    layers: int(1, 64).default(11),
    /** Min-max rescale target: angles in [0, s]. */
    scale: z.number().positive().max(100).default(10),
    lr: z.number().positive().max(10).default(0.06),
    epochs: int(1, 1000).default(10),
    batchSize: int(1, 4096).default(8),
    alpha: z.number().min(0, 'must be in [0, 1]').max(1, 'must be in [0, 1]').default(0.9),
    temperature: z.number().positive().max(100).default(2),
    loss: z.enum(DISTILL_MODES).default('all'),
    /** Also train the quantum student with each loss alone (ce, kl, js) beside "all". */
    ablation: z.boolean().default(false),
    seeds: int(1, 100).default(5),
    backend: z.enum(['cpu', 'gpu']).default('cpu'),
    /** State-vector precision: f32 = complex64 (fast; WebAssembly SIMD from 5 qubits), f64 = complex128 (cpu only, reference). */
    precision: PrecisionSchema,
    mlp: z
      .object({ enabled: z.boolean().default(true), lr: z.number().positive().max(10).default(0.01) })
      .strict()
      .default({ enabled: true, lr: 0.01 }),
    transformerStudent: z
      .object({
        enabled: z.boolean().default(true),
        hiddenSize: int(4, 2048).default(32),
        layers: int(1, 24).default(2),
        heads: int(1, 32).default(2),
        intermediateSize: int(4, 8192).default(64),
        lr: z.number().positive().max(1).default(2e-3),
      })
      .strict()
      .default({ enabled: true, hiddenSize: 32, layers: 2, heads: 2, intermediateSize: 64, lr: 2e-3 }),
  })
  .strict()
  .superRefine((c, ctx) => {
    const problem = datasetNameProblem(c.dataset);
    if (problem) ctx.addIssue({ code: 'custom', path: ['dataset'], message: problem });
    if (c.backend === 'gpu' && c.precision === 'f64')
      ctx.addIssue({ code: 'custom', path: ['precision'], message: GPU_F64_MESSAGE });
    const classes = BUNDLED_CLASSIFICATION[c.dataset];
    if (classes !== undefined && c.qubits < classes)
      ctx.addIssue({
        code: 'custom',
        path: ['qubits'],
        message: `${c.qubits} qubits cannot give ${classes} classes of ${c.dataset} a measured value each; need qubits ≥ ${classes}`,
      });
    const ts = c.transformerStudent;
    if (ts.hiddenSize % ts.heads !== 0 || (ts.hiddenSize / ts.heads) % 2 !== 0)
      ctx.addIssue({
        code: 'custom',
        path: ['transformerStudent', 'heads'],
        message: `hiddenSize ${ts.hiddenSize} must split into ${ts.heads} heads of even width`,
      });
    if (c.teacher.source === 'lab-transformer' && c.teacher.modelDir === null) {
      const t = c.teacher;
      if (t.hiddenSize % t.heads !== 0 || (t.hiddenSize / t.heads) % 2 !== 0)
        ctx.addIssue({
          code: 'custom',
          path: ['teacher', 'heads'],
          message: `hiddenSize ${t.hiddenSize} must split into ${t.heads} heads of even width`,
        });
    }
    if (c.teacher.source === 'lab-transformer') {
      try {
        new RegExp(c.teacher.loraTargets);
      } catch (e) {
        ctx.addIssue({
          code: 'custom',
          path: ['teacher', 'loraTargets'],
          message: `not a valid regular expression: ${(e as Error).message}`,
        });
      }
    }
  });

export type QdllmConfig = z.infer<typeof QdllmConfigSchema>;

/** Refuses a config whose data turned out to have more classes than qubits (imported files). */
export function checkQubitsForClasses(qubits: number, classes: number, dataset: string): void {
  if (qubits < classes)
    throw new Error(
      `qubits: ${qubits} qubits cannot give the ${classes} classes of ${dataset} a measured value each; need qubits ≥ ${classes}`,
    );
}
