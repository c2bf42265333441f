// A small lab written straight to the store, and the CLI run in this process: shared by the bundle, notes and
// file-roots tests (service, dispatcher and `qlab` alike), and the CLI tests.
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vi } from 'vitest';
import { main, processContext } from '../../core/cli/main';
import { Store } from '../../core/lab/store';

/**
 * A finished sweep run with one child: the child's loss metrics and one artifact file (`m.bin`, `bytes`), the
 * parent's tag `keep` and note `hello`, at fixed times. Creates the lab (its SQLite file) when missing.
 */
export function seedLab(
  labDir: string,
  opts: { bytes?: Buffer; losses?: number[] } = {},
): { parent: string; child: string } {
  const bytes = opts.bytes ?? Buffer.from([0, 1, 2, 255, 254, 10, 13]);
  const losses = opts.losses ?? [0.5, 0.25];
  const store = Store.open(join(labDir, 'lab.sqlite'));
  const parent = randomUUID();
  const child = randomUUID();
  store.insertRun({
    id: parent,
    kind: 'sweep',
    name: 'sweep',
    config: { n: 1 },
    seed: 3,
    createdAt: '2026-01-01T00:00:00.000Z',
    codeVersion: 'v',
    tags: ['keep'],
  });
  store.claimRun(parent, '2026-01-01T00:00:01.000Z', {});
  store.insertChildRun({
    id: child,
    parentId: parent,
    kind: 'point',
    name: 'p',
    config: {},
    seed: 0,
    at: '2026-01-01T00:00:02.000Z',
    codeVersion: 'v',
    host: {},
  });
  store.addMetrics(
    child,
    losses.map((value, step) => ({ key: 'loss', step, value, wallTime: step + 1 })),
  );
  mkdirSync(join(labDir, 'artifacts', child), { recursive: true });
  writeFileSync(join(labDir, 'artifacts', child, 'm.bin'), bytes);
  store.addArtifact(
    child,
    {
      name: 'm.bin',
      kind: 'file',
      path: `artifacts/${child}/m.bin`,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    },
    '2026-01-01T00:00:03.000Z',
  );
  store.addNote(parent, 'hello', '2026-01-01T00:00:04.000Z');
  store.finishChildren(parent, 'succeeded', '2026-01-01T00:00:05.000Z', null);
  store.finishRun(parent, 'succeeded', '2026-01-01T00:00:05.000Z', null);
  store.close();
  return { parent, child };
}

/** Every row a bundle carries (runs, metrics and their summaries, artifacts, tags, notes without their local id). */
export function dumpStore(store: Store): Record<string, unknown[]> {
  const q = (sql: string) => store.db.prepare(sql).all();
  return {
    runs: q('SELECT * FROM runs ORDER BY id'),
    metrics: q('SELECT * FROM metrics ORDER BY run_id, key, step'),
    metric_summary: q('SELECT * FROM metric_summary ORDER BY run_id, key'),
    artifacts: q('SELECT * FROM artifacts ORDER BY run_id, name'),
    tags: q('SELECT * FROM tags ORDER BY run_id, tag'),
    notes: q('SELECT run_id, text, created_at FROM notes ORDER BY run_id, id'),
  };
}

/** dumpStore of the lab in `labDir`. */
export function dumpLab(labDir: string): unknown {
  const store = Store.open(join(labDir, 'lab.sqlite'));
  try {
    return dumpStore(store);
  } finally {
    store.close();
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `qlab …` through the CLI entry in this process, in the folder `cwd()` names, with the environment `env`
 * (empty unless given) instead of the process's, its output captured.
 */
export function qlabIn(
  cwd: () => string,
  env: NodeJS.ProcessEnv = {},
): (...args: string[]) => Promise<CliResult> {
  return async (...args) => {
    let stdout = '';
    let stderr = '';
    const code = await main(args, {
      ...processContext(),
      cwd: cwd(),
      env,
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
    });
    return { code, stdout, stderr };
  };
}

/**
 * A CLI entry that writes to process.stdout and process.stderr (`qlab lm`) run in this process with
 * both captured (nothing reaches the terminal); ms: its wall time.
 */
export async function captureCli(
  entry: (argv: string[]) => Promise<number>,
  argv: string[],
): Promise<{ code: number; out: string; err: string; ms: number }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  const t0 = performance.now();
  try {
    const code = await entry(argv);
    return { code, out, err, ms: performance.now() - t0 };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
