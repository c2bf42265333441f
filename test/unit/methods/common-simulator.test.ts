import { describe, expect, it } from 'vitest';
import { createSimulator, describeBackend } from '../../../core/methods/common/simulator';

describe('methods/common/simulator', () => {
  it("backend 'cpu' is the f64 CPU simulator in this thread", async () => {
    const sim = await createSimulator('cpu');
    try {
      expect(sim.info).toEqual({ backend: 'cpu', mode: 'js', precision: 'f64' });
      expect(describeBackend(sim.info)).toBe('cpu/js f64');
    } finally {
      sim.dispose();
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
