// The GPU check kit's self-check (core/quantum/gpu/self-check.ts): it passes for the gpu backend against the
// cpu backend in f64, fails when one output is off by more than its tolerance, and the Dawn backend choice.
import { describe, expect, it } from 'vitest';
import type { Simulator, VjpResult } from '../../../core/quantum/backend';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import { dawnBackends } from '../../../core/quantum/gpu/node-webgpu';
import {
  SELF_CHECK_CASES,
  SELF_CHECK_TOLERANCE,
  runGpuSelfCheck,
  selfCheckRequest,
} from '../../../core/quantum/gpu/self-check';
import { createGpuSimulator } from '../../../core/quantum/gpu/simulator';
import { GATE_NAMES } from '../../../core/quantum/circuit';

describe('gpu self-check', () => {
  it('uses every gate kind and amplitude encoding in its cases', () => {
    const { req } = selfCheckRequest(SELF_CHECK_CASES[2]);
    const used = new Set(req.circuit.ops.map((op) => (op.type === 'gate' ? op.gate : op.type)));
    for (const g of GATE_NAMES) expect(used.has(g), g).toBe(true);
    expect(used.has('amplitude')).toBe(true);
  });

  it('passes for the gpu backend (webasm) against the cpu backend in f64', async () => {
    const gpu = await createGpuSimulator({ mode: 'webasm' });
    const cpu = createCpuSimulator({ precision: 'f64' });
    try {
      const results = await runGpuSelfCheck(gpu, cpu);
      expect(results).toHaveLength(SELF_CHECK_CASES.length * 6);
      for (const r of results) expect(r.maxError, `${r.case} ${r.quantity}`).toBeLessThanOrEqual(r.tolerance);
      // a float32 backend is not bit-equal to f64: the comparison measured something
      expect(
        Math.max(...results.filter((r) => r.quantity === 'dParams').map((r) => r.maxError)),
      ).toBeGreaterThan(0);
    } finally {
      gpu.dispose();
      cpu.dispose();
    }
  });

  it('fails when an output is off by more than its tolerance, and on NaN', async () => {
    const cpu = createCpuSimulator({ precision: 'f64' });
    const bad = (shift: number): Simulator => ({
      ...cpu,
      info: cpu.info,
      expval: cpu.expval.bind(cpu),
      probs: cpu.probs.bind(cpu),
      state: cpu.state.bind(cpu),
      dispose: () => undefined,
      async vjp(req, g): Promise<VjpResult> {
        const r = await cpu.vjp(req, g);
        const dParams = Float64Array.from(r.dParams);
        dParams[3] += shift;
        return { ...r, dParams };
      },
    });
    try {
      const off = await runGpuSelfCheck(
        bad(10 * SELF_CHECK_TOLERANCE.dParams),
        cpu,
        SELF_CHECK_CASES.slice(0, 1),
      );
      expect(off.filter((r) => !r.ok).map((r) => r.quantity)).toEqual(['dParams']);
      const nan = await runGpuSelfCheck(bad(NaN), cpu, SELF_CHECK_CASES.slice(0, 1));
      expect(nan.find((r) => r.quantity === 'dParams')).toMatchObject({ ok: false, maxError: Infinity });
      const same = await runGpuSelfCheck(bad(0), cpu, SELF_CHECK_CASES.slice(0, 1));
      expect(same.every((r) => r.ok && r.maxError === 0)).toBe(true);
    } finally {
      cpu.dispose();
    }
  });
});

describe('Dawn backend choice', () => {
  it('tries Vulkan first only where a Vulkan loader is installed', () => {
    expect(dawnBackends({}, () => false)).toEqual(['opengl']);
    expect(dawnBackends({}, (p) => p === '/usr/lib/x86_64-linux-gnu/libvulkan.so.1')).toEqual([
      'vulkan',
      'opengl',
    ]);
    expect(
      dawnBackends({ LD_LIBRARY_PATH: '/opt/nv/lib' }, (p) => p === '/opt/nv/lib/libvulkan.so.1'),
    ).toEqual(['vulkan', 'opengl']);
    expect(dawnBackends({ QLAB_DAWN_BACKEND: 'OpenGL' }, () => true)).toEqual(['opengl']);
    expect(dawnBackends({ QLAB_DAWN_BACKEND: 'vulkan' }, () => false)).toEqual(['vulkan']);
    expect(() => dawnBackends({ QLAB_DAWN_BACKEND: 'metal' }, () => true)).toThrow(
      /QLAB_DAWN_BACKEND.*metal/,
    );
  });
});
