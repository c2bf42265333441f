import { describe, expect, it } from 'vitest';
import { describeZodError } from '../../../core/api/lab-api';
import { ParentMessageSchema, WorkerMessageSchema, serializeError } from '../../../core/lab/protocol';

const sha = 'a'.repeat(64);

function fieldOf(schema: typeof WorkerMessageSchema | typeof ParentMessageSchema, msg: unknown): string {
  const r = schema.safeParse(msg);
  if (r.success) throw new Error(`expected ${JSON.stringify(msg)} to be rejected`);
  return describeZodError(r.error).field;
}

describe('worker → parent messages', () => {
  it('accepts every well-formed message type', () => {
    const good: unknown[] = [
      { type: 'ready', pid: 12 },
      { type: 'progress', fraction: 0.5, message: null },
      { type: 'metrics', points: [{ key: 'loss', step: 0, value: 1.5, wallTime: 1 }] },
      { type: 'log', level: 'warn', message: 'hi' },
      { type: 'artifact', name: 'model.bin', kind: 'weights', tmpPath: '/x/.tmp-a', bytes: 3, sha256: sha },
      { type: 'heartbeat' },
      {
        type: 'result',
        result: {
          summary: { acc: 0.9, label: 'x' },
          report: [
            { type: 'table', title: 't', columns: ['a'], rows: [[1], ['b'], [null]] },
            { type: 'text', title: 'x', text: 'y' },
          ],
          backend: { name: 'cpu' },
        },
      },
      { type: 'failed', error: { name: 'Error', message: 'boom', stack: 'at x' } },
      { type: 'done' },
    ];
    for (const m of good) expect(WorkerMessageSchema.safeParse(m).success, JSON.stringify(m)).toBe(true);
  });

  it('rejects bad messages naming the field', () => {
    expect(fieldOf(WorkerMessageSchema, { type: 'nope' })).toBe('type');
    expect(fieldOf(WorkerMessageSchema, { type: 'progress', fraction: 1.5, message: null })).toBe('fraction');
    expect(
      fieldOf(WorkerMessageSchema, {
        type: 'metrics',
        points: [{ key: 'l', step: 0.5, value: 1, wallTime: 0 }],
      }),
    ).toBe('points[0].step');
    expect(
      fieldOf(WorkerMessageSchema, {
        type: 'metrics',
        points: [{ key: 'l', step: 1, value: null, wallTime: 0 }],
      }),
    ).toBe('points[0].value');
    expect(
      fieldOf(WorkerMessageSchema, {
        type: 'metrics',
        points: [{ key: 'l', step: 1, value: Number.POSITIVE_INFINITY, wallTime: 0 }],
      }),
    ).toBe('points[0].value');
    expect(fieldOf(WorkerMessageSchema, { type: 'metrics', points: [] })).toBe('points');
    expect(fieldOf(WorkerMessageSchema, { type: 'log', level: 'loud', message: 'x' })).toBe('level');
    expect(
      fieldOf(WorkerMessageSchema, {
        type: 'artifact',
        name: '../etc',
        kind: 'k',
        tmpPath: '/x',
        bytes: 1,
        sha256: sha,
      }),
    ).toBe('name');
    expect(
      fieldOf(WorkerMessageSchema, {
        type: 'artifact',
        name: 'a',
        kind: 'k',
        tmpPath: '/x',
        bytes: 1,
        sha256: 'XYZ',
      }),
    ).toBe('sha256');
    expect(
      fieldOf(WorkerMessageSchema, {
        type: 'result',
        result: { summary: { a: { b: 1 } }, report: [], backend: {} },
      }),
    ).toBe('result.summary.a');
    expect(
      fieldOf(WorkerMessageSchema, {
        type: 'result',
        result: { summary: {}, report: [{ type: 'chart', title: 'x' }], backend: {} },
      }),
    ).toBe('result.report[0].type');
    // An unknown key is reported at the object, with the key in the message.
    const extra = WorkerMessageSchema.safeParse({ type: 'heartbeat', extra: 1 });
    expect(extra.success).toBe(false);
    if (!extra.success) expect(describeZodError(extra.error).message).toMatch(/extra/);
    expect(fieldOf(WorkerMessageSchema, 'not an object')).toBe('(root)');
  });
});

describe('parent → worker messages', () => {
  const start = {
    type: 'start',
    runId: '3b241101-e2bb-4255-8caf-4136c566a962',
    kind: 'k',
    config: { any: 'thing' },
    seed: 1,
    workDir: '/w',
    labDir: '/l',
  };
  it('accepts start and cancel', () => {
    expect(ParentMessageSchema.safeParse(start).success).toBe(true);
    expect(ParentMessageSchema.safeParse({ type: 'cancel' }).success).toBe(true);
  });
  it('rejects a bad start naming the field', () => {
    expect(fieldOf(ParentMessageSchema, { ...start, runId: 'r1' })).toBe('runId');
    expect(fieldOf(ParentMessageSchema, { ...start, seed: -1 })).toBe('seed');
    expect(fieldOf(ParentMessageSchema, { ...start, seed: 2 ** 32 })).toBe('seed');
  });
});

describe('serializeError', () => {
  it('keeps name, message and stack of an Error, and stringifies anything else', () => {
    const e = serializeError(new RangeError('r'));
    expect(e.name).toBe('RangeError');
    expect(e.message).toBe('r');
    expect(e.stack).toMatch(/RangeError: r/);
    expect(serializeError(42)).toEqual({ name: 'Error', message: '42' });
  });
});
