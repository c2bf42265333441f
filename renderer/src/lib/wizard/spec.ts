// What a method wizard is made of: steps of typed fields over the kind's JSON config, built from the kind's
// metadata (build.ts). Each field reads its text from the config and writes a parsed value back; ranges and
// cross-field rules are the kind's schema's, checked as the user types (state/wizard.svelte.ts).
import type { ModelCount, ResourceLine, CircuitSummary, SubmissionPlan } from '../../../../core/api/kinds';
import type { Calibration } from '../../../../core/api/lab-api';
import { getAt, isPlainObject, type Path } from '../config-form';
import type { SweepAxisSpec } from './sweep';

export type Config = Record<string, unknown>;

export type FieldKind =
  | 'number'
  | 'int'
  | 'text'
  | 'select'
  | 'boolean'
  /** Comma-separated whole numbers. */
  | 'int-list'
  /** Comma-separated numbers. */
  | 'number-list'
  /** Comma-separated words. */
  | 'text-list'
  /** JSON text. */
  | 'json';

export interface FieldOption {
  value: string;
  label: string;
}

export interface WizardField {
  /** Unique within the wizard; the input's test id is `wiz-field-<id>`. */
  id: string;
  label: string;
  /** One line under the input (from docs/methods.md, through the schema). */
  help: string;
  kind: FieldKind;
  /** Config path the field edits; server errors naming it (or a path below it) land here. */
  path: Path;
  options?: readonly FieldOption[];
  /** What an empty input writes (numbers, lists, JSON and selects with an empty option): null or no key. */
  empty?: 'null' | 'absent';
  /** The allowed values in words for the current config (e.g. "2 to 24 qubits"). */
  range?: (c: Config) => string | null;
  /** Shown only while this holds for the current config. */
  when?: (c: Config) => boolean;
  /** Custom text of a field that is not one config leaf (a source switch). */
  read?: (c: Config) => string;
  /** The new config for the parsed value (default: the value at `path`). */
  write?: (c: Config, value: unknown) => Config;
}

export interface WizardStep {
  id: string;
  title: string;
  fields: readonly WizardField[];
  /** Config paths owned by this step beyond its fields: a server error under one of them opens this step. */
  owns?: readonly string[];
  /** A fixed note shown while it returns text (e.g. what a GGUF teacher needs). */
  note?: (c: Config) => string | null;
}

export interface WizardPreset {
  id: string;
  label: string;
  /** What the preset runs, in one line (its run time is computed: WizardSpec.estimate). */
  about: string;
  /** The preset's config, built from the kind's defaults. */
  build: (defaults: Config) => Config;
}

/** One problem the kind's schema finds, named as createRun names it ("config.alpha"). */
export interface ConfigIssue {
  field: string;
  message: string;
}

/** The sizes of a valid config, from the kind's own functions. */
export interface WizardPreview {
  models: ModelCount[];
  circuits: CircuitSummary[];
  resources: ResourceLine[];
}

/** What the preview shows beside the sizes: circuit drawings and a run-time estimate (when the kind has one). */
export interface PreviewExtras {
  drawings: { name: string; svg: string }[];
  estimate: {
    seconds: number;
    text: string;
    note?: string;
    calibrated?: boolean;
    untimedGguf?: string[];
  } | null;
}

export interface WizardSpec {
  kind: string;
  /** Steps before the review step the wizard appends. */
  steps: readonly WizardStep[];
  /** The first is applied when the wizard opens. */
  presets: readonly WizardPreset[];
  /** Every problem the kind's schema finds in the config (none: it would be accepted). */
  validate: (c: Config) => ConfigIssue[];
  /** Parameter counts, circuits and resources, or null while the config is not valid. */
  preview: (c: Config) => WizardPreview | null;
  /** Drawings of the circuits and the run-time estimate, or null while the config is not valid. */
  extras?: (c: Config, calibration?: Calibration | null) => PreviewExtras | null;
  /**
   * The run-time estimate of a config from the kind's work model and the lab's calibration (presets show it);
   * absent for a kind without a work model, whose presets show their typed line.
   */
  estimate?: (
    c: Config,
    calibration: Calibration | null,
  ) => { text: string; seconds: number; calibrated?: boolean; note?: string } | null;
  /** The axes a sweep may vary: the fields the kind's metadata marks sweepable, then the run seed. */
  sweepAxes?: readonly SweepAxisSpec[];
  /**
   * What submitting creates, from the kind's metadata: one config (a run and its own child runs) or a
   * sweep's point configs; null while one is invalid.
   */
  plan?: (configs: readonly Config[], sweep: boolean, copies?: number) => SubmissionPlan | null;
}

export function fieldKey(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** A copy of `obj` with `value` at `path`; undefined removes the key. Containers on the path are copied. */
export function withValue(obj: Config, path: Path, value: unknown): Config {
  const [head, ...rest] = path;
  const out: Config = { ...obj };
  if (rest.length === 0) {
    if (value === undefined) delete out[head as string];
    else out[head as string] = value;
    return out;
  }
  const child = out[head as string];
  out[head as string] = withValue(isPlainObject(child) ? child : {}, rest, value);
  return out;
}

/** Deep merge of plain objects: `over` wins; arrays and other values are replaced whole. */
export function deepMerge(base: Config, over: Readonly<Config>): Config {
  const out: Config = structuredClone(base);
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(v) && isPlainObject(b) ? deepMerge(b, v) : structuredClone(v);
  }
  return out;
}

/** The text a field shows for the config. */
export function readField(f: WizardField, c: Config): string {
  if (f.read) return f.read(c);
  const v = getAt(c, f.path);
  if (f.kind.endsWith('-list')) return Array.isArray(v) ? v.join(', ') : '';
  if (f.kind === 'json') return v === undefined ? '' : JSON.stringify(v);
  if (f.kind === 'boolean') return v === true ? 'true' : 'false';
  return v === undefined || v === null ? '' : String(v);
}

export type Parsed = { value: unknown } | { error: string };

function parseNumber(t: string, int: boolean): Parsed {
  const s = t.trim();
  const n = s === '' ? NaN : Number(s);
  if (!Number.isFinite(n)) return { error: 'must be a number' };
  if (int && !Number.isInteger(n)) return { error: 'must be a whole number' };
  return { value: n };
}

function parseList(t: string, kind: FieldKind): Parsed {
  const out: unknown[] = [];
  if (t.trim() === '') return { value: out };
  for (const part of t.split(',')) {
    if (kind === 'text-list') {
      out.push(part.trim());
      continue;
    }
    const p = parseNumber(part, kind === 'int-list');
    if ('error' in p) return { error: `"${part.trim()}" ${p.error} (comma-separated list)` };
    out.push(p.value);
  }
  return { value: out };
}

/** Parses what was typed into a field of this kind (type only: ranges are the schema's). */
export function parseField(f: WizardField, text: string): Parsed {
  if (text.trim() === '' && f.empty && f.kind !== 'text')
    return { value: f.empty === 'null' ? null : undefined };
  switch (f.kind) {
    case 'number':
    case 'int':
      return parseNumber(text, f.kind === 'int');
    case 'int-list':
    case 'number-list':
    case 'text-list':
      return parseList(text, f.kind);
    case 'boolean':
      return { value: text === 'true' };
    case 'select':
      return f.options && !f.options.some((o) => o.value === text)
        ? { error: `must be one of ${f.options.map((o) => o.value).join(', ')}` }
        : { value: text };
    case 'json':
      try {
        return { value: JSON.parse(text) };
      } catch (err) {
        return { error: `invalid JSON (${err instanceof Error ? err.message : String(err)})` };
      }
    case 'text':
      return { value: text };
  }
}

/** The config with the field set from its text, or the parse error. */
export function writeField(f: WizardField, c: Config, text: string): { config: Config } | { error: string } {
  const p = parseField(f, text);
  if ('error' in p) return p;
  return { config: f.write ? f.write(c, p.value) : withValue(c, f.path, p.value) };
}

export const visible = (f: WizardField, c: Config): boolean => !f.when || f.when(c);
