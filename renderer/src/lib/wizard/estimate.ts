// The wizard's run-time estimate: a kind's work (WorkEstimate: classical flops and circuit amplitude updates)
// times this machine's speed at each, as the lab's calibration measured it (core/lab/calibration.ts: the
// lab's own simulator and transformer kernels timed once and stored). No factor is typed in: before the lab
// is calibrated the wizard says "calibrate for an estimate" instead of guessing.
import type { WorkEstimate } from '../../../../core/api/kinds';
import { rateAt, type Calibration } from '../../../../core/api/lab-types';

export interface RunEstimate {
  seconds: number;
  text: string;
  /** True when the rates are the lab's calibration of this machine (false: not calibrated, no figure). */
  calibrated?: boolean;
  /** What the work model leaves out, in words (WorkEstimate.note). */
  note?: string;
}

/**
 * The estimate from the lab's calibration (LabApi.getCalibration: the lab's own simulator and transformer
 * kernels timed on this machine): work × measured seconds per unit, no factor typed in.
 */
export function estimateCalibrated(w: WorkEstimate, c: Calibration): RunEstimate {
  const perAmp = w.qubits !== undefined ? rateAt(c.amplitudeRates, w.qubits) : c.secondsPerAmplitudeOp;
  const amplitudeSeconds = w.byWidth
    ? w.byWidth.reduce((t, p) => t + p.amplitudeOps * rateAt(c.amplitudeRates, p.qubits), 0)
    : w.amplitudeOps * perAmp;
  const seconds = w.flops * c.secondsPerFlop + amplitudeSeconds;
  return {
    seconds,
    text: `≈ ${formatDuration(seconds)} on this machine (calibrated ${c.measuredAt.slice(0, 10)})`,
    calibrated: true,
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
