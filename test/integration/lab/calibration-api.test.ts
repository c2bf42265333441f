// LabApi.getCalibration / calibrate: none before the first measurement, then the stored one; over the
// HTTP/IPC dispatcher too, which refuses an argument.
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../../core/cli/dispatch';
import { readCalibration } from '../../../core/lab/calibration';
import { labFixture } from '../../helpers/lab';

const lab = labFixture('qlab-calibration-api-');

describe('calibration over the LabApi', () => {
  it('measures once, stores in the lab, and reads it back', async () => {
    const l = await lab.open({ schedule: false });
    expect(await l.getCalibration()).toBeNull();
    // Two requests at once share one measurement.
    const [a, b] = await Promise.all([l.calibrate(), l.calibrate()]);
    expect(b).toBe(a);
    expect(readCalibration(lab.dir)).toEqual(a);
    expect(await l.getCalibration()).toEqual(a);
    const r = await dispatch(l, 'getCalibration', undefined);
    expect(r).toEqual({ ok: true, value: a });
    const bad = await dispatch(l, 'calibrate', { quick: true });
    expect(bad.ok).toBe(false);
  });
});
