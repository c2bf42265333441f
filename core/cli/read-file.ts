// Reading the files a command is given: one regular file (not a folder, device, FIFO or socket, through
// symlinks too), at most a bounded size, strict UTF-8, a leading byte-order mark dropped (one rule for every
// text file), and a plain sentence instead of a raw ENOENT/EISDIR.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { decodeUtf8Text, TextDecodeError } from '../util/text';
import { CliError } from './errors';

/** Run configs, circuit/noise JSON, QASM and token files are small; 64 MiB is far past any real one. */
export const MAX_INPUT_FILE_BYTES = 64 * 1024 * 1024;

export function readInputFile(path: string, what: string, maxBytes = MAX_INPUT_FILE_BYTES): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`${what} not found: ${path}`);
    if (code === 'EACCES' || code === 'EPERM') throw new CliError(`${what} ${path}: permission denied`);
    throw new CliError(`cannot read ${what} ${path} (${code ?? (e as Error).message})`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new CliError(`${what} is a directory: ${path}`);
    if (!st.isFile()) throw new CliError(`${what} ${path} is not a regular file (a device, pipe or socket)`);
    if (st.size > maxBytes) {
      throw new CliError(`${what} ${path} has ${st.size} bytes; the limit is ${maxBytes}`);
    }
    const buf = Buffer.alloc(st.size);
    let at = 0;
    while (at < buf.length) {
      const n = readSync(fd, buf, at, buf.length - at, at);
      if (n === 0) break;
      at += n;
    }
    try {
      return decodeUtf8Text(buf.subarray(0, at));
    } catch (e) {
      if (e instanceof TextDecodeError) throw new CliError(`${what} ${path} ${e.message}`);
      throw e;
    }
  } finally {
    closeSync(fd);
  }
}
