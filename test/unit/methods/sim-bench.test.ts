import { describe, expect, it } from 'vitest';
import { runSimBench } from '../../../core/methods/sim-bench/run';
import { SimBenchConfigSchema } from '../../../core/methods/sim-bench/schema';
import { oneQubitLayer, qdllmStudent, qffnCircuit } from '../../../core/methods/sim-bench/workloads';

describe('sim-bench workloads', () => {
  it('the QD-LLM student has 6n + (n − 1) parameters per layer (76 for n = 11)', () => {
    const w = qdllmStudent(11, 11, 2);
    expect(w.circuit.numParams).toBe(11 * 76);
    expect(w.inputs).toHaveLength(2 * 11);
  });
  it('the QFFN-sized circuit amplitude-encodes 2^n features', () => {
    const w = qffnCircuit(10, 8, 3);
    expect(w.circuit.numInputs).toBe(1024);
    expect(w.circuit.numParams).toBe(8 * 10 * 3);
  });
  it('the gate-throughput layer puts each gate on its own wire', () => {
    const w = oneQubitLayer(6, 6, 1);
    const wires = w.circuit.ops.map((o) => o.wires[0]);
    expect(new Set(wires).size).toBe(6);
    expect(() => oneQubitLayer(4, 5, 1)).toThrow(/must not exceed/);
  });
});

describe('runSimBench', () => {
  it('measures every workload with positive figures and ratios', async () => {
    const cfg = SimBenchConfigSchema.parse({
      largeQubits: [12],
      largeGates: 8,
      qmlBatch: 16,
      qdllmBatches: [4],
      qdllmLayers: 1,
      qffnBatch: 4,
      qffnDepth: 1,
      threads: 0,
      peer: false,
      repeats: 1,
    });
    const metrics: string[] = [];
    const points: [string, number][] = [];
    const res = await runSimBench(cfg, {
      metric: (k, x) => {
        metrics.push(k);
        points.push([k, x]);
      },
    });
    const measures = res.rows.map((r) => `${r.workload}|${r.measure}`);
    expect(measures).toContain('1q gate n=12 B=1|bandwidth');
    expect(measures).toContain('qdllm-n11-L1-B4|adjoint gradient');
    // adjoint ÷ forward on the f32 rows too, with no peer (issue 17's target)
    expect(measures).toContain('qdllm-n11-L1-B4|gradient / forward');
    expect(measures).toContain('qffn-n10-D1-B4|gradient / forward');
    expect(measures).toContain('qffn-n10-D1-B4|parameter-shift gradient');
    // f64 beside f32 in the same run
    const f64 = res.rows.filter((r) => r.backend.endsWith(' f64')).map((r) => `${r.workload}|${r.measure}`);
    expect(f64).toEqual([
      '1q gate n=12 B=1|bandwidth',
      '1q gate n=12 B=1|time per gate',
      'qdllm-n11-L1-B4|forward',
      'qdllm-n11-L1-B4|adjoint gradient',
      'qdllm-n11-L1-B4|gradient / forward',
    ]);
    const gate = (m: string) => m === 'bandwidth' || m === 'time per gate';
    for (const r of res.rows) {
      // a tiny state's gate time may sit below the timing noise: then it is reported as NaN, never as 0
      if (gate(r.measure) && Number.isNaN(r.value)) continue;
      expect(r.value).toBeGreaterThan(0);
      if (r.reference && !Number.isNaN(r.reference.ratio)) expect(r.reference.ratio).toBeGreaterThan(0);
    }
    expect(res.rows.filter((r) => !gate(r.measure)).every((r) => Number.isFinite(r.value))).toBe(true);
    expect(res.backends.some((b) => b.precision === 'f64' && b.mode === 'wasm-simd')).toBe(true);
    expect(res.peer.available).toBe(false);
    expect(res.backends[0].backend).toBe('cpu');
    // every bandwidth point at x = qubits: batch 1 at its widths, the batched one (n = 10) under its own key
    // (it was gate_bandwidth_fraction at x = 110); a point below timing noise is not written
    const bw = points.filter(([k]) => k.startsWith('gate_bandwidth_fraction'));
    expect(bw.length).toBeGreaterThan(0);
    for (const [k, x] of bw) expect(x, k).toBe(k === 'gate_bandwidth_fraction_batched' ? 10 : 12);
  });
});
