// What a submission creates, from the kinds' metadata (core/methods/metadata/run-plan.ts): the child runs of
// a kind's own sweep, the repetitions of `vary`, and a lab-level sweep's points (whose own sweeps run inside
// them). qffn's count is checked against a real tiny run whose context counts the child runs it starts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kindMeta, submissionPlan } from '../../../core/api/kinds';
import { childOrInline, type JobContext } from '../../../core/methods/job';
import { qffnKind } from '../../../core/methods/qffn';
import { QffnConfigSchema } from '../../../core/methods/qffn/schema';
import { fakeJobContext } from '../../helpers/job-context';

const root = mkdtempSync(join(tmpdir(), 'run-plan-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const meta = (kind: string) => {
  const m = kindMeta(kind);
  if (!m) throw new Error(`no metadata for ${kind}`);
  return m;
};

describe('submissionPlan', () => {
  it('a kind without child runs or seeds: one run, nothing more said', () => {
    const p = submissionPlan(meta('vqc-fit'), [{}], false);
    expect(p).toMatchObject({ runs: 1, childRuns: 0, innerPoints: 0, lines: [] });
  });

  it("qffn: its fraction/depth sweep's points are child runs; as a lab sweep's points they run inside each", () => {
    const cfg = { seeds: 2, sweep: { fractions: [0.25, 0.5], depths: [4] } };
    const one = submissionPlan(meta('qffn'), [cfg], false)!;
    expect(one).toMatchObject({ runs: 1, childRuns: 3, innerPoints: 0 });
    expect(one.lines[0]).toMatch(
      /creates 3 child runs under it: the fraction\/depth sweep's points, each over 2 seeds/,
    );
    expect(one.lines[1]).toMatch(/trains every model over 2 seeds/);
    // a 2-point lab sweep whose second point has no inner sweep
    const two = submissionPlan(meta('qffn'), [cfg, { ...cfg, sweep: { fractions: [], depths: [] } }], true)!;
    expect(two).toMatchObject({ runs: 2, childRuns: 0, innerPoints: 3 });
    expect(two.lines[0]).toMatch(/3 points in all, recorded in the point's run/);
  });

  it('qhead: the screening design (fractional or full) sets the child runs; vary makes repetitions', () => {
    const sweep = { design: 'full', factors: { qubits: [2, 3], depth: [1, 2, 3] }, seeds: 2 };
    expect(submissionPlan(meta('qhead'), [{ sweep }], false)).toMatchObject({ childRuns: 6 });
    const varied = submissionPlan(meta('qhead'), [{ seeds: 3, vary: ['split'] }], false)!;
    expect(varied).toMatchObject({ childRuns: 0, first: { repetitions: 3, repetitionsWhat: 'split' } });
    expect(varied.lines).toEqual([
      'The run holds 3 repetitions, each a whole one-seed run with its own split, reported side by side.',
    ]);
  });

  it('qdllm: vary teacher counts only with a lab teacher; qtha: ranks × architectures', () => {
    expect(submissionPlan(meta('qdllm'), [{ seeds: 4, vary: ['split', 'teacher'] }], false)).toMatchObject({
      first: { repetitions: 4, repetitionsWhat: 'split and teacher' },
    });
    expect(
      submissionPlan(meta('qtha'), [{ sweep: { ranks: [2, 4], architectures: ['ABC', 'AB'] } }], false),
    ).toMatchObject({ childRuns: 4 });
  });

  it('an invalid config has no plan', () => {
    expect(submissionPlan(meta('vqc-fit'), [{ qubits: -3 }], false)).toBeNull();
    expect(submissionPlan(meta('qffn'), [{}, { seeds: 0 }], true)).toBeNull();
  });

  it("qffn's count is the child runs a tiny run starts", async () => {
    const cfg = QffnConfigSchema.parse({
      base: {
        corpusChars: 60000,
        vocabSize: 300,
        hiddenSize: 16,
        layers: 2,
        heads: 2,
        intermediateSize: 40,
        pretrainSteps: 4,
      },
      steps: 2,
      evalEvery: 2,
      warmupSteps: 1,
      layerwiseSteps: 1,
      batchSize: 2,
      seqLen: 8,
      evalTokens: 64,
      testTokens: 64,
      seeds: 1,
      prompts: ['The'],
      generateTokens: 1,
      lrFactors: [1],
      uncompressed: false,
      sweep: { fractions: [1], depths: [1, 2] },
    });
    const { ctx: bare } = fakeJobContext(join(root, 'cache'), 3, { workDir: root });
    const started: string[] = [];
    const ctx: JobContext = {
      ...bare,
      child: (name, config, opts) => {
        started.push(name);
        return childOrInline(bare, name, config, opts);
      },
    };
    await qffnKind.run(cfg, ctx);
    expect(started).toHaveLength(3);
    expect(submissionPlan(meta('qffn'), [cfg], false)?.childRuns).toBe(started.length);
  }, 120_000);
});
