// The `qffn` config: the base causal LM (pretrained here on a bundled corpus, or a model directory), which blocks
// get a quantum FFN and which of their heads a quantum scorer, the circuits, the training recipe (AdamW, warmup,
// cosine, clipping; the paper's values in the paper-sized preset), the baselines and the fraction/depth sweep.
// Cross-field rules (qubits vs the width, heads vs the width, sweep levels) are checked here, so a bad config is
// refused naming its field before any row is written. Isomorphic: the renderer's wizard validates with it.
import { z } from 'zod';
import { PrecisionSchema } from '../../quantum/precision';
import { baseLmFields, checkEvenHeads, lmFields } from '../metadata/shared-fields';
import { LrFactorsSchema } from '../metadata/tuning-fields';
import { about, PRECISION_LABELS } from '../metadata/meta';

const int = (lo: number, hi: number) => z.number().int().min(lo).max(hi);
const rate = (hi: number) => z.number().positive().max(hi);
const sweep = (title: string, unit?: string) => about(title, { sweepable: true, unit });
const unit = (lo: string) => z.number().min(0, `must be in [0, 1]${lo}`).max(1, `must be in [0, 1]${lo}`);

/** Which blocks get a quantum FFN: evenly spaced ending at the last block, the first k, the last k, or seeded. */
export const PLACEMENTS = ['alternating', 'first', 'last', 'random'] as const;
export type Placement = (typeof PLACEMENTS)[number];

const BASE_LM = lmFields(
  ['corpus', 'corpusChars', 'vocabSize', 'hiddenSize', 'layers', 'heads', 'intermediateSize'],
  {
    minChars: 2000,
    vocabSize: 512,
    intermediateSize: 172,
    widthHelp: 'Hidden size d of the base LM: the quantum FFN amplitude-encodes d values on ⌈log2 d⌉ qubits.',
  },
);

const BASE_OWN = baseLmFields({
  pretrainSteps: 300,
  help: {
    modelDir:
      'A LLaMA/Qwen2 Hugging Face directory (config.json, safetensors, tokenizer.json) instead of pretraining.',
    pretrainSteps: 'Causal-LM steps of the base before it is compressed (AdamW, cosine).',
    pretrainLr: 'Peak AdamW learning rate of pretraining.',
    seed: 'Seed of the base model’s initialisation and pretraining batches, apart from the run seed.',
  },
});

export const BaseSchema = z
  .object({
    ...BASE_LM,
    ...BASE_OWN,
  })
  .strict();
export type BaseConfig = z.infer<typeof BaseSchema>;

export const SweepSchema = z
  .object({
    fractions: z
      .array(unit(''))
      .max(8)
      .default([])
      .meta(about('fraction levels'))
      .describe(
        'Quantum FFN fractions of the Table 2 ablation, one child run each (e.g. 0.25, 0.5, 1); empty: none.',
      ),
    depths: z
      .array(int(1, 16))
      .max(8)
      .default([])
      .meta(about('depth levels', { unit: 'layers' }))
      .describe('Circuit depths D of the depth ablation, one child run each (e.g. 4, 8); empty: none.'),
  })
  .strict();
export type QffnSweepConfig = z.infer<typeof SweepSchema>;

export const QffnConfigSchema = z
  .object({
    base: BaseSchema.default(BaseSchema.parse({})),
    // ---- which sub-layers become quantum
    fraction: unit(' (0, ¼, ½ or all of the FFN sub-layers)')
      .default(0.5)
      .meta(sweep('quantum FFN fraction'))
      .describe('Share of the blocks whose FFN becomes a quantum FFN, rounded to whole blocks. Paper: ½.'),
    placement: z
      .enum(PLACEMENTS)
      .default('alternating')
      .meta(
        about('placement', {
          sweepable: true,
          optionLabels: {
            alternating: 'alternating (evenly spaced, ending at the last block)',
            first: 'first blocks',
            last: 'last blocks',
            random: 'seeded random blocks',
          },
        }),
      )
      .describe('Which blocks get the quantum FFN.'),
    placementSeed: int(0, 2 ** 31 - 1)
      .default(0)
      .meta(about('placement seed'))
      .describe('Seed of the random placement.'),
    ffnForm: z
      .enum(['amplitude', 'bottleneck'])
      .default('amplitude')
      .meta(
        about('quantum FFN form', {
          sweepable: true,
          optionLabels: {
            amplitude: 'amplitude (the paper: d values on ⌈log2 d⌉ qubits)',
            bottleneck: 'bottleneck (QFFN-BERT: Linear d→n, RY, ⟨Z⟩, Linear n→d)',
          },
        }),
      )
      .describe(
        'amplitude: probabilities of the first d basis states, learned scale and bias, input norm restored.',
      ),
    qubits: int(1, 16)
      .nullable()
      .default(null)
      .meta(sweep('FFN qubits n', 'qubits'))
      .describe('Qubits of the quantum FFN; empty: ⌈log2 d⌉. The amplitude form needs exactly ⌈log2 d⌉.'),
    depth: int(1, 16)
      .default(4)
      .meta(sweep('circuit depth D', 'layers'))
      .describe('StronglyEntanglingLayers of the FFN circuit (and of the head circuits). Paper: 4–8.'),
    quantumHeads: z
      .boolean()
      .default(true)
      .meta(about('quantum heads'))
      .describe('Also score a share of the attention heads of the same blocks with a circuit.'),
    headShare: unit(' (share of the heads of a quantum block)')
      .default(0.5)
      .meta(sweep('quantum head share'))
      .describe(
        'Share of the heads of each quantum block scored by a circuit (rounded, at least one). Paper: ½.',
      ),
    headKernel: z
      .enum(['gaussian', 'unitary'])
      .default('gaussian')
      .meta(
        about('head kernel', {
          sweepable: true,
          optionLabels: {
            gaussian: 'QSANN Gaussian kernel on circuit ⟨Z⟩ vectors',
            unitary: 'learned-unitary kernel |⟨k̂|U(θ)|q̂⟩|² (SWAP test; one circuit per causal pair)',
          },
        }),
      )
      .describe(
        'How a quantum head scores a query against a key; softmax, causal mask and values stay classical.',
      ),
    headQubits: int(1, 16)
      .nullable()
      .default(4)
      .meta(about('head qubits', { unit: 'qubits' }))
      .describe(
        'Gaussian kernel: a learned d_h → n map before the circuit; empty: d_h qubits with the rows as angles.',
      ),
    // ---- training
    layerwiseInit: z
      .boolean()
      .default(true)
      .meta(about('layer-wise initialisation'))
      .describe(
        'Fit each replaced FFN (quantum or compressed) to the outputs of the sub-layer it replaces (MSE on captured activations) before training.',
      ),
    layerwiseSteps: int(0, 100_000)
      .default(100)
      .meta(about('layer-wise steps', { unit: 'steps' }))
      .describe('Adam steps of the layer-wise fit.'),
    steps: int(1, 1_000_000)
      .default(150)
      .meta(sweep('training steps', 'steps'))
      .describe('Next-token steps of every model after compression. Paper: 10k.'),
    batchSize: int(1, 512)
      .default(8)
      .meta(about('batch', { unit: 'sequences' }))
      .describe('Sequences per step. Paper: 8.'),
    seqLen: int(4, 4096)
      .default(32)
      .meta(about('sequence length', { unit: 'tokens' }))
      .describe('Tokens per sequence. Paper: 128.'),
    lr: rate(1)
      .default(2e-3)
      .meta(sweep('learning rate'))
      .describe('Peak AdamW learning rate. Paper: 2e-5 on a 7B model.'),
    lrFactors: LrFactorsSchema,
    weightDecay: z
      .number()
      .min(0)
      .max(1)
      .default(0.01)
      .meta(about('weight decay'))
      .describe('AdamW weight decay. Paper: 0.01.'),
    warmupSteps: int(0, 1_000_000)
      .default(15)
      .meta(about('warmup', { unit: 'steps' }))
      .describe('Linear warmup, then cosine decay to lr/10. Paper: 500.'),
    clip: rate(1000)
      .default(1)
      .meta(about('gradient clip'))
      .describe('Largest global gradient norm. Paper: 1.0.'),
    evalEvery: int(1, 1_000_000)
      .default(25)
      .meta(about('eval every', { unit: 'steps' }))
      .describe('Validation perplexity every this many steps (and at the end).'),
    evalTokens: int(64, 100_000_000)
      .default(4096)
      .meta(about('validation tokens', { unit: 'tokens' }))
      .describe(
        'Tokens of the validation split read at each evaluation (test is read once, in full up to testTokens).',
      ),
    testTokens: int(64, 100_000_000)
      .default(8192)
      .meta(about('test tokens', { unit: 'tokens' }))
      .describe('Tokens of the test split whose perplexity is reported (read once per model and seed).'),
    seeds: int(1, 20)
      .default(2)
      .meta(about('seeds', { unit: 'runs' }))
      .describe('Repeats; figures are mean ± std over them. Paper: 3.'),
    // ---- baselines and measurement
    uncompressed: z
      .boolean()
      .default(true)
      .meta(about('uncompressed baseline'))
      .describe('The base model trained the same steps, data and schedule.'),
    classical: z
      .boolean()
      .default(true)
      .meta(about('classical compressed baseline'))
      .describe('The same blocks’ FFNs compressed classically to the QFFN model’s parameter count.'),
    classicalForm: z
      .enum(['narrow', 'low-rank'])
      .default('narrow')
      .meta(
        about('classical compression', {
          optionLabels: { narrow: 'narrower SwiGLU (pruned units)', 'low-rank': 'low-rank SwiGLU maps' },
        }),
      )
      .describe(
        'Narrower FFN (the units of largest weight norm kept) or rank-r factorised maps; width or rank matched to the QFFN count.',
      ),
    precision: PrecisionSchema.meta(about('precision', { optionLabels: PRECISION_LABELS })).describe(
      'Amplitudes of the simulated circuits and the model’s floats: f32 (WebAssembly SIMD) or f64 for reference runs.',
    ),
    threads: int(0, 64)
      .default(0)
      .meta(about('simulator threads'))
      .describe('Worker threads of the cpu simulator for big batches; 0: one per core.'),
    gpuSpeed: z
      .boolean()
      .default(false)
      .meta(about('gpu speed column'))
      .describe(
        'Also time the same circuit batches on the gpu backend (gpu.js in its best mode here) for Table 1’s GPU-sim column.',
      ),
    prompts: z
      .array(z.string().min(1))
      .max(8)
      .default(['The man said', 'In the morning'])
      .meta(about('prompts'))
      .describe('Fixed prompts every model continues greedily in the report.'),
    generateTokens: int(0, 256)
      .default(16)
      .meta(about('continuation', { unit: 'tokens' }))
      .describe('Tokens of each greedy continuation.'),
    sweep: SweepSchema.default(SweepSchema.parse({})),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.base.modelDir === null) {
      checkEvenHeads(ctx, ['base', 'heads'], c.base);
      const d = c.base.hiddenSize;
      const need = Math.max(1, Math.ceil(Math.log2(d)));
      if (c.ffnForm === 'amplitude' && c.qubits !== null && c.qubits !== need)
        ctx.addIssue({
          code: 'custom',
          path: ['qubits'],
          message:
            c.qubits < need
              ? `${c.qubits} qubits are too few to amplitude-encode d = ${d} values: need ⌈log2 ${d}⌉ = ${need}`
              : `the amplitude form uses exactly ⌈log2 ${d}⌉ = ${need} qubits, got ${c.qubits} (leave empty)`,
        });
      if (c.quantumHeads && c.headKernel === 'gaussian' && c.headQubits === null && d / c.base.heads > 16)
        ctx.addIssue({
          code: 'custom',
          path: ['headQubits'],
          message: `head width ${d / c.base.heads} is too many qubits to encode as they are; set head qubits`,
        });
    }
    if (c.warmupSteps > c.steps)
      ctx.addIssue({ code: 'custom', path: ['warmupSteps'], message: `must be at most steps (${c.steps})` });
    if (!c.uncompressed && !c.classical && c.fraction > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['classical'],
        message: 'keep at least one baseline beside the QFFN model',
      });
  });

export type QffnConfig = z.infer<typeof QffnConfigSchema>;

/** Blocks (ascending) that get a quantum FFN: round(fraction·L) of them, placed as configured. */
export function quantumBlocks(
  layers: number,
  fraction: number,
  placement: Placement,
  seed: number,
): number[] {
  const k = Math.min(layers, Math.round(fraction * layers));
  if (k === 0) return [];
  if (placement === 'first') return Array.from({ length: k }, (_, i) => i);
  if (placement === 'last') return Array.from({ length: k }, (_, i) => layers - k + i);
  if (placement === 'alternating')
    return Array.from({ length: k }, (_, i) => Math.floor(((i + 1) * layers) / k) - 1);
  // random: a seeded Fisher–Yates shuffle (mulberry32), its first k sorted
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const idx = Array.from({ length: layers }, (_, i) => i);
  for (let i = layers - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k).sort((a, b) => a - b);
}

/** Heads of a quantum block scored by a circuit: the first round(share·H) (at least one when heads are on). */
export function quantumHeadCount(heads: number, share: number, on: boolean): number {
  if (!on || share === 0) return 0;
  return Math.min(heads, Math.max(1, Math.round(share * heads)));
}
