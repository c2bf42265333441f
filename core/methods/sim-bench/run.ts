// The simulator benchmark suite (issue 3): gate throughput as a fraction of memcpy bandwidth, the
// QD-LLM student and QFFN-sized circuits (forward, adjoint gradient, parameter-shift), and the PyTorch
// peer on the same machine in the same run. Used by `qlab bench sim`, `npm run bench:sim` and the
// `sim-bench` job kind.
import type { BackendInfo, BatchRequest, Simulator } from '../../quantum/backend';
import { resultBuffers } from '../../quantum/request';
import { createCpuSimulator } from '../../quantum/cpu/simulator';
import { evaluatorOf, parameterShiftVjp } from '../../quantum/gradients';
import { memcpyBandwidth, minSeconds, pairedMedianSeconds } from './measure';
import { runPythonPeer, type PeerResult } from './peer';
import type { SimBenchConfig } from './schema';
import { oneQubitLayer, qdllmStudent, qffnCircuit, type Workload } from './workloads';

/** The batched gate throughput's metric key (x = qubits); the batch-1 widths are `gate_bandwidth_fraction`. */
export const BATCHED_BANDWIDTH_KEY = 'gate_bandwidth_fraction_batched';

export interface BenchRow {
  workload: string;
  backend: string;
  measure: string;
  value: number;
  unit: string;
  /** The comparison figure (memcpy bandwidth, PyTorch time, or forward time) and the ratio to it. */
  reference?: { label: string; value: number; ratio: number; target: string };
}

export interface BenchHooks {
  progress?(fraction: number, message: string): void;
  metric?(key: string, step: number, value: number): void;
  log?(message: string): void;
  signal?: AbortSignal;
}

export interface SimBenchResult {
  rows: BenchRow[];
  backends: BackendInfo[];
  peer: PeerResult;
  machine: { cpus: number; memcpyGBs: number };
}

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new Error('cancelled');
}

const req = (w: Workload) => ({ circuit: w.circuit, params: w.params, inputs: w.inputs, batch: w.batch });

/** A request with result arrays of its own (BatchRequest.out), reused by every call of a timing loop. */
const withBuffers = (r: BatchRequest, vjp: boolean): BatchRequest => ({
  ...r,
  out: resultBuffers(r.circuit, r.batch, vjp),
});

/**
 * Forward and adjoint gradient of workload `w` on `sim`, called as the lab's quantum modules call them (each pass
 * writes into its own arrays, kept between calls) and timed alternately, so their ratio comes from the same
 * minutes of the machine. `ones`: the gradient seed, for the parameter-shift row.
 */
async function timeForwardGradient(sim: Simulator, w: Workload, r: BatchRequest, repeats: number) {
  const nObs = w.circuit.observables?.length ?? w.circuit.qubits;
  const ones = new Float64Array(w.batch * nObs).fill(1);
  const [rf, rb] = [withBuffers(r, false), withBuffers(r, true)];
  const t = await pairedMedianSeconds(
    () => sim.expval(rf),
    () => sim.vjp(rb, ones),
    repeats,
  );
  return { fwd: t.a, grad: t.b, ratio: t.ratio, ones };
}

/** The adjoint ÷ forward row (issue 17: ≤ 3 on every backend and workload). */
function ratioRow(workload: string, backend: string, fwd: number, ratio: number): BenchRow {
  return {
    workload,
    backend,
    measure: 'gradient / forward',
    value: ratio,
    unit: '×',
    reference: { label: 'forward ms', value: fwd * 1e3, ratio, target: '≤ 3' },
  };
}

/** What the forward and adjoint rows time, printed under the table. */
export const SIM_BENCH_LEGEND =
  "forward / adjoint gradient: expval / vjp called as the lab's quantum modules call them (core/nn/quantum-module.ts): " +
  'each pass writes its results into arrays of its own in shared memory (BatchRequest.out), reused from call to call; ' +
  'timed alternately (a forward, then a gradient, each repeat), median of the repeats, wall time; gradient / forward is ' +
  "the median of the repeats' own ratios.";

/** Seconds per one-qubit gate: the difference of a G-gate and a G/2-gate circuit cancels set-up and measurement. */
async function secondsPerGate(
  sim: Simulator,
  qubits: number,
  gates: number,
  batch: number,
  reps: number,
): Promise<{ seconds: number; info: BackendInfo }> {
  const g2 = Math.min(gates, qubits);
  const g1 = Math.max(1, g2 >> 1);
  const a = oneQubitLayer(qubits, g1, batch);
  const b = oneQubitLayer(qubits, g2, batch);
  // fastest of several repeats: a difference of medians under load can be noise of either sign
  const r = Math.max(reps, 5);
  const ta = await minSeconds(() => sim.expval(req(a)), r);
  const tb = await minSeconds(() => sim.expval(req(b)), r);
  const info = (await sim.expval(req(b))).info;
  // when the extra gates cost less than the timing noise, there is no figure to report
  return { seconds: tb - ta > 0.02 * tb ? (tb - ta) / (g2 - g1) : NaN, info };
}

export async function runSimBench(cfg: SimBenchConfig, hooks: BenchHooks = {}): Promise<SimBenchResult> {
  const rows: BenchRow[] = [];
  const sims: Simulator[] = [createCpuSimulator({ precision: 'f32', threads: cfg.threads })];
  // f64 beside f32 (same kernels' structure in f64x2 lanes): gate rows up to 22 qubits and the QD-LLM circuits
  const f64 = cfg.f64 ? createCpuSimulator({ precision: 'f64', threads: cfg.threads }) : null;
  const f64Qubits = f64 ? cfg.largeQubits.filter((n) => n <= 22) : [];
  if (cfg.gpu) {
    const { createGpuSimulator } = await import('../../quantum/gpu/simulator');
    sims.push(await createGpuSimulator({ mode: 'auto' }));
  }
  const totalSteps =
    cfg.largeQubits.length +
    1 +
    (cfg.qdllmBatches.length + 1) * sims.length +
    (cfg.peer ? 1 : 0) +
    (f64 ? f64Qubits.length + cfg.qdllmBatches.length : 0);
  let step = 0;
  const tick = (msg: string) => hooks.progress?.(Math.min(1, ++step / totalSteps), msg);

  const ran = new Map<string, BackendInfo>();
  const { cpus } = await import('node:os');
  const memBytes = 8 << 20;
  const memcpy = await memcpyBandwidth(memBytes);
  hooks.log?.(`memcpy bandwidth ${(memcpy / 1e9).toFixed(2)} GB/s (read + write, ${memBytes >> 20} MiB)`);

  // Gate throughput: large states on the cpu backend (the gpu backend's flat-index limit is 2^24 floats).
  const cpu = sims[0];
  for (const n of cfg.largeQubits) {
    checkAbort(hooks.signal);
    const bytes = 8 * 2 ** n; // complex64 state
    const mc = await memcpyBandwidth(bytes, 5);
    const { seconds: s, info } = await secondsPerGate(cpu, n, cfg.largeGates, 1, cfg.repeats);
    const bw = (16 * 2 ** n) / s;
    rows.push({
      workload: `1q gate n=${n} B=1`,
      backend: `${info.backend}/${info.mode}`,
      measure: 'bandwidth',
      value: bw / 1e9,
      unit: 'GB/s',
      reference: { label: 'memcpy GB/s', value: mc / 1e9, ratio: bw / mc, target: '≥ 0.5' },
    });
    if (Number.isFinite(bw)) hooks.metric?.('gate_bandwidth_fraction', n, bw / mc);
    tick(`gate throughput n=${n}`);
    if (f64 && f64Qubits.includes(n)) {
      checkAbort(hooks.signal);
      // complex128: 32 bytes read + written per amplitude
      const mc64 = await memcpyBandwidth(2 * bytes, 5);
      const r64 = await secondsPerGate(f64, n, cfg.largeGates, 1, cfg.repeats);
      const bw64 = (32 * 2 ** n) / r64.seconds;
      const label = `${r64.info.backend}/${r64.info.mode} f64`;
      rows.push({
        workload: `1q gate n=${n} B=1`,
        backend: label,
        measure: 'bandwidth',
        value: bw64 / 1e9,
        unit: 'GB/s',
        reference: { label: 'memcpy GB/s', value: mc64 / 1e9, ratio: bw64 / mc64, target: '≥ 0.5' },
      });
      rows.push({
        workload: `1q gate n=${n} B=1`,
        backend: label,
        measure: 'time per gate',
        value: r64.seconds * 1e3,
        unit: 'ms',
        reference: { label: 'f32 ms', value: s * 1e3, ratio: r64.seconds / s, target: '(f64 ÷ f32)' },
      });
      ran.set(`${label}/${r64.info.fallbackReason ?? ''}`, r64.info);
      tick(`gate throughput n=${n} f64`);
    }
  }
  {
    const n = 10;
    const B = cfg.qmlBatch;
    const mc = await memcpyBandwidth(8 * B * 2 ** n, 5);
    const { seconds: s, info } = await secondsPerGate(cpu, n, n, B, cfg.repeats);
    const bw = (16 * B * 2 ** n) / s;
    rows.push({
      workload: `1q gate n=10 B=${B}`,
      backend: `${info.backend}/${info.mode}`,
      measure: 'bandwidth',
      value: bw / 1e9,
      unit: 'GB/s',
      reference: { label: 'memcpy GB/s', value: mc / 1e9, ratio: bw / mc, target: '≥ 0.5' },
    });
    // its own series at x = qubits (runs before this wrote it into gate_bandwidth_fraction at x = 100 + n;
    // the run page still reads those: renderer/src/lib/chart-series.ts splitLegacyBandwidth)
    if (Number.isFinite(bw)) hooks.metric?.(BATCHED_BANDWIDTH_KEY, n, bw / mc);
    tick('gate throughput n=10 batch');
  }

  // The peer first, alone on the machine, so neither run disturbs the other.
  let peer: PeerResult = { available: false, reason: 'disabled in the config' };
  if (cfg.peer) {
    checkAbort(hooks.signal);
    hooks.log?.('running the PyTorch peer (shared/peers/torch_statevector.py)');
    peer = await runPythonPeer('torch_statevector.py', [String(Math.max(1, cfg.threads))]);
    if (!peer.available) hooks.log?.(`PyTorch peer unavailable: ${peer.reason}`);
    tick('PyTorch peer');
  }
  const peerKey = (w: Workload): string | undefined => {
    if (w.name === `qdllm-n11-L11-B${w.batch}` && (w.batch === 8 || w.batch === 256))
      return `qdllm_n11_L11_B${w.batch}`;
    if (w.name === 'qffn-n10-D8-B1024') return 'qffn_n10_D8_B1024';
    return undefined;
  };

  const workloads: Workload[] = [
    ...cfg.qdllmBatches.map((B) => qdllmStudent(11, cfg.qdllmLayers, B)),
    qffnCircuit(10, cfg.qffnDepth, cfg.qffnBatch),
  ];
  const f32Times = new Map<string, { fwd: number; grad: number }>();
  for (const sim of sims) {
    for (const w of workloads) {
      checkAbort(hooks.signal);
      const r = req(w);
      // what actually ran (a thread pool is used only for large enough batches, or may be unavailable)
      const ranInfo = (await sim.expval(r)).info;
      const label = `${ranInfo.backend}/${ranInfo.mode}`;
      ran.set(`${label}/${ranInfo.precision}/${ranInfo.fallbackReason ?? ''}`, ranInfo);
      const { fwd, grad, ratio, ones } = await timeForwardGradient(sim, w, r, cfg.repeats);
      const pk = peerKey(w);
      const p = pk && peer.available ? peer.results?.[pk] : undefined;
      rows.push({
        workload: w.name,
        backend: label,
        measure: 'forward',
        value: fwd * 1e3,
        unit: 'ms',
        ...(p
          ? {
              reference: {
                label: 'PyTorch ms',
                value: p.forward_s * 1e3,
                ratio: p.forward_s / fwd,
                target: '≥ 2× faster',
              },
            }
          : {}),
      });
      rows.push({
        workload: w.name,
        backend: label,
        measure: 'adjoint gradient',
        value: grad * 1e3,
        unit: 'ms',
        reference: p
          ? {
              label: 'PyTorch fwd+bwd ms',
              value: p.forward_backward_s * 1e3,
              ratio: p.forward_backward_s / grad,
              target: '≥ 2× faster',
            }
          : { label: 'forward ms', value: fwd * 1e3, ratio, target: '≤ 4 × forward' },
      });
      // adjoint ÷ forward on every backend and workload, peer or not (issue 17: ≤ 3)
      rows.push(ratioRow(w.name, label, fwd, ratio));
      hooks.metric?.(`${w.name}/${label}/forward_ms`, 0, fwd * 1e3);
      hooks.metric?.(`${w.name}/${label}/adjoint_ms`, 0, grad * 1e3);
      if (sim === cpu) f32Times.set(w.name, { fwd, grad });
      if (cfg.parameterShift && sim === cpu) {
        const t0 = performance.now();
        await parameterShiftVjp(evaluatorOf(sim), r, ones);
        const ps = (performance.now() - t0) / 1000;
        rows.push({
          workload: w.name,
          backend: label,
          measure: 'parameter-shift gradient',
          value: ps * 1e3,
          unit: 'ms',
          reference: { label: 'adjoint ms', value: grad * 1e3, ratio: ps / grad, target: '(for scale)' },
        });
        hooks.metric?.(`${w.name}/${label}/parameter_shift_ms`, 0, ps * 1e3);
      }
      tick(`${w.name} on ${label}`);
    }
  }
  // the QD-LLM circuits in f64, against the f32 times of the same run
  if (f64)
    for (const w of workloads.slice(0, cfg.qdllmBatches.length)) {
      checkAbort(hooks.signal);
      const r = req(w);
      const info = (await f64.expval(r)).info;
      const label = `${info.backend}/${info.mode} f64`;
      ran.set(`${label}/${info.fallbackReason ?? ''}`, info);
      const { fwd, grad, ratio } = await timeForwardGradient(f64, w, r, cfg.repeats);
      const t32 = f32Times.get(w.name);
      const vs32 = (t: number, t32v: number | undefined, what: string): BenchRow['reference'] =>
        t32v === undefined
          ? undefined
          : { label: `f32 ${what} ms`, value: t32v * 1e3, ratio: t / t32v, target: '(f64 ÷ f32)' };
      rows.push({
        workload: w.name,
        backend: label,
        measure: 'forward',
        value: fwd * 1e3,
        unit: 'ms',
        reference: vs32(fwd, t32?.fwd, 'forward'),
      });
      rows.push({
        workload: w.name,
        backend: label,
        measure: 'adjoint gradient',
        value: grad * 1e3,
        unit: 'ms',
        reference: vs32(grad, t32?.grad, 'adjoint'),
      });
      rows.push(ratioRow(w.name, label, fwd, ratio));
      hooks.metric?.(`${w.name}/${label}/forward_ms`, 0, fwd * 1e3);
      hooks.metric?.(`${w.name}/${label}/adjoint_ms`, 0, grad * 1e3);
      tick(`${w.name} f64`);
    }
  const backends = [...ran.values()];
  for (const s of sims) s.dispose();
  f64?.dispose();
  return { rows, backends, peer, machine: { cpus: cpus().length, memcpyGBs: memcpy / 1e9 } };
}

/** A fixed-width table of the rows, for terminals and reports. */
/** A row's reference as printed: its figure and label, or words where the reference was below timing noise (NaN). */
export function referenceText(ref: BenchRow['reference']): string {
  if (!ref) return '';
  return Number.isFinite(ref.value)
    ? `${ref.value.toPrecision(4)} ${ref.label}`
    : `below timing noise (${ref.label})`;
}

export function formatBenchTable(rows: BenchRow[]): string {
  const header = ['workload', 'backend', 'measure', 'value', 'reference', 'ratio', 'target'];
  const body = rows.map((r) => [
    r.workload,
    r.backend,
    r.measure,
    Number.isFinite(r.value) ? `${r.value.toPrecision(4)} ${r.unit}` : 'n/a (below timing noise)',
    referenceText(r.reference),
    r.reference && Number.isFinite(r.reference.ratio) ? r.reference.ratio.toFixed(2) : '',
    r.reference?.target ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
