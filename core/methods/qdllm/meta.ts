// What `qdllm` says about itself: the wizard's steps (data source and teacher switches), presets, the
// student circuit, and the trainable parameters of the quantum student and its classical baselines, sized
// by the functions the job uses (known here only when the teacher's width and the classes are in the config).
import { llamaClassifierParamCount, mlpHiddenForParams, mlpParamCount } from '../../nn/param-counts';
import { resources as circuitResources } from '../../quantum/resources';
import {
  defineKindMeta,
  type ModelCount,
  type ResourceLine,
  type RunPlan,
  type WorkEstimate,
} from '../metadata/meta';
import { dataSourceItems } from '../metadata/shared-fields';
import { BUNDLED_OPTIONS, bundledClasses, bundledSplitSizes, stateVectorLines } from '../metadata/sizing';
import { qdllmAnsatzParamCount, qdllmStudentCircuit, qdllmStudentParamCount } from './circuit';
import { QdllmConfigSchema, type QdllmConfig } from './schema';

const LAB = { path: 'teacher.source', in: ['lab-transformer'] };
const GGUF = [{ path: 'teacher.source', in: ['gguf'] }];
const PRETRAINED = [LAB, { path: 'teacher.modelDir', in: [null] }];
const FROM_DIR = [LAB, { path: 'teacher.modelDir', notIn: [null] }];
const BUNDLED = [{ path: 'dataset', in: BUNDLED_OPTIONS }];
const FILE = [{ path: 'dataset', notIn: BUNDLED_OPTIONS }];

/** Width E of the student's embedding (the lab teacher's), or null when only the run can tell. */
export function embeddingWidth(c: QdllmConfig): number | null {
  return c.teacher.source === 'lab-transformer' && c.teacher.modelDir === null ? c.teacher.hiddenSize : null;
}

/** Vocabulary of the transformer student: the lab teacher's BPE, or the one trained for a GGUF teacher. */
function studentVocab(c: QdllmConfig): number | null {
  if (c.teacher.source === 'gguf') return c.teacher.studentVocabSize;
  return c.teacher.modelDir === null ? c.teacher.vocabSize : null;
}

function quantumCount(c: QdllmConfig, E: number | null, C: number | null): ModelCount {
  const n = c.qubits;
  const circuit = qdllmAnsatzParamCount(n, c.layers, c.ansatz);
  const label = `QD-LLM quantum student (${n} qubits × ${c.layers} layers, ${c.ansatz === 'authors' ? "authors' ansatz" : "text's ansatz"})`;
  if (E === null || C === null)
    return {
      key: 'quantum',
      label,
      role: 'quantum',
      params: null,
      formula: `${E ?? 'E'}·${n} + ${n} + ${circuit} (circuit) + ${n}·${C ?? 'C'} + ${C ?? 'C'}`,
      needs: [
        ...(E === null ? ['E: the teacher’s width'] : []),
        ...(C === null ? ['C: the classes in the file'] : []),
      ],
    };
  const parts = { [`Linear ${E}→${n}`]: E * n + n, circuit, [`Linear ${n}→${C}`]: n * C + C };
  return {
    key: 'quantum',
    label,
    role: 'quantum',
    params: qdllmStudentParamCount(E, n, c.layers, C, c.ansatz),
    parts,
  };
}

function baselineCounts(c: QdllmConfig, E: number | null, C: number | null, q: number | null): ModelCount[] {
  const out: ModelCount[] = [];
  if (c.mlp.enabled) {
    const h = q === null || E === null || C === null ? null : mlpHiddenForParams(q, E, C);
    out.push({
      key: 'mlp',
      label: h === null ? 'MLP student E-h-C (GELU)' : `MLP student ${E}-${h}-${C} (GELU)`,
      role: 'baseline',
      params: h === null ? null : mlpParamCount(E!, h, C!),
      ...(h === null ? { formula: 'h(E + 1) + C(h + 1), h matched to the quantum count' } : {}),
    });
  }
  const ts = c.transformerStudent;
  if (ts.enabled) {
    const V = studentVocab(c);
    const shape = { hiddenSize: ts.hiddenSize, intermediateSize: ts.intermediateSize, layers: ts.layers };
    out.push({
      key: 'transformer',
      label: `Transformer student ${ts.layers}×${ts.hiddenSize} (${ts.heads} heads)`,
      role: 'baseline',
      params:
        V === null || C === null ? null : llamaClassifierParamCount({ ...shape, vocabSize: V, classes: C }),
      formula: `V·H + layers·(2H + 4H² + 3H·I) + H + H·C + C with V = ${V ?? 'the tokenizer’s vocabulary'} (fewer if the BPE runs out of merges)`,
    });
  }
  return out;
}

function resources(c: QdllmConfig): ResourceLine[] {
  const students = (c.ablation ? 4 : 1) + (c.mlp.enabled ? 1 : 0) + (c.transformerStudent.enabled ? 1 : 0);
  return [
    ...stateVectorLines(c.qubits, c.precision, c.batchSize, 'quantum student'),
    { label: 'students trained (× seeds)', value: students * c.seeds, unit: 'count' },
  ];
}

/**
 * The run's work, counted as index.ts runs it: the lab teacher's pretraining (6 flops per parameter and token
 * plus attention's T² terms), its fine-tuning epochs over train (6 per weight with full fine-tuning, 4 through
 * frozen weights with LoRA) and one forward over every split (2 per weight) for the students' embeddings and
 * logits, once per seed with `vary: ["teacher"]`; each quantum student (the loss ablation adds three) over
 * seeds × learning-rate candidates: `epochs` passes over train (a forward and the adjoint's 3 sweeps per
 * row), a forward over validation after each and over test once; the transformer student's steps as flops.
 * Split sizes: the bundled split's, or samplesPerClass per class split 60/20/20 % (≈). Set-up: the dataset's
 * and the teacher corpus's loads and the teacher's BPE (the job process's start is every run's). Not counted:
 * the MLP student (E·h per row, small), the bag-of-words reference. A GGUF teacher's passes are characters of
 * prompt and text (texts at maxTextChars) at that file's calibrated rate (LabApi.calibrate's ggufFiles).
 */
function work(c: QdllmConfig): WorkEstimate {
  const sizes = bundledSplitSizes(c.dataset);
  const C = bundledClasses(c.dataset);
  if (!sizes || C === null)
    return { flops: NaN, amplitudeOps: NaN, note: 'a data file’s size is known only when the run starts' };
  const all = sizes.train + sizes.validation + sizes.test;
  const total = c.samplesPerClass === null ? all : Math.min(all, C * c.samplesPerClass);
  const nTrain = c.samplesPerClass === null ? sizes.train : Math.round(0.6 * total);
  const nVal = c.samplesPerClass === null ? sizes.validation : Math.round(0.2 * total);
  const nTest = total - nTrain - nVal;
  const T = c.maxTokens;
  const lrs = c.lrFactors.length;
  const notCounted = ['the MLP student', 'the bag-of-words reference'];
  let flops = 0;
  const t = c.teacher;
  if (t.source === 'lab-transformer' && t.modelDir === null) {
    const H = t.hiddenSize;
    const body = t.layers * (4 * H * H + 3 * H * t.intermediateSize);
    const attn = (tokens: number, len: number) => 4 * t.layers * tokens * len * H;
    const P = t.pretrainBatch * t.pretrainSeqLen;
    const pretrain = t.pretrainSteps * (6 * (body + t.vocabSize * H) * P + 3 * attn(P, t.pretrainSeqLen));
    const ft =
      t.finetuneEpochs * nTrain * T * ((t.finetune === 'full' ? 6 : 4) * body) +
      3 * attn(t.finetuneEpochs * nTrain * T, T);
    const pass = 2 * body * total * T + attn(total * T, T);
    flops += (c.vary.includes('teacher') ? c.seeds : 1) * (pretrain + ft + pass);
  } else if (t.source !== 'gguf')
    notCounted.push('the teacher from a directory (its size is read at run time)');
  const ts = c.transformerStudent;
  if (ts.enabled) {
    const V = studentVocab(c) ?? NaN;
    const N =
      ts.layers * (4 * ts.hiddenSize ** 2 + 3 * ts.hiddenSize * ts.intermediateSize) + V * ts.hiddenSize;
    const attn = (tokens: number) => 4 * ts.layers * tokens * T * ts.hiddenSize;
    const train = c.epochs * nTrain * T;
    const evalTokens = (c.epochs * nVal + nTest) * T;
    flops += c.seeds * lrs * (6 * N * train + 3 * attn(train) + 2 * N * evalTokens + attn(evalTokens));
  }
  const circuit = qdllmStudentCircuit(c.qubits, c.layers, c.ansatz);
  const r = circuitResources(circuit);
  const row = 2 ** (c.qubits - 1) * (r.gates + r.amplitudeOps);
  const students = c.ablation ? 4 : 1;
  const amplitudeOps = students * c.seeds * lrs * row * (c.epochs * (4 * nTrain + nVal) + nTest);
  // set-up: the dataset loaded (again for each seed's own split with `vary`), the lab teacher's corpus and BPE
  const teachers = c.vary.includes('teacher') ? c.seeds : 1;
  const labTeacher = t.source === 'lab-transformer' && t.modelDir === null;
  return {
    flops,
    amplitudeOps,
    byWidth: [{ qubits: c.qubits, amplitudeOps }],
    setup: {
      datasets: [
        ...Array.from({ length: c.vary.includes('split') ? c.seeds : 1 }, () => c.dataset),
        ...(labTeacher ? Array.from({ length: teachers }, () => t.corpus) : []),
      ],
      tokenizerChars: labTeacher ? teachers * t.corpusChars : 0,
    },
    // a GGUF teacher: per sample the prompt read to its label logits and the text embedded (buildGgufTeacher),
    // texts taken at maxTextChars (the cap: shorter texts take less), loaded once per teacher
    ...(t.source === 'gguf'
      ? {
          gguf: [
            {
              path: t.modelPath,
              samples: teachers * total,
              chars: teachers * total * (t.prompt.length + 2 * t.maxTextChars),
              loads: teachers,
            },
          ],
        }
      : {}),
    note: `${notCounted.join(', ')} not counted`,
  };
}

/** No child runs; `vary` makes the seeds whole repetitions, each with its own split and/or teacher. */
function runPlan(c: QdllmConfig): RunPlan {
  const teacher = c.vary.includes('teacher') && c.teacher.source === 'lab-transformer';
  const what = [...(c.vary.includes('split') ? ['split'] : []), ...(teacher ? ['teacher'] : [])];
  return {
    childRuns: 0,
    repetitions: c.vary.length ? c.seeds : 1,
    ...(what.length ? { repetitionsWhat: what.join(' and ') } : {}),
    seeds: c.seeds,
  };
}

export const qdllmMeta = defineKindMeta({
  kind: 'qdllm',
  title: 'QD-LLM quantum knowledge distillation',
  description:
    'Distils a frozen language-model teacher (a LoRA-fine-tuned lab transformer or a GGUF model) into an ~11-qubit quantum student, beside a parameter-matched MLP student and a small transformer student trained with the same loss; accuracy, P/R/F1, parameters, time and memory as mean ± std over seeds.',
  schema: QdllmConfigSchema,
  steps: [
    {
      id: 'data',
      title: 'Data',
      items: [
        ...dataSourceItems({
          key: 'dataset',
          bundled: BUNDLED,
          file: FILE,
          toBundled: { set: { dataset: 'spam-assassin' } },
          toFile: { set: { dataset: '' } },
          fileItems: [
            {
              key: 'dataset',
              id: 'datasetPath',
              label: 'file path',
              help: 'Path to a .csv, .tsv or .jsonl file on this machine.',
            },
            'textColumn',
            'labelColumn',
          ],
        }),
        'samplesPerClass',
        'maxTokens',
        'dataSeed',
      ],
    },
    {
      id: 'teacher',
      title: 'Teacher',
      note: {
        when: GGUF,
        text: 'A GGUF teacher needs node-llama-cpp, which the lab does not install: run `npm install node-llama-cpp` first, or the run fails with "install node-llama-cpp to use a GGUF teacher".',
      },
      items: [
        {
          id: 'teacher.source',
          label: 'teacher',
          help: 'The lab trains a small transformer, loads a Hugging Face model directory, or asks a GGUF model.',
          key: 'teacher.source',
          choices: [
            {
              value: 'lab',
              label: 'lab transformer (pretrained here)',
              when: PRETRAINED,
              set: { 'teacher.source': 'lab-transformer', 'teacher.modelDir': null },
            },
            {
              value: 'dir',
              label: 'model directory (Hugging Face)',
              when: [LAB],
              set: { 'teacher.source': 'lab-transformer', 'teacher.modelDir': '' },
            },
            {
              value: 'gguf',
              label: 'GGUF file (node-llama-cpp)',
              when: GGUF,
              set: { 'teacher.source': 'gguf' },
            },
          ],
        },
        { when: FROM_DIR, items: ['teacher.modelDir'] },
        {
          when: PRETRAINED,
          items: [
            'teacher.corpus',
            'teacher.corpusChars',
            'teacher.vocabSize',
            'teacher.hiddenSize',
            'teacher.layers',
            'teacher.heads',
            'teacher.intermediateSize',
            'teacher.pretrainSteps',
            'teacher.pretrainBatch',
            'teacher.pretrainSeqLen',
            'teacher.pretrainLr',
            'teacher.seed',
          ],
        },
        'teacher',
      ],
    },
    {
      id: 'student',
      title: 'Student',
      items: ['qubits', 'layers', 'ansatz', 'scale', 'embedding', 'backend', 'precision'],
    },
    {
      id: 'distill',
      title: 'Distillation',
      items: [
        'alpha',
        'temperature',
        'loss',
        'ablation',
        'epochs',
        'batchSize',
        'lr',
        'lrFactors',
        'seeds',
        'vary',
        'mlp',
        'transformerStudent',
      ],
    },
  ],
  presets: [
    {
      id: 'small',
      label: 'small',
      about: 'every deduplicated mail, 3 seeds (examples/qdllm-spam.json)',
      config: {
        dataset: 'spam-assassin',
        samplesPerClass: null,
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
          finetuneEpochs: 6,
          finetune: 'full',
          finetuneLr: 0.002,
        },
        embedding: 'hidden',
        qubits: 6,
        layers: 3,
        ansatz: 'text',
        precision: 'f32',
        epochs: 5,
        batchSize: 16,
        seeds: 3,
        ablation: false,
      },
    },
    {
      id: 'paper',
      label: 'paper-sized',
      about:
        "768-wide embedding, 11 qubits × 11 layers of the authors' ansatz (the paper's 9,275 parameters), 5 seeds (examples/qdllm-spam-paper.json)",
      config: {
        dataset: 'spam-assassin',
        samplesPerClass: null,
        maxTokens: 128,
        teacher: {
          source: 'lab-transformer',
          corpus: 'brown',
          corpusChars: 2000000,
          vocabSize: 4096,
          hiddenSize: 768,
          layers: 2,
          heads: 12,
          intermediateSize: 2048,
          pretrainSteps: 300,
          pretrainSeqLen: 128,
          loraRank: 200,
          finetuneEpochs: 3,
        },
        embedding: 'hidden',
        ansatz: 'authors',
        ablation: true,
        transformerStudent: { hiddenSize: 128, layers: 4, heads: 4, intermediateSize: 344 },
      },
    },
  ],
  parameterCounts(c) {
    const E = embeddingWidth(c);
    const C = bundledClasses(c.dataset);
    const quantum = quantumCount(c, E, C);
    return [quantum, ...baselineCounts(c, E, C, quantum.params)];
  },
  circuits: (c) => [
    {
      name: 'quantum student',
      circuit: qdllmStudentCircuit(c.qubits, c.layers, c.ansatz),
      note: 'per sample',
    },
  ],
  resources,
  work,
  runPlan,
});
