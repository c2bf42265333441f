// The wizard's sweep: the axes a kind may vary (the fields its metadata marks sweepable, and the run seed),
// the values typed for each (parsed by the field's type, then every value checked by the kind's schema on the
// config with that value written in, as createSweep checks each point), the grid's size against
// MAX_SWEEP_RUNS, and the same sweep as a `qlab sweep <file> --vary …` command line.
import {
  MAX_SWEEP_AXES,
  MAX_SWEEP_RUNS,
  SEED_AXIS,
  describePoint,
  splitTopLevel,
  sweepGrid,
  withField,
  type SweepAxis,
} from '../../../../core/api/sweep';
import type { Config, ConfigIssue, FieldKind } from './spec';

export { MAX_SWEEP_AXES, MAX_SWEEP_RUNS, SEED_AXIS };

/** One axis the wizard offers: a sweepable config field (dotted key) or the run seed. */
export interface SweepAxisSpec {
  /** The dotted config key, or "seed"; createSweep's `axes[].field`. */
  field: string;
  label: string;
  help: string;
  /** How its values are typed: the field's kind (a select's values are its options), or the seed. */
  kind: FieldKind | 'seed';
  options?: readonly string[];
  /** The allowed values in words for the current config. */
  range: (c: Config) => string | null;
  /** Offered only while this holds (a field of one variant of a union). */
  when: (c: Config) => boolean;
}

export const SEED_AXIS_SPEC: SweepAxisSpec = {
  field: SEED_AXIS,
  label: 'run seed',
  help: "Each point's run seed (the review's seed is then not used).",
  kind: 'seed',
  range: () => 'integers 0 to 4294967295; a range such as 1..5',
  when: () => true,
};

export type ParsedValues = { values: unknown[] } | { error: string };

const SEED_MAX = 2 ** 32 - 1;
const RANGE = /^(-?\d+)\s*\.\.\s*(-?\d+)$/;

/** Splits at commas outside brackets, braces and double quotes (JSON values keep their commas), as `--vary` does. */
function splitItems(text: string): string[] {
  return splitTopLevel(text).map((s) => s.trim());
}

function parseItem(axis: SweepAxisSpec, item: string): unknown[] | { error: string } {
  const int = axis.kind === 'int' || axis.kind === 'seed';
  if (int || axis.kind === 'number') {
    const r = RANGE.exec(item);
    if (r && int) {
      const lo = Number(r[1]);
      const hi = Number(r[2]);
      if (hi < lo) return { error: `the range ${item} is empty (its end is below its start)` };
      if (hi - lo + 1 > MAX_SWEEP_RUNS)
        return { error: `the range ${item} has ${hi - lo + 1} values, over the limit of ${MAX_SWEEP_RUNS}` };
      return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
    }
    const n = Number(item);
    if (!Number.isFinite(n)) return { error: `"${item}" is not a number` };
    if (int && !Number.isInteger(n)) return { error: `"${item}" is not a whole number` };
    if (axis.kind === 'seed' && (n < 0 || n > SEED_MAX))
      return { error: `a seed must be an integer from 0 to ${SEED_MAX}, got ${item}` };
    return [n];
  }
  if (axis.kind === 'select') {
    if (axis.options && !axis.options.includes(item))
      return { error: `"${item}" is not one of ${axis.options.join(', ')}` };
    return [item];
  }
  if (axis.kind === 'boolean') {
    if (item !== 'true' && item !== 'false') return { error: `"${item}" is neither true nor false` };
    return [item === 'true'];
  }
  if (axis.kind === 'text') return [item];
  // lists, records: one JSON value per item (e.g. [2,4],[8,16])
  try {
    return [JSON.parse(item) as unknown];
  } catch {
    return { error: `"${item}" is not a JSON value (lists are written [2,4])` };
  }
}

/**
 * The values typed for an axis: comma-separated, a whole-number range `lo..hi` where the axis takes whole
 * numbers; empty text is an axis not swept (no values). Types only: ranges are the schema's (checkValues).
 */
export function parseSweepValues(axis: SweepAxisSpec, text: string): ParsedValues {
  if (text.trim() === '') return { values: [] };
  const values: unknown[] = [];
  const seen = new Set<string>();
  for (const item of splitItems(text)) {
    if (item === '') return { error: 'an empty value between commas' };
    const r = parseItem(axis, item);
    if (!Array.isArray(r)) return r;
    for (const v of r) {
      const key = JSON.stringify(v);
      if (seen.has(key)) return { error: `${formatValue(v)} is given twice` };
      seen.add(key);
      values.push(v);
      if (values.length > MAX_SWEEP_RUNS)
        return { error: `more than ${MAX_SWEEP_RUNS} values (the limit of runs per sweep)` };
    }
  }
  return { values };
}

/**
 * The first of `values` the kind's schema refuses on the config with it written at the axis's field (what
 * createSweep refuses for every point holding it), as one line naming the value; null when all pass. A
 * problem the base config already has is not the value's.
 */
export function checkValues(
  validate: (c: Config) => ConfigIssue[],
  config: Config,
  axis: SweepAxisSpec,
  values: readonly unknown[],
): string | null {
  if (axis.field === SEED_AXIS) return null;
  const base = new Set(validate(config).map((i) => `${i.field}\n${i.message}`));
  for (const v of values) {
    const issue = validate(withField(config, axis.field, v) as Config).find(
      (i) => !base.has(`${i.field}\n${i.message}`),
    );
    if (issue) return `${axis.field}=${formatValue(v)}: ${issue.message}`;
  }
  return null;
}

/** The grid's size: the product of the swept axes' value counts (0 when nothing is swept). */
export function gridSize(axes: readonly SweepAxis[]): number {
  return axes.length === 0 ? 0 : axes.reduce((n, a) => n * a.values.length, 1);
}

/**
 * The first point of the grid the schema refuses, as createSweep words it ("point k of N (a=1 b=2): …"):
 * for combinations no single value shows (two fields checked against each other). Null when every point passes.
 */
export function checkGrid(
  validate: (c: Config) => ConfigIssue[],
  config: Config,
  axes: readonly SweepAxis[],
): string | null {
  // a last seed axis leaves the config alone: check each combination of the others once, and name the first
  // failing one's point with the first seed, as the server's walk through the full grid meets it
  const last = axes[axes.length - 1];
  const seeds = last?.field === SEED_AXIS ? last.values : null;
  const fields = seeds ? axes.slice(0, -1) : axes;
  const grid = sweepGrid(fields);
  const total = grid.length * (seeds?.length ?? 1);
  for (let n = 0; n < grid.length; n++) {
    let c: unknown = config;
    for (const [field, value] of Object.entries(grid[n]))
      if (field !== SEED_AXIS) c = withField(c, field, value);
    const issue = validate(c as Config)[0];
    if (issue) {
      const point = seeds ? { ...grid[n], [SEED_AXIS]: seeds[0] } : grid[n];
      const k = n * (seeds?.length ?? 1) + 1;
      return `point ${k} of ${total} (${describePoint(point)}): ${issue.message}`;
    }
  }
  return null;
}

/** The configs of the grid's points (the seed axis left out). */
export function pointConfigs(config: Config, axes: readonly SweepAxis[]): Config[] {
  return sweepGrid(axes).map((p) => {
    let c: unknown = config;
    for (const [field, value] of Object.entries(p)) if (field !== SEED_AXIS) c = withField(c, field, value);
    return c as Config;
  });
}

/** A value as `qlab sweep --vary` reads it back (parseAxisValues): JSON, strings bare unless they need quotes. */
export function formatValue(v: unknown): string {
  if (typeof v !== 'string') return JSON.stringify(v);
  let parsesAsJson = true;
  try {
    JSON.parse(v);
  } catch {
    parsesAsJson = false;
  }
  return parsesAsJson || v !== v.trim() || v === '' || /[,[\]{}"]/.test(v) || RANGE.test(v)
    ? JSON.stringify(v)
    : v;
}

/** An axis's values for `--vary`: `lo..hi` for consecutive whole numbers (3 or more), else comma-separated. */
export function formatValues(values: readonly unknown[]): string {
  const ints = values.every((v) => typeof v === 'number' && Number.isInteger(v));
  if (ints && values.length >= 3 && values.every((v, i) => v === (values[0] as number) + i))
    return `${values[0] as number}..${values[values.length - 1] as number}`;
  return values.map(formatValue).join(',');
}

/** One shell word (POSIX quoting where needed). */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:=,+@%-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command line that starts the same sweep from a saved config file. */
export function sweepCommand(file: string, axes: readonly SweepAxis[]): string {
  return [
    'qlab sweep',
    shellWord(file),
    ...axes.map((a) => `--vary ${shellWord(`${a.field}=${formatValues(a.values)}`)}`),
  ].join(' ');
}

/** A file name for the saved config: the run's name or the kind, made safe. */
export function configFileName(name: string, kind: string): string {
  const base = (name.trim() || kind).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return `${base || 'run'}.json`;
}

/** The sweep file's name beside the config file's: `name.json` → `name.sweep.json`. */
export function sweepFileName(configFile: string): string {
  return configFile.replace(/\.json$/, '') + '.sweep.json';
}
