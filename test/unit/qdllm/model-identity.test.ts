// The teacher cache key includes the model file's (or model directory's) size and mtime, so a model replaced
// at the same path is never answered from the old model's cached outputs.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TeacherSchema } from '../../../core/methods/qdllm/schema';
import { modelIdentity } from '../../../core/methods/qdllm/teacher';

describe('modelIdentity (teacher cache key)', () => {
  it('changes when a GGUF file or a file of a model directory is replaced, and is null when missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qlab-ident-'));
    try {
      const gguf = join(dir, 'm.gguf');
      writeFileSync(gguf, 'GGUF one');
      utimesSync(gguf, 1000, 1000);
      const t = TeacherSchema.parse({ source: 'gguf', modelPath: gguf });
      const a = JSON.stringify(modelIdentity(t));
      expect(JSON.stringify(modelIdentity(t))).toBe(a);
      writeFileSync(gguf, 'GGUF two!');
      utimesSync(gguf, 1000, 1000);
      expect(JSON.stringify(modelIdentity(t))).not.toBe(a);

      const md = join(dir, 'model');
      const mt = TeacherSchema.parse({ source: 'lab-transformer', modelDir: md });
      expect(modelIdentity(mt)).toBeNull();
      mkdirSync(md);
      writeFileSync(join(md, 'config.json'), '{}');
      writeFileSync(join(md, 'model.safetensors'), 'x');
      const b = JSON.stringify(modelIdentity(mt));
      writeFileSync(join(md, 'model.safetensors'), 'xy');
      expect(JSON.stringify(modelIdentity(mt))).not.toBe(b);
      // the default lab-transformer teacher (no model directory) has no file identity
      expect(modelIdentity(TeacherSchema.parse({ source: 'lab-transformer' }))).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
