// A data file named in a config is checked when the run is submitted (issue 14): it exists, is readable, is a
// regular file, lies under the lab's file roots (file-roots.test.ts), and holds the text and label columns
// the config names: a CSV/TSV header or a JSONL file's first record. Each refusal names the field, nothing
// is written, and only the file's head is read.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HEAD_BYTES } from '../../../core/lab/data-file-check';
import { labFixture } from '../../helpers/lab';
import { rejection } from '../../helpers/lab-error';

const lab = labFixture('qlab-datafile-');

const qhead = (path: string, extra: Record<string, unknown> = {}) => ({
  kind: 'qhead',
  config: { datasetFile: { path, textColumn: 'text', labelColumn: 'label', ...extra } },
});

describe('data files checked at submission', () => {
  it('refuses a CSV without the label column, naming the column field and listing the header', async () => {
    const l = await lab.open({ schedule: false });
    writeFileSync(join(lab.dir, 'imports', 'a.csv'), 'body,category\nhello,x\n');
    const e = await rejection(l.createRun(qhead('a.csv', { textColumn: 'body' })));
    expect(e.code).toBe('invalid');
    expect(e.field).toBe('config.datasetFile.labelColumn');
    expect(e.message).toMatch(/has no column "label"; its columns: body, category$/);
    expect(await l.listRuns()).toEqual([]);
    // The same file with the right columns is accepted.
    const ok = await l.createRun(qhead('a.csv', { textColumn: 'body', labelColumn: 'category' }));
    expect(ok.status).toBe('queued');
  });

  it('reads the format field over the extension, and checks TSV and JSONL', async () => {
    const l = await lab.open({ schedule: false });
    writeFileSync(join(lab.dir, 'imports', 'b.txt'), 'text\tlabel\na\tb\n');
    expect((await l.createRun(qhead('b.txt', { format: 'tsv' }))).status).toBe('queued');
    // Read as CSV, the tab-separated header is one column.
    const e = await rejection(l.createRun(qhead('b.txt', { format: 'csv' })));
    expect(e.field).toBe('config.datasetFile.textColumn');
    writeFileSync(join(lab.dir, 'imports', 'c.jsonl'), '\n{"text": "a", "y": 1}\n');
    const j = await rejection(l.createRun(qhead('c.jsonl')));
    expect(j.field).toBe('config.datasetFile.labelColumn');
    expect(j.message).toContain('its first record (line 2) has no field "label"; its fields: text, y');
    writeFileSync(join(lab.dir, 'imports', 'd.jsonl'), 'not json\n');
    expect((await rejection(l.createRun(qhead('d.jsonl')))).message).toMatch(/line 1 is not valid JSON/);
    writeFileSync(join(lab.dir, 'imports', 'e.csv'), '');
    expect((await rejection(l.createRun(qhead('e.csv')))).message).toContain('is empty (no header line)');
  });

  it("checks qdllm's dataset path against its top-level columns, and every dataset of a sweep", async () => {
    const l = await lab.open({ schedule: false });
    writeFileSync(join(lab.dir, 'imports', 'good.csv'), 'text,label\na,b\n');
    writeFileSync(join(lab.dir, 'imports', 'bad.csv'), 'message,label\na,b\n');
    const e = await rejection(
      l.createRun({ kind: 'qdllm', config: { dataset: join(lab.dir, 'imports', 'bad.csv') } }),
    );
    expect(e.field).toBe('config.textColumn');
    expect(e.message).toContain('has no column "text"');
    const r = await l.createRun({
      kind: 'qdllm',
      config: { dataset: join(lab.dir, 'imports', 'bad.csv'), textColumn: 'message' },
    });
    expect(r.status).toBe('queued');
  });

  it('refuses a folder, a device and an unreadable file with one sentence each', async () => {
    const l = await lab.open({ schedule: false });
    mkdirSync(join(lab.dir, 'imports', 'dir.csv'));
    const d = await rejection(l.createRun(qhead('dir.csv')));
    expect(d.field).toBe('config.datasetFile.path');
    expect(d.message).toContain('is a folder, not a data file');
    // A FIFO is not a regular file (and reading one would block): refused from its stat.
    execFileSync('mkfifo', [join(lab.dir, 'imports', 'pipe.csv')]);
    const p = await rejection(l.createRun(qhead('pipe.csv')));
    expect(p.message).toContain('is not a regular file');
    if (process.getuid?.() !== 0) {
      writeFileSync(join(lab.dir, 'imports', 'secret.csv'), 'text,label\n');
      chmodSync(join(lab.dir, 'imports', 'secret.csv'), 0);
      expect((await rejection(l.createRun(qhead('secret.csv')))).message).toContain('permission denied');
    }
    expect(await l.listRuns()).toEqual([]);
  });

  it('reads only the head of a large file, and refuses a first line past it', async () => {
    const l = await lab.open({ schedule: false });
    const rows = 'x'.repeat(999) + ',y\n';
    writeFileSync(join(lab.dir, 'imports', 'big.csv'), 'text,label\n' + rows.repeat(3 * 1024));
    const t0 = performance.now();
    expect((await l.createRun(qhead('big.csv'))).status).toBe('queued');
    expect(performance.now() - t0).toBeLessThan(2000);
    writeFileSync(join(lab.dir, 'imports', 'long.csv'), 'a'.repeat(HEAD_BYTES + 10));
    expect((await rejection(l.createRun(qhead('long.csv')))).message).toContain('first line is longer than');
  });
});
