// Issue 15's LabApi leftovers, through the service and the HTTP/IPC dispatcher: notes edited and deleted (line
// breaks kept, another run's note out of reach), run bundles exported and imported as base64 (byte for byte,
// twice is a no-op, damaged uploads refused naming the upload with nothing written), the PDF export through the
// lab's printer, and (issue 13) the file roots: listed everywhere, edited only where a folder dialog exists.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_BUNDLE_TRANSFER_BYTES, type ExportedFile } from '../../../core/api/lab-api';
import { dispatch } from '../../../core/cli/dispatch';
import { openLab } from '../../../core/lab/service';
import { Store } from '../../../core/lab/store';
import { labFixture } from '../../helpers/lab';
import { dumpLab as dump, seedLab as seed } from '../../helpers/seed-lab';
import { rejection } from '../../helpers/lab-error';

const lab = labFixture('qlab-nbr-');
const scratch = mkdtempSync(join(tmpdir(), 'qlab-nbr-scratch-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Calls through the dispatcher with a JSON round trip, as the HTTP server and the IPC handlers do. */
async function call(api: Parameters<typeof dispatch>[0], method: string, arg: unknown) {
  return dispatch(api, method, JSON.parse(JSON.stringify(arg ?? null)));
}

describe('notes', () => {
  it('edits a note keeping its line breaks, deletes it, and cannot reach another run’s note', async () => {
    const { parent, child } = seed(lab.dir);
    const l = await lab.open({ schedule: false });
    const [note] = (await l.getRun(parent)).notes;
    const text = 'line one\nline two\n\n- a\n- b';
    const upd = await call(l, 'updateNote', { runId: parent, noteId: note.id, text });
    expect(upd).toEqual({ ok: true, value: { id: note.id, text, createdAt: note.createdAt } });
    expect((await l.getRun(parent)).notes).toEqual([{ id: note.id, text, createdAt: note.createdAt }]);

    // the note belongs to the parent: through the child's id it does not exist, and stays as it is
    const wrong = await call(l, 'updateNote', { runId: child, noteId: note.id, text: 'x' });
    expect(wrong).toEqual({
      ok: false,
      error: { code: 'not-found', message: `noteId: run ${child} has no note ${note.id}`, field: 'noteId' },
    });
    expect(await call(l, 'deleteNote', { runId: child, noteId: note.id })).toMatchObject({
      ok: false,
      error: { field: 'noteId' },
    });
    expect((await l.getRun(parent)).notes[0].text).toBe(text);

    // bad input names the field
    expect(await call(l, 'updateNote', { runId: parent, noteId: 1.5, text: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'invalid', field: 'noteId' },
    });
    expect(await call(l, 'updateNote', { runId: parent, noteId: note.id, text: '' })).toMatchObject({
      ok: false,
      error: { code: 'invalid', field: 'text' },
    });

    expect(await call(l, 'deleteNote', { runId: parent, noteId: note.id })).toEqual({
      ok: true,
      value: { runId: parent, noteId: note.id },
    });
    expect((await l.getRun(parent)).notes).toEqual([]);
    expect(await call(l, 'deleteNote', { runId: parent, noteId: note.id })).toMatchObject({
      ok: false,
      error: { code: 'not-found', field: 'noteId' },
    });
  });
});

describe('bundles through the LabApi', () => {
  it('exports as base64 and imports into an empty lab byte for byte; a second import changes nothing', async () => {
    const { parent, child } = seed(lab.dir);
    const src = await lab.open({ schedule: false });
    const ex = await call(src, 'exportBundle', { ids: [child] });
    expect(ex.ok).toBe(true);
    const file = (ex as { value: ExportedFile }).value;
    expect(file).toMatchObject({ mimeType: 'application/octet-stream', encoding: 'base64' });
    expect(file.filename).toMatch(/^qlab-2-runs-\d{4}-\d\d-\d\d\.qlab$/);
    expect(Buffer.from(file.content, 'base64').subarray(0, 8).toString('latin1')).toBe('QLABBNDL');

    const dstDir = join(scratch, `dst-${randomUUID()}`);
    const dst = await openLab({ labDir: dstDir, schedule: false });
    const events: string[] = [];
    dst.onEvent((e) => events.push(e.type === 'run-created' ? e.run.id : e.type));
    try {
      const im = await call(dst, 'importBundle', { filename: 'runs.qlab', data: file.content });
      expect(im).toEqual({ ok: true, value: { imported: [parent, child], skipped: [], artifacts: 1 } });
      expect(events).toEqual([parent, child]);
      expect(dump(dstDir)).toEqual(dump(lab.dir));
      expect(readFileSync(join(dstDir, 'artifacts', child, 'm.bin'))).toEqual(
        readFileSync(join(lab.dir, 'artifacts', child, 'm.bin')),
      );
      const again = await call(dst, 'importBundle', { filename: 'runs.qlab', data: file.content });
      expect(again).toEqual({ ok: true, value: { imported: [], skipped: [parent, child], artifacts: 0 } });
      expect(dump(dstDir)).toEqual(dump(lab.dir));
    } finally {
      await dst.close();
    }
  });

  it('refuses a damaged upload naming the upload, with nothing written', async () => {
    const { child } = seed(lab.dir);
    const src = await lab.open({ schedule: false });
    const bytes = Buffer.from((await src.exportBundle({ ids: [child] })).content, 'base64');
    const flipped = Buffer.from(bytes);
    flipped[20] ^= 0xff; // inside the first entry's compressed bytes
    const wrongVersion = Buffer.from(bytes);
    wrongVersion.writeUInt32BE(99, 8);
    const cases: [string, Buffer, RegExp][] = [
      ['cut.qlab', bytes.subarray(0, bytes.length - 3), /^cut\.qlab is truncated/],
      ['flip.qlab', flipped, /^flip\.qlab: bad checksum for entry runs\//],
      ['v99.qlab', wrongVersion, /^v99\.qlab has bundle format version 99; this lab reads version 1$/],
      ['text.qlab', Buffer.from('not a bundle at all, just some text'), /^text\.qlab is not a qlab bundle/],
    ];
    const dstDir = join(scratch, `dst-${randomUUID()}`);
    const dst = await openLab({ labDir: dstDir, schedule: false });
    try {
      const before = dump(dstDir);
      for (const [name, data, message] of cases) {
        const r = await call(dst, 'importBundle', { filename: name, data: data.toString('base64') });
        expect(r.ok, name).toBe(false);
        const err = (r as { error: { code: string; message: string } }).error;
        expect(err.code, name).toBe('invalid');
        expect(err.message, name).toMatch(message);
        expect(err.message, name).not.toContain(tmpdir());
        expect(dump(dstDir), name).toEqual(before);
        expect(
          readdirSync(dstDir).includes('artifacts') ? readdirSync(join(dstDir, 'artifacts')) : [],
        ).toEqual([]);
      }
      // not base64, and over the transfer limit: refused by the schema before anything is decoded
      expect(await call(dst, 'importBundle', { data: 'QUJD$$' })).toMatchObject({
        ok: false,
        error: { code: 'invalid', field: 'data', message: 'data: is not base64' },
      });
      const big = 'A'.repeat(Math.ceil(MAX_BUNDLE_TRANSFER_BYTES / 3) * 4 + 4);
      const t0 = performance.now();
      const over = await dispatch(dst, 'importBundle', { data: big });
      expect(over).toMatchObject({ ok: false, error: { code: 'invalid', field: 'data' } });
      expect((over as { error: { message: string } }).error.message).toContain('qlab bundle import');
      expect(performance.now() - t0).toBeLessThan(2000);
    } finally {
      await dst.close();
    }
  });

  it('refuses to bundle a run that is still queued', async () => {
    const l = await lab.open({ schedule: false });
    const store = Store.open(join(lab.dir, 'lab.sqlite'));
    const id = randomUUID();
    store.insertRun({
      id,
      kind: 'x',
      name: 'q',
      config: {},
      seed: 0,
      createdAt: '2026-01-01T00:00:00.000Z',
      codeVersion: 'v',
      tags: [],
    });
    store.close();
    const r = await call(l, 'exportBundle', { ids: [id] });
    expect(r.ok).toBe(false);
    expect((r as { error: { message: string } }).error.message).toMatch(/queued/);
  });
});

describe('PDF through the LabApi', () => {
  it('prints the HTML report with the run ids and code version in the header, as base64', async () => {
    const { parent } = seed(lab.dir);
    const printed: { html: string; header: string }[] = [];
    const l = await lab.open({
      schedule: false,
      pdfPrinter: {
        async print(html, header) {
          printed.push({ html, header });
          return new Uint8Array(Buffer.from('%PDF-1.4 fake'));
        },
      },
    });
    const r = await call(l, 'exportPdf', { ids: [parent] });
    expect(r.ok).toBe(true);
    const file = (r as { value: ExportedFile }).value;
    expect(file.mimeType).toBe('application/pdf');
    expect(file.encoding).toBe('base64');
    expect(file.filename).toMatch(/\.pdf$/);
    expect(Buffer.from(file.content, 'base64').toString('latin1')).toBe('%PDF-1.4 fake');
    expect(printed).toHaveLength(1);
    // the HTML export, up to its own time stamp
    const stamp = (h: string) => h.replace(/Exported from qlab [^;]+;/, '');
    expect(stamp(printed[0].html)).toBe(
      stamp((await l.exportRuns({ ids: [parent], format: 'html' })).content),
    );
    expect(printed[0].html).toContain('Exported from qlab');
    expect(printed[0].header).toBe(`qlab · run ${parent} · code v`);
  });

  it('says why when the printer fails, as one line', async () => {
    const { parent } = seed(lab.dir);
    const l = await lab.open({
      schedule: false,
      pdfPrinter: {
        print: async () => {
          throw new Error('the PDF export needs Chromium: install it\n  at stack');
        },
      },
    });
    expect(await call(l, 'exportPdf', { ids: [parent] })).toEqual({
      ok: false,
      error: { code: 'internal', message: 'cannot print the PDF: the PDF export needs Chromium: install it' },
    });
  });
});

describe('file roots through the LabApi', () => {
  it('lists them; browser mode (no folder dialog) refuses edits and says where to make them', async () => {
    const l = await lab.open({ schedule: false });
    const other = mkdtempSync(join(scratch, 'root-'));
    writeFileSync(
      join(lab.dir, 'settings.json'),
      JSON.stringify({ fileRoots: [other, join(scratch, 'gone')] }),
    );
    const r = await call(l, 'getFileRoots', {});
    expect(r).toEqual({
      ok: true,
      value: {
        roots: [
          { path: join(lab.dir, 'imports'), source: 'imports', exists: true },
          { path: other, source: 'settings', exists: true },
          { path: join(scratch, 'gone'), source: 'settings', exists: false },
        ],
        editable: false,
        settingsFile: join(lab.dir, 'settings.json'),
      },
    });
    for (const [m, arg] of [
      ['pickFileRoot', {}],
      ['removeFileRoot', { path: other }],
    ] as const) {
      const e = await call(l, m, arg);
      expect(e).toMatchObject({ ok: false, error: { code: 'conflict', field: 'fileRoots' } });
      expect((e as { error: { message: string } }).error.message).toContain("'qlab roots add <folder>'");
    }
    expect(JSON.parse(readFileSync(join(lab.dir, 'settings.json'), 'utf8'))).toEqual({
      fileRoots: [other, join(scratch, 'gone')],
    });
  });

  it('adds the folder the dialog picked (then a run may read from it), keeps the list on dismiss, removes', async () => {
    const picked = mkdtempSync(join(scratch, 'picked-'));
    writeFileSync(join(picked, 'data.csv'), 'text,label\na,b\nc,d\n');
    const answers: (string | null)[] = [picked, null];
    const l = await lab.open({ schedule: false, pickFolder: async () => answers.shift() ?? null });
    const req = {
      kind: 'qhead',
      config: {
        datasetFile: {
          path: join(picked, 'data.csv'),
          format: 'csv',
          textColumn: 'text',
          labelColumn: 'label',
        },
      },
    };
    // before: outside the roots
    expect((await rejection(l.createRun(req))).field).toBe('config.datasetFile.path');

    const added = await call(l, 'pickFileRoot', {});
    expect(added).toMatchObject({ ok: true, value: { editable: true } });
    expect((added as { value: { roots: { path: string }[] } }).value.roots.map((x) => x.path)).toEqual([
      join(lab.dir, 'imports'),
      picked,
    ]);
    expect((await l.createRun(req)).status).toBe('queued');

    const dismissed = await call(l, 'pickFileRoot', {});
    expect((dismissed as { value: { roots: unknown[] } }).value.roots).toHaveLength(2);

    expect(await call(l, 'removeFileRoot', { path: join(lab.dir, 'imports') })).toMatchObject({
      ok: false,
      error: { code: 'not-found', field: 'path' },
    });
    const removed = await call(l, 'removeFileRoot', { path: picked });
    expect((removed as { value: { roots: unknown[] } }).value.roots).toHaveLength(1);
    expect((await rejection(l.createRun(req))).field).toBe('config.datasetFile.path');
  });
});
