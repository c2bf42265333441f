// Issue 13, "bounded before allocated" and "clear messages": dataset files through the importer that names
// lines, refusing what is not a regular file or too big, in well under a second.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importClassificationFile, readDatasetFile } from '../../../core/data/import';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'qlab-bad-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const opts = { textColumn: 'text', labelColumn: 'label' };

async function refusal(p: Promise<unknown>): Promise<{ message: string; ms: number }> {
  const t0 = performance.now();
  try {
    await p;
  } catch (e) {
    return { message: (e as Error).message, ms: performance.now() - t0 };
  }
  throw new Error('expected a refusal');
}

describe('dataset files', () => {
  it('refuses a symlink to /dev/zero, a folder and a missing file with one sentence each, at once', async () => {
    symlinkSync('/dev/zero', join(dir, 'zero.csv'));
    mkdirSync(join(dir, 'folder.csv'));
    const zero = await refusal(importClassificationFile(join(dir, 'zero.csv'), opts));
    expect(zero.message).toContain('is not a regular file');
    expect(zero.ms).toBeLessThan(500);
    expect((await refusal(importClassificationFile(join(dir, 'folder.csv'), opts))).message).toContain(
      'is a folder',
    );
    const missing = await refusal(importClassificationFile(join(dir, 'missing.csv'), opts));
    expect(missing.message).toBe(`${join(dir, 'missing.csv')}: no such file`);
    expect(missing.message).not.toMatch(/ENOENT/);
  });

  it('refuses a file over the size limit before reading it', async () => {
    writeFileSync(join(dir, 'big.csv'), 'x'.repeat(2048));
    expect((await refusal(readDatasetFile(join(dir, 'big.csv'), 1024))).message).toContain(
      'limited to 1024 bytes',
    );
  });

  it('names the line of an unterminated quote, a bad JSONL line and a wrong TSV field count', async () => {
    writeFileSync(join(dir, 'q.csv'), 'text,label\n"open,a\nb,c\n');
    writeFileSync(join(dir, 'j.jsonl'), '{"text":"a","label":"x"}\n{"text": oops}\n');
    writeFileSync(join(dir, 't.tsv'), 'text\tlabel\na\tx\nb\ty\tz\n');
    expect((await refusal(importClassificationFile(join(dir, 'q.csv'), opts))).message).toMatch(/line 2: /);
    expect((await refusal(importClassificationFile(join(dir, 'j.jsonl'), opts))).message).toMatch(/line 2: /);
    expect((await refusal(importClassificationFile(join(dir, 't.tsv'), opts))).message).toMatch(
      /line 3: 3 fields/,
    );
  });

  it('echoes a bounded part of a header that lacks the column', async () => {
    const long = 'root:x:0:0:root:/root:/bin/bash-and-then-a-long-secret-tail-of-the-line';
    writeFileSync(join(dir, 'p.csv'), `${long}\nx\n`);
    const m = (await refusal(importClassificationFile(join(dir, 'p.csv'), opts))).message;
    expect(m).toContain('has no column "text"');
    expect(m).not.toContain('secret-tail');
  });
});
