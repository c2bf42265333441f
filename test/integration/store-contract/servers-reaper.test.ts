// The test servers are stopped even when the process that started them dies without running any cleanup (a
// test file whose afterAll hook timed out and whose fork was killed, or kill -9): a detached reaper watches
// that process's pid, stops PostgreSQL and Redis and removes their folders. Here a child process starts both
// and is killed with SIGKILL; both servers must be gone within seconds. Skipped with a message only when the
// servers cannot be started.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { postgresBinDir } from '../../helpers/servers';

const CHILD = fileURLToPath(new URL('../../fixtures/servers-child.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const installed =
  postgresBinDir() !== undefined &&
  ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].some((p) => existsSync(p));
if (!installed) console.warn('\n*** servers reaper: SKIPPED: PostgreSQL or Redis is not installed ***\n');

describe.skipIf(!installed)('test servers outlive no killed test process', () => {
  it('kill -9 of the process that started PostgreSQL and Redis: both are stopped and removed', async () => {
    const child = spawn(process.execPath, ['--import', TSX, CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as Record<string, unknown>);
      });
      child.once('exit', (code) =>
        reject(new Error(`the child exited (${code}) before starting the servers`)),
      );
    });
    if ('skipped' in info) {
      child.kill('SIGKILL');
      console.warn(`servers reaper: SKIPPED: ${String(info.skipped)}`);
      return;
    }
    const { pgPid, redisPid, pgDir, redisDir } = info as {
      pgPid: number;
      redisPid: number;
      pgDir: string;
      redisDir: string;
    };
    expect(alive(pgPid) && alive(redisPid)).toBe(true);
    const t0 = performance.now();
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const end = Date.now() + 20_000;
    while (
      Date.now() < end &&
      (alive(pgPid) || alive(redisPid) || existsSync(pgDir) || existsSync(redisDir))
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`servers reaper: both servers gone ${Math.round(performance.now() - t0)} ms after the kill`);
    expect(alive(pgPid)).toBe(false);
    expect(alive(redisPid)).toBe(false);
    expect(existsSync(pgDir)).toBe(false);
    expect(existsSync(redisDir)).toBe(false);
  }, 60_000);
});
