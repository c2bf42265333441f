// Issue 13, files the lab serves: the renderer's files (browser mode's static server and the desktop app's
// app:// protocol) must be regular files inside the renderer folder. Checking the real path and then opening it
// leaves a window: a file swapped for a symlink to a secret outside the folder between the check and the open was
// served. Here a separate process swaps `x.js` between a regular file and such a symlink as fast as it can while
// the file is requested over and over; no request may ever return the secret.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from '../../../core/cli/server';
import { openWithin } from '../../../core/util/open-within';
import { appProtocolReply } from '../../../electron/main/security';

const dir = mkdtempSync(join(tmpdir(), 'qlab-swap-'));
const root = join(dir, 'renderer');
const secret = join(dir, 'outside', 'secret.txt');
mkdirSync(root);
mkdirSync(join(dir, 'outside'));
writeFileSync(secret, 'SECRET');
writeFileSync(join(root, 'index.html'), '<!doctype html>');
writeFileSync(join(root, 'x.js'), 'legit');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Swaps `root/x.js` between a regular file and a symlink to the secret. */
const SWAP_FILE = `
const fs = require('node:fs');
const [root, secret, ms] = process.argv.slice(1);
const x = root + '/x.js', a = root + '/.a', b = root + '/.b';
const end = Date.now() + Number(ms);
let n = 0;
while (Date.now() < end) {
  fs.writeFileSync(a, 'legit'); fs.renameSync(a, x);
  fs.symlinkSync(secret, b); fs.renameSync(b, x);
  n++;
}
fs.writeFileSync(a, 'legit'); fs.renameSync(a, x);
process.stdout.write(String(n));
`;

/** Swaps the folder `root/sub` for a symlink to `out` (a folder holding the secret as x.js) and back. */
const SWAP_FOLDER = `
const fs = require('node:fs');
const [root, out, ms] = process.argv.slice(1);
const sub = root + '/sub', real = root + '/.sub';
const end = Date.now() + Number(ms);
let n = 0;
while (Date.now() < end) {
  fs.renameSync(sub, real); fs.symlinkSync(out, sub);
  fs.unlinkSync(sub); fs.renameSync(real, sub);
  n++;
}
process.stdout.write(String(n));
`;

/**
 * Runs `request` in a loop while a separate process runs `swapper` (SWAP_FILE, or SWAP_FOLDER with `target`
 * the outside folder); returns how often each answer came, after checking the race really ran.
 */
async function underSwaps(
  request: () => Promise<string | null>,
  { swapper = SWAP_FILE, target = secret, ms = 2500 } = {},
): Promise<Map<string, number>> {
  const child = spawn(process.execPath, ['-e', swapper, root, target, String(ms)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let swaps = '';
  child.stdout.on('data', (c: Buffer) => (swaps += c.toString()));
  const done = new Promise((r) => child.on('exit', r));
  let running = true;
  void done.then(() => (running = false));
  const seen = new Map<string, number>();
  while (running) {
    const a = (await request()) ?? 'refused';
    seen.set(a, (seen.get(a) ?? 0) + 1);
  }
  await done;
  expect(Number(swaps)).toBeGreaterThan(100); // the race was really run
  return seen;
}

/** What openWithin lets through for `file`: its text, or null when refused. */
async function readWithin(file: string, opts: { kernelPath?: boolean } = {}): Promise<string | null> {
  const r = await openWithin(root, file, opts);
  if (r === null) return null;
  try {
    return (await r.handle.readFile()).toString();
  } finally {
    await r.handle.close();
  }
}

describe('no symlink swap lets a file outside the folder through', () => {
  it('openWithin', async () => {
    const seen = await underSwaps(() => readWithin(join(root, 'x.js')));
    expect(seen.get('SECRET') ?? 0).toBe(0);
    expect(seen.get('legit') ?? 0).toBeGreaterThan(0);
  });

  it('openWithin (Linux): a folder on the path swapped for a symlink out of the folder', async () => {
    // root/sub is a real folder holding x.js, then a symlink to a folder holding the secret as x.js
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(root, 'sub', 'x.js'), 'legit');
    mkdirSync(join(dir, 'outside2'));
    writeFileSync(join(dir, 'outside2', 'x.js'), 'SECRET');
    const seen = await underSwaps(() => readWithin(join(root, 'sub', 'x.js')), {
      swapper: SWAP_FOLDER,
      target: join(dir, 'outside2'),
    });
    expect(seen.get('SECRET') ?? 0).toBe(0);
    expect(seen.get('legit') ?? 0).toBeGreaterThan(0);
  });

  it('openWithin without the kernel’s name for the file (the portable check: device and inode)', async () => {
    const seen = await underSwaps(() => readWithin(join(root, 'x.js'), { kernelPath: false }));
    expect(seen.get('SECRET') ?? 0).toBe(0);
    expect(seen.get('legit') ?? 0).toBeGreaterThan(0);
  });

  it('openWithin: a symlink out of the folder, a missing file, the folder given through a symlink', async () => {
    const { symlinkSync } = await import('node:fs');
    symlinkSync(secret, join(root, 'out.js'));
    expect(await openWithin(root, join(root, 'out.js'))).toBeNull();
    expect(await openWithin(root, join(root, 'out.js'), { kernelPath: false })).toBeNull();
    expect(await openWithin(root, join(root, 'nope.js'))).toBeNull();
    symlinkSync(root, join(dir, 'alias'));
    const r = await openWithin(join(dir, 'alias'), join(dir, 'alias', 'index.html'));
    expect(r?.real).toBe(join(root, 'index.html'));
    await r?.handle.close();
  });

  it("the desktop app's app:// protocol", async () => {
    const seen = await underSwaps(async () => {
      const r = await appProtocolReply(root, 'app://qlab/x.js');
      return r.status === 200 ? r.body.toString() : null;
    });
    expect(seen.get('SECRET') ?? 0).toBe(0);
    expect(seen.get('legit') ?? 0).toBeGreaterThan(0);
  });

  it("browser mode's static server", async () => {
    const srv = await startServer({
      api: {} as never,
      host: '127.0.0.1',
      port: 0,
      token: null,
      rendererDir: root,
    } as never);
    try {
      const seen = await underSwaps(async () => {
        const r = await fetch(`http://127.0.0.1:${srv.port}/x.js`);
        return r.status === 200 ? r.text() : null;
      });
      expect(seen.get('SECRET') ?? 0).toBe(0);
      expect(seen.get('legit') ?? 0).toBeGreaterThan(0);
    } finally {
      await srv.close();
    }
  });
});
