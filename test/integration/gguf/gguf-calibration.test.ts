// A GGUF teacher's calibrated rate (core/lab/calibration.ts measureGgufFile, LabApi.calibrate's ggufFiles):
// the tiny LLaMA GGUF timed as the QD-LLM teacher runs it, and qdllm's estimate of its teacher passes
// (characters of prompt and text × the file's rate, plus its load) against a real teacher pass over the same
// samples. The rate holds only while the file is unchanged; a file outside the roots is refused. Needs
// node-llama-cpp (the repo's node_modules or QLAB_NODE_LLAMA_CPP), else skipped, saying why.
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispatch } from '../../../core/cli/dispatch';
import { defaultOpenLab, main } from '../../../core/cli/main';
import { describe, expect, it } from 'vitest';
import { loadTextData } from '../../../core/data/text';
import { measureGgufFile, readCalibration, withGguf, writeCalibration } from '../../../core/lab/calibration';
import { QdllmConfigSchema } from '../../../core/methods/qdllm';
import { buildGgufTeacher } from '../../../core/methods/qdllm/gguf-teacher';
import { qdllmMeta } from '../../../core/methods/qdllm/meta';
import type { GgufTeacherConfig } from '../../../core/methods/qdllm/schema';
import { estimateCalibrated, ggufSeconds } from '../../../renderer/src/lib/wizard/estimate';
import { tinyLlama, tinyLlamaGguf } from '../../helpers/gguf-writer';
import { fakeJobContext } from '../../helpers/job-context';
import { labFixture } from '../../helpers/lab';
import { otherRates } from '../../helpers/calibration';
import { whereIsNodeLlamaCpp } from '../../helpers/node-llama-cpp';
import { tinyQdllm } from '../../helpers/tiny-configs';

const where = whereIsNodeLlamaCpp();
const lab = labFixture('qlab-gguf-cal-api-');

describe.skipIf(!where.found)(`a GGUF teacher's calibrated rate (${where.why})`, () => {
  it('estimates a real teacher pass over the run’s samples within 3× and keys the rate by the file', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'qlab-gguf-cal-')));
    const path = join(dir, 'tiny-llama.gguf');
    writeFileSync(path, tinyLlamaGguf(tinyLlama({ seed: 7 })));

    // outside the roots: refused by the file guard before node-llama-cpp sees it
    const elsewhere = realpathSync(mkdtempSync(join(tmpdir(), 'qlab-gguf-roots-')));
    await expect(measureGgufFile(path, 'ggufFiles[0]', [elsewhere])).rejects.toThrow(
      /^ggufFiles\[0\]: .*outside the lab's file roots/,
    );

    const m = await measureGgufFile(path, 'ggufFiles[0]', [dir]);
    expect(m.gguf.path).toBe(path);
    expect(m.gguf.secondsPerChar).toBeGreaterThan(0);
    expect(m.gguf.tokensPerChar).toBeGreaterThan(0);
    expect(m.detail).toMatch(/GGUF .*tiny-llama\.gguf/);

    const cfg = QdllmConfigSchema.parse(
      tinyQdllm({
        samplesPerClass: 10,
        seeds: 1,
        teacher: {
          source: 'gguf',
          modelPath: path,
          contextSize: 512,
          maxTextChars: 200,
          studentVocabSize: 300,
        },
      }),
    );
    const cal = withGguf(otherRates(), [m.gguf], m.detail);
    const work = qdllmMeta.work!(cfg);
    expect(work.gguf).toEqual([expect.objectContaining({ path, loads: 1 })]);
    const predicted = ggufSeconds(work, cal);
    expect(predicted.untimed).toEqual([]);

    // the real teacher: load, every sample's label logits and embedding (its BPE for the students too)
    const data = await loadTextData(cfg);
    const { ctx } = fakeJobContext(mkdtempSync(join(tmpdir(), 'qlab-gguf-cal-run-')), 1);
    const t0 = performance.now();
    await buildGgufTeacher(cfg, cfg.teacher as GgufTeacherConfig, data, ctx);
    const real = (performance.now() - t0) / 1000;
    const ratio = predicted.seconds / real;
    console.log(
      `GGUF teacher: estimate ${predicted.seconds.toFixed(3)} s, real ${real.toFixed(3)} s, ratio ${ratio.toFixed(2)}`,
    );
    expect(ratio).toBeGreaterThan(1 / 3);
    expect(ratio).toBeLessThan(3);

    // stored, read back while the file is unchanged; a changed file's rate is left out and the estimate says so
    const lab = mkdtempSync(join(tmpdir(), 'qlab-gguf-cal-lab-'));
    writeCalibration(lab, cal);
    expect(readCalibration(lab)?.gguf).toEqual([m.gguf]);
    expect(estimateCalibrated(work, readCalibration(lab)!).text).not.toMatch(/GGUF/);
    utimesSync(path, new Date(), new Date(Date.now() + 60_000));
    const stale = readCalibration(lab)!;
    expect(stale.gguf).toEqual([]);
    expect(estimateCalibrated(work, stale).text).toMatch(
      /GGUF .*tiny-llama\.gguf not timed: calibrate with the file/,
    );
  });

  it('qlab calibrate --gguf times a file named relative to the working folder through a symlink', async () => {
    const work = realpathSync(mkdtempSync(join(tmpdir(), 'qlab-gguf-cli-')));
    mkdirSync(join(work, 'models'));
    const real = join(work, 'models', 'tiny.gguf');
    writeFileSync(real, tinyLlamaGguf(tinyLlama({ seed: 5 })));
    symlinkSync(real, join(work, 'link.gguf'));
    writeCalibration(lab.dir, otherRates());
    const out = { stdout: '', stderr: '' };
    const code = await main(['calibrate', '--gguf', 'link.gguf', '--lab-dir', lab.dir], {
      stdout: { write: (t: string) => (out.stdout += t) },
      stderr: { write: (t: string) => (out.stderr += t) },
      env: {},
      cwd: work,
      openLab: defaultOpenLab,
    });
    expect(out.stderr).toBe('timing 1 GGUF model in a job process…\n');
    expect(code).toBe(0);
    expect(out.stdout).toMatch(new RegExp(`^GGUF ${real}: load .* per character\\)\\n$`));
    const stored = readCalibration(lab.dir)!;
    expect(stored.gguf).toEqual([expect.objectContaining({ path: real, names: [join(work, 'link.gguf')] })]);
    // a run naming the file by the symlink finds the rate
    const w = {
      flops: 0,
      amplitudeOps: 0,
      gguf: [{ path: join(work, 'link.gguf'), samples: 1, chars: 1, loads: 1 }],
    };
    expect(ggufSeconds(w, stored).untimed).toEqual([]);
  });

  it('calibrates a GGUF file over the LabApi: inside the roots only, stored beside the other rates', async () => {
    const l = await lab.open({ schedule: false });
    writeCalibration(lab.dir, otherRates());
    const outside = join(realpathSync(mkdtempSync(join(tmpdir(), 'qlab-gguf-out-'))), 'm.gguf');
    writeFileSync(outside, tinyLlamaGguf(tinyLlama({ seed: 3 })));
    const refused = await dispatch(l, 'calibrate', { ggufFiles: [outside] });
    expect(refused).toMatchObject({
      ok: false,
      error: {
        code: 'invalid',
        field: 'ggufFiles[0]',
        message: expect.stringMatching(/outside the lab's file roots/),
      },
    });
    expect((await dispatch(l, 'calibrate', { ggufFiles: [] })).ok).toBe(false);
    const inside = join(realpathSync(join(lab.dir, 'imports')), 'teacher.gguf');
    writeFileSync(inside, tinyLlamaGguf(tinyLlama({ seed: 3 })));
    const r = await dispatch(l, 'calibrate', { ggufFiles: ['teacher.gguf'] });
    expect(r.ok).toBe(true);
    const stored = await l.getCalibration();
    expect(stored?.secondsPerFlop).toBe(otherRates().secondsPerFlop);
    expect(stored?.gguf?.map((g) => g.path)).toEqual([inside]);
    expect(stored?.detail).toMatch(/^other rates; GGUF .*teacher\.gguf/);
    // keyed by the real path, found by the name it was timed by too (the wizard's relative name)
    expect(stored?.gguf?.[0].names).toEqual(['teacher.gguf']);
    const work = {
      flops: 0,
      amplitudeOps: 0,
      gguf: [{ path: 'teacher.gguf', samples: 1, chars: 1, loads: 1 }],
    };
    expect(ggufSeconds(work, stored!).untimed).toEqual([]);

    // a GGUF file llama.cpp cannot load: timed in a job process, so one error naming the field and the file,
    // nothing stored, and the lab answers on
    const corrupt = join(realpathSync(join(lab.dir, 'imports')), 'corrupt.gguf');
    const good = tinyLlamaGguf(tinyLlama({ seed: 3 }));
    writeFileSync(corrupt, Buffer.concat([Buffer.from(good.subarray(0, 64)), Buffer.alloc(4096, 0xff)]));
    const bad = await dispatch(l, 'calibrate', { ggufFiles: ['corrupt.gguf'] });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid', field: 'ggufFiles[0]' } });
    const message = (bad as { error: { message: string } }).error.message;
    console.log(`corrupt GGUF: ${message}`);
    expect(message).toMatch(/^ggufFiles\[0\]: .*corrupt\.gguf/);
    expect(await l.getCalibration()).toEqual(stored);
    expect((await dispatch(l, 'listRuns', {})).ok).toBe(true);
  });
});
