#!/usr/bin/env node
// Builds the GPU check kit (docs/gpu-backend.md): a folder that runs the gpu backend's self-check and the
// simulator benchmark on a GPU machine with no Node and no network.
//
//   node scripts/gpu-kit.mjs [--out DIR] [--no-node]
//
// DIR (default dist/gpu-kit) holds:
//   run.sh             the one command: unpacks Node and Dawn once (in the kit, or a copy in $TMPDIR when the
//                      kit is read-only) and runs gpu-check
//   gpu-check.mjs      bench/gpu-check.ts and everything it imports, bundled by esbuild (gpu.js included);
//   cpu-threads.mjs    the cpu backend's worker-thread entry; chunks/ the code both share
//   node_modules/webgpu/  the webgpu@0.6.2 loader and Dawn's linux-x64 dawn.node (gzip -9, unpacked on first run)
//   node.gz            this machine's Node binary, gzip -9 (gzip is on every Linux; xz is not)
//   MANIFEST.txt       versions, sizes and sha256 of every file
// --no-node leaves node.gz out (run.sh then needs a `node` ≥ 20 on PATH): the test builds the kit that way.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip, constants as zlib } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LIMIT = 64 * 2 ** 20;

function parseArgs(argv) {
  const o = { out: join(root, 'dist/gpu-kit'), node: true };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') {
      const dir = argv[++i];
      if (!dir || dir.startsWith('--')) throw new Error('--out: needs a folder name');
      o.out = resolve(dir);
    } else if (argv[i] === '--no-node') o.node = false;
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return o;
}

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/**
 * Empties the output folder only when it is a kit this script built (its MANIFEST.txt says so) or is empty:
 * `--out .` or `--out ~` must never wipe a checkout or a home folder.
 */
function clearOut(dir) {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new Error(`--out: ${dir} exists and is not a folder`);
  const entries = readdirSync(dir);
  if (entries.length === 0) return;
  const manifest = join(dir, 'MANIFEST.txt');
  const ours =
    existsSync(manifest) && /^qlab \S+ GPU check kit,/.test(readFileSync(manifest, 'utf8').slice(0, 200));
  if (!ours)
    throw new Error(
      `--out: ${dir} is not empty and holds no kit built here (no MANIFEST.txt of one); choose a new folder`,
    );
  rmSync(dir, { recursive: true, force: true });
}

const RUN_SH = `#!/bin/sh
# The lab's GPU check kit: the gpu backend's self-check against the cpu backend in f64, then the simulator
# benchmark with both backends in the same run. Options go to gpu-check (--mode, --quick, --no-bench,
# --allow-fallback, --peer, --threads N, --out FILE). Results: gpu-check-results.json (or --out) and the tables.
set -eu
KIT=$(cd "$(dirname "$0")" && pwd)
RUN="$KIT"
# a read-only kit (a mounted medium) runs from a private copy made for this run (never a fixed /tmp name, where
# a stale or planted binary could wait)
if [ ! -w "$KIT" ]; then
  RUN=$(mktemp -d "\${TMPDIR:-/tmp}/qlab-gpu-kit.XXXXXX")
  trap 'rm -rf "$RUN"' EXIT
  cp -R "$KIT/." "$RUN/"
  rm -rf "$RUN/.qlab-node" "$RUN/node_modules/webgpu/dist/linux-x64/dawn.node"
fi
# gunzip SRC to DST once (a partial file never takes DST's name)
unpack() {
  [ -f "$2" ] && return 0
  mkdir -p "$(dirname "$2")"
  gzip -dc "$1" > "$2.part" && mv "$2.part" "$2"
}
DAWN="$RUN/node_modules/webgpu/dist/linux-x64/dawn.node"
[ -f "$DAWN.gz" ] && unpack "$DAWN.gz" "$DAWN"
NODE=""
if [ -f "$RUN/node.gz" ]; then
  unpack "$RUN/node.gz" "$RUN/.qlab-node/node" && chmod +x "$RUN/.qlab-node/node" && NODE="$RUN/.qlab-node/node"
fi
if [ -z "$NODE" ]; then
  NODE=$(command -v node || true)
  [ -n "$NODE" ] || { echo "gpu-kit: no node.gz in the kit and no node on PATH" >&2; exit 3; }
fi
export EGL_PLATFORM="\${EGL_PLATFORM:-surfaceless}"
if [ "$RUN" = "$KIT" ]; then
  exec "$NODE" "$RUN/gpu-check.mjs" "$@"
fi
"$NODE" "$RUN/gpu-check.mjs" "$@"
`;

async function main() {
  const o = parseArgs(process.argv.slice(2));
  clearOut(o.out);
  mkdirSync(o.out, { recursive: true });
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

  // the program and the cpu backend's worker entry, splitting their shared code so a worker started on
  // cpu-threads's own URL runs only the thread side
  await build({
    entryPoints: {
      'gpu-check': join(root, 'bench/gpu-check.ts'),
      'cpu-threads': join(root, 'core/quantum/cpu/threads.ts'),
    },
    outdir: o.out,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Dawn's loader stays a real package beside the bundle (it finds dawn.node by its own path); gl is
    // gpu.js's optional headless-gl, never used here
    external: ['webgpu', 'gl'],
    // CommonJS inside the ESM bundle (gpu.js) needs require
    banner: {
      js: "import { createRequire as __qlabRequire } from 'node:module'; const require = __qlabRequire(import.meta.url);",
    },
    logLevel: 'warning',
    legalComments: 'none',
  });

  const webgpuSrc = join(root, 'node_modules/webgpu');
  const webgpuDst = join(o.out, 'node_modules/webgpu');
  mkdirSync(join(webgpuDst, 'dist/linux-x64'), { recursive: true });
  for (const f of ['index.js', 'package.json', 'LICENSE.md'])
    copyFileSync(join(webgpuSrc, f), join(webgpuDst, f));
  const gzip = (from, to) =>
    pipeline(createReadStream(from), createGzip({ level: zlib.Z_BEST_COMPRESSION }), createWriteStream(to));
  // Dawn is 21 MB and gzips to 7: run.sh unpacks it beside its loader on the first run
  await gzip(join(webgpuSrc, 'dist/linux-x64/dawn.node'), join(webgpuDst, 'dist/linux-x64/dawn.node.gz'));
  if (o.node) await gzip(process.execPath, join(o.out, 'node.gz'));
  writeFileSync(join(o.out, 'run.sh'), RUN_SH);
  chmodSync(join(o.out, 'run.sh'), 0o755);

  let code = 'unknown';
  try {
    code = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout: the manifest says so
  }
  const webgpuVersion = JSON.parse(readFileSync(join(webgpuSrc, 'package.json'), 'utf8')).version;
  const gpujsVersion = JSON.parse(
    readFileSync(join(root, 'node_modules/gpu.js/package.json'), 'utf8'),
  ).version;
  const listed = files(o.out).sort();
  let total = 0;
  const lines = listed.map((f) => {
    const bytes = statSync(f).size;
    total += bytes;
    const sha = createHash('sha256').update(readFileSync(f)).digest('hex');
    return `${sha}  ${String(bytes).padStart(10)}  ${relative(o.out, f)}`;
  });
  writeFileSync(
    join(o.out, 'MANIFEST.txt'),
    [
      `qlab ${pkg.version} GPU check kit, code ${code}, built ${new Date().toISOString()}`,
      `node ${o.node ? process.version : '(not included: uses node on PATH)'}, webgpu ${webgpuVersion} (Dawn), gpu.js ${gpujsVersion}`,
      `total ${total} bytes`,
      '',
      ...lines,
      '',
    ].join('\n'),
  );
  const mib = (total / 2 ** 20).toFixed(1);
  process.stdout.write(`gpu-kit: ${o.out}: ${listed.length} files, ${mib} MiB\n`);
  if (total > LIMIT) {
    process.stderr.write(`gpu-kit: the kit is ${mib} MiB, over the 64 MiB a bare GPU machine accepts\n`);
    process.exit(1);
  }
}

main().catch((e) => {
  process.stderr.write(`gpu-kit: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
