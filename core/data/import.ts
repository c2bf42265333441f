// The user's own data: CSV/TSV (RFC 4180 quoting, embedded newlines) and JSONL with named text and label
// columns, and plain-text corpora. Every row is either kept or listed as rejected with its line number.
import { FileGuardError, openGuarded } from '../util/file-guard';
import { decodeUtf8Text, hasBom, stripBom, TextDecodeError } from '../util/text';
import { DataError, type LabelledText, type TextDocument } from './types';

export interface RejectedRow {
  /** 1-based line on which the row starts. */
  line: number;
  reason: string;
}

export interface ImportReport {
  kept: number;
  rejected: RejectedRow[];
  /** Empty lines between records, counted so the totals account for every line. */
  blankLines: number;
}

export interface ImportedClassification {
  examples: LabelledText[];
  /** Label strings in order of first appearance; example.label indexes this. */
  classes: string[];
  report: ImportReport;
}

export interface ClassificationImportOptions {
  format: 'csv' | 'tsv' | 'jsonl';
  textColumn: string;
  labelColumn: string;
}

/** Strict UTF-8 decoding; an invalid byte is reported with its line and byte offset. */
export function decodeUtf8(bytes: Uint8Array, source = 'input'): string {
  try {
    return decodeUtf8Text(bytes);
  } catch (e) {
    if (e instanceof TextDecodeError && e.message !== 'is not valid UTF-8')
      throw new DataError(`${source} ${e.message}`);
    // Find the first bad byte by decoding growing prefixes at line boundaries, then within the line.
    let lineStart = 0;
    let line = 1;
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 0x0a) {
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(lineStart, i));
        } catch {
          throw new DataError(`${source}: line ${line} is not valid UTF-8 (bytes ${lineStart}–${i - 1})`);
        }
        lineStart = i + 1;
        line++;
      }
    }
    throw new DataError(`${source}: not valid UTF-8`);
  }
}

interface RawRecord {
  line: number;
  fields: string[];
  error?: string;
}

/**
 * RFC 4180 records: quoted fields may hold the delimiter, "" and newlines; CRLF or LF ends a record.
 * A malformed record is returned with `error` and parsing resumes at the next line.
 */
export function parseDelimited(
  text: string,
  delimiter: ',' | '\t',
): { records: RawRecord[]; blankLines: number } {
  const records: RawRecord[] = [];
  let blankLines = 0;
  let i = 0;
  let line = 1;
  const n = text.length;
  if (hasBom(text)) i = 1; // byte-order mark (core/util/text.ts)
  while (i < n) {
    const startLine = line;
    if (text[i] === '\n' || (text[i] === '\r' && text[i + 1] === '\n')) {
      i += text[i] === '\r' ? 2 : 1;
      line++;
      blankLines++;
      continue;
    }
    const fields: string[] = [];
    let error: string | undefined;
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        const quoteLine = line;
        i++;
        let closed = false;
        while (i < n) {
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
        if (!closed) {
          error = `quoted field opened on line ${quoteLine} is never closed`;
          break;
        }
        if (i < n && text[i] !== delimiter && text[i] !== '\n' && text[i] !== '\r') {
          error = `unexpected character ${JSON.stringify(text[i])} after a closing quote`;
        }
      } else {
        while (
          i < n &&
          text[i] !== delimiter &&
          text[i] !== '\n' &&
          !(text[i] === '\r' && text[i + 1] === '\n')
        ) {
          if (text[i] === '"' && !error)
            error = 'a quote inside an unquoted field (quote the whole field and double the quote)';
          field += text[i];
          i++;
        }
      }
      fields.push(field);
      if (error) {
        while (i < n && text[i] !== '\n') i++; // skip the rest of the physical line
      }
      if (i >= n) break;
      if (text[i] === delimiter) {
        i++;
        continue;
      }
      i += text[i] === '\r' ? 2 : 1;
      line++;
      break;
    }
    records.push({ line: startLine, fields, error });
  }
  return { records, blankLines };
}

function labelIndex(classes: string[], index: Map<string, number>, label: string): number {
  let k = index.get(label);
  if (k === undefined) {
    k = classes.length;
    classes.push(label);
    index.set(label, k);
  }
  return k;
}

/** Imports a labelled text file; a bad header or missing column throws, bad rows are rejected and listed. */
export function importClassification(
  text: string,
  opts: ClassificationImportOptions,
): ImportedClassification {
  const examples: LabelledText[] = [];
  const classes: string[] = [];
  const index = new Map<string, number>();
  const rejected: RejectedRow[] = [];
  const accept = (line: number, t: unknown, l: unknown) => {
    if (typeof t !== 'string') return rejected.push({ line, reason: `${opts.textColumn} is not a string` });
    if (t.trim() === '') return rejected.push({ line, reason: `${opts.textColumn} is empty` });
    if (typeof l === 'number' && Number.isFinite(l)) l = String(l);
    if (typeof l !== 'string' || l.trim() === '') {
      return rejected.push({ line, reason: `${opts.labelColumn} is missing or empty` });
    }
    examples.push({ id: `line-${line}`, text: t, label: labelIndex(classes, index, l.trim()) });
  };
  let blankLines = 0;
  if (opts.format === 'jsonl') {
    text.split('\n').forEach((raw, k) => {
      const line = k + 1;
      const s = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (s.trim() === '') {
        if (k < text.split('\n').length - 1 || s.length > 0) blankLines++;
        return;
      }
      let obj: unknown;
      try {
        obj = JSON.parse(s);
      } catch (e) {
        rejected.push({ line, reason: `not valid JSON (${(e as Error).message})` });
        return;
      }
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
        rejected.push({ line, reason: 'not a JSON object' });
        return;
      }
      const o = obj as Record<string, unknown>;
      if (!(opts.textColumn in o))
        return void rejected.push({ line, reason: `no field "${opts.textColumn}"` });
      accept(line, o[opts.textColumn], o[opts.labelColumn]);
    });
  } else {
    const { records, blankLines: blanks } = parseDelimited(text, opts.format === 'csv' ? ',' : '\t');
    blankLines = blanks;
    const header = records.shift();
    if (!header) throw new DataError(`the ${opts.format.toUpperCase()} file is empty (no header line)`);
    if (header.error) throw new DataError(`header (line ${header.line}): ${header.error}`);
    const names = header.fields.map((f) => f.trim());
    const ti = names.indexOf(opts.textColumn);
    const li = names.indexOf(opts.labelColumn);
    for (const [col, at] of [
      [opts.textColumn, ti],
      [opts.labelColumn, li],
    ] as const) {
      if (at < 0)
        throw new DataError(
          `header (line ${header.line}) has no column "${col}"; columns: ${listColumns(names)}`,
        );
    }
    for (const r of records) {
      if (r.error) rejected.push({ line: r.line, reason: r.error });
      else if (r.fields.length !== names.length) {
        rejected.push({ line: r.line, reason: `${r.fields.length} fields, the header has ${names.length}` });
      } else accept(r.line, r.fields[ti], r.fields[li]);
    }
  }
  return { examples, classes, report: { kept: examples.length, rejected, blankLines } };
}

/** Longest column name an error message repeats: a header is file content, so only a bounded bit of it. */
export const MAX_ECHOED_COLUMN = 40;
const MAX_ECHOED_COLUMNS = 12;

/** The header's column names as an error message may show them: each cut to 40 characters, at most 12. */
function listColumns(names: readonly string[]): string {
  const shown = names.slice(0, MAX_ECHOED_COLUMNS).map((n) => {
    // eslint-disable-next-line no-control-regex
    const clean = n.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
    return clean.length > MAX_ECHOED_COLUMN ? `${clean.slice(0, MAX_ECHOED_COLUMN)}…` : clean;
  });
  const more = names.length > MAX_ECHOED_COLUMNS ? ` and ${names.length - MAX_ECHOED_COLUMNS} more` : '';
  return `${shown.join(', ')}${more}`;
}

/** Largest dataset file read (the whole file is held in memory as text). */
export const MAX_DATASET_BYTES = 512 * 1024 * 1024;

/**
 * Reads a dataset file whole, refusing what is not a regular file (a folder, /dev/zero, a FIFO, through
 * symlinks too) or larger than `maxBytes`, with one sentence instead of a raw ENOENT/EISDIR.
 */
export async function readDatasetFile(path: string, maxBytes = MAX_DATASET_BYTES): Promise<Uint8Array> {
  let fh;
  try {
    fh = await openGuarded(path);
  } catch (e) {
    if (e instanceof FileGuardError) throw new DataError(e.message);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError(`${path}: no such file`);
    if (code === 'EACCES' || code === 'EPERM') throw new DataError(`${path}: permission denied`);
    throw new DataError(`${path}: cannot be opened (${code ?? (e as Error).message})`);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new DataError(`${path}: is a folder, not a data file`);
    if (!st.isFile()) throw new DataError(`${path}: is not a regular file (a device, pipe or socket)`);
    if (st.size > maxBytes) {
      throw new DataError(`${path}: ${st.size} bytes; data files are limited to ${maxBytes} bytes`);
    }
    const buf = new Uint8Array(st.size);
    let at = 0;
    while (at < buf.length) {
      const { bytesRead } = await fh.read(buf, at, buf.length - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return at === buf.length ? buf : buf.subarray(0, at);
  } finally {
    await fh.close();
  }
}

/**
 * A plain-text corpus split into documents: by blank lines ('paragraphs'), one per line ('lines'), or the
 * whole text as one ('whole'). Empty documents are counted in the report as rejected, with their line.
 */
export function importTextCorpus(
  text: string,
  opts: { split?: 'paragraphs' | 'lines' | 'whole'; idPrefix?: string } = {},
): { documents: TextDocument[]; report: ImportReport } {
  const mode = opts.split ?? 'paragraphs';
  const prefix = opts.idPrefix ?? 'line';
  const documents: TextDocument[] = [];
  const rejected: RejectedRow[] = [];
  const lines = stripBom(text).split(/\r?\n/);
  if (mode === 'whole') {
    if (text.trim() === '') rejected.push({ line: 1, reason: 'the corpus is empty' });
    else documents.push({ id: `${prefix}-1`, text });
    return { documents, report: { kept: documents.length, rejected, blankLines: 0 } };
  }
  let blankLines = 0;
  let start = -1;
  let buf: string[] = [];
  const flush = () => {
    if (buf.length) documents.push({ id: `${prefix}-${start + 1}`, text: buf.join('\n') });
    buf = [];
    start = -1;
  };
  lines.forEach((l, k) => {
    if (l.trim() === '') {
      if (k < lines.length - 1 || l.length > 0) blankLines++;
      if (mode === 'paragraphs') flush();
      return;
    }
    if (mode === 'lines') {
      documents.push({ id: `${prefix}-${k + 1}`, text: l });
      return;
    }
    if (start < 0) start = k;
    buf.push(l);
  });
  flush();
  if (documents.length === 0) rejected.push({ line: 1, reason: 'the corpus has no non-blank text' });
  return { documents, report: { kept: documents.length, rejected, blankLines } };
}

/** Reads a file (strict UTF-8) and imports it as labelled text, by extension unless `format` is given. */
export async function importClassificationFile(
  path: string,
  opts: Omit<ClassificationImportOptions, 'format'> & { format?: ClassificationImportOptions['format'] },
): Promise<ImportedClassification> {
  const ext = /\.(csv|tsv|jsonl)$/i.exec(path)?.[1].toLowerCase() as
    ClassificationImportOptions['format'] | undefined;
  const format = opts.format ?? ext;
  if (!format)
    throw new DataError(`${path}: cannot tell the format from the extension; give format csv, tsv or jsonl`);
  const text = decodeUtf8(await readDatasetFile(path), path);
  const imported = importClassification(text, { ...opts, format });
  const { rejected } = imported.report;
  if (imported.classes.length < 2 && rejected.length > 0) {
    // Too few usable rows because rows were refused: name them, or the job can only count label values.
    const first = rejected
      .slice(0, 3)
      .map((r) => `line ${r.line}: ${r.reason}`)
      .join('; ');
    throw new DataError(
      `${path}: ${rejected.length} row(s) refused, ${imported.examples.length} kept (${imported.classes.length} label value(s)); ${first}`,
    );
  }
  return imported;
}
