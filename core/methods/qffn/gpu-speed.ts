// Table 1's "speed (GPU sim)" column. The model runs synchronously, so its circuits run on the cpu simulator; the
// gpu backend (gpu.js, asynchronous) cannot stand inside the forward. This measures what it would change: one
// training step and one inference forward of the QFFN model are run with a recording simulator (every circuit
// request and the time spent in it), the same requests are replayed on the gpu backend, and the step time with
// the cpu circuit time replaced by the gpu one gives the gpu figure. The mode gpu.js ran in (WebGPU, a headless
// GL, or its cpu fallback) is reported with it: on a machine without a GPU the "gpu" column is gpu.js on the cpu.
import type {
  BackendInfo,
  BatchRequest,
  ExpvalResult,
  SyncSimulator,
  VjpResult,
} from '../../quantum/backend';
import { createSimulator } from '../../quantum/simulators';
import { zeroGrad } from '../../nn/tensor';
import { Rng } from '../../util/rng';
import type { JobContext } from '../job';
import type { Base } from './base';
import { cloneModel, makeQffn } from './models';
import { sampleWindows } from '../../nn/lm-windows';
import type { QffnConfig } from './schema';

interface Recorded {
  req: BatchRequest;
  dExpvals: Float64Array | null;
}

/** A SyncSimulator that forwards to `inner`, keeps a copy of each request and adds up the time spent in it. */
class RecordingSim implements SyncSimulator {
  calls: Recorded[] = [];
  ms = 0;
  constructor(private readonly inner: SyncSimulator) {}
  get info(): BackendInfo {
    return this.inner.info;
  }
  private keep(req: BatchRequest, d: ArrayLike<number> | null): void {
    this.calls.push({
      req: { ...req, params: Float64Array.from(req.params), inputs: Float64Array.from(req.inputs) },
      dExpvals: d ? Float64Array.from(d) : null,
    });
  }
  expvalSync(req: BatchRequest): ExpvalResult {
    const t0 = performance.now();
    const r = this.inner.expvalSync(req);
    this.ms += performance.now() - t0;
    this.keep(req, null);
    return r;
  }
  vjpSync(req: BatchRequest, d: ArrayLike<number>): VjpResult {
    const t0 = performance.now();
    const r = this.inner.vjpSync(req, d);
    this.ms += performance.now() - t0;
    this.keep(req, d);
    return r;
  }
}

export interface GpuSpeed {
  info: BackendInfo;
  /** Step time with gpu circuits ÷ step time with cpu circuits (< 1: faster). */
  trainFactor: number;
  inferFactor: number;
  cpuCircuitShare: { train: number; infer: number };
}

export async function gpuSpeedup(
  cfg: QffnConfig,
  base: Base,
  cpu: SyncSimulator,
  ctx: JobContext,
): Promise<GpuSpeed> {
  const rec = new RecordingSim(cpu);
  const model = cloneModel(base.model, cfg.precision, base.build);
  makeQffn(model, cfg, rec, 0);
  const B = cfg.batchSize;
  const T = cfg.seqLen;
  const tokens = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  sampleWindows(base.streams.train, B, T, new Rng(17), tokens, targets);
  const gpu = await createSimulator('gpu', 'f32');
  try {
    const measure = async (train: boolean) => {
      // a warm-up pass, then the timed one
      for (let pass = 0; pass < 2; pass++) {
        rec.calls = [];
        rec.ms = 0;
        const t0 = performance.now();
        model.training = train;
        zeroGrad(model.parameters());
        model.lmForward(tokens, B, T, targets);
        if (train) model.lmBackward();
        const stepMs = performance.now() - t0;
        if (pass === 0) continue;
        let gpuMs = 0;
        for (let rep = 0; rep < 2; rep++) {
          if (ctx.signal.aborted) throw new Error('cancelled');
          const g0 = performance.now();
          for (const c of rec.calls) {
            if (c.dExpvals) await gpu.vjp(c.req, c.dExpvals);
            else await gpu.expval(c.req);
          }
          gpuMs = performance.now() - g0; // the second (warm) replay counts
        }
        return { factor: (stepMs - rec.ms + gpuMs) / stepMs, share: rec.ms / stepMs };
      }
      throw new Error('unreachable');
    };
    const tr = await measure(true);
    const inf = await measure(false);
    model.training = false;
    return {
      info: gpu.info,
      trainFactor: tr.factor,
      inferFactor: inf.factor,
      cpuCircuitShare: { train: tr.share, infer: inf.share },
    };
  } finally {
    gpu.dispose();
  }
}
