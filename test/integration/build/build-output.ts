// Builds the current tree with electron-vite into a private folder (QLAB_BUILD_OUT), so these tests run the
// bundles of exactly this code without rewriting the out/ that other tests and processes may be using.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export interface BuiltApp {
  /** The folder holding main/, preload/ and renderer/. */
  out: string;
  workerEntry: string;
  mainEntry: string;
  cpuThreads: string;
}

/** Why the build cannot run here, or null when it can. */
export function buildUnavailable(): string | null {
  if (!existsSync(join(REPO, 'node_modules', 'electron-vite', 'package.json')))
    return 'electron-vite is not installed (npm install)';
  return null;
}

/**
 * Runs `electron-vite build` with its output under `into`; by default a fresh `.qlab-test-build-*` folder in
 * the repository (git-ignored), where the bundles find node_modules the way out/ does.
 */
export function buildApp(into?: string): BuiltApp {
  const out = into ?? mkdtempSync(join(REPO, '.qlab-test-build-'));
  const r = spawnSync('npx', ['electron-vite', 'build'], {
    cwd: REPO,
    env: { ...process.env, QLAB_BUILD_OUT: out, FORCE_COLOR: '0' },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`electron-vite build failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  const app: BuiltApp = {
    out,
    workerEntry: join(out, 'main', 'worker.js'),
    mainEntry: join(out, 'main', 'index.js'),
    cpuThreads: join(out, 'main', 'cpu-threads.js'),
  };
  for (const f of [app.workerEntry, app.mainEntry, app.cpuThreads, join(out, 'preload', 'index.cjs')])
    if (!existsSync(f))
      throw new Error(`the build did not produce ${f} (has ${readdirSync(join(out, 'main'))})`);
  return app;
}
