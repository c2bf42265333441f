// `qlab bundle export <id…> --out runs.qlab` and `qlab bundle import runs.qlab`: finished runs moved between labs
// as one file (format: core/lab/bundle.ts). Both work on the lab's store directly, beside any running lab.
import { existsSync, rmSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { RunIdSchema } from '../api/lab-api';
import { LocalArtifactStore } from '../lab/artifact-store';
import { exportBundle, importBundle } from '../lab/bundle';
import { SqliteRunStore } from '../lab/store-sqlite';
import { Store } from '../lab/store';
import { parseArgs, type CommandSpec } from './args';
import { resolveLabDir, type CliContext } from './context';
import { CliError, EXIT } from './errors';

const EXPORT_SPEC: CommandSpec = {
  name: 'bundle export',
  options: { out: { type: 'string', short: 'o' }, 'lab-dir': { type: 'string' }, json: { type: 'boolean' } },
  positionals: { min: 1, max: null, label: 'one or more run ids' },
};
const IMPORT_SPEC: CommandSpec = {
  name: 'bundle import',
  options: { 'lab-dir': { type: 'string' }, json: { type: 'boolean' } },
  positionals: { min: 1, max: 1, label: 'a bundle file' },
};

/** A full id, or a unique prefix of one (4+ characters), children included. */
function resolveId(store: Store, text: string): string {
  const t = text.toLowerCase();
  if (RunIdSchema.safeParse(t).success) return t;
  if (!/^[0-9a-f-]{4,36}$/.test(t))
    throw new CliError(`'${text}' is not a run id or an id prefix of 4+ characters`);
  const hits = (
    store.db.prepare('SELECT id FROM runs WHERE substr(id, 1, ?) = ? LIMIT 5').all(t.length, t) as {
      id: string;
    }[]
  ).map((r) => r.id);
  if (hits.length === 0) throw new CliError(`no run matches '${text}'`);
  if (hits.length > 1) throw new CliError(`'${text}' is ambiguous: it matches several runs`);
  return hits[0];
}

function path(ctx: CliContext, p: string): string {
  return isAbsolute(p) ? p : resolve(ctx.cwd, p);
}

export async function bundleCommand(argv: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'export') {
    const a = parseArgs(EXPORT_SPEC, rest);
    const out = a.strings.out;
    if (out === undefined || out.trim() === '') throw new CliError(`'qlab bundle export' needs --out FILE`);
    const labDir = resolveLabDir(a.strings['lab-dir'], ctx);
    if (!existsSync(join(labDir, 'lab.sqlite'))) {
      throw new CliError(`no lab at ${labDir} (no lab.sqlite there; 'qlab run' creates one)`);
    }
    const outPath = path(ctx, out);
    if (!statSync(dirname(outPath), { throwIfNoEntry: false })?.isDirectory()) {
      throw new CliError(`--out ${out}: the folder ${dirname(outPath)} does not exist`);
    }
    if (statSync(outPath, { throwIfNoEntry: false })?.isDirectory()) {
      throw new CliError(`--out ${out} is a folder; name the bundle file`);
    }
    const store = Store.open(join(labDir, 'lab.sqlite'));
    try {
      const ids = a.positionals.map((p) => resolveId(store, p));
      const r = await exportBundle(
        new SqliteRunStore(store, join(labDir, 'lab.sqlite')),
        new LocalArtifactStore(labDir),
        ids,
        path(ctx, out),
      );
      if (a.booleans.json) ctx.stdout.write(JSON.stringify({ out: path(ctx, out), ...r }, null, 2) + '\n');
      else {
        ctx.stdout.write(
          `exported ${r.runIds.length} run(s) and ${r.artifacts} artifact file(s) to ${out} (${r.bytes} bytes)\n`,
        );
      }
      return EXIT.ok;
    } finally {
      store.close();
    }
  }
  if (sub === 'import') {
    const a = parseArgs(IMPORT_SPEC, rest);
    const file = path(ctx, a.positionals[0]);
    const labDir = resolveLabDir(a.strings['lab-dir'], ctx);
    // A refused import into a lab that did not exist leaves no lab behind.
    const dirExisted = existsSync(labDir);
    const dbFile = join(labDir, 'lab.sqlite');
    const dbExisted = existsSync(dbFile);
    const store = Store.open(dbFile);
    let ok = false;
    try {
      const r = await importBundle(
        new SqliteRunStore(store, dbFile),
        new LocalArtifactStore(labDir),
        labDir,
        file,
      );
      ok = true;
      if (a.booleans.json) ctx.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else {
        ctx.stdout.write(
          `imported ${r.imported.length} run(s) and ${r.artifacts} artifact file(s); ` +
            `${r.skipped.length} already in the lab, left as they were\n`,
        );
      }
      return EXIT.ok;
    } finally {
      store.close();
      if (!ok && !dbExisted) {
        if (!dirExisted) rmSync(labDir, { recursive: true, force: true });
        else for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) rmSync(f, { force: true });
      }
    }
  }
  throw new CliError(
    sub === undefined
      ? `'qlab bundle' needs 'export <id…> --out FILE' or 'import FILE'`
      : `unknown 'qlab bundle' command '${sub}' (export or import)`,
  );
}
