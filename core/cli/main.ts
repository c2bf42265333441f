// Entry of the `qlab` command line: picks the command, prints errors as one line, returns the exit code.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  cancelCommand,
  compareCommand,
  exportCommand,
  runCommand,
  runsCommand,
  showCommand,
} from './commands';
import type { CliContext, CliLab, OpenOptions } from './context';
import { CliError, EXIT, describeFailure } from './errors';
import { bundleCommand } from './bundle';
import { calibrateCommand } from './calibrate';
import { rootsCommand } from './roots';
import { serveCommand } from './serve';
import { workerCommand } from './worker';
import { storeCommand } from './store';
import { sweepCommand } from './sweep';

export const USAGE = `usage: qlab <command> [options]

commands:
  run <config.json>       validate a run config, run it in a worker, show progress and the summary
                          [--lab-dir D] [--name N] [--tag T]... [--detach] [--json] [--quiet]
  sweep <config.json>     a sweep of the file's kind and config: one run per point of the --vary grid
                          --vary field=v1,v2,… [--vary seed=1..10]... [--concurrency N] [--json] [--quiet]
  runs                    list runs [--kind K] [--status S] [--tag T] [--limit N] [--json]
                          top-level runs; --all: with each run's children under it; --parent <id>: its children
  show <id>               one run: config, summary, metrics, report, children [--json]
  compare <id> <id>...    config diff and final metrics side by side [--json]
  export <id>...          --format json|csv|html [--out FILE] [--children: with each run's child runs]
  cancel <id>             cancel a queued or running run (from any process) [--wait SECONDS]
  bundle export <id>...   finished runs (with children, metrics, tags, notes, artifacts) into one file --out F
  bundle import <file>    add a bundle's runs to the lab (runs it already has are left as they are)
  roots [list|add|remove] the folders a request over HTTP or IPC may name files in [FOLDER]
  calibrate               time this machine's rates for run-time estimates [--json]
                          --gguf FILE...: time GGUF teacher models instead (each in a job process)
  serve                   browser mode [--port P] [--host H] [--token T] [--api-only]
                          a hub: --store postgres://… --queue redis://… (runs go to workers)
  worker                  run jobs from a shared queue --store postgres://… --queue redis://…
                          [--concurrency N] [--name NAME] [--lab-dir D]
  store migrate           copy a lab into a shared store --from sqlite:<file> --to postgres://…
  sim ...                 circuit simulator tools (qlab sim --help)
  bench ...               benchmarks (qlab bench --help)
  lm score ...            per-token log-probabilities and perplexity of a model directory (qlab lm --help)

The lab directory is --lab-dir, else $QLAB_HOME, else ~/.qlab. Ids may be shortened to a unique prefix.
--store/--queue default to $QLAB_STORE/$QLAB_QUEUE; passwords never go on the command line: PGPASSWORD or
~/.pgpass for PostgreSQL, QLAB_REDIS_PASSWORD for Redis.
Exit codes: 0 ok, 1 the run failed/was cancelled, 2 bad usage or input, 3 lab or system error.
See docs/cli.md.
`;

type Command = (argv: string[], ctx: CliContext) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  run: runCommand,
  runs: runsCommand,
  show: showCommand,
  compare: compareCommand,
  export: exportCommand,
  cancel: cancelCommand,
  bundle: bundleCommand,
  roots: rootsCommand,
  calibrate: calibrateCommand,
  serve: (argv, ctx) => serveCommand(argv, ctx),
  worker: (argv, ctx) => workerCommand(argv, ctx),
  store: storeCommand,
  sweep: sweepCommand,
  sim: (argv) => delegate('sim', argv),
  bench: (argv) => delegate('bench', argv),
  lm: (argv) => delegate('lm', argv),
};

/** sim, bench and lm live in their own modules (written separately); load them only when asked for. */
async function delegate(name: 'sim' | 'bench' | 'lm', argv: string[]): Promise<number> {
  const spec = `./${name}`;
  let mod: { main?: unknown };
  try {
    mod = (await import(/* @vite-ignore */ spec)) as { main?: unknown };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(`cli/${name}`)) {
      throw new CliError(
        `'qlab ${name}' is not available in this build (core/cli/${name}.ts is missing)`,
        EXIT.lab,
      );
    }
    throw e;
  }
  if (typeof mod.main !== 'function')
    throw new CliError(`core/cli/${name}.ts does not export main(argv)`, EXIT.lab);
  return (await (mod.main as (a: string[]) => Promise<number>)(argv)) ?? EXIT.ok;
}

export async function defaultOpenLab(labDir: string, opts: OpenOptions = {}): Promise<CliLab> {
  // Reading commands do not create a lab: a mistyped --lab-dir should say so, not show an empty one.
  const { storeSpec, queueSpec, ...rest } = opts;
  const shared = storeSpec !== undefined && !/^sqlite/.test(storeSpec.value.trim());
  if (opts.schedule === false && !shared && !existsSync(join(labDir, 'lab.sqlite'))) {
    throw new CliError(`no lab at ${labDir} (no lab.sqlite there; 'qlab run' creates one)`);
  }
  const { openLab } = await import('../lab/service');
  if (storeSpec === undefined && queueSpec === undefined) return openLab({ labDir, ...rest });
  const { openQueueSpec, openStoreSpec } = await import('../lab/endpoints');
  let store;
  try {
    store = await openStoreSpec(storeSpec, labDir);
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.lab);
  }
  let queue;
  try {
    queue = openQueueSpec(queueSpec, store);
  } catch (err) {
    await store.close();
    throw new CliError((err as Error).message, EXIT.usage);
  }
  // A hub announces every run queued in the shared store, also those queued while no hub ran.
  if (queue && opts.schedule === false) await queue.adoptQueued();
  return openLab({ labDir, ...rest, store, queue });
}

export function processContext(): CliContext {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    openLab: defaultOpenLab,
  };
}

export async function main(argv: string[], ctx: CliContext = processContext()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    (name === undefined ? ctx.stderr : ctx.stdout).write(USAGE);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    ctx.stdout.write(`qlab ${await version()}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  try {
    if (command === undefined) throw new CliError(`unknown command '${name}' (see qlab --help)`);
    if (!['sim', 'bench', 'lm'].includes(name) && (rest.includes('--help') || rest.includes('-h'))) {
      ctx.stdout.write(USAGE);
      return EXIT.ok;
    }
    return await command(rest, ctx);
  } catch (err) {
    const { line, exitCode } = describeFailure(err);
    ctx.stderr.write(`qlab: ${line}\n`);
    if (ctx.env.QLAB_DEBUG === '1' && err instanceof Error && err.stack) ctx.stderr.write(`${err.stack}\n`);
    return exitCode;
  }
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? 'unknown';
}
