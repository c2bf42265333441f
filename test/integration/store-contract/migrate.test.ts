// `qlab store migrate`: a desktop lab (SQLite) copied into PostgreSQL reads back the same through both
// RunStores, run for run (children, metrics, series, tags, notes, artifacts rows); a second copy copies nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../core/cli/main';
import { PgRunStore } from '../../../core/lab/store-pg';
import { SqliteRunStore } from '../../../core/lab/store-sqlite';
import { isSkipped, startPostgres, type PgServer } from '../../helpers/servers';

const server = await startPostgres();
const pg: PgServer | undefined = isSkipped(server) ? undefined : server;
if (isSkipped(server)) console.warn(`\n*** store migrate: SKIPPED: ${server.skipped} ***\n`);
else process.env.PGPASSWORD = server.password;
const dir = mkdtempSync(join(tmpdir(), 'qlab-migrate-'));
afterAll(() => {
  pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();

describe.skipIf(pg === undefined)('qlab store migrate --from sqlite:… --to postgres://…', () => {
  it('copies every run field for field, and a second run copies nothing', async () => {
    const file = join(dir, 'lab.sqlite');
    const s = SqliteRunStore.open(file);
    for (let n = 1; n <= 3; n++) {
      await s.createRun({
        id: ID(n),
        kind: 'k',
        name: `r${n}`,
        config: { z: n, a: [1, 'x'] },
        seed: n,
        createdAt: at(n),
        codeVersion: 'v',
        tags: ['t', `n${n}`],
        // run 3 was created over the API: queued and guarded, it must stay guarded on the workers
        fileRoots: n === 3 ? ['/lab/imports', '/data'] : null,
      });
    }
    await s.claimRun(ID(1), at(10), { hostname: 'h' });
    await s.createChildRun({
      id: ID(11),
      parentId: ID(1),
      kind: 'k/p',
      name: 'c',
      config: { lr: 0.1 },
      seed: 5,
      at: at(11),
      codeVersion: 'v',
      host: {},
    });
    const pts = Array.from({ length: 12_000 }, (_, i) => ({
      key: i % 2 ? 'a' : 'b',
      step: i >> 1,
      value: Math.cos(i),
      wallTime: 1e12 + i,
    }));
    await s.appendMetrics(ID(1), pts);
    await s.appendMetrics(ID(11), pts.slice(0, 10));
    await s.finishChild(ID(11), { summary: { x: 1 }, report: [], backend: {} }, 'succeeded', at(12), null);
    await s.addArtifact(
      ID(1),
      { name: 'm.bin', kind: 'bin', path: 'artifacts/x/m.bin', bytes: 9, sha256: 'ab' },
      at(13),
    );
    await s.addNote(ID(1), 'first', at(14));
    await s.addNote(ID(1), 'second', at(15));
    await s.endRun(ID(1), {
      status: 'succeeded',
      at: at(16),
      error: null,
      children: { status: 'failed', error: 'x' },
    });
    await s.requestCancel(ID(2));
    await s.close();

    const url = await pg!.createDatabase();
    const out: string[] = [];
    const io = { write: (t: string) => out.push(t) };
    const ctx = {
      stdout: io,
      stderr: io,
      env: process.env,
      cwd: dir,
      openLab: () => Promise.reject(new Error('unused')),
    };
    expect(await main(['store', 'migrate', '--from', `sqlite:${file}`, '--to', url], ctx)).toBe(0);
    expect(out.join('')).toMatch(/copied 3 run\(s\), skipped 0, 12010 metric points/);

    const a = SqliteRunStore.open(file);
    const b = await PgRunStore.open(url);
    try {
      for (const id of [ID(1), ID(2), ID(3), ID(11)]) {
        const x = await a.getDetail(id);
        const y = await b.getDetail(id);
        const plain = (d: typeof x) => ({
          ...d,
          notes: d!.notes.map((n) => ({ text: n.text, createdAt: n.createdAt })),
        });
        expect(plain(y), id).toEqual(plain(x));
      }
      expect(await b.series(ID(1), 'a', 50)).toEqual(await a.series(ID(1), 'a', 50));
      expect(await b.cancelRequested([ID(2), ID(3)])).toEqual([ID(2)]);
      for (const id of [ID(1), ID(2), ID(3), ID(11)])
        expect(await b.fileRoots(id)).toEqual(await a.fileRoots(id));
      expect(await b.fileRoots(ID(3))).toEqual(['/lab/imports', '/data']);
      expect(await b.listRuns({ includeChildren: true })).toEqual(
        await a.listRuns({ includeChildren: true }),
      );
    } finally {
      await a.close();
      await b.close();
    }
    out.length = 0;
    expect(await main(['store', 'migrate', '--from', `sqlite:${file}`, '--to', url], ctx)).toBe(0);
    expect(out.join('')).toMatch(/copied 0 run\(s\), skipped 3, 0 metric points/);
    out.length = 0;
    expect(
      await main(
        ['store', 'migrate', '--from', `sqlite:${file}`, '--to', url.replace('postgres@', 'postgres:pw@')],
        ctx,
      ),
    ).toBe(2);
    expect(out.join('')).toMatch(/holds a password/);
  });
});
