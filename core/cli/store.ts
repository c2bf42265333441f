// `qlab store migrate --from sqlite:<file> --to postgres://…`: copies a desktop lab into a shared store.
import { isAbsolute, resolve } from 'node:path';
import { parseArgs, type CommandSpec } from './args';
import type { CliContext } from './context';
import { CliError, EXIT } from './errors';
import { isPostgresSpec } from '../lab/endpoints';

export const STORE_SPEC = {
  name: 'store',
  options: { from: { type: 'string' }, to: { type: 'string' } },
  positionals: { min: 1, max: 1, label: 'migrate' },
} satisfies CommandSpec;

export async function storeCommand(argv: string[], ctx: CliContext): Promise<number> {
  const a = parseArgs(STORE_SPEC, argv);
  if (a.positionals[0] !== 'migrate')
    throw new CliError(`store: unknown subcommand '${a.positionals[0]}' (migrate)`);
  const from = a.strings.from;
  const to = a.strings.to;
  if (!from?.startsWith('sqlite:') || from.length === 'sqlite:'.length) {
    throw new CliError('store migrate: --from sqlite:<file> names the SQLite lab to copy');
  }
  if (!to || !isPostgresSpec(to))
    throw new CliError('store migrate: --to postgres://user@host/db names the target');
  let u: URL;
  try {
    u = new URL(to);
  } catch {
    throw new CliError('store migrate: --to is not a URL');
  }
  if (u.password) {
    throw new CliError(
      'store migrate: the --to URL holds a password (it would be kept in shell history); set PGPASSWORD or use ~/.pgpass',
    );
  }
  const raw = from.slice('sqlite:'.length);
  const file = isAbsolute(raw) ? raw : resolve(ctx.cwd, raw);
  const { migrateSqliteToPostgres } = await import('../lab/store-migrate');
  let r;
  try {
    r = await migrateSqliteToPostgres(file, to);
  } catch (err) {
    throw new CliError(`store migrate: ${(err as Error).message}`, EXIT.lab);
  }
  ctx.stdout.write(`copied ${r.copied} run(s), skipped ${r.skipped}, ${r.points} metric points\n`);
  return EXIT.ok;
}
