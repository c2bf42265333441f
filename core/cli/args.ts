// A small argument parser: each command declares its options; anything else is refused with one line.
import { CliError } from './errors';

export interface OptionSpec {
  /** 'string' takes a value (--port 8080 or --port=8080); 'boolean' is a switch; 'list' may repeat. */
  type: 'string' | 'boolean' | 'list';
  /** One-letter alias, e.g. 'o' for --out. */
  short?: string;
}

export interface CommandSpec {
  name: string;
  options: Record<string, OptionSpec>;
  /** Names of the positional arguments, for messages; `rest` collects any number after them. */
  positionals: { min: number; max: number | null; label: string };
}

export interface ParsedArgs {
  positionals: string[];
  strings: Record<string, string>;
  booleans: Record<string, boolean>;
  lists: Record<string, string[]>;
}

export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { positionals: [], strings: {}, booleans: {}, lists: {} };
  const byShort = new Map<string, string>();
  for (const [name, opt] of Object.entries(spec.options)) if (opt.short) byShort.set(opt.short, name);

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else if (arg.startsWith('-') && arg.length === 2 && arg !== '-') {
      name = byShort.get(arg[1]);
      if (name === undefined) throw new CliError(`unknown option ${arg} for 'qlab ${spec.name}'`);
    } else {
      out.positionals.push(arg);
      continue;
    }
    const opt = spec.options[name];
    if (opt === undefined) throw new CliError(`unknown option --${name} for 'qlab ${spec.name}'`);
    if (opt.type === 'boolean') {
      if (inline !== undefined) throw new CliError(`option --${name} takes no value`);
      out.booleans[name] = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      // A negative number is a value (e.g. `--wait -1`, refused by the option's own range check), not an option.
      if (next === undefined || (next.startsWith('-') && next.length > 1 && !/^-\.?\d/.test(next))) {
        throw new CliError(`option --${name} needs a value`);
      }
      value = next;
      i++;
    }
    if (opt.type === 'string') {
      if (name in out.strings) throw new CliError(`option --${name} given twice`);
      out.strings[name] = value;
    } else {
      (out.lists[name] ??= []).push(value);
    }
  }

  const n = out.positionals.length;
  const { min, max, label } = spec.positionals;
  if (n < min) throw new CliError(`'qlab ${spec.name}' needs ${label}`);
  if (max !== null && n > max) {
    throw new CliError(
      `'qlab ${spec.name}' takes ${max === 0 ? 'no arguments' : label}; unexpected '${out.positionals[max]}'`,
    );
  }
  return out;
}

/** A --port style option: an integer in [min, max], or the fallback when absent. */
export function intOption(
  args: ParsedArgs,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = args.strings[name];
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new CliError(`option --${name} must be an integer, got '${raw}'`);
  const v = Number(raw);
  if (v < min || v > max) throw new CliError(`option --${name} must be between ${min} and ${max}, got ${v}`);
  return v;
}
