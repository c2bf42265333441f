// getRunConfigs (a config flattened for the runs table's columns) and getRunLog (the tail of the stored log).
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flattenConfig, MAX_CONFIG_FIELDS } from '../../../core/api/lab-api';
import { parseLogTail, readLogTail } from '../../../core/lab/run-log';
import { labFixture, ScriptedProcess } from '../../helpers/lab';
import { rejection } from '../../helpers/lab-error';

const lab = labFixture('qlab-configs-log-');
const idle = { name: 'idle', spawn: () => new ScriptedProcess(() => [], false) };

describe('flattenConfig', () => {
  it('gives each scalar leaf under its path, short scalar arrays as one cell, and nothing unbounded', () => {
    expect(
      flattenConfig({
        qubits: 4,
        model: { layers: 2, name: 'x'.repeat(200), on: true, none: null },
        widths: [2, 4],
        long: Array.from({ length: 20 }, (_, i) => i),
        objs: [{ a: 1 }],
      }),
    ).toEqual({
      qubits: 4,
      'model.layers': 2,
      'model.name': `${'x'.repeat(79)}…`,
      'model.on': true,
      'model.none': null,
      widths: '[2, 4]',
    });
    const wide = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]));
    expect(Object.keys(flattenConfig(wide))).toHaveLength(MAX_CONFIG_FIELDS);
    expect(flattenConfig(7)).toEqual({});
  });
});

describe('getRunConfigs', () => {
  it("returns the listed runs' configs flattened, skips unknown ids and validates the request", async () => {
    const l = await lab.open({ launcher: idle });
    const a = await l.createRun({ kind: 'test-stream', config: { steps: 3 } });
    const got = await l.getRunConfigs({ ids: [a.id, a.id, crypto.randomUUID()] });
    expect(got).toEqual([
      { runId: a.id, fields: { steps: 3, delayMs: 0, perStep: 1, artifact: false, ignoreCancel: false } },
    ]);
    expect(await rejection(l.getRunConfigs({ ids: [] }))).toMatchObject({ code: 'invalid', field: 'ids' });
    expect(await rejection(l.getRunConfigs({ ids: ['nope'] }))).toMatchObject({ code: 'invalid' });
  });
});

describe('getRunLog', () => {
  it('reads the stored log back, multi-line messages whole, bounded to the last lines', async () => {
    const l = await lab.open({ launcher: idle });
    const run = await l.createRun({ kind: 'test-stream', config: { steps: 3 } });
    const dir = join(lab.dir, 'logs');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${run.id}.log`);
    writeFileSync(file, '');
    for (let i = 0; i < 30; i++)
      appendFileSync(file, `2026-12-05T09:00:${String(i).padStart(2, '0')}.000Z info line ${i}\n`);
    appendFileSync(file, '2026-12-05T09:01:00.000Z error Error: boom\n    at f (x.ts:1)\n');
    const all = await l.getRunLog({ runId: run.id });
    expect(all.lines).toHaveLength(31);
    expect(all.truncated).toBe(false);
    expect(all.lines[30]).toEqual({
      at: '2026-12-05T09:01:00.000Z',
      level: 'error',
      message: 'Error: boom\n    at f (x.ts:1)',
    });
    const tail = await l.getRunLog({ runId: run.id, maxLines: 2 });
    expect(tail.lines.map((x) => x.message)).toEqual(['line 29', 'Error: boom\n    at f (x.ts:1)']);
    expect(tail.truncated).toBe(true);
    expect(tail.bytes).toBe(all.bytes);
    expect(await rejection(l.getRunLog({ runId: crypto.randomUUID() }))).toMatchObject({ code: 'not-found' });
    expect(await rejection(l.getRunLog({ runId: run.id, maxLines: 0 }))).toMatchObject({ field: 'maxLines' });
  });

  it('reads at most maxBytes from the end and drops the partial first line', () => {
    const text =
      Array.from({ length: 100 }, (_, i) => `2026-12-05T09:00:00.000Z info n${i}`).join('\n') + '\n';
    const file = join(lab.dir, 'x.log');
    writeFileSync(file, text);
    const t = readLogTail(file, 1000, 100);
    expect(t.truncated).toBe(true);
    expect(t.bytes).toBe(text.length);
    expect(t.lines.at(-1)?.message).toBe('n99');
    expect(t.lines.length).toBeLessThanOrEqual(3);
    expect(readLogTail(join(lab.dir, 'none.log'), 10)).toEqual({ lines: [], truncated: false, bytes: 0 });
    expect(parseLogTail('    at g\n2026-12-05T09:00:00.000Z warn w\n', 10, false)).toEqual({
      lines: [{ at: '2026-12-05T09:00:00.000Z', level: 'warn', message: 'w' }],
      truncated: true,
    });
  });
});
