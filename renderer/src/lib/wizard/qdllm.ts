// The QD-LLM distillation wizard (kind "qdllm", core/methods/qdllm/schema.ts): data, teacher, student,
// distillation, then the review the wizard state appends. Help lines follow docs/methods.md.
import { isPlainObject } from '../config-form';
import { BUNDLED_CLASSES, qdllmStudentParams } from './param-count';
import { PRECISION_FIELD } from './precision';
import { deepMerge, type Config, type WizardField, type WizardSpec } from './spec';

/** examples/qdllm-spam.json's config ("minutes on 2 cores"), copied so the renderer needs no file access. */
export const QDLLM_SMALL: Config = {
  dataset: 'spam-assassin',
  samplesPerClass: 100,
  maxTokens: 48,
  teacher: {
    source: 'lab-transformer',
    corpus: 'brown',
    corpusChars: 200000,
    vocabSize: 512,
    hiddenSize: 48,
    layers: 2,
    heads: 4,
    intermediateSize: 128,
    pretrainSteps: 150,
    pretrainSeqLen: 48,
    loraRank: 8,
    finetuneEpochs: 4,
  },
  embedding: 'tokens',
  qubits: 6,
  layers: 3,
  precision: 'f32',
  epochs: 5,
  seeds: 3,
  ablation: false,
};

const teacher = (c: Config): Config => (isPlainObject(c.teacher) ? c.teacher : {});
type TeacherKind = 'lab' | 'dir' | 'gguf';
function teacherKind(c: Config): TeacherKind {
  const t = teacher(c);
  if (t.source === 'gguf') return 'gguf';
  return typeof t.modelDir === 'string' ? 'dir' : 'lab';
}
const isFile = (c: Config): boolean =>
  typeof c.dataset === 'string' && c.dataset !== '' && !(c.dataset in BUNDLED_CLASSES);
/** Data source as chosen: a file path, or a bundled name; an empty name means "file, path not typed yet". */
const dataFile = (c: Config): boolean => isFile(c) || c.dataset === '';

/** The wizard spec; `defaults` (the kind's complete default config) seeds the teacher when switching back. */
export function qdllmWizard(defaults: Config): WizardSpec {
  const defaultLab = (): Config => {
    const t = defaults.teacher;
    return isPlainObject(t) && t.source === 'lab-transformer'
      ? structuredClone(t)
      : { source: 'lab-transformer' };
  };
  const lab = (c: Config): boolean => teacherKind(c) !== 'gguf';
  const pretrained = (c: Config): boolean => teacherKind(c) === 'lab';
  const tf = (key: string, label: string, help: string, options?: WizardField['options']): WizardField => ({
    id: `teacher.${key}`,
    label,
    help,
    kind: options ? 'select' : 'int',
    path: ['teacher', key],
    options,
    when: pretrained,
  });
  return {
    kind: 'qdllm',
    presets: [
      { id: 'small', label: 'small (minutes on 2 cores)', build: (d) => deepMerge(d, QDLLM_SMALL) },
      { id: 'paper', label: 'paper-sized', build: (d) => structuredClone(d) },
    ],
    steps: [
      {
        id: 'data',
        title: 'Data',
        owns: ['dataset', 'textColumn', 'labelColumn', 'dataSeed', 'samplesPerClass', 'maxTokens'],
        fields: [
          {
            id: 'dataSource',
            label: 'source',
            help: 'A bundled classification set, or your own CSV/TSV/JSONL file with a text and a label column.',
            kind: 'select',
            path: ['dataset'],
            options: [
              { value: 'bundled', label: 'bundled dataset' },
              { value: 'file', label: 'import a CSV / JSONL file' },
            ],
            read: (c) => (dataFile(c) ? 'file' : 'bundled'),
            write: (c, v) =>
              v === 'file'
                ? isFile(c)
                  ? c
                  : { ...c, dataset: '' }
                : dataFile(c)
                  ? { ...c, dataset: 'spam-assassin' }
                  : c,
          },
          {
            id: 'dataset',
            label: 'dataset',
            help: 'spam-assassin: 2 classes (spam / ham); brown-topics: 4 Brown-corpus topics. Split 6:2:2 per class.',
            kind: 'select',
            path: ['dataset'],
            options: [
              { value: 'spam-assassin', label: 'spam-assassin (2 classes)' },
              { value: 'brown-topics', label: 'brown-topics (4 classes)' },
            ],
            when: (c) => !dataFile(c),
          },
          {
            id: 'datasetPath',
            label: 'file path',
            help: 'Path to a .csv, .tsv or .jsonl file on this machine.',
            kind: 'text',
            path: ['dataset'],
            when: dataFile,
          },
          {
            id: 'textColumn',
            label: 'text column',
            help: 'Column (or JSON key) holding the text.',
            kind: 'text',
            path: ['textColumn'],
            when: dataFile,
          },
          {
            id: 'labelColumn',
            label: 'label column',
            help: 'Column (or JSON key) holding the class label.',
            kind: 'text',
            path: ['labelColumn'],
            when: dataFile,
          },
          {
            id: 'samplesPerClass',
            label: 'samples per class',
            help: 'Keep at most this many samples per class (split 60/20/20 %); empty keeps every sample.',
            kind: 'nullable-int',
            path: ['samplesPerClass'],
          },
          {
            id: 'maxTokens',
            label: 'max tokens',
            help: 'Tokens kept from the start of each text.',
            kind: 'int',
            path: ['maxTokens'],
          },
          {
            id: 'dataSeed',
            label: 'split seed',
            help: 'Seed of the 6:2:2 split, separate from the run seed so every run of a study sees the same split.',
            kind: 'int',
            path: ['dataSeed'],
          },
        ],
      },
      {
        id: 'teacher',
        title: 'Teacher',
        owns: ['teacher'],
        note: (c) =>
          teacherKind(c) === 'gguf'
            ? 'A GGUF teacher needs node-llama-cpp, which the lab does not install: run `npm install node-llama-cpp` first, or the run fails with "install node-llama-cpp to use a GGUF teacher".'
            : null,
        fields: [
          {
            id: 'teacher.source',
            label: 'teacher',
            help: 'The lab trains a small transformer, loads a Hugging Face model directory, or asks a GGUF model.',
            kind: 'select',
            path: ['teacher', 'source'],
            options: [
              { value: 'lab', label: 'lab transformer (pretrained here)' },
              { value: 'dir', label: 'model directory (Hugging Face)' },
              { value: 'gguf', label: 'GGUF file (node-llama-cpp)' },
            ],
            read: teacherKind,
            write: (c, v) => {
              if (v === teacherKind(c)) return c;
              if (v === 'gguf') return { ...c, teacher: { source: 'gguf', modelPath: '' } };
              const base = teacherKind(c) === 'gguf' ? defaultLab() : teacher(c);
              return { ...c, teacher: { ...base, modelDir: v === 'dir' ? '' : null } };
            },
          },
          tf('corpus', 'corpus', 'Corpus the teacher LM and its BPE tokenizer are pretrained on.', [
            { value: 'brown', label: 'brown' },
            { value: 'moby-dick', label: 'moby-dick' },
          ]),
          tf(
            'corpusChars',
            'corpus characters',
            'Characters of the corpus used for the tokenizer and pretraining.',
          ),
          tf('vocabSize', 'vocabulary', 'Byte-level BPE vocabulary size.'),
          tf('hiddenSize', 'width', 'Hidden size; also the width E of the student embedding.'),
          tf('layers', 'layers', 'Transformer layers.'),
          tf('heads', 'heads', 'Attention heads; the width must split into heads of even width.'),
          tf('intermediateSize', 'MLP width', 'Feed-forward width of each layer.'),
          tf('pretrainSteps', 'pretraining steps', 'Causal-LM steps before fine-tuning.'),
          {
            id: 'teacher.modelDir',
            label: 'model directory',
            help: 'A Hugging Face directory: config.json, safetensors and tokenizer.json.',
            kind: 'text',
            path: ['teacher', 'modelDir'],
            when: (c) => teacherKind(c) === 'dir',
          },
          {
            id: 'teacher.loraRank',
            label: 'LoRA rank',
            help: 'Rank r of the adapters on q/v (α = 2r); the paper used 200 on 1–8B models.',
            kind: 'int',
            path: ['teacher', 'loraRank'],
            when: lab,
          },
          {
            id: 'teacher.finetuneEpochs',
            label: 'fine-tuning epochs',
            help: 'Epochs of LoRA + classification-head training before the adapters are merged and frozen.',
            kind: 'int',
            path: ['teacher', 'finetuneEpochs'],
            when: lab,
          },
          {
            id: 'teacher.modelPath',
            label: 'GGUF file',
            help: 'Path to the .gguf model; class logits are the label words’ next-token log-probabilities.',
            kind: 'text',
            path: ['teacher', 'modelPath'],
            when: (c) => teacherKind(c) === 'gguf',
          },
          {
            id: 'teacher.prompt',
            label: 'prompt',
            help: 'Template: {text} is the sample, {labels} the label words joined by ", ".',
            kind: 'text',
            path: ['teacher', 'prompt'],
            when: (c) => teacherKind(c) === 'gguf',
          },
          {
            id: 'teacher.contextSize',
            label: 'context size',
            help: 'Context window (tokens) of the GGUF model.',
            kind: 'optional-int',
            path: ['teacher', 'contextSize'],
            when: (c) => teacherKind(c) === 'gguf',
          },
        ],
      },
      {
        id: 'student',
        title: 'Student',
        owns: ['qubits', 'layers', 'scale', 'embedding', 'backend', 'precision'],
        summary: (c) => qdllmParamLine(c),
        fields: [
          {
            id: 'qubits',
            label: 'qubits n',
            help: 'Linear(E → n) feeds n RX angles; ⟨Z⟩ is read on every qubit (n ≥ classes). Paper: 11.',
            kind: 'int',
            path: ['qubits'],
          },
          {
            id: 'layers',
            label: 'layers L',
            help: 'QD-LLM ansatz layers (RZ·RY·RZ, RZZ chain, RZ·RY·RZ, CNOT chain). Paper: 11.',
            kind: 'int',
            path: ['layers'],
          },
          {
            id: 'scale',
            label: 'scale s',
            help: 'Per-sample min-max rescale of the n values to angles in [0, s]. Paper: 10.',
            kind: 'number',
            path: ['scale'],
          },
          {
            id: 'embedding',
            label: 'embedding',
            help: 'The frozen text embedding: mean of the teacher’s token embeddings, or of its final hidden states.',
            kind: 'select',
            path: ['embedding'],
            options: [
              { value: 'tokens', label: 'tokens (mean token embedding)' },
              { value: 'hidden', label: 'hidden (mean final hidden state)' },
            ],
          },
          {
            id: 'backend',
            label: 'simulator',
            help: 'State-vector simulator of the student: CPU, or GPU where the machine has one.',
            kind: 'select',
            path: ['backend'],
            options: [
              { value: 'cpu', label: 'cpu' },
              { value: 'gpu', label: 'gpu' },
            ],
          },
          PRECISION_FIELD,
        ],
      },
      {
        id: 'distill',
        title: 'Distillation',
        owns: [
          'alpha',
          'temperature',
          'loss',
          'ablation',
          'epochs',
          'batchSize',
          'lr',
          'seeds',
          'mlp',
          'transformerStudent',
        ],
        fields: [
          {
            id: 'alpha',
            label: 'guidance α',
            help: 'Loss = (1 − α)·CE + α·(T²·KL + JS) against the teacher; in [0, 1]. Paper: 0.9.',
            kind: 'number',
            path: ['alpha'],
          },
          {
            id: 'temperature',
            label: 'temperature T',
            help: 'Softmax temperature of the KL and JS terms (KL scaled by T²). Default 2.',
            kind: 'number',
            path: ['temperature'],
          },
          {
            id: 'loss',
            label: 'loss',
            help: 'all: the paper’s loss; ce, kl or js alone for the ablation.',
            kind: 'select',
            path: ['loss'],
            options: [
              { value: 'all', label: 'all (CE + KL + JS)' },
              { value: 'ce', label: 'ce only' },
              { value: 'kl', label: 'kl only' },
              { value: 'js', label: 'js only' },
            ],
          },
          {
            id: 'ablation',
            label: 'loss ablation',
            help: 'Also train the quantum student with each loss alone (ce, kl, js) beside "all".',
            kind: 'boolean',
            path: ['ablation'],
          },
          {
            id: 'epochs',
            label: 'epochs',
            help: 'Training epochs of every student. Paper: 10.',
            kind: 'int',
            path: ['epochs'],
          },
          {
            id: 'batchSize',
            label: 'batch',
            help: 'Samples per Adam step. Paper: 8.',
            kind: 'int',
            path: ['batchSize'],
          },
          {
            id: 'lr',
            label: 'learning rate',
            help: 'Adam learning rate of the quantum student. Paper: 0.06.',
            kind: 'number',
            path: ['lr'],
          },
          {
            id: 'seeds',
            label: 'seeds',
            help: 'Repeats; metrics are mean ± std over them. Paper: 5.',
            kind: 'int',
            path: ['seeds'],
          },
          {
            id: 'mlp.enabled',
            label: 'MLP baseline',
            help: 'An MLP student on the same embedding, sized to the quantum student’s parameter count.',
            kind: 'boolean',
            path: ['mlp', 'enabled'],
          },
          {
            id: 'transformerStudent.enabled',
            label: 'transformer baseline',
            help: 'A small transformer student trained from scratch with the same loss (DistilBERT-style, scaled down).',
            kind: 'boolean',
            path: ['transformerStudent', 'enabled'],
          },
        ],
      },
    ],
  };
}

/** The live parameter line of the student step. */
export function qdllmParamLine(c: Config): string | null {
  const n = c.qubits;
  const L = c.layers;
  if (typeof n !== 'number' || typeof L !== 'number') return null;
  const C = typeof c.dataset === 'string' ? BUNDLED_CLASSES[c.dataset] : undefined;
  const t = teacher(c);
  const E = teacherKind(c) === 'lab' && typeof t.hiddenSize === 'number' ? t.hiddenSize : undefined;
  const circuit = L * (7 * n - 1);
  if (E === undefined || C === undefined)
    return `Trainable parameters: E·${n} + ${n} + ${circuit} (circuit) + ${n}·C + C — ${
      E === undefined ? 'E is the teacher’s width' : `E = ${E}`
    }, ${C === undefined ? 'C the number of classes in the file' : `C = ${C}`}.`;
  return `Trainable parameters: ${qdllmStudentParams(E, n, L, C).toLocaleString('en-US')} (Linear ${E}→${n}: ${E * n + n}, circuit: ${circuit}, Linear ${n}→${C}: ${n * C + C}).`;
}
