// Bundle uploads imported on a worker thread (core/lab/bundle-import.ts): the thread reopens the lab's SQLite
// store, imports, and answers with what it imported or the LabError, naming the upload; and the upload's base64
// check (isBase64, fast enough for 85 MiB on the thread that serves the LabApi) agrees with the anchored regex
// it replaced.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isBase64, LabError } from '../../../core/api/lab-api';
import { importUploadInThread } from '../../../core/lab/bundle-import';
import { openLab } from '../../../core/lab/service';
import { SqliteRunStore } from '../../../core/lab/store-sqlite';
import { Rng } from '../../../core/util/rng';
import { seedLab } from '../../helpers/seed-lab';

const tmp = mkdtempSync(join(tmpdir(), 'qlab-bundle-thread-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('isBase64', () => {
  it('agrees with /^[A-Za-z0-9+/]*={0,2}$/ on 20,000 random strings', () => {
    const rng = new Rng(5);
    const alphabet = 'AZaz09+/==\n -_.é';
    for (let i = 0; i < 20_000; i++) {
      const n = Math.floor(rng.uniform() * 8);
      let s = '';
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(rng.uniform() * alphabet.length)];
      expect(isBase64(s), JSON.stringify(s)).toBe(/^[A-Za-z0-9+/]*={0,2}$/.test(s));
    }
  });
});

describe('importUploadInThread', () => {
  it('imports on a worker thread into the lab’s store, and brings a refusal back as a LabError', async () => {
    const src = join(tmp, 'src');
    const { parent, child } = seedLab((mkdtempSync(src), src));
    const lab = await openLab({ labDir: src, schedule: false });
    const file = await lab.exportBundle({ ids: [parent] });
    await lab.close();
    const dst = join(tmp, 'dst');
    await (await openLab({ labDir: dst, schedule: false })).close();
    const spec = { engine: 'sqlite' as const, file: join(dst, 'lab.sqlite') };
    const r = await importUploadInThread({ labDir: dst, store: spec, data: file.content, name: 'b.qlab' });
    expect(r).toEqual({ imported: [parent, child], skipped: [], artifacts: 1 });
    const store = SqliteRunStore.open(join(dst, 'lab.sqlite'));
    expect((await store.getDetail(child))?.metrics[0]).toMatchObject({ key: 'loss', count: 2 });
    await store.close();
    const again = await importUploadInThread({
      labDir: dst,
      store: spec,
      data: file.content,
      name: 'b.qlab',
    });
    expect(again).toEqual({ imported: [], skipped: [parent, child], artifacts: 0 });
    const e = await importUploadInThread({ labDir: dst, store: spec, data: 'QUJD', name: 'bad.qlab' }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(LabError);
    expect((e as LabError).message).toMatch(/^bad\.qlab is truncated or not a qlab bundle/);
    expect((e as LabError).field).toBe('bundle');
  }, 60_000);
});
