// core/nn/matmul-threads.ts starts its workers from an inline source string (eval), so bundling must not
// break it: a Vite SSR bundle (how electron-vite builds the main process) of a threaded-product program must
// compute what the source computes, with its workers started, under plain Node.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from './build-output';

const entry = fileURLToPath(new URL('./fixtures/matmul-entry.ts', import.meta.url));

interface Report {
  results: { kernel: string; threads: number; online: number; maxDiff: number }[];
}

function runNode(args: string[]): Report {
  // a worker that never started would leave the caller in Atomics.wait: the timeout turns that into a failure
  const r = spawnSync(process.execPath, args, { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Report;
}

describe('bundled threaded matmul', () => {
  const outDir = mkdtempSync(join(REPO, '.qlab-test-build-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('runs both kernels on 3 threads and matches the source build and the naive product', async () => {
    await build({
      configFile: false,
      logLevel: 'warn',
      root: REPO,
      build: {
        ssr: entry,
        outDir,
        emptyOutDir: true,
        target: 'node20',
        rollupOptions: { output: { format: 'es', entryFileNames: 'matmul-entry.js' } },
      },
    });
    const bundled = runNode([join(outDir, 'matmul-entry.js')]);
    const source = runNode(['--import', 'tsx', entry]);
    expect(bundled.results.map((r) => r.kernel)).toEqual(source.results.map((r) => r.kernel));
    for (const r of bundled.results) {
      expect(r.threads).toBe(3);
      expect(r.online).toBe(2);
      expect(r.maxDiff).toBeLessThan(1e-3);
    }
  }, 120_000);
});
