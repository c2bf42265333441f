// npx tsx bench/quantum-threads.ts — a QuantumModule's forward + backward (the synchronous path a model runs) on the
// cpu simulator with threads 1 and 2, f32 (WebAssembly SIMD) and f64 (JS). The machine is shared and noisy, so the
// settings are timed in interleaved rounds and each one's median is reported with the ratio of medians.
// QUBITS (default 10), DEPTH (4), BATCH (256), ROUNDS (7), REPS per round (3).
import { loadavg } from 'node:os';
import { QuantumModule } from '../core/nn/quantum-module';
import { angleEncodedPqc } from '../core/quantum/qffn-circuits';
import { createCpuSimulator, type CpuSimulator } from '../core/quantum/cpu/simulator';
import { Rng } from '../core/util/rng';

const [qubits, depth, batch] = [
  Number(process.env.QUBITS ?? 10),
  Number(process.env.DEPTH ?? 4),
  Number(process.env.BATCH ?? 256),
];
const [rounds, reps] = [Number(process.env.ROUNDS ?? 7), Number(process.env.REPS ?? 3)];
const circuit = angleEncodedPqc(qubits, depth);
const rng = new Rng(1);
const x = new Float64Array(batch * qubits);
const dout = new Float64Array(batch * qubits);
rng.fillUniform(x, -1, 1);
rng.fillUniform(dout, -1, 1);

interface Setting {
  label: string;
  sim: CpuSimulator;
  module: QuantumModule;
  times: number[];
  mode: string;
}

const settings: Setting[] = [];
for (const precision of ['f32', 'f64'] as const)
  for (const threads of [1, 2]) {
    const sim = createCpuSimulator({ precision, threads });
    await sim.prepareSync();
    const module = new QuantumModule('q', circuit, sim, { seed: 2 });
    const mode = sim.vjpSync({ circuit, params: module.theta.data, inputs: x, batch }, dout).info.mode;
    settings.push({ label: `${precision} threads ${threads}`, sim, module, times: [], mode });
  }

const out = new Float64Array(batch * qubits);
const dx = new Float64Array(batch * qubits);
const step = (m: QuantumModule): void => {
  m.forward(out, x, batch);
  m.backward(dx, dout, x, batch);
};
for (const s of settings) step(s.module); // warm-up: compiled programs, state memory, JIT
const load0 = loadavg()[0];
for (let r = 0; r < rounds; r++)
  for (const s of settings) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) step(s.module);
    s.times.push((performance.now() - t0) / reps);
  }
const median = (a: number[]): number => {
  const b = [...a].sort((p, q) => p - q);
  return b.length % 2 ? b[b.length >> 1] : (b[b.length / 2 - 1] + b[b.length / 2]) / 2;
};

console.log(
  `QuantumModule forward+backward, ${qubits} qubits, depth ${depth} (${circuit.numParams} θ), batch ${batch}`,
);
console.log(
  `${rounds} interleaved rounds × ${reps} steps; load average ${load0.toFixed(2)} → ${loadavg()[0].toFixed(2)}`,
);
for (const s of settings) {
  const ms = s.times.map((t) => t.toPrecision(2)).join(' ');
  console.log(
    `${s.label.padEnd(16)} ${s.mode.padEnd(18)} median ${median(s.times).toPrecision(3)} ms  (rounds: ${ms})`,
  );
}
for (const p of ['f32', 'f64']) {
  const [a, b] = settings.filter((s) => s.label.startsWith(p));
  const perRound = a.times.map((t, i) => (t / b.times[i]).toFixed(2)).join(' ');
  console.log(
    `${p}: threads 1 / threads 2 = ${(median(a.times) / median(b.times)).toFixed(2)}× (per round: ${perRound})`,
  );
}
for (const s of settings) s.sim.dispose();
