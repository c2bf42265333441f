// A data file a config names is checked when the run is submitted, not minutes later when the queued run
// starts: it exists, is readable, is a regular file, its header (CSV/TSV) or first record (JSONL) holds
// the text and label columns the config names (read from the file's head, at most HEAD_BYTES), and its label
// column holds at least two classes (read piece by piece until a second class shows: the first piece for most
// files, the whole file, up to the run's own size limit, for a one-class one, ~10 ms a MiB). Asynchronous: the
// lab's event loop answers between pieces (a hostile 512 MiB one-class file sent over HTTP must not stop the
// lab for seconds), and bounded in time (CLASS_SCAN_MS) and memory (a piece, a record up to
// CLASS_RECORD_BYTES); past a bound the check leaves the file to the run's own import. The message names the
// config field.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { LabError } from '../api/lab-api';
import { importClassification, MAX_DATASET_BYTES, parseDelimited } from '../data/import';
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

/** Reads into `buf[at, at + length)` from file offset `pos`; the bytes read (0 at the end). */
async function readAt(
  fh: FileHandle,
  buf: Uint8Array,
  at: number,
  length: number,
  pos: number,
): Promise<number> {
  return (await fh.read(buf, at, length, pos)).bytesRead;
}

/** The file's head up to its last complete line (the whole file when it is shorter than HEAD_BYTES). */
async function readHead(
  path: string,
  field: string,
): Promise<{ text: string; bytes: Uint8Array; whole: boolean }> {
  let fh: FileHandle;
  try {
    // Non-blocking: opening a FIFO for reading would otherwise wait for a writer. Regular files ignore it.
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
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
    const st = await fh.stat();
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
      const n = await readAt(fh, buf, at, buf.length - at, at);
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
      return { text: decodeUtf8Text(buf.subarray(0, end)), bytes: buf.subarray(0, end), whole };
    } catch (e) {
      throw new LabError('invalid', `${field}: ${path} ${(e as Error).message}`, field);
    }
  } finally {
    await fh.close();
  }
}

/**
 * Checks one data file: its head for the columns, then its label column for a second class (a classifier
 * trained on one class is refused when the run starts, seconds in). Throws `invalid` naming the config field.
 */
export async function checkDataFile(
  path: string,
  format: Format,
  cols: Columns,
  field: string,
  limits: ClassScanLimits = {},
): Promise<void> {
  await checkColumns(path, format, cols, field);
  await checkClasses(path, format, cols, limits);
}

/** Bytes the class check reads at most: the most a run reads (MAX_DATASET_BYTES); past it the run refuses. */
const CLASS_SCAN_BYTES = MAX_DATASET_BYTES;
/**
 * One record (a line, or a quoted field's lines) the class check holds at most: a longer one ends the check
 * (the run's import reads it), so memory stays bounded and no single piece keeps the event loop long.
 */
export const CLASS_RECORD_BYTES = 16 * HEAD_BYTES;
/** Wall time the class check takes at most (a slow disk, a loaded machine); past it the run's import decides. */
export const CLASS_SCAN_MS = 30_000;

export interface ClassScanLimits {
  /** Wall-time bound in ms (default CLASS_SCAN_MS). */
  maxMs?: number;
}

/**
 * Where the last whole record of `buf[0, have)` ends (0: none yet), following parseDelimited's RFC 4180 rules
 * byte by byte (a quote opens a quoted field only at a field's start, "" is a quote inside one, a malformed
 * record runs to the end of its physical line), or the last line end for JSONL (JSON strings hold none).
 * The delimiters, quotes and line ends are ASCII, never inside a UTF-8 sequence. `first`: the first record's end.
 */
function lastRecordEnd(buf: Uint8Array, have: number, format: Format, first = false): number {
  if (format === 'jsonl') return buf.lastIndexOf(0x0a, have - 1) + 1;
  const D = format === 'csv' ? 0x2c : 0x09;
  const Q = 0x22;
  const NL = 0x0a;
  // 0 field start, 1 unquoted field, 2 quoted field, 3 quote seen inside a quoted field, 4 malformed record
  let st = 0;
  let cut = 0;
  for (let i = 0; i < have; i++) {
    const b = buf[i];
    if (st === 2) {
      if (b === Q) st = 3;
    } else if (st === 3) {
      if (b === Q) st = 2;
      else if (b === D) st = 0;
      else if (b === NL) {
        if (first) return i + 1;
        cut = i + 1;
        st = 0;
      } else st = b === 0x0d ? 1 : 4;
    } else if (b === NL) {
      if (first) return i + 1;
      cut = i + 1;
      st = 0;
    } else if (st === 0) st = b === Q ? 2 : b === D ? 0 : 1;
    else if (st === 1) st = b === D ? 0 : b === Q ? 4 : 1;
  }
  return cut;
}

/** A JS-trimmed string is blank: whitespace (Unicode's too) only. */
const blank = (t: string) => t.trim() === '';

/** A delimited field's raw bytes as parseDelimited reads them: quoted → its content with "" as ". */
function fieldText(buf: Uint8Array, s: number, e: number): string {
  if (buf[s] !== 0x22) return decodeUtf8Text(buf.subarray(s, e));
  let q = e - 1;
  while (q > s && buf[q] !== 0x22) q--; // the closing quote (a \r may follow it before the line end)
  return decodeUtf8Text(buf.subarray(s + 1, q)).replaceAll('""', '"');
}

/** A field holds more than whitespace: any visible ASCII byte but a quote says so without decoding. */
function hasText(buf: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (buf[i] > 0x20 && buf[i] < 0x7f && buf[i] !== 0x22) return true;
  return !blank(fieldText(buf, s, e));
}

/**
 * Adds the classes of the delimited records in `buf[0, end)` (whole records) as importClassification would
 * find them — a record without error, with the header's number of fields, a non-blank text and a non-blank
 * label (trimmed) — walking the bytes with parseDelimited's rules and decoding only the labels.
 */
function delimitedClasses(
  buf: Uint8Array,
  end: number,
  D: number,
  ti: number,
  li: number,
  ncols: number,
  classes: Set<string>,
): void {
  const Q = 0x22;
  const NL = 0x0a;
  // 0 field start, 1 unquoted field, 2 quoted field, 3 quote seen inside a quoted field, 4 malformed record
  let st = 0;
  let fi = 0;
  let fs = 0;
  let ts = -1;
  let te = -1;
  let ls = -1;
  let le = -1;
  let recStart = 0;
  const endField = (i: number) => {
    if (fi === ti) {
      ts = fs;
      te = i;
    }
    if (fi === li) {
      ls = fs;
      le = i;
    }
    fi++;
    fs = i + 1;
  };
  for (let i = 0; i < end; i++) {
    const b = buf[i];
    if (st === 2) {
      if (b === Q) st = 3;
      continue;
    }
    if (st === 3) {
      if (b === Q) {
        st = 2;
        continue;
      }
      if (b === 0x0d && buf[i + 1] === NL) continue; // CRLF after the closing quote
      if (b !== D && b !== NL) {
        st = 4;
        continue;
      }
    }
    if (b === NL) {
      if (st !== 4) endField(i);
      const blankLine = i === recStart || (i === recStart + 1 && buf[recStart] === 0x0d);
      if (st !== 4 && !blankLine && fi === ncols && ls >= 0 && ts >= 0) {
        if (hasText(buf, ts, te)) {
          const label = fieldText(buf, ls, le).trim();
          if (label !== '') classes.add(label);
        }
      }
      st = 0;
      fi = 0;
      fs = i + 1;
      ts = te = ls = le = -1;
      recStart = i + 1;
    } else if (st === 4) continue;
    else if (b === D) {
      endField(i);
      st = 0;
    } else if (st === 0) st = b === Q ? 2 : 1;
    else if (st === 1 && b === Q) st = 4;
  }
}

/** Adds the classes of the JSONL lines in `text` as importClassification would find them. */
function jsonlClasses(text: string, cols: Columns, classes: Set<string>): void {
  for (const line of text.split('\n')) {
    if (blank(line)) continue;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o) || !(cols.text in o)) continue;
    const r = o as Record<string, unknown>;
    const t = r[cols.text];
    let l = r[cols.label];
    if (typeof t !== 'string' || blank(t)) continue;
    if (typeof l === 'number' && Number.isFinite(l)) l = String(l);
    if (typeof l === 'string' && !blank(l)) classes.add(l.trim());
  }
}

/**
 * The label column holds at least two classes, read as the run reads it (importClassification: trimmed
 * labels of rows with a text). Reads the file in HEAD_BYTES pieces, each cut after its last whole record, and
 * stops at the second class — within the first piece for most data sets; a file sorted by label is read up
 * to its second class, a one-class file to its end (bounded by CLASS_SCAN_BYTES, one piece in memory at a
 * time; delimited files are walked byte by byte without building rows).
 */
async function checkClasses(
  path: string,
  format: Format,
  cols: Columns,
  limits: ClassScanLimits,
): Promise<void> {
  const classes = new Set<string>();
  const deadline = performance.now() + (limits.maxMs ?? CLASS_SCAN_MS);
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return; // checkColumns has just opened it; a file gone since is the run's to report
  }
  try {
    let buf = new Uint8Array(HEAD_BYTES);
    let have = 0;
    let pos = 0;
    let eof = false;
    let header: { ti: number; li: number; n: number } | null = null;
    while (classes.size < 2 && !(eof && have === 0)) {
      if (performance.now() > deadline) return;
      if (!eof && have < buf.length) {
        const n = await readAt(fh, buf, have, buf.length - have, pos);
        if (n === 0) eof = true;
        have += n;
        pos += n;
        if (!eof && have < buf.length) continue;
      }
      let cut = eof ? have : lastRecordEnd(buf, have, format);
      if (cut === 0) {
        // one record longer than the buffer: read on, up to the record limit
        if (buf.length >= CLASS_RECORD_BYTES) return;
        const grown = new Uint8Array(Math.min(2 * buf.length, CLASS_RECORD_BYTES));
        grown.set(buf.subarray(0, have));
        buf = grown;
        continue;
      }
      try {
        if (format === 'jsonl') jsonlClasses(decodeUtf8Text(buf.subarray(0, cut)), cols, classes);
        else {
          let from = 0;
          if (!header) {
            // the header record (checkColumns has read it): where the two columns are
            from = lastRecordEnd(buf, cut, format, true) || cut;
            const names = parseDelimited(
              decodeUtf8Text(buf.subarray(0, from)),
              format === 'csv' ? ',' : '\t',
            ).records[0].fields.map((f) => f.trim());
            header = { ti: names.indexOf(cols.text), li: names.indexOf(cols.label), n: names.length };
          }
          // a last record without its line end: give it one
          if (eof && cut > from && buf[cut - 1] !== 0x0a) {
            if (cut === buf.length) {
              const grown = new Uint8Array(buf.length + 1);
              grown.set(buf);
              buf = grown;
            }
            buf[cut++] = 0x0a;
            have = cut;
          }
          delimitedClasses(
            buf.subarray(from),
            cut - from,
            format === 'csv' ? 0x2c : 0x09,
            header.ti,
            header.li,
            header.n,
            classes,
          );
        }
      } catch {
        return; // not UTF-8 past the head: the run's import names the line
      }
      buf.copyWithin(0, cut, have);
      have -= cut;
      if (pos >= CLASS_SCAN_BYTES && !eof) return;
      // the lab's other requests between pieces (a read that hits the page cache may settle at once)
      await new Promise<void>((r) => setImmediate(r));
    }
  } finally {
    await fh.close();
  }
  if (classes.size >= 2) return;
  const f = cols.labelField;
  const only = [...classes][0];
  let what: string;
  if (only === undefined) {
    // no usable row: the first refused one, from the run's own import of the first piece
    let first: { line: number; reason: string } | undefined;
    try {
      const { text } = await readHead(path, f);
      first = importClassification(text, { textColumn: cols.text, labelColumn: cols.label, format }).report
        .rejected[0];
    } catch {
      first = undefined;
    }
    what = `no row has both a text ("${cols.text}") and a label ("${cols.label}")${first ? ` (line ${first.line}: ${first.reason})` : ''}`;
  } else
    what = `every row's "${cols.label}" is ${JSON.stringify(only.length > SHOWN_CHARS ? `${only.slice(0, SHOWN_CHARS)}…` : only)}: one class`;
  throw new LabError('invalid', `${f}: ${path}: ${what}; a classifier needs at least 2 classes`, f);
}

/** Checks one data file's head for the columns; throws `invalid` naming the column's config field. */
async function checkColumns(path: string, format: Format, cols: Columns, field: string): Promise<void> {
  const { text, bytes } = await readHead(path, field);
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
  // only the header record is parsed (not the whole head: a MiB of rows is ~0.1 s of the lab's event loop)
  let start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0; // a byte-order mark
  while (bytes[start] === 0x0a || (bytes[start] === 0x0d && bytes[start + 1] === 0x0a))
    start += bytes[start] === 0x0d ? 2 : 1; // blank lines before the header (parseDelimited skips them)
  const rest = bytes.length - start;
  const end = start + (lastRecordEnd(bytes.subarray(start), rest, format, true) || rest);
  const { records } = parseDelimited(decodeUtf8Text(bytes.subarray(0, end)), format === 'csv' ? ',' : '\t');
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
export async function checkDataFiles(
  kind: JobKind,
  config: unknown,
  base: string,
  limits: ClassScanLimits = {},
): Promise<void> {
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
    await checkDataFile(path, format, cols, ref.field, limits);
  }
}
