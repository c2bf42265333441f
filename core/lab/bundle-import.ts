// Importing an uploaded bundle (LabApi.importBundle, up to 64 MiB) on a worker thread, so the thread that serves
// the LabApi — Electron's main process, whose windows froze for the seconds a large import takes, or `qlab
// serve` — keeps answering while the bundle is decoded, inflated, hashed and written. The thread opens its own
// connection to the lab's store (SQLite in WAL mode and PostgreSQL both take several writers, as a second lab
// process on the same lab directory does) and the lab's artifact store, runs importBundle (bundle.ts) and
// returns what it imported; the lab then announces the new runs. This module is also the thread's entry (its
// own chunk in the Electron build, out/main/bundle-import.js, so import.meta.url names it there too).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { LabError } from '../api/lab-types';
import { startThread } from '../util/thread';
import type { ArtifactStore } from './artifact-store';
import { importBundle, type ImportResult } from './bundle';
import type { RunStore } from './run-store';

/** How the thread reopens the lab's store: the SQLite file (and its migrations), or the PostgreSQL URL. */
export type StoreSpec =
  | { engine: 'sqlite'; file: string; migrationsDir?: string }
  /** Without a password: the thread shares the process's environment (PGPASSWORD, pgpass). */
  | { engine: 'postgres'; url: string };

export interface BundleUpload {
  labDir: string;
  store: StoreSpec;
  /** The bundle, base64 (as the LabApi carries it). */
  data: string;
  /** What messages call the upload (its file name, or "the uploaded bundle"). */
  name: string;
}

/**
 * The upload written to a private temporary file and imported into `store`/`artifacts`; errors name the upload,
 * not the temporary file.
 */
export async function importUploadInto(
  store: RunStore,
  artifacts: ArtifactStore,
  labDir: string,
  data: string,
  name: string,
): Promise<ImportResult> {
  const dir = mkdtempSync(join(tmpdir(), 'qlab-upload-'));
  const file = join(dir, 'upload.qlab');
  try {
    writeFileSync(file, Buffer.from(data, 'base64'), { mode: 0o600 });
    try {
      return await importBundle(store, artifacts, labDir, file);
    } catch (err) {
      // bundle.ts names the file it read: name the upload instead of a temporary path
      if (err instanceof LabError)
        throw new LabError(err.code, err.message.split(file).join(name), err.field ?? 'bundle');
      throw err;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** importUploadInto on stores opened from the spec (the thread's own connections), closed afterwards. */
export async function importUpload(u: BundleUpload): Promise<ImportResult> {
  let store: RunStore;
  let artifacts: ArtifactStore;
  if (u.store.engine === 'sqlite') {
    const { SqliteRunStore } = await import('./store-sqlite');
    const { LocalArtifactStore } = await import('./artifact-store');
    store = SqliteRunStore.open(u.store.file, u.store.migrationsDir);
    artifacts = new LocalArtifactStore(u.labDir);
  } else {
    const { PgRunStore } = await import('./store-pg');
    const { PgArtifactStore } = await import('./artifact-store-pg');
    const pg = await PgRunStore.open(u.store.url);
    store = pg;
    artifacts = new PgArtifactStore(pg, u.labDir);
  }
  try {
    return await importUploadInto(store, artifacts, u.labDir, u.data, u.name);
  } finally {
    await store.close();
  }
}

type Reply =
  | { ok: true; result: ImportResult }
  | { ok: false; lab: boolean; code: LabError['code']; message: string; field?: string };

/** What the thread gets: the upload's base64 text as bytes in a buffer handed over, not copied. */
interface ThreadJob extends Omit<BundleUpload, 'data'> {
  data: Uint8Array;
}

/**
 * importUpload on a new worker thread; settles when the thread answers (a LabError comes back as one). The
 * base64 text crosses as its bytes in a transferred buffer: one copy here (Buffer.write, latin1), where cloning
 * the string into the message would copy it as well and decoding it here would stall this thread as long.
 */
export function importUploadInThread(u: BundleUpload): Promise<ImportResult> {
  return new Promise((resolve, reject) => {
    const bytes = new Uint8Array(u.data.length);
    Buffer.from(bytes.buffer).write(u.data, 'latin1');
    const job: ThreadJob = { ...u, data: bytes };
    const w = startThread(new URL(import.meta.url), { qlabBundleImport: job }, [bytes.buffer]);
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
    };
    w.once('message', (m: Reply) =>
      settle(() =>
        m.ok
          ? resolve(m.result)
          : reject(m.lab ? new LabError(m.code, m.message, m.field) : new Error(m.message)),
      ),
    );
    w.once('error', (e) => settle(() => reject(e)));
    w.once('exit', (code) =>
      settle(() => reject(new Error(`the bundle import thread ended (exit code ${code}) without an answer`))),
    );
  });
}

const job = isMainThread
  ? undefined
  : (workerData as { qlabBundleImport?: ThreadJob } | null)?.qlabBundleImport;
if (job !== undefined && parentPort !== null) {
  const port = parentPort;
  const text = Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength).toString('latin1');
  importUpload({ ...job, data: text }).then(
    (result) => port.postMessage({ ok: true, result } satisfies Reply),
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      port.postMessage({
        ok: false,
        lab: e instanceof LabError,
        code: e instanceof LabError ? e.code : 'internal',
        message: e.message,
        field: e instanceof LabError ? e.field : undefined,
      } satisfies Reply);
    },
  );
}
