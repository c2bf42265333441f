// Turns a kind's default config into editable form fields and back. Objects nest; every other value is a
// leaf: numbers, strings and booleans get their own inputs, arrays and null are edited as JSON text.

export type Path = readonly (string | number)[];

export type LeafType = 'number' | 'string' | 'boolean' | 'json';

export interface FormLeaf {
  path: Path;
  /** Dot/bracket notation as in error fields, e.g. "optimizer.lr" or "layers[2]". */
  field: string;
  type: LeafType;
  /** Nesting depth (0 for top-level keys) for indentation. */
  depth: number;
}

export interface FormGroup {
  path: Path;
  field: string;
  depth: number;
}

export type FormRow = ({ row: 'leaf' } & FormLeaf) | ({ row: 'group' } & FormGroup);

export function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function pathToField(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function leafType(v: unknown): LeafType {
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  return 'json';
}

/** Rows in document order: a group header before each nested object's fields. */
export function formRows(config: unknown): FormRow[] {
  const rows: FormRow[] = [];
  const walk = (v: Record<string, unknown>, path: Path): void => {
    for (const [k, child] of Object.entries(v)) {
      const p = [...path, k];
      if (isPlainObject(child)) {
        rows.push({ row: 'group', path: p, field: pathToField(p), depth: path.length });
        walk(child, p);
      } else {
        rows.push({ row: 'leaf', path: p, field: pathToField(p), type: leafType(child), depth: path.length });
      }
    }
  };
  if (isPlainObject(config)) walk(config, []);
  return rows;
}

export function getAt(obj: unknown, path: Path): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

/** A copy of `obj` with the value at `path` replaced (containers along the path are copied). */
export function setAt(obj: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (Array.isArray(obj)) {
    const copy = obj.slice();
    copy[head as number] = setAt(copy[head as number], rest, value);
    return copy;
  }
  const base = isPlainObject(obj) ? obj : {};
  return { ...base, [head]: setAt(base[head as string], rest, value) };
}

/** Parses what the user typed into a leaf; returns an error sentence instead of a value when it cannot. */
export function parseLeaf(type: LeafType, text: string): { value: unknown } | { error: string } {
  if (type === 'string') return { value: text };
  if (type === 'number') {
    const t = text.trim();
    const n = t === '' ? NaN : Number(t);
    return Number.isFinite(n) ? { value: n } : { error: 'must be a number' };
  }
  if (type === 'boolean') return { value: text === 'true' };
  try {
    return { value: JSON.parse(text) };
  } catch (err) {
    return { error: `invalid JSON (${err instanceof Error ? err.message : String(err)})` };
  }
}

/**
 * Which form field an error's field names. Errors about the config arrive as "config.a.b" (or "a.b");
 * one inside an array or a nested value lands on the longest field that is its prefix.
 */
export function errorTarget(errorField: string, fields: readonly string[]): string | null {
  // The field as named first (top-level "name", "seed", …), then as a config path.
  const candidates = errorField.startsWith('config.') ? [errorField] : [errorField, `config.${errorField}`];
  for (const c of candidates) {
    let best: string | null = null;
    for (const f of fields) {
      const hit = c === f || c.startsWith(`${f}.`) || c.startsWith(`${f}[`);
      if (hit && (best === null || f.length > best.length)) best = f;
    }
    if (best !== null) return best;
  }
  return null;
}

/** Comma- or space-separated tags, trimmed, empty ones dropped, duplicates removed. */
export function parseTags(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[,\s]+/)
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
}
