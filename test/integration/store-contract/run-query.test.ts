// The runs table's pages (RunStore.queryRuns) on both stores: the same 600 runs built through the RunStore in
// SQLite and in a real PostgreSQL (ICU en-US collation, so a page sorted by the database's locale instead of
// bytewise would differ), then many requests — every column both ways at several offsets, filters, searches
// in any case, groups with their counts and pages inside them, select-all ids, facets and summary keys —
// must give identical pages. SQLite's own pages are checked against the renderer's reference in
// test/unit/lab/run-query.test.ts; here a PostgreSQL page must equal SQLite's, field for field.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunQuerySchema, type RunPage, type RunQuery, type RunStatus } from '../../../core/api/lab-api';
import type { RunStore } from '../../../core/lab/run-store';
import { PgRunStore } from '../../../core/lab/store-pg';
import { SqliteRunStore } from '../../../core/lab/store-sqlite';
import { durationSeconds } from '../../../renderer/src/lib/runs-table';
import { isSkipped, startPostgres, type PgServer } from '../../helpers/servers';

const server = await startPostgres();
const pgServer: PgServer | undefined = isSkipped(server) ? undefined : server;
if (isSkipped(server)) console.warn(`\n*** run-query contract: PostgreSQL SKIPPED: ${server.skipped} ***\n`);
else process.env.PGPASSWORD = server.password;

const tmp = mkdtempSync(join(tmpdir(), 'qlab-query-contract-'));
let sqlite: RunStore;
let pgStore: RunStore | undefined;
let pgUrl = '';
/** Unfinished runs' durations end here on both stores. */
const NOW = '2026-10-03T00:00:00.000Z';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

// Texts whose bytewise order differs from en-US collation (case, hyphens, accents, astral vs U+FFxx).
const KINDS = ['qhead', 'Zeta-kind', 'alpha', 'b-c', 'bc'];
const TAGS = ['a', 'B', 'b-c', 'bc', 'Zeta', 'é', '\u{1F600}', '\uFF21'];
const NAMES = [
  '',
  'Alpha',
  'beta run',
  'Ünicode',
  'needle',
  'a-b',
  'ab',
  'É',
  '\uFF21x',
  '\u{1F600}y',
  'İstanbul',
];
const STRINGS = ['n/a', 'Z', 'a', 'b-c', 'bc', 'é', '\u{1F600}', '\uFF21'];

/** The same runs, through the RunStore only, in any store. */
async function build(s: RunStore): Promise<void> {
  const r = rng(11);
  const t0 = Date.parse('2026-10-01T00:00:00.000Z');
  const iso = (ms: number) => new Date(ms).toISOString();
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  for (let i = 0; i < 600; i++) {
    const id = `00000000-0000-4000-8000-${String((i * 7919) % 1000003).padStart(12, '0')}`;
    const kind = pick(KINDS);
    const at = t0 + Math.floor(i / 3) * 1000; // three runs per millisecond: ties break by id
    await s.createRun({
      id,
      kind,
      name: pick(NAMES) + (r() < 0.5 ? ` ${i}` : ''),
      config: {
        qubits: Math.floor(r() * 6) + 2,
        model: { layers: r() < 0.2 ? pick(STRINGS) : Math.floor(r() * 4), on: r() < 0.5 },
        list: [1, i % 3],
      },
      seed: i,
      createdAt: iso(at),
      codeVersion: 't',
      tags: TAGS.filter(() => r() < 0.2),
    });
    const fate = i % 40 === 0 ? 'sweep' : pick(['succeeded', 'failed', 'queued', 'cancelled', 'running']);
    if (fate === 'queued') continue;
    await s.claimRun(id, iso(at + 500), {});
    if (fate === 'sweep')
      for (let k = 0; k < 2; k++)
        await s.createChildRun({
          id: `00000000-0000-4000-9000-${String(i * 10 + k).padStart(12, '0')}`,
          parentId: id,
          kind,
          name: `point ${k}`,
          config: {},
          seed: k,
          at: iso(at + 600 + k),
          codeVersion: 't',
          host: {},
        });
    await s.setProgress(id, Math.round(r() * 20) / 20, null, iso(at + 700));
    const summary: Record<string, number | string> = {};
    if (r() < 0.3) summary.first = pick(STRINGS);
    if (r() < 0.7)
      summary[kind === 'qhead' ? 'quantum_test_acc' : 'test_ppl_mean'] = Math.round(r() * 50) / 50;
    if (r() < 0.5) summary.loss = r() < 0.2 ? pick(STRINGS) : Math.round(r() * 100) / 10;
    if (r() < 0.2) summary.teacher_test_acc = Math.round(r() * 10) / 10;
    await s.setResult(id, { summary, report: [], backend: {} });
    if (fate === 'running') continue;
    const status = (fate === 'sweep' ? 'succeeded' : fate) as RunStatus;
    // Durations in whole seconds, so equal durations (ties) are common.
    const end = at + 500 + Math.floor(r() * 20) * 1000;
    await s.endRun(id, {
      status,
      at: iso(end),
      error: status === 'failed' ? pick(['Out of memory in layer', 'ÜBER failure']) : null,
      children: { status: 'failed', error: 'x' },
    });
  }
}

beforeAll(async () => {
  sqlite = SqliteRunStore.open(join(tmp, 'lab.sqlite'));
  await build(sqlite);
  if (pgServer) {
    pgUrl = await pgServer.createDatabase();
    pgStore = await PgRunStore.open(pgUrl);
    await build(pgStore);
  }
}, 240_000);

afterAll(async () => {
  await sqlite?.close();
  await pgStore?.close();
  pgServer?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const both = async (q: RunQuery): Promise<[RunPage, RunPage]> => {
  const parsed = RunQuerySchema.parse(q);
  return [await sqlite.queryRuns(parsed, NOW), await pgStore!.queryRuns(parsed, NOW)];
};

const COLUMNS = [
  'created',
  'status',
  'kind',
  'name',
  'progress',
  'duration',
  'headline',
  'tags',
  'summary:loss',
  'summary:first',
  'summary:none',
  'config:qubits',
  'config:model.layers',
  'config:model.on',
  'config:list',
];

describe.skipIf(pgServer === undefined)('queryRuns: PostgreSQL pages equal SQLite pages', () => {
  it('the stores hold the same runs', async () => {
    const [a, b] = await both({ limit: 0, withFacets: true });
    expect(a.all).toBe(600);
    expect(b).toEqual(a);
    // the facets are bytewise, not en-US (which would put 'alpha' before 'Zeta-kind')
    expect(a.kinds).toEqual([...KINDS].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
  });

  for (const sort of COLUMNS)
    it(`sorts by ${sort} both ways, window by window`, async () => {
      for (const dir of ['asc', 'desc'] as const)
        for (const offset of [0, 137, 550]) {
          const [a, b] = await both({ sort, dir, offset, limit: 100 });
          expect(a.runs.length, `${sort} ${dir} @${offset}`).toBe(offset === 550 ? 50 : 100);
          expect(b, `${sort} ${dir} @${offset}`).toEqual(a);
        }
      // every id in order (select all) too
      const [a, b] = await both({ sort, dir: 'asc', withIds: true, limit: 1 });
      expect(a.ids!.length).toBe(600);
      expect(b.ids).toEqual(a.ids);
    });

  it('filters and searches (every word, any case, JS case mapping) alike', async () => {
    const queries: RunQuery[] = [
      { kind: 'qhead' },
      { kind: 'b-c', sort: 'name' },
      { status: 'failed', sort: 'duration', dir: 'asc' },
      { status: 'running', sort: 'duration' },
      { tag: 'é' },
      { tag: '\u{1F600}', sort: 'tags' },
      { search: 'needle' },
      { search: 'NEEDLE qhead' },
      { search: 'memory' },
      { search: 'über' },
      { search: 'ünicode', sort: 'headline' },
      { search: 'İstanbul' },
      { search: 'i̇stanbul' },
      { search: 'zeta' },
      { search: 'quantum_test', sort: 'summary:loss', dir: 'asc' },
      { search: 'teacher', sort: 'config:model.layers' },
      { search: '0000-4000 succeeded', sort: 'progress' },
      { search: 'nothing-matches-this' },
      { kind: 'alpha', tag: 'a', search: 'run', sort: 'name', dir: 'asc' },
    ];
    for (const q of queries) {
      const [a, b] = await both({ ...q, limit: 1000, withIds: true, withSummaryKeys: true });
      expect(b, JSON.stringify(q)).toEqual(a);
    }
    expect((await both({ search: 'needle' }))[0].total).toBeGreaterThan(0);
    expect((await both({ search: 'über' }))[0].total).toBeGreaterThan(0);
  });

  it('counts groups alike and pages within each group (with and without a search)', async () => {
    for (const search of [undefined, 'a', 'FAILED'])
      for (const by of ['kind', 'tag', 'sweep'] as const) {
        const [a, b] = await both({ withGroups: by, search, limit: 0 });
        expect(b.groups, `${by} ${search}`).toEqual(a.groups);
        if (search === undefined) expect(a.groups!.length).toBeGreaterThan(1);
        for (const g of a.groups!) {
          const q: RunQuery = {
            group: { by, value: g.value },
            search,
            sort: 'headline',
            dir: 'desc',
            offset: 3,
            limit: 40,
            withGroups: by,
            withIds: true,
            withSummaryKeys: true,
          };
          const [x, y] = await both(q);
          expect(x.total).toBe(g.count);
          expect(y, JSON.stringify(q)).toEqual(x);
        }
      }
  });

  it('lists the summary keys in first-seen order alike', async () => {
    for (const q of [{}, { kind: 'qhead' }, { tag: 'a', search: 'run' }, { status: 'queued' as const }]) {
      const [a, b] = await both({ ...q, withSummaryKeys: true, limit: 0 });
      expect(b.summaryKeys, JSON.stringify(q)).toEqual(a.summaryKeys);
    }
    expect((await both({ withSummaryKeys: true, limit: 0 }))[0].summaryKeys!.length).toBe(5);
  });

  it('sees a change at once (a kept order is dropped when the database changes)', async () => {
    const q: RunQuery = { sort: 'headline', dir: 'desc', limit: 5 };
    const before = await both(q);
    expect(before[1]).toEqual(before[0]);
    const top = before[0].runs[0].id;
    for (const s of [sqlite, pgStore!]) await s.setResult(top, { summary: {}, report: [], backend: {} });
    const [a, b] = await both(q);
    expect(b).toEqual(a);
    expect(a.runs[0].id).not.toBe(top);
  });
  it('sorts runs that ended without a finish time (or were noticed late) by their last sign of life alike', async () => {
    // status, finish, heartbeat, last metric (s after the start) → the duration in s, as the renderer has it
    const t0 = Date.parse('2026-10-02T00:00:00.000Z');
    const iso = (x: number | null) => (x === null ? null : new Date(t0 + x * 1000).toISOString());
    const cases: [RunStatus, number | null, number | null, number | null, number][] = [
      ['failed', null, null, null, 0],
      ['succeeded', 100, 100, null, 100],
      ['interrupted', null, 200, 150, 200],
      ['cancelled', null, null, 300, 300],
      ['interrupted', 10 * 86400, 400, null, 400],
      ['failed', 500, 600, null, 500],
      ['interrupted', 86400, null, 700, 700],
    ];
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    const db = (sqlite as SqliteRunStore).store.db;
    try {
      for (const [i, [status, fin, hb, lm]] of cases.entries()) {
        const id = `00000000-0000-4000-a000-${String(i).padStart(12, '0')}`;
        const run = { id, kind: 'ended', name: `case ${i}`, config: {}, seed: i, codeVersion: 't', tags: [] };
        for (const s of [sqlite, pgStore!]) await s.createRun({ ...run, createdAt: iso(-i)! });
        const args = [status, iso(0), iso(fin), iso(hb), id];
        db.prepare(
          'UPDATE runs SET status = ?, started_at = ?, finished_at = ?, heartbeat_at = ? WHERE id = ?',
        ).run(...args);
        await client.query(
          'UPDATE runs SET status = $1, started_at = $2, finished_at = $3, heartbeat_at = $4 WHERE id = $5',
          args,
        );
        if (lm !== null) {
          const m = [id, 'loss', 1, t0 + lm * 1000 + 0.4, 0.5];
          db.prepare('INSERT INTO metrics (run_id, key, step, wall_time, value) VALUES (?, ?, ?, ?, ?)').run(
            ...m,
          );
          await client.query(
            'INSERT INTO metrics (run_id, key, step, wall_time, value) VALUES ($1, $2, $3, $4, $5)',
            m,
          );
        }
      }
    } finally {
      await client.end();
    }
    for (const dir of ['asc', 'desc'] as const) {
      const [a, b] = await both({ kind: 'ended', sort: 'duration', dir });
      expect(b).toEqual(a);
      const want = cases
        .map((c, i) => ({ name: `case ${i}`, s: c[4] }))
        .sort((x, y) => (dir === 'asc' ? x.s - y.s : y.s - x.s))
        .map((x) => x.name);
      expect(a.runs.map((r) => r.name)).toEqual(want);
      // each run carries its last sign of life, and the renderer's duration agrees with the order
      for (const r of a.runs) {
        const [, , hb, lm, secs] = cases[Number(r.name.slice(5))];
        expect(r.lastSeenAt, r.name).toBe(hb !== null ? iso(hb) : lm !== null ? iso(lm) : null);
        expect(durationSeconds(r, Date.parse(NOW)), r.name).toBe(secs);
      }
    }
  });
});
