// What a job kind says about itself, for the renderer's wizards, the CLI and the docs: its fields (derived
// from the config schema, so ranges cannot disagree), a wizard layout, presets, and pure functions for the
// parameter counts, circuits and resources of a config. Isomorphic: no Node, no simulator, no nn kernels.
import type { z } from 'zod';
import type { Circuit } from '../../quantum/circuit';
import { describeFields, type JsonSchema } from './fields';

export type Scalar = string | number | boolean | null;

/** One test on a config value (absent values are `undefined`): one of `in`, none of `notIn`, set or not. */
export interface Condition {
  path: string;
  in?: readonly Scalar[];
  notIn?: readonly Scalar[];
  present?: boolean;
}
/** Holds when every condition holds (the empty list always holds). */
export type When = readonly Condition[];

export type FieldType =
  | 'int'
  | 'number'
  | 'boolean'
  | 'enum'
  | 'string'
  | 'int-list'
  | 'number-list'
  | 'string-list'
  | 'record'
  | 'object';

/** Extra keys a schema field carries in `.meta()` beside zod's `title` (label) and `description` (help). */
export interface FieldAbout {
  title: string;
  description: string;
  unit?: string;
  /** A sweep may vary it: each level gives a valid run of the same shape. */
  sweepable?: boolean;
  /**
   * The value names a local file or folder. The lab checks it against its file roots before a request from
   * the API (HTTP, IPC) is stored (core/lab/file-roots.ts); keys named path/file/dir/modelDir/modelPath or
   * ending in Path/Dir/File are taken as files even unmarked.
   */
  file?: boolean;
  /**
   * The value names a labelled data file (CSV, TSV or JSONL): the dotted config keys (from the config's root)
   * of its text column, its label column and, where the kind has one, its format field. createRun reads the
   * file's head and refuses it, naming the column's field, when a column is missing (core/lab/data-file-check.ts).
   */
  dataFile?: DataFileColumns;
  /** Labels of enum values (default: the value). */
  optionLabels?: Readonly<Record<string, string>>;
}

/** Where a labelled data file's columns (and format) are named in the config: dotted keys from its root. */
export interface DataFileColumns {
  text: string;
  label: string;
  format?: string;
}

/** `.meta()` of a schema field: its label and extras; its help goes in `.describe()`. */
export function about(title: string, extra: Omit<FieldAbout, 'title' | 'description'> = {}) {
  return { title, ...extra };
}

/** A config field as the schema defines it. Bounds apply to the value, or to each item of a list. */
export interface FieldMeta {
  /** Dotted config path, e.g. "teacher.hiddenSize". */
  key: string;
  path: readonly string[];
  label: string;
  help: string;
  unit?: string;
  type: FieldType;
  min?: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
  minItems?: number;
  maxItems?: number;
  options?: readonly string[];
  optionLabels?: Readonly<Record<string, string>>;
  /** What an empty input means: null, or the key left out. */
  empty?: 'null' | 'absent';
  default?: unknown;
  sweepable: boolean;
  /** Names a local file or folder (`about(…, { file: true })`). */
  file?: boolean;
  /** Names a labelled data file whose columns createRun checks (`about(…, { file: true, dataFile })`). */
  dataFile?: DataFileColumns;
  /** The variant of a discriminated union the field belongs to (e.g. teacher.source = gguf). */
  variant?: Condition;
}

/** A select that is not one config leaf: each choice is recognised by `when` and written by `set`. */
export interface SwitchMeta {
  /** Input id (not a config key). */
  id: string;
  label: string;
  help: string;
  /** The config key the switch shapes; errors under it land here when no field is closer. */
  key: string;
  choices: readonly {
    value: string;
    label: string;
    /** The first choice whose `when` holds is the one shown. */
    when: When;
    /** Keys left out, then objects started from their schema defaults, then values written in order. */
    remove?: readonly string[];
    fill?: readonly string[];
    set?: Readonly<Record<string, Scalar>>;
  }[];
}

/** A field placed with another face than its schema's (e.g. the dataset as a file path). */
export interface FieldRef {
  key: string;
  id?: string;
  label?: string;
  help?: string;
  options?: readonly string[];
  optionLabels?: Readonly<Record<string, string>>;
}

/** Items shown only while `when` holds. */
export interface GroupMeta {
  when: When;
  items: readonly StepItem[];
}

/** A config key (an object key expands to its fields), a re-faced field, a switch or a conditional group. */
export type StepItem = string | FieldRef | SwitchMeta | GroupMeta;

export interface StepMeta {
  id: string;
  title: string;
  items: readonly StepItem[];
  /** Config keys owned beyond those its items name: errors under them open this step. */
  owns?: readonly string[];
  /** A fixed note shown while `when` holds (e.g. what a GGUF model needs). */
  note?: { when: When; text: string };
}

export interface PresetMeta {
  id: string;
  label: string;
  /**
   * One line: what the preset runs (sizes, seeds, its example file). No time: the wizard computes how long it
   * takes on this machine from the kind's work model and the lab's calibration.
   */
  about: string;
  /** Merged over the kind's defaults (objects merge, arrays and values replace). */
  config: Readonly<Record<string, unknown>>;
}

/** Trainable parameters of one model of the comparison. */
export interface ModelCount {
  key: string;
  label: string;
  role: 'quantum' | 'baseline';
  /** null when a size is known only at run time (`needs` says which). */
  params: number | null;
  parts?: Readonly<Record<string, number>>;
  /** The formula with what is known filled in. */
  formula?: string;
  needs?: readonly string[];
}

export interface NamedCircuit {
  name: string;
  circuit: Circuit;
  /** Times it runs per step or sample, in words (e.g. "per sample, × 2 encoders"). */
  note?: string;
}

export interface ResourceLine {
  label: string;
  value: number;
  unit: 'bytes' | 'count' | 'qubits';
  note?: string;
}

/**
 * The work of a run in units a machine's speed turns into seconds: floating-point operations of the classical
 * part and amplitude updates (one 2×2 gate on one amplitude pair = 1) of the simulated circuits.
 */
export interface WorkEstimate {
  flops: number;
  amplitudeOps: number;
  /** Width of the circuits that do most of the amplitude updates (a calibration's rate depends on it). */
  qubits?: number;
  /**
   * The amplitude updates split by circuit width, each estimated at its width's rate (work over circuits of
   * very different sizes); `amplitudeOps` is their sum.
   */
  byWidth?: readonly { qubits: number; amplitudeOps: number }[];
  /**
   * Density-matrix updates of noisy circuits (each gate and channel on ρ: 4^n entries) by width, estimated at
   * the calibration's density rate for that width.
   */
  densityByWidth?: readonly { qubits: number; densityOps: number }[];
  /** The run's fixed set-up work besides its job process's start (which every run has). */
  setup?: SetupWork;
  /**
   * Work through GGUF models (node-llama-cpp), estimated at the calibration's rate for that file
   * (Calibration.gguf, matched by path): samples passed, characters of prompt and text they read, and loads.
   */
  gguf?: readonly { path: string; samples: number; chars: number; loads: number }[];
  /** What was counted, in words. */
  note?: string;
}

/** Set-up work a run does before and between its counted steps, in units the calibration times. */
export interface SetupWork {
  /** Bundled datasets the job process loads (once per name and split seed: list each load). */
  datasets?: readonly string[];
  /** Characters the byte-level BPE trains on and encodes (every tokenizer the run trains, summed). */
  tokenizerChars?: number;
  /** Cpu simulators the run starts with their thread pool ready (createCpuSimulator + prepareSync). */
  simulators?: number;
}

/**
 * What one run of a config makes beyond itself, for the wizard's "this submission creates …" line: the child
 * runs of its own sweep (each point a child run under it in the lab; recorded inside the run when the run is
 * itself a lab-level sweep's point), whole repetitions inside it (`vary`), and the seeds each model trains.
 */
export interface RunPlan {
  /** Child runs the run creates (its own sweep's points); 0 when none. */
  childRuns: number;
  /** What the child runs are, in words (e.g. "the fraction/depth sweep's points, each over 3 seeds"). */
  childRunsWhat?: string;
  /** Whole one-seed runs inside the run, side by side (`vary`); 1 when none. */
  repetitions: number;
  /** What the repetitions vary, in words (e.g. "split and teacher"). */
  repetitionsWhat?: string;
  /** Seeds every model trains over inside the run (1 when the kind has no seeds). */
  seeds: number;
}

export interface KindMeta<C = unknown> {
  kind: string;
  title: string;
  description: string;
  /** The config schema (isomorphic); validation, defaults and field ranges all come from it. */
  schema: z.ZodType<C>;
  jsonSchema: JsonSchema;
  fields: readonly FieldMeta[];
  steps: readonly StepMeta[];
  /** The first is selected by default (small); a paper-sized one follows. */
  presets: readonly PresetMeta[];
  parameterCounts(config: C): ModelCount[];
  circuits(config: C): NamedCircuit[];
  resources(config: C): ResourceLine[];
  /** The run's work, for the wizard's run-time estimate on this machine (kinds without it show none). */
  work?(config: C): WorkEstimate;
  /** What a run of the config creates beyond itself (child runs, repetitions, seeds); absent: nothing. */
  runPlan?(config: C): RunPlan;
}

/** A kind's metadata with its fields derived from the schema; the config type flows from the schema. */
export function defineKindMeta<C>(def: Omit<KindMeta<C>, 'jsonSchema' | 'fields'>): KindMeta<C> {
  const { jsonSchema, fields } = describeFields(def.schema);
  return { ...def, jsonSchema, fields };
}

/** Fields with this key: one, or one per union variant that has it. */
export function fieldsAt(meta: Pick<KindMeta, 'fields'>, key: string): FieldMeta[] {
  return meta.fields.filter((f) => f.key === key);
}

/** Option labels of the `precision` select of every kind that simulates circuits. */
export const PRECISION_LABELS = { f32: 'f32 (complex64, fast)', f64: 'f64 (complex128, reference)' };
