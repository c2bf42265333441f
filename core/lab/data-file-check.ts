// A data file a config names is checked when the run is submitted, not minutes later when the queued run
// starts: it exists, is readable, is a regular file, and its header (CSV/TSV) or first record (JSONL) holds
// the text and label columns the config names. Only the file's head is read (at most HEAD_BYTES), so the
// check takes bounded time and memory whatever the file's size; the message names the config field.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { LabError } from '../api/lab-api';
import { parseDelimited } from '../data/import';
import { FILE_DATASET } from '../data/names';
import { decodeUtf8Text } from '../util/text';
import type { JobKind } from '../methods/job';
import { fileReferences } from './file-roots';

/** Bytes of a file's head read for its header or first record. */
export const HEAD_BYTES = 1 << 20;
/** Column names a message repeats at most, each cut to this many characters. */
const SHOWN_COLUMNS = 12;
const SHOWN_CHARS = 40;

type Format = 'csv' | 'tsv' | 'jsonl';

/** A config path as segments: "config.sweep.factors.dataset[1]" → ['sweep', 'factors', 'dataset', 1]. */
function segments(field: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of field.replace(/^config\.?/, '').matchAll(/([^.[\]]+)|\[(\d+)\]/g))
    out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

interface Columns {
  text: string;
  label: string;
  /** The config path of the object holding them, e.g. "config.datasetFile". */
  at: string;
  format?: Format;
}

/** The text/label columns for a file field: in the object holding it, else the nearest object above that has them. */
function columnsFor(config: unknown, field: string): Columns | null {
  const segs = segments(field);
  const chain: { value: unknown; path: string }[] = [{ value: config, path: 'config' }];
  let v: unknown = config;
  let path = 'config';
  for (const s of segs.slice(0, -1)) {
    if (v === null || typeof v !== 'object') break;
    v = (v as Record<string | number, unknown>)[s];
    path = typeof s === 'number' ? `${path}[${s}]` : `${path}.${s}`;
    chain.push({ value: v, path });
  }
  for (let i = chain.length - 1; i >= 0; i--) {
    const o = chain[i].value;
    if (o === null || typeof o !== 'object' || Array.isArray(o)) continue;
    const r = o as Record<string, unknown>;
    if (typeof r.textColumn === 'string' && typeof r.labelColumn === 'string') {
      const format = r.format === 'csv' || r.format === 'tsv' || r.format === 'jsonl' ? r.format : undefined;
      return { text: r.textColumn, label: r.labelColumn, at: chain[i].path, format };
    }
  }
  return null;
}

function shown(names: readonly string[]): string {
  const list = names.slice(0, SHOWN_COLUMNS).map((n) => {
    // eslint-disable-next-line no-control-regex
    const clean = n.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
    return clean.length > SHOWN_CHARS ? `${clean.slice(0, SHOWN_CHARS)}…` : clean;
  });
  const more = names.length > SHOWN_COLUMNS ? ` and ${names.length - SHOWN_COLUMNS} more` : '';
  return list.length > 0 ? `${list.join(', ')}${more}` : '(none)';
}

/** The file's head up to its last complete line (the whole file when it is shorter than HEAD_BYTES). */
function readHead(path: string, field: string): { text: string; whole: boolean } {
  let fd: number;
  try {
    // Non-blocking: opening a FIFO for reading would otherwise wait for a writer. Regular files ignore it.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'not readable (permission denied)'
          : code === 'EISDIR'
            ? 'is a folder, not a data file'
            : `cannot be opened (${code ?? (e as Error).message})`;
    throw new LabError('invalid', `${field}: ${path}: ${why}`, field);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory())
      throw new LabError('invalid', `${field}: ${path}: is a folder, not a data file`, field);
    if (!st.isFile())
      throw new LabError(
        'invalid',
        `${field}: ${path}: is not a regular file (a device, pipe or socket)`,
        field,
      );
    const buf = new Uint8Array(Math.min(st.size, HEAD_BYTES));
    let at = 0;
    while (at < buf.length) {
      const n = readSync(fd, buf, at, buf.length - at, at);
      if (n === 0) break;
      at += n;
    }
    const whole = at >= st.size;
    // Cut at the last newline: never inside a line, nor inside a UTF-8 sequence.
    let end = at;
    if (!whole) {
      end = buf.lastIndexOf(0x0a, at - 1) + 1;
      if (end === 0)
        throw new LabError(
          'invalid',
          `${field}: ${path}: its first line is longer than ${HEAD_BYTES} bytes (not a CSV, TSV or JSONL file with a header)`,
          field,
        );
    }
    try {
      return { text: decodeUtf8Text(buf.subarray(0, end)), whole };
    } catch (e) {
      throw new LabError('invalid', `${field}: ${path} ${(e as Error).message}`, field);
    }
  } finally {
    closeSync(fd);
  }
}

/** Checks one data file's head for the columns; throws `invalid` naming the column's config field. */
export function checkDataFile(path: string, format: Format, cols: Columns, field: string): void {
  const { text } = readHead(path, field);
  const textField = `${cols.at}.textColumn`;
  const labelField = `${cols.at}.labelColumn`;
  if (format === 'jsonl') {
    const lines = text.split('\n');
    const k = lines.findIndex((l) => l.trim() !== '');
    if (k < 0) throw new LabError('invalid', `${field}: ${path}: the JSONL file has no record`, field);
    let obj: unknown;
    try {
      obj = JSON.parse(lines[k]);
    } catch {
      // Not the parser's message: it quotes the line.
      throw new LabError('invalid', `${field}: ${path}: line ${k + 1} is not valid JSON`, field);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
      throw new LabError('invalid', `${field}: ${path}: line ${k + 1} is not a JSON object`, field);
    const keys = Object.keys(obj);
    for (const [name, f] of [
      [cols.text, textField],
      [cols.label, labelField],
    ] as const)
      if (!keys.includes(name))
        throw new LabError(
          'invalid',
          `${f}: ${path}: its first record (line ${k + 1}) has no field "${name}"; its fields: ${shown(keys)}`,
          f,
        );
    return;
  }
  const { records } = parseDelimited(text, format === 'csv' ? ',' : '\t');
  const header = records[0];
  if (!header)
    throw new LabError(
      'invalid',
      `${field}: ${path}: the ${format.toUpperCase()} file is empty (no header line)`,
      field,
    );
  if (header.error)
    throw new LabError('invalid', `${field}: ${path}: header (line ${header.line}): ${header.error}`, field);
  const names = header.fields.map((f) => f.trim());
  for (const [name, f] of [
    [cols.text, textField],
    [cols.label, labelField],
  ] as const)
    if (!names.includes(name))
      throw new LabError(
        'invalid',
        `${f}: ${path}: its header (line ${header.line}) has no column "${name}"; its columns: ${shown(names)}`,
        f,
      );
}

/**
 * Checks every labelled data file (.csv/.tsv/.jsonl, or a `format` beside it) a config names: readable,
 * regular, and holding the text and label columns named beside it (or above it: qdllm's top-level
 * textColumn/labelColumn serve its `dataset` and a sweep's datasets). Relative paths resolve against `base`
 * (the imports folder for API callers, whose paths checkConfigFiles has already made absolute; the current
 * folder for the CLI).
 */
export function checkDataFiles(kind: JobKind, config: unknown, base: string): void {
  for (const ref of fileReferences(kind, config)) {
    const cols = columnsFor(config, ref.field);
    if (!cols) continue;
    const ext = FILE_DATASET.exec(ref.value)?.[1]?.toLowerCase() as Format | undefined;
    const format = cols.format ?? ext;
    if (!format) continue;
    const path = isAbsolute(ref.value) ? ref.value : resolve(base, ref.value);
    checkDataFile(path, format, cols, ref.field);
  }
}
