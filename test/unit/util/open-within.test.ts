// core/util/open-within.ts: a path whose text names a place outside the folder is refused before anything is
// opened (the app:// handler used to open /etc/shadow for app://qlab/..%2F..%2Fetc%2Fshadow and only then
// answer 404), and a refusal says why instead of the caller opening the path again to find out.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { appProtocolReply } from '../../../electron/main/security';
import { isRefusal, openWithin, openWithinAny } from '../../../core/util/open-within';

// every path node:fs/promises is asked to open, in order
const opens = vi.hoisted(() => [] as string[]);
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...fs,
    open: (path: Parameters<typeof fs.open>[0], ...rest: [never?, never?]) => {
      opens.push(String(path));
      return fs.open(path, ...rest);
    },
  };
});

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'qlab-open-within-')));
const root = join(dir, 'renderer');
const outside = join(dir, 'outside');
mkdirSync(root);
mkdirSync(outside);
writeFileSync(join(root, 'index.html'), '<p>app</p>');
writeFileSync(join(outside, 'secret.txt'), 'SECRET');
execFileSync('mkfifo', [join(outside, 'fifo')]);
symlinkSync(outside, join(root, 'link'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  opens.length = 0;
});

describe('openWithin / openWithinAny', () => {
  it('app:// with ../ in the path: 404 without opening anything outside the renderer folder', async () => {
    const secret = join(outside, 'secret.txt');
    const depth = root.split('/').length - 1;
    const up = '..%2F'.repeat(depth + 2);
    for (const url of [
      `app://qlab/${up}${secret.slice(1).replaceAll('/', '%2F')}`,
      `app://qlab/..%2Foutside%2Fsecret.txt`,
      `app://qlab/..%2F..%2F..%2Fetc%2Fshadow`,
    ]) {
      const reply = await appProtocolReply(root, url);
      expect(reply.status).toBe(404);
    }
    expect(opens).toEqual([]);
    // the page itself is served (and is the one path opened)
    const page = await appProtocolReply(root, 'app://qlab/index.html');
    expect(page.body.toString()).toBe('<p>app</p>');
    expect(opens).toEqual([join(root, 'index.html')]);
  });

  it('says why it refused: outside by name (nothing opened), outside once opened, or the open error', async () => {
    const byName = await openWithinAny([root], join(outside, 'fifo'));
    expect(byName).toEqual({ refused: 'outside' });
    expect(opens).toEqual([]);

    // through a symlink inside the folder: opened (non-blocking, a FIFO does not hang), then refused
    const viaLink = await openWithinAny([root], join(root, 'link', 'fifo'));
    expect(viaLink).toEqual({ refused: 'outside' });
    expect(opens).toEqual([join(root, 'link', 'fifo')]);

    const missing = await openWithinAny([root], join(root, 'nope.html'));
    expect(isRefusal(missing) && missing.refused === 'error' && missing.error.code).toBe('ENOENT');
  });

  it('openWithin takes a folder given through a symlink, and a path under either name', async () => {
    symlinkSync(root, join(dir, 'alias'));
    for (const file of [join(dir, 'alias', 'index.html'), join(root, 'index.html')]) {
      const r = await openWithin(join(dir, 'alias'), file);
      expect(r).not.toBeNull();
      expect(r!.real).toBe(join(root, 'index.html'));
      await r!.handle.close();
    }
    expect(
      await openWithin(join(dir, 'alias'), join(dir, 'alias', '..', 'outside', 'secret.txt')),
    ).toBeNull();
    expect(opens).toEqual([join(root, 'index.html'), join(root, 'index.html')]);
  });
});
