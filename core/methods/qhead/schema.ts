// The `qhead` config: dataset, frozen encoder, quantum head shape, training, shots/noise, baselines, the
// screening sweep and the energy model. Cross-field rules (Q_m ≤ qubits, connectivity not a multiple of the
// width, every sweep point valid) are checked here so a bad config is refused before any work starts.
// Isomorphic: the renderer's wizard validates with it; labels and help travel in `.meta()`/`.describe()`.
import { z } from 'zod';
import { BUNDLED_CLASSIFICATION } from '../../data/names';
import { PrecisionSchema } from '../../quantum/precision';
import { checkEvenHeads, COLUMN_FIELDS, lmFields } from '../metadata/shared-fields';
import { about, PRECISION_LABELS } from '../metadata/meta';
import { LrFactorsSchema } from '../metadata/tuning-fields';

/** Gate kinds the head's circuits contain (what `noise` may name). */
export const NOISE_GATES = ['RY', 'CNOT'] as const;
export type NoiseGate = (typeof NOISE_GATES)[number];

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const sweep = (title: string, unit?: string) => about(title, { sweepable: true, unit });
const us = (title: string) => about(title, { unit: 'µs' });

const ENCODER_LM = lmFields(
  ['corpus', 'corpusChars', 'vocabSize', 'hiddenSize', 'intermediateSize', 'layers', 'heads'],
  {
    minChars: 10_000,
    vocabSize: 512,
    intermediateSize: 128,
    widthHelp: 'Hidden size: the embedding width d the head sees.',
  },
);

export const EncoderSchema = z
  .discriminatedUnion('type', [
    z
      .object({
        type: z.literal('pretrain'),
        ...ENCODER_LM,
        seqLen: int(8, 4096)
          .default(64)
          .meta(about('window', { unit: 'tokens' }))
          .describe('Tokens per window; the embedding is the mean over windows.'),
        steps: int(1, 1_000_000)
          .default(150)
          .meta(about('pretraining steps', { unit: 'steps' }))
          .describe('Causal-LM steps (AdamW, cosine decay to lr/10).'),
        batchSize: int(1, 1024)
          .default(8)
          .meta(about('pretraining batch', { unit: 'sequences' }))
          .describe('Sequences per pretraining step.'),
        lr: z
          .number()
          .positive()
          .max(1)
          .default(3e-3)
          .meta(about('pretraining lr'))
          .describe('AdamW learning rate.'),
        maxTokens: int(1, 1_000_000)
          .default(256)
          .meta(about('max tokens', { unit: 'tokens' }))
          .describe('Tokens of each document embedded (from its start), in windows.'),
        seed: z
          .number()
          .int()
          .default(0)
          .meta(about('encoder seed'))
          .describe('Encoder seed, apart from the run seed so its cached embeddings serve every seed.'),
      })
      .strict(),
    z
      .object({
        type: z.literal('hf-dir'),
        path: z
          .string()
          .min(1)
          .meta(about('path'))
          .describe('Model directory (config.json, safetensors, tokenizer.json) or .gguf file.'),
        seqLen: int(8, 32_768)
          .default(512)
          .meta(about('window', { unit: 'tokens' }))
          .describe('Tokens per window; the embedding is the mean over windows.'),
        maxTokens: int(1, 1_000_000)
          .default(512)
          .meta(about('max tokens', { unit: 'tokens' }))
          .describe('Tokens of each document embedded (from its start), in windows.'),
      })
      .strict(),
    z
      .object({
        type: z.literal('gguf'),
        path: z
          .string()
          .min(1)
          .meta(about('path'))
          .describe('Model directory (config.json, safetensors, tokenizer.json) or .gguf file.'),
        maxChars: int(1, 10_000_000)
          .default(4000)
          .meta(about('max characters', { unit: 'characters' }))
          .describe('Characters of each text passed to the embedding model.'),
      })
      .strict(),
  ])
  .meta(
    about('encoder', {
      optionLabels: {
        pretrain: 'pretrain here',
        'hf-dir': 'model directory (Hugging Face)',
        gguf: 'GGUF file (node-llama-cpp)',
      },
    }),
  )
  .describe(
    'Frozen encoder: a small LM pretrained here, a Hugging Face directory, or a GGUF embedding model.',
  );
export type EncoderConfig = z.infer<typeof EncoderSchema>;

export const HeadSchema = z
  .object({
    encoders: int(1, 16)
      .default(1)
      .meta(sweep('encoders E'))
      .describe('Parallel Module-1 encoders, each amplitude-encoding the embedding into ⌈log2 d⌉ qubits.'),
    encoderDepth: int(1, 32)
      .default(1)
      .meta(sweep('encoder depth', 'layers'))
      .describe('Long-range layers of each Module-1 encoder’s PQC.'),
    qubits: int(2, 24).default(4).meta(sweep('qubits Q', 'qubits')).describe('Width of Module 2.'),
    depth: int(1, 64)
      .default(2)
      .meta(sweep('depth', 'layers'))
      .describe('Long-range layers of PQC1 (shared across the re-uploading blocks).'),
    finalDepth: int(0, 64)
      .default(1)
      .meta(sweep('final depth', 'layers'))
      .describe('Long-range layers of PQC2 after the last block (0: none).'),
    reuploads: int(1, 64)
      .default(2)
      .meta(sweep('re-uploads N'))
      .describe('Data re-uploading blocks of RY(π·value) then PQC1.'),
    connectivity: int(1, 23)
      .default(1)
      .meta(sweep('connectivity c'))
      .describe('CNOT(q → (q + c) mod Q); not a multiple of Q.'),
    measured: int(1, 24)
      .default(1)
      .meta(sweep('measured Q_m', 'qubits'))
      .describe('Qubits measured (⟨Z⟩) at the end of Module 2; at most Q.'),
    skip: z
      .boolean()
      .default(true)
      .meta(sweep('skip connection'))
      .describe('Feed Module 1’s outputs into the final Linear too.'),
    // Without it Module 1 sees only functions even in the embedding (docs/methods.md).
    biasAmplitude: z
      .number()
      .min(0)
      .max(100)
      .default(1)
      .meta(sweep('bias amplitude'))
      .describe(
        'Constant appended before amplitude encoding, × the train RMS norm (0: the paper’s zero padding).',
      ),
  })
  .strict();
export type HeadConfig = z.infer<typeof HeadSchema>;

export const SWEEP_FACTORS = ['qubits', 'depth', 'lr', 'reuploads', 'connectivity'] as const;
export type SweepFactor = (typeof SWEEP_FACTORS)[number];

const levels = <T extends z.ZodType>(item: T, title: string) =>
  z
    .array(item)
    .min(1)
    .max(8)
    .optional()
    .meta(about(title))
    .describe(`Levels of ${title} (comma-separated); empty: not swept.`);

export const SweepSchema = z
  .object({
    design: z
      .enum(['full', 'fractional'])
      .default('fractional')
      .meta(about('design'))
      .describe('full: every combination; fractional: an orthogonal-array fraction (docs/methods.md).'),
    factors: z
      .object({
        qubits: levels(int(2, 24), 'qubits'),
        depth: levels(int(1, 64), 'depth'),
        lr: levels(z.number().positive().max(10), 'learning rate'),
        reuploads: levels(int(1, 64), 're-uploads'),
        connectivity: levels(int(1, 23), 'connectivity'),
      })
      .strict(),
    seeds: int(1, 20)
      .default(1)
      .meta(about('seeds per point', { unit: 'runs' }))
      .describe('Seeds at each point (the run seed, +1, …).'),
    epochs: int(1, 10_000)
      .optional()
      .meta(about('epochs per point', { unit: 'epochs' }))
      .describe('Epochs at each point; empty: the training epochs.'),
    maxPoints: int(1, 10_000)
      .default(64)
      .meta(about('max points'))
      .describe('Largest design accepted (a larger one is refused).'),
  })
  .strict()
  .meta(about('screening sweep'))
  .describe('Train the head at each point of a design over the factors below.');
export type SweepConfig = z.infer<typeof SweepSchema>;

export const QpuSchema = z
  .object({
    gate1Us: z
      .number()
      .nonnegative()
      .default(135)
      .meta(us('QPU 1q gate'))
      .describe('Time of a one-qubit gate.'),
    gate2Us: z
      .number()
      .nonnegative()
      .default(600)
      .meta(us('QPU 2q gate'))
      .describe('Time of a two-qubit gate.'),
    resetUs: z
      .number()
      .nonnegative()
      .default(50)
      .meta(us('QPU reset'))
      .describe('State preparation / reset per shot.'),
    readoutUs: z.number().nonnegative().default(300).meta(us('QPU readout')).describe('Readout per shot.'),
    shots: int(1, 10_000_000)
      .default(1000)
      .meta(about('QPU shots', { unit: 'shots' }))
      .describe('Shots per circuit evaluation on the QPU.'),
    watts: z
      .number()
      .positive()
      .default(25_000)
      .meta(about('QPU power', { unit: 'W' }))
      .describe('Wall power of the whole QPU system.'),
  })
  .strict();

export const EnergySchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .meta(about('energy model'))
      .describe('Time the head here and compare the energy with a QPU model.'),
    qubits: z
      .array(int(2, 26))
      .min(3)
      .max(32)
      .default([10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
      .meta(about('timed widths', { unit: 'qubits' }))
      .describe('Qubit counts at which the simulation is timed (≥ 3 distinct; 10–19 take seconds here).'),
    batch: int(1, 4096)
      .nullable()
      .default(null)
      .meta(about('samples per call', { unit: 'samples' }))
      .describe('Samples per timed call; empty: enough that a forward call lasts ≥ 20 ms (at most 64).'),
    repeats: int(1, 100)
      .default(7)
      .meta(about('repeats'))
      .describe('Timed calls per width, interleaved across widths (median used; never under 3).'),
    budgetSeconds: z
      .number()
      .positive()
      .default(30)
      .meta(about('time budget', { unit: 's' }))
      .describe('Wall-time budget of the measurement: widths whose predicted cost does not fit are skipped.'),
    cacheBytes: int(1, 2 ** 40)
      .nullable()
      .default(null)
      .meta(about('last-level cache', { unit: 'bytes' }))
      .describe(
        'Last-level (L3) cache for the fit rule (a larger state is memory-bound); empty: read from the OS (sysfs L3, else L2, else 32 MiB assumed).',
      ),
    cpuWatts: z
      .number()
      .positive()
      .default(65)
      .meta(about('CPU power', { unit: 'W' }))
      .describe('Average power of this machine while simulating (an assumption, not measured).'),
    extrapolateTo: int(8, 200)
      .default(60)
      .meta(about('extrapolate to', { unit: 'qubits' }))
      .describe('Extrapolate both models up to this many qubits.'),
    qpu: QpuSchema.prefault({}),
  })
  .strict();
export type EnergyConfig = z.infer<typeof EnergySchema>;

export const QheadConfigSchema = z
  .object({
    dataset: z
      .string()
      .min(1)
      .default('brown-topics')
      .meta(about('dataset'))
      .describe('A bundled classification set (brown-topics, spam-assassin), unless a data file is given.'),
    datasetFile: z
      .object({
        path: z
          .string()
          .min(1)
          .meta(
            about('file path', {
              file: true,
              dataFile: {
                text: 'datasetFile.textColumn',
                label: 'datasetFile.labelColumn',
                format: 'datasetFile.format',
              },
            }),
          )
          .describe('Path to a .csv, .tsv or .jsonl file on this machine.'),
        ...COLUMN_FIELDS,
        format: z
          .enum(['csv', 'tsv', 'jsonl'])
          .optional()
          .meta(about('format'))
          .describe('File format; empty: from the file name.'),
      })
      .strict()
      .optional()
      .meta(about('data file'))
      .describe('Your own CSV/TSV/JSONL file with a text and a label column.'),
    standardize: z
      .boolean()
      .default(true)
      .meta(sweep('standardise'))
      .describe('Per-dimension z-scores of the embeddings with train statistics, before every head.'),
    dataSeed: int(0, 2 ** 31 - 1)
      .default(0)
      .meta(about('split seed'))
      .describe(
        'Seed of the train/validation/test split, apart from the run seed so every run of a study sees the same split.',
      ),
    maxTrain: int(2, 10_000_000)
      .optional()
      .meta(sweep('max train', 'samples'))
      .describe('Class-balanced subset of the train split; empty: all.'),
    maxTest: int(2, 10_000_000)
      .optional()
      .meta(about('max test', { unit: 'samples' }))
      .describe('Class-balanced subset of the test split; empty: all.'),
    encoder: EncoderSchema.prefault({ type: 'pretrain' }),
    head: HeadSchema.prefault({}),
    epochs: int(1, 10_000).default(10).meta(sweep('epochs', 'epochs')).describe('Training epochs (Adam).'),
    batchSize: int(1, 4096).default(16).meta(sweep('batch', 'samples')).describe('Samples per Adam step.'),
    lr: z
      .number()
      .positive()
      .max(10)
      .default(0.05)
      .meta(sweep('learning rate'))
      .describe(
        'Adam base learning rate of every model (each searches it × lrFactors on validation). 0.05: the quantum head’s best mean validation accuracy and loss on the small example (docs/methods.md).',
      ),
    lrFactors: LrFactorsSchema,
    seeds: int(1, 50)
      .default(3)
      .meta(about('seeds K', { unit: 'runs' }))
      .describe('Seeds (the run seed, +1, …); metrics are mean ± std over them.'),
    vary: z
      .array(z.enum(['split']))
      .max(1)
      .default([])
      .meta(about('seeds also vary'))
      .describe(
        'Besides every head’s initialisation and the batch order, each seed k also draws its own split (dataSeed + k; the encoder is pretrained again without that split’s validation and test documents).',
      ),
    shots: int(1, 10_000_000)
      .nullable()
      .default(null)
      .meta(sweep('shots', 'shots'))
      .describe('Shots per circuit evaluation; empty: exact expectations and the adjoint gradient.'),
    precision: PrecisionSchema.meta(about('precision', { optionLabels: PRECISION_LABELS })).describe(
      'Amplitudes of the exact and shot simulators and of the energy timing: complex64 or complex128 for reference runs (both on WebAssembly SIMD from 2 qubits); with noise the density-matrix simulator runs f64.',
    ),
    noise: z
      .record(z.string(), z.number().min(0).max(1))
      .optional()
      .meta(about('noise'))
      .describe('Depolarizing probability after each gate kind, e.g. {"CNOT": 0.01}; empty: none.'),
    trajectories: int(1, 100_000)
      .default(200)
      .meta(about('trajectories'))
      .describe('Trajectories per sample when a noisy circuit is wider than 10 qubits.'),
    baselines: z
      .boolean()
      .default(true)
      .meta(about('baselines'))
      .describe('Also train logistic regression and a size-matched MLP.'),
    sweep: SweepSchema.optional(),
    energy: EnergySchema.prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    const h = c.head;
    if (!c.datasetFile && BUNDLED_CLASSIFICATION[c.dataset] === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['dataset'],
        message: `unknown classification dataset ${JSON.stringify(c.dataset)}; known: ${Object.keys(
          BUNDLED_CLASSIFICATION,
        ).join(', ')} (or give datasetFile)`,
      });
    if (c.encoder.type === 'pretrain') checkEvenHeads(ctx, ['encoder', 'heads'], c.encoder);
    if (h.measured > h.qubits)
      ctx.addIssue({
        code: 'custom',
        path: ['head', 'measured'],
        message: `measured qubits Q_m (${h.measured}) cannot exceed head.qubits (${h.qubits})`,
      });
    if (h.connectivity % h.qubits === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['head', 'connectivity'],
        message: `connectivity ${h.connectivity} is a multiple of head.qubits ${h.qubits} (a CNOT onto its own control)`,
      });
    if (c.noise)
      for (const g of Object.keys(c.noise))
        if (!NOISE_GATES.includes(g as NoiseGate))
          ctx.addIssue({
            code: 'custom',
            path: ['noise', g],
            message: `unknown gate kind ${JSON.stringify(g)}; the head uses ${NOISE_GATES.join(', ')}`,
          });
    if (c.sweep) {
      const f = c.sweep.factors;
      if (!SWEEP_FACTORS.some((k) => f[k] && f[k]!.length > 0))
        ctx.addIssue({
          code: 'custom',
          path: ['sweep', 'factors'],
          message: 'give levels for at least one factor',
        });
      const qs = f.qubits ?? [h.qubits];
      const cs = f.connectivity ?? [h.connectivity];
      for (const q of qs) {
        if (h.measured > q)
          ctx.addIssue({
            code: 'custom',
            path: ['sweep', 'factors', 'qubits'],
            message: `level ${q} is below head.measured (${h.measured})`,
          });
        for (const cc of cs)
          if (cc % q === 0)
            ctx.addIssue({
              code: 'custom',
              path: ['sweep', 'factors', 'connectivity'],
              message: `level ${cc} is a multiple of qubits level ${q}; choose connectivities that are not`,
            });
      }
    }
    if (c.energy.enabled && new Set(c.energy.qubits).size < 3)
      ctx.addIssue({
        code: 'custom',
        path: ['energy', 'qubits'],
        message: 'need at least three distinct qubit counts to fit the scaling',
      });
  });
export type QheadConfig = z.infer<typeof QheadConfigSchema>;
