// Where a lab's runs live and how they reach workers, from a spec: `--store` / QLAB_STORE (`sqlite` (the
// default: <labDir>/lab.sqlite), `sqlite:<file>`, or `postgres://user@host:port/db`) and `--queue` /
// QLAB_QUEUE (`local` (the default: the store is the queue) or `redis://host:port/db`). A spec given on the
// command line must not hold a password (it would stay in shell history and be visible in `ps`): PostgreSQL
// takes it from PGPASSWORD or a pgpass file (PGPASSFILE, ~/.pgpass), Redis from QLAB_REDIS_PASSWORD. A spec
// from the environment may hold a PostgreSQL password.
import { isAbsolute, join, resolve } from 'node:path';
import type { JobQueue } from './job-queue';
import { BullJobQueue } from './queue-bullmq';
import type { RunStore } from './run-store';
import { PgRunStore } from './store-pg';
import { SqliteRunStore } from './store-sqlite';

export interface EndpointSpec {
  value: string;
  /** 'argv': typed on a command line (no passwords); 'env': from the environment. */
  from: 'argv' | 'env';
}

function refusePassword(spec: EndpointSpec, what: string, instead: string): void {
  if (spec.from !== 'argv') return;
  let u: URL;
  try {
    u = new URL(spec.value);
  } catch {
    return;
  }
  if (u.password) {
    throw new Error(
      `${what}: the URL on the command line holds a password (it would be kept in shell history and shown by ps); ${instead}`,
    );
  }
}

export function isPostgresSpec(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** Opens the store a spec names (creating and migrating it). */
export async function openStoreSpec(
  spec: EndpointSpec | undefined,
  labDir: string,
  opts: { migrationsDir?: string; cwd?: string; onWarning?: (m: string) => void } = {},
): Promise<RunStore> {
  const value = spec?.value.trim() ?? 'sqlite';
  if (value === 'sqlite' || value === '')
    return SqliteRunStore.open(join(labDir, 'lab.sqlite'), opts.migrationsDir);
  if (value.startsWith('sqlite:')) {
    const file = value.slice('sqlite:'.length);
    if (file === '') throw new Error('store: sqlite: needs a file name (sqlite:/path/lab.sqlite)');
    return SqliteRunStore.open(
      isAbsolute(file) ? file : resolve(opts.cwd ?? process.cwd(), file),
      opts.migrationsDir,
    );
  }
  if (isPostgresSpec(value)) {
    refusePassword(spec!, 'store', 'set PGPASSWORD or use a pgpass file (PGPASSFILE, ~/.pgpass) instead');
    return PgRunStore.open(value, { onError: opts.onWarning });
  }
  throw new Error(
    `store: expected sqlite, sqlite:<file> or postgres://…, got ${JSON.stringify(value.slice(0, 80))}`,
  );
}

/** The queue a spec names, or undefined for the local queue (the lab's default). */
export function openQueueSpec(
  spec: EndpointSpec | undefined,
  store: RunStore,
  opts: { onWarning?: (m: string) => void } = {},
): BullJobQueue | undefined {
  const value = spec?.value.trim() ?? 'local';
  if (value === 'local' || value === '') return undefined;
  if (/^rediss?:\/\//i.test(value)) {
    if (store.engine === 'sqlite') {
      throw new Error(
        'queue: a Redis queue needs a shared store (--store postgres://…); workers on other machines cannot reach an SQLite file',
      );
    }
    return new BullJobQueue({ url: value, store, onError: opts.onWarning });
  }
  throw new Error(`queue: expected local or redis://…, got ${JSON.stringify(value.slice(0, 80))}`);
}

/** The flag if given, else the environment variable; undefined when neither. */
export function specFrom(flag: string | undefined, env: string | undefined): EndpointSpec | undefined {
  if (flag !== undefined) return { value: flag, from: 'argv' };
  if (env !== undefined && env !== '') return { value: env, from: 'env' };
  return undefined;
}

export type { JobQueue };
