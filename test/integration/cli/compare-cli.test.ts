// `qlab compare` in this process on a lab written straight into the store: up to 8 runs print as columns,
// more as one row per run; runs of two kinds print what they share, and the rest once per kind.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../../core/lab/store';
import { qlabIn } from '../../helpers/seed-lab';

let dir: string;
const sweep: string[] = [];
const other = randomUUID();

const qlab = (...args: string[]) => qlabIn(() => dir, process.env)(...args);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qlab-compare-cli-'));
  const store = Store.open(join(dir, 'lab.sqlite'));
  const finish = store.db.prepare(
    `UPDATE runs SET status = 'succeeded', progress = 1, summary = ? WHERE id = ?`,
  );
  for (let i = 0; i < 10; i++) {
    const id = randomUUID();
    sweep.push(id);
    store.insertRun({
      id,
      kind: 'qhead',
      name: `point ${i}`,
      config: { lr: 0.01 * (i + 1), epochs: 3 },
      seed: i,
      createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
      codeVersion: 't',
      tags: [],
    });
    finish.run(JSON.stringify({ acc: 0.5 + i / 100, dataset: 'brown' }), id);
  }
  store.insertRun({
    id: other,
    kind: 'qdllm',
    name: 'distil',
    config: { epochs: 5, qubits: 4 },
    seed: 1,
    createdAt: new Date(Date.UTC(2026, 0, 2)).toISOString(),
    codeVersion: 't',
    tags: [],
  });
  finish.run(JSON.stringify({ acc: 0.7, teacher_acc: 0.9 }), other);
  store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('qlab compare', () => {
  it('prints more than 8 runs one row each, the differing config and shared figures as columns', async () => {
    const r = await qlab('compare', ...sweep, '--lab-dir', dir);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +KIND +NAME +STATUS +SEED +lr +acc +dataset$/);
    expect(lines).toHaveLength(1 + 10);
    expect(lines[1]).toMatch(
      new RegExp(`^${sweep[0].slice(0, 8)} +qhead +point 0 +succeeded +0 +0\\.01 +0\\.5 +brown$`),
    );
  });

  it('prints runs of two kinds on what they share and lists the rest once per kind', async () => {
    const r = await qlab('compare', sweep[0], other, '--lab-dir', dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^epochs +3 +5$/m);
    expect(r.stdout).toMatch(/^acc +0\.5 +0\.7$/m);
    expect(r.stdout).not.toMatch(/^(dataset|teacher_acc|lr|qubits) /m);
    expect(r.stdout).toContain('only in qhead (1 run):\n  config: lr\n  summary: dataset\n');
    expect(r.stdout).toContain('only in qdllm (1 run):\n  config: qubits\n  summary: teacher_acc\n');
  });
});
