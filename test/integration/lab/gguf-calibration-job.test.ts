// The GGUF calibration runs in a job process started through the lab's launcher (core/lab/calibration.ts
// measureGgufInJob), not in the lab's: a job process that dies as llama.cpp's native loader would on a bad
// file, or hangs, gives one error naming the request's field and the file, nothing is stored, and the lab
// goes on answering. A rate is keyed by the file's real path and found by the name it was timed by (a relative
// name, a symlink) while that name still leads to the file. The job process is a stand-in
// (fixtures/gguf-calibration-child.mjs); test/integration/gguf runs the real worker with node-llama-cpp.
import { mkdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../../core/cli/dispatch';
import { measureGgufInJob, writeCalibration } from '../../../core/lab/calibration';
import { ChildProcessLauncher, type JobLauncher, type JobProcess } from '../../../core/lab/launcher';
import { ggufSeconds } from '../../../renderer/src/lib/wizard/estimate';
import { otherRates } from '../../helpers/calibration';
import { labFixture } from '../../helpers/lab';

const CHILD = fileURLToPath(new URL('./fixtures/gguf-calibration-child.mjs', import.meta.url));
const lab = labFixture('qlab-gguf-cal-job-');

/** The stand-in job process in one mode, remembering what it started. */
function childLauncher(mode: 'ok' | 'crash' | 'hang' | 'fail'): JobLauncher & { procs: JobProcess[] } {
  const inner = new ChildProcessLauncher({ entry: CHILD, env: { QLAB_TEST_GGUF_CHILD: mode } });
  const procs: JobProcess[] = [];
  return {
    name: `gguf-child-${mode}`,
    procs,
    spawn() {
      const p = inner.spawn();
      procs.push(p);
      return p;
    },
  };
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A file with a GGUF magic and nothing a loader could use, inside the lab's imports folder. */
function badGguf(dir: string, name: string): string {
  const imports = join(dir, 'imports');
  mkdirSync(join(imports, 'models'), { recursive: true });
  const path = join(imports, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(60, 0xab)]));
  return realpathSync(path);
}

describe('the GGUF calibration in a job process', () => {
  it('a job process that crashes gives one error naming the field and the file; the lab keeps serving', async () => {
    const launcher = childLauncher('crash');
    const l = await lab.open({ schedule: false, launcher });
    writeCalibration(lab.dir, otherRates());
    const file = badGguf(lab.dir, 'models/broken.gguf');
    const r = await dispatch(l, 'calibrate', { ggufFiles: ['models/broken.gguf'] });
    expect(r).toEqual({
      ok: false,
      error: {
        code: 'invalid',
        field: 'ggufFiles[0]',
        message: `ggufFiles[0]: ${file}: the job process timing the GGUF model ended (signal SIGSEGV) before it answered; its last output: llama_model_load: error loading model: corrupted tensor data in ${file}`,
      },
    });
    expect(launcher.procs).toHaveLength(1);
    expect(alive(launcher.procs[0].pid)).toBe(false);
    // nothing stored, and the lab answers as before
    expect(await dispatch(l, 'getCalibration', undefined)).toEqual({ ok: true, value: otherRates() });
    expect(await dispatch(l, 'listRuns', {})).toEqual({ ok: true, value: [] });
  });

  it("a job process's own refusal is passed on as it is, naming the field", async () => {
    const l = await lab.open({ schedule: false, launcher: childLauncher('fail') });
    writeCalibration(lab.dir, otherRates());
    badGguf(lab.dir, 'm.gguf');
    expect(await dispatch(l, 'calibrate', { ggufFiles: ['m.gguf'] })).toEqual({
      ok: false,
      error: { code: 'invalid', field: 'ggufFiles[0]', message: 'ggufFiles[0]: the model has no vocabulary' },
    });
  });

  it('a job process that never answers is stopped after the time limit', async () => {
    const launcher = childLauncher('hang');
    const path = badGguf(lab.dir, 'slow.gguf');
    const t0 = performance.now();
    // the event loop goes on meanwhile: a timer set now fires before the limit
    let ticks = 0;
    const tick = setInterval(() => ticks++, 100);
    try {
      await expect(
        measureGgufInJob(launcher, { path, field: 'ggufFiles[0]', within: null, timeoutMs: 3000 }),
      ).rejects.toThrow(
        `ggufFiles[0]: ${path}: timing the GGUF model took longer than 3 s; its job process was stopped`,
      );
    } finally {
      clearInterval(tick);
    }
    const seconds = (performance.now() - t0) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(3);
    expect(seconds).toBeLessThan(20);
    expect(ticks).toBeGreaterThan(5);
    expect(alive(launcher.procs[0].pid)).toBe(false);
  });

  it('closing the lab stops a GGUF timing in flight at once, not at its time limit', async () => {
    const launcher = childLauncher('hang');
    const l = await lab.open({ schedule: false, launcher });
    writeCalibration(lab.dir, otherRates());
    const file = badGguf(lab.dir, 'slow.gguf');
    const pending = l.calibrate({ ggufFiles: ['slow.gguf'] });
    const settled = pending.then(
      () => 'timed',
      (e: Error) => e.message,
    );
    // the job process is up and has its request
    while (launcher.procs.length === 0) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 500));
    const t0 = performance.now();
    await l.close();
    expect(await settled).toBe(
      `ggufFiles[0]: ${file}: the lab closed while the GGUF model was being timed; its job process was stopped`,
    );
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(alive(launcher.procs[0].pid)).toBe(false);
  });

  it('keys a rate by the real path and finds it by the name it was timed by while that name leads there', async () => {
    const l = await lab.open({ schedule: false, launcher: childLauncher('ok') });
    writeCalibration(lab.dir, otherRates());
    const real = badGguf(lab.dir, 'models/teacher.gguf');
    const other = badGguf(lab.dir, 'models/other.gguf');
    symlinkSync(real, join(lab.dir, 'imports', 'link.gguf'));
    const r = await dispatch(l, 'calibrate', { ggufFiles: ['link.gguf'] });
    expect(r.ok).toBe(true);
    const stored = (await l.getCalibration())!;
    expect(stored.gguf).toEqual([
      expect.objectContaining({ path: real, names: ['link.gguf'], size: 64, secondsPerChar: 1e-4 }),
    ]);
    // the file roots went to the job process with the request
    expect(stored.detail).toContain(`(roots ${JSON.stringify([realpathSync(join(lab.dir, 'imports'))])})`);
    const work = (path: string) => ({
      flops: 0,
      amplitudeOps: 0,
      gguf: [{ path, samples: 10, chars: 1000, loads: 1 }],
    });
    // a run naming the file by the symlink, or by its real path, finds the rate: 10 × 0.01 + 1000 × 1e-4 + 0.5
    for (const name of ['link.gguf', real]) {
      const s = ggufSeconds(work(name), stored);
      expect(s.untimed).toEqual([]);
      expect(s.seconds).toBeCloseTo(0.7, 12);
    }
    // another spelling of the same file is not found until timed by it; then both names are kept, one rate
    expect(ggufSeconds(work('models/teacher.gguf'), stored).untimed).toEqual(['models/teacher.gguf']);
    expect((await dispatch(l, 'calibrate', { ggufFiles: ['models/teacher.gguf'] })).ok).toBe(true);
    const both = (await l.getCalibration())!;
    expect(both.gguf).toEqual([
      expect.objectContaining({ path: real, names: ['models/teacher.gguf', 'link.gguf'] }),
    ]);
    // the symlink re-pointed at another file: its name no longer finds the rate, the others still do
    rmSync(join(lab.dir, 'imports', 'link.gguf'));
    symlinkSync(other, join(lab.dir, 'imports', 'link.gguf'));
    const after = (await l.getCalibration())!;
    expect(after.gguf).toEqual([expect.objectContaining({ path: real, names: ['models/teacher.gguf'] })]);
    expect(ggufSeconds(work('link.gguf'), after).untimed).toEqual(['link.gguf']);
    expect(ggufSeconds(work('models/teacher.gguf'), after).untimed).toEqual([]);
    expect(ggufSeconds(work(real), after).untimed).toEqual([]);
  });
});
