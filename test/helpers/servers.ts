// Throwaway PostgreSQL and Redis servers for integration tests: Debian's binaries (the postgresql and
// redis-server packages), run as their own system users when the tests run as root, each in a new temporary
// directory and on a free loopback port, stopped and removed by stop(), at process exit, and — should the test
// process be killed (a cleanup hook that timed out, kill -9) — by a detached reaper that watches this process's
// pid. startPostgres/startRedis resolve to { skipped: why } when a server cannot start, so a suite can skip
// itself with a visible message instead of failing on a machine without the packages.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Skipped {
  skipped: string;
}

export interface PgServer {
  /** postgres://postgres@127.0.0.1:<port>/postgres; the password is in `password` (and never in the URL). */
  readonly url: string;
  readonly port: number;
  readonly password: string;
  /** The server's temporary folder (its data directory is `data/` inside). */
  readonly dir: string;
  /** Makes a new empty database and returns its URL (without the password). */
  createDatabase(name?: string): Promise<string>;
  /** pg_ctl restart (fast mode: open connections are dropped, as in a server restart). */
  restart(): void;
  stop(): void;
}

export interface RedisServer {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** The server's temporary folder (its append-only file, and `qlab-redis.pid` with the server's pid). */
  readonly dir: string;
  /** kill -9 and a new server on the same port and folder (the append-only file brings the data back). */
  restart(): Promise<void>;
  stop(): void;
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === 'object' && addr ? resolvePort(addr.port) : reject(new Error('no port')),
      );
    });
  });
}

/** uid/gid of a system user, or undefined (not root, or no such user). */
function systemUser(name: string): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return undefined;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** The newest Debian PostgreSQL bin folder (/usr/lib/postgresql/<major>/bin), or undefined. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return majors.length ? join(root, majors[0], 'bin') : undefined;
}

const cleanups = new Set<() => void>();
process.on('exit', () => {
  for (const c of cleanups) {
    try {
      c();
    } catch {
      // best effort at exit
    }
  }
});

/**
 * A detached shell that outlives this process: once `watchPid` is gone it signals the pid written in
 * `pidFile` (then SIGKILL after 10 s) and removes `dir`. stop() ends the reaper itself (by its pid) after a
 * normal shutdown. It is what stops a server when the test process dies without running its exit handlers.
 */
export function startReaper(
  watchPid: number,
  pidFile: string,
  dir: string,
  signal: 'QUIT' | 'TERM',
): { pid: number | undefined; stop(): void } {
  const script = `
    while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
    if [ -f "$2" ]; then
      s=$(head -n 1 "$2")
      case "$s" in ''|*[!0-9]*) s='' ;; esac
      if [ -n "$s" ]; then
        kill -"$4" "$s" 2>/dev/null
        i=0
        while kill -0 "$s" 2>/dev/null && [ $i -lt 40 ]; do sleep 0.25; i=$((i+1)); done
        kill -KILL "$s" 2>/dev/null
      fi
    fi
    rm -rf "$3"
  `;
  const p = spawn('/bin/sh', ['-c', script, 'qlab-test-reaper', String(watchPid), pidFile, dir, signal], {
    detached: true,
    stdio: 'ignore',
  });
  p.on('error', () => undefined);
  p.unref();
  return {
    pid: p.pid,
    stop() {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    },
  };
}

function run(
  file: string,
  args: string[],
  user: { uid: number; gid: number } | undefined,
  cwd: string,
): { ok: boolean; out: string } {
  const r = spawnSync(file, args, { encoding: 'utf8', cwd, uid: user?.uid, gid: user?.gid, timeout: 60_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

export interface PgOptions {
  /** fsync and synchronous_commit off: faster, for tests that do not measure durability (default true). */
  fast?: boolean;
}

/**
 * initdb + pg_ctl start on a free loopback port, with password (scram) authentication over TCP. The database
 * collation is ICU en-US, as on a typical server (so 'a' < 'B' < 'b'): orderings that must match SQLite's
 * bytewise order are tested against it, not hidden by a C locale.
 */
export async function startPostgres(opts: PgOptions = {}): Promise<PgServer | Skipped> {
  const bin = postgresBinDir();
  if (!bin) return { skipped: 'PostgreSQL is not installed (apt-get install postgresql)' };
  const user = systemUser('postgres');
  if (process.getuid?.() === 0 && !user) return { skipped: 'running as root, but there is no postgres user' };
  const dir = mkdtempSync(join(tmpdir(), 'qlab-pg-'));
  const data = join(dir, 'data');
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  writeFileSync(join(dir, 'pw'), password);
  if (user) chownSync(dir, user.uid, user.gid);
  if (user) chownSync(join(dir, 'pw'), user.uid, user.gid);
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const init = run(
    join(bin, 'initdb'),
    [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      `--pwfile=${join(dir, 'pw')}`,
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
      '--locale-provider=icu',
      '--icu-locale=en-US',
    ],
    user,
    dir,
  );
  if (!init.ok) {
    remove();
    return { skipped: `initdb failed: ${init.out.trim().split('\n').slice(-3).join(' | ')}` };
  }
  const port = await freePort();
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    '-c max_connections=100',
    ...(opts.fast === false ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
  ].join(' ');
  const ctl = (action: string[]) =>
    run(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), ...action], user, dir);
  const start = ctl(['-o', settings, '-w', '-t', '60', 'start']);
  if (!start.ok) {
    remove();
    return { skipped: `pg_ctl start failed: ${start.out.trim().split('\n').slice(-3).join(' | ')}` };
  }
  // postgres writes its postmaster's pid in the first line of postmaster.pid; SIGQUIT is its immediate shutdown
  const reaper = startReaper(process.pid, join(data, 'postmaster.pid'), dir, 'QUIT');
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    cleanups.delete(stop);
    ctl(['-m', 'immediate', '-w', 'stop']);
    reaper.stop();
    remove();
  };
  cleanups.add(stop);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let n = 0;
  return {
    url,
    port,
    password,
    dir,
    async createDatabase(name?: string) {
      const db = name ?? `qlab_test_${process.pid}_${++n}`;
      const r = run(
        join(bin, 'psql'),
        [
          '-h',
          dir,
          '-p',
          String(port),
          '-U',
          'postgres',
          '-d',
          'postgres',
          '-v',
          'ON_ERROR_STOP=1',
          '-c',
          `CREATE DATABASE "${db}"`,
        ],
        user,
        dir,
      );
      if (!r.ok) throw new Error(`CREATE DATABASE ${db} failed: ${r.out}`);
      return `postgres://postgres@127.0.0.1:${port}/${db}`;
    },
    restart() {
      const r = ctl(['-o', settings, '-m', 'fast', '-w', '-t', '60', 'restart']);
      if (!r.ok) throw new Error(`pg_ctl restart failed: ${r.out}`);
    },
    stop,
  };
}

/**
 * redis-server on a free loopback port, as the redis user when root. Persistent like a production queue: an
 * append-only file fsynced on every write (`appendfsync always`), so restart() — a kill -9 and a new server on
 * the same directory — keeps every job BullMQ was told was added.
 */
export async function startRedis(): Promise<RedisServer | Skipped> {
  const exe = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
  if (!exe) return { skipped: 'Redis is not installed (apt-get install redis-server)' };
  const user = systemUser('redis');
  const dir = mkdtempSync(join(tmpdir(), 'qlab-redis-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const port = await freePort();
  const pidFile = join(dir, 'qlab-redis.pid');
  const reaper = startReaper(process.pid, pidFile, dir, 'TERM');
  let proc: ChildProcess | undefined;
  const launch = async (): Promise<string | null> => {
    proc = spawn(
      exe,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--daemonize',
        'no',
      ],
      {
        cwd: dir,
        uid: user?.uid,
        gid: user?.gid,
        stdio: 'ignore',
      },
    );
    // the reaper reads the current server's pid here (restart() starts a new process)
    if (proc.pid !== undefined) writeFileSync(pidFile, `${proc.pid}\n`);
    const end = Date.now() + 20_000;
    while (Date.now() < end) {
      if (proc.exitCode !== null) return `redis-server exited with code ${proc.exitCode}`;
      const ping = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
      if (ping.stdout?.trim() === 'PONG') return null;
      await new Promise((r) => setTimeout(r, 100));
    }
    return 'redis-server did not answer PING within 20 s';
  };
  const kill = async () => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  };
  const why = await launch();
  if (why) {
    await kill();
    reaper.stop();
    rmSync(dir, { recursive: true, force: true });
    return { skipped: why };
  }
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    cleanups.delete(stop);
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    reaper.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.add(stop);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async restart() {
      await kill();
      const w = await launch();
      if (w) throw new Error(w);
    },
    stop,
  };
}

export function isSkipped(x: unknown): x is Skipped {
  return typeof x === 'object' && x !== null && 'skipped' in x;
}
