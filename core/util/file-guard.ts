// The job process's side of the file roots (core/lab/file-roots.ts). A run created over HTTP or IPC had every
// file its config names checked against the lab's roots and rewritten to its real path; the job opens those
// files later, and a folder on the path swapped for a symlink in between would be followed. The lab sends the
// roots with such a run's start message; while they are set, the readers of config-named files (dataset files,
// a model directory's files) open through openGuarded, which checks the file actually opened (openWithinAny).
// Runs from the command line carry no roots and open files as they are.
import { open, type FileHandle } from 'node:fs/promises';
import { isRefusal, openWithinAny } from './open-within';

let roots: readonly string[] | null = null;

/** Sets (or with null clears) the roots for this process's job. */
export function setFileGuard(next: readonly string[] | null): void {
  roots = next === null ? null : [...next];
}

export function fileGuard(): readonly string[] | null {
  return roots;
}

/** Why a guarded open refused a file (the file exists but is not where the check left it). */
export class FileGuardError extends Error {
  readonly code = 'EOUTSIDE';
  constructor(path: string) {
    super(
      `${path}: the file opened is outside the lab's file roots (it was replaced, or a folder on its path was, after the run was checked)`,
    );
    this.name = 'FileGuardError';
  }
}

/**
 * Opens `path` read-only; with roots set, only a file that is inside one of them once opened. Open errors
 * (ENOENT, EACCES, …) come through as they are, so callers keep their messages. `within` checks against
 * those roots instead of the job's (the lab's own process, timing a file an API request named).
 */
export async function openGuarded(
  path: string,
  within: readonly string[] | null = roots,
): Promise<FileHandle> {
  if (within === null) return open(path, 'r');
  const opened = await openWithinAny(within, path);
  if (!isRefusal(opened)) return opened.handle;
  // the open's own error (ENOENT, EACCES, …) as it came, or outside: never a second open (a plain blocking
  // open of what is now a FIFO outside the roots would hang the job for good)
  if (opened.refused === 'error') throw opened.error;
  throw new FileGuardError(path);
}

/** A whole file through openGuarded. */
export async function readFileGuarded(path: string): Promise<Buffer> {
  const fh = await openGuarded(path);
  try {
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}
