// The electron-vite bundle of the job worker (out/main/worker.js, what the desktop app's utility processes
// run) must run real job kinds under plain Node. Runs only where `npm run build` has produced it.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { measureGgufInJob } from '../../../core/lab/calibration';
import { ChildProcessLauncher } from '../../../core/lab/launcher';
import { openLab } from '../../../core/lab/service';

const bundled = fileURLToPath(new URL('../../../out/main/worker.js', import.meta.url));

describe.skipIf(!existsSync(bundled))('out/main/worker.js', () => {
  it('runs vqc-fit end to end with its metrics stored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qlab-bundle-'));
    const lab = await openLab({ labDir: dir, launcher: new ChildProcessLauncher({ entry: bundled }) });
    try {
      const run = await lab.createRun({ kind: 'vqc-fit', seed: 3, config: { epochs: 3, samples: 64 } });
      const done = await lab.waitForRun(run.id);
      expect(done.status, done.error ?? '').toBe('succeeded');
      const d = await lab.getRun(run.id);
      expect(d.metrics.find((m) => m.key === 'quantum/loss')?.count).toBe(3);
    } finally {
      await lab.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers the GGUF calibration (its module a chunk of the bundle): a file that is not GGUF, by name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qlab-bundle-gguf-'));
    try {
      const path = join(dir, 'not.gguf');
      writeFileSync(path, 'text, not a model');
      await expect(
        measureGgufInJob(new ChildProcessLauncher({ entry: bundled }), {
          path,
          field: 'ggufFiles[0]',
          within: null,
          timeoutMs: 60_000,
        }),
      ).rejects.toThrow(`ggufFiles[0]: ${path} is not a GGUF file (it does not start with "GGUF")`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
