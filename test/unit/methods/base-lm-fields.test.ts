// qffn and qtha share their base LM's own fields (model directory, pretraining steps and rate, base seed) from one
// fragment, baseLmFields in core/methods/metadata/shared-fields.ts: the same validation and metadata, each kind
// with its own default steps, help and key order (cache keys hash the config as written, so the order stays).
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { BaseSchema as QffnBase } from '../../../core/methods/qffn/schema';
import { BaseSchema as QthaBase } from '../../../core/methods/qtha/schema';

const SHARED = ['modelDir', 'pretrainSteps', 'pretrainLr', 'seed'] as const;
const LM = ['corpus', 'corpusChars', 'vocabSize', 'hiddenSize', 'layers', 'heads', 'intermediateSize'];

/** A field's JSON Schema without what each kind words or defaults its own way. */
function rule(schema: z.ZodType): unknown {
  const {
    description: _d,
    default: _f,
    ...rest
  } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return rest;
}

describe('the base LM fields shared by qffn and qtha', () => {
  it('validate alike and carry the same metadata, differing only in default steps and help', () => {
    for (const k of SHARED) {
      expect(rule(QthaBase.shape[k]), k).toEqual(rule(QffnBase.shape[k]));
      const { description: _a, ...mq } = QffnBase.shape[k].meta() ?? {};
      const { description: _b, ...mt } = QthaBase.shape[k].meta() ?? {};
      expect(mt, k).toEqual(mq);
      expect(mq.title, k).toBeTruthy();
    }
    const q = QffnBase.parse({});
    const t = QthaBase.parse({});
    expect([q.modelDir, q.pretrainSteps, q.pretrainLr, q.seed]).toEqual([null, 300, 3e-3, 0]);
    expect([t.modelDir, t.pretrainSteps, t.pretrainLr, t.seed]).toEqual([null, 200, 3e-3, 0]);
    for (const S of [QffnBase, QthaBase]) {
      for (const [bad, field] of [
        [{ seed: 2 ** 31 }, 'seed'],
        [{ pretrainLr: 0 }, 'pretrainLr'],
        [{ pretrainSteps: 1.5 }, 'pretrainSteps'],
        [{ modelDir: '' }, 'modelDir'],
      ] as const) {
        const r = S.safeParse(bad);
        expect(r.success, field).toBe(false);
        expect(r.error?.issues[0].path).toEqual([field]);
      }
    }
  });

  it('keep each kind’s key order', () => {
    expect(Object.keys(QffnBase.shape)).toEqual([...LM, 'modelDir', 'pretrainSteps', 'pretrainLr', 'seed']);
    expect(Object.keys(QthaBase.shape)).toEqual([
      'modelDir',
      ...LM,
      'pretrainSteps',
      'pretrainBatch',
      'pretrainSeqLen',
      'pretrainLr',
      'seed',
    ]);
  });
});
