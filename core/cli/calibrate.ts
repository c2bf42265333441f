// `qlab calibrate`: measures this machine's rates for run-time estimates (the simulator, the transformer, the
// density-matrix simulator, a run's fixed costs) and stores them in the lab; `--gguf FILE…` times GGUF teacher
// models instead (LabApi.calibrate's ggufFiles), each in a job process of its own, and stores their rates
// beside the rest. The CLI's user names their own files: no file roots apply; relative names are taken from the
// working folder and stored with the rate as absolute names.
import { resolve } from 'node:path';
import type { Calibration, CalibratedGguf } from '../api/lab-api';
import { parseArgs, type CommandSpec } from './args';
import { resolveLabDir, type CliContext } from './context';
import { CliError, EXIT } from './errors';
import { printable } from './format';

/** GGUF files one request times at most (CalibrateRequestSchema's limit). */
export const MAX_GGUF_FILES = 8;

export const CALIBRATE_SPEC = {
  name: 'calibrate',
  options: {
    'lab-dir': { type: 'string' },
    gguf: { type: 'list' },
    json: { type: 'boolean' },
  },
  positionals: { min: 0, max: null, label: 'GGUF files after --gguf' },
} satisfies CommandSpec;

export interface CalibrateArgs {
  labDir: string;
  /** Absolute paths of the GGUF files to time; undefined: the whole calibration. */
  ggufFiles: string[] | undefined;
  json: boolean;
}

/**
 * `qlab calibrate [--gguf FILE [FILE…]]… [--lab-dir D] [--json]`: files after --gguf (and further files
 * after the first) are GGUF files, made absolute against the working folder; without --gguf no argument is
 * taken. One line per refusal, naming the option.
 */
export function parseCalibrateArgs(
  argv: readonly string[],
  ctx: Pick<CliContext, 'env' | 'cwd'>,
): CalibrateArgs {
  const a = parseArgs(CALIBRATE_SPEC, argv);
  const listed = a.lists.gguf;
  if (listed === undefined && a.positionals.length > 0) {
    throw new CliError(
      `'qlab calibrate' takes no arguments without --gguf; unexpected '${printable(a.positionals[0])}' (qlab calibrate --gguf FILE…)`,
    );
  }
  let ggufFiles: string[] | undefined;
  if (listed !== undefined) {
    const files = [...listed, ...a.positionals];
    files.forEach((f, i) => {
      if (f.trim() === '') throw new CliError(`--gguf: file ${i + 1} is empty; give a GGUF file's path`);
    });
    if (files.length > MAX_GGUF_FILES) {
      throw new CliError(`--gguf: at most ${MAX_GGUF_FILES} files at once, got ${files.length}`);
    }
    ggufFiles = [...new Set(files.map((f) => resolve(ctx.cwd, f)))];
  }
  return { labDir: resolveLabDir(a.strings['lab-dir'], ctx), ggufFiles, json: a.booleans.json === true };
}

const ms = (s: number): string => (s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(1)} ms`);

/** One line per timed GGUF file: its load, its cost per sample and per character. */
export function ggufLine(g: CalibratedGguf): string {
  return `GGUF ${printable(g.path)}: load ${ms(g.loadSeconds)}; per sample ${ms(g.secondsPerSample)} + ${(g.secondsPerChar * 1e6).toFixed(1)} µs per character (${g.tokensPerChar.toFixed(2)} tokens per character)`;
}

function summary(c: Calibration, files: readonly string[] | undefined): string {
  if (files !== undefined) {
    const timed = (c.gguf ?? []).filter(
      (g) => files.includes(g.path) || g.names?.some((n) => files.includes(n)),
    );
    return timed.map((g) => `${ggufLine(g)}\n`).join('');
  }
  return (
    `calibrated ${c.measuredAt} on ${printable(c.host.cpu)} (${c.host.cores} cores)\n` +
    `${printable(c.detail)}\n`
  );
}

export async function calibrateCommand(argv: string[], ctx: CliContext): Promise<number> {
  const args = parseCalibrateArgs(argv, ctx);
  // creates the lab when there is none yet; starts only runs created here (none)
  const lab = await ctx.openLab(args.labDir, { schedule: true, adoptQueued: false });
  try {
    if (!args.json && args.ggufFiles !== undefined) {
      ctx.stderr.write(
        `timing ${args.ggufFiles.length} GGUF model${args.ggufFiles.length === 1 ? '' : 's'} in a job process…\n`,
      );
    }
    const c = await lab.calibrate(args.ggufFiles === undefined ? undefined : { ggufFiles: args.ggufFiles }, {
      localFiles: true,
    });
    ctx.stdout.write(args.json ? `${JSON.stringify(c, null, 2)}\n` : summary(c, args.ggufFiles));
    return EXIT.ok;
  } finally {
    await lab.close();
  }
}
