// What a method wizard is made of: steps of typed fields over the kind's JSON config. Each field reads its
// text from the config and writes a parsed value back; range checks are left to the server's schema, so
// its messages (e.g. "config.alpha: must be in [0, 1]") are the only ones the user has to learn.
import { getAt, isPlainObject, type Path } from '../config-form';

export type Config = Record<string, unknown>;

export type FieldKind =
  | 'number'
  | 'int'
  | 'text'
  | 'select'
  | 'boolean'
  /** A whole number or empty; empty writes null. */
  | 'nullable-int'
  /** A whole number or empty; empty removes the key. */
  | 'optional-int'
  /** Comma-separated whole numbers; empty removes the key. */
  | 'int-list'
  /** Comma-separated numbers; empty removes the key. */
  | 'number-list'
  /** JSON text; empty removes the key. */
  | 'json';

export interface FieldOption {
  value: string;
  label: string;
}

export interface WizardField {
  /** Unique within the wizard; the input's test id is `wiz-field-<id>`. */
  id: string;
  label: string;
  /** One line under the input (from docs/methods.md). */
  help: string;
  kind: FieldKind;
  /** Config path the field edits; server errors naming it (or a path below it) land here. */
  path: Path;
  options?: readonly FieldOption[];
  /** Shown only while this holds for the current config. */
  when?: (c: Config) => boolean;
  /** Custom text of a field that is not one config leaf (a source switch). */
  read?: (c: Config) => string;
  /** Custom write: the new config for the chosen text (already checked to be an option for selects). */
  write?: (c: Config, text: string) => Config;
}

export interface WizardStep {
  id: string;
  title: string;
  fields: readonly WizardField[];
  /** Config paths owned by this step beyond its fields: a server error under one of them opens this step. */
  owns?: readonly string[];
  /** A live line computed from the config (e.g. the trainable-parameter count). */
  summary?: (c: Config) => string | null;
  /** A fixed note shown while it returns text (e.g. what a GGUF teacher needs). */
  note?: (c: Config) => string | null;
}

export interface WizardPreset {
  id: string;
  label: string;
  /** The preset's config, built from the kind's defaults. */
  build: (defaults: Config) => Config;
}

export interface WizardSpec {
  kind: string;
  /** Steps before the review step the wizard appends. */
  steps: readonly WizardStep[];
  presets: readonly WizardPreset[];
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
export function deepMerge(base: Config, over: Config): Config {
  const out: Config = structuredClone(base);
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(v) && isPlainObject(b) ? deepMerge(b, v) : structuredClone(v);
  }
  return out;
}

function listText(v: unknown): string {
  return Array.isArray(v) ? v.join(', ') : '';
}

/** The text a field shows for the config. */
export function readField(f: WizardField, c: Config): string {
  if (f.read) return f.read(c);
  const v = getAt(c, f.path);
  switch (f.kind) {
    case 'int-list':
    case 'number-list':
      return listText(v);
    case 'json':
      return v === undefined ? '' : JSON.stringify(v);
    case 'boolean':
      return v === true ? 'true' : 'false';
    default:
      return v === undefined || v === null ? '' : String(v);
  }
}

export type Parsed = { value: unknown } | { error: string };

function parseNumber(t: string, int: boolean): Parsed {
  const s = t.trim();
  const n = s === '' ? NaN : Number(s);
  if (!Number.isFinite(n)) return { error: 'must be a number' };
  if (int && !Number.isInteger(n)) return { error: 'must be a whole number' };
  return { value: n };
}

function parseList(t: string, int: boolean): Parsed {
  if (t.trim() === '') return { value: undefined };
  const out: number[] = [];
  for (const part of t.split(',')) {
    const p = parseNumber(part, int);
    if ('error' in p) return { error: `"${part.trim()}" ${p.error} (comma-separated list)` };
    out.push(p.value as number);
  }
  return { value: out };
}

/** Parses what was typed into a field of this kind (type only: ranges are the server's). */
export function parseField(f: WizardField, text: string): Parsed {
  switch (f.kind) {
    case 'number':
      return parseNumber(text, false);
    case 'int':
      return parseNumber(text, true);
    case 'nullable-int':
      return text.trim() === '' ? { value: null } : parseNumber(text, true);
    case 'optional-int':
      return text.trim() === '' ? { value: undefined } : parseNumber(text, true);
    case 'int-list':
      return parseList(text, true);
    case 'number-list':
      return parseList(text, false);
    case 'boolean':
      return { value: text === 'true' };
    case 'select':
      return f.options && !f.options.some((o) => o.value === text)
        ? { error: `must be one of ${f.options.map((o) => o.value).join(', ')}` }
        : { value: text };
    case 'json':
      if (text.trim() === '') return { value: undefined };
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
  if (f.write) return { config: f.write(c, text) };
  return { config: withValue(c, f.path, p.value) };
}

export const visible = (f: WizardField, c: Config): boolean => !f.when || f.when(c);
