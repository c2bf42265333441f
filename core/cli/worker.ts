// `qlab worker`: one compute machine of a distributed lab. It opens the shared store and queue, takes runs
// from the queue (up to --concurrency at once), runs each in a job process exactly as a local lab does and
// writes metric batches, heartbeats and status to the shared store; a hub's cancel reaches it through the
// store within a poll (250 ms). Runs until SIGINT/SIGTERM; runs still going then end `interrupted`.
import { hostname } from 'node:os';
import { intOption, parseArgs, type CommandSpec } from './args';
import { type CliContext, resolveLabDir, untilSignal } from './context';
import { CliError, EXIT } from './errors';
import { specFrom } from '../lab/endpoints';
import { redactUrl } from '../lab/store-pg';

export const WORKER_SPEC = {
  name: 'worker',
  options: {
    'lab-dir': { type: 'string' },
    store: { type: 'string' },
    queue: { type: 'string' },
    concurrency: { type: 'string', short: 'c' },
    name: { type: 'string' },
  },
  positionals: { min: 0, max: 0, label: '' },
} satisfies CommandSpec;

export async function workerCommand(
  argv: string[],
  ctx: CliContext,
  /** Resolves when the worker should stop; by default on SIGINT or SIGTERM. */
  stopSignal?: Promise<void>,
): Promise<number> {
  const a = parseArgs(WORKER_SPEC, argv);
  const concurrency = intOption(a, 'concurrency', 1, 1, 256);
  const name = (a.strings.name ?? hostname()).trim();
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (name === '' || name.length > 200 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new CliError('--name: give 1 to 200 printable characters');
  }
  const store = specFrom(a.strings.store, ctx.env.QLAB_STORE);
  const queue = specFrom(a.strings.queue, ctx.env.QLAB_QUEUE);
  if (queue === undefined || !/^rediss?:\/\//.test(queue.value.trim())) {
    throw new CliError('a worker needs a shared queue: --queue redis://host:port (or QLAB_QUEUE)');
  }
  if (store === undefined || !/^postgres(ql)?:\/\//.test(store.value.trim())) {
    throw new CliError('a worker needs a shared store: --store postgres://user@host/db (or QLAB_STORE)');
  }
  const labDir = resolveLabDir(a.strings['lab-dir'], ctx);
  const lab = await ctx.openLab(labDir, {
    schedule: true,
    storeSpec: store,
    queueSpec: queue,
    concurrency,
    workerName: name,
    // a job process waits ready for the next run: starting one costs seconds, a short run much less
    warmSpare: true,
  });
  try {
    ctx.stdout.write(
      `qlab worker ${name}: ${concurrency} job(s) at once from ${redactUrl(queue.value)}, store ${redactUrl(store.value)}\n`,
    );
    await (stopSignal ?? untilSignal());
  } finally {
    await lab.close();
  }
  return EXIT.ok;
}
