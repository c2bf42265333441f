// `qlab sim <file.qasm|file.json>`: runs one circuit file and prints probabilities, ⟨Z⟩ per wire and,
// with --grad, ∂⟨Z_w⟩/∂(k-th angle argument of a QASM file, or k-th parameter of a JSON file).
// --json prints one JSON object; otherwise a readable summary. Wire 0 is the most significant bit.
import { basename, extname, resolve } from 'node:path';
import type { BackendInfo, BatchRequest, Precision, Simulator } from '../quantum/backend';
import { CircuitError, type Circuit } from '../quantum/circuit';
import { loadJsonCircuit, loadQasmCircuit, type LoadedCircuit } from '../quantum/circuit-file';
import { createCpuSimulator } from '../quantum/cpu/simulator';
import { drawText } from '../quantum/draw';
import { evaluatorOf, shiftJacobian, type Evaluate } from '../quantum/gradients';
import { NoiseError, parseNoiseModel, type NoiseModel } from '../quantum/noise';
import { createNoisySimulator } from '../quantum/noisy-simulator';
import { QasmError } from '../quantum/qasm';
import { Rng } from '../util/rng';
import { resources } from '../quantum/resources';
import { sampleRows, shotExpvalsFromStates } from '../quantum/shots';
import { describeBackend } from '../quantum/simulators';
import { parseArgs, type CommandSpec } from './args';
import type { OutStream } from './context';
import { CliError, EXIT } from './errors';
import { parseJsonLocated } from './json-locate';
import { readInputFile } from './read-file';

export const SIM_USAGE = `usage: qlab sim <file.qasm|file.json> [options]

Runs a circuit file (OpenQASM 2.0, or the JSON circuit record of docs/circuit-format.md with
optional "params" and "inputs") and prints probabilities (wire 0 = most significant bit) and ⟨Z⟩
per wire.

options:
  --json                          one JSON object on stdout
  --backend cpu|gpu               simulator backend (default cpu)
  --gpu-mode auto|webgpu|webasm|cpu   gpu.js mode for --backend gpu (default auto)
  --precision f32|f64             complex64 (default) or complex128 (cpu only)
  --shots N --seed S              shot estimates from N shots per row, seeded (default seed 0)
  --grad adjoint|parameter-shift  gradZ[w][k] = d<Z_w>/d(k-th angle argument; JSON: k-th parameter)
  --noise FILE                    noise model JSON: density matrix up to 10 qubits, trajectories beyond
  --trajectories K                trajectories per row for noisy circuits over 10 qubits (default 200)
  --draw                          text drawing of the circuit
  --resources                     qubits, depth, gate counts, parameters
`;

const SPEC: CommandSpec = {
  name: 'sim',
  options: {
    json: { type: 'boolean' },
    backend: { type: 'string' },
    'gpu-mode': { type: 'string' },
    precision: { type: 'string' },
    shots: { type: 'string' },
    seed: { type: 'string' },
    grad: { type: 'string' },
    noise: { type: 'string' },
    trajectories: { type: 'string' },
    draw: { type: 'boolean' },
    resources: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
  positionals: { min: 1, max: 1, label: 'one circuit file (.qasm or .json)' },
};

export interface SimIo {
  stdout: OutStream;
  stderr: OutStream;
  /** Directory relative file names are taken from (default: the process's). */
  cwd?: string;
}

type GradMethod = 'adjoint' | 'parameter-shift';
type GpuMode = 'auto' | 'webgpu' | 'webasm' | 'cpu';

interface SimOptions {
  file: string;
  json: boolean;
  backend: 'cpu' | 'gpu';
  gpuMode?: GpuMode;
  precision?: Precision;
  shots?: number;
  seed: number;
  grad?: GradMethod;
  noiseFile?: string;
  trajectories?: number;
  draw: boolean;
  resources: boolean;
}

function oneOf<T extends string>(
  value: string | undefined,
  name: string,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw new CliError(`option --${name} must be one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}

function intArg(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new CliError(`option --${name} must be an integer, got '${value}'`);
  const v = Number(value);
  if (v < min || v > max) throw new CliError(`option --${name} must be between ${min} and ${max}, got ${v}`);
  return v;
}

function parseOptions(argv: string[]): SimOptions | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  const a = parseArgs(SPEC, argv);
  const backend = oneOf(a.strings.backend, 'backend', ['cpu', 'gpu'] as const) ?? 'cpu';
  const precision = oneOf(a.strings.precision, 'precision', ['f32', 'f64'] as const);
  const gpuMode = oneOf(a.strings['gpu-mode'], 'gpu-mode', ['auto', 'webgpu', 'webasm', 'cpu'] as const);
  const grad = oneOf(a.strings.grad, 'grad', ['adjoint', 'parameter-shift'] as const);
  const shots = intArg(a.strings.shots, 'shots', 1, 1e8);
  const seed = intArg(a.strings.seed, 'seed', 0, 0xffffffff) ?? 0;
  const trajectories = intArg(a.strings.trajectories, 'trajectories', 1, 1e6);
  const noiseFile = a.strings.noise;
  if (backend === 'gpu' && precision === 'f64')
    throw new CliError(
      '--precision f64 is not available with --backend gpu (gpu.js computes in float32); use --backend cpu for f64',
    );
  if (gpuMode !== undefined && backend !== 'gpu') throw new CliError('--gpu-mode needs --backend gpu');
  if (noiseFile !== undefined && backend === 'gpu')
    throw new CliError('--noise runs on the cpu density-matrix/trajectory simulator; drop --backend gpu');
  if (noiseFile !== undefined && precision === 'f32')
    throw new CliError('--precision f32: the noisy simulator (--noise) computes in f64 only');
  if (trajectories !== undefined && noiseFile === undefined)
    throw new CliError('--trajectories only applies with --noise');
  if (grad === 'adjoint' && shots !== undefined)
    throw new CliError(
      '--grad adjoint needs the exact state and cannot use --shots; use --grad parameter-shift for shot-based gradients',
    );
  if (grad === 'adjoint' && noiseFile !== undefined)
    throw new CliError(
      '--grad adjoint is not available with --noise (mixed states); use --grad parameter-shift',
    );
  return {
    file: a.positionals[0],
    json: a.booleans.json ?? false,
    backend,
    gpuMode,
    precision,
    shots,
    seed,
    grad,
    noiseFile,
    trajectories,
    draw: a.booleans.draw ?? false,
    resources: a.booleans.resources ?? false,
  };
}

async function readText(path: string, what: string): Promise<string> {
  return Promise.resolve(readInputFile(path, what));
}

function parseJsonFile(text: string, name: string): unknown {
  const r = parseJsonLocated(text);
  if (!r.ok)
    throw new CliError(`${name}: line ${r.error.line}, column ${r.error.column}: ${r.error.message}`);
  return r.value;
}

/**
 * Reads a circuit file. QASM files are imported with every angle argument as a trainable parameter
 * (in order of appearance) when `trainable`, so gradients can be taken with respect to them.
 */
export async function loadCircuitFile(path: string, trainable: boolean): Promise<LoadedCircuit> {
  const text = await readText(path, 'circuit file');
  const name = basename(path);
  const ext = extname(path).toLowerCase();
  const isJson = ext === '.json' || (ext !== '.qasm' && text.trimStart().startsWith('{'));
  try {
    if (isJson) return loadJsonCircuit(parseJsonFile(text, name));
    return loadQasmCircuit(text, trainable);
  } catch (e) {
    if (e instanceof QasmError || e instanceof CircuitError) throw new CliError(`${name}: ${e.message}`);
    throw e;
  }
}

async function loadNoise(path: string, qubits: number): Promise<NoiseModel> {
  const name = basename(path);
  const value = parseJsonFile(await readText(path, 'noise file'), name);
  try {
    return parseNoiseModel(value, qubits);
  } catch (e) {
    if (e instanceof NoiseError) throw new CliError(`${name}: ${e.message}`);
    throw e;
  }
}

async function createBackend(o: SimOptions, noise: NoiseModel | undefined): Promise<Simulator> {
  if (noise) return createNoisySimulator({ noise, seed: o.seed, trajectories: o.trajectories });
  if (o.backend === 'gpu') {
    const { createGpuSimulator } = await import('../quantum/gpu/simulator');
    return createGpuSimulator({ mode: o.gpuMode ?? 'auto' });
  }
  return createCpuSimulator({ precision: o.precision ?? 'f32' });
}

/** Rows of a flat (rows, width) array as nested arrays. */
function rowsOf(a: Float64Array, rows: number, width: number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from(a.subarray(r * width, (r + 1) * width)));
}

export interface SimResult {
  file: string;
  format: 'qasm' | 'json';
  qubits: number;
  batch: number;
  numParams: number;
  numInputs: number;
  backend: BackendInfo;
  estimator: 'exact' | 'shots' | 'trajectories';
  probs: number[] | number[][];
  expvalZ: number[] | number[][];
  shots?: number;
  seed?: number;
  counts?: Record<string, number> | Record<string, number>[];
  stderrZ?: number[] | number[][];
  expvals?: number[] | number[][];
  noise?: { file: string; method: string; trajectories?: number };
  grad?: GradMethod;
  params?: number[];
  gradZ?: number[][] | number[][][];
  gradZInputs?: number[][] | number[][][];
  drawing?: string;
  resources?: ReturnType<typeof resources>;
}

/** Runs the file as the options say and returns the printed object. */
async function simulate(o: SimOptions, cwd: string): Promise<SimResult> {
  const path = resolve(cwd, o.file);
  const loaded = await loadCircuitFile(path, o.grad !== undefined);
  const { circuit, params, inputs, batch } = loaded;
  const n = circuit.qubits;
  if (n > 24)
    throw new CliError(`${basename(path)}: qubits: qlab sim runs up to 24 qubits, the file has ${n}`);
  const noise = o.noiseFile ? await loadNoise(resolve(cwd, o.noiseFile), n) : undefined;
  // ⟨Z⟩ on every wire: the record's default observables
  const circuitZ: Circuit = { ...circuit, observables: undefined };
  const req: BatchRequest = { circuit: circuitZ, params, inputs, batch };
  const sim = await createBackend(o, noise);
  try {
    const exactProbs = await sim.probs(req);
    const fwd = await sim.expval(req);
    const per = <T>(rows: T[]): T | T[] => (batch === 1 ? rows[0] : rows);
    const out: SimResult = {
      file: o.file,
      format: loaded.format,
      qubits: n,
      batch,
      numParams: circuit.numParams,
      numInputs: circuit.numInputs,
      backend: { ...fwd.info },
      estimator: 'exact',
      probs: [],
      expvalZ: [],
    };
    if (noise && sim.info.mode === 'trajectories') out.estimator = 'trajectories';
    const master = new Rng(o.seed);
    const probsRng = master.fork();
    const gradRng = master.fork();
    const obsSeed = master.nextU32();
    if (o.shots === undefined) {
      out.probs = per(rowsOf(exactProbs, batch, 1 << n));
      out.expvalZ = per(rowsOf(fwd.expvals, batch, n));
    } else {
      const s = sampleRows(exactProbs, n, batch, o.shots, probsRng);
      out.estimator = 'shots';
      out.shots = o.shots;
      out.seed = o.seed;
      out.probs = per(rowsOf(s.probs, batch, 1 << n));
      out.expvalZ = per(rowsOf(s.expvalZ, batch, n));
      out.stderrZ = per(rowsOf(s.stderrZ, batch, n));
      out.counts = per(s.counts);
    }
    if (noise) {
      out.noise = { file: o.noiseFile as string, method: sim.info.mode };
      if (sim.info.mode === 'trajectories') {
        out.noise.trajectories = o.trajectories ?? 200;
        // the density matrix draws nothing; trajectories do
        out.seed = o.seed;
      }
    }
    if (circuit.observables !== undefined)
      out.expvals = await ownObservables(o, circuit, req, sim, noise, obsSeed);
    if (o.grad) {
      out.grad = o.grad;
      out.params = Array.from(params);
      const P = circuit.numParams;
      const N = circuit.numInputs;
      let jP: Float64Array;
      let jI: Float64Array;
      if (o.grad === 'adjoint') {
        jP = new Float64Array(batch * n * P);
        jI = new Float64Array(batch * n * N);
        const onehot = new Float64Array(n);
        for (let b = 0; b < batch; b++) {
          const row: BatchRequest = { ...req, inputs: inputs.subarray(b * N, (b + 1) * N), batch: 1 };
          for (let w = 0; w < n; w++) {
            onehot.fill(0);
            onehot[w] = 1;
            const g = await sim.vjp(row, onehot);
            jP.set(g.dParams, (b * n + w) * P);
            jI.set(g.dInputs, (b * n + w) * N);
          }
        }
      } else {
        const shots = o.shots;
        const evaluate: Evaluate =
          shots === undefined
            ? evaluatorOf(sim)
            : async (r) => sampleRows(await sim.probs(r), n, r.batch, shots, gradRng).expvalZ;
        ({ jParams: jP, jInputs: jI } = await shiftJacobian(evaluate, req, n));
      }
      const nest = (j: Float64Array, width: number): number[][][] =>
        Array.from({ length: batch }, (_, b) =>
          rowsOf(j.subarray(b * n * width, (b + 1) * n * width), n, width),
        );
      out.gradZ = per(nest(jP, P));
      if (N > 0) out.gradZInputs = per(nest(jI, N));
    }
    if (o.draw) out.drawing = drawText(circuit);
    if (o.resources) out.resources = resources(circuit);
    return out;
  } finally {
    sim.dispose();
  }
}

/** Values of the file's own "observables" (exact, or shot estimates with --shots). */
async function ownObservables(
  o: SimOptions,
  circuit: Circuit,
  req: BatchRequest,
  sim: Simulator,
  noise: NoiseModel | undefined,
  seed: number,
): Promise<number[] | number[][]> {
  const r: BatchRequest = { ...req, circuit };
  const T = (circuit.observables ?? []).length;
  let values: Float64Array;
  if (o.shots === undefined) values = (await sim.expval(r)).expvals;
  else if (noise) {
    const shotSim = createNoisySimulator({ noise, seed, shots: o.shots, trajectories: o.trajectories });
    values = (await shotSim.expval(r)).expvals;
  } else {
    const states = await sim.state(r);
    values = shotExpvalsFromStates(
      states,
      circuit.qubits,
      r.batch,
      circuit.observables ?? [],
      o.shots,
      seed,
    ).expvals;
  }
  const rows = rowsOf(values, r.batch, T);
  return r.batch === 1 ? rows[0] : rows;
}

const fmt = (x: number, digits = 6): string => (x >= 0 ? ' ' : '') + x.toFixed(digits);

/** The readable summary printed without --json. */
export function formatSummary(r: SimResult): string {
  const lines: string[] = [];
  const b = r.backend;
  lines.push(
    `${r.file}: ${r.qubits} qubit(s), ${r.numParams} parameter(s), ${r.numInputs} input(s), batch ${r.batch}`,
  );
  lines.push(
    `backend: ${describeBackend(b)}` +
      (r.noise ? `, noise ${r.noise.file} by ${r.noise.method}` : '') +
      (r.shots !== undefined ? `, ${r.shots} shots, seed ${r.seed}` : ''),
  );
  if (r.drawing) lines.push('', r.drawing, '');
  if (r.resources) {
    const x = r.resources;
    lines.push(
      `resources: depth ${x.depth}, ${x.gates} gate(s) (${x.oneQubitGates} one-qubit, ${x.twoQubitGates} two-qubit, ` +
        `${x.threeQubitGates} three-qubit), ${x.params} parameter(s)`,
    );
  }
  const rowsOfAny = <T>(v: T[] | T[][]): T[][] => (r.batch === 1 ? [v as T[]] : (v as T[][]));
  const probs = rowsOfAny(r.probs);
  const ez = rowsOfAny(r.expvalZ);
  const est =
    r.shots !== undefined ? ' (shot estimate)' : r.estimator === 'trajectories' ? ' (trajectory mean)' : '';
  for (let row = 0; row < r.batch; row++) {
    if (r.batch > 1) lines.push(`row ${row}:`);
    lines.push(`⟨Z⟩${est}: ${ez[row].map((v, w) => `w${w} ${fmt(v)}`).join('  ')}`);
    const p = probs[row];
    const order = p.map((_, i) => i).filter((i) => p[i] > 1e-12);
    order.sort((a, c) => p[c] - p[a] || a - c);
    const shown = order.slice(0, 16);
    lines.push(`probabilities${est} (largest ${shown.length} of ${order.length} nonzero):`);
    for (const i of shown) lines.push(`  |${i.toString(2).padStart(r.qubits, '0')}⟩  ${p[i].toFixed(6)}`);
  }
  if (r.expvals) {
    const ev = rowsOfAny(r.expvals);
    ev.forEach((v, row) =>
      lines.push(`observables${r.batch > 1 ? ` row ${row}` : ''}: ${v.map((x) => fmt(x)).join('  ')}`),
    );
  }
  if (r.gradZ) {
    const g = (r.batch === 1 ? [r.gradZ] : r.gradZ) as number[][][];
    lines.push(`d⟨Z_w⟩/dθ_k by ${r.grad} (rows: wires, columns: k):`);
    g.forEach((m, row) => {
      if (r.batch > 1) lines.push(`row ${row}:`);
      m.forEach((v, w) => lines.push(`  w${w}: ${v.map((x) => fmt(x)).join(' ')}`));
    });
  }
  return lines.join('\n') + '\n';
}

/** `qlab sim …`: returns the exit code (0 ok, 2 bad usage or input, 3 simulator failure). */
export async function main(
  argv: string[],
  io: SimIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  try {
    const o = parseOptions(argv);
    if (o === 'help') {
      io.stdout.write(SIM_USAGE);
      return EXIT.ok;
    }
    const result = await simulate(o, io.cwd ?? process.cwd());
    io.stdout.write(o.json ? JSON.stringify(result) + '\n' : formatSummary(result));
    return EXIT.ok;
  } catch (e) {
    const input =
      e instanceof CliError || e instanceof CircuitError || e instanceof QasmError || e instanceof NoiseError;
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    io.stderr.write(`qlab: ${msg}\n`);
    return input ? (e instanceof CliError ? e.exitCode : EXIT.usage) : EXIT.lab;
  }
}
