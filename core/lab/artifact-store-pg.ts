// Artifacts on a PostgreSQL store: the bytes go into the database (migrations/postgres/005_artifact_blobs.sql),
// so the hub and every worker read what any of them wrote, with no shared lab directory and no upload path
// through the hub (which workers must not depend on: they keep running while it is down). Content-addressed by
// SHA-256 in chunks of 1 MiB, each file at most MAX_ARTIFACT_BYTES: the worker checks the temp file against
// the announced size and hash, sends it chunk by chunk hashing what it sends, and commits only when that
// matches; a reader hashes the bytes again against the artifact's row into a local copy
// (<labDir>/artifact-cache/<sha256>) and refuses a damaged blob instead of serving it. Rows whose path is not
// `db:<sha256>` (copied from a desktop lab by `qlab store migrate`) are local files, read as before.
import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { LabError } from '../api/lab-api';
import {
  checkIncoming,
  damaged,
  hashFile,
  LocalArtifactStore,
  MAX_ARTIFACT_BYTES,
  tmpBeside,
  type ArtifactExpect,
  type ArtifactStore,
  type IncomingArtifact,
  type StagedArtifact,
} from './artifact-store';
import type { PgRunStore } from './store-pg';

const PREFIX = 'db:';
const CHUNK = 1024 * 1024;

/** The file's bytes in 1 MiB chunks, read as they are consumed. */
function* fileChunks(file: string): Generator<Buffer> {
  const fd = openSync(file, 'r');
  try {
    for (;;) {
      const b = Buffer.allocUnsafe(CHUNK);
      const n = readSync(fd, b, 0, CHUNK, null);
      if (n === 0) return;
      yield b.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

export class PgArtifactStore implements ArtifactStore {
  private readonly local: LocalArtifactStore;

  constructor(
    private readonly store: PgRunStore,
    private readonly labDir: string,
  ) {
    this.local = new LocalArtifactStore(labDir);
  }

  private async put(name: string, file: string, bytes: number, sha256: string): Promise<string> {
    if (bytes > MAX_ARTIFACT_BYTES)
      throw new Error(
        `artifact ${name}: ${bytes} bytes, over the ${MAX_ARTIFACT_BYTES}-byte limit of the store`,
      );
    await this.store.putBlob(sha256, bytes, () => fileChunks(file));
    return PREFIX + sha256;
  }

  async accept(
    runId: string,
    msg: IncomingArtifact,
  ): Promise<{ path: string; bytes: number; sha256: string }> {
    const { bytes, sha256 } = checkIncoming(this.labDir, runId, msg);
    const path = await this.put(msg.name, resolve(msg.tmpPath), bytes, sha256);
    rmSync(resolve(msg.tmpPath), { force: true });
    return { path, bytes, sha256 };
  }

  async open(storedPath: string, expect: ArtifactExpect): Promise<string> {
    if (!storedPath.startsWith(PREFIX)) return this.local.open(storedPath, expect);
    const sha = storedPath.slice(PREFIX.length);
    if (!/^[0-9a-f]{64}$/.test(sha))
      throw new LabError('conflict', `artifact ${expect.name}: bad stored path`);
    const dir = join(this.labDir, 'artifact-cache');
    const file = join(dir, sha);
    if (existsSync(file)) {
      const got = hashFile(file);
      if (got.bytes === expect.bytes && got.sha256 === expect.sha256) return file;
      rmSync(file, { force: true });
    }
    mkdirSync(dir, { recursive: true });
    const tmp = tmpBeside(file);
    const fd = openSync(tmp, 'wx');
    const h = createHash('sha256');
    let bytes = 0;
    let ok = false;
    try {
      for (let seq = 0; ; seq++) {
        const chunk = await this.store.blobChunk(sha, seq);
        if (chunk === undefined) {
          if (seq === 0)
            throw new LabError(
              'not-found',
              `artifact ${expect.name} of run ${expect.runId}: its bytes are missing from the store`,
            );
          break;
        }
        bytes += chunk.length;
        // a blob longer than its row says is damaged: stop reading it
        if (bytes > expect.bytes) break;
        h.update(chunk);
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
      }
      const got = { bytes, sha256: h.digest('hex') };
      if (got.bytes !== expect.bytes || got.sha256 !== expect.sha256) throw damaged(expect, got);
      ok = true;
    } finally {
      closeSync(fd);
      if (!ok) rmSync(tmp, { force: true });
    }
    renameSync(tmp, file);
    return file;
  }

  async exists(storedPath: string): Promise<boolean> {
    if (!storedPath.startsWith(PREFIX)) return this.local.exists(storedPath);
    return this.store.hasBlob(storedPath.slice(PREFIX.length));
  }

  async stage(
    runId: string,
    name: string,
    file: string,
    bytes: number,
    sha256: string,
  ): Promise<StagedArtifact> {
    const path = await this.put(name, file, bytes, sha256);
    rmSync(file, { force: true });
    // content-addressed: nothing to undo (an unreferenced blob harms nothing and is reused by the next import)
    return { path, commit: async () => undefined, abort: async () => undefined };
  }
}
