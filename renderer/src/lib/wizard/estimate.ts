// The wizard's run-time estimate: a kind's work (WorkEstimate: classical flops, circuit amplitude updates,
// density-matrix updates, set-up) times this machine's speed at each, as the lab's calibration measured it
// (core/lab/calibration.ts: the lab's own kernels, a job process's start and data loads timed once and
// stored). No factor is typed in: before the lab is calibrated the wizard says "calibrate for an estimate"
// instead of guessing.
import type { WorkEstimate } from '../../../../core/api/kinds';
import { rateAt, type Calibration } from '../../../../core/api/lab-types';

export interface RunEstimate {
  seconds: number;
  text: string;
  /** True when the rates are the lab's calibration of this machine (false: not calibrated, no figure). */
  calibrated?: boolean;
  /** What the work model leaves out, in words (WorkEstimate.note). */
  note?: string;
  /** GGUF files the run reads that the calibration has no rate for (LabApi.calibrate's ggufFiles times them). */
  untimedGguf?: string[];
}

/** Seconds of a run's fixed costs: its job process's start and the set-up work its model counts. */
export function setupSeconds(w: WorkEstimate, c: Calibration): number {
  const s = c.setup;
  if (!s) return 0;
  const loads = (w.setup?.datasets ?? []).reduce((t, name) => t + (s.datasetSeconds[name] ?? 0), 0);
  return (
    s.jobStartSeconds +
    loads +
    (w.setup?.tokenizerChars ?? 0) * s.secondsPerTokenizerChar +
    (w.setup?.simulators ?? 0) * (s.simulatorStartSeconds ?? 0)
  );
}

/**
 * Seconds of a run's GGUF work at each file's calibrated rate (Calibration.gguf, matched by its real path or a
 * name it was timed by that still leads to it: the lab leaves out a file changed since it was timed), and the
 * files without one.
 */
export function ggufSeconds(w: WorkEstimate, c: Calibration): { seconds: number; untimed: string[] } {
  let seconds = 0;
  const untimed: string[] = [];
  for (const g of w.gguf ?? []) {
    const r = c.gguf?.find((x) => x.path === g.path || x.names?.includes(g.path) === true);
    if (r) seconds += g.samples * r.secondsPerSample + g.chars * r.secondsPerChar + g.loads * r.loadSeconds;
    else untimed.push(g.path);
  }
  return { seconds, untimed };
}

/**
 * The estimate from the lab's calibration (LabApi.getCalibration: the lab's own simulator, transformer,
 * density-matrix and set-up costs timed on this machine): work × measured seconds per unit, plus the run's
 * fixed costs, no factor typed in. A calibration from before set-up or density matrices were timed leaves
 * them out and says so.
 */
export function estimateCalibrated(w: WorkEstimate, c: Calibration): RunEstimate {
  const perAmp = w.qubits !== undefined ? rateAt(c.amplitudeRates, w.qubits) : c.secondsPerAmplitudeOp;
  const amplitudeSeconds = w.byWidth
    ? w.byWidth.reduce((t, p) => t + p.amplitudeOps * rateAt(c.amplitudeRates, p.qubits), 0)
    : w.amplitudeOps * perAmp;
  const density = c.densityRates;
  const densitySeconds = (w.densityByWidth ?? []).reduce(
    (t, p) => t + p.densityOps * (density ? rateAt(density, p.qubits) : 0),
    0,
  );
  const { seconds: ggufSec, untimed } = ggufSeconds(w, c);
  const seconds =
    w.flops * c.secondsPerFlop + amplitudeSeconds + densitySeconds + setupSeconds(w, c) + ggufSec;
  const missing = [
    ...(c.setup ? [] : ['start-up']),
    ...(w.densityByWidth?.length && !density ? ['density matrices'] : []),
  ];
  return {
    seconds,
    text:
      `≈ ${formatDuration(seconds)} on this machine (calibrated ${c.measuredAt.slice(0, 10)}` +
      `${missing.length ? `; ${missing.join(' and ')} not timed: recalibrate` : ''}` +
      `${untimed.length ? `; GGUF ${untimed.join(', ')} not timed: calibrate with the file` : ''})`,
    calibrated: true,
    ...(untimed.length ? { untimedGguf: untimed } : {}),
  };
}

/** What the wizard says of a run with a work model before the lab is calibrated. */
export const UNCALIBRATED: RunEstimate = {
  seconds: Number.NaN,
  text: 'calibrate for an estimate',
  calibrated: false,
};

/** The estimate from the calibration, or UNCALIBRATED without one. */
export function estimateWork(w: WorkEstimate, c: Calibration | null): RunEstimate {
  return c ? estimateCalibrated(w, c) : UNCALIBRATED;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return 'unknown';
  if (s < 90) return `${Math.max(1, Math.round(s))} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 2 * 86400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} days`;
}
