// GPT-2's reversible byte → printable-unicode map: the 188 printable Latin-1 bytes map to themselves, the
// other 68 to U+0100.. in byte order, so any byte string becomes a string of visible characters (vocab.json).

const byteToChar: string[] = new Array(256);
const charToByte = new Map<string, number>();

{
  const printable = (b: number): boolean =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const cp = printable(b) ? b : 256 + extra++;
    byteToChar[b] = String.fromCharCode(cp);
    charToByte.set(byteToChar[b], b);
  }
}

/** The visible character standing for byte b. */
export function byteChar(b: number): string {
  return byteToChar[b];
}

/** The byte a visible character stands for, or undefined when the character is not in the map. */
export function charByte(c: string): number | undefined {
  return charToByte.get(c);
}

/** UTF-8 bytes → GPT-2 byte-level string. */
export function bytesToUnicode(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += byteToChar[bytes[i]];
  return s;
}
