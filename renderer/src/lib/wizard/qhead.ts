// The quantum fine-tuning head wizard (kind "qhead", core/methods/qhead/schema.ts): data, encoder, head,
// training, sweep & energy, then the review the wizard state appends. Help lines follow docs/methods.md.
import { isPlainObject } from '../config-form';
import { BUNDLED_CLASSES, qheadParams } from './param-count';
import { PRECISION_FIELD } from './precision';
import { deepMerge, type Config, type WizardField, type WizardSpec } from './spec';

/** examples/qhead-topic.json's config (small), copied so the renderer needs no file access. */
export const QHEAD_SMALL: Config = {
  dataset: 'brown-topics',
  standardize: true,
  encoder: {
    type: 'pretrain',
    corpus: 'brown',
    corpusChars: 400000,
    vocabSize: 512,
    hiddenSize: 64,
    intermediateSize: 128,
    layers: 2,
    heads: 4,
    seqLen: 64,
    steps: 400,
    batchSize: 8,
    maxTokens: 512,
  },
  head: {
    encoders: 2,
    encoderDepth: 2,
    qubits: 6,
    depth: 2,
    finalDepth: 1,
    reuploads: 2,
    connectivity: 1,
    measured: 2,
    biasAmplitude: 1,
  },
  epochs: 30,
  batchSize: 16,
  lr: 0.05,
  seeds: 3,
  shots: null,
  precision: 'f32',
  baselines: true,
  sweep: {
    design: 'fractional',
    factors: { qubits: [4, 6, 8], depth: [1, 2, 3], lr: [0.01, 0.05, 0.1], reuploads: [1, 2, 3] },
    seeds: 1,
    epochs: 10,
  },
  energy: { qubits: [4, 6, 8, 10, 12], batch: 16, repeats: 5, cpuWatts: 65, extrapolateTo: 60 },
};

const obj = (v: unknown): Config => (isPlainObject(v) ? v : {});
const encType = (c: Config): string => String(obj(c.encoder).type ?? 'pretrain');
const hasFile = (c: Config): boolean => c.datasetFile !== undefined;
const hasSweep = (c: Config): boolean => c.sweep !== undefined;
const energyOn = (c: Config): boolean => obj(c.energy).enabled !== false;

function f(
  path: string,
  label: string,
  help: string,
  kind: WizardField['kind'],
  extra: Partial<WizardField> = {},
): WizardField {
  return { id: path, label, help, kind, path: path.split('.'), ...extra };
}

export function qheadWizard(defaults: Config): WizardSpec {
  const defaultEncoder = (): Config => {
    const e = obj(defaults.encoder);
    return e.type === 'pretrain' ? structuredClone(e) : { type: 'pretrain' };
  };
  const pre = { when: (c: Config) => encType(c) === 'pretrain' };
  const factor = (k: string, label: string, list: 'int-list' | 'number-list'): WizardField =>
    f(`sweep.factors.${k}`, label, `Levels of ${label} (comma-separated); empty: not swept.`, list, {
      when: hasSweep,
    });
  return {
    kind: 'qhead',
    presets: [
      { id: 'small', label: 'small (minutes on 2 cores)', build: (d) => deepMerge(d, QHEAD_SMALL) },
      { id: 'paper', label: 'paper-sized', build: (d) => structuredClone(d) },
    ],
    steps: [
      {
        id: 'data',
        title: 'Data',
        owns: ['dataset', 'datasetFile', 'maxTrain', 'maxTest'],
        fields: [
          f(
            'dataSource',
            'source',
            'A bundled classification set, or your own CSV/TSV/JSONL file.',
            'select',
            {
              path: ['datasetFile'],
              options: [
                { value: 'bundled', label: 'bundled dataset' },
                { value: 'file', label: 'import a CSV / JSONL file' },
              ],
              read: (c) => (hasFile(c) ? 'file' : 'bundled'),
              write: (c, v) => {
                if ((v === 'file') === hasFile(c)) return c;
                if (v === 'file')
                  return { ...c, datasetFile: { path: '', textColumn: 'text', labelColumn: 'label' } };
                const { datasetFile: _dropped, ...rest } = c;
                return rest;
              },
            },
          ),
          f(
            'dataset',
            'dataset',
            'brown-topics: 4 Brown-corpus topics; spam-assassin: 2 classes.',
            'select',
            {
              options: [
                { value: 'brown-topics', label: 'brown-topics (4 classes)' },
                { value: 'spam-assassin', label: 'spam-assassin (2 classes)' },
              ],
              when: (c) => !hasFile(c),
            },
          ),
          f('datasetFile.path', 'file path', 'Path to a .csv, .tsv or .jsonl file on this machine.', 'text', {
            when: hasFile,
          }),
          f('datasetFile.textColumn', 'text column', 'Column (or JSON key) holding the text.', 'text', {
            when: hasFile,
          }),
          f(
            'datasetFile.labelColumn',
            'label column',
            'Column (or JSON key) holding the class label.',
            'text',
            {
              when: hasFile,
            },
          ),
          f('maxTrain', 'max train', 'Class-balanced subset of the train split; empty: all.', 'optional-int'),
          f('maxTest', 'max test', 'Class-balanced subset of the test split; empty: all.', 'optional-int'),
        ],
      },
      {
        id: 'encoder',
        title: 'Encoder',
        owns: ['encoder'],
        note: (c) =>
          encType(c) === 'gguf'
            ? 'A GGUF encoder needs node-llama-cpp, which the lab does not install: run `npm install node-llama-cpp` first, or the run fails with "install node-llama-cpp to use a GGUF encoder".'
            : null,
        fields: [
          f(
            'encoder.type',
            'encoder',
            'Frozen encoder: a small LM pretrained here, a Hugging Face directory, or a GGUF embedding model.',
            'select',
            {
              options: [
                { value: 'pretrain', label: 'pretrain here' },
                { value: 'hf-dir', label: 'model directory (Hugging Face)' },
                { value: 'gguf', label: 'GGUF file (node-llama-cpp)' },
              ],
              write: (c, v) =>
                v === encType(c)
                  ? c
                  : { ...c, encoder: v === 'pretrain' ? defaultEncoder() : { type: v, path: '' } },
            },
          ),
          f(
            'encoder.corpus',
            'corpus',
            'Bundled LM corpus the encoder and its BPE are trained on.',
            'select',
            {
              ...pre,
              options: [
                { value: 'brown', label: 'brown' },
                { value: 'moby-dick', label: 'moby-dick' },
              ],
            },
          ),
          f(
            'encoder.corpusChars',
            'corpus characters',
            'Characters of the corpus used (BPE and pretraining).',
            'int',
            pre,
          ),
          f('encoder.vocabSize', 'vocabulary', 'Byte-level BPE vocabulary size.', 'int', pre),
          f('encoder.hiddenSize', 'width d', 'Hidden size: the embedding width d the head sees.', 'int', pre),
          f('encoder.intermediateSize', 'MLP width', 'Feed-forward width of each layer.', 'int', pre),
          f('encoder.layers', 'layers', 'Transformer layers.', 'int', pre),
          f('encoder.heads', 'heads', 'Attention heads; d must split into heads of even width.', 'int', pre),
          f('encoder.steps', 'pretraining steps', 'Causal-LM steps (AdamW, cosine decay).', 'int', pre),
          f(
            'encoder.path',
            'path',
            'Model directory (config.json, safetensors, tokenizer.json) or .gguf file.',
            'text',
            {
              when: (c) => encType(c) !== 'pretrain',
            },
          ),
          f('encoder.seqLen', 'window', 'Tokens per window; the embedding is the mean over windows.', 'int', {
            when: (c) => encType(c) !== 'gguf',
          }),
          f('encoder.maxTokens', 'max tokens', 'Tokens of each document embedded (from its start).', 'int', {
            when: (c) => encType(c) !== 'gguf',
          }),
          f(
            'encoder.maxChars',
            'max characters',
            'Characters of each text passed to the embedding model.',
            'optional-int',
            {
              when: (c) => encType(c) === 'gguf',
            },
          ),
        ],
      },
      {
        id: 'head',
        title: 'Head',
        owns: ['head', 'standardize'],
        summary: (c) => qheadParamLine(c),
        fields: [
          f(
            'head.encoders',
            'encoders E',
            'Parallel Module-1 encoders, each amplitude-encoding the embedding into ⌈log2 d⌉ qubits.',
            'int',
          ),
          f('head.encoderDepth', 'encoder depth', 'Long-range layers of each Module-1 encoder’s PQC.', 'int'),
          f('head.qubits', 'qubits Q', 'Width of Module 2.', 'int'),
          f(
            'head.depth',
            'depth',
            'Long-range layers of PQC1 (shared across the re-uploading blocks).',
            'int',
          ),
          f(
            'head.finalDepth',
            'final depth',
            'Long-range layers of PQC2 after the last block (0: none).',
            'int',
          ),
          f('head.reuploads', 're-uploads N', 'Data re-uploading blocks of RY(π·value) then PQC1.', 'int'),
          f('head.connectivity', 'connectivity c', 'CNOT(q → (q + c) mod Q); not a multiple of Q.', 'int'),
          f(
            'head.measured',
            'measured Q_m',
            'Qubits measured (⟨Z⟩) at the end of Module 2; at most Q.',
            'int',
          ),
          f('head.skip', 'skip connection', 'Feed Module 1’s outputs into the final Linear too.', 'boolean'),
          f(
            'head.biasAmplitude',
            'bias amplitude',
            'Constant appended before amplitude encoding, × the RMS norm (0: the paper’s zero padding).',
            'number',
          ),
          f(
            'standardize',
            'standardise',
            'Per-dimension z-scores of the embeddings with train statistics.',
            'boolean',
          ),
        ],
      },
      {
        id: 'training',
        title: 'Training',
        owns: [
          'epochs',
          'batchSize',
          'lr',
          'seeds',
          'shots',
          'precision',
          'noise',
          'trajectories',
          'baselines',
        ],
        fields: [
          f('epochs', 'epochs', 'Training epochs (Adam).', 'int'),
          f('batchSize', 'batch', 'Samples per Adam step.', 'int'),
          f('lr', 'learning rate', 'Adam learning rate, shared with the baselines.', 'number'),
          f('seeds', 'seeds K', 'Seeds (the run seed, +1, …); metrics are mean ± std over them.', 'int'),
          f(
            'shots',
            'shots',
            'Shots per circuit evaluation; empty: exact expectations and the adjoint gradient.',
            'nullable-int',
          ),
          {
            ...PRECISION_FIELD,
            help: 'Amplitudes of the exact and shot simulators and of the energy timing: complex64 (WebAssembly SIMD from 5 qubits) or complex128 for reference runs; with noise the density-matrix simulator runs f64.',
          },
          f(
            'noise',
            'noise',
            'Depolarizing probability after each gate kind, e.g. {"CNOT": 0.01}; empty: none.',
            'json',
          ),
          f(
            'trajectories',
            'trajectories',
            'Trajectories per sample when a noisy circuit is wider than 10 qubits.',
            'int',
          ),
          f('baselines', 'baselines', 'Also train logistic regression and a size-matched MLP.', 'boolean'),
        ],
      },
      {
        id: 'sweep',
        title: 'Sweep & energy',
        owns: ['sweep', 'energy'],
        fields: [
          f(
            'sweepOn',
            'screening sweep',
            'Train the head at each point of a design over the factors below.',
            'boolean',
            {
              path: ['sweep'],
              read: (c) => String(hasSweep(c)),
              write: (c, v) => {
                if ((v === 'true') === hasSweep(c)) return c;
                if (v === 'true')
                  return { ...c, sweep: { design: 'fractional', factors: {}, seeds: 1, maxPoints: 64 } };
                const { sweep: _dropped, ...rest } = c;
                return rest;
              },
            },
          ),
          f(
            'sweep.design',
            'design',
            'full: every combination; fractional: an orthogonal-array fraction.',
            'select',
            {
              when: hasSweep,
              options: [
                { value: 'fractional', label: 'fractional' },
                { value: 'full', label: 'full' },
              ],
            },
          ),
          factor('qubits', 'qubits', 'int-list'),
          factor('depth', 'depth', 'int-list'),
          factor('lr', 'learning rate', 'number-list'),
          factor('reuploads', 're-uploads', 'int-list'),
          factor('connectivity', 'connectivity', 'int-list'),
          f('sweep.seeds', 'seeds per point', 'Seeds at each point.', 'int', { when: hasSweep }),
          f(
            'sweep.epochs',
            'epochs per point',
            'Epochs at each point; empty: the training epochs.',
            'optional-int',
            {
              when: hasSweep,
            },
          ),
          f(
            'energy.enabled',
            'energy model',
            'Time the head here and compare the energy with a QPU model.',
            'boolean',
          ),
          f(
            'energy.qubits',
            'timed widths',
            'Qubit counts at which the simulation is timed (≥ 3 distinct).',
            'int-list',
            {
              when: energyOn,
            },
          ),
          f(
            'energy.cpuWatts',
            'CPU power (W)',
            'Average power of this machine while simulating (an assumption, not measured).',
            'number',
            {
              when: energyOn,
            },
          ),
          f(
            'energy.extrapolateTo',
            'extrapolate to',
            'Extrapolate both models up to this many qubits.',
            'int',
            { when: energyOn },
          ),
          f('energy.qpu.gate1Us', 'QPU 1q gate (µs)', 'Time of a one-qubit gate.', 'number', {
            when: energyOn,
          }),
          f('energy.qpu.gate2Us', 'QPU 2q gate (µs)', 'Time of a two-qubit gate.', 'number', {
            when: energyOn,
          }),
          f('energy.qpu.resetUs', 'QPU reset (µs)', 'State preparation / reset per shot.', 'number', {
            when: energyOn,
          }),
          f('energy.qpu.readoutUs', 'QPU readout (µs)', 'Readout per shot.', 'number', { when: energyOn }),
          f('energy.qpu.shots', 'QPU shots', 'Shots per circuit evaluation on the QPU.', 'int', {
            when: energyOn,
          }),
          f('energy.qpu.watts', 'QPU power (W)', 'Wall power of the whole QPU system.', 'number', {
            when: energyOn,
          }),
        ],
      },
    ],
  };
}

/** The live parameter line of the head step. */
export function qheadParamLine(c: Config): string | null {
  const h = obj(c.head);
  const num = (k: string): number | undefined => (typeof h[k] === 'number' ? (h[k] as number) : undefined);
  const keys = ['encoders', 'encoderDepth', 'qubits', 'depth', 'finalDepth', 'measured'] as const;
  if (keys.some((k) => num(k) === undefined)) return null;
  const e = obj(c.encoder);
  const dim = e.type === 'pretrain' && typeof e.hiddenSize === 'number' ? e.hiddenSize : undefined;
  const classes = hasFile(c) || typeof c.dataset !== 'string' ? undefined : BUNDLED_CLASSES[c.dataset];
  if (dim === undefined || classes === undefined || dim < 2)
    return `Trainable parameters depend on ${dim === undefined ? 'the encoder’s width d' : ''}${
      dim === undefined && classes === undefined ? ' and ' : ''
    }${classes === undefined ? 'the number of classes C' : ''}: E·n·depth₁ + Q·(depth + final) + (Q_m + E·n)·C + C.`;
  const p = qheadParams({
    dim,
    classes,
    encoders: num('encoders')!,
    encoderDepth: num('encoderDepth')!,
    qubits: num('qubits')!,
    depth: num('depth')!,
    finalDepth: num('finalDepth')!,
    measured: num('measured')!,
    skip: h.skip !== false,
    biasAmplitude: typeof h.biasAmplitude === 'number' ? h.biasAmplitude : 1,
  });
  return `Trainable parameters: ${p.total.toLocaleString('en-US')} (Module 1: ${p.module1}, Module 2: ${p.module2}, Linear: ${p.linear}; d = ${dim}, C = ${classes}).`;
}
