// `qlab roots [list]`, `qlab roots add <folder>`, `qlab roots remove <folder>`: the folders whose files a
// request over HTTP or IPC may name (core/lab/file-roots.ts). Browser mode cannot edit them from the page (a
// page must not widen what the server reads); the desktop app also adds them with a folder dialog.
import { mkdirSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LabError } from '../api/lab-api';
import { IMPORTS_DIR, SETTINGS_FILE, addFileRoot, readSettings, removeFileRoot } from '../lab/file-roots';
import { parseArgs, type CommandSpec } from './args';
import { resolveLabDir, type CliContext } from './context';
import { CliError, EXIT } from './errors';

const SPEC: CommandSpec = {
  name: 'roots',
  options: { 'lab-dir': { type: 'string' }, json: { type: 'boolean' } },
  positionals: { min: 0, max: 2, label: "'list', 'add FOLDER' or 'remove FOLDER'" },
};

function lines(labDir: string): { path: string; source: 'imports' | 'settings'; exists: boolean }[] {
  return [
    { path: join(labDir, IMPORTS_DIR), source: 'imports', exists: true },
    ...readSettings(labDir).fileRoots.map((p) => ({
      path: p,
      source: 'settings' as const,
      exists: statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false,
    })),
  ];
}

export async function rootsCommand(argv: string[], ctx: CliContext): Promise<number> {
  const a = parseArgs(SPEC, argv);
  const [sub = 'list', folder] = a.positionals;
  const labDir = resolveLabDir(a.strings['lab-dir'], ctx);
  try {
    if (sub === 'list') {
      if (folder !== undefined) throw new CliError(`'qlab roots list' takes no folder`);
    } else if (sub === 'add' || sub === 'remove') {
      if (folder === undefined || folder.trim() === '')
        throw new CliError(`'qlab roots ${sub}' needs a FOLDER`);
      const abs = resolve(ctx.cwd, folder);
      if (sub === 'add') {
        const st = statSync(abs, { throwIfNoEntry: false });
        if (!st?.isDirectory()) throw new CliError(`${abs}: no such folder`);
        mkdirSync(labDir, { recursive: true });
        // the real path: a symlinked folder is granted as what it points to
        addFileRoot(labDir, realpathSync(abs));
      } else {
        const listed = readSettings(labDir).fileRoots;
        // as listed, else as the real path `add` wrote
        let target = abs;
        if (!listed.includes(abs)) {
          try {
            target = realpathSync(abs);
          } catch {
            // a folder that is gone: only its listed spelling can match
          }
        }
        removeFileRoot(labDir, listed.includes(folder) ? folder : target);
      }
    } else {
      throw new CliError(`unknown 'qlab roots' command '${sub}' (list, add or remove)`);
    }
    const roots = lines(labDir);
    if (a.booleans.json) {
      ctx.stdout.write(`${JSON.stringify({ settingsFile: join(labDir, SETTINGS_FILE), roots }, null, 2)}\n`);
    } else {
      for (const r of roots) {
        const note = r.source === 'imports' ? '  (imports folder, always)' : r.exists ? '' : '  (missing)';
        ctx.stdout.write(`${r.path}${note}\n`);
      }
    }
    return EXIT.ok;
  } catch (e) {
    if (e instanceof LabError) throw new CliError(e.message);
    throw e;
  }
}
