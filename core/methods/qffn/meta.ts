// What `qffn` says about itself: the wizard's steps (base model switch, which blocks and heads become quantum,
// circuits, training recipe, baselines, sweep), presets (the small example and the paper-sized one), the
// parameter counts of the three models by closed form (counts.ts), the two circuits and their resources.
import { resources as circuitResources } from '../../quantum/resources';
import type { Circuit } from '../../quantum/circuit';
import {
  defineKindMeta,
  type ModelCount,
  type NamedCircuit,
  type ResourceLine,
  type RunPlan,
  type WorkEstimate,
} from '../metadata/meta';
import { stateVectorLines } from '../metadata/sizing';
import { amplitudeFfnCircuit, angleEncodedPqc, unitaryKernelCircuit } from '../../quantum/qffn-circuits';
import {
  configShape,
  ffnQubits,
  matchedClassical,
  modelCounts,
  quantumBlockCount,
  total,
  type Components,
} from './counts';
import { QffnConfigSchema, quantumBlocks, quantumHeadCount, type QffnConfig } from './schema';

const PRETRAINED = [{ path: 'base.modelDir', in: [null] }];
const FROM_DIR = [{ path: 'base.modelDir', notIn: [null] }];
const HEADS = [{ path: 'quantumHeads', in: [true] }];
const GAUSSIAN = [...HEADS, { path: 'headKernel', in: ['gaussian'] }];
const CLASSICAL = [{ path: 'classical', in: [true] }];
const LAYERWISE = [{ path: 'layerwiseInit', in: [true] }];

const parts = (p: Components): Record<string, number> => ({
  embeddings: p.embeddings,
  attention: p.attention,
  norms: p.norms,
  FFN: p.ffn,
  quantum: p.quantum,
});

function parameterCounts(c: QffnConfig): ModelCount[] {
  const s = configShape(c);
  const k = s ? quantumBlocks(s.layers, c.fraction, c.placement, c.placementSeed).length : null;
  const h = s ? quantumHeadCount(s.heads, c.headShare, c.quantumHeads) : null;
  const qLabel = `QFFN: ${k ?? '?'} quantum FFN block(s) (${c.ffnForm}, D = ${c.depth}) × ${h ?? '?'} quantum head(s) each`;
  if (!s) {
    const needs = ['the model directory’s shape (read when the run starts)'];
    return [
      { key: 'qffn', label: qLabel, role: 'quantum', params: null, needs },
      { key: 'uncompressed', label: 'uncompressed base', role: 'baseline', params: null, needs },
      {
        key: 'classical',
        label: `classical compressed (${c.classicalForm})`,
        role: 'baseline',
        params: null,
        needs,
      },
    ];
  }
  const m = modelCounts(c, s);
  const matched = matchedClassical(c, s, quantumBlockCount(c, s));
  const note = `V = ${s.V} (fewer if the BPE runs out of merges)`;
  const out: ModelCount[] = [
    {
      key: 'qffn',
      label: qLabel,
      role: 'quantum',
      params: total(m.qffn),
      parts: parts(m.qffn),
      formula: note,
    },
  ];
  if (c.uncompressed)
    out.push({
      key: 'uncompressed',
      label: `uncompressed base (${s.layers} × ${s.H}, FFN ${s.I})`,
      role: 'baseline',
      params: total(m.uncompressed),
      parts: parts(m.uncompressed),
      formula: `V·H + L(4H² + 3H·I + 2H) + H; ${note}`,
    });
  if (c.classical)
    out.push({
      key: 'classical',
      label:
        c.classicalForm === 'narrow'
          ? `classical compressed: FFN width ${matched.size} in the same ${k} block(s)`
          : `classical compressed: rank-${matched.size} FFN maps in the same ${k} block(s)`,
      role: 'baseline',
      params: total(m.classical),
      parts: parts(m.classical),
      formula: `width/rank chosen so the count is closest to the QFFN model’s; ${note}`,
    });
  return out;
}

function circuits(c: QffnConfig): NamedCircuit[] {
  const s = configShape(c);
  if (!s) return [];
  const out: NamedCircuit[] = [];
  if (quantumBlocks(s.layers, c.fraction, c.placement, c.placementSeed).length === 0) return out;
  out.push({
    name: `quantum FFN (${c.ffnForm})`,
    circuit:
      c.ffnForm === 'amplitude'
        ? amplitudeFfnCircuit(s.H, c.depth)
        : angleEncodedPqc(ffnQubits(c, s.H), c.depth),
    note: 'per token, per quantum block',
  });
  if (quantumHeadCount(s.heads, c.headShare, c.quantumHeads) > 0) {
    const hd = s.H / s.heads;
    out.push(
      c.headKernel === 'unitary'
        ? {
            name: 'quantum head (unitary kernel)',
            circuit: unitaryKernelCircuit(hd, c.depth),
            note: 'per causal query–key pair',
          }
        : {
            name: 'quantum head (Gaussian kernel)',
            circuit: angleEncodedPqc(c.headQubits ?? hd, c.depth),
            note: 'per token, × 2 (queries and keys)',
          },
    );
  }
  return out;
}

/** Circuits one training step runs (forward; the adjoint backward costs a few more of each). */
export function circuitsPerStep(c: QffnConfig): { ffn: number; head: number } {
  const s = configShape(c);
  if (!s) return { ffn: 0, head: 0 };
  const k = quantumBlocks(s.layers, c.fraction, c.placement, c.placementSeed).length;
  const h = quantumHeadCount(s.heads, c.headShare, c.quantumHeads);
  const BT = c.batchSize * c.seqLen;
  const pairs = (c.batchSize * c.seqLen * (c.seqLen + 1)) / 2;
  return { ffn: k * BT, head: k * h * (c.headKernel === 'unitary' ? pairs : 2 * BT) };
}

function resources(c: QffnConfig): ResourceLine[] {
  const s = configShape(c);
  if (!s) return [];
  const per = circuitsPerStep(c);
  const n = ffnQubits(c, s.H);
  const lines: ResourceLine[] = [
    {
      label:
        c.ffnForm === 'amplitude'
          ? `quantum FFN qubits n = ⌈log2 d⌉ = ⌈log2 ${s.H}⌉`
          : `quantum FFN qubits n (bottleneck${c.qubits === null ? ', default ⌈log2 d⌉' : ''})`,
      value: n,
      unit: 'qubits',
    },
    ...stateVectorLines(n, c.precision, c.batchSize * c.seqLen, 'quantum FFN'),
    { label: 'quantum FFN circuits per training step', value: per.ffn, unit: 'count' },
    { label: 'quantum head circuits per training step', value: per.head, unit: 'count' },
  ];
  const models = 1 + (c.uncompressed ? 1 : 0) + (c.classical ? 1 : 0);
  const lrs = c.lrFactors.length;
  lines.push({
    label: 'trainings (models × lr candidates × seeds)',
    value: models * lrs * c.seeds,
    unit: 'count',
  });
  const sweepRuns = c.sweep.fractions.length + c.sweep.depths.length;
  if (sweepRuns) {
    lines.push({ label: 'sweep child runs', value: sweepRuns, unit: 'count' });
    lines.push({
      label: 'sweep trainings (points × lr candidates × seeds)',
      value: sweepRuns * lrs * c.seeds,
      unit: 'count',
    });
  }
  return lines;
}

/**
 * Amplitude updates of one circuit row: its gates, encodings and one pass per observable, each over 2^(n−1)
 * amplitude pairs (the unit the calibration times).
 */
function rowOps(c: Circuit): number {
  const r = circuitResources(c);
  return 2 ** (c.qubits - 1) * (r.gates + r.amplitudeOps + (c.observables?.length ?? c.qubits));
}

/**
 * The run's work: 6·N flops per trained token (2·N per evaluated one) plus the attention's T² terms for each
 * model, pretraining and evaluations; the circuits' rows per step times their amplitude updates (×4 for a
 * training step: forward and the adjoint's backward sweeps), and the quantum FFNs' layer-wise fit (once per
 * seed and sweep point). Set-up: the simulator's thread pool start, the base corpus's load and its BPE (the
 * job process's start is every run's).
 */
function work(c: QffnConfig): WorkEstimate {
  const s = configShape(c);
  if (!s)
    return { flops: NaN, amplitudeOps: NaN, note: 'the model directory’s size is read when the run starts' };
  const m = modelCounts(c, s);
  const BT = c.batchSize * c.seqLen;
  const attn = (tokens: number) => 4 * s.layers * tokens * c.seqLen * s.H;
  const evals = Math.floor(c.steps / c.evalEvery) + (c.steps % c.evalEvery ? 2 : 1);
  const evalTokens = evals * c.evalTokens + c.testTokens;
  const model = (n: number, steps: number) =>
    steps * (6 * n * BT + 3 * attn(BT)) + 2 * n * evalTokens + attn(evalTokens);
  const per = circuitsPerStep(c);
  const [ffnCircuit, headCircuit] = circuits(c).map((x) => x.circuit);
  const ffn = ffnCircuit ? rowOps(ffnCircuit) : 0;
  const head = headCircuit ? rowOps(headCircuit) : 0;
  const qffn = (steps: number) => model(total(m.qffn), steps);
  const runs = c.seeds * c.lrFactors.length; // every model trains once per learning-rate candidate
  const sweeps = (c.sweep.fractions.length + c.sweep.depths.length) * runs;
  const flops =
    c.base.pretrainSteps * (6 * total(m.uncompressed) * BT + 3 * attn(BT)) +
    runs * (qffn(c.steps) + (c.uncompressed ? model(total(m.uncompressed), c.steps) : 0)) +
    runs * (c.classical ? model(total(m.classical), c.steps) : 0) +
    sweeps * qffn(c.steps);
  // the layer-wise fit of each quantum FFN before training, once per seed of the main model and of each sweep
  // point (not per learning rate): layerwiseSteps × the step's FFN rows, forward + adjoint
  const sweepPoints = c.sweep.fractions.length + c.sweep.depths.length;
  const fits = c.layerwiseInit ? c.seeds * (1 + sweepPoints) * c.layerwiseSteps : 0;
  // every training's steps (forward + adjoint) and evaluations, split by width: small circuits' rates differ
  const trained = (rows: number, ops: number) =>
    (runs + sweeps) * (4 * c.steps + evalTokens / BT) * rows * ops;
  const byWidth = new Map<number, number>();
  const add = (q: number, ops: number) => byWidth.set(q, (byWidth.get(q) ?? 0) + ops);
  if (ffnCircuit) add(ffnCircuit.qubits, trained(per.ffn, ffn) + fits * 4 * per.ffn * ffn);
  if (headCircuit) add(headCircuit.qubits, trained(per.head, head));
  const parts = [...byWidth].map(([qubits, amplitudeOps]) => ({ qubits, amplitudeOps }));
  const amplitudeOps = parts.reduce((t, p) => t + p.amplitudeOps, 0);
  // set-up: the cpu simulator's thread pool started (runQffn's prepareSync), the base corpus loaded, the BPE
  // trained on (and encoding) its first corpusChars characters
  const setup =
    c.base.modelDir === null
      ? { simulators: 1, datasets: [c.base.corpus], tokenizerChars: c.base.corpusChars }
      : { simulators: 1 };
  return {
    flops,
    amplitudeOps,
    byWidth: parts,
    setup,
    note: 'sweep points counted at the main config’s size, the classical compression’s layer-wise fit not counted',
  };
}

export const SMALL_PRESET = {
  base: {
    corpus: 'brown',
    corpusChars: 300000,
    vocabSize: 512,
    hiddenSize: 64,
    layers: 2,
    heads: 4,
    intermediateSize: 172,
    pretrainSteps: 300,
    pretrainLr: 3e-3,
  },
  fraction: 0.5,
  ffnForm: 'amplitude',
  depth: 4,
  quantumHeads: true,
  headKernel: 'gaussian',
  headQubits: 4,
  steps: 150,
  batchSize: 8,
  seqLen: 32,
  lr: 2e-3,
  warmupSteps: 15,
  evalEvery: 25,
  seeds: 2,
  precision: 'f32',
  gpuSpeed: true,
  sweep: { fractions: [1], depths: [8] },
} as const;

/** The fraction/depth sweep's points are child runs, each over the run's seeds; every model trains per seed. */
function runPlan(c: QffnConfig): RunPlan {
  const points = c.sweep.fractions.length + c.sweep.depths.length;
  return {
    childRuns: points,
    ...(points
      ? {
          childRunsWhat: `the fraction/depth sweep's points, each over ${c.seeds} seed${c.seeds === 1 ? '' : 's'}`,
        }
      : {}),
    repetitions: 1,
    seeds: c.seeds,
  };
}

export const qffnMeta = defineKindMeta({
  kind: 'qffn',
  title: 'QFFN quantum feed-forward compression',
  description:
    'Replaces a fraction of a causal LM’s feed-forward sub-layers with quantum FFNs (amplitude-encoded, ⌈log2 d⌉ qubits) and a share of their attention heads with circuit-scored heads, trains it beside the uncompressed model and a parameter-matched classical compression with the same data and schedule, and reports perplexity, parameters, tokens/s and greedy continuations as mean ± std over seeds (the paper’s Tables 1 and 2).',
  schema: QffnConfigSchema,
  steps: [
    {
      id: 'base',
      title: 'Base model',
      items: [
        {
          id: 'base.source',
          label: 'base model',
          help: 'The lab pretrains a LLaMA-flavour LM on a bundled corpus, or loads a Hugging Face directory.',
          key: 'base.modelDir',
          choices: [
            {
              value: 'lab',
              label: 'train here (bundled corpus)',
              when: PRETRAINED,
              set: { 'base.modelDir': null },
            },
            {
              value: 'dir',
              label: 'model directory (LLaMA/Qwen2)',
              when: FROM_DIR,
              set: { 'base.modelDir': '' },
            },
          ],
        },
        { when: FROM_DIR, items: ['base.modelDir'] },
        'base.corpus',
        'base.corpusChars',
        {
          when: PRETRAINED,
          items: [
            'base.vocabSize',
            'base.hiddenSize',
            'base.layers',
            'base.heads',
            'base.intermediateSize',
            'base.pretrainSteps',
            'base.pretrainLr',
            'base.seed',
          ],
        },
        'base',
      ],
    },
    {
      id: 'quantum',
      title: 'Quantum layers',
      items: [
        'fraction',
        'placement',
        'placementSeed',
        'ffnForm',
        'qubits',
        'depth',
        'quantumHeads',
        { when: HEADS, items: ['headShare', 'headKernel'] },
        { when: GAUSSIAN, items: ['headQubits'] },
        'precision',
        'threads',
      ],
    },
    {
      id: 'training',
      title: 'Training',
      items: [
        'layerwiseInit',
        { when: LAYERWISE, items: ['layerwiseSteps'] },
        'steps',
        'batchSize',
        'seqLen',
        'lr',
        'lrFactors',
        'weightDecay',
        'warmupSteps',
        'clip',
        'evalEvery',
        'evalTokens',
        'testTokens',
        'seeds',
      ],
    },
    {
      id: 'report',
      title: 'Baselines and report',
      items: [
        'uncompressed',
        'classical',
        { when: CLASSICAL, items: ['classicalForm'] },
        'gpuSpeed',
        'prompts',
        'generateTokens',
        'sweep',
      ],
    },
  ],
  presets: [
    {
      id: 'small',
      label: 'small',
      about:
        'a 64-wide 2-block base, half its blocks quantum, 150 steps, 2 seeds, sweep points fraction 1 and depth 8 (examples/qffn-brown.json)',
      config: SMALL_PRESET,
    },
    {
      id: 'paper',
      label: 'paper-sized',
      about:
        'd = 256 (8 qubits), 4 blocks, half quantum, D = 4, seq 128, batch 8, 600 steps, 3 seeds, fraction ¼/1 and depth 8 ablations (examples/qffn-brown-paper.json)',
      config: {
        base: {
          corpus: 'brown',
          corpusChars: 3000000,
          vocabSize: 2048,
          hiddenSize: 256,
          layers: 4,
          heads: 8,
          intermediateSize: 688,
          pretrainSteps: 2000,
          pretrainLr: 1e-3,
        },
        fraction: 0.5,
        ffnForm: 'amplitude',
        depth: 4,
        quantumHeads: true,
        headKernel: 'gaussian',
        headQubits: 5,
        steps: 600,
        batchSize: 8,
        seqLen: 128,
        lr: 2e-4,
        warmupSteps: 60,
        evalEvery: 100,
        evalTokens: 16384,
        testTokens: 32768,
        seeds: 3,
        gpuSpeed: true,
        sweep: { fractions: [0.25, 1], depths: [8] },
      },
    },
  ],
  parameterCounts,
  circuits,
  resources,
  work,
  runPlan,
});
