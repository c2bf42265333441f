// The `qdllm` config: data, teacher, student and baselines, with the paper's defaults (Adam lr 0.06,
// 10 epochs, batch 8, n = 11 qubits, L = 11 layers, s = 10, α = 0.9, T = 2, 5 seeds). Isomorphic: the
// renderer's wizard validates with it; labels and help travel in `.meta()`/`.describe()` (core/methods/meta.ts).
import { z } from 'zod';
import { BUNDLED_CLASSIFICATION, datasetNameProblem } from '../../data/names';
import type { DistillMode } from '../../nn/distill-loss';
import { GPU_F64_MESSAGE, PrecisionSchema } from '../../quantum/precision';
import { checkEvenHeads, COLUMN_FIELDS, lmFields } from '../metadata/shared-fields';
import { about, PRECISION_LABELS } from '../metadata/meta';
import { LrFactorsSchema } from '../metadata/tuning-fields';
import { QDLLM_ANSATZE } from './circuit';

const int = (lo: number, hi: number) => z.number().int().min(lo).max(hi);
const rate = (hi: number) => z.number().positive().max(hi);
const sweep = (title: string, unit?: string) => about(title, { sweepable: true, unit });

/** The distillation losses (core/nn/distill-loss.ts's DISTILL_MODES; a test keeps them equal). */
export const LOSS_MODES = ['ce', 'kl', 'js', 'all'] as const satisfies readonly DistillMode[];

const LAB_LM_DEFAULTS = {
  minChars: 1000,
  vocabSize: 1024,
  intermediateSize: 172,
  widthHelp: 'Hidden size; also the width E of the student embedding.',
};
const LAB_LM = lmFields(['corpus'], LAB_LM_DEFAULTS);
const LAB_LM_SHAPE = lmFields(
  ['corpusChars', 'vocabSize', 'hiddenSize', 'layers', 'heads', 'intermediateSize'],
  LAB_LM_DEFAULTS,
);

export const LabTeacherSchema = z
  .object({
    source: z.literal('lab-transformer'),
    corpus: LAB_LM.corpus,
    modelDir: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .meta(about('model directory'))
      .describe(
        'A Hugging Face directory (config.json, safetensors, tokenizer.json) instead of pretraining.',
      ),
    ...LAB_LM_SHAPE,
    pretrainSteps: int(0, 1_000_000)
      .default(300)
      .meta(about('pretraining steps', { unit: 'steps' }))
      .describe('Causal-LM steps before fine-tuning.'),
    pretrainBatch: int(1, 512)
      .default(8)
      .meta(about('pretraining batch', { unit: 'sequences' }))
      .describe('Sequences per pretraining step.'),
    pretrainSeqLen: int(4, 4096)
      .default(64)
      .meta(about('pretraining length', { unit: 'tokens' }))
      .describe('Tokens per pretraining sequence.'),
    pretrainLr: rate(1)
      .default(3e-3)
      .meta(about('pretraining lr'))
      .describe('AdamW learning rate of pretraining.'),
    loraRank: int(1, 1024)
      .default(8)
      .meta(about('LoRA rank'))
      .describe('Rank r of the adapters (the paper: 200 on 1–8B models).'),
    loraAlpha: z
      .number()
      .positive()
      .nullable()
      .default(null)
      .meta(about('LoRA α'))
      .describe('The adapter adds (α/r)·B·A; empty: 2r.'),
    loraTargets: z
      .string()
      .min(1)
      .default('(q|v)_proj$')
      .meta(about('LoRA targets'))
      .describe('Regular expression over projection names (model.layers.0.self_attn.q_proj…).'),
    finetune: z
      .enum(['lora', 'full'])
      .default('lora')
      .meta(about('fine-tuning', { optionLabels: { lora: 'LoRA + head', full: 'every weight + head' } }))
      .describe(
        'lora: adapters on loraTargets and the head train (the paper); full: every weight of the model and the head train (a small model reaches the data’s floor this way).',
      ),
    finetuneEpochs: int(0, 1000)
      .default(3)
      .meta(about('fine-tuning epochs', { unit: 'epochs' }))
      .describe('Epochs of LoRA + classification-head training before the adapters are merged and frozen.'),
    finetuneBatch: int(1, 512)
      .default(8)
      .meta(about('fine-tuning batch', { unit: 'samples' }))
      .describe('Samples per fine-tuning step.'),
    finetuneLr: rate(1)
      .default(2e-3)
      .meta(about('fine-tuning lr'))
      .describe('Adam learning rate of fine-tuning.'),
    pooling: z
      .enum(['mean', 'last'])
      .default('mean')
      .meta(about('pooling'))
      .describe('How the classification head pools the hidden states: mean over tokens, or the last token.'),
    seed: int(0, 2 ** 31 - 1)
      .default(0)
      .meta(about('teacher seed'))
      .describe('Seed of the teacher’s initialisation and training, apart from the run seed.'),
  })
  .strict();

export const GgufTeacherSchema = z
  .object({
    source: z.literal('gguf'),
    modelPath: z
      .string()
      .min(1)
      .meta(about('GGUF file'))
      .describe('Path to the .gguf model on this machine.'),
    prompt: z
      .string()
      .min(1)
      .default('Classify the text as one of: {labels}.\nText: {text}\nAnswer:')
      .meta(about('prompt'))
      .describe('Template: {text} is the sample, {labels} the label words joined by ", ".'),
    labelWords: z
      .array(z.string().min(1))
      .nullable()
      .default(null)
      .meta(about('label words'))
      .describe('One word per class (its first token’s logit is the class logit); empty: the class names.'),
    contextSize: int(64, 131_072)
      .default(2048)
      .meta(about('context size', { unit: 'tokens' }))
      .describe('Context window of the GGUF model.'),
    maxTextChars: int(16, 1_000_000)
      .default(2000)
      .meta(about('text characters', { unit: 'characters' }))
      .describe('Characters of each text put into the prompt.'),
    studentVocabSize: int(260, 65_536)
      .default(1024)
      .meta(about('student vocabulary', { unit: 'tokens' }))
      .describe('BPE vocabulary (trained on the training texts) of the transformer student.'),
  })
  .strict();

export const TeacherSchema = z
  .discriminatedUnion('source', [LabTeacherSchema, GgufTeacherSchema])
  .meta(about('teacher', { optionLabels: { 'lab-transformer': 'lab transformer', gguf: 'GGUF file' } }))
  .describe('A transformer the lab pretrains (or loads from a directory), or a GGUF model.');
export type LabTeacherConfig = z.infer<typeof LabTeacherSchema>;
export type GgufTeacherConfig = z.infer<typeof GgufTeacherSchema>;
export type TeacherConfig = z.infer<typeof TeacherSchema>;

const MlpSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .meta(about('MLP baseline'))
      .describe('An MLP student on the same embedding, sized to the quantum student’s parameter count.'),
    lr: rate(10).default(0.01).meta(sweep('MLP lr')).describe('Adam learning rate of the MLP student.'),
  })
  .strict();

const TransformerStudentSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .meta(about('transformer baseline'))
      .describe('A small transformer student trained from scratch with the same loss (DistilBERT-style).'),
    hiddenSize: int(4, 2048)
      .default(32)
      .meta(sweep('transformer width'))
      .describe('Hidden size of the transformer student.'),
    layers: int(1, 24)
      .default(2)
      .meta(sweep('transformer layers'))
      .describe('Layers of the transformer student.'),
    heads: int(1, 32)
      .default(2)
      .meta(about('transformer heads'))
      .describe('Attention heads; the width must split into heads of even width.'),
    intermediateSize: int(4, 8192)
      .default(64)
      .meta(about('transformer MLP width'))
      .describe('Feed-forward width.'),
    lr: rate(1)
      .default(2e-3)
      .meta(sweep('transformer lr'))
      .describe('Adam learning rate of the transformer student.'),
  })
  .strict();

export const QdllmConfigSchema = z
  .object({
    dataset: z
      .string()
      .min(1)
      .default('spam-assassin')
      // a path (not a bundled name) is a labelled data file with the columns below
      .meta(about('dataset', { dataFile: { text: 'textColumn', label: 'labelColumn' } }))
      .describe('A bundled classification set (spam-assassin, brown-topics) or a .csv/.tsv/.jsonl path.'),
    ...COLUMN_FIELDS,
    dataSeed: int(0, 2 ** 31 - 1)
      .default(0)
      .meta(about('split seed'))
      .describe(
        'Seed of the 6:2:2 split, apart from the run seed so every run of a study sees the same split.',
      ),
    samplesPerClass: int(5, 10_000_000)
      .nullable()
      .default(null)
      .meta(sweep('samples per class', 'samples'))
      .describe('Keep at most this many samples per class (split 60/20/20 %); empty keeps every sample.'),
    maxTokens: int(1, 4096)
      .default(64)
      .meta(sweep('max tokens', 'tokens'))
      .describe('Tokens kept from the start of each text.'),
    teacher: TeacherSchema.default(LabTeacherSchema.parse({ source: 'lab-transformer' })),
    embedding: z
      .enum(['tokens', 'hidden'])
      .default('hidden')
      .meta(sweep('embedding'))
      .describe(
        'The frozen text embedding: mean of the teacher’s final (contextual) hidden states, the default and closest to the paper’s BERT features; or the mean of its static token embeddings.',
      ),
    qubits: int(2, 24)
      .default(11)
      .meta(sweep('qubits n', 'qubits'))
      .describe('Linear(E → n) feeds n RX angles; ⟨Z⟩ is read on every qubit (n ≥ classes). Paper: 11.'),
    layers: int(1, 64)
      .default(11)
      .meta(sweep('layers L', 'layers'))
      .describe('QD-LLM ansatz layers (RZ·RY·RZ, RZZ chain, RZ·RY·RZ, CNOT chain). Paper: 11.'),
    ansatz: z
      .enum(QDLLM_ANSATZE)
      .default('text')
      .meta(
        about('ansatz', {
          sweepable: true,
          optionLabels: {
            text: "paper's text (7n − 1 per layer)",
            authors: "authors' code (7n − 5 per layer)",
          },
        }),
      )
      .describe(
        "text: RZ·RY·RZ, RZZ chain, RZ·RY·RZ, CNOT chain (9,319 parameters at the paper's size); authors: the authors' public circuit (the paper's 9,275).",
      ),
    scale: rate(100)
      .default(10)
      .meta(sweep('scale s'))
      .describe('Per-sample min-max rescale of the n values to angles in [0, s]. Paper: 10.'),
    lr: rate(10)
      .default(0.06)
      .meta(sweep('learning rate'))
      .describe('Adam learning rate of the quantum student. Paper: 0.06.'),
    lrFactors: LrFactorsSchema,
    epochs: int(1, 1000)
      .default(10)
      .meta(sweep('epochs', 'epochs'))
      .describe('Training epochs of every student. Paper: 10.'),
    batchSize: int(1, 4096)
      .default(8)
      .meta(sweep('batch', 'samples'))
      .describe('Samples per Adam step. Paper: 8.'),
    alpha: z
      .number()
      .min(0, 'must be in [0, 1]')
      .max(1, 'must be in [0, 1]')
      .default(0.9)
      .meta(sweep('guidance α'))
      .describe('Loss = (1 − α)·CE + α·(T²·KL + JS) against the teacher. Paper: 0.9.'),
    temperature: rate(100)
      .default(2)
      .meta(sweep('temperature T'))
      .describe('Softmax temperature of the KL and JS terms (KL scaled by T²).'),
    loss: z
      .enum(LOSS_MODES)
      .default('all')
      .meta(
        about('loss', {
          sweepable: true,
          optionLabels: { all: 'all (CE + KL + JS)', ce: 'ce only', kl: 'kl only', js: 'js only' },
        }),
      )
      .describe('all: the paper’s loss; ce, kl or js alone for the ablation.'),
    ablation: z
      .boolean()
      .default(false)
      .meta(about('loss ablation'))
      .describe('Also train the quantum student with each loss alone (ce, kl, js) beside "all".'),
    seeds: int(1, 100)
      .default(5)
      .meta(about('seeds', { unit: 'runs' }))
      .describe('Repeats; metrics are mean ± std over them. Paper: 5.'),
    vary: z
      .array(z.enum(['split', 'teacher']))
      .max(2)
      .default([])
      .meta(about('seeds also vary'))
      .describe(
        'Besides the students’ initialisation and batch order, each seed k also draws its own split (dataSeed + k) and/or trains its own teacher (teacher seed + k).',
      ),
    backend: z
      .enum(['cpu', 'gpu'])
      .default('cpu')
      .meta(about('simulator'))
      .describe('State-vector simulator of the student: CPU, or GPU where the machine has one.'),
    precision: PrecisionSchema.meta(about('precision', { optionLabels: PRECISION_LABELS })).describe(
      'Amplitudes of the simulated state: complex64 or complex128 for reference runs (both on WebAssembly SIMD from 2 qubits); the gpu runs f32 only.',
    ),
    mlp: MlpSchema.default({ enabled: true, lr: 0.01 }),
    transformerStudent: TransformerStudentSchema.default({
      enabled: true,
      hiddenSize: 32,
      layers: 2,
      heads: 2,
      intermediateSize: 64,
      lr: 2e-3,
    }),
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
    checkEvenHeads(ctx, ['transformerStudent', 'heads'], c.transformerStudent);
    if (c.vary.includes('teacher') && c.teacher.source === 'gguf')
      ctx.addIssue({
        code: 'custom',
        path: ['vary'],
        message: 'a GGUF teacher is a fixed model: it cannot vary with the seed',
      });
    if (c.teacher.source === 'lab-transformer' && c.teacher.modelDir === null)
      checkEvenHeads(ctx, ['teacher', 'heads'], c.teacher);
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
