// What `qtha` says about itself: the wizard's steps (base, task, adapter, baselines, recipe, sweep), presets,
// the VQC, and the trainable parameters of the QTHA adapter and each LoRA (with QTHA's reduction against each)
// on the layers the targets match in the lab's base model, by the closed forms of core/nn/qtha-sizes.ts.
import {
  loraParamCount,
  qthaCircuit,
  qthaParamParts,
  qthaParts,
  reductionPercent,
} from '../../nn/qtha-sizes';
import { resources as circuitResources } from '../../quantum/resources';
import {
  defineKindMeta,
  type ModelCount,
  type ResourceLine,
  type RunPlan,
  type WorkEstimate,
} from '../metadata/meta';
import { BUNDLED_LABELS, BUNDLED_OPTIONS, stateVectorLines } from '../metadata/sizing';
import { QthaConfigSchema, type QthaConfig } from './schema';

const PRETRAINED = [{ path: 'base.modelDir', in: [null] }];
const FROM_DIR = [{ path: 'base.modelDir', notIn: [null] }];
const LM = [{ path: 'task', in: ['lm'] }];
const CLASSIFY = [{ path: 'task', in: ['classification'] }];

/** (name, in, out) of every linear map of the lab's base model (LLaMA flavour, no GQA), or null for a directory. */
export function baseLinears(c: QthaConfig): [string, number, number][] | null {
  const b = c.base;
  if (b.modelDir !== null) return null;
  const d = b.hiddenSize;
  const I = b.intermediateSize;
  const out: [string, number, number][] = [];
  for (let l = 0; l < b.layers; l++) {
    const p = `model.layers.${l}`;
    for (const x of ['q', 'k', 'v', 'o']) out.push([`${p}.self_attn.${x}_proj`, d, d]);
    out.push([`${p}.mlp.gate_proj`, d, I], [`${p}.mlp.up_proj`, d, I], [`${p}.mlp.down_proj`, I, d]);
  }
  out.push(['lm_head', d, b.vocabSize]);
  return out;
}

/** The layers the targets match: (in, out) each. */
export function targetShapes(c: QthaConfig): [number, number][] | null {
  const all = baseLinears(c);
  if (!all) return null;
  const re = new RegExp(c.targets);
  return all.filter(([n]) => re.test(n)).map(([, i, o]) => [i, o]);
}

/** QTHA's parameters summed over the targets, part by part (null: a directory base, known at run time). */
export function qthaCount(c: QthaConfig, rank = c.rank, architecture = c.architecture): ModelCount {
  const shapes = targetShapes(c);
  const label = `QTHA ${architecture} (r = ${rank})`;
  const role = qthaParts(architecture).quantum ? 'quantum' : 'baseline';
  if (!shapes)
    return {
      key: 'qtha',
      label,
      role,
      params: null,
      formula: 'Σ over targets of MPO_A + MLP_A + QW + CW + VQC + MLP_B + MPO_B',
      needs: ['the model directory’s widths'],
    };
  const parts: Record<string, number> = {};
  for (const [i, o] of shapes) {
    let p: Record<string, number>;
    try {
      p = qthaParamParts({
        inFeatures: i,
        outFeatures: o,
        rank,
        architecture,
        width: c.mpoWidth,
        bond: c.mpoBond,
        vqcLayers: c.vqcLayers ?? rank,
      });
    } catch (e) {
      return {
        key: 'qtha',
        label,
        role,
        params: null,
        formula: 'Σ over targets',
        needs: [(e as Error).message],
      };
    }
    for (const [k, v] of Object.entries(p)) parts[k] = (parts[k] ?? 0) + v;
  }
  const params = Object.values(parts).reduce((a, b) => a + b, 0);
  return { key: 'qtha', label: `${label} on ${shapes.length} layer(s)`, role, params, parts };
}

/** "76.0" or "−12.3" (QTHA larger). */
const signed = (v: number) => (v < 0 ? `−${(-v).toFixed(1)}` : v.toFixed(1));

function loraCount(c: QthaConfig, rank: number, key: string, qtha: number | null): ModelCount {
  const shapes = targetShapes(c);
  const params = shapes ? shapes.reduce((a, [i, o]) => a + loraParamCount(i, o, rank), 0) : null;
  const reduction =
    params !== null && qtha !== null ? ` — QTHA: ${signed(reductionPercent(qtha, params))} % fewer` : '';
  return {
    key,
    label: `LoRA (r = ${rank})${reduction}`,
    role: 'baseline',
    params,
    ...(params === null
      ? { formula: `Σ over targets of ${rank}·(in + out)`, needs: ['the model directory’s widths'] }
      : {}),
  };
}

function parameterCounts(c: QthaConfig): ModelCount[] {
  const q = qthaCount(c);
  const out = [q];
  if (c.loraR) out.push(loraCount(c, c.rank, 'lora-r', q.params));
  if (c.lora2R) out.push(loraCount(c, 2 * c.rank, 'lora-2r', q.params));
  if (c.full) {
    const shapes = targetShapes(c);
    out.push({
      key: 'full',
      label: 'full fine-tuning of the targets',
      role: 'baseline',
      params: shapes ? shapes.reduce((a, [i, o]) => a + i * o, 0) : null,
    });
  }
  return out;
}

function resources(c: QthaConfig): ResourceLine[] {
  const counts = parameterCounts(c);
  const q = counts[0].params;
  const out: ResourceLine[] = [];
  // QTHA's size as a share of each baseline's (positive; the reduction is 100 minus it, shown in the rows)
  for (const m of counts.slice(1))
    if (q !== null && m.params)
      out.push({
        label: `QTHA’s parameters as % of ${m.label.split(' —')[0]}`,
        value: Number(((100 * q) / m.params).toFixed(1)),
        unit: 'count',
      });
  if (qthaParts(c.architecture).quantum)
    out.push(
      ...stateVectorLines(
        c.rank,
        c.precision,
        c.batchSize * (c.task === 'lm' ? c.seqLen : c.promptTokens + 16),
        'VQC per target layer',
      ),
    );
  const models = counts.length * c.lrFactors.length;
  const sw = c.sweep;
  const points =
    sw && (sw.architectures.length || sw.ranks.length)
      ? Math.max(1, sw.architectures.length) * Math.max(1, sw.ranks.length) * c.lrFactors.length
      : 0;
  out.push({ label: 'trainings (models × lr candidates × seeds)', value: models * c.seeds, unit: 'count' });
  if (points)
    out.push({
      label: 'sweep trainings (points × lr candidates × seeds)',
      value: points * (c.sweep?.seeds ?? c.seeds),
      unit: 'count',
    });
  out.push({
    label: 'training steps in all',
    value: c.steps * (models * c.seeds + points * (c.sweep?.seeds ?? c.seeds)),
    unit: 'count',
  });
  return out;
}

/**
 * The run's work, counted as index.ts trains: the base's pretraining (6·N flops per token plus attention's T²
 * terms), then every training — each model of the comparison × seeds, each sweep point × its seeds, every
 * learning-rate candidate — `steps` steps of batchSize × T tokens through the frozen base (forward and the
 * backward to the adapters' inputs: 4·N per token, attention 3×) plus each model's trainable parameters
 * (6 per token); QTHA's VQC runs once per token in every target layer (rank qubits, forward + adjoint's 3
 * sweeps). Set-up: the corpora's loads, the base's BPE and encoding the task's text (the job process's start
 * is every run's). Not counted: the evaluations (their token count comes from the tokenizer, known at run time).
 */
function work(c: QthaConfig): WorkEstimate {
  const all = baseLinears(c);
  const shapes = targetShapes(c);
  if (!all || !shapes)
    return { flops: NaN, amplitudeOps: NaN, note: 'the model directory’s size is read when the run starts' };
  const b = c.base;
  const N = all.reduce((a, [, i, o]) => a + i * o, 0) + b.vocabSize * b.hiddenSize;
  const attn = (tokens: number, T: number) => 4 * b.layers * tokens * T * b.hiddenSize;
  const pretrainTokens = b.pretrainBatch * b.pretrainSeqLen;
  const pretrain = b.pretrainSteps * (6 * N * pretrainTokens + 3 * attn(pretrainTokens, b.pretrainSeqLen));
  const T = c.task === 'lm' ? c.seqLen : c.promptTokens + 16;
  const BT = c.batchSize * T;
  const lrs = c.lrFactors.length;
  const frozen = 4 * N * BT + 3 * attn(BT, T);
  type Training = {
    params: number;
    architecture: QthaConfig['architecture'] | null;
    rank: number;
    trainings: number;
  };
  const runs: Training[] = parameterCounts(c).map((m) => ({
    params: m.params ?? NaN,
    architecture: m.key === 'qtha' ? c.architecture : null,
    rank: c.rank,
    trainings: c.seeds * lrs,
  }));
  const sweepSeeds = c.sweep?.seeds ?? c.seeds;
  for (const p of sweepPoints(c))
    runs.push({
      params: qthaCount(c, p.rank, p.architecture).params ?? NaN,
      architecture: p.architecture,
      rank: p.rank,
      trainings: sweepSeeds * lrs,
    });
  let flops = pretrain;
  const byWidth = new Map<number, number>();
  for (const r of runs) {
    flops += r.trainings * c.steps * (frozen + 6 * r.params * BT);
    if (r.architecture && qthaParts(r.architecture).quantum) {
      const circ = qthaCircuit(r.rank, c.vqcLayers ?? r.rank);
      const g = circuitResources(circ).gates;
      const perRow = g * 2 ** (r.rank - 1);
      byWidth.set(
        r.rank,
        (byWidth.get(r.rank) ?? 0) + r.trainings * c.steps * 4 * perRow * BT * shapes.length,
      );
    }
  }
  const parts = [...byWidth].map(([qubits, amplitudeOps]) => ({ qubits, amplitudeOps }));
  return {
    flops,
    amplitudeOps: parts.reduce((t, p) => t + p.amplitudeOps, 0),
    byWidth: parts,
    // set-up: the cpu simulator's thread pool (runQtha starts one when any architecture has a quantum part),
    // the corpora loaded, the base's BPE trained on (and encoding) corpusChars, the task's text encoded
    setup: {
      simulators: [c.architecture, ...(c.sweep?.architectures ?? [])].some((a) => qthaParts(a).quantum)
        ? 1
        : 0,
      datasets: [...(b.modelDir === null ? [b.corpus] : []), c.task === 'lm' ? c.targetCorpus : c.dataset],
      tokenizerChars:
        (b.modelDir === null ? b.corpusChars : 0) + (c.task === 'lm' ? c.targetChars + 2 * c.evalChars : 0),
    },
    note: 'evaluations not counted',
  };
}

/** The sweep's (architecture, rank) points: every rank × every architecture (the main one's where empty). */
export function sweepPoints(c: QthaConfig): { architecture: QthaConfig['architecture']; rank: number }[] {
  if (!c.sweep || (!c.sweep.architectures.length && !c.sweep.ranks.length)) return [];
  const archs = c.sweep.architectures.length ? c.sweep.architectures : [c.architecture];
  const ranks = c.sweep.ranks.length ? c.sweep.ranks : [c.rank];
  return ranks.flatMap((rank) => archs.map((architecture) => ({ architecture, rank })));
}

/** The architecture/rank sweep's points are child runs, each over the sweep's seeds (the run's where unset). */
function runPlan(c: QthaConfig): RunPlan {
  const points = sweepPoints(c).length;
  const seeds = c.sweep?.seeds ?? c.seeds;
  return {
    childRuns: points,
    ...(points
      ? {
          childRunsWhat: `the architecture/rank sweep's points, each over ${seeds} seed${seeds === 1 ? '' : 's'}`,
        }
      : {}),
    repetitions: 1,
    seeds: c.seeds,
  };
}

export const qthaMeta = defineKindMeta({
  kind: 'qtha',
  title: 'QTHA quantum tensor hybrid adaptation',
  description:
    'QTHA adapters (MPO + MLP + a VQC of r qubits) on the q and v projections of a frozen base LM, beside LoRA at r and 2r on the same data, steps, schedule and seeds: trainable parameters and the reduction against each LoRA, training loss, evaluation loss/perplexity, accuracy, time per step and memory as mean ± std over seeds; the ablation and r as a sweep of child runs.',
  schema: QthaConfigSchema,
  steps: [
    {
      id: 'base',
      title: 'Base model',
      items: [
        {
          id: 'base.source',
          label: 'base model',
          help: 'The lab pretrains a small transformer on a bundled corpus, or loads a Hugging Face model directory; either way it is frozen.',
          key: 'base.modelDir',
          choices: [
            {
              value: 'lab',
              label: 'lab transformer (pretrained here)',
              when: PRETRAINED,
              set: { 'base.modelDir': null },
            },
            {
              value: 'dir',
              label: 'model directory (Hugging Face)',
              when: FROM_DIR,
              set: { 'base.modelDir': '' },
            },
          ],
        },
        { when: FROM_DIR, items: ['base.modelDir'] },
        {
          when: PRETRAINED,
          items: [
            'base.corpus',
            'base.corpusChars',
            'base.vocabSize',
            'base.hiddenSize',
            'base.layers',
            'base.heads',
            'base.intermediateSize',
            'base.pretrainSteps',
            'base.pretrainBatch',
            'base.pretrainSeqLen',
            'base.pretrainLr',
            'base.seed',
          ],
        },
      ],
    },
    {
      id: 'task',
      title: 'Task & data',
      items: [
        'task',
        { when: LM, items: ['targetCorpus', 'targetChars', 'evalChars', 'seqLen'] },
        {
          when: CLASSIFY,
          items: [
            { key: 'dataset', options: BUNDLED_OPTIONS, optionLabels: BUNDLED_LABELS },
            'samplesPerClass',
            'promptTokens',
            'dataSeed',
          ],
        },
      ],
    },
    {
      id: 'adapter',
      title: 'Adapter',
      items: ['targets', 'rank', 'alpha', 'architecture', 'mpoWidth', 'mpoBond', 'vqcLayers', 'precision'],
    },
    { id: 'baselines', title: 'Baselines', items: ['loraR', 'lora2R', 'full'] },
    {
      id: 'recipe',
      title: 'Recipe',
      items: [
        'steps',
        'batchSize',
        'lr',
        'lrFactors',
        'warmupSteps',
        'weightDecay',
        'clip',
        'evalEvery',
        'seeds',
      ],
    },
    {
      id: 'sweep',
      title: 'Sweep',
      items: [
        { key: 'sweep', id: 'sweepOn' },
        { when: [{ path: 'sweep', present: true }], items: ['sweep'] },
      ],
    },
  ],
  presets: [
    {
      id: 'small',
      label: 'small',
      about:
        'a 128-wide base, r = 4, MPO width 16, 150 steps × 3 learning rates, 3 seeds (examples/qtha-brown.json)',
      config: {
        task: 'lm',
        base: {
          corpus: 'brown',
          corpusChars: 300000,
          vocabSize: 512,
          hiddenSize: 128,
          layers: 2,
          heads: 4,
          intermediateSize: 256,
          pretrainSteps: 300,
          pretrainSeqLen: 64,
        },
        targetCorpus: 'moby-dick',
        targetChars: 100000,
        evalChars: 8000,
        rank: 4,
        mpoWidth: 16,
        mpoBond: 4,
        steps: 150,
        seqLen: 64,
        lr: 0.003,
        warmupSteps: 10,
        evalEvery: 50,
        seeds: 3,
      },
    },
    {
      id: 'paper',
      label: 'paper-sized',
      about:
        'a 512-wide base, MPO width 256 (4·4·4·4, bond 8), r = 4 against LoRA 4 and 8 and full fine-tuning, 3 learning rates × 3 seeds × 500 steps, the 7-architecture ablation (examples/qtha-brown-paper.json)',
      config: {
        task: 'lm',
        base: {
          corpus: 'brown',
          corpusChars: 2000000,
          vocabSize: 2048,
          hiddenSize: 512,
          layers: 4,
          heads: 8,
          intermediateSize: 1376,
          pretrainSteps: 2000,
          pretrainBatch: 8,
          pretrainSeqLen: 128,
        },
        targetCorpus: 'moby-dick',
        targetChars: 1000000,
        evalChars: 50000,
        targets: '(q|v)_proj$',
        rank: 4,
        architecture: 'ABC',
        mpoWidth: 256,
        mpoBond: 8,
        loraR: true,
        lora2R: true,
        full: true,
        steps: 500,
        batchSize: 8,
        seqLen: 128,
        lr: 0.002,
        warmupSteps: 50,
        evalEvery: 100,
        seeds: 3,
        sweep: { architectures: ['A', 'B', 'C', 'AB', 'BC', 'ABC', 'ABC-silu'], ranks: [], seeds: 1 },
      },
    },
  ],
  parameterCounts,
  circuits: (c) =>
    [c.architecture, ...(c.sweep?.architectures ?? [])].some((a) => qthaParts(a).quantum)
      ? [
          {
            name: `QTHA VQC (${c.rank} qubits × ${c.vqcLayers ?? c.rank} layers)`,
            circuit: qthaCircuit(c.rank, c.vqcLayers ?? c.rank),
            note: 'per token, in every target layer',
          },
        ]
      : [],
  resources,
  work,
  runPlan,
});
