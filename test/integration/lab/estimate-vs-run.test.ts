// The wizard's run-time estimate against real runs: a lab is calibrated as the Calibrate button does it (the
// lab's kernels, a job process's start through its own launcher, the bundled datasets' loads and the tokenizer
// timed), then one small run of each kind with a work model runs as the lab runs it — in its own job process —
// and the estimate the wizard shows for its config is compared with the CPU time of that process, start-up
// included, within a stated factor either way.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildProcessLauncher, type JobLauncher, type JobProcess } from '../../../core/lab/launcher';
import { openLab, type LabService } from '../../../core/lab/service';
import { getJobKind, listJobKinds } from '../../../core/methods/registry';
import type { Calibration } from '../../../core/api/lab-api';
import { estimateCalibrated, setupSeconds } from '../../../renderer/src/lib/wizard/estimate';
import { getDataset } from '../../../core/data';
import { bundledSplitSizes } from '../../../core/methods/metadata/sizing';
import { tinyLabTeacher, tinyQdllm, tinyQhead, tinySimBench } from '../../helpers/tiny-configs';

/**
 * The estimate must lie within this factor of the job process's CPU time, either way (issue 14's target for a
 * small run: 2–3×). Measured estimate/CPU in the runs below: see docs/ui.md.
 */
const FACTOR = 3;

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
 * Runs beyond each kind's small config: a noisy qhead (its circuits as density matrices, parameter-shift
 * gradients), the density-matrix rate's test.
 */
const EXTRA: { name: string; kind: string; config: Record<string, unknown> }[] = [
  {
    name: 'qhead (noisy, density matrices)',
    kind: 'qhead',
    config: tinyQhead(4, {
      maxTrain: 32,
      maxTest: 16,
      epochs: 2,
      seeds: 1,
      lrFactors: [1],
      noise: { RY: 0.01, CNOT: 0.02 },
      energy: { enabled: false },
    }),
  },
];
const CASES = [...Object.entries(SMALL).map(([kind, config]) => ({ name: kind, kind, config })), ...EXTRA];

/**
 * CPU seconds this process's children have used once they ended (Linux: /proc/self/stat's cutime + cstime,
 * which the kernel adds as each child is reaped, threads and the child's own children included); null elsewhere.
 */
function childrenCpuSeconds(): number | null {
  if (process.platform !== 'linux') return null;
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / 100; // fields 16 and 17, in USER_HZ (100) ticks
}

/** The lab's own launcher, telling when each job process it started has exited (and been reaped). */
class WatchedLauncher implements JobLauncher {
  readonly name = 'child_process (watched)';
  readonly inner = new ChildProcessLauncher();
  exits: Promise<void>[] = [];
  spawn(): JobProcess {
    const p = this.inner.spawn();
    this.exits.push(new Promise((resolve) => p.onExit(() => resolve())));
    return p;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'qlab-estimate-'));
const launcher = new WatchedLauncher();
let lab: LabService;
let cal: Calibration;
beforeAll(async () => {
  lab = await openLab({ labDir: dir, launcher, concurrency: 1 });
}, 60_000);
afterAll(async () => {
  await lab?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(process.platform !== 'linux')('estimate vs measured run time (job processes)', () => {
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

  it('the calibration times a job process’s start, every bundled dataset’s load and the tokenizer', async () => {
    cal = await lab.calibrate();
    const s = cal.setup!;
    // a Node process with the lab's modules: tenths of a second to tens of seconds on any machine
    expect(s.jobStartSeconds).toBeGreaterThan(0.1);
    expect(s.jobStartSeconds).toBeLessThan(30);
    expect(Object.keys(s.datasetSeconds).sort()).toEqual([
      'brown',
      'brown-topics',
      'moby-dick',
      'spam-assassin',
    ]);
    expect(s.secondsPerTokenizerChar).toBeGreaterThan(1e-9);
    expect(s.secondsPerTokenizerChar).toBeLessThan(1e-4);
    expect(cal.densityRates?.map((r) => r.qubits)).toEqual([2, 4, 6]);
    // the cpu simulator's thread pool (workers, their wasm kernels): hundredths to a few seconds
    expect(s.simulatorStartSeconds).toBeGreaterThan(0.005);
    expect(s.simulatorStartSeconds).toBeLessThan(10);
    console.log(`estimate-vs-run calibration: ${cal.detail}`);
  }, 300_000);

  // The estimate is what this machine computes unloaded; the job process's CPU time (all its threads, its start
  // included) is what the same work costs on a loaded machine too, so the two are compared, and the wall time
  // (stretched by other work on this shared machine) is logged beside it. The lab process's own share (storing
  // metrics) is not in either.
  for (const { name, kind, config: raw } of CASES)
    it(`${name}: the estimate is within ${FACTOR}× of a small run's CPU time, start-up included`, async () => {
      expect(cal, 'calibrated first').toBeDefined();
      const k = getJobKind(kind)!;
      const config = k.schema.parse(raw);
      const work = k.meta!.work!(config);
      expect(work.note ?? '').not.toMatch(/calibrated/); // nothing left out for want of a rate
      const est = estimateCalibrated(work, cal).seconds;
      const setup = setupSeconds(work, cal);
      const before = childrenCpuSeconds()!;
      const t0 = performance.now();
      const run = await lab.createRun({ kind, config: raw, seed: 1 });
      const done = await lab.waitForRun(run.id);
      expect(done.status, done.error ?? '').toBe('succeeded');
      await Promise.all(launcher.exits);
      const took = (performance.now() - t0) / 1000;
      const cpu = childrenCpuSeconds()! - before;
      const ratio = est / cpu;
      console.log(
        `estimate-vs-run ${name}: estimated ${est.toFixed(2)} s (set-up ${setup.toFixed(2)} s), job process CPU ${cpu.toFixed(2)} s, ` +
          `estimate/CPU ${ratio.toFixed(2)} (${((est - setup) / cpu).toFixed(2)} without the set-up); wall ${took.toFixed(2)} s at load ${loadavg()[0].toFixed(1)}`,
      );
      expect(ratio).toBeGreaterThan(1 / FACTOR);
      expect(ratio).toBeLessThan(FACTOR);
    }, 300_000);
});
