// npx tsx bench/shift-batch.ts — parameter shift as one batched request (the cpu backend's expvalShifted) against
// one request per (angle, shift term), on the QD-LLM student circuit, in one process: interleaved rounds, medians
// of wall and CPU time, and the two results compared. Peak resident memory of each way is measured in a child
// process of its own (maxRSS is a per-process high-water mark), together with a plain forward for the baseline.
// QUBITS (default 11), LAYERS (2), BATCH (8), PRECISION (f32), ROUNDS (3).
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { createCpuSimulator } from '../core/quantum/cpu/simulator';
import { evaluatorOf, parameterShiftVjp, type Evaluate } from '../core/quantum/gradients';
import { qdllmStudent } from '../core/methods/sim-bench/workloads';
import type { BatchRequest, Precision } from '../core/quantum/backend';

const qubits = Number(process.env.QUBITS ?? 11);
const layers = Number(process.env.LAYERS ?? 2);
const batch = Number(process.env.BATCH ?? 8);
const precision = (process.env.PRECISION ?? 'f32') as Precision;
const rounds = Number(process.env.ROUNDS ?? 3);
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;

const w = qdllmStudent(qubits, layers, batch);
const req: BatchRequest = { circuit: w.circuit, params: w.params, inputs: w.inputs, batch };
const g = Float64Array.from({ length: batch * qubits }, (_, i) => Math.cos(i));
const sim = createCpuSimulator({ precision });
const batched = evaluatorOf(sim);
const perRequest: Evaluate = async (r) => (await sim.expval(r)).expvals;
const ways: Record<string, Evaluate> = { batched, 'per-request': perRequest };

if (only) {
  // one way alone, for its peak memory
  if (only === 'forward') await sim.expval(req);
  else await parameterShiftVjp(ways[only], req, g);
  console.log(JSON.stringify({ maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}

const rowsOf = (): number => {
  let rows = 0;
  for (const op of w.circuit.ops)
    if (op.type === 'gate') rows += op.angles.filter((a) => a.kind !== 'const').length;
  return 2 * rows * batch;
};
console.log(
  `QD-LLM n=${qubits} L=${layers} B=${batch} ${precision}: ${rowsOf()} shifted rows; load ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
const times: Record<string, { wall: number[]; cpu: number[] }> = {};
const results: Record<string, Float64Array> = {};
for (let r = 0; r < rounds; r++)
  for (const [name, ev] of r % 2 ? Object.entries(ways).reverse() : Object.entries(ways)) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await parameterShiftVjp(ev, req, g);
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    (times[name] ??= { wall: [], cpu: [] }).wall.push(wall);
    times[name].cpu.push((c.user + c.system) / 1000);
    results[name] = out.dParams;
  }
const median = (x: number[]): number => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];
let maxDiff = 0;
for (let i = 0; i < results.batched.length; i++)
  maxDiff = Math.max(maxDiff, Math.abs(results.batched[i] - results['per-request'][i]));
for (const [name, t] of Object.entries(times))
  console.log(
    `${name.padEnd(12)} wall ${median(t.wall).toFixed(0)} ms  cpu ${median(t.cpu).toFixed(0)} ms  (rounds: ${t.wall.map((x) => x.toFixed(0)).join(' ')})`,
  );
console.log(
  `per-request ÷ batched: wall ${(median(times['per-request'].wall) / median(times.batched.wall)).toFixed(2)}×, cpu ${(median(times['per-request'].cpu) / median(times.batched.cpu)).toFixed(2)}×; max |Δ ∂θ| ${maxDiff.toExponential(2)}`,
);
sim.dispose();
for (const way of ['forward', 'batched', 'per-request']) {
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1], '--only', way], {
    env: process.env,
    encoding: 'utf8',
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  console.log(
    `peak RSS, ${way} alone: ${line.startsWith('{') ? (JSON.parse(line) as { maxRssMiB: number }).maxRssMiB.toFixed(0) + ' MiB' : `failed: ${r.stderr.slice(-300)}`}`,
  );
}
