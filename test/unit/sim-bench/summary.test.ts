// sim-bench's run summary must pass the protocol's result schema (finite numbers or text): a row whose reference
// was below timing noise (the f32 time per gate beside an f64 row at a small width) has no ratio to report.
import { describe, expect, it } from 'vitest';
import { JobResultSchema } from '../../../core/lab/protocol';
import { benchSummary } from '../../../core/methods/sim-bench';
import { formatBenchTable, referenceText } from '../../../core/methods/sim-bench/run';

describe('sim-bench summary', () => {
  it('a reference below timing noise gives words, not NaN, so the result is valid', () => {
    const summary = benchSummary({
      rows: [
        {
          workload: '1q gate n=8 B=1',
          backend: 'cpu/wasm-simd f64',
          measure: 'time per gate',
          value: 1e-5,
          unit: 'ms',
          reference: { label: 'f32 ms', value: NaN, ratio: NaN, target: '(f64 ÷ f32)' },
        },
        {
          workload: '1q gate n=8 B=1',
          backend: 'cpu/wasm-simd',
          measure: 'bandwidth',
          value: 4,
          unit: 'GB/s',
          reference: { label: 'memcpy GB/s', value: 8, ratio: 0.5, target: '≥ 0.5' },
        },
      ],
      backends: [],
      peer: { available: false, reason: 'not asked' },
      machine: { cpus: 2, memcpyGBs: 8 },
    } as unknown as Parameters<typeof benchSummary>[0]);
    expect(summary['1q_gate_n=8_B=1_cpu/wasm-simd_f64_time_per_gate_ratio']).toBe(
      'reference below timing noise',
    );
    expect(summary['1q_gate_n=8_B=1_cpu/wasm-simd_bandwidth_ratio']).toBe(0.5);
    expect(JobResultSchema.safeParse({ summary, report: [], backend: {} }).success).toBe(true);
  });

  it('prints such a reference in words, never as NaN, in the report cell and the CLI table', () => {
    const nan = { label: 'f32 ms', value: NaN, ratio: NaN, target: '(f64 ÷ f32)' };
    expect(referenceText(nan)).toBe('below timing noise (f32 ms)');
    expect(referenceText({ label: 'memcpy GB/s', value: 8, ratio: 0.5, target: '≥ 0.5' })).toBe(
      '8.000 memcpy GB/s',
    );
    const table = formatBenchTable([
      {
        workload: '1q gate n=8 B=1',
        backend: 'cpu/wasm-simd f64',
        measure: 'time per gate',
        value: 1e-5,
        unit: 'ms',
        reference: nan,
      },
    ] as Parameters<typeof formatBenchTable>[0]);
    expect(table).toContain('below timing noise (f32 ms)');
    expect(table).not.toContain('NaN');
  });
});
