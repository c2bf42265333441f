// Issue 13, "files the API may read": a request over HTTP or IPC may only name files under the lab's file
// roots (imports/ and settings.json's fileRoots), symlinks followed; the CLI (a local user) is not bound.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../../core/cli/dispatch';
import { addFileRoot, fileReferences } from '../../../core/lab/file-roots';
import { loadJobKinds } from '../../../core/lab/kinds';
import { labFixture } from '../../helpers/lab';
import { rejection } from '../../helpers/lab-error';

const lab = labFixture('qlab-roots-');

const qheadFile = (path: string) => ({
  kind: 'qhead',
  config: { datasetFile: { path, format: 'csv', textColumn: 'text', labelColumn: 'label' } },
});

describe('files a LabApi request may name', () => {
  it('refuses /etc/passwd as a qhead dataset over the API, naming the field and echoing nothing of it', async () => {
    const l = await lab.open({ schedule: false });
    const e = await rejection(l.createRun(qheadFile('/etc/passwd')));
    expect(e.code).toBe('invalid');
    expect(e.field).toBe('config.datasetFile.path');
    expect(e.message).toContain("outside the lab's file roots");
    expect(e.message).not.toContain('root:x');
    // The same through the HTTP/IPC dispatcher.
    const r = await dispatch(l, 'createRun', qheadFile('/etc/passwd'));
    expect(r.ok).toBe(false);
    expect(await l.listRuns()).toEqual([]);
  });

  it('refuses encoder.path, teacher.modelDir, teacher.modelPath and a dataset path outside the roots', async () => {
    const l = await lab.open({ schedule: false });
    const out = mkdtempSync(join(tmpdir(), 'qlab-outside-'));
    mkdirSync(join(out, 'model'));
    writeFileSync(join(out, 'model.gguf'), 'GGUF');
    writeFileSync(join(out, 'data.csv'), 'text,label\nsecret,b\nsecret two,c\n');
    const cases: [unknown, string][] = [
      [
        { kind: 'qhead', config: { encoder: { type: 'hf-dir', path: join(out, 'model') } } },
        'config.encoder.path',
      ],
      [
        { kind: 'qhead', config: { encoder: { type: 'gguf', path: join(out, 'model.gguf') } } },
        'config.encoder.path',
      ],
      [
        { kind: 'qdllm', config: { teacher: { source: 'lab-transformer', modelDir: join(out, 'model') } } },
        'config.teacher.modelDir',
      ],
      [
        { kind: 'qdllm', config: { teacher: { source: 'gguf', modelPath: join(out, 'model.gguf') } } },
        'config.teacher.modelPath',
      ],
      [{ kind: 'qdllm', config: { dataset: join(out, 'data.csv') } }, 'config.dataset'],
    ];
    for (const [req, field] of cases) {
      const r = await dispatch(l, 'createRun', req);
      expect(r.ok ? null : r.error, JSON.stringify(req)).toMatchObject({ field });
      if (!r.ok) expect(r.error.message).toContain("outside the lab's file roots");
    }
    expect(await l.listRuns()).toEqual([]);
  });

  it('refuses a symlink inside imports/ that points outside it', async () => {
    const l = await lab.open({ schedule: false });
    symlinkSync('/etc/passwd', join(lab.dir, 'imports', 'passwd.csv'));
    const e = await rejection(l.createRun(qheadFile(join(lab.dir, 'imports', 'passwd.csv'))));
    expect(e.field).toBe('config.datasetFile.path');
    expect(e.message).toContain('outside');
  });

  it('accepts a file in imports/ (by relative name, stored as its real path) and one in a folder from settings.json', async () => {
    const l = await lab.open({ schedule: false });
    writeFileSync(join(lab.dir, 'imports', 'data.csv'), 'text,label\na,b\nc,d\n');
    const a = await l.createRun(qheadFile('data.csv'));
    const stored = (await l.getRun(a.id)).config as { datasetFile: { path: string } };
    expect(stored.datasetFile.path).toBe(join(lab.dir, 'imports', 'data.csv'));
    const picked = mkdtempSync(join(tmpdir(), 'qlab-picked-'));
    writeFileSync(join(picked, 'd.csv'), 'text,label\na,b\nc,d\n');
    expect((await rejection(l.createRun(qheadFile(join(picked, 'd.csv'))))).field).toBe(
      'config.datasetFile.path',
    );
    addFileRoot(lab.dir, picked);
    await l.createRun(qheadFile(join(picked, 'd.csv')));
  });

  it('lets the CLI (localFiles) name any file of its user', async () => {
    const l = await lab.open({ schedule: false });
    mkdirSync(join(lab.dir, 'elsewhere'));
    writeFileSync(join(lab.dir, 'elsewhere', 'd.csv'), 'text,label\na,b\nc,d\n');
    const r = await l.createRun(qheadFile(join(lab.dir, 'elsewhere', 'd.csv')), { localFiles: true });
    expect(r.status).toBe('queued');
  });

  it('finds no file in any kind’s defaults (bundled dataset names are not paths)', async () => {
    for (const k of (await loadJobKinds()).values()) {
      expect(fileReferences(k, JSON.parse(JSON.stringify(k.defaults))), k.kind).toEqual([]);
    }
  });
});
