// The electron-vite bundle of the job worker (what the desktop app's utility processes run) must run every
// job kind the way the source tree does: the CPU simulator's worker_threads pool starts from the bundled
// cpu-threads.js entry, and the dataset packages are found from the bundle's location.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildProcessLauncher } from '../../../core/lab/launcher';
import { openLab, type LabService } from '../../../core/lab/service';
import { tinyLabTeacher, tinyQdllm, tinySimBench } from '../../helpers/tiny-configs';
import { buildApp, buildUnavailable, type BuiltApp } from './build-output';

const probe = fileURLToPath(new URL('./fixtures/thread-probe.mjs', import.meta.url));
const unavailable = buildUnavailable();
if (unavailable) console.warn(`skipping the bundled-worker tests: ${unavailable}`);

interface ProbeStats {
  started: number;
  online: number;
  tasks: number;
  replies: number;
  errors: string[];
}

describe.skipIf(unavailable !== null)('bundled job worker (electron-vite build of this tree)', () => {
  let app: BuiltApp;
  let dir: string;
  let lab: LabService;
  const probeDir = (): string => join(dir, 'probe');

  beforeAll(() => {
    app = buildApp();
    dir = mkdtempSync(join(tmpdir(), 'qlab-bundled-jobs-'));
    mkdirSync(probeDir());
  }, 180_000);

  afterAll(async () => {
    await lab?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(app.out, { recursive: true, force: true });
  });

  it('ships the simulator thread entry as its own file, the one the simulator chunk imports', () => {
    const main = join(app.out, 'main');
    const chunks = readdirSync(join(main, 'chunks')).map((f) =>
      readFileSync(join(main, 'chunks', f), 'utf8'),
    );
    expect(chunks.some((c) => c.includes('import("../cpu-threads.js")'))).toBe(true);
    // the thread entry serves tasks when it is not the main thread and pulls in no npm package
    const threads = readFileSync(app.cpuThreads, 'utf8');
    expect(threads).toMatch(/isMainThread/);
    expect(threads.match(/from\s+"([^"]+)"/g)?.every((s) => /"(node:|\.\/)/.test(s))).toBe(true);
  });

  it('runs sim-bench with threads 2 on the worker_threads pool', async () => {
    lab = await openLab({
      labDir: dir,
      launcher: new ChildProcessLauncher({
        entry: app.workerEntry,
        env: { NODE_OPTIONS: `--import ${pathToFileURL(probe).href}`, QLAB_THREAD_PROBE: probeDir() },
      }),
    });
    const run = await lab.createRun({
      kind: 'sim-bench',
      seed: 1,
      config: tinySimBench({ gpu: false }),
    });
    const done = await lab.waitForRun(run.id);
    expect(done.status, done.error ?? '').toBe('succeeded');
    const d = await lab.getRun(run.id);
    const backends = d.backend.backends as {
      mode: string;
      precision?: string;
      threads?: number;
      fallbackReason?: string;
    }[];
    // the f32 QML workloads on the 2-thread pool (bench:sim's f64 gate rows add a one-state, one-thread entry)
    const f32 = backends.find((b) => b.precision === 'f32' && b.mode.endsWith('-threads'));
    expect(f32).toMatchObject({ backend: 'cpu', mode: 'wasm-simd-threads', threads: 2 });
    for (const b of backends) expect(b.fallbackReason).toBeUndefined();
    // the pool really ran: both threads came up (beside the job process's parent watchdog thread, core/lab/worker/main.ts),
    // took tasks and answered, without an error
    const files = readdirSync(probeDir());
    expect(files).toHaveLength(1);
    const stats = JSON.parse(readFileSync(join(probeDir(), files[0]), 'utf8')) as ProbeStats;
    expect(stats.errors).toEqual([]);
    // the f32 and the f64 simulator each with a 2-thread pool
    expect(stats.online).toBe(2 * 2 + 1);
    expect(stats.tasks).toBeGreaterThan(0);
    expect(stats.replies).toBe(stats.tasks);
    expect(d.metrics.some((m) => m.key.endsWith('/cpu/wasm-simd-threads/forward_ms'))).toBe(true);
  }, 180_000);

  it('runs a small qdllm (Brown and SpamAssassin read from their packages) end to end', async () => {
    const run = await lab.createRun({
      kind: 'qdllm',
      seed: 1,
      config: tinyQdllm({ samplesPerClass: 10, seeds: 1, teacher: tinyLabTeacher(4) }),
    });
    const done = await lab.waitForRun(run.id);
    expect(done.status, done.error ?? '').toBe('succeeded');
    const d = await lab.getRun(run.id);
    const keys = d.metrics.map((m) => m.key);
    for (const model of ['quantum', 'mlp', 'transformer'])
      expect(keys.some((k) => k.startsWith(`${model}/`) && k.endsWith('/test_acc'))).toBe(true);
  }, 300_000);
});
