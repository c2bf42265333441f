// The `qffn` job kind: QFFN compression ("Less bits, more qubits"; METHODS.md "QFFN"). A base causal LM gets
// quantum FFNs in a fraction of its blocks and circuit-scored heads in the same blocks; it is trained beside the
// uncompressed base and a parameter-matched classical compression with the same batches and schedule, over K
// seeds; every model gets the same learning-rate search (lrFactors × lr, candidates from the same initialisation
// on the same batches, validation chooses, the chosen weights are put back); validation perplexity is read during
// training, test perplexity once per model and seed. The fraction and depth ablations run as child runs of the
// same config. Report: report.ts.
import type { Tokenizer } from '../../nn/tokenizers';
import { createCpuSimulator, type CpuSimulator } from '../../quantum/cpu/simulator';
import { describeBackend } from '../../quantum/simulators';
import type { Parameter } from '../../nn/tensor';
import { Rng } from '../../util/rng';
import { configureCompute } from '../harness/compute';
import { meanStd } from '../harness/metrics';
import { lrCandidates } from '../harness/tuning';
import { childOrInline, defineJobKind, type JobContext, type JobResult } from '../job';
import { buildBase, type Base } from './base';
import { gpuSpeedup, type GpuSpeed } from './gpu-speed';
import { qffnMeta } from './meta';
import {
  captureFfnActivations,
  cloneModel,
  componentCounts,
  fitFfn,
  makeClassical,
  makeQffn,
  type Compression,
  type ModelKey,
} from './models';
import { sampleWindows } from '../../nn/lm-windows';
import { buildReport, chosenLrs, type SeedRecord, type SweepRecord } from './report';
import { amplitudeQubits } from '../../quantum/qffn-circuits';
import type { QffnConfig } from './schema';
import { continuations, lmEvaluation, selectByValidation, testLm, trainLm, type TrainedLm } from './train';

export { QffnConfigSchema, type QffnConfig } from './schema';

/** The run's seed plan: repetition k's batch order, and model m's initialisation in it. */
export const orderSeed = (seed: number, k: number) => (seed * 1000003 + 7919 * (k + 1)) >>> 0;
const initSeed = (seed: number, k: number) => (seed * 4099 + 104729 * (k + 1)) >>> 0;

/** Refuses a config the base model's real shape rules out (a model directory's width is known only now). */
function checkAgainstBase(cfg: QffnConfig, base: Base): void {
  const d = base.model.config.hiddenSize;
  const need = amplitudeQubits(d);
  if (cfg.ffnForm === 'amplitude' && cfg.qubits !== null && cfg.qubits !== need)
    throw new Error(
      `qubits: the amplitude form of d = ${d} needs exactly ⌈log2 ${d}⌉ = ${need} qubits, got ${cfg.qubits}`,
    );
  if (base.model.config.flavour !== 'llama' && cfg.classical && cfg.classicalForm === 'narrow')
    throw new Error('classicalForm: "narrow" prunes a SwiGLU FFN; this base has none (choose low-rank)');
}

interface Trainer {
  base: Base;
  sim: CpuSimulator;
  ctx: JobContext;
  /** Progress through the run's model trainings. */
  tick(message: string): void;
}

const snapshot = (ps: Parameter[]) => ps.map((p) => p.data.slice());
const restore = (ps: Parameter[], w: ArrayLike<number>[]) => ps.forEach((p, i) => p.data.set(w[i]));

/**
 * Builds and (layer-wise) initialises one model of repetition k, trains a copy of that start at every
 * learning-rate candidate on the same batches, puts back the weights of validation's choice and reads test once.
 * With several candidates their series go under lr<j>/ and the chosen one's are repeated under the model's own.
 */
function trainModel(
  t: Trainer,
  cfg: QffnConfig,
  key: ModelKey,
  k: number,
  emit: (key: string, step: number, value: number) => void,
  prefix: string,
): SeedRecord {
  const { base, sim, ctx } = t;
  const model = cloneModel(base.model, cfg.precision, base.build);
  const seed = initSeed(ctx.seed, k);
  const comp: Compression =
    key === 'qffn'
      ? makeQffn(model, cfg, sim, seed)
      : key === 'classical'
        ? makeClassical(model, cfg, seed)
        : { blocks: [], headsPerBlock: 0, quantum: new Set(), replaced: new Map() };
  const layerwise: SeedRecord['layerwise'] = [];
  if (cfg.layerwiseInit && cfg.layerwiseSteps > 0 && comp.replaced.size > 0) {
    const B = cfg.batchSize;
    const T = cfg.seqLen;
    const tokens = new Int32Array(B * T);
    sampleWindows(
      base.streams.train,
      B,
      T,
      new Rng(orderSeed(ctx.seed, k) ^ 0x1a7e),
      tokens,
      new Int32Array(B * T),
    );
    const acts = captureFfnActivations(base.model, [...comp.replaced.keys()], tokens, B, T);
    for (const [l, ffn] of comp.replaced) {
      const r = fitFfn(ffn, acts.get(l)!, {
        steps: cfg.layerwiseSteps,
        lr: 1e-2,
        dtype: cfg.precision,
        signal: ctx.signal,
      });
      layerwise.push({ block: l, ...r });
      ctx.log(
        'info',
        `${prefix}: layer-wise fit of block ${l}: MSE ${r.before.toExponential(3)} → ${r.after.toExponential(3)}`,
      );
    }
  }
  const counts = componentCounts(model, comp.quantum);
  const params = model.parameters();
  const start = snapshot(params);
  const evals = lmEvaluation(model, base.streams, cfg, ctx.signal);
  const lrs = lrCandidates(cfg.lr, cfg.lrFactors);
  const candidates: { trained: TrainedLm; weights: ArrayLike<number>[] }[] = lrs.map((lr, j) => {
    restore(params, start);
    const at = lrs.length > 1 ? `lr${j}/` : '';
    const trained = trainLm(model, evals, base.streams, { ...cfg, lr }, orderSeed(ctx.seed, k), {
      signal: ctx.signal,
      onStep: (step, loss) => emit(`${at}train_loss`, step, loss),
      onEval: (step, ppl) => emit(`${at}val_ppl`, step, ppl),
    });
    return { trained, weights: lrs.length > 1 ? snapshot(params) : [] };
  });
  const chosen = selectByValidation(candidates);
  const trained = chosen.trained;
  if (lrs.length > 1) {
    restore(params, chosen.weights);
    trained.losses.forEach((loss, s) => emit('train_loss', s + 1, loss));
    trained.valSeries.forEach(([step, ppl]) => emit('val_ppl', step, ppl));
    emit('lr', 0, trained.lr);
    ctx.log('info', `${prefix}: validation chose lr ${trained.lr} of ${lrs.join(', ')}`);
  }
  const tested = testLm(model, evals);
  emit('test_ppl', cfg.steps, tested.test.perplexity);
  const texts =
    k === 0 ? continuations(model, base.tokenizer as Tokenizer, cfg.prompts, cfg.generateTokens) : [];
  t.tick(`${prefix} done`);
  return {
    key,
    seedIndex: k,
    counts,
    blocks: comp.blocks,
    headsPerBlock: comp.headsPerBlock,
    matched: comp.matched,
    layerwise,
    trained,
    ...tested,
    lrCandidates: candidates.map((c) => ({ lr: c.trained.lr, valPpl: c.trained.valSeries.at(-1)![1] })),
    texts,
  };
}

export async function runQffn(cfg: QffnConfig, ctx: JobContext): Promise<JobResult> {
  const threads = configureCompute();
  const sim = createCpuSimulator({ precision: cfg.precision, threads: cfg.threads || threads });
  await sim.prepareSync();
  ctx.log('info', `classical core: matmul on ${threads} thread(s); circuits on ${describeBackend(sim.info)}`);
  try {
    const base = await buildBase(cfg, ctx);
    checkAgainstBase(cfg, base);
    ctx.log('info', `base: ${base.note}`);
    const keys: ModelKey[] = [
      'qffn',
      ...(cfg.uncompressed ? (['uncompressed'] as const) : []),
      ...(cfg.classical ? (['classical'] as const) : []),
    ];
    const sweepPoints = [
      ...cfg.sweep.fractions.map((f) => ({ name: `fraction=${f}`, patch: { fraction: f } })),
      ...cfg.sweep.depths.map((d) => ({ name: `depth=${d}`, patch: { depth: d } })),
    ];
    const total = keys.length * cfg.seeds + sweepPoints.length * cfg.seeds;
    let done = 0;
    const t: Trainer = {
      base,
      sim,
      ctx,
      tick: (message) => ctx.progress(0.15 + (0.85 * ++done) / total, message),
    };
    const runs: SeedRecord[] = [];
    for (let k = 0; k < cfg.seeds; k++)
      for (const key of keys) {
        const prefix = `${key}/seed${k}`;
        runs.push(
          trainModel(
            t,
            cfg,
            key,
            k,
            (m, step, value) => ctx.metrics([{ key: `${prefix}/${m}`, step, value }]),
            prefix,
          ),
        );
      }
    const sweeps: SweepRecord[] = [];
    for (const p of sweepPoints) {
      const config = { ...cfg, ...p.patch, sweep: { fractions: [], depths: [] } };
      const child = childOrInline(ctx, `sweep/${p.name}`, config);
      const rs: SeedRecord[] = [];
      for (let k = 0; k < cfg.seeds; k++)
        rs.push(
          trainModel(
            t,
            config,
            'qffn',
            k,
            (m, step, value) => child.metrics([{ key: `qffn/seed${k}/${m}`, step, value }]),
            `sweep ${p.name} seed${k}`,
          ),
        );
      const ppl = meanStd(rs.map((r) => r.test.perplexity));
      child.finish({
        summary: {
          test_ppl_mean: ppl.mean,
          test_ppl_std: ppl.std,
          params: total_(rs[0]),
          lr: chosenLrs(rs),
          ...p.patch,
        },
      });
      sweeps.push({ name: p.name, patch: p.patch, runs: rs });
    }
    let gpu: GpuSpeed | null = null;
    if (cfg.gpuSpeed) {
      ctx.progress(0.97, 'timing the circuits on the gpu backend');
      try {
        gpu = await gpuSpeedup(cfg, base, sim, ctx);
      } catch (e) {
        ctx.log('warn', `gpu speed not measured: ${(e as Error).message}`);
      }
    }
    const result = buildReport(cfg, base, runs, sweeps, gpu, describeBackend(sim.info));
    return { ...result, backend: { quantum: sim.info, gpu: gpu?.info ?? null, matmulThreads: threads } };
  } finally {
    sim.dispose();
  }
}

const total_ = (r: SeedRecord) => Object.values(r.counts).reduce((a, b) => a + b, 0);

export const qffnKind = defineJobKind({
  meta: qffnMeta,
  run: (cfg, ctx) => runQffn(cfg, ctx),
});
