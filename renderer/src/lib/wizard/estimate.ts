// The wizard's run-time estimate: a kind's work (WorkEstimate: classical flops and circuit amplitude updates)
// divided by this machine's speed at each, measured once by two short probes in plain JavaScript (a dense
// matrix product and a 2×2 gate swept over a state vector). The lab's kernels (WebAssembly SIMD, threads) run
// faster than the probes, by a factor measured once against a timed example (EFFICIENCY); the estimate says so.
import type { WorkEstimate } from '../../../../core/api/kinds';
import { rateAt, type Calibration } from '../../../../core/api/lab-types';

export interface MachineSpeed {
  /** Plain-JS floating-point operations per second (matrix product). */
  flops: number;
  /** Plain-JS amplitude-pair updates per second (one 2×2 complex gate). */
  amplitudeOps: number;
}

/**
 * How much faster the lab's kernels run than the probes: on the loaded 2-core machine the QFFN example was timed
 * on (examples/qffn-brown.json, 105 s), the probes' best rounds measured about 0.9–1.0 Gflop/s and 0.15–0.34 G
 * amplitude updates/s, and these factors turned its counted work into 90–110 s. Probes on a busy machine vary,
 * and so does the estimate (about 2×).
 */
export const EFFICIENCY = { flops: 5, amplitudeOps: 3 };

let measured: MachineSpeed | null = null;

function matmulPass(n: number, a: Float64Array, b: Float64Array, c: Float64Array): void {
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const x = a[i * n + k];
      for (let j = 0; j < n; j++) c[i * n + j] += x * b[k * n + j];
    }
}

function gatePass(s: Float64Array, dim: number, c: number, si: number): number {
  let pairs = 0;
  for (let bit = 1; bit < dim; bit <<= 1)
    for (let i = 0; i < dim; i++) {
      if (i & bit) continue;
      const j = i | bit;
      const ar = s[2 * i];
      const ai = s[2 * i + 1];
      const br = s[2 * j];
      const bi = s[2 * j + 1];
      s[2 * i] = c * ar - si * br;
      s[2 * i + 1] = c * ai - si * bi;
      s[2 * j] = si * ar + c * br;
      s[2 * j + 1] = si * ai + c * bi;
      pairs++;
    }
  return pairs;
}

/**
 * Runs `pass` in rounds of `ms` after a warm-up round (so the JIT has compiled it) and returns the best round's
 * units per second: other work on a busy machine only ever slows a round down.
 */
function rate(pass: () => number, ms: number): number {
  let best = 0;
  for (let round = 0; round < 5; round++) {
    let units = 0;
    const t0 = performance.now();
    do units += pass();
    while (performance.now() - t0 < ms);
    if (round > 0) best = Math.max(best, units / ((performance.now() - t0) / 1000));
  }
  return best;
}

function probeFlops(): number {
  const n = 48;
  const a = new Float64Array(n * n).fill(0.5);
  const b = new Float64Array(n * n).fill(0.25);
  const c = new Float64Array(n * n);
  return rate(() => {
    matmulPass(n, a, b, c);
    return 2 * n * n * n;
  }, 12);
}

function probeAmplitudes(): number {
  const dim = 1 << 10;
  const s = new Float64Array(2 * dim).fill(0.03);
  return rate(() => gatePass(s, dim, Math.cos(0.3), Math.sin(0.3)), 12);
}

/** This machine's speed (probed on the first call, about 120 ms). */
export function machineSpeed(): MachineSpeed {
  measured ??= { flops: probeFlops(), amplitudeOps: probeAmplitudes() };
  return measured;
}

export interface RunEstimate {
  seconds: number;
  text: string;
  /** True when the rates are the lab's calibration of this machine (else the quick probe above). */
  calibrated?: boolean;
}

/**
 * The estimate from the lab's calibration (LabApi.getCalibration: the lab's own simulator and transformer
 * kernels timed on this machine): work × measured seconds per unit, no factor typed in.
 */
export function estimateCalibrated(w: WorkEstimate, c: Calibration): RunEstimate {
  const perAmp = w.qubits !== undefined ? rateAt(c.amplitudeRates, w.qubits) : c.secondsPerAmplitudeOp;
  const seconds = w.flops * c.secondsPerFlop + w.amplitudeOps * perAmp;
  return {
    seconds,
    text: `≈ ${formatDuration(seconds)} on this machine (calibrated ${c.measuredAt.slice(0, 10)})`,
    calibrated: true,
  };
}

/** "about 2 min" for a work estimate on a machine of the given speed. */
export function estimateRun(w: WorkEstimate, speed: MachineSpeed = machineSpeed()): RunEstimate {
  const seconds =
    w.flops / (speed.flops * EFFICIENCY.flops) +
    w.amplitudeOps / (speed.amplitudeOps * EFFICIENCY.amplitudeOps);
  return { seconds, text: `about ${formatDuration(seconds)} on this machine` };
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return 'unknown';
  if (s < 90) return `${Math.max(1, Math.round(s))} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 2 * 86400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} days`;
}
