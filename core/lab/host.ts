// What a run was computed on and with which code: recorded with every run so results can be traced.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedVersion: string | undefined;

/** Finds the qlab package.json walking up from this file (works from the repo and from a bundle). */
function findPackageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'qlab') return dir;
      } catch {
        // an unreadable package.json is not ours; keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * The files whose changes make results differ: the code that runs and the declared dependencies. Install
 * by-products (package-lock.json rewritten by `npm install`), docs and tests are not among them, so a fresh
 * install of a clean checkout is not "-dirty".
 */
export const CODE_PATHS = ['core', 'electron', 'renderer', 'migrations', 'bin', 'package.json'];

/** "qlab@<version>" plus "+<short commit>" (and "-dirty" when CODE_PATHS differ from it) in a git checkout. */
export function codeVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  const root = findPackageRoot();
  cachedVersion = root ? codeVersionAt(root) : 'qlab@unknown';
  return cachedVersion;
}

/** codeVersion for the package at `root` (uncached). */
export function codeVersionAt(root: string): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string };
  let version = `qlab@${pkg.version ?? 'unknown'}`;
  try {
    const git = (args: string[]) =>
      execFileSync('git', args, {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 3000,
      });
    const commit = git(['rev-parse', '--short=12', 'HEAD']).trim();
    const dirty = git(['status', '--porcelain', '--untracked-files=no', '--', ...CODE_PATHS]).trim() !== '';
    if (commit) version += `+${commit}${dirty ? '-dirty' : ''}`;
  } catch {
    // not a git checkout (installed app): the package version is all there is
  }
  return version;
}

export function hostInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    os: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    hostname: os.hostname(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.versions.node,
    ...(process.versions.electron ? { electron: process.versions.electron } : {}),
  };
}
