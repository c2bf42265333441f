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
import { describeFields } from '../methods/metadata/fields';
import type { DataFileColumns } from '../methods/metadata/meta';
import { fileReferences } from './file-roots';

/** Bytes of a file's head read for its header or first record. */
export const HEAD_BYTES = 1 << 20;
/** Column names a message repeats at most, each cut to this many characters. */
const SHOWN_COLUMNS = 12;
const SHOWN_CHARS = 40;

type Format = 'csv' | 'tsv' | 'jsonl';

interface Columns {
  text: string;
  label: string;
  /** The config fields naming them, e.g. "config.datasetFile.textColumn". */
  textField: string;
  labelField: string;
  format?: Format;
}

const dataFileCache = new WeakMap<object, Map<string, DataFileColumns>>();

/**
 * The kind's labelled data file fields, from its metadata: dotted key → where its columns are named
 * (`about(…, { dataFile })` in the schema). A kind whose schema has none checks no columns.
 */
export function dataFileFields(kind: JobKind): Map<string, DataFileColumns> {
  let m = dataFileCache.get(kind);
  if (!m) {
    m = new Map();
    try {
      for (const f of describeFields(kind.schema).fields) if (f.dataFile) m.set(f.key, f.dataFile);
    } catch {
      // a schema JSON Schema cannot describe has no markers
    }
    dataFileCache.set(kind, m);
  }
  return m;
}

/** The value at a dotted key of the config, or undefined. */
function at(config: unknown, key: string): unknown {
  let v = config;
  for (const k of key.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** The columns the metadata names for a data file field, read from the (schema-parsed) config. */
function columnsFor(config: unknown, spec: DataFileColumns): Columns | null {
  const text = at(config, spec.text);
  const label = at(config, spec.label);
  if (typeof text !== 'string' || typeof label !== 'string') return null;
  const f = spec.format === undefined ? undefined : at(config, spec.format);
  const format = f === 'csv' || f === 'tsv' || f === 'jsonl' ? f : undefined;
  return { text, label, textField: `config.${spec.text}`, labelField: `config.${spec.label}`, format };
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
  const { textField, labelField } = cols;
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
 * Checks every labelled data file a config names — the fields its kind's metadata marks `dataFile` — for
 * being readable, regular, and holding the text and label columns the metadata says where to find (the
 * format from its format field, else the file's extension: .csv, .tsv or .jsonl). Relative paths resolve
 * against `base` (the imports folder for API callers, whose paths checkConfigFiles has already made
 * absolute; the current folder for the CLI).
 */
export function checkDataFiles(kind: JobKind, config: unknown, base: string): void {
  const fields = dataFileFields(kind);
  if (fields.size === 0) return;
  for (const ref of fileReferences(kind, config)) {
    const spec = fields.get(ref.key);
    if (!spec) continue;
    const cols = columnsFor(config, spec);
    if (!cols) continue;
    const ext = FILE_DATASET.exec(ref.value)?.[1]?.toLowerCase() as Format | undefined;
    const format = cols.format ?? ext;
    if (!format)
      throw new LabError(
        'invalid',
        `${ref.field}: ${ref.value}: not a .csv, .tsv or .jsonl file${spec.format ? ` (or give config.${spec.format})` : ''}`,
        ref.field,
      );
    const path = isAbsolute(ref.value) ? ref.value : resolve(base, ref.value);
    checkDataFile(path, format, cols, ref.field);
  }
}
