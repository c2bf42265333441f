// The one rule for every text file the lab reads (run configs, QASM, circuit and noise JSON, tokenizer.json,
// vocab/merges and token files, config.json of a model, dataset files, settings.json): strict UTF-8, and a
// leading UTF-8 byte-order mark (U+FEFF, bytes EF BB BF; some editors save one) is accepted and dropped. A
// UTF-16 or UTF-32 byte-order mark is refused by name rather than read as garbage. Nothing here knows files
// or the lab's error types: callers put their own file name and error around the message.

/** Whether the text starts with a byte-order mark. */
export function hasBom(text: string): boolean {
  return text.charCodeAt(0) === 0xfeff;
}

/** The text without its leading byte-order mark (one, if any; a second one is content). */
export function stripBom(text: string): string {
  return hasBom(text) ? text.slice(1) : text;
}

/** Why bytes are not a text file the lab reads. */
export class TextDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TextDecodeError';
  }
}

const UTF32LE = [0xff, 0xfe, 0x00, 0x00];
const UTF32BE = [0x00, 0x00, 0xfe, 0xff];

function startsWith(b: Uint8Array, sig: readonly number[]): boolean {
  return b.length >= sig.length && sig.every((x, i) => b[i] === x);
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Bytes as text under the rule above. Throws TextDecodeError with a message to follow a file name, e.g.
 * "is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8".
 */
export function decodeUtf8Text(bytes: Uint8Array): string {
  if (startsWith(bytes, UTF32LE) || startsWith(bytes, UTF32BE))
    throw new TextDecodeError('is UTF-32 (it starts with a UTF-32 byte-order mark); save it as UTF-8');
  if (startsWith(bytes, [0xff, 0xfe]) || startsWith(bytes, [0xfe, 0xff]))
    throw new TextDecodeError('is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8');
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new TextDecodeError('is not valid UTF-8');
  }
  return stripBom(text);
}
