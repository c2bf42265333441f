// Run bundles: finished runs (rows, metric points and summaries, tags, notes, artifact files) moved between labs
// as one file. Layout, version 1 (all integers big-endian):
//
//   "QLABBNDL" · u32 format version                                   header, 12 bytes
//   entry bytes, each deflate-raw compressed, back to back            entries
//   manifest JSON (UTF-8)                                              manifest
//   u32 manifest length · 32-byte sha256 of the manifest · "QLABEND1"  trailer, 44 bytes
//
// The manifest lists every entry (name, offset, stored bytes, size, sha256 of the uncompressed bytes); entries
// must tile the file exactly, so a cut-off file loses its trailer and is refused as truncated. Entry names:
// `runs/<id>.json` (one run: its row, tags, notes, metric summary and points, artifact rows) and
// `artifacts/<id>/<name>` (one artifact file). The trailer sits at the end so export streams to disk.
//
// Import checks everything before it writes: header, trailer, manifest checksum and schema, every size against
// the limits below (before anything is allocated), every entry's checksum; artifact files go to a staging
// folder under <labDir>/artifacts/ with temporary names and are handed to the lab's ArtifactStore (which
// renames them into place after the rows commit, or keeps the bytes in PostgreSQL), the rows go in in one
// transaction of the RunStore. A run whose id the lab already has is left as it is (UUIDs keep runs from
// different machines apart), so importing the same bundle twice changes nothing. Both sides go through the
// RunStore and ArtifactStore seams, so a bundle moves between SQLite and PostgreSQL labs either way.
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { z } from 'zod';
import { LabError, RunIdSchema } from '../api/lab-api';
import { ArtifactNameSchema } from './protocol';
import type { ArtifactStore, StagedArtifact } from './artifact-store';
import type { RunStore, StoredRun } from './run-store';

export const BUNDLE_FORMAT_VERSION = 1;
const MAGIC = Buffer.from('QLABBNDL', 'latin1');
const END_MAGIC = Buffer.from('QLABEND1', 'latin1');
const HEADER_BYTES = 12;
const TRAILER_BYTES = 44;

/** Bounds checked against the manifest before any entry is read or inflated. */
export const BUNDLE_LIMITS = {
  manifestBytes: 16 * 1024 * 1024,
  entries: 200_000,
  runs: 50_000,
  /** One run's JSON record (its metric points dominate). */
  runRecordBytes: 512 * 1024 * 1024,
  artifactBytes: 1024 * 1024 * 1024,
} as const;

const TERMINAL = ['succeeded', 'failed', 'cancelled', 'interrupted'] as const;

function refuse(message: string): never {
  throw new LabError('invalid', message, 'bundle');
}

const jsonText = z.string().refine((s) => {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}, 'must be JSON text');

/** A metric value: a JSON number, or a string for what JSON cannot hold (±Infinity, -0). */
const MetricValue = z.union([z.number(), z.enum(['Infinity', '-Infinity', '-0'])]);
type MetricValue = z.infer<typeof MetricValue>;
function encodeValue(v: number): MetricValue {
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Object.is(v, -0)) return '-0';
  return v;
}
function decodeValue(v: MetricValue): number {
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (v === '-0') return -0;
  return v;
}

const int = z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
const time = z.string().min(1).max(64);

const RunRecordSchema = z
  .object({
    run: z
      .object({
        id: RunIdSchema,
        kind: z.string().min(1).max(200),
        name: z.string().max(200),
        status: z.enum(TERMINAL),
        config: jsonText,
        seed: int,
        created_at: time,
        started_at: time.nullable(),
        finished_at: time.nullable(),
        heartbeat_at: time.nullable(),
        code_version: z.string().max(200),
        host: jsonText,
        backend: jsonText,
        error: z.string().nullable(),
        progress: z.number(),
        progress_message: z.string().nullable(),
        summary: jsonText,
        report: jsonText,
        parent_id: RunIdSchema.nullable(),
      })
      .strict(),
    tags: z.array(z.string().min(1).max(100)),
    notes: z.array(z.object({ text: z.string(), created_at: time }).strict()),
    metricSummary: z.array(
      z
        .object({
          key: z.string().min(1).max(200),
          count: int,
          last_step: int,
          last: MetricValue,
          min: MetricValue,
          max: MetricValue,
        })
        .strict(),
    ),
    /** key → [step, wallTime, value] in step order. */
    metrics: z.record(z.string().min(1).max(200), z.array(z.tuple([int, z.number(), MetricValue]))),
    artifacts: z.array(
      z
        .object({
          name: ArtifactNameSchema,
          kind: z.string().min(1).max(200),
          bytes: int.nonnegative(),
          sha256: z.string().regex(/^[0-9a-f]{64}$/),
          created_at: time,
        })
        .strict(),
    ),
  })
  .strict();
type RunRecord = z.infer<typeof RunRecordSchema>;

const EntrySchema = z
  .object({
    name: z.string().min(1).max(300),
    offset: int.nonnegative(),
    stored: int.nonnegative(),
    size: int.nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();
type Entry = z.infer<typeof EntrySchema>;

const ManifestSchema = z
  .object({
    format: z.literal('qlab-bundle'),
    version: z.literal(BUNDLE_FORMAT_VERSION),
    createdAt: time,
    runs: z.array(RunIdSchema).max(BUNDLE_LIMITS.runs),
    entries: z.array(EntrySchema).max(BUNDLE_LIMITS.entries),
  })
  .strict();
type Manifest = z.infer<typeof ManifestSchema>;

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

// ---- export ----

export interface ExportResult {
  /** Every run written, parents before their children. */
  runIds: string[];
  artifacts: number;
  bytes: number;
}

/**
 * Writes the runs (and every child of each; a child named alone brings its parent and siblings) to `outFile`,
 * through a temporary file renamed at the end. Only finished runs travel: a queued or running run is refused.
 */
export async function exportBundle(
  store: RunStore,
  artifacts: ArtifactStore,
  ids: readonly string[],
  outFile: string,
): Promise<ExportResult> {
  const order: string[] = [];
  const seen = new Set<string>();
  for (const id of ids) {
    const parent = await store.parentOf(id);
    if (parent === undefined) throw new LabError('not-found', `no run ${id}`, 'id');
    const top = parent ?? id;
    if (seen.has(top)) continue;
    seen.add(top);
    order.push(top);
    for (const c of await store.listRuns({ parentId: top, limit: 1_000_000 })) {
      seen.add(c.id);
      order.push(c.id);
    }
  }
  const out = resolve(outFile);
  const tmp = join(dirname(out), `.${basename(out)}.tmp-${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, 'wx');
  let ok = false;
  try {
    let pos = 0;
    const put = (b: Buffer) => {
      let off = 0;
      while (off < b.length) off += writeSync(fd, b, off, b.length - off, pos + off);
      pos += b.length;
    };
    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header, 0);
    header.writeUInt32BE(BUNDLE_FORMAT_VERSION, 8);
    put(header);
    const entries: Entry[] = [];
    const addEntry = (name: string, raw: Buffer) => {
      const stored = deflateRawSync(raw);
      entries.push({ name, offset: pos, stored: stored.length, size: raw.length, sha256: sha256(raw) });
      put(stored);
    };
    let artifactCount = 0;
    for (const id of order) {
      const stored = await store.readStoredRun(id);
      if (!stored) throw new LabError('not-found', `no run ${id}`, 'id');
      if (!(TERMINAL as readonly string[]).includes(stored.run.status)) {
        throw new LabError(
          'invalid',
          `run ${id} is ${stored.run.status}; only finished runs can be bundled`,
          'id',
        );
      }
      addEntry(`runs/${id}.json`, Buffer.from(JSON.stringify(toRecord(stored)), 'utf8'));
      for (const a of stored.artifacts) {
        // the artifact store checks the bytes against the row (and a local file's place) as it reads them
        const file = await artifacts.open(a.path, {
          runId: id,
          name: a.name,
          bytes: a.bytes,
          sha256: a.sha256,
        });
        const bytes = readFileSync(file);
        if (bytes.length !== a.bytes || sha256(bytes) !== a.sha256) {
          throw new LabError('invalid', `run ${id}: artifact ${a.name} no longer matches its recorded hash`);
        }
        addEntry(`artifacts/${id}/${a.name}`, bytes);
        artifactCount++;
      }
    }
    const manifest: Manifest = {
      format: 'qlab-bundle',
      version: BUNDLE_FORMAT_VERSION,
      createdAt: new Date().toISOString(),
      runs: order,
      entries,
    };
    const m = Buffer.from(JSON.stringify(manifest), 'utf8');
    if (m.length > BUNDLE_LIMITS.manifestBytes)
      refuse(`too many entries for one bundle (manifest ${m.length} bytes)`);
    put(m);
    const trailer = Buffer.alloc(TRAILER_BYTES);
    trailer.writeUInt32BE(m.length, 0);
    Buffer.from(sha256(m), 'hex').copy(trailer, 4);
    END_MAGIC.copy(trailer, 36);
    put(trailer);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, out);
    ok = true;
    return { runIds: order, artifacts: artifactCount, bytes: pos };
  } finally {
    if (!ok) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
      rmSync(tmp, { force: true });
    }
  }
}

/** A stored run as the bundle's record (metric values JSON cannot hold written as strings). */
function toRecord(r: StoredRun): RunRecord {
  const metrics: RunRecord['metrics'] = {};
  for (const [key, pts] of Object.entries(r.metrics))
    metrics[key] = pts.map(([step, wall, value]) => [step, wall, encodeValue(value)]);
  return {
    run: { ...r.run, status: r.run.status as RunRecord['run']['status'] },
    tags: r.tags,
    notes: r.notes,
    metricSummary: r.metricSummary.map((m) => ({
      ...m,
      last: encodeValue(m.last),
      min: encodeValue(m.min),
      max: encodeValue(m.max),
    })),
    metrics,
    artifacts: r.artifacts.map(({ name, kind, bytes, sha256, created_at }) => ({
      name,
      kind,
      bytes,
      sha256,
      created_at,
    })),
  };
}

// ---- import ----

export interface ImportResult {
  /** Runs added to the lab. */
  imported: string[];
  /** Runs the lab already had (left untouched). */
  skipped: string[];
  artifacts: number;
}

function readAt(fd: number, length: number, position: number): Buffer {
  const b = Buffer.alloc(length);
  let off = 0;
  while (off < length) {
    const n = readSync(fd, b, off, length - off, position + off);
    if (n === 0) refuse('the bundle is truncated (it ended while an entry was being read)');
    off += n;
  }
  return b;
}

/** Reads and checks the header, trailer and manifest; nothing of an entry is read yet. */
function readManifest(fd: number, size: number, file: string): Manifest {
  if (size < HEADER_BYTES) refuse(`${file} is truncated or not a qlab bundle (${size} bytes)`);
  const header = readAt(fd, HEADER_BYTES, 0);
  if (!header.subarray(0, 8).equals(MAGIC)) refuse(`${file} is not a qlab bundle (no QLABBNDL header)`);
  const version = header.readUInt32BE(8);
  if (version !== BUNDLE_FORMAT_VERSION) {
    refuse(`${file} has bundle format version ${version}; this lab reads version ${BUNDLE_FORMAT_VERSION}`);
  }
  if (size < HEADER_BYTES + TRAILER_BYTES) refuse(`${file} is truncated (${size} bytes, no end marker)`);
  const trailer = readAt(fd, TRAILER_BYTES, size - TRAILER_BYTES);
  if (!trailer.subarray(36).equals(END_MAGIC)) refuse(`${file} is truncated (its end marker is missing)`);
  const mLen = trailer.readUInt32BE(0);
  if (mLen > BUNDLE_LIMITS.manifestBytes) {
    refuse(`${file}: manifest of ${mLen} bytes is over the ${BUNDLE_LIMITS.manifestBytes}-byte limit`);
  }
  if (mLen > size - HEADER_BYTES - TRAILER_BYTES) refuse(`${file} is truncated (the manifest does not fit)`);
  const mStart = size - TRAILER_BYTES - mLen;
  const mBytes = readAt(fd, mLen, mStart);
  if (sha256(mBytes) !== trailer.subarray(4, 36).toString('hex'))
    refuse(`${file}: bad checksum for the manifest`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(mBytes));
  } catch {
    refuse(`${file}: the manifest is not valid UTF-8 JSON`);
  }
  const version2 = (parsed as { version?: unknown } | null)?.version;
  if (version2 !== BUNDLE_FORMAT_VERSION) {
    refuse(`${file}: manifest format version ${String(version2)}; this lab reads ${BUNDLE_FORMAT_VERSION}`);
  }
  const r = ManifestSchema.safeParse(parsed);
  if (!r.success) {
    const i = r.error.issues[0];
    refuse(`${file}: bad manifest at ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const m = r.data;
  // Entries tile the bytes between header and manifest exactly: no gaps, overlaps or trailing bytes.
  let pos = HEADER_BYTES;
  const names = new Set<string>();
  for (const e of m.entries) {
    if (e.offset !== pos) refuse(`${file}: entry ${e.name} is not where the manifest says (damaged bundle)`);
    pos += e.stored;
    if (pos > mStart) refuse(`${file} is truncated (entry ${e.name} runs past the manifest)`);
    if (names.has(e.name)) refuse(`${file}: entry ${e.name} appears twice`);
    names.add(e.name);
  }
  if (pos !== mStart) refuse(`${file}: ${mStart - pos} bytes before the manifest belong to no entry`);
  return m;
}

/** An entry's name → what it holds; anything else (a path that would leave its folder) is refused. */
function classify(file: string, name: string): { run: string } | { run: string; artifact: string } {
  const runM = /^runs\/([^/]+)\.json$/.exec(name);
  if (runM && RunIdSchema.safeParse(runM[1]).success) return { run: runM[1] };
  const artM = /^artifacts\/([^/]+)\/([^/]+)$/.exec(name);
  if (artM && RunIdSchema.safeParse(artM[1]).success && ArtifactNameSchema.safeParse(artM[2]).success) {
    return { run: artM[1], artifact: artM[2] };
  }
  return refuse(
    `${file}: entry name '${name.slice(0, 120)}' is not allowed (it must stay inside the lab directory)`,
  );
}

function readEntry(fd: number, file: string, e: Entry, limit: number): Buffer {
  if (e.size > limit) refuse(`${file}: entry ${e.name} is ${e.size} bytes, over the ${limit}-byte limit`);
  // deflate never grows data by more than a small factor; a larger stored size is not ours.
  if (e.stored > e.size + Math.ceil(e.size / 1000) + 64)
    refuse(`${file}: entry ${e.name} has a bad stored size`);
  const stored = readAt(fd, e.stored, e.offset);
  let raw: Buffer;
  try {
    raw = inflateRawSync(stored, { maxOutputLength: Math.max(1, e.size) });
  } catch {
    return refuse(`${file}: bad checksum for entry ${e.name} (its data does not decompress)`);
  }
  if (raw.length !== e.size || sha256(raw) !== e.sha256) refuse(`${file}: bad checksum for entry ${e.name}`);
  return raw;
}

/**
 * Imports a bundle into the lab: everything is checked first, artifact files are staged under temporary names,
 * the rows go in in one transaction, and the files are renamed into place after it commits.
 */
export async function importBundle(
  store: RunStore,
  artifacts: ArtifactStore,
  labDir: string,
  file: string,
): Promise<ImportResult> {
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st) throw new LabError('not-found', `no bundle file ${file}`, 'bundle');
  if (!st.isFile()) refuse(`${file} is not a regular file`);
  const fd = openSync(file, 'r');
  let staging: string | null = null;
  const placed: StagedArtifact[] = [];
  /** The artifacts folder, when this import made it (removed again if the import is refused). */
  let madeRoot: string | null = null;
  let done = false;
  try {
    const size = fstatSync(fd).size;
    const manifest = readManifest(fd, size, file);
    const bundleRuns = new Set(manifest.runs);
    if (bundleRuns.size !== manifest.runs.length) refuse(`${file}: a run is listed twice in the manifest`);

    const records = new Map<string, RunRecord>();
    const artifactEntries: { run: string; name: string; entry: Entry }[] = [];
    for (const e of manifest.entries) {
      const what = classify(file, e.name);
      if (!bundleRuns.has(what.run)) refuse(`${file}: entry ${e.name} belongs to no run of the manifest`);
      if ('artifact' in what) {
        if (e.size > BUNDLE_LIMITS.artifactBytes) {
          refuse(
            `${file}: entry ${e.name} is ${e.size} bytes, over the ${BUNDLE_LIMITS.artifactBytes}-byte limit`,
          );
        }
        artifactEntries.push({ run: what.run, name: what.artifact, entry: e });
        continue;
      }
      const raw = readEntry(fd, file, e, BUNDLE_LIMITS.runRecordBytes);
      let json: unknown;
      try {
        json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
      } catch {
        refuse(`${file}: entry ${e.name} is not valid UTF-8 JSON`);
      }
      const r = RunRecordSchema.safeParse(json);
      if (!r.success) {
        const i = r.error.issues[0];
        refuse(`${file}: entry ${e.name}: ${i.path.join('.') || '(root)'}: ${i.message}`);
      }
      if (r.data.run.id !== what.run) refuse(`${file}: entry ${e.name} holds run ${r.data.run.id}`);
      records.set(what.run, r.data);
    }
    for (const id of manifest.runs)
      if (!records.has(id)) refuse(`${file}: run ${id} has no runs/${id}.json entry`);
    for (const a of artifactEntries) {
      const rec = records.get(a.run) as RunRecord;
      const row = rec.artifacts.find((x) => x.name === a.name);
      if (!row || row.bytes !== a.entry.size || row.sha256 !== a.entry.sha256) {
        refuse(`${file}: entry ${a.entry.name} does not match run ${a.run}'s artifact rows`);
      }
    }
    for (const rec of records.values()) {
      for (const x of rec.artifacts) {
        if (!artifactEntries.some((a) => a.run === rec.run.id && a.name === x.name)) {
          refuse(`${file}: run ${rec.run.id}'s artifact ${x.name} has no file in the bundle`);
        }
      }
      const p = rec.run.parent_id;
      if (p !== null) {
        const parent = records.get(p);
        if (parent ? parent.run.parent_id !== null : !(await store.hasRun(p))) {
          refuse(`${file}: child run ${rec.run.id}'s parent ${p} is neither in the bundle nor in this lab`);
        }
      }
    }

    const have = new Set<string>();
    for (const id of manifest.runs) if (await store.hasRun(id)) have.add(id);
    const skipped = manifest.runs.filter((id) => have.has(id));
    // Parents before their children; otherwise the manifest's order (export writes it that way already).
    const fresh: string[] = [];
    const ordered = new Set<string>();
    const place = (id: string) => {
      if (ordered.has(id) || have.has(id)) return;
      const p = (records.get(id) as RunRecord).run.parent_id;
      if (p !== null && records.has(p)) place(p);
      ordered.add(id);
      fresh.push(id);
    };
    for (const id of manifest.runs) place(id);
    const freshSet = new Set(fresh);

    // Stage every artifact file of a new run (checked, under a temporary name) before touching the rows; the
    // artifact store says where each will be (a local store renames it there after the rows commit).
    const artifactsRoot = resolve(labDir, 'artifacts');
    const where = new Map<string, string>();
    const toStage = artifactEntries.filter((a) => freshSet.has(a.run));
    if (toStage.length > 0) {
      if (!existsSync(artifactsRoot)) {
        mkdirSync(artifactsRoot, { recursive: true });
        madeRoot = artifactsRoot;
      }
      staging = join(artifactsRoot, `.tmp-import-${randomBytes(6).toString('hex')}`);
      mkdirSync(staging);
      for (const [i, a] of toStage.entries()) {
        const raw = readEntry(fd, file, a.entry, BUNDLE_LIMITS.artifactBytes);
        const tmp = join(staging, `${i}`);
        writeFileSync(tmp, raw, { flag: 'wx' });
        let st: StagedArtifact;
        try {
          st = await artifacts.stage(a.run, a.name, tmp, a.entry.size, a.entry.sha256);
        } catch (err) {
          if (err instanceof LabError) refuse(`${file}: ${err.message}`);
          throw err;
        }
        placed.push(st);
        where.set(`${a.run}/${a.name}`, st.path);
      }
    }

    const rows: StoredRun[] = fresh.map((id) => {
      const rec = records.get(id) as RunRecord;
      const metrics: StoredRun['metrics'] = {};
      for (const [key, pts] of Object.entries(rec.metrics))
        metrics[key] = pts.map(([step, wall, value]) => [step, wall, decodeValue(value)]);
      return {
        run: rec.run,
        tags: rec.tags,
        notes: rec.notes,
        metricSummary: rec.metricSummary.map((m) => ({
          ...m,
          last: decodeValue(m.last),
          min: decodeValue(m.min),
          max: decodeValue(m.max),
        })),
        metrics,
        artifacts: rec.artifacts.map((a) => ({ ...a, path: where.get(`${id}/${a.name}`) as string })),
      };
    });
    const artifactCount = rows.reduce((n, r) => n + r.artifacts.length, 0);
    try {
      await store.insertStoredRuns(rows);
    } catch (err) {
      if (err instanceof LabError) throw err;
      refuse(
        `${file}: the lab refused its rows (${(err as Error).message.split('\n')[0]}); nothing was imported`,
      );
    }
    done = true;
    // Committed: put the staged files in place (a rename within one folder tree; it fails only if the disk
    // does, and then the rows name files that are missing, as after any lost artifact).
    for (const st of placed) await st.commit();
    return { imported: fresh, skipped, artifacts: artifactCount };
  } finally {
    closeSync(fd);
    if (!done) for (const st of placed) await st.abort();
    if (staging !== null) rmSync(staging, { recursive: true, force: true });
    if (!done && madeRoot !== null) rmSync(madeRoot, { recursive: true, force: true });
  }
}
