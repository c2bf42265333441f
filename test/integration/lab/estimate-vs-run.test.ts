// The wizard's run-time estimate against a real run: this machine is calibrated (the lab's kernels timed, as
// the Calibrate button does), then one small run of each kind that has a work model runs in this process and
// its time is compared with the estimate the wizard shows for its config, within a stated factor: the work
// models count the simulator's amplitude updates and the transformer's flops, not data loading, tokenizer
// training or start-up.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { measureCalibration } from '../../../core/lab/calibration';
import { getJobKind, listJobKinds } from '../../../core/methods/registry';
import type { Calibration } from '../../../core/api/lab-api';
import { estimateCalibrated } from '../../../renderer/src/lib/wizard/estimate';
import { fakeJobContext } from '../../helpers/job-context';
import { getDataset } from '../../../core/data';
import { bundledSplitSizes } from '../../../core/methods/metadata/sizing';
import { tinyLabTeacher, tinyQdllm, tinyQhead, tinySimBench } from '../../helpers/tiny-configs';

/**
 * The estimate must lie within this factor of the run's CPU time, either way. Measured at load 21–36: vqc-fit
 * 0.67–3.0, sim-bench 0.39–0.76 (its memcpy timings are not counted); the calibration's own best-of-5 timings
 * moved the estimates up to 4× between runs at that load, hence the margin.
 */
const FACTOR = 6;

/** One small config per kind with a work model (the kind's small preset where that runs in seconds). */
const SMALL: Record<string, Record<string, unknown>> = {
  'sim-bench': tinySimBench({ threads: 0 }),
  'vqc-fit': { epochs: 15 },
  qffn: {
    base: {
      corpusChars: 60_000,
      vocabSize: 300,
      hiddenSize: 16,
      layers: 2,
      heads: 2,
      intermediateSize: 40,
      pretrainSteps: 40,
    },
    steps: 40,
    batchSize: 8,
    seqLen: 32,
    evalEvery: 20,
    seeds: 1,
    lrFactors: [1],
    sweep: { fractions: [], depths: [] },
  },
  // a 32-wide base pretrained 40 steps, QTHA ABC (3 qubits) beside LoRA r and 2r, 30 steps, one seed
  qtha: {
    base: {
      corpusChars: 30_000,
      vocabSize: 300,
      hiddenSize: 32,
      layers: 2,
      heads: 2,
      intermediateSize: 64,
      pretrainSteps: 40,
      pretrainSeqLen: 32,
    },
    targetChars: 20_000,
    evalChars: 1000,
    rank: 3,
    mpoWidth: 16,
    mpoBond: 2,
    steps: 30,
    warmupSteps: 3,
    evalEvery: 15,
    seqLen: 32,
    batchSize: 8,
    seeds: 1,
    lrFactors: [1],
  },
  // 128 train / 48 validation / 48 test documents, a 32-wide encoder pretrained 120 steps, an 8-qubit head,
  // 16 epochs, one seed
  qhead: tinyQhead(8, {
    maxTrain: 128,
    maxTest: 48,
    encoder: {
      type: 'pretrain',
      corpusChars: 30_000,
      vocabSize: 300,
      hiddenSize: 32,
      intermediateSize: 64,
      layers: 2,
      heads: 2,
      seqLen: 32,
      steps: 120,
      batchSize: 8,
      maxTokens: 64,
    },
    epochs: 16,
    seeds: 1,
    lrFactors: [1],
    energy: { enabled: false },
  }),
  // 100 samples per class, an 8-qubit × 2-layer student, 20 epochs, one seed, the tiny teacher pretrained 200 steps
  qdllm: tinyQdllm({
    samplesPerClass: 100,
    maxTokens: 32,
    qubits: 8,
    layers: 2,
    epochs: 20,
    seeds: 1,
    lrFactors: [1],
    teacher: tinyLabTeacher(200),
  }),
};

/**
 * The factor a kind's estimate must lie within, either way, where it is wider than FACTOR — a known gap
 * (issue 14): qffn measured estimate/CPU 0.08–0.37 (once below 1/16) at load 21–36, its work model leaving out the tokenizer's
 * training, the data preparation and the evaluations' bookkeeping, which dominate a run this small. qhead
 * 0.16–0.36 and qdllm 0.08–0.32 at load 6–25 (qtha 0.34–0.57): about 1.3 s of each small run is start-up their models do
 * not count (loading and deduplicating the bundled set, the BPE, the bag-of-words reference, the baselines;
 * qdllm's CPU time grew 1.55 → 2.19 s when its counted work grew 2.6×).
 */
const WIDER: Record<string, number> = { qffn: 32, qhead: 12, qdllm: 24 };

const dir = mkdtempSync(join(tmpdir(), 'qlab-estimate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let cal: Calibration;

describe('estimate vs measured run time', () => {
  it('every kind with a work model has a small config here', () => {
    const withWork = listJobKinds()
      .filter((k) => k.meta?.work)
      .map((k) => k.kind)
      .sort();
    expect(withWork).toEqual(Object.keys(SMALL).sort());
  });

  it('the split sizes the work models count are the bundled datasets’ own, at any split seed', () => {
    for (const name of ['spam-assassin', 'brown-topics'])
      for (const seed of [0, 7]) {
        const d = getDataset(name, { seed });
        if (d.kind !== 'classification') throw new Error(`${name} is not a classification set`);
        expect(bundledSplitSizes(name)).toEqual({
          train: d.splits.train.length,
          validation: d.splits.validation.length,
          test: d.splits.test.length,
        });
      }
    expect(bundledSplitSizes('file.csv')).toBeNull();
  });

  // The estimate is what this machine computes unloaded, so it is compared with the run's CPU time (all its
  // threads): on this shared 2-core machine (load about 20) other work stretched the same runs' wall time 3–13×
  // (vqc-fit 0.30 s CPU in 1.84 s, qffn 3.8 s CPU in 17.8 s), which is logged beside it. Measured at load
  // 23–26: vqc-fit estimate/CPU 0.95–3.0 (the calibration's best-of-5 timings themselves vary under that load).
  for (const kind of Object.keys(SMALL))
    it(`${kind}: the estimate is within ${WIDER[kind] ?? FACTOR}× of a small run's CPU time`, async () => {
      cal ??= await measureCalibration();
      const k = getJobKind(kind)!;
      const config = k.schema.parse(SMALL[kind]);
      const work = k.meta!.work!(config);
      const est = estimateCalibrated(work, cal).seconds;
      const { ctx } = fakeJobContext(dir, 1);
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await k.run(config, ctx);
      const took = (performance.now() - t0) / 1000;
      const c1 = process.cpuUsage(c0);
      const cpu = (c1.user + c1.system) / 1e6;
      const ratio = est / cpu;
      // the process's CPU time (all its threads) beside the wall time: how much of the gap is a loaded machine
      console.log(
        `estimate-vs-run ${kind}: CPU ${cpu.toFixed(2)} s (estimate/CPU ${ratio.toFixed(2)}), load ${loadavg()[0].toFixed(1)}`,
      );
      console.log(
        `estimate-vs-run ${kind}: estimated ${est.toFixed(2)} s, ran ${took.toFixed(2)} s wall (estimate/wall ${(est / took).toFixed(2)})`,
      );
      const factor = WIDER[kind] ?? FACTOR;
      expect(ratio).toBeGreaterThan(1 / factor);
      expect(ratio).toBeLessThan(factor);
    }, 300_000);
});
