// The generic wizard additions on the qffn kind: the preview draws each of the kind's circuits (an SVG per
// circuit, one quantum FFN and one quantum head here) and estimates the run time from the kind's work (every
// kind has one; a config whose size only the run can tell gets no figure); the estimate scales with the work.
import { describe, expect, it } from 'vitest';
import { kindMeta } from '../../../core/api/kinds';
import { qffnMeta } from '../../../core/methods/qffn/meta';
import { wizardFor } from '../../../renderer/src/lib/wizard';
import { estimateCalibrated, formatDuration } from '../../../renderer/src/lib/wizard/estimate';
import type { Calibration } from '../../../core/api/lab-api';
import type { Config } from '../../../renderer/src/lib/wizard/spec';

const defaults = (kind: string) => JSON.parse(JSON.stringify(kindMeta(kind)!.schema.parse({}))) as Config;

const CALIBRATION: Calibration = {
  measuredAt: '2026-12-05T12:00:00.000Z',
  secondsPerAmplitudeOp: 1e-9,
  amplitudeRates: [
    { qubits: 4, secondsPerAmplitudeOp: 4e-9 },
    { qubits: 12, secondsPerAmplitudeOp: 1e-9 },
  ],
  secondsPerFlop: 1e-9,
  setup: { jobStartSeconds: 1.5, datasetSeconds: { brown: 0.5 }, secondsPerTokenizerChar: 1e-6 },
  host: { cpu: 'test', cores: 2 },
  detail: 'test',
};

describe('wizard preview extras', () => {
  it('qffn: a drawing of the quantum FFN and of the quantum head, and a run-time estimate', () => {
    const spec = wizardFor('qffn', defaults('qffn'))!;
    const small = spec.presets[0].build(defaults('qffn'));
    const x = spec.extras!(small)!;
    expect(x.drawings.map((d) => d.name)).toEqual([
      'quantum FFN (amplitude)',
      'quantum head (Gaussian kernel)',
    ]);
    for (const d of x.drawings) {
      expect(d.svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      expect(d.svg).toContain(`<title>${d.name}</title>`);
    }
    // 6 wires for d = 64, 4 for the head's map to 4 qubits
    expect((x.drawings[0].svg.match(/>q\d+</g) ?? []).length).toBe(6);
    expect((x.drawings[1].svg.match(/>q\d+</g) ?? []).length).toBe(4);
    // no calibration yet: no figure guessed
    expect(x.estimate).toMatchObject({ text: 'calibrate for an estimate', calibrated: false });
    expect(Number.isNaN(x.estimate!.seconds)).toBe(true);
    const calibrated = spec.extras!(small, CALIBRATION)!.estimate!;
    expect(calibrated.seconds).toBeGreaterThan(1);
    expect(calibrated.text).toMatch(/^≈ .* on this machine \(calibrated 2026-12-05\)$/);
    // the preset's line is the same function's
    expect(spec.estimate!(small, CALIBRATION)!.text).toBe(calibrated.text);
    expect(spec.estimate!(small, null)!.text).toBe('calibrate for an estimate');
    // no quantum heads: one drawing; an invalid config: nothing
    expect(spec.extras!({ ...small, quantumHeads: false })!.drawings).toHaveLength(1);
    expect(spec.extras!({ ...small, fraction: 3 })).toBeNull();
  });

  it('the estimate follows the work', () => {
    const c = qffnMeta.schema.parse({});
    const w = qffnMeta.work!(c);
    const w2 = qffnMeta.work!(qffnMeta.schema.parse({ steps: 300, seeds: 4 }));
    expect(w2.flops).toBeGreaterThan(w.flops);
    expect(w2.amplitudeOps).toBeGreaterThan(w.amplitudeOps);
    // the job process's start (1.5 s) is every run's; the rest scales with the work
    expect(estimateCalibrated({ flops: 2e10, amplitudeOps: 0 }, CALIBRATION).seconds - 1.5).toBeCloseTo(
      2 * (estimateCalibrated({ flops: 1e10, amplitudeOps: 0 }, CALIBRATION).seconds - 1.5),
    );
    expect(estimateCalibrated({ flops: 1e10, amplitudeOps: 0 }, CALIBRATION).seconds).toBeCloseTo(11.5);
    // qffn's set-up: the simulator's thread pool, the base corpus loaded and its BPE over corpusChars
    expect(w.setup).toEqual({ simulators: 1, datasets: ['brown'], tokenizerChars: c.base.corpusChars });
    expect(formatDuration(30)).toBe('30 s');
    expect(formatDuration(600)).toBe('10 min');
    expect(formatDuration(4 * 3600)).toBe('4.0 h');
  });

  it('qhead, qdllm, qtha: their presets are estimated by the same function, with what is left out', () => {
    for (const kind of ['qhead', 'qdllm', 'qtha']) {
      const spec = wizardFor(kind, defaults(kind))!;
      const small = spec.presets[0].build(defaults(kind));
      const x = spec.extras!(small, CALIBRATION)!;
      expect(x.estimate!.seconds).toBeGreaterThan(0);
      const line = spec.estimate!(small, CALIBRATION)!;
      expect(line.text).toBe(x.estimate!.text);
      expect(line.note).toMatch(/not counted/);
    }
    // qhead on a data file: the split sizes are known only when the run reads it — no figure is guessed
    const spec = wizardFor('qhead', defaults('qhead'))!;
    const onFile = { ...spec.presets[0].build(defaults('qhead')), datasetFile: { path: 'x.csv' } };
    expect(spec.extras!(onFile, CALIBRATION)!.estimate).toBeNull();
    expect(spec.estimate!(onFile, CALIBRATION)).toBeNull();
  });
});
