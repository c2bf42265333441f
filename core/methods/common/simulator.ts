// The simulator a method's `backend: 'cpu' | 'gpu'` config field asks for, and the one-line description
// of what actually ran that logs and reports show.
import type { BackendInfo, Simulator } from '../../quantum/backend';
import { createCpuSimulator } from '../../quantum/cpu/simulator';

/** cpu: the f64 reference kernels in this thread; gpu: gpu.js in its best available mode (loaded only when asked for). */
export async function createSimulator(backend: 'cpu' | 'gpu'): Promise<Simulator> {
  if (backend === 'gpu') {
    const { createGpuSimulator } = await import('../../quantum/gpu/simulator');
    return createGpuSimulator({ mode: 'auto' });
  }
  return createCpuSimulator({ precision: 'f64' });
}

/** e.g. `cpu/js-threads f32 ×4 threads` or `gpu/cpu f32 (WebGPU unavailable: …)`. */
export function describeBackend(info: BackendInfo): string {
  const threads = info.threads ? ` ×${info.threads} threads` : '';
  const fallback = info.fallbackReason ? ` (${info.fallbackReason})` : '';
  return `${info.backend}/${info.mode} ${info.precision}${threads}${fallback}`;
}
