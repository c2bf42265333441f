// The LabApi's types and constants without zod: what the renderer's first screen needs (statuses, limits,
// LabError, the method names) with no schema to build. core/api/lab-api.ts re-exports all of it beside the
// request schemas; the renderer imports values from here and only types (erased) from lab-api.ts, so the
// runs page's bundle evaluates no zod schema. Isomorphic: no Node or DOM imports here.
import type { LabApi } from './lab-api';
import type { SweepSpec } from './sweep';

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** `csv`: one row per metric point; `runs-csv`: one row per run (config flattened, final figures). */
export const EXPORT_FORMATS = ['json', 'csv', 'runs-csv', 'latex', 'html'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface KindInfo {
  kind: string;
  title: string;
  description: string;
  /** A complete default config for the wizard. */
  defaults: unknown;
}

export interface RunSummary {
  id: string;
  kind: string;
  name: string;
  status: RunStatus;
  /** ISO-8601 times. */
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /**
   * The run's last sign of life: its last heartbeat, else (none stored) its last metric's time; null when
   * neither. Where an ended run's time stops when its finish is missing or was written late (run-duration.ts).
   */
  lastSeenAt?: string | null;
  /** Fraction in [0, 1] while running; 1 once succeeded. */
  progress: number;
  progressMessage: string | null;
  tags: string[];
  /** Final figures from the job's result (empty until it finishes). */
  summary: Record<string, number | string>;
  error: string | null;
  /** The run this one is a child of (a sweep's point), or null for a top-level run. */
  parentId: string | null;
  /** How many child runs this run has (0 for a child: children do not nest). */
  childCount: number;
}

export interface MetricSummary {
  key: string;
  count: number;
  lastStep: number;
  last: number;
  min: number;
  max: number;
}

export interface ArtifactInfo {
  name: string;
  kind: string;
  bytes: number;
  sha256: string;
  /** Set when the row's file is gone from the lab directory (deleted after the run stored it). */
  missing?: true;
}

export interface NoteInfo {
  id: number;
  text: string;
  createdAt: string;
}

export type ReportSection =
  | { type: 'table'; title: string; columns: string[]; rows: (string | number | null)[][] }
  | { type: 'text'; title: string; text: string };

export interface RunDetail extends RunSummary {
  config: unknown;
  seed: number;
  codeVersion: string;
  host: Record<string, unknown>;
  backend: Record<string, unknown>;
  heartbeatAt: string | null;
  /**
   * Which start of the run this is (1 = the first; 2 after its job died once and it was re-queued) and how
   * many restarts it allows (createRun's `retries`). Set by both stores; optional for older callers' fakes.
   */
  attempt?: number;
  retries?: number;
  metrics: MetricSummary[];
  artifacts: ArtifactInfo[];
  notes: NoteInfo[];
  report: ReportSection[];
  /** The child runs, oldest first (empty for a run without children). */
  children: RunSummary[];
  /**
   * A lab-level sweep's parent: the axes it was created with (its `config` is the base every point starts
   * from), so "Clone and edit" and "Save" give the sweep, not only its base. Absent on every other run.
   */
  sweep?: SweepSpec;
}

/** A downsampled series: one point per bucket of steps, with the bucket's min, max and last value. */
export interface Series {
  runId: string;
  key: string;
  /** Total points stored for this key. */
  count: number;
  points: { step: number; min: number; max: number; last: number }[];
}

/**
 * Runs one comparison takes at most: compareRuns refuses more, the runs page's Compare button and the
 * compare page say so, and `qlab compare` takes as many ids.
 */
export const MAX_COMPARE_RUNS = 1_000;

/** A compared run: its summary row, seed and code version (its config and metrics are in the comparison's tables). */
export interface ComparedRun extends RunSummary {
  seed: number;
  codeVersion: string;
}

/** What only some of the compared runs have, listed once for a kind: each path or key with how many of the kind's runs have it. */
export interface UnsharedByKind {
  kind: string;
  /** Runs of this kind in the comparison. */
  runs: number;
  config: { path: string; runs: number }[];
  metrics: { key: string; runs: number }[];
  summary: { key: string; runs: number }[];
}

/**
 * Runs side by side on what they all share: a config path, metric or summary figure is a row only when every
 * compared run has it, so no row holds a missing value; the rest is listed per kind in `unshared`.
 */
export interface Comparison {
  runs: ComparedRun[];
  /** Config paths (dot/bracket notation) every run has, whose values differ; one value per run. */
  configDiff: { path: string; values: unknown[] }[];
  /** Config paths every run has with one same value. */
  configSame: { path: string; value: unknown }[];
  /** Last value of each metric every run has recorded, one per run; `count`: the most points a run has of it. */
  metrics: { key: string; values: number[]; count: number }[];
  /** Summary figures (the job's final results) every run has, one per run. */
  summary: { key: string; values: (number | string)[] }[];
  /** Per kind, in order of first appearance: what not every run has (kinds with nothing of the kind left out). */
  unshared: UnsharedByKind[];
}

/** A config leaf shown as a runs-table column: numbers and booleans as they are, strings cut to 80 characters. */
export type ConfigFieldValue = number | string | boolean | null;

/** One run's config flattened to dot/bracket paths (see flattenConfig). */
export interface RunConfigFields {
  runId: string;
  fields: Record<string, ConfigFieldValue>;
}

/** The stored log of one run, bounded to its last lines. */
export interface RunLog {
  runId: string;
  lines: { at: string; level: 'debug' | 'info' | 'warn' | 'error'; message: string }[];
  /** True when older lines were left out (the tail of the file was read). */
  truncated: boolean;
  /** Size of the whole log file in bytes (0 when the run has written nothing). */
  bytes: number;
}

export interface ExportedFile {
  filename: string;
  mimeType: string;
  content: string;
  /** 'base64': `content` holds binary bytes (a PDF, a run bundle) in base64; absent: it is the text itself. */
  encoding?: 'base64';
}

/** What importBundle did: runs added, runs the lab already had (left as they were), artifact files written. */
export interface BundleImportResult {
  imported: string[];
  skipped: string[];
  artifacts: number;
}

/** The folders whose files a request over HTTP or IPC may name (see core/lab/file-roots.ts). */
export interface FileRootsInfo {
  roots: {
    path: string;
    /** 'imports': the lab's own imports folder (always a root); 'settings': listed in settings.json. */
    source: 'imports' | 'settings';
    /** False for a listed folder that does not exist (it grants nothing until it does). */
    exists: boolean;
  }[];
  /** True in the desktop app (a folder dialog adds roots); false in browser mode (CLI or settings file only). */
  editable: boolean;
  /** The settings file that lists the roots. */
  settingsFile: string;
}

export type LabEvent =
  | { type: 'run-created'; run: RunSummary }
  | { type: 'run-updated'; run: RunSummary }
  | { type: 'metrics'; runId: string; points: { key: string; step: number; value: number }[] }
  | { type: 'log'; runId: string; level: 'debug' | 'info' | 'warn' | 'error'; message: string };

/** Errors cross every boundary as values: a code, one sentence, and the offending field where there is one. */
export interface LabErrorInfo {
  code: 'invalid' | 'not-found' | 'conflict' | 'internal';
  message: string;
  field?: string;
}

export class LabError extends Error {
  constructor(
    readonly code: LabErrorInfo['code'],
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'LabError';
  }
  toInfo(): LabErrorInfo {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }
}

export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** C0/C1 control characters: names and tags are shown in terminals and tables, where they would act. */
// eslint-disable-next-line no-control-regex
export const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** A label (run name, tag): well-formed Unicode (no lone surrogate, which SQLite would store as bad UTF-8), no control characters. */

/** Configs nest a few levels; anything deeper is refused before a schema walks it recursively. */
export const MAX_CONFIG_DEPTH = 64;

/**
 * What a config value must not hold, as {field, message}, or null: nesting past MAX_CONFIG_DEPTH, a
 * `__proto__` key (JSON.parse makes it an own key that schemas drop silently: refuse, don't drop), a string
 * with a lone surrogate. Iterative, so any depth is checked without recursion.
 */
export function configValueProblem(
  value: unknown,
  root = 'config',
): { field: string; message: string } | null {
  const stack: [unknown, string, number][] = [[value, root, 0]];
  while (stack.length > 0) {
    const [v, field, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v))
        return { field, message: 'contains a lone surrogate (not valid Unicode text)' };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_CONFIG_DEPTH) return { field, message: `nested deeper than ${MAX_CONFIG_DEPTH} levels` };
    if (Array.isArray(v)) {
      v.forEach((x, i) => stack.push([x, `${field}[${i}]`, depth + 1]));
      continue;
    }
    for (const k of Object.keys(v)) {
      if (k === '__proto__')
        return { field: `${field}.__proto__`, message: 'the key "__proto__" is not allowed' };
      stack.push([(v as Record<string, unknown>)[k], `${field}.${k}`, depth + 1]);
    }
  }
  return null;
}

/** Leaves per run that getRunConfigs returns, and characters kept of a string leaf. */
export const MAX_CONFIG_FIELDS = 100;
const MAX_FIELD_CHARS = 80;

/**
 * A config as table cells: each scalar leaf under its dot/bracket path (`model.layers`); an array of at most
 * 8 scalars as one cell (`[2, 4]`), longer arrays and arrays of objects left out; strings cut to 80
 * characters; the first MAX_CONFIG_FIELDS leaves in key order. Iterative and depth-bounded like configValueProblem.
 */
export function flattenConfig(config: unknown): Record<string, ConfigFieldValue> {
  const out: Record<string, ConfigFieldValue> = {};
  let n = 0;
  const cut = (s: string): string => (s.length > MAX_FIELD_CHARS ? `${s.slice(0, MAX_FIELD_CHARS - 1)}…` : s);
  const stack: [unknown, string, number][] = [[config, '', 0]];
  while (stack.length > 0 && n < MAX_CONFIG_FIELDS) {
    const [v, path, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') {
      if (path === '') continue;
      out[path] = typeof v === 'string' ? cut(v) : typeof v === 'number' || typeof v === 'boolean' ? v : null;
      n++;
      continue;
    }
    if (Array.isArray(v)) {
      const scalars = v.every((x) => x === null || typeof x !== 'object');
      if (path !== '' && scalars && v.length <= 8) {
        out[path] = cut(JSON.stringify(v).replace(/,/g, ', '));
        n++;
      }
      continue;
    }
    if (depth >= MAX_CONFIG_DEPTH) continue;
    // reversed onto the stack so leaves come out in key order
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--)
      stack.push([(v as Record<string, unknown>)[keys[i]], path ? `${path}.${keys[i]}` : keys[i], depth + 1]);
  }
  return out;
}

/** Runs one report export (json, csv, runs-csv, latex, html, pdf) takes at most; bundles take MAX_COMPARE_RUNS. */
export const MAX_EXPORT_RUNS = 100;
/** The most runs an export of `format` takes (the export menu disables what a selection exceeds). */
export function exportLimit(format: ExportFormat | 'pdf' | 'bundle'): number {
  return format === 'bundle' ? MAX_COMPARE_RUNS : MAX_EXPORT_RUNS;
}

/** A bundle that crosses the LabApi (download or upload) is at most this big; the CLI has no such cap. */
export const MAX_BUNDLE_TRANSFER_BYTES = 64 * 1024 * 1024;

/**
 * This machine's speed, measured once (core/lab/calibration.ts) and stored in the lab, in the units a kind's
 * WorkEstimate counts: seconds per amplitude update (one 2×2 gate on one amplitude pair, in the cpu
 * simulator's adjoint training pass) and per floating-point operation (a transformer training step).
 */
export interface Calibration {
  /** ISO time of the measurement. */
  measuredAt: string;
  /** At the widest width timed (for work that names no width). */
  secondsPerAmplitudeOp: number;
  /** Per circuit width timed, narrowest first: small circuits pay per-gate overheads an amplitude count misses. */
  amplitudeRates: { qubits: number; secondsPerAmplitudeOp: number }[];
  secondsPerFlop: number;
  /**
   * A run's fixed costs (absent in a calibration from before they were measured: recalibrate): a job
   * process's start (spawn to ready: Node, the loader and every kind's modules), loading each bundled
   * dataset, and the tokenizer's training and encoding per corpus character.
   */
  setup?: CalibratedSetup;
  /**
   * Seconds per density-matrix update (one gate or channel applied to a ρ of n qubits counts 4^n), by width,
   * timed with the noisy simulator (absent in a calibration from before it was measured).
   */
  densityRates?: { qubits: number; secondsPerAmplitudeOp: number }[];
  /**
   * GGUF models timed as the QD-LLM teacher runs them (LabApi.calibrate's ggufFiles), one per file: an entry
   * holds while the file has the size and modification time it had when timed (getCalibration leaves out the
   * others).
   */
  gguf?: CalibratedGguf[];
  host: { cpu: string; cores: number };
  /** What was timed, in words. */
  detail: string;
}

/** A GGUF model's speed as the QD-LLM teacher uses it (Calibration.gguf), keyed by path, size and mtime. */
export interface CalibratedGguf {
  /** The file's real path, as a run's config names it once checked against the lab's roots. */
  path: string;
  /**
   * The other names it was timed by (a relative name inside the imports folder, a symlink), each kept only
   * while it still leads to this file: a config naming the file so finds the rate too.
   */
  names?: string[];
  size: number;
  mtimeMs: number;
  /** node-llama-cpp's import, the model's load and its contexts' creation (wall time: native threads). */
  loadSeconds: number;
  /**
   * A teacher's work per sample, the prompt evaluated to its label logits and the text embedded, timed on
   * prompts of bundled text at two lengths (wall time): a fixed cost per sample and one per character of
   * prompt and text.
   */
  secondsPerSample: number;
  secondsPerChar: number;
  /** The model's tokens per character of the timed prompts (for the detail). */
  tokensPerChar: number;
  measuredAt: string;
}

/** LabApi.calibrate's request: with `ggufFiles`, only those GGUF models are timed and stored beside the rest. */
export interface CalibrateRequest {
  ggufFiles?: string[];
}

/** A run's fixed costs on this machine (Calibration.setup). */
export interface CalibratedSetup {
  /** A job process from spawn to ready (its CPU time where the OS reports it, else wall time). */
  jobStartSeconds: number;
  /** Loading each bundled dataset by name (read, clean, deduplicate, split), once per job process. */
  datasetSeconds: Record<string, number>;
  /** Training a byte-level BPE on a corpus and encoding it, per character. */
  secondsPerTokenizerChar: number;
  /**
   * Starting the cpu simulator's thread pool (createCpuSimulator + prepareSync: its workers and their wasm
   * kernels) and stopping it, at the job's thread count (absent in a calibration from before it was timed).
   */
  simulatorStartSeconds?: number;
}

/**
 * The calibrated seconds per amplitude update at a circuit width: the timed width's rate, interpolated
 * (log-linearly) between two timed widths, the nearest one's outside them.
 */
export function rateAt(
  rates: readonly { qubits: number; secondsPerAmplitudeOp: number }[],
  qubits: number,
): number {
  const r = [...rates].sort((a, b) => a.qubits - b.qubits);
  if (qubits <= r[0].qubits) return r[0].secondsPerAmplitudeOp;
  const last = r[r.length - 1];
  if (qubits >= last.qubits) return last.secondsPerAmplitudeOp;
  const i = r.findIndex((x) => x.qubits >= qubits);
  const [a, b] = [r[i - 1], r[i]];
  const t = (qubits - a.qubits) / (b.qubits - a.qubits);
  return Math.exp(Math.log(a.secondsPerAmplitudeOp) * (1 - t) + Math.log(b.secondsPerAmplitudeOp) * t);
}

/** Group-by choices of the runs table (a run with several tags is in each of their groups). */
export const RUN_GROUP_BYS = ['kind', 'tag', 'sweep'] as const;
export type RunGroupBy = (typeof RUN_GROUP_BYS)[number];
/** Runs one queryRuns call returns at most (a window of the table). */
export const MAX_QUERY_WINDOW = 1_000;
/** Ids queryRuns lists at most with `withIds` (select all). */
export const MAX_QUERY_IDS = 100_000;
/**
 * A column queryRuns sorts by: a fixed one, `summary:<key>` (a final figure) or `config:<path>` (a config
 * field as flattenConfig names it).
 */
export const RUN_SORT_COLUMNS = [
  'status',
  'kind',
  'name',
  'progress',
  'created',
  'duration',
  'headline',
  'tags',
] as const;

export interface RunGroupCount {
  /**
   * The group's value as `group.value` takes it: a kind, a tag ('' for untagged), or by sweep a parent run's id
   * (its section is its points, the child runs) or 'single' (top-level runs without children).
   */
  value: string;
  count: number;
  /** By sweep: the sweep's parent run (the section's header). */
  run?: RunSummary;
}

export interface RunPage {
  /** Matching runs (within `group` when one is given). */
  total: number;
  /** Top-level runs in the lab, unfiltered. */
  all: number;
  offset: number;
  runs: RunSummary[];
  groups?: RunGroupCount[];
  ids?: string[];
  kinds?: string[];
  tags?: string[];
  summaryKeys?: string[];
}

/** Method names of LabApi that are plain request/response calls (everything but onEvent). */
export const LAB_API_METHODS = [
  'listKinds',
  'listRuns',
  'queryRuns',
  'getCalibration',
  'calibrate',
  'getRun',
  'createRun',
  'createSweep',
  'cancelRun',
  'getSeries',
  'compareRuns',
  'exportRuns',
  'setTags',
  'addNote',
  'getRunConfigs',
  'getRunLog',
  'updateNote',
  'deleteNote',
  'exportPdf',
  'exportBundle',
  'importBundle',
  'getFileRoots',
  'pickFileRoot',
  'removeFileRoot',
] as const satisfies readonly Exclude<keyof LabApi, 'onEvent'>[];
export type LabApiMethod = (typeof LAB_API_METHODS)[number];
