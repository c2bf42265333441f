// Energy and scaling: the Module-2 circuit (the part whose width is the `qubits` factor) timed on this
// machine per sample (forward, and forward + adjoint gradient) at a few widths, an exponential fitted to the
// widest points and extrapolated, times a user-given power; beside it a QPU model from user-given gate,
// reset and readout times, shots and wall power. Module 1's amplitude encoding is left out of both: its state
// preparation needs ~2^n gates on a QPU, so it has no QPU advantage to find (stated in the report).
import { createCpuSimulator } from '../../quantum/cpu/simulator';
import { Rng } from '../../nn/rng';
import { module2Circuit, type Module2Shape } from './circuits';
import type { EnergyConfig } from './schema';

export interface TimingRow {
  qubits: number;
  /** Seconds per sample, the fastest of the repeats (on a shared machine, slower ones measure other load). */
  forward: number;
  /** Forward + adjoint gradient (θ and inputs), seconds per sample. */
  train: number;
}

export type Module2Family = Omit<Module2Shape, 'qubits' | 'features' | 'measured'>;

/** Module-2 circuit at width Q fed Q features (connectivity wrapped so it stays valid at every width). */
export function scalingCircuit(f: Module2Family, Q: number) {
  const c = f.connectivity % Q === 0 ? 1 : f.connectivity;
  return module2Circuit({ ...f, qubits: Q, features: Q, connectivity: c, measured: 1 });
}

export async function measureScaling(
  f: Module2Family,
  cfg: Pick<EnergyConfig, 'qubits' | 'batch' | 'repeats'>,
  signal?: AbortSignal,
): Promise<TimingRow[]> {
  const sim = createCpuSimulator({ precision: 'f64' });
  const rng = new Rng(12345);
  const rows: TimingRow[] = [];
  try {
    for (const Q of [...new Set(cfg.qubits)].sort((a, b) => a - b)) {
      const circuit = scalingCircuit(f, Q);
      const params = new Float64Array(circuit.numParams);
      rng.fillUniform(params, -Math.PI, Math.PI);
      const inputs = new Float64Array(cfg.batch * circuit.numInputs);
      rng.fillUniform(inputs, -1, 1);
      const req = { circuit, params, inputs, batch: cfg.batch };
      const g = new Float64Array(cfg.batch).fill(1);
      await sim.vjp(req, g); // warm-up: compile the program, JIT the kernels
      const fw: number[] = [];
      const tr: number[] = [];
      for (let r = 0; r < cfg.repeats; r++) {
        if (signal?.aborted) throw new Error('cancelled');
        let t = performance.now();
        await sim.expval(req);
        fw.push((performance.now() - t) / 1000 / cfg.batch);
        t = performance.now();
        await sim.vjp(req, g);
        tr.push((performance.now() - t) / 1000 / cfg.batch);
      }
      rows.push({ qubits: Q, forward: Math.min(...fw), train: Math.min(...tr) });
    }
  } finally {
    sim.dispose();
  }
  return rows;
}

export interface ExpFit {
  /** t(n) = exp(a + b·n). */
  a: number;
  b: number;
  /** Qubits per doubling of time, ln 2 / b. */
  doubling: number;
  /** Widths the fit used. */
  used: number[];
}

/** Least squares of ln t on n over the `top` widest points. */
export function fitExponential(ns: number[], ts: number[], top = 3): ExpFit {
  if (ns.length !== ts.length || ns.length < 2)
    throw new Error('fitExponential: need at least two (n, t) pairs');
  const idx = ns
    .map((_, i) => i)
    .sort((i, j) => ns[j] - ns[i])
    .slice(0, Math.max(2, Math.min(top, ns.length)));
  const xs = idx.map((i) => ns[i]);
  const ys = idx.map((i) => {
    if (!(ts[i] > 0)) throw new Error(`fitExponential: time at n = ${ns[i]} must be positive, got ${ts[i]}`);
    return Math.log(ts[i]);
  });
  const k = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / k;
  const my = ys.reduce((s, y) => s + y, 0) / k;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < k; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
  }
  if (sxx === 0) throw new Error('fitExponential: need at least two distinct widths');
  const b = sxy / sxx;
  return { a: my - b * mx, b, doubling: b > 0 ? Math.LN2 / b : Infinity, used: xs.sort((p, q) => p - q) };
}

export function evalFit(f: ExpFit, n: number): number {
  return Math.exp(f.a + f.b * n);
}

export interface QpuConstants {
  gate1Us: number;
  gate2Us: number;
  resetUs: number;
  readoutUs: number;
  shots: number;
  watts: number;
}

/** Gate counts of the Module-2 circuit at width Q: one-qubit (RY), two-qubit (CNOT), differentiable angles. */
export function module2GateCounts(
  f: Module2Family,
  Q: number,
): { oneQubit: number; twoQubit: number; angles: number } {
  const layers = f.reuploads * f.depth + f.finalDepth;
  return {
    oneQubit: f.reuploads * Q + layers * Q,
    twoQubit: layers * Q,
    angles: f.reuploads * Q + layers * Q,
  };
}

/**
 * QPU seconds per sample: a shot takes reset + every gate one after another + readout (gates serial, as on
 * a trapped-ion machine; a conservative choice). Inference runs the circuit once; training runs it
 * 1 + 2·angles times (parameter shift, two terms per differentiable angle).
 */
export function qpuSeconds(f: Module2Family, Q: number, q: QpuConstants): { forward: number; train: number } {
  const g = module2GateCounts(f, Q);
  const shotUs = q.resetUs + g.oneQubit * q.gate1Us + g.twoQubit * q.gate2Us + q.readoutUs;
  const forward = (shotUs * 1e-6 * q.shots) as number;
  return { forward, train: forward * (1 + 2 * g.angles) };
}

/** Smallest integer width in [from, to] at which simulation energy reaches the QPU's, or null. */
export function crossover(
  simJoules: (n: number) => number,
  qpuJoules: (n: number) => number,
  from: number,
  to: number,
): number | null {
  for (let n = from; n <= to; n++) if (simJoules(n) >= qpuJoules(n)) return n;
  return null;
}

export interface EnergyCurvePoint {
  qubits: number;
  simForwardJ: number;
  simTrainJ: number;
  qpuForwardJ: number;
  qpuTrainJ: number;
  measured: boolean;
}

export interface EnergyEstimate {
  timings: TimingRow[];
  fitForward: ExpFit;
  fitTrain: ExpFit;
  curve: EnergyCurvePoint[];
  crossoverForward: number | null;
  crossoverTrain: number | null;
}

/** Joules per sample from measured timings (fitted and extrapolated) and the QPU model. */
export function energyEstimate(
  f: Module2Family,
  timings: TimingRow[],
  cpuWatts: number,
  qpu: QpuConstants,
  extrapolateTo: number,
): EnergyEstimate {
  const ns = timings.map((t) => t.qubits);
  const fitForward = fitExponential(
    ns,
    timings.map((t) => t.forward),
  );
  const fitTrain = fitExponential(
    ns,
    timings.map((t) => t.train),
  );
  const simF = (n: number) => cpuWatts * evalFit(fitForward, n);
  const simT = (n: number) => cpuWatts * evalFit(fitTrain, n);
  const qpuF = (n: number) => qpu.watts * qpuSeconds(f, n, qpu).forward;
  const qpuT = (n: number) => qpu.watts * qpuSeconds(f, n, qpu).train;
  const from = Math.min(...ns);
  const to = Math.max(extrapolateTo, Math.max(...ns));
  const curve: EnergyCurvePoint[] = [];
  for (let n = from; n <= to; n++) {
    const m = timings.find((t) => t.qubits === n);
    curve.push({
      qubits: n,
      simForwardJ: m ? cpuWatts * m.forward : simF(n),
      simTrainJ: m ? cpuWatts * m.train : simT(n),
      qpuForwardJ: qpuF(n),
      qpuTrainJ: qpuT(n),
      measured: !!m,
    });
  }
  return {
    timings,
    fitForward,
    fitTrain,
    curve,
    crossoverForward: crossover(simF, qpuF, from, to),
    crossoverTrain: crossover(simT, qpuT, from, to),
  };
}
