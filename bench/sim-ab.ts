// A/B of the cpu simulator's kernels: an older tree of core/ (exported with `git archive <rev> core | tar -x -C DIR`)
// against this one, in one process, interleaved, CPU time (process.cpuUsage: the calling thread only runs), minimum
// of ROUNDS rounds. Prints old/new per workload (> 1: the new code is faster). Used for docs/simulator-performance.md.
//   npx tsx bench/sim-ab.ts /tmp/simd-old [rounds]
// For AB=threads/sync the old tree needs the checkout's package.json and a node_modules link beside its core/, or its
// workers cannot start (the run then stops, naming why).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CircuitBuilder, type Circuit } from '../core/quantum/circuit';
import { oneQubitLayer, qdllmStudent, qffnCircuit, type Workload } from '../core/methods/sim-bench/workloads';
import * as NEW_ENGINE from '../core/quantum/cpu/engine';
import * as NEW_PROGRAM from '../core/quantum/cpu/program';
import * as NEW_ROWS from '../core/quantum/cpu/rows';
import * as NEW_SIM from '../core/quantum/cpu/simulator';
import type { Precision } from '../core/quantum/backend';
import { resultBuffers } from '../core/quantum/request';
import { enableRelaxedSimdAtEntry } from '../core/nn/wasm/relaxed-simd';

// relaxed SIMD on before anything compiles, as the qlab entry does (the new tree's adjoint kernel then runs FMA)
await enableRelaxedSimdAtEntry();
const oldDir = resolve(process.argv[2] ?? '/tmp/simd-old');
const rounds = Number(process.argv[3] ?? 9);
const imp = (rel: string) => import(pathToFileURL(resolve(oldDir, rel)).href);
const OLD_ENGINE = (await imp('core/quantum/cpu/engine.ts')) as typeof NEW_ENGINE;
const OLD_PROGRAM = (await imp('core/quantum/cpu/program.ts')) as typeof NEW_PROGRAM;
const OLD_SIM = (await imp('core/quantum/cpu/simulator.ts')) as typeof NEW_SIM;

type Tree = { engine: typeof NEW_ENGINE; program: typeof NEW_PROGRAM };
const OLD: Tree = { engine: OLD_ENGINE, program: OLD_PROGRAM };
const NEW: Tree = { engine: NEW_ENGINE, program: NEW_PROGRAM };

interface Job {
  circuit: Circuit;
  batch: number;
  params: ArrayLike<number>;
  inputs: ArrayLike<number>;
}

/** A closure running `job` forward (and adjoint when `grad`) row by row on one Runner, as run.ts does. */
function prepare(tree: Tree, job: Job, precision: Precision, grad: boolean, minWasmDim?: number): () => void {
  const prog = tree.program.compile(job.circuit);
  const run = new tree.engine.Runner(prog, precision, true);
  // small states: the new tree's rows from a lower threshold (the Runner's own choice is WASM_MIN_DIM)
  if (minWasmDim !== undefined)
    run.rows = NEW_ROWS.makeRows({ prog, dt: run.dt, precision }, true, minWasmDim);
  run.bind(job.params, job.inputs);
  if (grad) run.enableTape();
  const nObs = prog.observables.length;
  const ev = new Float64Array(job.batch * nObs);
  const g = new Float64Array(job.batch * nObs).fill(1);
  const dP = new Float64Array(prog.numParams);
  const dX = new Float64Array(job.batch * prog.numInputs);
  return () => {
    for (let b = 0; b < job.batch; b++) {
      run.forwardRow(b, null, 0);
      run.expvalsRow(ev, b * nObs);
      if (grad) run.backwardRow(b, g, b * nObs, dP, dX);
    }
  };
}

function cpuSeconds(f: () => void, reps: number): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < reps; i++) f();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / 1e6 / reps;
}

/** min over rounds of old and new, interleaved (old, new, new, old, …). */
function ab(name: string, a: () => void, b: () => void, reps: number): void {
  a();
  b();
  let ta = Infinity;
  let tb = Infinity;
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      ta = Math.min(ta, cpuSeconds(a, reps));
      tb = Math.min(tb, cpuSeconds(b, reps));
    } else {
      tb = Math.min(tb, cpuSeconds(b, reps));
      ta = Math.min(ta, cpuSeconds(a, reps));
    }
  }
  console.log(
    `${name.padEnd(44)} old ${(ta * 1e3).toPrecision(4).padStart(8)} ms  new ${(tb * 1e3).toPrecision(4).padStart(8)} ms  old/new ${(ta / tb).toFixed(2)}`,
  );
}

/** `gates` lone controlled gates at n qubits: CRX, CRY, CPhase, CRX in turn (no two diagonal ones in a row). */
function controlledLayer(n: number, gates: number): Job {
  const cb = new CircuitBuilder(n);
  const kinds = ['CRX', 'CRY', 'CPhase', 'CRX'] as const;
  for (let g = 0; g < gates; g++) {
    const c = (3 * g + 1) % n;
    const t = (5 * g + 2) % n === c ? (c + 1) % n : (5 * g + 2) % n;
    cb.gate(kinds[g % kinds.length], [c, t], [cb.p()]);
  }
  cb.observe([{ coeff: 1, ops: [{ wire: 0, pauli: 'Z' }] }]);
  const circuit = cb.build();
  return {
    circuit,
    batch: 1,
    params: Float64Array.from({ length: circuit.numParams }, (_, i) => 0.3 + 0.1 * i),
    inputs: [],
  };
}

/** `gates` lone two-qubit gates at n qubits: RXX, RYY, RZZ, SWAP in turn, an RX after each so none fuse. */
function pairLayer(n: number, gates: number): Job {
  const cb = new CircuitBuilder(n);
  const kinds = ['RXX', 'RYY', 'RZZ', 'SWAP'] as const;
  for (let g = 0; g < gates; g++) {
    const a = (3 * g) % n;
    const b = (a + 1 + ((5 * g) % (n - 1))) % n;
    const k = kinds[g % kinds.length];
    cb.gate(k, [a, b], k === 'SWAP' ? [] : [cb.p()]);
    cb.gate('RX', [a], [cb.p()]);
  }
  cb.observe([{ coeff: 1, ops: [{ wire: 0, pauli: 'Z' }] }]);
  const circuit = cb.build();
  return {
    circuit,
    batch: 1,
    params: Float64Array.from({ length: circuit.numParams }, (_, i) => 0.3 + 0.1 * i),
    inputs: [],
  };
}

const which = (process.env.AB ?? 'f64gate,qdllm,ctrl,pair,small').split(',');
const run = (name: string, job: Job, precision: Precision, grad: boolean, reps: number, small?: number) =>
  ab(name, prepare(OLD, job, precision, grad), prepare(NEW, job, precision, grad, small), reps);

console.log(`old tree ${oldDir}, ${rounds} rounds, CPU time, min per workload`);
if (which.includes('f64gate')) {
  for (const n of [20, 22]) {
    run(`1q gates f64 n=${n} (forward of ${n} gates)`, oneQubitLayer(n, n, 1), 'f64', false, 1);
    run(`1q gates f32 n=${n} (forward of ${n} gates)`, oneQubitLayer(n, n, 1), 'f32', false, 1);
  }
  // bench:sim's bandwidth row (target ≥ 0.7× memcpy) is f32 at n = 24
  run(`1q gates f32 n=24 (forward of 24 gates)`, oneQubitLayer(24, 24, 1), 'f32', false, 1);
}
if (which.includes('qdllm')) {
  const w = qdllmStudent(11, 11, 8);
  for (const precision of ['f64', 'f32'] as const) {
    run(`QD-LLM n=11 L=11 B=8 ${precision} forward`, w, precision, false, 2);
    run(`QD-LLM n=11 L=11 B=8 ${precision} forward+adjoint`, w, precision, true, 1);
  }
}
if (which.includes('qffn')) {
  // QFFN n = 10, D = 8 (bench:sim's B = 1024 runs these rows over threads): 64 rows in this thread
  const w = qffnCircuit(10, 8, 64);
  for (const precision of ['f32', 'f64'] as const) {
    run(`QFFN n=10 D=8 B=64 ${precision} forward`, w, precision, false, 2);
    run(`QFFN n=10 D=8 B=64 ${precision} forward+adjoint`, w, precision, true, 1);
  }
}
if (which.includes('qdllm256')) {
  const w = qdllmStudent(11, 11, 32);
  run(`QD-LLM n=11 L=11 B=32 f64 forward`, w, 'f64', false, 1);
  run(`QD-LLM n=11 L=11 B=32 f64 forward+adjoint`, w, 'f64', true, 1);
}
if (which.includes('ctrl')) {
  const w = controlledLayer(20, 8);
  for (const precision of ['f64', 'f32'] as const) {
    run(`controlled gates n=20 ${precision} forward`, w, precision, false, 1);
    run(`controlled gates n=20 ${precision} forward+adjoint`, w, precision, true, 1);
  }
}
if (which.includes('pair')) {
  const w = pairLayer(20, 8);
  for (const precision of ['f64', 'f32'] as const) {
    run(`two-qubit gates n=20 ${precision} forward`, w, precision, false, 1);
    run(`two-qubit gates n=20 ${precision} forward+adjoint`, w, precision, true, 1);
  }
}
if (which.includes('small')) {
  for (const n of [2, 3, 4, 5]) {
    const w = qdllmStudent(n, 2, 4096);
    for (const precision of ['f64', 'f32'] as const) {
      // old: JS below 32 amplitudes (and f64 everywhere); new: SIMD forced from 4 amplitudes
      run(`small n=${n} B=4096 ${precision} fwd, JS vs SIMD`, w, precision, false, 1, 4);
      run(`small n=${n} B=4096 ${precision} fwd+adj, JS vs SIMD`, w, precision, true, 1, 4);
    }
  }
}

/**
 * bench:sim's threaded rows as it runs them (sim.expval and sim.vjp, B rows over 2 worker threads), old and new
 * interleaved: process CPU time (every thread) and wall per call, median and min of ROUNDS; forward and adjoint
 * separately, and adjoint ÷ forward of the medians.
 */
async function threaded(
  name: string,
  w: Workload,
  precision: Precision,
  threads = 2,
  sync = false,
): Promise<void> {
  // old; new called as before (fresh result arrays); new called as bench:sim and the quantum modules call it
  // (each pass's result arrays its own, reused: BatchRequest.out)
  const sims = [OLD_SIM, NEW_SIM, NEW_SIM].map((m) => m.createCpuSimulator({ precision, threads }));
  // sync: expvalSync / vjpSync on the shared-memory pool, as QuantumModule calls them inside a model
  if (sync) for (const s of sims) await s.prepareSync();
  const req = { circuit: w.circuit, batch: w.batch, params: w.params, inputs: w.inputs };
  const reqs = [
    [req, req],
    [req, req],
    [
      { ...req, out: resultBuffers(w.circuit, w.batch, false) },
      { ...req, out: resultBuffers(w.circuit, w.batch, true) },
    ],
  ];
  const ones = new Float64Array(w.batch * (w.circuit.observables?.length ?? w.circuit.qubits)).fill(1);
  const calls = sync
    ? [
        (s: NEW_SIM.CpuSimulator, si: number) => s.expvalSync(reqs[si][0]),
        (s: NEW_SIM.CpuSimulator, si: number) => s.vjpSync(reqs[si][1], ones),
      ]
    : [
        (s: NEW_SIM.CpuSimulator, si: number) => s.expval(reqs[si][0]),
        (s: NEW_SIM.CpuSimulator, si: number) => s.vjp(reqs[si][1], ones),
      ];
  // [sim][call] → { cpu: ms[], wall: ms[] }
  const t = sims.map(() => calls.map(() => ({ cpu: [] as number[], wall: [] as number[] })));
  for (let si = 0; si < sims.length; si++)
    for (const c of calls) {
      // an old tree outside the checkout starts no workers unless it has the checkout's package.json and
      // node_modules beside its core/ (worker threads load tsx from there): say so rather than time one thread
      const info = (await c(sims[si], si)).info;
      if (threads > 1 && !info.mode.endsWith('-threads'))
        throw new Error(`${si === 0 ? 'old' : 'new'} tree ran ${info.mode}: ${info.fallbackReason ?? ''}`);
    }
  for (let r = 0; r < rounds; r++)
    for (const si of r % 2 ? [2, 1, 0] : [0, 1, 2])
      for (let ci = 0; ci < calls.length; ci++) {
        const c0 = process.cpuUsage();
        const w0 = performance.now();
        await calls[ci](sims[si], si);
        const wall = performance.now() - w0;
        const c = process.cpuUsage(c0);
        t[si][ci].cpu.push((c.user + c.system) / 1e3);
        t[si][ci].wall.push(wall);
      }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const min = (a: number[]) => Math.min(...a);
  for (const [si, label] of [
    [0, 'old'],
    [1, 'new'],
    [2, 'new, out arrays reused'],
  ] as const) {
    const [f, g] = t[si];
    console.log(
      `${name} ${label}: forward CPU ${med(f.cpu).toFixed(1)} (min ${min(f.cpu).toFixed(1)}) wall ${med(f.wall).toFixed(1)} ms; ` +
        `adjoint CPU ${med(g.cpu).toFixed(1)} (min ${min(g.cpu).toFixed(1)}) wall ${med(g.wall).toFixed(1)} ms; ` +
        `adjoint ÷ forward CPU ${(med(g.cpu) / med(f.cpu)).toFixed(2)} wall ${(med(g.wall) / med(f.wall)).toFixed(2)}`,
    );
  }
  for (const s of sims) s.dispose();
}
if (which.includes('threads')) {
  await threaded('QFFN n=10 D=8 B=1024 f32 2 threads', qffnCircuit(10, 8, 1024), 'f32');
  await threaded('QD-LLM n=11 L=11 B=256 f64 2 threads', qdllmStudent(11, 11, 256), 'f64');
}
if (which.includes('sync')) {
  await threaded(
    'QFFN n=10 D=8 B=1024 f32 sync pool (calling thread + 1)',
    qffnCircuit(10, 8, 1024),
    'f32',
    2,
    true,
  );
  await threaded(
    'QFFN n=10 D=8 B=1024 f64 sync pool (calling thread + 1)',
    qffnCircuit(10, 8, 1024),
    'f64',
    2,
    true,
  );
}
if (which.includes('onethread')) {
  await threaded('QFFN n=10 D=8 B=1024 f32 1 thread', qffnCircuit(10, 8, 1024), 'f32', 1);
  await threaded('QD-LLM n=11 L=11 B=256 f64 1 thread', qdllmStudent(11, 11, 256), 'f64', 1);
}
