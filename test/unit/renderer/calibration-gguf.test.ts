// The wizard's way to a GGUF teacher's rate: a qdllm config whose GGUF file the calibration has no rate for
// says so and names the file (RunEstimate.untimedGguf, the preview's "Time the GGUF model" button), and the
// button's action asks the lab to time exactly those files (LabApi.calibrate({ ggufFiles })).
import { describe, expect, it } from 'vitest';
import type { CalibratedGguf, Calibration } from '../../../core/api/lab-api';
import { qdllmMeta } from '../../../core/methods/qdllm/meta';
import { estimateCalibrated } from '../../../renderer/src/lib/wizard/estimate';
import { CalibrationState } from '../../../renderer/src/state/calibration.svelte';
import { otherRates } from '../../helpers/calibration';
import { FakeLabApi } from './fake-api';

const BASE: Calibration = otherRates();
const FILE = '/models/teacher.gguf';
const RATE: CalibratedGguf = {
  path: FILE,
  size: 1,
  mtimeMs: 1,
  loadSeconds: 2,
  secondsPerSample: 0.01,
  secondsPerChar: 1e-4,
  tokensPerChar: 0.3,
  measuredAt: BASE.measuredAt,
};

describe('a GGUF teacher in the wizard’s estimate', () => {
  const cfg = qdllmMeta.schema.parse({
    samplesPerClass: 10,
    teacher: { source: 'gguf', modelPath: FILE, maxTextChars: 200 },
  });
  const work = qdllmMeta.work!(cfg);

  it('names the file without a rate, and adds samples, characters and the load at its rate', () => {
    const without = estimateCalibrated(work, BASE);
    expect(without.untimedGguf).toEqual([FILE]);
    expect(without.text).toMatch(/GGUF \/models\/teacher\.gguf not timed: calibrate with the file/);
    const withRate = estimateCalibrated(work, { ...BASE, gguf: [RATE] });
    expect(withRate.untimedGguf).toBeUndefined();
    const g = work.gguf![0];
    // 20 samples (10 per class, 2 classes), each the prompt template + the text twice at maxTextChars
    expect(g.samples).toBe(20);
    expect(g.chars).toBe(20 * (cfg.teacher.source === 'gguf' ? cfg.teacher.prompt.length + 400 : NaN));
    expect(withRate.seconds - without.seconds).toBeCloseTo(20 * 0.01 + g.chars * 1e-4 + 2, 9);
  });

  it('the button’s action times exactly the named files', async () => {
    const api = new FakeLabApi();
    api.nextCalibration = { ...BASE, gguf: [RATE] };
    const state = new CalibrationState(api);
    await state.recalibrate([FILE]);
    expect(api.calls.filter((c) => c.method === 'calibrate')).toEqual([
      { method: 'calibrate', arg: { ggufFiles: [FILE] } },
    ]);
    expect(state.value?.gguf).toEqual([RATE]);
    await state.recalibrate();
    expect(api.calls.filter((c) => c.method === 'calibrate')[1]).toEqual({
      method: 'calibrate',
      arg: undefined,
    });
  });
});
