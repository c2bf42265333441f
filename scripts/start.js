#!/usr/bin/env node
// `npm start`: the desktop app where Electron's binary is installed (and a display exists); otherwise one
// line saying so and the browser mode (`qlab serve`), which prints its URL. Builds first when out/ is
// missing or older than the sources. Extra arguments go to `qlab serve` (e.g. npm start -- --port 8080).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/**
 * The Electron executable if it is installed, else null. `require('electron')` would try to download a
 * missing binary (and fail offline after a while), so this reads the same path.txt it reads, without that.
 */
function electronBinary() {
  let pkgDir;
  try {
    pkgDir = dirname(require.resolve('electron/package.json'));
  } catch {
    return null;
  }
  const pathFile = join(pkgDir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const rel = readFileSync(pathFile, 'utf8').trim();
  const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH || join(pkgDir, 'dist');
  const exe = join(dist, rel);
  return existsSync(exe) ? exe : null;
}

function hasDisplay() {
  if (process.platform !== 'linux') return true;
  return Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
}

/** Newest modification time under a folder (sources), 0 if absent. */
function newest(dir) {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function buildIfNeeded(outputs, sourceDirs) {
  const missing = outputs.some((f) => !existsSync(join(root, f)));
  const built = missing ? 0 : Math.min(...outputs.map((f) => statSync(join(root, f)).mtimeMs));
  const sources = Math.max(...sourceDirs.map((d) => newest(join(root, d))));
  if (!missing && built >= sources) return;
  console.log(missing ? 'qlab: building the app (first start)…' : 'qlab: sources changed; rebuilding…');
  const r = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  if (r.status !== 0) {
    console.error('qlab: the build failed (see above); fix it or run `npm run build` to retry');
    process.exit(r.status ?? 1);
  }
}

function run(cmd, args) {
  const child = spawn(cmd, args, { cwd: root, stdio: 'inherit' });
  // Ctrl-C reaches the child through the terminal; forward a plain kill too.
  for (const sig of ['SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

const exe = electronBinary();
if (exe !== null && hasDisplay()) {
  buildIfNeeded(
    ['out/main/index.js', 'out/main/worker.js', 'out/preload/index.cjs', 'out/renderer/index.html'],
    ['renderer', 'electron', 'core'],
  );
  run(exe, [root, ...process.argv.slice(2)]);
} else {
  console.log(
    exe === null
      ? "qlab: Electron's binary is not installed here; starting the browser mode instead"
      : 'qlab: no display found (DISPLAY/WAYLAND_DISPLAY unset); starting the browser mode instead',
  );
  // The renderer sees only core/api; the server runs from the sources through tsx.
  buildIfNeeded(['out/renderer/index.html'], ['renderer', 'core/api']);
  run(process.execPath, [join(root, 'bin', 'qlab.js'), 'serve', ...process.argv.slice(2)]);
}
