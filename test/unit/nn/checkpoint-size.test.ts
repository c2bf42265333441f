// readSafetensorsFile takes the file's size from the handle it reads (fh.stat()), not from a stat of the path
// before the open: a file replaced between the two was read against the old file's size (and, under the file
// guard, the size came from a path the guard had not checked yet).
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { readSafetensorsFile } from '../../../core/nn/checkpoint';
import { serializeSafetensors } from '../../../core/nn/safetensors';

const dir = mkdtempSync(join(tmpdir(), 'qlab-st-size-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const target = join(dir, 'model.safetensors');
const swap = vi.hoisted(() => ({ path: '', replacement: '', stats: 0 }));

// a stat of the path (not of an open handle) replaces the file right after it answers: the swap a
// size-then-open reader cannot see
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...fs,
    stat: async (p: Parameters<typeof fs.stat>[0], ...rest: [never?]) => {
      const st = await fs.stat(p, ...rest);
      if (String(p) === swap.path) {
        swap.stats++;
        await fs.rename(swap.replacement, swap.path);
      }
      return st;
    },
  };
});

it('reads the file it opened with that file’s size', async () => {
  writeFileSync(target, serializeSafetensors([['w', { dtype: 'F32', shape: [1], data: [1] }]]));
  const bigger = join(dir, 'bigger.safetensors');
  const data = Array.from({ length: 64 }, (_, i) => i / 8);
  writeFileSync(
    bigger,
    serializeSafetensors([
      ['w', { dtype: 'F32', shape: [64], data }],
      ['a.long.tensor.name.to.lengthen.the.header', { dtype: 'F32', shape: [2], data: [3, 4] }],
    ]),
  );
  swap.path = target;
  swap.replacement = bigger;
  // a reader that stats the path opens the replacement and reads it against the first file's size (an error,
  // or tensors cut short); one that asks the handle reads the file it opened, whole
  const tensors = await readSafetensorsFile(target).catch((e: Error) => e);
  expect(tensors).toBeInstanceOf(Map);
  const m = tensors as Awaited<ReturnType<typeof readSafetensorsFile>>;
  expect([...m.keys()]).toEqual(['w']);
  expect(Array.from(m.get('w')!.data as Float32Array)).toEqual([1]);
  // and the replacement, once in place, is read whole the same way
  swap.path = '';
  renameSync(bigger, target);
  const again = await readSafetensorsFile(target);
  expect(Array.from(again.get('w')!.data as Float32Array)).toEqual(data);
  expect(again.size).toBe(2);
});
