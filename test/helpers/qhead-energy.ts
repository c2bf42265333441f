// Fixtures shared by the qhead energy tests (test/unit/qhead/energy.test.ts, energy-joint.test.ts): a timing row
// with one value per series, the module-2 circuit family and a published-figures QPU.
import type { Module2Family, TimingRow } from '../../core/methods/qhead/energy';

/** One measured width whose forward and forward+gradient times have no spread (median = min = max). */
export const timingRow = (n: number, forward: number, train: number): TimingRow => ({
  qubits: n,
  forward: { median: forward, min: forward, max: forward },
  train: { median: train, min: train, max: train },
  samples: 1,
  repeats: 1,
  info: { backend: 'cpu', mode: 'js', precision: 'f64' },
});

/** Depth 2, one final layer, three re-uploads, nearest-neighbour entanglers. */
export const MODULE2_FAMILY: Module2Family = { depth: 2, finalDepth: 1, reuploads: 3, connectivity: 1 };

/** A superconducting QPU's gate, reset and readout times (µs), 1,000 shots, 25 kW. */
export const QPU = { gate1Us: 135, gate2Us: 600, resetUs: 50, readoutUs: 300, shots: 1000, watts: 25000 };
