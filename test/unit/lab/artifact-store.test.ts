// LocalArtifactStore (core/lab/artifact-store.ts): what a job announces is checked before it is kept, and what
// is read is checked again against the artifact's row, so a damaged or swapped file is reported, never served.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from '../../../core/lab/artifact-store';

let dir: string;
let lab: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'qlab-artifacts-'));
  lab = join(dir, 'lab');
  mkdirSync(join(lab, 'artifacts', 'r1'), { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const RUN = 'r1';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function keep(store: LocalArtifactStore, bytes: Buffer, name = 'a.bin') {
  const tmpPath = join(lab, 'artifacts', RUN, `.tmp-${name}-x`);
  writeFileSync(tmpPath, bytes);
  return store.accept(RUN, { name, tmpPath, bytes: bytes.length, sha256: sha(bytes) });
}

describe('LocalArtifactStore', () => {
  it('keeps a verified file and reads it back checked', async () => {
    const s = new LocalArtifactStore(lab);
    const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => i & 255));
    const kept = await keep(s, bytes);
    expect(kept).toEqual({ path: 'artifacts/r1/a.bin', bytes: 3000, sha256: sha(bytes) });
    const file = await s.open(kept.path, { runId: RUN, name: 'a.bin', bytes: 3000, sha256: sha(bytes) });
    expect(readFileSync(file)).toEqual(bytes);
    expect(await s.exists(kept.path)).toBe(true);
  });

  it('refuses an announced file whose size or hash is not what was sent', async () => {
    const s = new LocalArtifactStore(lab);
    const tmpPath = join(lab, 'artifacts', RUN, '.tmp-b-x');
    writeFileSync(tmpPath, 'abc');
    await expect(
      s.accept(RUN, { name: 'b', tmpPath, bytes: 4, sha256: sha(Buffer.from('abc')) }),
    ).rejects.toThrow(/3 bytes on disk, 4 announced/);
    await expect(s.accept(RUN, { name: 'b', tmpPath, bytes: 3, sha256: '0'.repeat(64) })).rejects.toThrow(
      /sha256 does not match/,
    );
  });

  it('reports a file changed after it was kept, naming it, and serves nothing', async () => {
    const s = new LocalArtifactStore(lab);
    const bytes = Buffer.from('the real bytes\n');
    const kept = await keep(s, bytes);
    writeFileSync(join(lab, kept.path), 'the real bytez\n'); // same size, one byte differs
    await expect(
      s.open(kept.path, { runId: RUN, name: 'a.bin', bytes: bytes.length, sha256: sha(bytes) }),
    ).rejects.toThrow(
      /artifact a\.bin of run r1 is damaged: 15 bytes with sha256 [0-9a-f]{64}, its record says 15 bytes with sha256 [0-9a-f]{64}; it is not served/,
    );
  });

  it('does not follow a file swapped for a symlink out of the lab', async () => {
    const s = new LocalArtifactStore(lab);
    const bytes = Buffer.from('inside');
    const kept = await keep(s, bytes);
    const outside = join(dir, 'secret');
    writeFileSync(outside, 'inside'); // even with the very bytes of the row
    rmSync(join(lab, kept.path));
    symlinkSync(outside, join(lab, kept.path));
    await expect(
      s.open(kept.path, { runId: RUN, name: 'a.bin', bytes: 6, sha256: sha(bytes) }),
    ).rejects.toThrow(/lies outside the lab directory/);
  });
});
