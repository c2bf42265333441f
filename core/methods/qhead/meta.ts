// What `qhead` says about itself: the wizard's steps (data source, encoder, sweep and energy switches),
// presets, its two circuits, and the trainable parameters of the quantum head and its baselines, sized by
// the functions the job uses (known here when the encoder's width and the classes are in the config).
import { mlpHiddenForParams, mlpParamCount } from '../../nn/param-counts';
import type { Circuit } from '../../quantum/circuit';
import { resources as circuitResources } from '../../quantum/resources';
import {
  defineKindMeta,
  type ModelCount,
  type NamedCircuit,
  type ResourceLine,
  type RunPlan,
  type WorkEstimate,
} from '../metadata/meta';
import { dataSourceItems } from '../metadata/shared-fields';
import { bundledClasses, bundledSplitSizes, stateVectorLines } from '../metadata/sizing';
import {
  headParameterCounts,
  module1Circuit,
  module1Inputs,
  module1Qubits,
  module2Circuit,
  type HeadShape,
} from './circuits';
import { QheadConfigSchema, type QheadConfig } from './schema';
import { designPoints, type SweepPoint } from './sweep';

const ENERGY = [{ path: 'energy.enabled', notIn: [false] }];

/** The head's shape, or null while the embedding width d or the classes C are known only at run time. */
export function headShape(c: QheadConfig): HeadShape | null {
  const dim = c.encoder.type === 'pretrain' ? c.encoder.hiddenSize : null;
  const classes = c.datasetFile ? null : bundledClasses(c.dataset);
  if (dim === null || classes === null) return null;
  return { ...c.head, dim, classes, bias: c.head.biasAmplitude > 0 ? 1 : 0 };
}

function parameterCounts(c: QheadConfig): ModelCount[] {
  const s = headShape(c);
  if (!s)
    return [
      {
        key: 'quantum',
        label: 'quantum head',
        role: 'quantum',
        params: null,
        formula: 'E·n·encoderDepth + Q·(depth + finalDepth) + (Q_m + E·n)·C + C, n = ⌈log2(d + 1)⌉',
        needs: [
          ...(c.encoder.type === 'pretrain' ? [] : ['d: the encoder’s width']),
          ...(c.datasetFile ? ['C: the classes in the file'] : []),
        ],
      },
    ];
  const p = headParameterCounts(s);
  const { dim: d, classes: C } = s;
  const head: ModelCount = {
    key: 'quantum',
    label: 'quantum head',
    role: 'quantum',
    params: p.total,
    parts: { 'Module 1': p.module1, 'Module 2': p.module2, Linear: p.linear },
  };
  if (!c.baselines) return [head];
  const h = mlpHiddenForParams(p.total, d, C);
  return [
    head,
    { key: 'logreg', label: `logistic regression (${d}→${C})`, role: 'baseline', params: d * C + C },
    { key: 'mlp', label: `MLP ${d}-${h}-${C} (GELU)`, role: 'baseline', params: mlpParamCount(d, h, C) },
  ];
}

function circuits(c: QheadConfig): NamedCircuit[] {
  const s = headShape(c);
  if (!s) return [];
  const n = module1Qubits(s);
  const m1 = module1Circuit(module1Inputs(s), s.encoderDepth);
  const m2 = module2Circuit({ ...s, features: s.encoders * n });
  return [
    { name: 'Module 1 (encoder)', circuit: m1, note: `per sample, × ${s.encoders} encoder(s)` },
    { name: 'Module 2', circuit: m2, note: 'per sample' },
  ];
}

function resources(c: QheadConfig): ResourceLine[] {
  const noisy = c.noise !== undefined && Object.values(c.noise).some((p) => p > 0);
  const Q = c.head.qubits;
  const lines = stateVectorLines(Q, noisy ? 'f64' : c.precision, c.batchSize, 'Module 2');
  if (noisy && Q <= 10)
    lines.push({ label: 'Module 2: density matrix (noise)', value: 16 * 4 ** Q, unit: 'bytes' });
  if (c.sweep) {
    try {
      lines.push({
        label: 'sweep: trainings (points × seeds)',
        value: designPoints(c.sweep).length * c.sweep.seeds,
        unit: 'count',
      });
    } catch (e) {
      lines.push({
        label: 'sweep: trainings (points × seeds)',
        value: NaN,
        unit: 'count',
        note: (e as Error).message,
      });
    }
  }
  if (c.energy.enabled) {
    const widest = Math.max(...c.energy.qubits);
    lines.push(...stateVectorLines(widest, c.precision, 1, 'energy timing').slice(0, 1));
  }
  return lines;
}

/** Amplitude-pair updates of one forward of a circuit row: its gates and encodings over 2^(n−1) pairs. */
function forwardOps(c: Circuit): number {
  const r = circuitResources(c);
  return 2 ** (c.qubits - 1) * (r.gates + r.amplitudeOps);
}

/** Widest noisy circuit the noisy simulator runs as a density matrix (its default; trajectories beyond). */
export const NOISY_DENSITY_LIMIT = 10;

/**
 * Density-matrix updates of one noisy forward of a circuit row: each gate, each amplitude encoding and each
 * depolarizing channel (one per wire of a gate whose kind `noise` names with p > 0) on ρ's 4^n entries.
 */
function densityForwardOps(c: Circuit, noise: Readonly<Record<string, number>>): number {
  let steps = 0;
  for (const op of c.ops) {
    steps += 1;
    if (op.type === 'gate' && (noise[op.gate] ?? 0) > 0) steps += op.wires.length;
  }
  return steps * 4 ** c.qubits;
}

/**
 * Sweeps of one row's circuits in a training step: a forward and the adjoint's 3 (exact), or with shots a
 * forward plus two shifted forwards per parameter and per input (the gradient reaches Module 1 through
 * Module 2's inputs).
 */
function trainSweeps(c: Circuit, shots: boolean): number {
  return shots ? 1 + 2 * (c.numParams + c.numInputs) : 4;
}

/**
 * The run's work, counted as index.ts runs it: the encoder's pretraining (6·N flops per token plus
 * attention's T² terms) and one forward over every document's first maxTokens tokens (2·N); then each
 * training of the quantum head — seeds × learning-rate candidates at the main shape, sweep points × their
 * seeds — `epochs` passes over train (per row E Module-1 circuits and Module 2, forward + gradient) and a
 * forward over validation after each, and a forward over test per seed; split by circuit width. With noise
 * the circuits run as density matrices (parameter-shift gradients), counted in density-matrix updates.
 * Set-up: the dataset's and the encoder corpus's loads and the encoder's BPE (the job process's start is every
 * run's). Not counted: the baselines and the bag-of-words reference (classical, small), the energy timing,
 * noisy circuits wider than NOISY_DENSITY_LIMIT (trajectories), an encoder not pretrained here (its pass needs a
 * rate the calibration does not measure).
 */
function work(c: QheadConfig): WorkEstimate {
  const shape = headShape(c);
  const sizes = c.datasetFile ? null : bundledSplitSizes(c.dataset);
  if (!shape || !sizes)
    return {
      flops: NaN,
      amplitudeOps: NaN,
      note: 'the embedding width or the dataset’s size is known only when the run starts',
    };
  const nTrain = Math.min(sizes.train, c.maxTrain ?? Infinity);
  const nVal = Math.min(sizes.validation, c.maxTest ?? Infinity);
  const nTest = Math.min(sizes.test, c.maxTest ?? Infinity);
  const notCounted = ['the baselines', 'the energy timing'];
  let flops = 0;
  const e = c.encoder;
  if (e.type === 'pretrain') {
    const d = e.hiddenSize;
    const N = e.layers * (4 * d * d + 3 * d * e.intermediateSize) + 2 * e.vocabSize * d;
    const attn = (tokens: number) => 4 * e.layers * tokens * e.seqLen * d;
    const BT = e.batchSize * e.seqLen;
    const docs = nTrain + nVal + nTest;
    const embedTokens = docs * e.maxTokens;
    // with `vary: ["split"]` every repetition pretrains and embeds again on its own split
    const encoders = c.vary.length ? c.seeds : 1;
    flops = encoders * (e.steps * (6 * N * BT + 3 * attn(BT)) + 2 * N * embedTokens + attn(embedTokens));
  } else notCounted.unshift(`the ${e.type} encoder’s pass (not calibrated)`);
  const noise = c.noise ?? {};
  const noisy = Object.values(noise).some((p) => p > 0);
  const byWidth = new Map<number, number>();
  const add = (q: number, ops: number) => byWidth.set(q, (byWidth.get(q) ?? 0) + ops);
  const density = new Map<number, number>();
  let trajectories = false;
  const training = (over: SweepPoint, trainings: number, epochs: number) => {
    const s = { ...shape, ...over };
    const n = module1Qubits(s);
    const m1 = module1Circuit(module1Inputs(s), s.encoderDepth);
    const m2 = module2Circuit({ ...s, features: s.encoders * n });
    const shots = c.shots !== null && c.shots !== undefined;
    // with noise: density matrices (parameter shift: a forward and two shifted ones per parameter and input)
    const one = (circ: Circuit, copies: number) => {
      const forwards = (exact: boolean) =>
        trainings * copies * (epochs * (nTrain * trainSweeps(circ, !exact) + nVal) + nTest);
      if (!noisy) add(circ.qubits, forwards(!shots) * forwardOps(circ));
      else if (circ.qubits > NOISY_DENSITY_LIMIT) trajectories = true;
      else
        density.set(
          circ.qubits,
          (density.get(circ.qubits) ?? 0) + forwards(false) * densityForwardOps(circ, noise),
        );
    };
    one(m1, s.encoders);
    one(m2, 1);
  };
  const lrs = c.lrFactors.length;
  training({}, c.seeds * lrs, c.epochs);
  if (c.sweep) for (const p of designPoints(c.sweep)) training(p, c.sweep.seeds, c.sweep.epochs ?? c.epochs);
  if (trajectories)
    notCounted.push(
      `noisy circuits wider than ${NOISY_DENSITY_LIMIT} qubits (trajectories are not calibrated)`,
    );
  const parts = [...byWidth].map(([qubits, amplitudeOps]) => ({ qubits, amplitudeOps }));
  // set-up: the dataset loaded (again for each seed's own split with `vary`), the encoder's corpus and BPE
  const splits = c.vary.includes('split') ? c.seeds : 1;
  const pretrained = e.type === 'pretrain' ? { corpus: e.corpus, chars: e.corpusChars } : null;
  return {
    flops,
    amplitudeOps: parts.reduce((t, p) => t + p.amplitudeOps, 0),
    byWidth: parts,
    ...(density.size
      ? { densityByWidth: [...density].map(([qubits, densityOps]) => ({ qubits, densityOps })) }
      : {}),
    setup: {
      datasets: [
        ...Array.from({ length: splits }, () => c.dataset),
        ...(pretrained ? Array.from({ length: c.vary.length ? c.seeds : 1 }, () => pretrained.corpus) : []),
      ],
      tokenizerChars: pretrained ? (c.vary.length ? c.seeds : 1) * pretrained.chars : 0,
    },
    note: `${notCounted.join(', ')} not counted`,
  };
}

/**
 * The screening sweep's points are child runs (each over the sweep's seeds; with `vary` only in the first
 * repetition); `vary` makes the seeds whole repetitions, each on its own split.
 */
function runPlan(c: QheadConfig): RunPlan {
  const points = c.sweep ? designPoints(c.sweep).length : 0;
  return {
    childRuns: points,
    ...(points && c.sweep
      ? {
          childRunsWhat: `the screening sweep's points (${c.sweep.design}), each over ${c.sweep.seeds} seed${c.sweep.seeds === 1 ? '' : 's'}`,
        }
      : {}),
    repetitions: c.vary.length ? c.seeds : 1,
    ...(c.vary.length ? { repetitionsWhat: c.vary.join(' and ') } : {}),
    seeds: c.seeds,
  };
}

export const qheadMeta = defineKindMeta({
  kind: 'qhead',
  title: 'Quantum fine-tuning head',
  description:
    'A quantum classification head (amplitude-encoding encoders, data re-uploading with a shared long-range PQC) on a frozen sentence encoder, beside logistic regression and a parameter-matched MLP, with a screening sweep and a simulation-vs-QPU energy estimate.',
  schema: QheadConfigSchema,
  steps: [
    {
      id: 'data',
      title: 'Data',
      items: [
        ...dataSourceItems({
          key: 'datasetFile',
          bundled: [{ path: 'datasetFile', present: false }],
          file: [{ path: 'datasetFile', present: true }],
          toBundled: { remove: ['datasetFile'] },
          toFile: { fill: ['datasetFile'] },
          fileItems: ['datasetFile'],
        }),
        'dataSeed',
        'maxTrain',
        'maxTest',
      ],
    },
    {
      id: 'encoder',
      title: 'Encoder',
      note: {
        when: [{ path: 'encoder.type', in: ['gguf'] }],
        text: 'A GGUF encoder needs node-llama-cpp, which the lab does not install: run `npm install node-llama-cpp` first, or the run fails with "install node-llama-cpp to use a GGUF encoder".',
      },
      items: ['encoder.type', 'encoder.path', 'encoder'],
    },
    { id: 'head', title: 'Head', items: ['head', 'standardize'] },
    {
      id: 'training',
      title: 'Training',
      items: [
        'epochs',
        'batchSize',
        'lr',
        'lrFactors',
        'seeds',
        'vary',
        'shots',
        'precision',
        'noise',
        'trajectories',
        'baselines',
      ],
    },
    {
      id: 'sweep',
      title: 'Sweep & energy',
      items: [
        { key: 'sweep', id: 'sweepOn' },
        { when: [{ path: 'sweep', present: true }], items: ['sweep'] },
        'energy.enabled',
        { when: ENERGY, items: ['energy'] },
      ],
    },
  ],
  presets: [
    {
      id: 'small',
      label: 'small',
      about: 'a 64-wide encoder, 6-qubit head, 3 seeds, a 9-point sweep (examples/qhead-topic.json)',
      config: {
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
      },
    },
    {
      id: 'paper',
      label: 'paper-sized',
      about:
        'd = 768, 10-qubit head, 1000 shots (parameter shift), 5 seeds (examples/qhead-topic-paper.json)',
      config: {
        dataset: 'brown-topics',
        standardize: true,
        encoder: {
          type: 'pretrain',
          corpus: 'brown',
          corpusChars: 4000000,
          vocabSize: 4096,
          hiddenSize: 768,
          intermediateSize: 2048,
          layers: 6,
          heads: 12,
          seqLen: 256,
          steps: 5000,
          batchSize: 8,
          lr: 0.001,
          maxTokens: 512,
        },
        head: {
          encoders: 2,
          encoderDepth: 2,
          qubits: 10,
          depth: 4,
          finalDepth: 2,
          reuploads: 4,
          connectivity: 3,
          measured: 1,
          biasAmplitude: 1,
        },
        epochs: 30,
        batchSize: 16,
        lr: 0.01,
        seeds: 5,
        shots: 1000,
        baselines: true,
        sweep: {
          design: 'fractional',
          factors: {
            qubits: [6, 8, 10],
            depth: [2, 4, 6],
            lr: [0.003, 0.01, 0.03],
            reuploads: [2, 4, 6],
            connectivity: [1, 3, 5],
          },
          seeds: 2,
        },
        energy: {
          qubits: [6, 8, 10, 12, 14, 16, 18],
          batch: 16,
          repeats: 5,
          cpuWatts: 65,
          extrapolateTo: 64,
        },
      },
    },
  ],
  parameterCounts,
  circuits,
  resources,
  work,
  runPlan,
});
