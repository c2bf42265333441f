// The `qtha` config: a frozen base LM (pretrained here on one corpus, or a model directory), the task it is
// adapted to (causal LM on an unseen corpus, or instruction-style classification), the QTHA adapter (targets,
// r, architecture of the ablation, MPO width and bond), its LoRA baselines at r and 2r (and optionally full
// fine-tuning of the targets), one recipe for every model, seeds and a sweep of child runs over architectures
// and ranks. Isomorphic; cross-field rules (widths the MPOs can factorise, r ≥ 2 with a VQC, a target corpus
// the base did not see, a valid target pattern) are checked here so a bad config is refused before any work.
import { z } from 'zod';
import { BUNDLED_CLASSIFICATION, LM_CORPORA } from '../../data/names';
import { factorizeProblem, qthaParts, QTHA_ARCHITECTURES, type QthaArchitecture } from '../../nn/qtha-sizes';
import { PrecisionSchema } from '../../quantum/precision';
import { about, PRECISION_LABELS } from '../metadata/meta';
import { baseLmFields, checkEvenHeads, lmFields } from '../metadata/shared-fields';
import { LrFactorsSchema } from '../metadata/tuning-fields';

const int = (lo: number, hi: number) => z.number().int().min(lo).max(hi);
const rate = (hi: number) => z.number().positive().max(hi);
const sweep = (title: string, unit?: string) => about(title, { sweepable: true, unit });

export const ARCHITECTURE_LABELS: Readonly<Record<QthaArchitecture, string>> = {
  ABC: 'ABC: MPO + MLP + VQC (the paper’s)',
  A: 'A: MPO only',
  B: 'B: MLP only (classical branch)',
  C: 'C: quantum only (VQC branch)',
  AB: 'AB: MPO + MLP',
  BC: 'BC: MLP + VQC',
  'ABC-silu': 'ABC with a SiLU layer for the VQC',
};

const BASE_LM = lmFields(
  ['corpus', 'corpusChars', 'vocabSize', 'hiddenSize', 'layers', 'heads', 'intermediateSize'],
  {
    minChars: 1000,
    vocabSize: 512,
    intermediateSize: 128,
    widthHelp: 'Hidden size d of the base model: the MPOs factorise it into four factors (64 = 2·2·4·4).',
  },
);

const BASE_OWN = baseLmFields({
  pretrainSteps: 200,
  help: {
    modelDir: 'A Hugging Face directory (config.json, safetensors, tokenizer.json) instead of pretraining.',
    pretrainSteps: 'Causal-LM steps of the base model on its corpus before it is frozen.',
    pretrainLr: 'AdamW learning rate of pretraining.',
    seed: 'Seed of the base model’s initialisation and pretraining, apart from the run seed.',
  },
});

export const BaseSchema = z
  .object({
    modelDir: BASE_OWN.modelDir,
    ...BASE_LM,
    pretrainSteps: BASE_OWN.pretrainSteps,
    pretrainBatch: int(1, 512)
      .default(8)
      .meta(about('pretraining batch', { unit: 'sequences' }))
      .describe('Sequences per pretraining step.'),
    pretrainSeqLen: int(4, 4096)
      .default(64)
      .meta(about('pretraining length', { unit: 'tokens' }))
      .describe('Tokens per pretraining sequence.'),
    pretrainLr: BASE_OWN.pretrainLr,
    seed: BASE_OWN.seed,
  })
  .strict();
export type BaseConfig = z.infer<typeof BaseSchema>;

export const SweepSchema = z
  .object({
    architectures: z
      .array(z.enum(QTHA_ARCHITECTURES))
      .default([])
      .meta(about('architectures', { optionLabels: ARCHITECTURE_LABELS }))
      .describe('Ablation: one child run per architecture (× each rank), QTHA only, read on validation.'),
    ranks: z
      .array(int(1, 64))
      .default([])
      .meta(about('ranks r'))
      .describe('Ranks r of the sweep (empty: the run’s r).'),
    seeds: int(1, 100)
      .nullable()
      .default(null)
      .meta(about('sweep seeds', { unit: 'runs' }))
      .describe('Seeds per sweep point (empty: the run’s seeds).'),
  })
  .strict()
  .meta(about('sweep'))
  .describe('Child runs over architectures and ranks (QTHA only, read on validation).');
export type SweepConfig = z.infer<typeof SweepSchema>;

export const QthaConfigSchema = z
  .object({
    task: z
      .enum(['lm', 'classification'])
      .default('lm')
      .meta(
        about('task', {
          optionLabels: {
            lm: 'causal LM on an unseen corpus',
            classification: 'instruction-style classification',
          },
        }),
      )
      .describe(
        'Adapt the base to a corpus it did not see (loss, perplexity), or to answer with a label word after a prompt (accuracy).',
      ),
    base: BaseSchema.default(BaseSchema.parse({})),
    targetCorpus: z
      .enum(LM_CORPORA)
      .default('moby-dick')
      .meta(about('target corpus'))
      .describe('Bundled corpus the adapters are trained on (task lm); not the base’s corpus.'),
    targetChars: int(1000, 50_000_000)
      .default(100_000)
      .meta(sweep('target characters', 'characters'))
      .describe('Characters of the target corpus’s train split used for adaptation.'),
    evalChars: int(200, 10_000_000)
      .default(10_000)
      .meta(about('evaluation characters', { unit: 'characters' }))
      .describe('Characters of the validation and of the test split each (task lm).'),
    dataset: z
      .enum(Object.keys(BUNDLED_CLASSIFICATION) as [string, ...string[]])
      .default('brown-topics')
      .meta(about('dataset'))
      .describe('Bundled labelled set of the classification task (prompt + label word).'),
    samplesPerClass: int(5, 10_000_000)
      .nullable()
      .default(60)
      .meta(sweep('samples per class', 'samples'))
      .describe('Keep at most this many samples per class (split 60/20/20 %); empty keeps every sample.'),
    promptTokens: int(4, 4096)
      .default(48)
      .meta(about('text tokens', { unit: 'tokens' }))
      .describe('Tokens of each text put into the prompt (classification).'),
    dataSeed: int(0, 2 ** 31 - 1)
      .default(0)
      .meta(about('split seed'))
      .describe('Seed of the classification split, apart from the run seed.'),
    targets: z
      .string()
      .min(1)
      .default('(q|v)_proj$')
      .meta(about('targets'))
      .describe(
        'Regular expression over projection names (model.layers.0.self_attn.q_proj…): where the adapters sit.',
      ),
    rank: int(1, 64)
      .default(4)
      .meta(sweep('rank r'))
      .describe('r: the bottleneck width, the VQC’s qubits and layers; LoRA baselines at r and 2r.'),
    alpha: z
      .number()
      .positive()
      .nullable()
      .default(null)
      .meta(about('α'))
      .describe('Every adapter adds (α/r)·Δ(x); empty: 2r (α/r = 2).'),
    architecture: z
      .enum(QTHA_ARCHITECTURES)
      .default('ABC')
      .meta(about('architecture', { sweepable: true, optionLabels: ARCHITECTURE_LABELS }))
      .describe(
        'Which parts Δ has: A = MPOs d→m→d, B = classical branch CW·h, C = quantum branch QW·VQC(h).',
      ),
    mpoWidth: int(16, 4096)
      .default(256)
      .meta(sweep('MPO width m'))
      .describe('m, the side of MPO_A’s output and MPO_B’s input (paper: 256 = 4·4·4·4).'),
    mpoBond: int(1, 64)
      .default(8)
      .meta(about('MPO bond'))
      .describe('Internal bond rank of the 4-core MPOs (paper: [1, 8, 8, 8, 1]).'),
    vqcLayers: int(1, 64)
      .nullable()
      .default(null)
      .meta(about('VQC layers', { unit: 'layers' }))
      .describe('Layers of the VQC (empty: r, the paper’s).'),
    loraR: z
      .boolean()
      .default(true)
      .meta(about('LoRA at r'))
      .describe('Baseline: LoRA of rank r on the same projections.'),
    lora2R: z
      .boolean()
      .default(true)
      .meta(about('LoRA at 2r'))
      .describe('Baseline: LoRA of rank 2r on the same projections.'),
    full: z
      .boolean()
      .default(false)
      .meta(about('full fine-tuning'))
      .describe('Baseline: every weight of the target projections trained.'),
    steps: int(1, 1_000_000)
      .default(200)
      .meta(sweep('steps', 'steps'))
      .describe('Training steps of every model.'),
    batchSize: int(1, 512).default(8).meta(sweep('batch', 'sequences')).describe('Sequences per step.'),
    seqLen: int(4, 4096)
      .default(64)
      .meta(about('sequence length', { unit: 'tokens' }))
      .describe('Tokens per training window (task lm).'),
    lr: rate(1)
      .default(2e-3)
      .meta(sweep('learning rate'))
      .describe('Peak AdamW learning rate of every model, times each factor of the learning-rate search.'),
    lrFactors: LrFactorsSchema,
    warmupSteps: int(0, 1_000_000)
      .default(20)
      .meta(about('warmup', { unit: 'steps' }))
      .describe('Linear warmup, then cosine decay to 0 at the last step.'),
    weightDecay: z
      .number()
      .min(0)
      .max(1)
      .default(0.01)
      .meta(about('weight decay'))
      .describe('AdamW decoupled weight decay.'),
    clip: z
      .number()
      .positive()
      .max(1000)
      .default(1)
      .meta(about('gradient clip'))
      .describe('Global gradient-norm clip.'),
    evalEvery: int(1, 1_000_000)
      .default(50)
      .meta(about('evaluate every', { unit: 'steps' }))
      .describe('Validation loss/perplexity (or accuracy) every this many steps.'),
    seeds: int(1, 100)
      .default(3)
      .meta(about('seeds', { unit: 'runs' }))
      .describe('Repeats; every figure is mean ± std over them.'),
    precision: PrecisionSchema.meta(about('precision', { optionLabels: PRECISION_LABELS })).describe(
      'Amplitudes of the simulated VQC state: complex64 (fast) or complex128 (reference).',
    ),
    sweep: SweepSchema.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const b = c.base;
    if (b.modelDir === null) checkEvenHeads(ctx, ['base', 'heads'], b);
    try {
      new RegExp(c.targets);
    } catch (e) {
      ctx.addIssue({
        code: 'custom',
        path: ['targets'],
        message: `not a valid regular expression: ${(e as Error).message}`,
      });
    }
    if (c.task === 'lm' && b.modelDir === null && c.targetCorpus === b.corpus)
      ctx.addIssue({
        code: 'custom',
        path: ['targetCorpus'],
        message: `the base model is pretrained on ${b.corpus}; adapt it to a corpus it did not see`,
      });
    const archs = [c.architecture, ...(c.sweep?.architectures ?? [])];
    const ranks = [c.rank, ...(c.sweep?.ranks ?? [])];
    if (archs.some((a) => qthaParts(a).mpo)) {
      const w = factorizeProblem(c.mpoWidth, 'width');
      if (w) ctx.addIssue({ code: 'custom', path: ['mpoWidth'], message: w });
      const d = b.modelDir === null ? factorizeProblem(b.hiddenSize, 'width') : null;
      if (d)
        ctx.addIssue({
          code: 'custom',
          path: ['base', 'hiddenSize'],
          message: `${d}; pick a width such as 32, 48 or 64`,
        });
    }
    if (archs.some((a) => qthaParts(a).quantum)) {
      const bad = ranks.find((r) => r < 2);
      if (bad !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: c.rank < 2 ? ['rank'] : ['sweep', 'ranks'],
          message: `r = ${bad}: the VQC’s CRZ rings need at least 2 qubits`,
        });
      if (Math.max(...ranks) > 20)
        ctx.addIssue({ code: 'custom', path: ['rank'], message: 'the VQC is simulated: at most 20 qubits' });
    }
    if (!c.loraR && !c.lora2R && !c.full)
      ctx.addIssue({
        code: 'custom',
        path: ['loraR'],
        message: 'keep at least one baseline (LoRA at r, at 2r, or full fine-tuning)',
      });
    if (c.warmupSteps >= c.steps)
      ctx.addIssue({ code: 'custom', path: ['warmupSteps'], message: `must be below steps (${c.steps})` });
  });

export type QthaConfig = z.infer<typeof QthaConfigSchema>;
export type QthaInput = z.input<typeof QthaConfigSchema>;

/** α of every adapter of a run: the config's, or 2r. */
export function alphaOf(c: Pick<QthaConfig, 'alpha'>, r: number): number {
  return c.alpha ?? 2 * r;
}
