// The stored run log (`<labDir>/logs/<id>.log`, one `<ISO time> <level> <message>` line per entry, a
// multi-line message continuing on unprefixed lines) read back as its last entries, bounded in bytes too.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { RunLog } from '../api/lab-api';

/** Bytes read from the end of the file at most, whatever maxLines asks for. */
export const LOG_TAIL_BYTES = 1024 * 1024;
const ENTRY = /^(\d{4}-\d\d-\d\dT\S+) (debug|info|warn|error) (.*)$/;

type Line = RunLog['lines'][number];

/** The last `maxLines` entries of a log's text; `cut` says the text starts mid-file (its first line is partial). */
export function parseLogTail(text: string, maxLines: number, cut: boolean): Omit<RunLog, 'runId' | 'bytes'> {
  let rows = text.split('\n');
  if (rows.at(-1) === '') rows.pop();
  if (cut) rows = rows.slice(1);
  const lines: Line[] = [];
  let dropped = false;
  for (const row of rows) {
    const m = ENTRY.exec(row);
    if (m) lines.push({ at: m[1], level: m[2] as Line['level'], message: m[3] });
    else if (lines.length > 0) lines[lines.length - 1].message += `\n${row}`;
    else dropped = true; // the rest of an entry that began before the tail
  }
  const kept = lines.slice(-maxLines);
  return { lines: kept, truncated: cut || dropped || kept.length < lines.length };
}

/** Reads the tail of a log file; a missing file is an empty log. */
export function readLogTail(
  file: string,
  maxLines: number,
  maxBytes = LOG_TAIL_BYTES,
): Omit<RunLog, 'runId'> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], truncated: false, bytes: 0 };
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - maxBytes);
    const buf = Buffer.alloc(size - start);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, start + got);
      if (n === 0) break;
      got += n;
    }
    return { ...parseLogTail(buf.subarray(0, got).toString('utf8'), maxLines, start > 0), bytes: size };
  } finally {
    closeSync(fd);
  }
}
