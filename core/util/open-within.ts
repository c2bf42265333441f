// Opening a file only if it lies inside a folder, with no window between the check and the open. Checking the
// real path and then opening it is racy: the file (or a folder on its path) can be swapped for a symlink to a
// file outside in between, and the open follows it. Here the path's text is checked first (nothing outside the
// folder by name is ever opened: not even an open that fails afterwards may touch /etc/shadow or a FIFO), then
// the file is opened and the opened file is what is checked: on Linux the kernel names it (/proc/self/fd/N),
// which leaves no window; elsewhere its real path is taken after the open and the file there must be the opened
// one (same device and inode), which refuses a file swapped in either direction but not a folder on its path
// swapped for a symlink at the right moment.
import { constants } from 'node:fs';
import { lstat, open, readlink, realpath, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

export interface OpenedWithin {
  handle: FileHandle;
  /** The opened file's real path (inside the folder). */
  real: string;
  stats: Stats;
}

/** Why openWithinAny did not open a file. */
export type OpenRefusal =
  /** The path's text, or the file opened, is outside every root (no handle is left open). */
  | { refused: 'outside' }
  /** The open (or the check of the opened file) failed: ENOENT, EACCES, ELOOP, … as the system said. */
  | { refused: 'error'; error: NodeJS.ErrnoException };

export function isRefusal(r: OpenedWithin | OpenRefusal): r is OpenRefusal {
  return 'refused' in r;
}

export function inside(file: string, root: string): boolean {
  return file === root || file.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** The real path of the open file, from the kernel where it can tell (Linux), else null. */
async function openedPath(handle: FileHandle): Promise<string | null> {
  if (process.platform !== 'linux') return null;
  try {
    const p = await readlink(`/proc/self/fd/${handle.fd}`);
    // a file deleted since it was opened reads "… (deleted)": not a path to trust
    return p.startsWith('/') && !p.endsWith(' (deleted)') ? p : null;
  } catch {
    return null;
  }
}

/**
 * Opens `file` read-only when its path (made absolute, `..` resolved) names a place inside one of `roots` (real
 * paths) and the file actually opened (symlinks followed) is inside one too; otherwise says why not, without
 * opening anything a second time. O_NONBLOCK keeps a FIFO from blocking the open; the caller decides what file
 * types it serves from `stats`. The caller closes `handle`.
 */
export async function openWithinAny(
  roots: readonly string[],
  file: string,
  /** false: skip the kernel's name for the file (the portable path; tests take it on Linux too). */
  opts: { kernelPath?: boolean } = {},
): Promise<OpenedWithin | OpenRefusal> {
  const named = resolve(file);
  if (!roots.some((root) => inside(named, root))) return { refused: 'outside' };
  let handle: FileHandle;
  try {
    handle = await open(named, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return { refused: 'error', error: e as NodeJS.ErrnoException };
  }
  let ok = false;
  try {
    const stats = await handle.stat();
    let real = opts.kernelPath === false ? null : await openedPath(handle);
    if (real === null) {
      // No kernel name: the real path now, which must still be the very file that was opened. lstat, not
      // stat: a final component swapped back to a symlink is then a different inode. (A folder on the path
      // swapped for a symlink in between is still followed: only the Linux check above is exact.)
      real = await realpath(named);
      const there = await lstat(real);
      if (there.dev !== stats.dev || there.ino !== stats.ino) return { refused: 'outside' };
    }
    const r = real;
    if (!roots.some((root) => inside(r, root))) return { refused: 'outside' };
    ok = true;
    return { handle, real, stats };
  } catch (e) {
    return { refused: 'error', error: e as NodeJS.ErrnoException };
  } finally {
    if (!ok) await handle.close().catch(() => undefined);
  }
}

/**
 * openWithinAny for one folder, which may be given through a symlink: a path named under `root` as given is
 * taken under its real path. Null when the file is outside, or cannot be opened (callers answer "not found").
 */
export async function openWithin(
  root: string,
  file: string,
  opts: { kernelPath?: boolean } = {},
): Promise<OpenedWithin | null> {
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch {
    return null;
  }
  const rel = relative(resolve(root), resolve(file));
  const underGiven = rel === '' || (rel !== '..' && !rel.startsWith('..' + sep) && !isAbsolute(rel));
  const r = await openWithinAny([realRoot], underGiven ? join(realRoot, rel) : file, opts);
  return isRefusal(r) ? null : r;
}
