// The ArtifactStore seam: where the files a job writes end up and how the lab finds them again. A job writes a
// temporary file beside the final place and announces its size and SHA-256; accept() checks both against the
// file, moves it into place and says where it is, so a row always points at a complete, verified file. The
// local store keeps files under <labDir>/artifacts/<runId>/ (the desktop app, one machine, and a hub and workers
// that share the lab directory); a store that uploads to the hub implements the same contract.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';

export interface IncomingArtifact {
  name: string;
  /** Where the job wrote the file (a `.tmp-` name inside the run's artifact folder). */
  tmpPath: string;
  bytes: number;
  sha256: string;
}

export interface ArtifactStore {
  /** Verifies the announced file (place, size, hash) and moves it into place; throws, naming the problem, if not. */
  accept(runId: string, a: IncomingArtifact): Promise<{ path: string; bytes: number; sha256: string }>;
  /** A local file path for a stored path (relative to the lab directory), to serve or open. */
  localPath(storedPath: string): string;
  /** Whether the stored file is still there. */
  exists(storedPath: string): Promise<boolean>;
}

export class LocalArtifactStore implements ArtifactStore {
  constructor(private readonly labDir: string) {}

  async accept(
    runId: string,
    msg: IncomingArtifact,
  ): Promise<{ path: string; bytes: number; sha256: string }> {
    const dir = resolve(this.labDir, 'artifacts', runId);
    const tmp = resolve(msg.tmpPath);
    if (dirname(tmp) !== dir || !basename(tmp).startsWith('.tmp-')) {
      throw new Error(`artifact ${msg.name}: temp file ${msg.tmpPath} is not in the run's artifact folder`);
    }
    if (!existsSync(tmp)) throw new Error(`artifact ${msg.name}: temp file ${msg.tmpPath} does not exist`);
    const bytes = statSync(tmp).size;
    if (bytes !== msg.bytes)
      throw new Error(`artifact ${msg.name}: ${bytes} bytes on disk, ${msg.bytes} announced`);
    const sha256 = createHash('sha256').update(readFileSync(tmp)).digest('hex');
    if (sha256 !== msg.sha256) throw new Error(`artifact ${msg.name}: sha256 does not match the file`);
    const final = join(dir, msg.name);
    renameSync(tmp, final);
    return { path: relative(this.labDir, final).split(sep).join('/'), bytes, sha256 };
  }

  localPath(storedPath: string): string {
    return join(this.labDir, storedPath);
  }

  async exists(storedPath: string): Promise<boolean> {
    return existsSync(this.localPath(storedPath));
  }
}
