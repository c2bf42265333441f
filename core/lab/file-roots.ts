// Which local files a request that arrives over HTTP or IPC may name. A config field that names a file
// (dataset files, model directories, GGUF files) must resolve — symlinks followed — to a path inside one of
// the lab's file roots: `<labDir>/imports`, the folders listed in `<labDir>/settings.json` (`fileRoots`), and
// folders the user picked in a file dialog (added there by the desktop shell). The CLI, run by a local user
// on their own files, skips the check (`createRun(req, { localFiles: true })`).
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { z } from 'zod';
import { LabError } from '../api/lab-api';
import type { JobKind } from '../methods/job';
import { decodeUtf8Text } from '../util/text';
import { describeFields } from '../methods/metadata/fields';

export const IMPORTS_DIR = 'imports';
export const SETTINGS_FILE = 'settings.json';
/** settings.json is a small hand-edited file; anything bigger is not one. */
const MAX_SETTINGS_BYTES = 1 << 20;

const SettingsSchema = z
  .object({
    fileRoots: z.array(z.string().min(1).max(4096)).max(1000).default([]),
  })
  .loose();
export type LabSettings = z.infer<typeof SettingsSchema>;

export function readSettings(labDir: string): LabSettings {
  const file = join(labDir, SETTINGS_FILE);
  if (!existsSync(file)) return { fileRoots: [] };
  const text = readFileSync(file);
  if (text.length > MAX_SETTINGS_BYTES) {
    throw new LabError('invalid', `${file}: larger than ${MAX_SETTINGS_BYTES} bytes`, 'settings');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(decodeUtf8Text(text));
  } catch (e) {
    throw new LabError('invalid', `${file}: not valid JSON (${(e as Error).message})`, 'settings');
  }
  const r = SettingsSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new LabError('invalid', `${file}: ${issue.path.join('.')}: ${issue.message}`, 'settings');
  }
  return r.data;
}

/** Adds a folder (e.g. one picked in a file dialog) to the lab's file roots, in settings.json. */
export function addFileRoot(labDir: string, dir: string): string[] {
  if (!isAbsolute(dir)) throw new LabError('invalid', `file root must be an absolute path: ${dir}`, 'dir');
  const settings = readSettings(labDir);
  if (settings.fileRoots.includes(dir)) return settings.fileRoots;
  return writeRoots(labDir, settings, [...settings.fileRoots, dir]);
}

/** Removes a folder listed in settings.json (as it is written there); the imports folder is always a root. */
export function removeFileRoot(labDir: string, dir: string): string[] {
  const settings = readSettings(labDir);
  if (!settings.fileRoots.includes(dir)) {
    const why =
      resolve(dir) === resolve(labDir, IMPORTS_DIR)
        ? "the lab's imports folder is always a file root"
        : `it is not listed in ${join(labDir, SETTINGS_FILE)}`;
    throw new LabError('not-found', `path: cannot remove ${dir}: ${why}`, 'path');
  }
  return writeRoots(
    labDir,
    settings,
    settings.fileRoots.filter((r) => r !== dir),
  );
}

function writeRoots(labDir: string, settings: LabSettings, roots: string[]): string[] {
  const file = join(labDir, SETTINGS_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify({ ...settings, fileRoots: roots }, null, 2)}\n`);
  renameSync(tmp, file);
  return roots;
}

/** The lab's file roots as real paths (missing folders left out); the imports folder is made if absent. */
export function fileRoots(labDir: string): string[] {
  const imports = join(labDir, IMPORTS_DIR);
  mkdirSync(imports, { recursive: true });
  const out: string[] = [];
  for (const r of [imports, ...readSettings(labDir).fileRoots]) {
    try {
      out.push(realpathSync(r));
    } catch {
      // a listed folder that does not exist (yet) grants nothing
    }
  }
  return out;
}

/** Key names that always name a file or folder; a kind marks others with `about(…, { file: true })`. */
const FILE_KEY = /^(path|file|dir|modelDir|modelPath)$|(Path|Dir|File)$/;
/** `dataset` is a bundled name (brown-topics) or a file path (anything with a slash or an extension). */
const PATHLIKE = /[\\/]|\.[A-Za-z0-9]{1,12}$/;

const markedCache = new WeakMap<object, Set<string>>();

/** Dotted keys of the fields a kind's schema marks `file: true` in `.meta()`. */
function markedFileFields(kind: JobKind): Set<string> {
  let s = markedCache.get(kind);
  if (!s) {
    s = new Set();
    try {
      for (const f of describeFields(kind.schema).fields) if (f.file) s.add(f.key);
    } catch {
      // a schema JSON Schema cannot describe has no markers; the key-name rule still applies
    }
    markedCache.set(kind, s);
  }
  return s;
}

export interface FileReference {
  /** Where in the request, e.g. "config.datasetFile.path" or "config.sweep.factors.dataset[1]". */
  field: string;
  /** The dotted key without indices, as the field markers name it. */
  key: string;
  value: string;
  set(v: string): void;
}

/** Every string in a config that names a local file, with a setter to rewrite it. */
export function fileReferences(kind: JobKind, config: unknown): FileReference[] {
  const marked = markedFileFields(kind);
  const out: FileReference[] = [];
  const visit = (v: unknown, field: string, keys: string[], key: string, set: (x: string) => void): void => {
    if (typeof v === 'string') {
      const dotted = keys.join('.');
      const isFile =
        marked.has(dotted) ||
        FILE_KEY.test(key) ||
        ((key === 'dataset' || key === 'datasets') && PATHLIKE.test(v));
      if (isFile) out.push({ field, key: dotted, value: v, set });
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => visit(x, `${field}[${i}]`, keys, key, (n) => (v[i] = n)));
      return;
    }
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        visit(o[k], `${field}.${k}`, [...keys, k], k, (n) => (o[k] = n));
      }
    }
  };
  visit(config, 'config', [], '', () => undefined);
  return out;
}

/** True when `file` (a real path) is a root or inside one. */
function inside(file: string, roots: readonly string[]): boolean {
  return roots.some((r) => file === r || file.startsWith(r.endsWith(sep) ? r : r + sep));
}

/**
 * Checks every file a config names against the lab's roots and rewrites each to its real absolute path, so
 * the job reads exactly the file that was checked (relative names are taken inside the imports folder).
 * Returns the roots it checked against (the job opens the files under the same roots: core/util/file-guard.ts),
 * or null when the config names no file.
 * Throws `invalid` naming the field; never reads the file, so nothing of its content can reach a message.
 */
export function checkConfigFiles(labDir: string, kind: JobKind, config: unknown): string[] | null {
  const refs = fileReferences(kind, config);
  if (refs.length === 0) return null;
  const roots = fileRoots(labDir);
  for (const ref of refs) ref.set(checkFileInRoots(labDir, roots, ref.value, ref.field));
  return roots;
}

/**
 * One file a request names, checked against the lab's `roots` as checkConfigFiles checks a config's: its real
 * absolute path (a relative name is taken inside the imports folder). Throws `invalid` naming `field`.
 */
export function checkFileInRoots(
  labDir: string,
  roots: readonly string[],
  value: string,
  field: string,
): string {
  const abs = isAbsolute(value) ? value : resolve(labDir, IMPORTS_DIR, value);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    throw new LabError('invalid', `${field}: no such file or folder: ${abs}`, field);
  }
  if (!inside(real, roots)) {
    throw new LabError(
      'invalid',
      `${field}: ${abs} is outside the lab's file roots (the lab's imports folder and the folders listed in ${SETTINGS_FILE} or picked in a dialog); copy the file into ${join(labDir, IMPORTS_DIR)} or add its folder`,
      field,
    );
  }
  return real;
}
