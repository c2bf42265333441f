// The lab refuses invalid qtha configs with a LabError naming the field, and writes no row; the example
// configs are valid as they are.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { QthaConfigSchema } from '../../core/methods/qtha';
import { labFixture } from '../helpers/lab';
import { rejection } from '../helpers/lab-error';

const lab = labFixture('qtha-lab-');

describe('qtha through the lab', () => {
  it.each([
    [{ mpoWidth: 30 }, 'config.mpoWidth', /cannot be factorised into 4 factors/],
    [{ base: { hiddenSize: 50, heads: 1 } }, 'config.base.hiddenSize', /width 50 cannot be factorised/],
    [{ base: { hiddenSize: 30, heads: 3 } }, 'config.base.hiddenSize', /width 30 cannot be factorised/],
    [{ rank: 1 }, 'config.rank', /at least 2 qubits/],
    [{ targetCorpus: 'brown' }, 'config.targetCorpus', /did not see/],
    [{ targets: '(q' }, 'config.targets', /regular expression/],
    [{ architecture: 'ABCD' }, 'config.architecture', /./],
    [{ loraR: false, lora2R: false }, 'config.loraR', /at least one baseline/],
    [{ sweep: { architectures: ['BC'], ranks: [1] } }, 'config.sweep.ranks', /r = 1/],
    [{ warmupSteps: 500, steps: 100 }, 'config.warmupSteps', /below steps/],
    [{ rank: 4, bogus: 1 }, 'config', /bogus/],
  ])('refuses %j at %s and writes nothing', async (config, field, message) => {
    const l = await lab.open();
    const e = await rejection(l.createRun({ kind: 'qtha', config }));
    expect(e.code).toBe('invalid');
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
    expect(await l.listRuns()).toEqual([]);
  });

  it('the examples are valid configs', () => {
    for (const f of [
      'examples/qtha-brown.json',
      'examples/qtha-brown-paper.json',
      'examples/qtha-topics.json',
    ]) {
      const ex = JSON.parse(readFileSync(f, 'utf8')) as { kind: string; config: unknown };
      expect(ex.kind).toBe('qtha');
      expect(QthaConfigSchema.safeParse(ex.config).success, f).toBe(true);
    }
  });
});
