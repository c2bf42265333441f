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
import { tinySimBench } from '../../helpers/tiny-configs';

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
};

/**
 * The factor a kind's estimate must lie within, either way, where it is wider than FACTOR — a known gap
 * (issue 14): qffn measured estimate/CPU 0.08–0.37 (once below 1/16) at load 21–36, its work model leaving out the tokenizer's
 * training, the data preparation and the evaluations' bookkeeping, which dominate a run this small.
 */
const WIDER: Record<string, number> = { qffn: 32 };

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
