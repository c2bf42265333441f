// Issue 13, files the API may read: GGUF files under the job's file guard. A run created over HTTP or IPC has
// its GGUF path checked before node-llama-cpp is even imported (a path outside the lab's file roots is refused
// naming the field, nothing of the file echoed), and node-llama-cpp gets the checked file itself
// (/proc/self/fd/N on Linux), so a swap of a folder on the path after the check is not followed. A stand-in
// node-llama-cpp records what it is asked to load: no real model is needed, the refusal comes first.
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { TextData } from '../../../core/data/text';
import { buildGgufTeacher } from '../../../core/methods/qdllm/gguf-teacher';
import type { GgufTeacherConfig, QdllmConfig } from '../../../core/methods/qdllm/schema';
import { ggufEncoder } from '../../../core/methods/qhead/encoder';
import { openGgufFile } from '../../../core/nn/gguf';
import { setFileGuard } from '../../../core/util/file-guard';
import { fakeJobContext } from '../../helpers/job-context';

const scratch = realpathSync(mkdtempSync(join(tmpdir(), 'qlab-gguf-guard-')));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(() => setFileGuard(null));

/** A stand-in node-llama-cpp: records each import and each loadModel (with the bytes at that path then). */
function standIn(onLoad?: (modelPath: string) => void) {
  const seen = { imports: 0, loads: [] as { modelPath: string; bytes: string }[] };
  const importer = async () => {
    seen.imports++;
    return {
      getLlama: async () => ({
        loadModel: async ({ modelPath }: { modelPath: string }) => {
          onLoad?.(modelPath);
          seen.loads.push({ modelPath, bytes: readFileSync(modelPath, 'latin1') });
          throw new Error('stand-in: no model here');
        },
      }),
    };
  };
  return { seen, importer };
}

function folders() {
  const root = mkdtempSync(join(scratch, 'root-'));
  const outside = mkdtempSync(join(scratch, 'outside-'));
  writeFileSync(join(outside, 'm.gguf'), 'GGUF SECRET weights');
  return { root, outside };
}

describe('GGUF files under the file guard', () => {
  it('refuses a qhead encoder GGUF outside the roots before node-llama-cpp is imported, echoing nothing', async () => {
    const { root, outside } = folders();
    setFileGuard([root]);
    const { seen, importer } = standIn();
    const e = (await ggufEncoder(join(outside, 'm.gguf'), 100, importer).catch((x: Error) => x)) as Error;
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toMatch(/^encoder\.path: /);
    expect(e.message).toContain("outside the lab's file roots");
    expect(e.message).not.toContain('SECRET');
    expect(seen.imports).toBe(0);
    expect(seen.loads).toEqual([]);
  });

  it('refuses a qdllm teacher GGUF outside the roots, and one reached through a symlink inside them', async () => {
    const { root, outside } = folders();
    symlinkSync(join(outside, 'm.gguf'), join(root, 'link.gguf'));
    setFileGuard([root]);
    const { seen, importer } = standIn();
    const data = { classes: ['a', 'b'] } as unknown as TextData;
    for (const p of [
      join(outside, 'm.gguf'),
      join(root, 'link.gguf'),
      join(root, '..', 'x', '..', 'm.gguf'),
    ]) {
      const t = { source: 'gguf', modelPath: p } as GgufTeacherConfig;
      const e = (await buildGgufTeacher(
        {} as QdllmConfig,
        t,
        data,
        fakeJobContext(scratch, 1).ctx,
        importer,
      ).catch((x: Error) => x)) as Error;
      expect(e.message, p).toMatch(/^teacher\.modelPath: /);
      expect(e.message, p).not.toContain('SECRET');
    }
    expect(seen.imports).toBe(0);
    expect(seen.loads).toEqual([]);
  });

  it('hands node-llama-cpp the checked file itself: a folder swapped for a symlink out meanwhile is not followed', async () => {
    const { root, outside } = folders();
    mkdirSync(join(root, 'models'));
    writeFileSync(join(root, 'models', 'm.gguf'), 'GGUF checked weights');
    const path = join(root, 'models', 'm.gguf');
    setFileGuard([root]);
    // the swap happens between the check and node-llama-cpp's own open
    const { seen, importer } = standIn(() => {
      renameSync(join(root, 'models'), join(root, 'models-was'));
      symlinkSync(outside, join(root, 'models'));
    });
    await expect(ggufEncoder(path, 100, importer)).rejects.toThrow('stand-in: no model here');
    expect(seen.loads).toHaveLength(1);
    expect(seen.loads[0].bytes).toBe('GGUF checked weights');
    if (process.platform === 'linux') expect(seen.loads[0].modelPath).toMatch(/^\/proc\/self\/fd\/\d+$/);
    // by name, the path now leads outside: the name was not what node-llama-cpp opened
    expect(readFileSync(path, 'latin1')).toContain('SECRET');
  });

  it('without the guard (a command-line run) gives node-llama-cpp the path as it is', async () => {
    const { outside } = folders();
    const { seen, importer } = standIn();
    await expect(ggufEncoder(join(outside, 'm.gguf'), 100, importer)).rejects.toThrow('stand-in');
    expect(seen.loads.map((l) => l.modelPath)).toEqual([join(outside, 'm.gguf')]);
  });

  it('names the field for a missing file, a folder and a file that is not GGUF, guarded or not', async () => {
    const { root } = folders();
    writeFileSync(join(root, 'not.gguf'), 'PK\u0003\u0004');
    for (const guard of [null, [root]]) {
      setFileGuard(guard);
      await expect(openGgufFile(join(root, 'nope.gguf'), 'encoder.path')).rejects.toThrow(
        `encoder.path: no file at ${join(root, 'nope.gguf')}`,
      );
      await expect(openGgufFile(root, 'encoder.path')).rejects.toThrow(
        `encoder.path: ${root} is not a regular file`,
      );
      await expect(openGgufFile(join(root, 'not.gguf'), 'encoder.path')).rejects.toThrow(
        'is not a GGUF file (it does not start with "GGUF")',
      );
    }
  });
});
