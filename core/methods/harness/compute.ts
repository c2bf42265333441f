// Process-wide compute settings for a job: the classical core's matmul runs on worker threads over
// shared WebAssembly memory; a job process uses every core the machine offers (capped), since the
// lab runs one job at a time by default. QLAB_THREADS overrides the count.
import { availableParallelism } from 'node:os';
import { setMatmulThreads } from '../../nn/matmul-threads';

let configured = 0;

/** Sets the matmul thread pool once per process; returns the thread count in use. */
export function configureCompute(): number {
  const env = Number(process.env.QLAB_THREADS);
  const threads = Number.isInteger(env) && env >= 1 ? env : Math.min(availableParallelism(), 8);
  if (configured !== threads) {
    setMatmulThreads(threads);
    configured = threads;
  }
  return threads;
}
