// The `qhead` config: dataset, frozen encoder, quantum head shape, training, shots/noise, baselines, the
// screening sweep and the energy model. Cross-field rules (Q_m ≤ qubits, connectivity not a multiple of the
// width, every sweep point valid) are checked here so a bad config is refused before any work starts.
import { z } from 'zod';
import { describeDatasets } from '../../data';
import { PrecisionSchema } from '../../quantum/precision';

/** Gate kinds the head's circuits contain (what `noise` may name). */
export const NOISE_GATES = ['RY', 'CNOT'] as const;
export type NoiseGate = (typeof NOISE_GATES)[number];

const int = (min: number, max: number) => z.number().int().min(min).max(max);

export const EncoderSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('pretrain'),
      /** LM corpus the encoder and its BPE are trained on (bundled: brown, moby-dick). */
      corpus: z.string().min(1).default('brown'),
      /** Characters of the corpus used (BPE training and LM pretraining). */
      corpusChars: int(10_000, 50_000_000).default(400_000),
      vocabSize: int(260, 65_536).default(512),
      hiddenSize: int(8, 4096).default(64),
      intermediateSize: int(8, 16_384).default(128),
      layers: int(1, 48).default(2),
      heads: int(1, 64).default(4),
      seqLen: int(8, 4096).default(64),
      steps: int(1, 1_000_000).default(150),
      batchSize: int(1, 1024).default(8),
      lr: z.number().positive().max(1).default(3e-3),
      /** Tokens of each document embedded (the start of the text), in windows of seqLen. */
      maxTokens: int(1, 1_000_000).default(256),
      /** Encoder seed, independent of the run seed so its cached embeddings are shared by every seed. */
      seed: z.number().int().default(0),
    })
    .strict(),
  z
    .object({
      type: z.literal('hf-dir'),
      path: z.string().min(1),
      seqLen: int(8, 32_768).default(512),
      maxTokens: int(1, 1_000_000).default(512),
    })
    .strict(),
  z
    .object({
      type: z.literal('gguf'),
      path: z.string().min(1),
      /** Characters of each text passed to the embedding model. */
      maxChars: int(1, 10_000_000).default(4000),
    })
    .strict(),
]);
export type EncoderConfig = z.infer<typeof EncoderSchema>;

export const HeadSchema = z
  .object({
    /** E: parallel Module-1 encoders, each amplitude-encoding the embedding into ⌈log2 d⌉ qubits. */
    encoders: int(1, 16).default(1),
    /** Long-range layers of each Module-1 encoder's PQC. */
    encoderDepth: int(1, 32).default(1),
    /** Q: width of Module 2. */
    qubits: int(2, 24).default(4),
    /** Long-range layers of PQC1 (shared across the re-uploading blocks). */
    depth: int(1, 64).default(2),
    /** Long-range layers of PQC2 after the last block (0: none). */
    finalDepth: int(0, 64).default(1),
    /** N: data re-uploading blocks. */
    reuploads: int(1, 64).default(2),
    /** c: CNOT(q → (q + c) mod Q) in Module 2's long-range ansatz. */
    connectivity: int(1, 23).default(1),
    /** Q_m: qubits measured (⟨Z⟩) at the end of Module 2. */
    measured: int(1, 24).default(1),
    /** Skip connection from Module 1's outputs into the final Linear. */
    skip: z.boolean().default(true),
    /**
     * Constant amplitude appended to each embedding before Module 1's amplitude encoding, as a multiple of
     * the train embeddings' RMS norm (0: plain zero padding, as in the paper). Without it Module 1 sees only
     * functions even in the embedding (docs/methods.md).
     */
    biasAmplitude: z.number().min(0).max(100).default(1),
  })
  .strict();
export type HeadConfig = z.infer<typeof HeadSchema>;

export const SWEEP_FACTORS = ['qubits', 'depth', 'lr', 'reuploads', 'connectivity'] as const;
export type SweepFactor = (typeof SWEEP_FACTORS)[number];

export const SweepSchema = z
  .object({
    /** full: every combination; fractional: an orthogonal-array fraction (docs/methods.md). */
    design: z.enum(['full', 'fractional']).default('fractional'),
    factors: z
      .object({
        qubits: z.array(int(2, 24)).min(1).max(8).optional(),
        depth: z.array(int(1, 64)).min(1).max(8).optional(),
        lr: z.array(z.number().positive().max(10)).min(1).max(8).optional(),
        reuploads: z.array(int(1, 64)).min(1).max(8).optional(),
        connectivity: z.array(int(1, 23)).min(1).max(8).optional(),
      })
      .strict(),
    /** Seeds per point (the run seed, +1, …). */
    seeds: int(1, 20).default(1),
    /** Epochs per point (default: train.epochs). */
    epochs: int(1, 10_000).optional(),
    maxPoints: int(1, 10_000).default(64),
  })
  .strict();
export type SweepConfig = z.infer<typeof SweepSchema>;

export const QpuSchema = z
  .object({
    /** Time of a one-qubit gate, µs. */
    gate1Us: z.number().nonnegative().default(135),
    /** Time of a two-qubit gate, µs. */
    gate2Us: z.number().nonnegative().default(600),
    /** State preparation / reset per shot, µs. */
    resetUs: z.number().nonnegative().default(50),
    /** Readout per shot, µs. */
    readoutUs: z.number().nonnegative().default(300),
    /** Shots per circuit evaluation. */
    shots: int(1, 10_000_000).default(1000),
    /** Wall power of the whole QPU system, W. */
    watts: z.number().positive().default(25_000),
  })
  .strict();

export const EnergySchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Qubit counts at which the head's simulation is timed on this machine (10–19 take seconds here). */
    qubits: z.array(int(2, 26)).min(3).max(32).default([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]),
    /** Samples per timed call; null: enough that one forward call lasts ≥ 20 ms (at most 64). */
    batch: int(1, 4096).nullable().default(null),
    /** Timed calls per width, interleaved across widths (the median is used; fewer when the budget is short, never under 3). */
    repeats: int(1, 100).default(7),
    /** Wall-time budget of the measurement, s: widths whose predicted cost does not fit are skipped. */
    budgetSeconds: z.number().positive().default(30),
    /** L2 cache per core, bytes, for the fit rule (a state larger than L2 is memory-bound); null: read from the OS. */
    cacheBytes: int(1, 2 ** 40)
      .nullable()
      .default(null),
    /** Average power of this machine while simulating, W (user-editable; not measured). */
    cpuWatts: z.number().positive().default(65),
    /** Extrapolate both models up to this many qubits. */
    extrapolateTo: int(8, 200).default(60),
    qpu: QpuSchema.prefault({}),
  })
  .strict();
export type EnergyConfig = z.infer<typeof EnergySchema>;

export const QheadConfigSchema = z
  .object({
    /** A bundled classification dataset (brown-topics, spam-assassin), unless `datasetFile` is given. */
    dataset: z.string().min(1).default('brown-topics'),
    datasetFile: z
      .object({
        path: z.string().min(1),
        textColumn: z.string().min(1).default('text'),
        labelColumn: z.string().min(1).default('label'),
        format: z.enum(['csv', 'tsv', 'jsonl']).optional(),
      })
      .strict()
      .optional(),
    /** Per-dimension z-scores of the embeddings with train-split statistics before every head. */
    standardize: z.boolean().default(true),
    /** Class-balanced subsets of the train / test splits (all when absent). */
    maxTrain: int(2, 10_000_000).optional(),
    maxTest: int(2, 10_000_000).optional(),
    encoder: EncoderSchema.prefault({ type: 'pretrain' }),
    head: HeadSchema.prefault({}),
    epochs: int(1, 10_000).default(10),
    batchSize: int(1, 4096).default(16),
    lr: z.number().positive().max(10).default(0.02),
    /** K: seeds (the run seed, +1, …); metrics are reported as mean ± std over them. */
    seeds: int(1, 50).default(3),
    /** Shots per circuit evaluation; null: exact expectation values and the adjoint gradient. */
    shots: int(1, 10_000_000).nullable().default(null),
    /**
     * State-vector precision of the exact and shot simulators and of the energy timing: f32 = complex64 (fast;
     * WebAssembly SIMD from 5 qubits), f64 = complex128 (reference). The noisy simulator is f64 whatever this says.
     */
    precision: PrecisionSchema,
    /** Depolarizing probability after each gate kind (on each wire the gate touches), e.g. {"CNOT": 0.01}. */
    noise: z.record(z.string(), z.number().min(0).max(1)).optional(),
    /** Trajectories per sample when a noisy circuit is wider than the density-matrix limit. */
    trajectories: int(1, 100_000).default(200),
    baselines: z.boolean().default(true),
    sweep: SweepSchema.optional(),
    energy: EnergySchema.prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    const h = c.head;
    const known = describeDatasets();
    if (!c.datasetFile) {
      const d = known.find((k) => k.name === c.dataset);
      if (!d || d.kind !== 'classification')
        ctx.addIssue({
          code: 'custom',
          path: ['dataset'],
          message: `unknown classification dataset ${JSON.stringify(c.dataset)}; known: ${known
            .filter((k) => k.kind === 'classification')
            .map((k) => k.name)
            .join(', ')} (or give datasetFile)`,
        });
    }
    if (c.encoder.type === 'pretrain') {
      const corpus = c.encoder.corpus;
      const d = known.find((k) => k.name === corpus);
      if (!d || d.kind !== 'lm')
        ctx.addIssue({
          code: 'custom',
          path: ['encoder', 'corpus'],
          message: `unknown language-modelling corpus ${JSON.stringify(corpus)}; known: ${known
            .filter((k) => k.kind === 'lm')
            .map((k) => k.name)
            .join(', ')}`,
        });
      if (c.encoder.hiddenSize % c.encoder.heads !== 0 || (c.encoder.hiddenSize / c.encoder.heads) % 2 !== 0)
        ctx.addIssue({
          code: 'custom',
          path: ['encoder', 'heads'],
          message: `hiddenSize ${c.encoder.hiddenSize} must split into ${c.encoder.heads} heads of even width`,
        });
    }
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
