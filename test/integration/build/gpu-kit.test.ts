// The GPU check kit (scripts/gpu-kit.mjs): built without the Node binary into a folder outside the checkout, it
// runs with no node_modules around it — the bundle, Dawn's loader and the cpu backend's worker threads are all
// inside — and reports the self-check; run.sh prefers the kit's own compressed Node when the kit has one.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'qlab-gpu-kit-'));
const kit = join(dir, 'kit');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('GPU check kit', () => {
  it('builds a self-contained folder with a manifest', () => {
    execFileSync(process.execPath, [join(root, 'scripts/gpu-kit.mjs'), '--no-node', '--out', kit], {
      stdio: 'pipe',
    });
    const manifest = readFileSync(join(kit, 'MANIFEST.txt'), 'utf8');
    for (const f of [
      'gpu-check.mjs',
      'cpu-threads.mjs',
      'run.sh',
      'node_modules/webgpu/dist/linux-x64/dawn.node',
    ])
      expect(manifest).toContain(f);
    expect(manifest).toMatch(/webgpu 0\.6\.2 \(Dawn\)/);
    expect(existsSync(join(kit, 'node.gz'))).toBe(false);
  }, 120_000);

  it('runs the self-check and the benchmark from outside the checkout, with worker threads, and writes its results', () => {
    const out = join(dir, 'results.json');
    // --threads 2: the benchmark's batched cpu rows run on the bundled worker-thread entry
    const r = spawnSync(
      join(kit, 'run.sh'),
      ['--quick', '--mode', 'webasm', '--threads', '2', '--out', out],
      {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, NODE_PATH: '' },
        timeout: 180_000,
      },
    );
    expect(r.stderr).not.toMatch(/Cannot find (module|package)/);
    expect(r.stdout).toMatch(/gpu backend: mode webasm/);
    expect(r.stdout).toMatch(/self-check: 18 passed, 0 failed/);
    expect(r.stdout).toMatch(/cpu\/wasm-simd-threads/);
    expect(r.stdout).toMatch(/gpu against cpu \(same run/);
    expect(r.status).toBe(0);
    const rec = JSON.parse(readFileSync(out, 'utf8')) as {
      checks: { ok: boolean }[];
      gpu: { mode: string };
      speedups: { workload: string; cpuMs: number; gpuMs: number; speedup: number }[];
    };
    // both backends timed on the QD-LLM and QFFN workloads, forward and adjoint, in this run
    expect(rec.speedups.length).toBe(4);
    for (const s of rec.speedups) expect(s.speedup).toBeCloseTo(s.cpuMs / s.gpuMs, 6);
    expect(rec.gpu.mode).toBe('webasm');
    expect(rec.checks.length).toBe(18);
    expect(rec.checks.every((c) => c.ok)).toBe(true);
  }, 200_000);

  it('never empties a folder that is not one of its kits, nor the working folder', () => {
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'keep.txt'), 'mine');
    const build = (args: string[]) =>
      spawnSync(process.execPath, [join(root, 'scripts/gpu-kit.mjs'), '--no-node', ...args], {
        cwd: foreign,
        encoding: 'utf8',
        timeout: 120_000,
      });
    const noValue = build(['--out']);
    expect(noValue.status).toBe(1);
    expect(noValue.stderr).toMatch(/--out: needs a folder name/);
    const notOurs = build(['--out', '.']);
    expect(notOurs.status).toBe(1);
    expect(notOurs.stderr).toMatch(/not empty and holds no kit built here/);
    expect(readFileSync(join(foreign, 'keep.txt'), 'utf8')).toBe('mine');
    // its own kit is rebuilt in place
    const again = build(['--out', kit]);
    expect(again.status).toBe(0);
    expect(existsSync(join(kit, 'MANIFEST.txt'))).toBe(true);
  }, 240_000);

  it('refuses a bad option with exit 2', () => {
    const r = spawnSync(join(kit, 'run.sh'), ['--mode', 'metal'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--mode: expected webgpu, webasm or cpu, got metal/);
  }, 60_000);

  it('run.sh unpacks the kit’s node.gz once and runs it', () => {
    // a stand-in "node" that reports what it was given: the real binary is 36 MB compressed
    writeFileSync(join(kit, 'node.gz'), gzipSync('#!/bin/sh\necho "kit-node $*"\n'));
    const first = spawnSync(join(kit, 'run.sh'), ['--quick'], { cwd: dir, encoding: 'utf8' });
    expect(first.stdout.trim()).toBe(`kit-node ${join(kit, 'gpu-check.mjs')} --quick`);
    expect(existsSync(join(kit, '.qlab-node/node'))).toBe(true);
    rmSync(join(kit, 'node.gz'));
    writeFileSync(join(kit, 'node.gz'), 'not gzip');
    // already unpacked: the corrupt archive is not read again
    const second = spawnSync(join(kit, 'run.sh'), ['--no-bench'], { cwd: dir, encoding: 'utf8' });
    expect(second.stdout.trim()).toBe(`kit-node ${join(kit, 'gpu-check.mjs')} --no-bench`);
  });
});
