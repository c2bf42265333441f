import { describe, expect, it } from 'vitest';
import { createSimulator, describeBackend } from '../../../core/quantum/simulators';

describe('quantum/simulators', () => {
  it("backend 'cpu' is the CPU simulator in this thread: f32 by default, f64 when asked", async () => {
    const f64 = await createSimulator('cpu', 'f64');
    try {
      expect(f64.info).toEqual({ backend: 'cpu', mode: 'wasm-simd', precision: 'f64' });
      expect(describeBackend(f64.info)).toBe('cpu/wasm-simd f64');
    } finally {
      f64.dispose();
    }
    const f32 = await createSimulator('cpu');
    try {
      expect(f32.info).toMatchObject({ backend: 'cpu', precision: 'f32' });
    } finally {
      f32.dispose();
    }
  });

  it('describes threads and a fallback reason only when present', () => {
    expect(describeBackend({ backend: 'cpu', mode: 'js-threads', precision: 'f32', threads: 4 })).toBe(
      'cpu/js-threads f32 ×4 threads',
    );
    expect(
      describeBackend({
        backend: 'gpu',
        mode: 'cpu',
        precision: 'f32',
        fallbackReason: 'WebGPU unavailable',
      }),
    ).toBe('gpu/cpu f32 (WebGPU unavailable)');
  });
});
