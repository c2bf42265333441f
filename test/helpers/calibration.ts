// A stored calibration of this machine's simulator and matmul rates, for tests that read only its other
// entries (a GGUF file's rate): fixed, small rates.
import type { Calibration } from '../../core/api/lab-api';

export function otherRates(): Calibration {
  return {
    measuredAt: '2026-12-05T00:00:00.000Z',
    secondsPerAmplitudeOp: 1e-9,
    amplitudeRates: [{ qubits: 4, secondsPerAmplitudeOp: 1e-9 }],
    secondsPerFlop: 1e-10,
    host: { cpu: 'test', cores: 2 },
    detail: 'other rates',
  };
}
