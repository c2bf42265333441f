// The simulator a method's `backend: 'cpu' | 'gpu'` and `precision: 'f32' | 'f64'` config fields ask for, a
// wrapper that records what actually ran (the kernels depend on the circuit's width), and the one-line
// descriptions of both that logs and reports show.
import type { BackendInfo, BatchRequest, Precision, Simulator } from './backend';
import { cpuKernel, createCpuSimulator } from './cpu/simulator';
import { GPU_F64_MESSAGE } from './precision';

/**
 * cpu: complex64 (f32) or complex128 (f64), WebAssembly SIMD kernels (f32x4, f64x2) from 2 qubits, in this
 * thread; gpu: gpu.js in its best available mode, f32 only (loaded only when asked for).
 */
export async function createSimulator(
  backend: 'cpu' | 'gpu',
  precision: Precision = 'f32',
): Promise<Simulator> {
  if (precision !== 'f32' && precision !== 'f64')
    throw new Error(`precision: must be "f32" or "f64", got ${JSON.stringify(precision)}`);
  if (backend === 'gpu') {
    if (precision !== 'f32') throw new Error(`precision: ${GPU_F64_MESSAGE}`);
    const { createGpuSimulator } = await import('./gpu/simulator');
    return createGpuSimulator({ mode: 'auto' });
  }
  return createCpuSimulator({ precision });
}

/**
 * The kernels the cpu simulator runs a circuit of `qubits` on in this thread, by the rule it reports with its
 * results (core/quantum/cpu/simulator.ts): for wrappers that use its state() and so never see a result's info.
 */
export function cpuKernelMode(precision: Precision, qubits: number): 'wasm-simd' | 'js' {
  return cpuKernel(precision, 2 ** qubits);
}

/** e.g. `cpu/js-threads f32 ×4 threads` or `gpu/cpu f32 (WebGPU unavailable: …)`. */
export function describeBackend(info: BackendInfo): string {
  const threads = info.threads ? ` ×${info.threads} threads` : '';
  const fallback = info.fallbackReason ? ` (${info.fallbackReason})` : '';
  return `${info.backend}/${info.mode} ${info.precision}${threads}${fallback}`;
}

/** What ran, per circuit width: the info of the last result at each width. */
export type RanByWidth = Map<number, BackendInfo>;

/**
 * The simulator with every expval/vjp result's info recorded by circuit width, so a job can report the
 * kernels that ran rather than what the simulator was created for.
 */
export function recordingSimulator(sim: Simulator): { sim: Simulator; ran: RanByWidth } {
  const ran: RanByWidth = new Map();
  const note = (req: BatchRequest, info: BackendInfo): void => {
    ran.set(req.circuit.qubits, { ...info });
  };
  return {
    ran,
    sim: {
      get info() {
        return sim.info;
      },
      async expval(req) {
        const r = await sim.expval(req);
        note(req, r.info);
        return r;
      },
      async vjp(req, d) {
        const r = await sim.vjp(req, d);
        note(req, r.info);
        return r;
      },
      probs: (req, wires) => sim.probs(req, wires),
      state: (req) => sim.state(req),
      dispose: () => sim.dispose(),
    },
  };
}

/** Widths in decreasing order with what ran there: `cpu/wasm-simd f32 (7 qubits); cpu/js f32 (4 qubits)`. */
export function describeRan(ran: RanByWidth): string {
  return [...ran.entries()]
    .sort((a, b) => b[0] - a[0])
    .map(([q, info]) => `${describeBackend(info)} (${q} qubit${q === 1 ? '' : 's'})`)
    .join('; ');
}

/**
 * The backend record a job stores: the info of its widest circuit (`fallback`, the simulator's own info, when
 * nothing ran), with `byQubits` naming the mode at every width when more than one width ran.
 */
export function ranRecord(ran: RanByWidth, fallback: BackendInfo): Record<string, unknown> {
  if (ran.size === 0) return { ...fallback };
  const widths = [...ran.keys()].sort((a, b) => b - a);
  const out: Record<string, unknown> = { ...ran.get(widths[0])!, qubits: widths[0] };
  if (widths.length > 1) out.byQubits = Object.fromEntries(widths.map((q) => [q, ran.get(q)!.mode]));
  return out;
}
