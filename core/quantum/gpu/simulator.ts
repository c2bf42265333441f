// The gpu.js backend of the Simulator contract: complex64 states stay on the device for a whole
// circuit (one createPipeline trace per circuit topology and batch size, gate matrices and angles
// passed as arguments), expectation values, probabilities and the adjoint gradient are reduced on
// the device, and batches are split so that every f32 index stays exact (chunks.ts). The same shape as the
// cpu engine: bind.ts (θ and x into a chunk's arguments), forward.ts (the gate steps and reductions), adjoint.ts
// (the reverse walk, one function per step kind); this file picks the gpu.js mode, keeps traced programs and
// runs the chunks.
import { checkBatchRequest, deliverExpval, deliverVjp } from '../request';
import { GPU, type KernelOutput } from 'gpu.js';
import type { BackendInfo, BatchRequest, ExpvalResult, Simulator, VjpResult } from '../backend';
import { observablesOf, type Circuit } from '../circuit';
import { MAX_FLOATS, planChunks } from './chunks';
import { collectGradients, vjpProgram } from './adjoint';
import { bindChunk, bindSeed, chunkArgs } from './bind';
import { expvalProgram, probsProgram, readExpvals, stateProgram, toF32, type Program } from './forward';
import { segmentLength } from './kernels';
import { initialStates, layoutCircuit, pauliTable, probsTable, topologyKey } from './program';

export type GpuMode = 'auto' | 'webgpu' | 'webasm' | 'cpu';

export interface GpuSimulatorOptions {
  mode?: GpuMode;
  /** Largest device array per call in floats (default and maximum 2^24, where f32 indices stay exact). */
  maxFloats?: number;
}

/** What the last device call actually executed (gpu.js's own report). */
export interface GpuRunReport {
  /** 'fused-encoder' (webgpu), 'fused-sync' / 'fused-threaded' (webasm) or 'generic'. */
  executorKind: string;
  /** Why gpu.js declined to fuse the pipeline, or null. */
  fallbackReason: string | null;
  /** Device calls the batch was split into, and the rows each was built for. */
  chunks: number;
  rowsPerChunk: number;
}

export interface GpuSimulator extends Simulator {
  readonly lastRun: GpuRunReport | null;
}

/** Largest number of traced programs kept alive; each holds device buffers. */
const PROGRAM_CACHE = 16;

/** Resolves which gpu.js mode can run here; never silently: the reason travels in BackendInfo. */
async function chooseMode(
  requested: GpuMode,
): Promise<{ mode: 'webgpu' | 'webasm' | 'cpu'; fallbackReason?: string; device?: string }> {
  if (requested === 'cpu') return { mode: 'cpu' };
  const wasmOrCpu = (why?: string): { mode: 'webasm' | 'cpu'; fallbackReason?: string } => {
    if (GPU.isWebAssemblySupported)
      return why === undefined ? { mode: 'webasm' } : { mode: 'webasm', fallbackReason: why };
    return { mode: 'cpu', fallbackReason: [why, 'WebAssembly is not available'].filter(Boolean).join('; ') };
  };
  if (requested === 'webasm') return wasmOrCpu();
  let why: string | undefined;
  let device: string | undefined;
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (!nav?.gpu && isNode) {
    const { installNodeWebGpu } = await import('./node-webgpu');
    const r = await installNodeWebGpu();
    if (!r.ok) why = r.reason;
    else device = [r.adapter, `Dawn ${r.backend}`].filter(Boolean).join(', ');
  }
  if (why === undefined) {
    if (!GPU.isWebGPUSupported) why = 'navigator.gpu is missing';
    else if (!(await GPU.isWebGPUAvailable())) why = 'navigator.gpu answered no adapter';
  }
  if (why === undefined) return device === undefined ? { mode: 'webgpu' } : { mode: 'webgpu', device };
  return wasmOrCpu(`WebGPU unavailable: ${why}`);
}

/** The shared request checks (core/quantum/request.ts), and a batch of at least one row for the kernels. */
function checkRequest(req: BatchRequest): void {
  checkBatchRequest(req);
  if (req.batch < 1)
    throw new Error(`batch: must be a positive integer on the gpu backend, got ${req.batch}`);
}

export async function createGpuSimulator(opts: GpuSimulatorOptions = {}): Promise<GpuSimulator> {
  const requested = opts.mode ?? 'auto';
  const maxFloats = opts.maxFloats ?? MAX_FLOATS;
  if (!Number.isInteger(maxFloats) || maxFloats < 1 || maxFloats > MAX_FLOATS)
    throw new Error(`maxFloats must be an integer in [1, 2^24], got ${maxFloats}`);
  const chosen = await chooseMode(requested);
  const gpu = new GPU({ mode: chosen.mode });
  const info: BackendInfo = { backend: 'gpu', mode: chosen.mode, precision: 'f32' };
  if (chosen.fallbackReason !== undefined) info.fallbackReason = chosen.fallbackReason;
  if (chosen.device !== undefined) info.device = chosen.device;
  const programs = new Map<string, Program>();
  let lastRun: GpuRunReport | null = null;
  let disposed = false;

  function program(key: string, build: () => Program): Program {
    const hit = programs.get(key);
    if (hit) {
      programs.delete(key);
      programs.set(key, hit);
      return hit;
    }
    const made = build();
    programs.set(key, made);
    if (programs.size > PROGRAM_CACHE) {
      const [oldKey, old] = programs.entries().next().value as [string, Program];
      programs.delete(oldKey);
      void old.pipeline.destroy().then(() => old.kernels.forEach((k) => k.destroy()));
    }
    return made;
  }

  function report(p: Program, chunks: number, rowsPerChunk: number): void {
    const pl = p.pipeline;
    lastRun = { executorKind: pl.executorKind, fallbackReason: pl.fallbackReason, chunks, rowsPerChunk };
    // gpu.js degrades a plan it cannot run to its cpu kernels; the report must say so
    if (pl.backend && pl.backend !== info.mode) {
      info.mode = pl.backend;
      info.fallbackReason = [info.fallbackReason, `gpu.js ran the pipeline on ${pl.backend}`]
        .filter(Boolean)
        .join('; ');
    }
  }

  /** Floats per batch row of the largest device array a program touches. */
  function footprint(circuit: Circuit, extra: number): number {
    const lay = layoutCircuit(circuit, 1, true);
    return Math.max(2 ** (circuit.qubits + 1), lay.matFloatsPerRow, extra);
  }

  async function forward(
    req: BatchRequest,
    withGrad: boolean,
    dExpvals?: ArrayLike<number>,
  ): Promise<VjpResult> {
    if (disposed) throw new Error('gpu simulator has been disposed');
    checkRequest(req);
    const { circuit, batch } = req;
    const terms = observablesOf(circuit);
    const T = terms.length;
    const n = circuit.qubits;
    const N = 2 ** n;
    const K = N / segmentLength(N);
    const base = layoutCircuit(circuit, 1, withGrad);
    const plan = planChunks(batch, footprint(circuit, Math.max(T * K, base.slots.length, T)), maxFloats);
    const rows = plan.rowsPerChunk;
    const layout = layoutCircuit(circuit, rows, withGrad);
    const nAmp = layout.amplitudes.length;
    const A = layout.slots.length;
    const gradWanted = withGrad && (A > 0 || nAmp > 0) && T > 0;
    const expvals = new Float64Array(batch * T);
    const norms = new Float64Array(batch * nAmp);
    const dParams = new Float64Array(circuit.numParams);
    const dInputs = new Float64Array(batch * circuit.numInputs);
    if (T === 0) {
      // nothing observed: no outputs and a zero gradient, but amplitude norms are still reported
      const lay1 = layoutCircuit(circuit, 1, false);
      const scratch = new Float32Array(2 * N);
      for (let b = 0; b < batch; b++) initialStates(lay1, circuit, req.inputs, b, 1, norms, scratch);
      return { expvals, norms, dParams, dInputs, info: { ...info } };
    }
    const key = `${gradWanted ? 'vjp' : 'fwd'}|${rows}|${topologyKey(circuit)}|${JSON.stringify(terms.map((t) => t.ops))}`;
    const prog = program(key, () => (gradWanted ? vjpProgram : expvalProgram)(gpu, layout, T));
    const table = pauliTable(n, terms);
    const args = chunkArgs(layout, T, gradWanted);
    for (const { start, rows: real } of plan.chunks) {
      bindChunk(layout, circuit, req.params, req.inputs, start, real, norms, args);
      if (!gradWanted) {
        readExpvals(toF32(await prog.pipeline(args.init, args.mats, table)), terms, start, real, expvals);
        continue;
      }
      bindSeed(terms, dExpvals!, start, real, args.weights!);
      const res = (await prog.pipeline(args.init, args.mats, table, args.weights!)) as Record<
        string,
        KernelOutput
      >;
      readExpvals(toF32(res.ev), terms, start, real, expvals);
      collectGradients(layout, circuit, req.inputs, res, start, real, dParams, dInputs);
    }
    report(prog, plan.chunks.length, rows);
    return { expvals, norms, dParams, dInputs, info: { ...info } };
  }

  async function runState(req: BatchRequest, wires: number[] | null): Promise<Float64Array> {
    if (disposed) throw new Error('gpu simulator has been disposed');
    checkRequest(req);
    const { circuit, batch } = req;
    const n = circuit.qubits;
    const N = 2 ** n;
    const P = wires ? 2 ** wires.length : 0;
    const plan = planChunks(batch, footprint(circuit, wires ? P : 0), maxFloats);
    const rows = plan.rowsPerChunk;
    const layout = layoutCircuit(circuit, rows, false);
    const key = `${wires ? `probs${JSON.stringify(wires)}` : 'state'}|${rows}|${topologyKey(circuit)}`;
    const prog = program(key, () => (wires ? probsProgram(gpu, layout, wires) : stateProgram(gpu, layout)));
    const width = wires ? P : 2 * N;
    const out = new Float64Array(batch * width);
    const args = chunkArgs(layout, 0, false);
    const norms = new Float64Array(batch * layout.amplitudes.length);
    const table = wires ? probsTable(n, wires) : null;
    for (const { start, rows: real } of plan.chunks) {
      bindChunk(layout, circuit, req.params, req.inputs, start, real, norms, args);
      const res = toF32(
        table ? await prog.pipeline(args.init, args.mats, table) : await prog.pipeline(args.init, args.mats),
      );
      for (let i = 0; i < real * width; i++) out[start * width + i] = res[i];
    }
    report(prog, plan.chunks.length, rows);
    return out;
  }

  function checkWires(circuit: Circuit, wires: number[]): void {
    wires.forEach((w, i) => {
      if (!Number.isInteger(w) || w < 0 || w >= circuit.qubits)
        throw new Error(`wires[${i}] must be an integer in [0, ${circuit.qubits - 1}], got ${w}`);
      if (wires.indexOf(w) !== i) throw new Error(`wires[${i}] repeats wire ${w}`);
    });
  }

  return {
    get info(): BackendInfo {
      return { ...info };
    },
    get lastRun(): GpuRunReport | null {
      return lastRun;
    },
    async expval(req: BatchRequest): Promise<ExpvalResult> {
      const r = await forward(req, false);
      return deliverExpval(req, { expvals: r.expvals, norms: r.norms, info: r.info });
    },
    async vjp(req: BatchRequest, dExpvals: ArrayLike<number>): Promise<VjpResult> {
      const T = observablesOf(req.circuit).length;
      if (dExpvals.length !== req.batch * T)
        throw new Error(
          `dExpvals has length ${dExpvals.length}, batch ${req.batch} × ${T} observables needs ${req.batch * T}`,
        );
      return deliverVjp(req, await forward(req, true, dExpvals));
    },
    async probs(req: BatchRequest, wires?: number[]): Promise<Float64Array> {
      const w = wires ?? [...Array(req.circuit.qubits).keys()];
      checkWires(req.circuit, w);
      if (w.length === 0) throw new Error('wires must name at least one wire');
      return runState(req, w);
    },
    async state(req: BatchRequest): Promise<Float64Array> {
      return runState(req, null);
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      programs.clear();
      void gpu.destroy();
    },
  };
}
