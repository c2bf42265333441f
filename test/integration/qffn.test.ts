// The lab refuses an invalid qffn config before any row is written: the LabError names the config field, and
// no run, event or directory is left behind.
import { describe, expect, it } from 'vitest';
import { labFixture } from '../helpers/lab';
import { rejection } from '../helpers/lab-error';

const lab = labFixture('qlab-qffn-');

describe('qffn configs the lab refuses', () => {
  it.each([
    [
      'qubits too few for d',
      { base: { hiddenSize: 64 }, qubits: 4 },
      'config.qubits',
      /too few to amplitude-encode d = 64/,
    ],
    ['fraction above 1', { fraction: 1.25 }, 'config.fraction', /must be in \[0, 1\]/],
    ['fraction below 0', { fraction: -0.5 }, 'config.fraction', /must be in \[0, 1\]/],
    ['an unknown placement', { placement: 'middle' }, 'config.placement', /alternating/],
    [
      'a sweep fraction outside [0, 1]',
      { sweep: { fractions: [2] } },
      'config.sweep.fractions[0]',
      /must be in \[0, 1\]/,
    ],
  ])('%s', async (_, config, field, message) => {
    const l = await lab.open();
    const e = await rejection(l.createRun({ kind: 'qffn', config }));
    expect(e.code).toBe('invalid');
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
    expect(await l.listRuns()).toEqual([]);
    expect(lab.events).toEqual([]);
  });
});
