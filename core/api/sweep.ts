// A lab-level sweep: one kind, a base config and axes (config field paths, or the run seed, each with a list of
// values); the grid is their cartesian product, one child run per point. Isomorphic (the renderer's wizard and
// the CLI build requests with it; the LabService validates them with it).
import { z } from 'zod';
import { RUN_REQUEST_FIELDS } from './lab-api';

/** Most child runs one sweep may have (the product of its axes' lengths). */
export const MAX_SWEEP_RUNS = 1000;
/** Most axes one sweep may vary at once. */
export const MAX_SWEEP_AXES = 8;
/** The axis that varies each child's run seed rather than a config field. */
export const SEED_AXIS = 'seed';

/** A value an axis takes: any JSON value the field's schema accepts (numbers, strings, booleans, lists…). */
const AxisValueSchema = z.unknown().refine((v) => v !== undefined, { message: 'a value is required' });

export const SweepAxisSchema = z
  .object({
    /** A dotted config path the kind marks sweepable (e.g. "lr", "teacher.hiddenSize"), or "seed". */
    field: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, {
        message: 'must be a dotted config path such as "lr" or "teacher.hiddenSize"',
      }),
    values: z
      .array(AxisValueSchema)
      .min(1, { message: 'an axis needs at least one value' })
      .max(MAX_SWEEP_RUNS, { message: `an axis takes at most ${MAX_SWEEP_RUNS} values` }),
  })
  .strict();
export type SweepAxis = z.infer<typeof SweepAxisSchema>;

export const CreateSweepRequestSchema = z
  .object({
    // `config` is the base config: every point is it with its axes' values written in; `seed` is every child's
    // seed unless `seed` is an axis (default: one random seed shared by all points)
    ...RUN_REQUEST_FIELDS,
    axes: z
      .array(SweepAxisSchema)
      .min(1, { message: 'a sweep needs at least one axis' })
      .max(MAX_SWEEP_AXES, { message: `a sweep varies at most ${MAX_SWEEP_AXES} fields at once` }),
  })
  .strict()
  .superRefine((r, ctx) => {
    const seen = new Set<string>();
    r.axes.forEach((a, i) => {
      if (seen.has(a.field))
        ctx.addIssue({ code: 'custom', path: ['axes', i, 'field'], message: `"${a.field}" is varied twice` });
      seen.add(a.field);
    });
    const n = r.axes.reduce((p, a) => p * a.values.length, 1);
    if (n > MAX_SWEEP_RUNS) {
      ctx.addIssue({
        code: 'custom',
        path: ['axes'],
        message: `the grid has ${n.toLocaleString('en-US')} points (${r.axes.map((a) => a.values.length).join(' × ')}), over the limit of ${MAX_SWEEP_RUNS.toLocaleString('en-US')} runs per sweep (MAX_SWEEP_RUNS)`,
      });
    }
  });
export type CreateSweepRequest = z.infer<typeof CreateSweepRequestSchema>;

/** What a sweep parent stores about itself: its axes, in order (the grid's first axis varies slowest). */
export interface SweepSpec {
  axes: SweepAxis[];
}

export const SweepSpecSchema = z.object({ axes: z.array(SweepAxisSchema) }).strict();

/** One grid point: the value of each axis, by field, in axis order. */
export type SweepPoint = Record<string, unknown>;

/** The cartesian product of the axes, first axis slowest (row-major), as one record per point. */
export function sweepGrid(axes: readonly SweepAxis[]): SweepPoint[] {
  let points: SweepPoint[] = [{}];
  for (const a of axes) {
    const next: SweepPoint[] = [];
    for (const p of points) for (const v of a.values) next.push({ ...p, [a.field]: v });
    points = next;
  }
  return points;
}

/**
 * The config with `value` written at a dotted path; objects on the way are copied (the base is not changed)
 * and made where missing.
 */
export function withField(config: unknown, path: string, value: unknown): unknown {
  const keys = path.split('.');
  const root: Record<string, unknown> =
    config !== null && typeof config === 'object' && !Array.isArray(config)
      ? { ...(config as Record<string, unknown>) }
      : {};
  let at = root;
  for (const k of keys.slice(0, -1)) {
    const cur = at[k];
    const copy: Record<string, unknown> =
      cur !== null && typeof cur === 'object' && !Array.isArray(cur)
        ? { ...(cur as Record<string, unknown>) }
        : {};
    at[k] = copy;
    at = copy;
  }
  at[keys[keys.length - 1]] = value;
  return root;
}

/** A point as short text, e.g. `lr=0.1 seed=3` (a child's name, a table's first column). */
export function describePoint(point: SweepPoint): string {
  return Object.entries(point)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

/**
 * Parses `1,2,3`, `0.1,0.01`, `a,b`, `true,false` or a range `1..10` (integers, both ends included) into
 * values: each item as JSON when it parses as JSON, else as a string. For `qlab sweep --vary`.
 */
export function parseAxisValues(text: string): unknown[] {
  const range = /^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$/.exec(text);
  if (range) {
    const lo = Number(range[1]);
    const hi = Number(range[2]);
    if (hi < lo) throw new Error(`the range ${text} is empty (its end is below its start)`);
    if (hi - lo + 1 > MAX_SWEEP_RUNS)
      throw new Error(`the range ${text} has ${hi - lo + 1} values, over the limit of ${MAX_SWEEP_RUNS}`);
    return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  }
  if (text.trim() === '') throw new Error('no values given');
  return splitTopLevel(text).map((item) => {
    const s = item.trim();
    if (s === '') throw new Error(`an empty value in "${text}"`);
    try {
      return JSON.parse(s) as unknown;
    } catch {
      return s;
    }
  });
}

/**
 * Splits at commas outside brackets, braces and double quotes (so `[2,4],[8,16]` is two values); items are not
 * trimmed. The wizard's axis fields split the same way.
 */
export function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}
