// Which data files createRun checks, and where their columns are named, come from each kind's metadata
// (`about(…, { dataFile })` on the file's field), not from a list of kinds nor from textColumn/labelColumn
// sitting beside the file field: every kind's column fields are covered, and a kind that names its columns
// elsewhere is checked there.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LabError } from '../../../core/api/lab-api';
import { checkDataFiles, dataFileFields } from '../../../core/lab/data-file-check';
import type { JobKind } from '../../../core/methods/job';
import { describeFields } from '../../../core/methods/metadata/fields';
import { about } from '../../../core/methods/metadata/meta';
import { listJobKinds } from '../../../core/methods/registry';

async function refusal(f: () => Promise<void>): Promise<LabError> {
  try {
    await f();
  } catch (e) {
    if (e instanceof LabError) return e;
    throw e;
  }
  throw new Error('not refused');
}

describe('data file columns from the metadata', () => {
  it('every kind: each column field is named by one of its data file fields, and each named field exists', () => {
    let kindsWithFiles = 0;
    for (const kind of listJobKinds()) {
      const keys = new Set(describeFields(kind.schema).fields.map((f) => f.key));
      const specs = [...dataFileFields(kind).entries()];
      if (specs.length > 0) kindsWithFiles++;
      const named = new Set(specs.flatMap(([, s]) => [s.text, s.label, ...(s.format ? [s.format] : [])]));
      for (const [file, s] of specs) {
        expect(keys, `${kind.kind}: ${file}`).toContain(file);
        for (const k of [s.text, s.label, ...(s.format ? [s.format] : [])])
          expect(keys, `${kind.kind}: ${file} names ${k}`).toContain(k);
      }
      // a text/label column field no data file names would go unchecked
      for (const k of keys)
        if (/(^|\.)(textColumn|labelColumn)$/.test(k)) expect(named, `${kind.kind}: ${k}`).toContain(k);
    }
    // qhead (datasetFile.path) and qdllm (dataset as a path) name labelled data files today
    expect(kindsWithFiles).toBeGreaterThanOrEqual(2);
  });

  it('checks a kind whose columns are not beside its file field, naming the column field', async () => {
    const schema = z
      .object({
        source: z
          .object({
            file: z.string().meta(
              about('data', {
                file: true,
                dataFile: { text: 'columns.body', label: 'columns.target', format: 'columns.kind' },
              }),
            ),
          })
          .strict(),
        columns: z
          .object({
            body: z.string().default('text'),
            target: z.string().default('label'),
            kind: z.enum(['csv', 'tsv', 'jsonl']).optional(),
          })
          .strict()
          .prefault({}),
      })
      .strict();
    const kind = {
      kind: 'test-columns-apart',
      title: '',
      description: '',
      schema,
      defaults: {},
      run: () => Promise.reject(new Error('not run')),
    } as unknown as JobKind;
    const dir = mkdtempSync(join(tmpdir(), 'qlab-datafile-meta-'));
    writeFileSync(join(dir, 'a.txt'), 'message\ttopic\nhello\tx\nworld\ty\n');
    const config = (c: unknown) => schema.parse(c);
    // TSV named by the format field elsewhere in the config; the label column is not in its header
    const e = await refusal(() =>
      checkDataFiles(
        kind,
        config({ source: { file: 'a.txt' }, columns: { body: 'message', kind: 'tsv' } }),
        dir,
      ),
    );
    expect(e.field).toBe('config.columns.target');
    expect(e.message).toContain('has no column "label"; its columns: message, topic');
    await checkDataFiles(
      kind,
      config({ source: { file: 'a.txt' }, columns: { body: 'message', target: 'topic', kind: 'tsv' } }),
      dir,
    );
    // no format field set and no known extension: refused by the file's field, saying what to give
    const f = await refusal(() => checkDataFiles(kind, config({ source: { file: 'a.txt' } }), dir));
    expect(f.field).toBe('config.source.file');
    expect(f.message).toContain('not a .csv, .tsv or .jsonl file (or give config.columns.kind)');
  });
});
