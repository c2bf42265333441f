// Run-time estimates from a calibration this machine measures once, with the lab's own kernels: seconds per
// amplitude update (a batch of re-uploading circuits through the cpu simulator's adjoint vjp, counted as a
// kind's WorkEstimate counts a training step: 4 sweeps of gates × 2^(n−1) amplitude pairs), seconds per
// flop (training steps of a small llama-style LM: 6 flops per parameter per token), seconds per density-matrix
// update (the noisy simulator), and a run's fixed costs: a job process's start through the lab's own launcher,
// each bundled dataset's load and the tokenizer's training per character. Stored in
// `<labDir>/calibration.json` with the date and the host. A kind states the work of a config
// (KindMeta.work); the estimate is work × these rates. Every rate comes from a timing on this machine.
import { existsSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { cpus } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import {
  LabError,
  rateAt,
  type CalibratedGguf,
  type CalibratedSetup,
  type Calibration,
} from '../api/lab-api';
import { datasetNames, loadDatasetUncached } from '../data';
import { configureCompute } from '../methods/harness/compute';
import { reuploadingCircuit } from '../methods/vqc-fit/circuit';
import { embedText, ggufPrompt, labelLogits, openGgufTeacherModel, promptTokens } from '../nn/gguf';
import { countParameters, zeroGrad } from '../nn/tensor';
import { ByteLevelBpe } from '../nn/tokenizers/bpe';
import { Transformer, type TransformerConfig } from '../nn/transformer';
import { observablesOf, type Circuit } from '../quantum/circuit';
import { createNoisySimulator } from '../quantum/noisy-simulator';
import { resources } from '../quantum/resources';
import { createCpuSimulator } from '../quantum/cpu/simulator';
import { createSimulator } from '../quantum/simulators';
import { IMPORTS_DIR } from './file-roots';
import { ChildProcessLauncher, type JobLauncher } from './launcher';
import { GgufCalibratedMessageSchema, type CalibrateGgufMessage } from './protocol';

export const CALIBRATION_FILE = 'calibration.json';

/** Names a GGUF rate keeps besides its real path, at most. */
const GGUF_NAMES = 16;

const CalibratedGgufSchema = z
  .object({
    path: z.string().min(1),
    names: z.array(z.string().min(1).max(4096)).max(GGUF_NAMES).optional(),
    size: z.number().int().nonnegative(),
    mtimeMs: z.number().finite(),
    loadSeconds: z.number().nonnegative().finite(),
    secondsPerSample: z.number().nonnegative().finite(),
    secondsPerChar: z.number().positive().finite(),
    tokensPerChar: z.number().positive().finite(),
    measuredAt: z.string(),
  })
  .strict();

const CalibrationSchema = z
  .object({
    measuredAt: z.string(),
    secondsPerAmplitudeOp: z.number().positive().finite(),
    amplitudeRates: z
      .array(
        z
          .object({
            qubits: z.number().int().positive(),
            secondsPerAmplitudeOp: z.number().positive().finite(),
          })
          .strict(),
      )
      .min(1),
    secondsPerFlop: z.number().positive().finite(),
    setup: z
      .object({
        jobStartSeconds: z.number().positive().finite(),
        datasetSeconds: z.record(z.string(), z.number().positive().finite()),
        secondsPerTokenizerChar: z.number().positive().finite(),
        simulatorStartSeconds: z.number().positive().finite().optional(),
      })
      .strict()
      .optional(),
    densityRates: z
      .array(
        z
          .object({
            qubits: z.number().int().positive(),
            secondsPerAmplitudeOp: z.number().positive().finite(),
          })
          .strict(),
      )
      .min(1)
      .optional(),
    gguf: z.array(CalibratedGgufSchema).optional(),
    host: z.object({ cpu: z.string(), cores: z.number().int().positive() }),
    detail: z.string(),
  })
  .strict();

/** Whether a timed GGUF file is still the file that was timed: same size and modification time. */
function ggufCurrent(g: CalibratedGguf): boolean {
  try {
    const st = statSync(g.path);
    return st.isFile() && st.size === g.size && st.mtimeMs === g.mtimeMs;
  } catch {
    return false;
  }
}

/**
 * The real path a GGUF name stands for, as the lab takes it: an absolute name as it is (the CLI's names are
 * made absolute against its working folder), a relative one inside the imports folder (as a request over HTTP
 * or IPC, and the run it creates, take it). Null when it names nothing.
 */
function realGgufPath(labDir: string, name: string): string | null {
  try {
    return realpathSync(isAbsolute(name) ? name : resolve(labDir, IMPORTS_DIR, name));
  } catch {
    return null;
  }
}

/**
 * A rate's names that still lead to its file (a symlink re-pointed or a file moved loses its name): a run's
 * config naming the file by one of them — a relative name, a symlink — finds the rate as its real path does.
 */
function ggufNamesNow(labDir: string, g: CalibratedGguf): CalibratedGguf {
  if (!g.names) return g;
  const names = g.names.filter((n) => realGgufPath(labDir, n) === g.path);
  const { names: _, ...rest } = g;
  return names.length > 0 ? { ...rest, names } : rest;
}

/** The stored calibration, or null when none was measured (or the file is not one). */
export function readCalibration(labDir: string): Calibration | null {
  const file = join(labDir, CALIBRATION_FILE);
  if (!existsSync(file)) return null;
  try {
    const r = CalibrationSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!r.success) return null;
    // a GGUF file changed (or gone) since it was timed has no rate: its estimate says so
    if (r.data.gguf) r.data.gguf = r.data.gguf.filter(ggufCurrent).map((g) => ggufNamesNow(labDir, g));
    return r.data;
  } catch {
    return null;
  }
}

export function writeCalibration(labDir: string, c: Calibration): void {
  const file = join(labDir, CALIBRATION_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(c, null, 2)}\n`);
  renameSync(tmp, file);
}

/** This process's CPU time so far (all its threads), in seconds. */
function cpuSeconds(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
}

/**
 * The best of several timings of `f`, in seconds, each the lesser of its wall and this process's CPU time (a
 * loaded machine takes the CPU away mid-timing: the wall time then counts other processes' work, the CPU time
 * does not), after warm-up calls for 0.1 s of CPU or 2 s of wall time (the engine optimises hot code on
 * background threads, which a loaded machine delays). The fastest is the machine's own speed. At least
 * `repeats` timings, and more (up to 40) while they add up to under half a second.
 */
export async function bestSeconds(f: () => unknown, repeats: number): Promise<number> {
  const w0 = performance.now();
  const c0 = cpuSeconds();
  do await f();
  while (cpuSeconds() - c0 < 0.1 && performance.now() - w0 < 2000);
  const t: number[] = [];
  let spent = 0;
  while (t.length < repeats || (t.length < 40 && spent < 0.5)) {
    const a = performance.now();
    const c = cpuSeconds();
    await f();
    const s = Math.min((performance.now() - a) / 1000, cpuSeconds() - c);
    t.push(s);
    spent += s;
  }
  return Math.max(1e-9, Math.min(...t));
}

/** Workload sizes: small enough for a few seconds in all on 2 cores. */
export const CALIBRATION_SIM = { layers: 4, batch: 32 };
/** Circuit widths the simulator is timed at. */
export const CALIBRATION_WIDTHS = [4, 6, 8, 10, 12] as const;
export const CALIBRATION_NN: TransformerConfig = {
  flavour: 'llama',
  vocabSize: 256,
  hiddenSize: 64,
  intermediateSize: 172,
  numLayers: 2,
  numHeads: 4,
  maxSeqLen: 32,
};
const NN_BATCH = 4;

/** Transformer FLOPs of one training step (forward + backward: 6 per parameter per token, the usual rule). */
export function transformerStepFlops(params: number, tokens: number): number {
  return 6 * params * tokens;
}

/** Amplitude updates (2×2 gate on one amplitude pair) of `batch` rows through `gates` gates on `qubits` qubits, `sweeps` times. */
export function amplitudeOps(gates: number, qubits: number, batch: number, sweeps: number): number {
  return gates * 2 ** (qubits - 1) * batch * sweeps;
}

/** Gate sweeps of one adjoint training pass (forward and the adjoint's backward sweeps), as the kinds count it. */
export const TRAINING_SWEEPS = 4;

/** Density-matrix updates of one forward of a noisy circuit row: each gate and each channel on ρ (4^n entries). */
export function densityOps(gatesAndChannels: number, qubits: number): number {
  return gatesAndChannels * 4 ** qubits;
}

/** Widths the noisy (density-matrix) simulator is timed at. */
export const CALIBRATION_DENSITY_WIDTHS = [2, 4, 6] as const;
/** Characters of the Brown corpus the tokenizer is timed on, and the vocabulary it learns. */
export const CALIBRATION_TOKENIZER = { chars: 200_000, vocabSize: 512 };

/** Seconds of CPU a process has used (all its threads), from /proc on Linux; null elsewhere or once it is gone. */
function processCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined || process.platform !== 'linux') return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name (which may hold spaces and parentheses): state is field 3, utime 14, stime 15
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    // USER_HZ is 100 on every Linux the lab runs on (the kernel's ABI for /proc, whatever its own HZ)
    return Number.isFinite(ticks) ? ticks / 100 : null;
  } catch {
    return null;
  }
}

/**
 * A job process started through the lab's own launcher, from spawn to its `ready` message (Node, the loader,
 * every kind's modules): its CPU time where the OS reports it (a loaded machine stretches the wall time, not
 * the work), else the wall time. The process is ended at once.
 */
export async function measureJobStart(
  launcher: JobLauncher,
  timeoutMs = 120_000,
): Promise<{ seconds: number; wall: number; cpu: number | null }> {
  const t0 = performance.now();
  const proc = launcher.spawn();
  const exited = new Promise<void>((resolve) => proc.onExit(() => resolve()));
  try {
    const cpu = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`calibration: a job process did not start within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      proc.onMessage((m) => {
        if ((m as { type?: unknown }).type !== 'ready') return;
        clearTimeout(timer);
        resolve(processCpuSeconds(proc.pid));
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error('calibration: a job process exited before it was ready'));
      });
    });
    const wall = (performance.now() - t0) / 1000;
    return { seconds: cpu ?? wall, wall, cpu };
  } finally {
    proc.kill('SIGKILL');
    await exited;
  }
}

/** Seconds of a single-threaded piece of work: the lesser of its CPU and wall time (load stretches the wall). */
function soloSeconds<T>(f: () => T): { value: T; seconds: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = f();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { value, seconds: Math.min(wall, (c.user + c.system) / 1e6) };
}

/**
 * The cpu simulator started as a job starts it (runQffn: createCpuSimulator + prepareSync at the job's thread
 * count) and stopped: its thread pool's workers and their wasm kernels, each start a new pool. bestSeconds'
 * process CPU time covers the pool's threads too.
 */
export async function measureSimulatorStart(): Promise<{ seconds: number; threads: number }> {
  const threads = configureCompute();
  const seconds = await bestSeconds(async () => {
    const sim = createCpuSimulator({ precision: 'f32', threads });
    try {
      await sim.prepareSync();
    } finally {
      sim.dispose();
    }
  }, 3);
  return { seconds, threads };
}

/**
 * A run's fixed costs: a job process's start, each bundled dataset's load, the tokenizer per character, the
 * cpu simulator's start.
 */
export async function measureSetup(
  launcher: JobLauncher,
): Promise<{ setup: CalibratedSetup; detail: string }> {
  const job = await measureJobStart(launcher);
  const datasetSeconds: Record<string, number> = {};
  for (const name of datasetNames())
    datasetSeconds[name] = Math.max(1e-4, soloSeconds(() => loadDatasetUncached(name)).seconds);
  const corpus = loadDatasetUncached('brown');
  const text =
    corpus.kind === 'lm'
      ? corpus.splits.train
          .map((d) => d.text)
          .join('\n')
          .slice(0, CALIBRATION_TOKENIZER.chars)
      : '';
  const tok = soloSeconds(() => {
    const bpe = ByteLevelBpe.train([text], { vocabSize: CALIBRATION_TOKENIZER.vocabSize });
    return bpe.encode(text).length;
  });
  const { seconds: simStart, threads } = await measureSimulatorStart();
  const setup: CalibratedSetup = {
    jobStartSeconds: job.seconds,
    datasetSeconds,
    secondsPerTokenizerChar: tok.seconds / Math.max(1, text.length),
    simulatorStartSeconds: simStart,
  };
  const ms = (x: number) => `${(x * 1000).toFixed(0)} ms`;
  const detail =
    `job process start ${ms(job.seconds)} (${job.cpu === null ? 'wall' : `CPU; ${ms(job.wall)} wall`}, ${launcher.name}); ` +
    `dataset loads ${Object.entries(datasetSeconds)
      .map(([n, x]) => `${n} ${ms(x)}`)
      .join(
        ', ',
      )}; BPE ${CALIBRATION_TOKENIZER.vocabSize} trained and encoding ${text.length} chars in ${ms(tok.seconds)}; cpu simulator start (${threads} threads) ${ms(simStart)}`;
  return { setup, detail };
}

/**
 * The noisy simulator (density matrices, f64) at several widths: a forward of a batch of re-uploading circuits
 * with a depolarizing channel after every gate, per density-matrix update (densityOps).
 */
async function measureDensity(): Promise<{
  rates: { qubits: number; secondsPerAmplitudeOp: number }[];
  detail: string;
}> {
  const rates: { qubits: number; secondsPerAmplitudeOp: number }[] = [];
  const parts: string[] = [];
  const batch = 4;
  for (const qubits of CALIBRATION_DENSITY_WIDTHS) {
    const circuit: Circuit = reuploadingCircuit(qubits, 2, 1);
    const sim = createNoisySimulator({
      noise: { rules: [{ channel: { type: 'depolarizing', p: 0.01 }, after: 'all' }] },
      method: 'density',
    });
    try {
      const params = Float64Array.from({ length: circuit.numParams }, (_, i) => 0.1 * (i + 1));
      const inputs = Float64Array.from({ length: batch * circuit.numInputs }, (_, i) => Math.sin(i));
      const req = { circuit, params, inputs, batch };
      const seconds = await bestSeconds(() => sim.expval(req), 3);
      const channels = circuit.ops.reduce((t, op) => t + op.wires.length, 0);
      rates.push({
        qubits,
        secondsPerAmplitudeOp: seconds / (batch * densityOps(circuit.ops.length + channels, qubits)),
      });
      parts.push(`${qubits} qubits ${(seconds * 1000).toFixed(1)} ms`);
    } finally {
      sim.dispose();
    }
  }
  return {
    rates,
    detail: `density matrices: a forward with depolarizing noise after every gate, batch ${batch}: ${parts.join(', ')}`,
  };
}

export interface CalibrationOptions {
  /** The launcher the lab starts its job processes with (default: a child_process fork of the worker entry). */
  launcher?: JobLauncher;
}

/** Measures every rate on this machine (several seconds). */
export async function measureCalibration(
  now = () => new Date(),
  opts: CalibrationOptions = {},
): Promise<Calibration> {
  // Simulator: a training step (forward expval, then the adjoint vjp) of a batch of re-uploading circuits,
  // as vqc-fit trains them, at several widths: small circuits pay per-gate overheads that an amplitude
  // count misses, so the rate is kept per width and an estimate reads it at the run's width.
  const sim = await createSimulator('cpu', 'f32');
  const amplitudeRates: { qubits: number; secondsPerAmplitudeOp: number }[] = [];
  const parts: string[] = [];
  try {
    for (const qubits of CALIBRATION_WIDTHS) {
      const { layers, batch } = CALIBRATION_SIM;
      const circuit = reuploadingCircuit(qubits, layers, 1);
      const gates = resources(circuit).gates;
      const params = Float64Array.from({ length: circuit.numParams }, (_, i) => 0.1 * (i + 1));
      const inputs = Float64Array.from({ length: batch * circuit.numInputs }, (_, i) => Math.sin(i));
      const req = { circuit, params, inputs, batch };
      const d = new Float64Array(batch * observablesOf(circuit).length).fill(1);
      const seconds = await bestSeconds(async () => {
        await sim.expval(req);
        await sim.vjp(req, d);
      }, 5);
      amplitudeRates.push({
        qubits,
        secondsPerAmplitudeOp: seconds / amplitudeOps(gates, qubits, batch, TRAINING_SWEEPS),
      });
      parts.push(`${qubits} qubits ${(seconds * 1000).toFixed(1)} ms`);
    }
  } finally {
    sim.dispose();
  }

  // Transformer: zero grads, LM forward with targets, backward.
  const m = new Transformer(CALIBRATION_NN, { dtype: 'f32', seed: 1 });
  const T = CALIBRATION_NN.maxSeqLen;
  const tokens = Int32Array.from({ length: NN_BATCH * T }, (_, i) => (i * 7) % CALIBRATION_NN.vocabSize);
  const targets = Int32Array.from({ length: NN_BATCH * T }, (_, i) => (i * 7 + 1) % CALIBRATION_NN.vocabSize);
  const params = countParameters(m.parameters());
  const nnSeconds = await bestSeconds(() => {
    zeroGrad(m.parameters());
    m.lmForward(tokens, NN_BATCH, T, targets);
    m.lmBackward();
  }, 5);
  const nnFlops = transformerStepFlops(params, NN_BATCH * T);
  const density = await measureDensity();
  const setup = await measureSetup(opts.launcher ?? new ChildProcessLauncher());

  const cpu = cpus();
  return {
    measuredAt: now().toISOString(),
    secondsPerAmplitudeOp: rateAt(amplitudeRates, CALIBRATION_WIDTHS[CALIBRATION_WIDTHS.length - 1]),
    amplitudeRates,
    secondsPerFlop: nnSeconds / nnFlops,
    setup: setup.setup,
    densityRates: density.rates,
    host: { cpu: cpu[0]?.model ?? 'unknown', cores: Math.max(1, cpu.length) },
    detail:
      `simulator: a training step (expval + vjp, f32, cpu) of ${CALIBRATION_SIM.layers}-layer re-uploading circuits, batch ${CALIBRATION_SIM.batch}: ${parts.join(', ')}; ` +
      `transformer: ${params} parameters, ${NN_BATCH}×${T} tokens, a training step in ${(nnSeconds * 1000).toFixed(1)} ms (f32); ` +
      `${density.detail}; ${setup.detail}`,
  };
}

/**
 * What a GGUF calibration runs: prompts of bundled text (`textChars` of each of `texts` Brown documents) in
 * the QD-LLM teacher's default template, each evaluated to its label logits and its text embedded, as
 * buildGgufTeacher does per sample; one warm-up round, then the best of `rounds`; and again with texts of
 * `shortTextChars`, so a sample's fixed cost and its cost per character are told apart.
 */
export const CALIBRATION_GGUF = {
  texts: 4,
  shortTextChars: 40,
  textChars: 200,
  rounds: 3,
  contextSize: 512,
  prompt: 'Classify the text as one of: {labels}.\nText: {text}\nAnswer:',
  labelWords: ['yes', 'no'],
};

/**
 * Times a GGUF model as the QD-LLM teacher runs it: node-llama-cpp's import, the model's load and its two
 * contexts (loadSeconds), then the teacher's per-sample work (label logits of the prompt, the text's
 * embedding): a fixed cost per sample and a cost per character of prompt and text. The file is opened as a
 * run opens it (openGgufFile: its magic checked, under `within` the file opened must lie inside those roots,
 * and node-llama-cpp is handed the very file checked). Wall times: node-llama-cpp runs on its own native
 * threads. It loads the model into the calling process: the lab calls it in a job process (measureGgufInJob,
 * the worker's `calibrate-gguf`), never in its own.
 */
export async function measureGgufFile(
  path: string,
  field: string,
  within: readonly string[] | null,
  now = () => new Date(),
  importer?: (specifier: string) => Promise<unknown>,
): Promise<{ gguf: CalibratedGguf; detail: string }> {
  const g = CALIBRATION_GGUF;
  const t0 = performance.now();
  const { model, context, embedder, dispose } = await openGgufTeacherModel({
    path,
    field,
    contextSize: g.contextSize,
    within,
    importer,
  });
  try {
    const loadSeconds = (performance.now() - t0) / 1000;
    const st = await stat(path);
    const seq = context.getSequence();
    // label ids only select which logits come back: their first tokens, as the teacher's label words give
    const ids = g.labelWords.map((w) => model.tokenize(` ${w}`, false, 'trimLeadingSpace')[0] ?? 0);
    const corpus = loadDatasetUncached('brown');
    const docs = (corpus.kind === 'lm' ? corpus.splits.train : [])
      .map((d) => d.text.replace(/\s+/g, ' ').trim())
      .filter((t) => t.length >= g.textChars)
      .slice(0, g.texts);
    if (docs.length === 0) throw new Error('calibration: no Brown text to prompt the GGUF model with');
    // two text lengths: a sample's fixed cost (the calls, the contexts' reset) and its cost per character
    const timeAt = async (textChars: number) => {
      const texts = docs.map((d) => d.slice(0, textChars));
      const prompts = texts.map((t) => ggufPrompt(g.prompt, t, g.labelWords));
      const chars = prompts.reduce((n, p, i) => n + p.length + texts[i].length, 0);
      const tokens = prompts.reduce((n, p) => n + promptTokens(model, p).length, 0);
      const promptChars = prompts.reduce((n, p) => n + p.length, 0);
      const round = async (): Promise<number> => {
        const r0 = performance.now();
        for (let i = 0; i < prompts.length; i++) {
          await labelLogits(model, seq, prompts[i], ids, g.contextSize);
          await embedText(embedder, texts[i]);
        }
        return (performance.now() - r0) / 1000;
      };
      await round();
      let best = Infinity;
      for (let r = 0; r < g.rounds; r++) best = Math.min(best, await round());
      return { seconds: best, chars, tokens, promptChars };
    };
    const short = await timeAt(g.shortTextChars);
    const long = await timeAt(g.textChars);
    const n = docs.length;
    const secondsPerChar = Math.max(1e-12, (long.seconds - short.seconds) / (long.chars - short.chars));
    const secondsPerSample = Math.max(0, (long.seconds - secondsPerChar * long.chars) / n);
    const gguf: CalibratedGguf = {
      path,
      size: st.size,
      mtimeMs: st.mtimeMs,
      loadSeconds,
      secondsPerSample,
      secondsPerChar,
      tokensPerChar: long.tokens / long.promptChars,
      measuredAt: now().toISOString(),
    };
    const ms = (x: number) => `${(x * 1000).toFixed(1)} ms`;
    const detail = `GGUF ${path} (${st.size} bytes): load ${ms(loadSeconds)}; ${n} teacher samples of ${g.shortTextChars} / ${g.textChars} text characters in ${ms(short.seconds)} / ${ms(long.seconds)} (${long.tokens} prompt tokens at ${g.textChars})`;
    return { gguf, detail };
  } finally {
    await dispose().catch(() => undefined);
  }
}

/** A GGUF file the CLI names (absolute), as its real path; `invalid` naming `field` when there is none. */
export function realGgufFile(path: string, field: string): string {
  try {
    return realpathSync(path);
  } catch {
    throw new LabError('invalid', `${field}: no such file: ${path}`, field);
  }
}

/** How long a GGUF model's timing may take in its job process (start, load, the rounds) before it is stopped. */
export const GGUF_JOB_TIMEOUT_MS = 10 * 60_000;

/**
 * Times a GGUF model (measureGgufFile) in a job process started through the lab's own launcher, as a run is
 * run: llama.cpp's native loader reads a file a request named, and a file that crashes it, or a multi-GB
 * model's memory, is that process's, not the lab's. The process is stopped (SIGKILL) once it answers, after
 * `timeoutMs`, or when `signal` aborts (the lab closing); a process that dies or hangs gives one error naming
 * `field` and the file (with the last line of its stderr). `path` is the file's real path; the rate is keyed
 * by it, with the size and modification time the lab saw before the timing began (a file changed meanwhile
 * loses its rate).
 */
export async function measureGgufInJob(
  launcher: JobLauncher,
  o: {
    path: string;
    field: string;
    within: readonly string[] | null;
    timeoutMs?: number;
    names?: readonly string[];
    /** Aborted: the job process is stopped at once (the lab is closing). */
    signal?: AbortSignal;
  },
): Promise<{ gguf: CalibratedGguf; detail: string }> {
  const { path, field } = o;
  const timeoutMs = o.timeoutMs ?? GGUF_JOB_TIMEOUT_MS;
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new Error(`${field}: ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const stopped = () =>
    new Error(
      `${field}: ${path}: the lab closed while the GGUF model was being timed; its job process was stopped`,
    );
  if (o.signal?.aborted) throw stopped();
  const proc = launcher.spawn();
  let stderr = '';
  proc.onOutput?.((stream, text) => {
    if (stream === 'stderr') stderr = (stderr + text).slice(-4000);
  });
  const lastWords = () => {
    const line = stderr
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .pop();
    // a native library's output: no escape sequences in a message
    // eslint-disable-next-line no-control-regex
    const clean = (t: string) => t.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
    return line ? `; its last output: ${clean(line.slice(0, 300))}` : '';
  };
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    proc.onExit((code, signal) => resolve({ code, signal })),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<{ gguf: CalibratedGguf; detail: string }>((resolve, reject) => {
      onAbort = () => reject(stopped());
      o.signal?.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `${field}: ${path}: timing the GGUF model took longer than ${Math.round(timeoutMs / 1000)} s; its job process was stopped`,
            ),
          ),
        timeoutMs,
      );
      proc.onMessage((raw) => {
        const type = (raw as { type?: unknown } | null)?.type;
        if (type === 'ready') {
          const msg: CalibrateGgufMessage = {
            type: 'calibrate-gguf',
            path,
            field,
            fileRoots: o.within === null ? null : [...o.within],
          };
          proc.send(msg);
        } else if (type === 'gguf-calibrated') {
          const m = GgufCalibratedMessageSchema.safeParse(raw);
          const g = m.success ? CalibratedGgufSchema.safeParse(m.data.gguf) : null;
          if (!m.success || !g?.success) {
            reject(
              new Error(`${field}: ${path}: the job process timing the GGUF model sent an invalid answer`),
            );
            return;
          }
          const names = [...new Set(o.names ?? [])].filter((n) => n !== path).slice(0, GGUF_NAMES);
          const { names: _, ...rates } = g.data;
          resolve({
            gguf: {
              ...rates,
              path,
              ...(names.length > 0 ? { names } : {}),
              size: st.size,
              mtimeMs: st.mtimeMs,
            },
            detail: m.data.detail,
          });
        } else if (type === 'failed') {
          const err = (raw as { error?: { message?: unknown } }).error;
          const message = typeof err?.message === 'string' ? err.message.split('\n')[0] : 'failed';
          reject(new Error(message.startsWith(field) ? message : `${field}: ${path}: ${message}`));
        }
      });
      void exited.then(({ code, signal }) =>
        reject(
          new Error(
            `${field}: ${path}: the job process timing the GGUF model ended (${signal === null ? `exit code ${code}` : `signal ${signal}`}) before it answered${lastWords()}`,
          ),
        ),
      );
    });
  } finally {
    clearTimeout(timer);
    if (onAbort) o.signal?.removeEventListener('abort', onAbort);
    proc.kill('SIGKILL');
    await exited;
  }
}

/**
 * The calibration with these GGUF files' rates in place of any earlier ones for the same real paths (the
 * earlier rate's names kept beside the new one's: each is checked against the file when read).
 */
export function withGguf(c: Calibration, timed: readonly CalibratedGguf[], detail: string): Calibration {
  const before = new Map((c.gguf ?? []).map((g) => [g.path, g]));
  const merged = timed.map((g) => {
    const names = [...new Set([...(g.names ?? []), ...(before.get(g.path)?.names ?? [])])]
      .filter((n) => n !== g.path)
      .slice(0, GGUF_NAMES);
    const { names: _, ...rest } = g;
    return names.length > 0 ? { ...rest, names } : rest;
  });
  const paths = new Set(timed.map((g) => g.path));
  return {
    ...c,
    gguf: [...(c.gguf ?? []).filter((g) => !paths.has(g.path)), ...merged],
    detail: `${c.detail.replace(/; GGUF .*$/, '')}; ${detail}`,
  };
}
