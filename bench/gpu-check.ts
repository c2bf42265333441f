// The GPU check kit's program (docs/gpu-backend.md): on a machine with a GPU, checks the gpu backend against
// the cpu backend in f64 on random circuits (core/quantum/gpu/self-check.ts, the cases CI asserts), then times
// both backends on the benchmark suite's QD-LLM and QFFN workloads in the same run and prints gpu against cpu.
// Built into a self-contained kit by scripts/gpu-kit.mjs; runs from source too: `npx tsx bench/gpu-check.ts`.
//
//   gpu-check [--mode webgpu|webasm|cpu] [--quick] [--no-bench] [--allow-fallback] [--peer] [--threads N] [--out FILE]
//
// Exit status: 0 when every check passed (and WebGPU ran, unless --allow-fallback), 1 when a check failed or
// WebGPU was not available, 2 on a bad option.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import type { Simulator } from '../core/quantum/backend';
import { createCpuSimulator } from '../core/quantum/cpu/simulator';
import {
  SELF_CHECK_CASES,
  SELF_CHECK_LARGE_CASES,
  runGpuSelfCheck,
  type SelfCheckResult,
} from '../core/quantum/gpu/self-check';
import { createGpuSimulator } from '../core/quantum/gpu/simulator';
import { formatBenchTable, runSimBench, type BenchRow } from '../core/methods/sim-bench/run';
import { QUICK_SIM_BENCH, SimBenchConfigSchema } from '../core/methods/sim-bench/schema';

interface Options {
  quick: boolean;
  bench: boolean;
  allowFallback: boolean;
  peer: boolean;
  threads: number;
  out: string;
  /** The gpu.js mode to check: webgpu (the point of the kit), or webasm/cpu to check the fallbacks. */
  mode: 'webgpu' | 'webasm' | 'cpu';
}

export function parseGpuCheckArgs(argv: string[]): Options | string {
  const o: Options = {
    quick: false,
    bench: true,
    allowFallback: false,
    peer: false,
    threads: Math.max(1, cpus().length),
    out: 'gpu-check-results.json',
    mode: 'webgpu',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--no-bench') o.bench = false;
    else if (a === '--allow-fallback') o.allowFallback = true;
    else if (a === '--peer') o.peer = true;
    else if (a === '--mode') {
      const m = argv[++i];
      if (m !== 'webgpu' && m !== 'webasm' && m !== 'cpu')
        return `--mode: expected webgpu, webasm or cpu, got ${m}`;
      o.mode = m;
    } else if (a === '--threads') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0 || n > 64)
        return `--threads: expected an integer in [0, 64], got ${argv[i]}`;
      o.threads = n;
    } else if (a === '--out') {
      const f = argv[++i];
      if (!f) return '--out: needs a file name';
      o.out = f;
    } else return `unknown option ${a}`;
  }
  return o;
}

/** gpu time against cpu time for each workload and measure both backends ran. */
export function gpuAgainstCpu(
  rows: BenchRow[],
): { workload: string; measure: string; cpuMs: number; gpuMs: number; speedup: number }[] {
  const out: { workload: string; measure: string; cpuMs: number; gpuMs: number; speedup: number }[] = [];
  for (const g of rows) {
    if (!g.backend.startsWith('gpu/') || g.unit !== 'ms') continue;
    const c = rows.find(
      (r) =>
        r.backend.startsWith('cpu/') &&
        r.workload === g.workload &&
        r.measure === g.measure &&
        r.unit === 'ms',
    );
    if (c)
      out.push({
        workload: g.workload,
        measure: g.measure,
        cpuMs: c.value,
        gpuMs: g.value,
        speedup: c.value / g.value,
      });
  }
  return out;
}

function line(s: string): void {
  process.stdout.write(s + '\n');
}

export async function main(argv: string[]): Promise<number> {
  const o = parseGpuCheckArgs(argv);
  if (typeof o === 'string') {
    process.stderr.write(`gpu-check: ${o}\n`);
    return 2;
  }
  line(
    `gpu-check: node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
  );
  const gpu = await createGpuSimulator({ mode: o.mode });
  const info = gpu.info;
  line(
    `gpu backend: mode ${info.mode}` +
      (info.device ? `, device ${info.device}` : '') +
      (info.fallbackReason ? `, fell back: ${info.fallbackReason}` : ''),
  );
  const webgpu = info.mode === o.mode;
  if (!webgpu && !o.allowFallback) {
    line(`FAIL: ${o.mode} did not run (pass --allow-fallback to check the fallback mode instead)`);
    gpu.dispose();
    return 1;
  }
  const reference: Simulator = createCpuSimulator({ precision: 'f64' });
  const cases = o.quick ? SELF_CHECK_CASES : [...SELF_CHECK_CASES, ...SELF_CHECK_LARGE_CASES];
  line(`\nself-check: ${cases.length} random circuits, gpu (${info.mode}, f32) against cpu (f64)`);
  const t0 = performance.now();
  const checks: SelfCheckResult[] = await runGpuSelfCheck(gpu, reference, cases, (r) =>
    line(
      `  ${r.ok ? 'ok  ' : 'FAIL'} ${r.case.padEnd(30)} ${r.quantity.padEnd(8)} max rel. error ${r.maxError.toExponential(2)} (tolerance ${r.tolerance.toExponential(0)})${r.problem ? ` — ${r.problem}` : ''}`,
    ),
  );
  gpu.dispose();
  reference.dispose();
  const failed = checks.filter((r) => !r.ok).length;
  line(
    `self-check: ${checks.length - failed} passed, ${failed} failed in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  let bench: Awaited<ReturnType<typeof runSimBench>> | null = null;
  let speedups: ReturnType<typeof gpuAgainstCpu> = [];
  if (o.bench) {
    const cfg = SimBenchConfigSchema.parse({
      gpu: true,
      peer: o.peer,
      parameterShift: false,
      threads: o.threads,
      ...(o.quick ? QUICK_SIM_BENCH : {}),
    });
    line(`\nbenchmark: cpu (f32, ${o.threads} threads) and gpu in the same run`);
    bench = await runSimBench(cfg, { log: (m) => line(`  ${m}`) });
    line(formatBenchTable(bench.rows));
    speedups = gpuAgainstCpu(bench.rows);
    line('\ngpu against cpu (same run; > 1: the gpu backend is faster)');
    for (const s of speedups)
      line(
        `  ${s.workload.padEnd(22)} ${s.measure.padEnd(17)} cpu ${s.cpuMs.toPrecision(4).padStart(8)} ms  gpu ${s.gpuMs.toPrecision(4).padStart(8)} ms  ${s.speedup.toFixed(2)}×`,
      );
  }
  const record = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    gpu: info,
    checks,
    bench,
    speedups,
  };
  try {
    writeFileSync(o.out, JSON.stringify(record, null, 1));
    line(`\nwritten to ${o.out}`);
  } catch (e) {
    process.stderr.write(`gpu-check: could not write ${o.out}: ${(e as Error).message}\n`);
  }
  return failed === 0 && (webgpu || o.allowFallback) ? 0 : 1;
}

// run as a program (tsx, or the kit's bundle), not when imported by a test or loaded by a worker thread
const entry = process.argv[1] ?? '';
if (isMainThread && /gpu-check\.(ts|mjs|js)$/.test(entry)) {
  main(process.argv.slice(2)).then(
    (code) => process.stdout.write('', () => process.exit(code)),
    (e: unknown) => {
      process.stderr.write(`gpu-check: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(3);
    },
  );
}
