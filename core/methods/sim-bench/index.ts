// The `sim-bench` job kind: the simulator benchmark suite as a run in the lab, streaming each figure
// as a metric and storing the full result as a JSON artifact.
import { describeBackend } from '../../quantum/simulators';
import { defineJobKind } from '../job';
import { simBenchMeta } from './meta';
import { formatBenchTable, referenceText, runSimBench, SIM_BENCH_LEGEND, type SimBenchResult } from './run';

export function benchSummary(res: SimBenchResult): Record<string, number | string> {
  const summary: Record<string, number | string> = { memcpy_GBs: Number(res.machine.memcpyGBs.toFixed(3)) };
  for (const r of res.rows) {
    const key = `${r.workload} ${r.backend} ${r.measure}`.replace(/\s+/g, '_');
    if (!Number.isFinite(r.value)) {
      summary[key] = 'below timing noise';
      continue;
    }
    summary[key] = Number(r.value.toPrecision(5));
    // a reference below timing noise (the f32 time beside an f64 row at a small width) has no ratio
    if (r.reference && Number.isFinite(r.reference.ratio))
      summary[`${key}_ratio`] = Number(r.reference.ratio.toPrecision(4));
    else if (r.reference) summary[`${key}_ratio`] = 'reference below timing noise';
  }
  summary.peer = res.peer.available
    ? `torch ${res.peer.torch} (${res.peer.threads} threads)`
    : `unavailable: ${res.peer.reason}`;
  return summary;
}

export const simBenchKind = defineJobKind({
  meta: simBenchMeta,
  async run(config, ctx) {
    const res = await runSimBench(config, {
      signal: ctx.signal,
      progress: (f, m) => ctx.progress(f, m),
      metric: (key, step, value) => ctx.metrics([{ key, step, value }]),
      log: (m) => ctx.log('info', m),
    });
    await ctx.artifact('sim-bench.json', 'json', JSON.stringify(res, null, 1));
    ctx.log('info', '\n' + formatBenchTable(res.rows));
    return {
      summary: benchSummary(res),
      backend: { backends: res.backends, peer: res.peer.available ? `torch ${res.peer.torch}` : null },
      report: [
        {
          type: 'table',
          title: 'Simulator benchmark',
          columns: ['workload', 'backend', 'measure', 'value', 'unit', 'reference', 'ratio', 'target'],
          rows: res.rows.map((r) => [
            r.workload,
            r.backend,
            r.measure,
            Number.isFinite(r.value) ? Number(r.value.toPrecision(5)) : null,
            r.unit,
            r.reference ? referenceText(r.reference) : null,
            r.reference && Number.isFinite(r.reference.ratio) ? Number(r.reference.ratio.toFixed(3)) : null,
            r.reference?.target ?? null,
          ]),
        },
        {
          type: 'text',
          title: 'Backends and peer',
          text:
            res.backends.map(describeBackend).join('; ') +
            `. PyTorch peer: ${res.peer.available ? `torch ${res.peer.torch}, ${res.peer.threads} threads` : `unavailable (${res.peer.reason})`}. memcpy ${res.machine.memcpyGBs.toFixed(2)} GB/s on ${res.machine.cpus} CPUs. ${SIM_BENCH_LEGEND}`,
        },
      ],
    };
  },
});
