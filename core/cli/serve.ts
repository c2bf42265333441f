// `qlab serve`: opens the lab, starts the HTTP server, prints the URL, runs until SIGINT/SIGTERM.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { intOption, parseArgs, type CommandSpec } from './args';
import { type CliContext, resolveLabDir, untilSignal } from './context';
import { CliError, EXIT } from './errors';
import { isLoopbackHost, resolveServeSecurity, startServer } from './server';
import { specFrom } from '../lab/endpoints';
import { withRunWatch } from '../lab/run-watch';

export const SERVE_SPEC = {
  name: 'serve',
  options: {
    'lab-dir': { type: 'string' },
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    token: { type: 'string' },
    'renderer-dir': { type: 'string' },
    'api-only': { type: 'boolean' },
    store: { type: 'string' },
    queue: { type: 'string' },
  },
  positionals: { min: 0, max: 0, label: '' },
} satisfies CommandSpec;

export function defaultRendererDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'out', 'renderer');
}

export async function serveCommand(
  argv: string[],
  ctx: CliContext,
  /** Resolves when the server should stop; by default on SIGINT or SIGTERM. */
  stopSignal?: Promise<void>,
): Promise<number> {
  const a = parseArgs(SERVE_SPEC, argv);
  const port = intOption(a, 'port', 5178, 0, 65535);
  const { host, token, generated } = resolveServeSecurity({ host: a.strings.host, token: a.strings.token });
  let rendererDir: string | null = null;
  if (!a.booleans['api-only']) {
    rendererDir = a.strings['renderer-dir']
      ? resolve(ctx.cwd, a.strings['renderer-dir'])
      : defaultRendererDir();
    if (!existsSync(join(rendererDir, 'index.html'))) {
      throw new CliError(
        `the renderer is not built (${join(rendererDir, 'index.html')} is missing); run \`npm run build\` first`,
      );
    }
  }
  const labDir = resolveLabDir(a.strings['lab-dir'], ctx);
  const store = specFrom(a.strings.store, ctx.env.QLAB_STORE);
  const queue = specFrom(a.strings.queue, ctx.env.QLAB_QUEUE);
  // With a shared queue this process is a hub: it enqueues runs for workers and runs none itself.
  const hub = queue !== undefined && queue.value.trim() !== 'local';
  const lab = await ctx.openLab(labDir, { schedule: !hub, storeSpec: store, queueSpec: queue });
  try {
    // Runs another process writes (qlab run --detach, another serve) reach open tabs within a second.
    const watched = withRunWatch(lab);
    const server = await startServer({ api: watched, host, port, token, rendererDir });
    try {
      const shown = token === null ? server.url : `${server.url}?token=${encodeURIComponent(token)}`;
      ctx.stdout.write(`qlab serving on ${shown}\n`);
      if (!isLoopbackHost(host)) {
        ctx.stderr.write(
          `qlab: listening on ${host}: anyone who can reach this address and has the token can run jobs on this machine\n`,
        );
      }
      if (generated) ctx.stderr.write('qlab: generated a token for this session (it is in the URL above)\n');
      ctx.stderr.write(`lab: ${labDir}; press Ctrl-C to stop\n`);
      await (stopSignal ?? untilSignal());
    } finally {
      watched.stopWatch();
      await server.close();
    }
  } finally {
    await lab.close();
  }
  return EXIT.ok;
}
