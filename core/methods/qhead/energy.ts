// Energy and scaling: the Module-2 circuit (the part whose width is the `qubits` factor) timed on this
// machine per sample (forward, and forward + adjoint gradient) over a range of widths, the median of several
// interleaved repeats per width; log2(time) fitted by one joint least-squares fit of both series (forward and
// forward + gradient share the slope b, the gradient line sits c ≥ 0 above) on the memory-bound widths (state
// vector larger than the last-level cache) and extrapolated with a confidence band, times a user-given power; beside it a QPU model
// from user-given gate, reset and readout times, shots and wall power. Module 1's amplitude encoding is left
// out of both: its state preparation needs ~2^n gates on a QPU, so it has no QPU advantage to find.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendInfo, Precision } from '../../quantum/backend';
import { createCpuSimulator } from '../../quantum/cpu/simulator';
import { Rng } from '../../nn/rng';
import { module2Circuit, type Module2Shape } from './circuits';
import type { EnergyConfig } from './schema';
import { tQuantile } from '../harness/stats';

/** Seconds per sample at one width: median over repeats, with the fastest and slowest repeat. */
export interface TimingStat {
  median: number;
  min: number;
  max: number;
}

export interface TimingRow {
  qubits: number;
  /** Forward pass (expectation values), seconds per sample. */
  forward: TimingStat;
  /** Forward + adjoint gradient (θ and inputs), seconds per sample. */
  train: TimingStat;
  /** Samples per timed call and timed calls (repeats) behind the medians. */
  samples: number;
  repeats: number;
  /** What the timed gradient calls ran on at this width (kernels depend on the width). */
  info: BackendInfo;
}

export interface ScalingMeasurement {
  rows: TimingRow[];
  /** Widths asked for but not timed because the time budget would not hold them. */
  skipped: number[];
  /** Last-level cache size used by the fit rule, bytes, and where it came from. */
  cacheBytes: number;
  cacheSource: string;
  /** Wall seconds the measurement took (warm-up included). */
  seconds: number;
  /** Precision of the timed state vector. */
  precision: Precision;
}

/** Bytes of one amplitude: complex64 or complex128. */
export function amplitudeBytes(precision: Precision): number {
  return precision === 'f32' ? 8 : 16;
}

export type Module2Family = Omit<Module2Shape, 'qubits' | 'features' | 'measured'>;

/** Module-2 circuit at width Q fed Q features (connectivity wrapped so it stays valid at every width). */
export function scalingCircuit(f: Module2Family, Q: number) {
  const c = f.connectivity % Q === 0 ? 1 : f.connectivity;
  return module2Circuit({ ...f, qubits: Q, features: Q, connectivity: c, measured: 1 });
}

/** Bytes of a sysfs cache size ("512K", "32768K", "32M"), or null. */
export function parseCacheSize(s: string): number | null {
  const m = /^(\d+)\s*([KMG]?)/i.exec(s.trim());
  if (!m) return null;
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(m[1]) * mult;
}

/** Size assumed when the OS reports no cache: 32 MiB, a common server L3 (said so in the report). */
export const ASSUMED_LLC_BYTES = 32 * 1024 ** 2;

/**
 * The last-level cache of cpu0 from Linux sysfs (`<dir>/index*` with `level`, `type`, `size`): the level-3
 * data/unified cache; without one the largest level-2 cache, with the reason stated (a state larger than the
 * L2 may still sit in an unreported L3, so the rule is then weaker); without either 32 MiB, assumed.
 */
export function detectLlcBytes(dir = '/sys/devices/system/cpu/cpu0/cache'): {
  bytes: number;
  source: string;
} {
  const caches: { level: number; bytes: number; size: string }[] = [];
  try {
    for (const name of readdirSync(dir)) {
      if (!/^index\d+$/.test(name)) continue;
      try {
        const read = (f: string) => readFileSync(join(dir, name, f), 'utf8').trim();
        if (read('type') === 'Instruction') continue;
        const size = read('size');
        const bytes = parseCacheSize(size);
        if (bytes !== null) caches.push({ level: Number(read('level')), bytes, size });
      } catch {
        // an index folder without the files: skipped
      }
    }
  } catch {
    // not Linux, or no sysfs cache folder (containers): fall through
  }
  const best = (level: number) =>
    caches.filter((c) => c.level === level).sort((a, b) => b.bytes - a.bytes)[0];
  const l3 = best(3);
  if (l3) return { bytes: l3.bytes, source: `L3 from sysfs (${l3.size})` };
  const l2 = best(2);
  if (l2)
    return {
      bytes: l2.bytes,
      source: `L2 from sysfs (${l2.size}): the OS reports no level-3 cache, so the L2 is taken as the last level`,
    };
  return {
    bytes: ASSUMED_LLC_BYTES,
    source: `assumed 32 MiB: the OS reports no cache sizes (${dir} unreadable); set energy.cacheBytes to this machine's L3`,
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const k = s.length >> 1;
  return s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2;
}

const stat = (xs: number[]): TimingStat => ({
  median: median(xs),
  min: Math.min(...xs),
  max: Math.max(...xs),
});

/**
 * Times the circuit at every width within `budgetSeconds`, on the cpu simulator in `precision` (the one the
 * head trains with). Warm-up runs ascending (it compiles the program and estimates each width's cost); a width
 * whose predicted cost no longer fits is skipped with all wider ones. Repeats are interleaved across widths
 * (repeat r visits every width) so slow drifts in the machine's load touch all widths alike instead of bending
 * the slope.
 */
export async function measureScaling(
  f: Module2Family,
  cfg: Pick<EnergyConfig, 'qubits' | 'batch' | 'repeats' | 'budgetSeconds' | 'cacheBytes'>,
  signal?: AbortSignal,
  precision: Precision = 'f32',
): Promise<ScalingMeasurement> {
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const sim = createCpuSimulator({ precision });
  const rng = new Rng(12345);
  const widths = [...new Set(cfg.qubits)].sort((a, b) => a - b);
  const minRepeats = Math.min(3, cfg.repeats);
  const cache = cfg.cacheBytes ? { bytes: cfg.cacheBytes, source: 'config' } : detectLlcBytes();
  type W = {
    Q: number;
    req: {
      circuit: ReturnType<typeof scalingCircuit>;
      params: Float64Array;
      inputs: Float64Array;
      batch: number;
    };
    g: Float64Array;
    cost: number;
    fw: number[];
    tr: number[];
    info: BackendInfo;
  };
  const ws: W[] = [];
  const skipped: number[] = [];
  const check = () => {
    if (signal?.aborted) throw new Error('cancelled');
  };
  try {
    let lastCost = 0;
    let lastQ = 0;
    for (const Q of widths) {
      check();
      // predict this width's per-sample cost from the last one, assuming time doubles per qubit
      const predicted = lastCost * 2 ** (Q - lastQ);
      if (ws.length >= 3 && elapsed() + predicted * (1 + minRepeats) > cfg.budgetSeconds) {
        skipped.push(...widths.filter((w) => w >= Q));
        break;
      }
      const circuit = scalingCircuit(f, Q);
      const params = new Float64Array(circuit.numParams);
      rng.fillUniform(params, -Math.PI, Math.PI);
      const one = { circuit, params, inputs: new Float64Array(circuit.numInputs), batch: 1 };
      rng.fillUniform(one.inputs, -1, 1);
      const g1 = new Float64Array(1).fill(1);
      const warm = await sim.vjp(one, g1); // warm-up: compile the program, JIT the kernels
      let t = performance.now();
      await sim.expval(one);
      const fwCost = (performance.now() - t) / 1000;
      t = performance.now();
      await sim.vjp(one, g1);
      const cost = fwCost + (performance.now() - t) / 1000;
      // enough samples per call that one forward call lasts ≥ 20 ms, so timer and dispatch noise stay small
      const samples = cfg.batch ?? Math.max(1, Math.min(64, Math.ceil(0.02 / Math.max(fwCost, 1e-7))));
      const inputs = new Float64Array(samples * circuit.numInputs);
      rng.fillUniform(inputs, -1, 1);
      const req = { circuit, params, inputs, batch: samples };
      ws.push({
        Q,
        req,
        g: new Float64Array(samples).fill(1),
        cost: cost * samples,
        fw: [],
        tr: [],
        info: warm.info,
      });
      lastCost = cost;
      lastQ = Q;
    }
    const perRepeat = ws.reduce((s, w) => s + w.cost, 0);
    const fit = Math.floor((cfg.budgetSeconds - elapsed()) / Math.max(perRepeat, 1e-9));
    const repeats = Math.max(minRepeats, Math.min(cfg.repeats, fit));
    for (let r = 0; r < repeats; r++)
      for (const w of ws) {
        check();
        let t = performance.now();
        await sim.expval(w.req);
        w.fw.push((performance.now() - t) / 1000 / w.req.batch);
        t = performance.now();
        const r = await sim.vjp(w.req, w.g);
        w.tr.push((performance.now() - t) / 1000 / w.req.batch);
        w.info = r.info;
      }
    return {
      rows: ws.map((w) => ({
        qubits: w.Q,
        forward: stat(w.fw),
        train: stat(w.tr),
        samples: w.req.batch,
        repeats,
        info: w.info,
      })),
      skipped,
      cacheBytes: cache.bytes,
      cacheSource: cache.source,
      seconds: elapsed(),
      precision,
    };
  } finally {
    sim.dispose();
  }
}

export interface Log2Fit {
  /** log2 t(n) = a + b·n. */
  a: number;
  b: number;
  /** Standard error of b, the 95 % interval of b, residual standard deviation of log2 t. */
  seB: number;
  bLo: number;
  bHi: number;
  s: number;
  dof: number;
  /** Student-t 95 % quantile used for every interval. */
  t: number;
  /** Mean and Σ(n − mean)² of the widths used. */
  meanN: number;
  sxx: number;
  /** Widths the fit used. */
  used: number[];
  /**
   * Unscaled covariance of the line's intercept a and slope b ((XᵀX)⁻¹ entries; × s² gives the covariance):
   * the band at n is t·s·√(vaa + 2n·vab + n²·vbb).
   */
  vaa: number;
  vab: number;
  vbb: number;
}

/** Least squares of log2 t on n over the given points (all of them; choose with `fitWidths`). */
export function fitLog2(ns: number[], ts: number[]): Log2Fit {
  if (ns.length !== ts.length) throw new Error('fitLog2: ns and ts differ in length');
  if (ns.length < 3)
    throw new Error(`fitLog2: need at least three (n, t) points for a slope with an error, got ${ns.length}`);
  const ys = ts.map((t, i) => {
    if (!(t > 0)) throw new Error(`fitLog2: time at n = ${ns[i]} must be positive, got ${t}`);
    return Math.log2(t);
  });
  const k = ns.length;
  const mx = ns.reduce((s, x) => s + x, 0) / k;
  const my = ys.reduce((s, y) => s + y, 0) / k;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < k; i++) {
    sxx += (ns[i] - mx) ** 2;
    sxy += (ns[i] - mx) * (ys[i] - my);
  }
  if (sxx === 0) throw new Error('fitLog2: need at least two distinct widths');
  const b = sxy / sxx;
  const a = my - b * mx;
  let rss = 0;
  for (let i = 0; i < k; i++) rss += (ys[i] - a - b * ns[i]) ** 2;
  const dof = k - 2;
  const s = Math.sqrt(rss / dof);
  const seB = s / Math.sqrt(sxx);
  const t = tQuantile(0.975, dof);
  return {
    a,
    b,
    seB,
    bLo: b - t * seB,
    bHi: b + t * seB,
    s,
    dof,
    t,
    meanN: mx,
    sxx,
    used: [...ns].sort((p, q) => p - q),
    vaa: 1 / k + (mx * mx) / sxx,
    vab: -mx / sxx,
    vbb: 1 / sxx,
  };
}

export interface JointFit {
  forward: Log2Fit;
  train: Log2Fit;
  /** log2 of the forward+gradient / forward time ratio (≥ 0), its standard error and 95 % interval. */
  c: number;
  seC: number;
  /** True when the unconstrained c came out negative and was held at 0 (the lines then coincide). */
  clamped: boolean;
  /** Degrees of freedom: 2k points − 3 parameters (a, b, c). */
  dof: number;
}

/**
 * One joint least-squares fit of both series: log2 t_fwd = a + b·n and log2 t_train = a + c + b·n, with the
 * slope b shared and c ≥ 0. Why: the adjoint gradient replays the same circuit a fixed number of times (forward,
 * backward sweep, one inner product per angle), so per sample it costs a constant multiple of the forward pass at
 * every width, a constant offset in log2; two separate fits give two slopes, each with only k − 2 degrees of
 * freedom, and the extrapolated lines can cross (a forward+gradient energy below the forward one), which is
 * impossible. The joint fit has 2k − 3 degrees of freedom (k widths), so its t quantile and band are far
 * narrower at small k, and the train line lies c ≥ 0 above the forward line at every width. A negative c (the
 * gradient measured faster than the forward pass, noise only) is held at 0 and the fit redone with c = 0, its dof
 * 2k − 2. The forward and train Log2Fits share b, seB, s, dof and t and differ in a and the band.
 */
export function fitLog2Joint(ns: number[], tf: number[], tt: number[]): JointFit {
  if (ns.length !== tf.length || ns.length !== tt.length)
    throw new Error('fitLog2Joint: ns, forward and train times differ in length');
  if (ns.length < 2) throw new Error(`fitLog2Joint: need at least two widths, got ${ns.length}`);
  const log = (t: number, n: number) => {
    if (!(t > 0)) throw new Error(`fitLog2Joint: time at n = ${n} must be positive, got ${t}`);
    return Math.log2(t);
  };
  const yf = tf.map((t, i) => log(t, ns[i]));
  const yt = tt.map((t, i) => log(t, ns[i]));
  const k = ns.length;
  const mx = ns.reduce((s, x) => s + x, 0) / k;
  let sxx = 0;
  for (const n of ns) sxx += (n - mx) ** 2;
  if (sxx === 0) throw new Error('fitLog2Joint: need at least two distinct widths');
  const mean = (ys: number[]) => ys.reduce((s, y) => s + y, 0) / k;
  // with the slope shared, b is the pooled within-series slope and c the mean log ratio
  let sxy = 0;
  for (let i = 0; i < k; i++) sxy += (ns[i] - mx) * (yf[i] - mean(yf) + (yt[i] - mean(yt)));
  const b = sxy / (2 * sxx);
  const cFree = mean(yt) - mean(yf);
  const clamped = cFree < 0;
  const c = clamped ? 0 : cFree;
  // intercept: the forward line through the pooled centre, less half the offset
  const a = (mean(yf) + mean(yt) - c) / 2 - b * mx;
  let rss = 0;
  for (let i = 0; i < k; i++) rss += (yf[i] - a - b * ns[i]) ** 2 + (yt[i] - a - c - b * ns[i]) ** 2;
  const dof = 2 * k - (clamped ? 2 : 3);
  if (dof < 1) throw new Error(`fitLog2Joint: ${k} widths leave no degree of freedom`);
  const s = Math.sqrt(rss / dof);
  const t = tQuantile(0.975, dof);
  // (XᵀX)⁻¹ for the columns (1, n, series): vbb = 1/(2Sxx); a at the forward line: 1/k + n̄²/(2Sxx)
  // (c free) or 1/(2k) + n̄²/(2Sxx) (c held); vcc = 2/k; cov(a, c) = −1/k; cov(a, b) = −n̄/(2Sxx)
  const vbb = 1 / (2 * sxx);
  const vab = -mx * vbb;
  const vaaF = (clamped ? 1 / (2 * k) : 1 / k) + mx * mx * vbb;
  // a + c: vaa + vcc + 2·cov(a, c) = 1/k + n̄²/(2Sxx) as well when c is free (by symmetry)
  const vaaT = vaaF;
  const seB = s * Math.sqrt(vbb);
  const used = [...ns].sort((p, q) => p - q);
  const line = (aa: number, vaa: number): Log2Fit => ({
    a: aa,
    b,
    seB,
    bLo: b - t * seB,
    bHi: b + t * seB,
    s,
    dof,
    t,
    meanN: mx,
    sxx,
    used,
    vaa,
    vab,
    vbb,
  });
  return {
    forward: line(a, vaaF),
    train: line(a + c, vaaT),
    c,
    seC: clamped ? 0 : s * Math.sqrt(2 / k),
    clamped,
    dof,
  };
}

/**
 * The fit rule: the widths whose state vector (ampBytes·2^n bytes: 16 in f64, 8 in f32) is larger than
 * `cacheBytes` — there the time is set by streaming the state through memory and grows like the state (a state
 * exactly the cache's size still shares it with code and parameters, and measured as a transition) — or, when
 * fewer than three widths qualify, the three widest (the report says which rule applied).
 */
export function fitWidths(
  ns: number[],
  cacheBytes: number,
  ampBytes = 16,
): { widths: number[]; memoryBound: boolean } {
  const sorted = [...new Set(ns)].sort((a, b) => a - b);
  const big = sorted.filter((n) => ampBytes * 2 ** n > cacheBytes);
  return big.length >= 3
    ? { widths: big, memoryBound: true }
    : { widths: sorted.slice(-3), memoryBound: false };
}

/** log2 t at n with the 95 % confidence band of the fitted line (not of a single new measurement). */
export function evalFit(f: Log2Fit, n: number): { log2: number; lo: number; hi: number } {
  const y = f.a + f.b * n;
  const half = f.t * f.s * Math.sqrt(Math.max(0, f.vaa + 2 * n * f.vab + n * n * f.vbb));
  return { log2: y, lo: y - half, hi: y + half };
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
  const forward = shotUs * 1e-6 * q.shots;
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

export interface Crossover {
  /** With the fitted line; `early` with the upper edge of its 95 % band, `late` with the lower edge. */
  at: number | null;
  early: number | null;
  late: number | null;
}

export interface EnergyCurvePoint {
  qubits: number;
  /** Joules per sample; measured widths use the measured median, others the fit. */
  simForwardJ: number;
  simTrainJ: number;
  /** 95 % band of the fitted simulation energy. */
  simForwardLoJ: number;
  simForwardHiJ: number;
  simTrainLoJ: number;
  simTrainHiJ: number;
  qpuForwardJ: number;
  qpuTrainJ: number;
  measured: boolean;
}

export interface EnergyEstimate {
  timings: TimingRow[];
  /** The forward and forward+gradient lines of one joint fit (shared slope, see fitLog2Joint). */
  fitForward: Log2Fit;
  fitTrain: Log2Fit;
  joint: JointFit;
  /** True when the fit used the widths whose state is larger than the last-level cache; false: the three widest. */
  memoryBound: boolean;
  /** How many measured widths had a state larger than the last-level cache. */
  memoryBoundWidths: number;
  /** Expected slope for this circuit: gates per sample grow like n, each costs ∝ 2^n, so log2 t ≈ c + n + log2 n. */
  theoryB: number;
  curve: EnergyCurvePoint[];
  crossoverForward: Crossover;
  crossoverTrain: Crossover;
}

/** Joules per sample from measured timings (fitted and extrapolated) and the QPU model. */
export function energyEstimate(
  f: Module2Family,
  timings: TimingRow[],
  cpuWatts: number,
  qpu: QpuConstants,
  extrapolateTo: number,
  cacheBytes: number,
  ampBytes = 16,
): EnergyEstimate {
  const ns = timings.map((t) => t.qubits);
  const { widths, memoryBound } = fitWidths(ns, cacheBytes, ampBytes);
  const pick = (key: 'forward' | 'train') =>
    widths.map((n) => timings.find((t) => t.qubits === n)![key].median);
  const joint = fitLog2Joint(widths, pick('forward'), pick('train'));
  const fitForward = joint.forward;
  const fitTrain = joint.train;
  const sim = (fit: Log2Fit, edge: 'log2' | 'lo' | 'hi') => (n: number) =>
    cpuWatts * 2 ** evalFit(fit, n)[edge];
  const qpuF = (n: number) => qpu.watts * qpuSeconds(f, n, qpu).forward;
  const qpuT = (n: number) => qpu.watts * qpuSeconds(f, n, qpu).train;
  const from = Math.min(...ns);
  const to = Math.max(extrapolateTo, Math.max(...ns));
  const cross = (fit: Log2Fit, qpuJ: (n: number) => number): Crossover => ({
    at: crossover(sim(fit, 'log2'), qpuJ, from, to),
    early: crossover(sim(fit, 'hi'), qpuJ, from, to),
    late: crossover(sim(fit, 'lo'), qpuJ, from, to),
  });
  const curve: EnergyCurvePoint[] = [];
  for (let n = from; n <= to; n++) {
    const m = timings.find((t) => t.qubits === n);
    curve.push({
      qubits: n,
      simForwardJ: m ? cpuWatts * m.forward.median : sim(fitForward, 'log2')(n),
      simTrainJ: m ? cpuWatts * m.train.median : sim(fitTrain, 'log2')(n),
      simForwardLoJ: sim(fitForward, 'lo')(n),
      simForwardHiJ: sim(fitForward, 'hi')(n),
      simTrainLoJ: sim(fitTrain, 'lo')(n),
      simTrainHiJ: sim(fitTrain, 'hi')(n),
      qpuForwardJ: qpuF(n),
      qpuTrainJ: qpuT(n),
      measured: !!m,
    });
  }
  const nBar = fitTrain.meanN;
  return {
    timings,
    fitForward,
    fitTrain,
    joint,
    memoryBound,
    memoryBoundWidths: new Set(ns.filter((n) => ampBytes * 2 ** n > cacheBytes)).size,
    theoryB: 1 + 1 / (nBar * Math.LN2),
    curve,
    crossoverForward: cross(fitForward, qpuF),
    crossoverTrain: cross(fitTrain, qpuT),
  };
}
