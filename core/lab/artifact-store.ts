// The ArtifactStore seam: where the files a job writes end up and how the lab finds them again. A job writes a
// temporary file beside the final place and announces its size and SHA-256; accept() checks both against the
// file, puts it in place and says where it is, so a row always points at a complete, verified file. Reading
// checks the bytes against the row again, so a damaged artifact is reported, never served. The local store
// keeps files under <labDir>/artifacts/<runId>/ (the desktop app, one machine); on a PostgreSQL store the bytes
// live in the database (artifact-store-pg.ts), so a hub reads what any worker wrote without a shared folder.
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { LabError } from '../api/lab-api';

export interface IncomingArtifact {
  name: string;
  /** Where the job wrote the file (a `.tmp-` name inside the run's artifact folder). */
  tmpPath: string;
  bytes: number;
  sha256: string;
}

/** What the artifact's row says of it: the bytes must still match. */
export interface ArtifactExpect {
  runId: string;
  name: string;
  bytes: number;
  sha256: string;
}

/** A file put in place for an import, before its rows commit: `commit` after they did, `abort` if not. */
export interface StagedArtifact {
  path: string;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface ArtifactStore {
  /** Verifies the announced file (place, size, hash) and stores it; throws, naming the problem, if not. */
  accept(runId: string, a: IncomingArtifact): Promise<{ path: string; bytes: number; sha256: string }>;
  /**
   * A local file holding the stored artifact's bytes, checked against its row (size and SHA-256) as it is
   * read: a LabError (`conflict`) naming the artifact when they no longer match.
   */
  open(storedPath: string, expect: ArtifactExpect): Promise<string>;
  /** Whether the stored bytes are still there. */
  exists(storedPath: string): Promise<boolean>;
  /**
   * An imported file (verified by the importer, `file` consumed) made ready to be stored as `runId`/`name`:
   * the path its row records, and the step that completes it once the rows committed.
   */
  stage(runId: string, name: string, file: string, bytes: number, sha256: string): Promise<StagedArtifact>;
}

/** Artifacts a store keeps in the database are at most this large (bytes); bigger ones are refused. */
export const MAX_ARTIFACT_BYTES = 1024 * 1024 * 1024;
const READ_CHUNK = 1024 * 1024;

/** Size and SHA-256 of a file, read in 1 MiB slices (bounded memory). */
export function hashFile(file: string, onChunk?: (b: Buffer) => void): { bytes: number; sha256: string } {
  const fd = openSync(file, 'r');
  try {
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    let bytes = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, READ_CHUNK, null);
      if (n === 0) break;
      const slice = buf.subarray(0, n);
      h.update(slice);
      onChunk?.(slice);
      bytes += n;
    }
    return { bytes, sha256: h.digest('hex') };
  } finally {
    closeSync(fd);
  }
}

/** The message of an artifact whose bytes no longer match its row. */
export function damaged(e: ArtifactExpect, got: { bytes: number; sha256: string }): LabError {
  return new LabError(
    'conflict',
    `artifact ${e.name} of run ${e.runId} is damaged: ${got.bytes} bytes with sha256 ${got.sha256}, its record says ${e.bytes} bytes with sha256 ${e.sha256}; it is not served`,
  );
}

/** Checks an incoming temp file (inside the run's artifact folder, announced size and hash). */
export function checkIncoming(
  labDir: string,
  runId: string,
  msg: IncomingArtifact,
): { bytes: number; sha256: string } {
  const dir = resolve(labDir, 'artifacts', runId);
  const tmp = resolve(msg.tmpPath);
  if (dirname(tmp) !== dir || !basename(tmp).startsWith('.tmp-')) {
    throw new Error(`artifact ${msg.name}: temp file ${msg.tmpPath} is not in the run's artifact folder`);
  }
  if (!existsSync(tmp)) throw new Error(`artifact ${msg.name}: temp file ${msg.tmpPath} does not exist`);
  const bytes = statSync(tmp).size;
  if (bytes !== msg.bytes)
    throw new Error(`artifact ${msg.name}: ${bytes} bytes on disk, ${msg.bytes} announced`);
  const got = hashFile(tmp);
  if (got.sha256 !== msg.sha256) throw new Error(`artifact ${msg.name}: sha256 does not match the file`);
  return got;
}

export class LocalArtifactStore implements ArtifactStore {
  constructor(private readonly labDir: string) {}

  async accept(
    runId: string,
    msg: IncomingArtifact,
  ): Promise<{ path: string; bytes: number; sha256: string }> {
    const { bytes, sha256 } = checkIncoming(this.labDir, runId, msg);
    const final = join(this.labDir, 'artifacts', runId, msg.name);
    renameSync(resolve(msg.tmpPath), final);
    return { path: relative(this.labDir, final).split(sep).join('/'), bytes, sha256 };
  }

  localPath(storedPath: string): string {
    return join(this.labDir, storedPath);
  }

  async open(storedPath: string, expect: ArtifactExpect): Promise<string> {
    const file = this.localPath(storedPath);
    if (!existsSync(file))
      throw new LabError('not-found', `artifact ${expect.name} of run ${expect.runId}: its file is missing`);
    // a file (or a folder on its path) replaced by a symlink out of the lab is not followed
    const real = realpathSync(file);
    if (!real.startsWith(realpathSync(this.labDir) + sep))
      throw new LabError(
        'invalid',
        `artifact ${expect.name} of run ${expect.runId} lies outside the lab directory`,
      );
    const got = hashFile(real);
    if (got.bytes !== expect.bytes || got.sha256 !== expect.sha256) throw damaged(expect, got);
    return real;
  }

  async exists(storedPath: string): Promise<boolean> {
    return existsSync(this.localPath(storedPath));
  }

  async stage(runId: string, name: string, file: string): Promise<StagedArtifact> {
    const path = `artifacts/${runId}/${name}`;
    const final = resolve(this.labDir, path);
    if (relative(resolve(this.labDir, 'artifacts'), final).split(sep).length !== 2)
      throw new LabError('invalid', `artifact path ${path} escapes the lab`, 'bundle');
    if (existsSync(final))
      throw new LabError('invalid', `artifact file ${path} already exists in the lab`, 'bundle');
    return {
      path,
      commit: async () => {
        mkdirSync(dirname(final), { recursive: true });
        renameSync(file, final);
      },
      abort: async () => rmSync(file, { force: true }),
    };
  }
}

/** A fresh temporary name beside `final` (same folder, so a rename puts it in place atomically). */
export function tmpBeside(final: string): string {
  return join(dirname(final), `.tmp-${basename(final)}-${randomBytes(6).toString('hex')}`);
}
