// Parses JSON and, on failure, says where: V8's messages omit the position for some errors, so a small
// recursive-descent checker finds the first offending character and reports its line and column.

export interface JsonErrorLocation {
  line: number;
  column: number;
  message: string;
}

export type JsonParseResult = { ok: true; value: unknown } | { ok: false; error: JsonErrorLocation };

/** Arrays and objects nested deeper than this are refused before parsing (no input needs more). */
export const MAX_JSON_DEPTH = 256;

/**
 * Where nesting first passes `max`, or null: one linear scan (strings skipped), so a 200k-deep file gets a
 * line and column instead of "Maximum call stack size exceeded" from whatever walks the value.
 */
export function jsonDepthError(text: string, max = MAX_JSON_DEPTH): JsonErrorLocation | null {
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // skip a string, escapes included
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) {
        return { line, column: i - lineStart + 1, message: `nested deeper than ${max} levels` };
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
    else if (c === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return null;
}

export function parseJsonLocated(text: string): JsonParseResult {
  const deep = jsonDepthError(text);
  if (deep) return { ok: false, error: deep };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, error: locateJsonError(text) };
  }
}

class JsonSyntax extends Error {
  constructor(
    readonly pos: number,
    message: string,
  ) {
    super(message);
  }
}

/** Line and column (both 1-based) of the first syntax error in `text`. */
export function locateJsonError(text: string): JsonErrorLocation {
  let pos = 0;
  const fail = (message: string): never => {
    throw new JsonSyntax(pos, message);
  };
  const describe = (): string => (pos >= text.length ? 'end of input' : `'${text[pos]}'`);
  const ws = (): void => {
    while (pos < text.length && ' \t\n\r'.includes(text[pos])) pos++;
  };
  const literal = (word: string): void => {
    for (let i = 0; i < word.length; i++, pos++) {
      if (text[pos] !== word[i]) fail(`unexpected ${describe()} in '${word}'`);
    }
  };
  const string = (): void => {
    pos++; // opening quote
    for (;;) {
      if (pos >= text.length) fail('unterminated string');
      const c = text[pos];
      if (c === '"') {
        pos++;
        return;
      }
      if (c === '\\') {
        pos++;
        const e = text[pos];
        if (e === 'u') {
          for (let i = 1; i <= 4; i++) {
            if (!/[0-9a-fA-F]/.test(text[pos + i] ?? '')) {
              pos += i;
              fail('bad \\u escape in string');
            }
          }
          pos += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) pos++;
        else fail(`bad escape ${describe()} in string`);
      } else if (c.charCodeAt(0) < 0x20) fail('control character in string (newline not allowed)');
      else pos++;
    }
  };
  const number = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(pos));
    if (m === null || m[0] === '-' || m[0] === '') fail(`unexpected ${describe()}`);
    pos += (m as RegExpExecArray)[0].length;
  };
  const value = (): void => {
    ws();
    const c = text[pos];
    if (c === '{') {
      pos++;
      ws();
      if (text[pos] === '}') {
        pos++;
        return;
      }
      for (;;) {
        ws();
        if (text[pos] !== '"') fail(`expected a double-quoted property name, found ${describe()}`);
        string();
        ws();
        if (text[pos] !== ':') fail(`expected ':' after property name, found ${describe()}`);
        pos++;
        value();
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return;
        }
        fail(`expected ',' or '}' in object, found ${describe()}`);
      }
    } else if (c === '[') {
      pos++;
      ws();
      if (text[pos] === ']') {
        pos++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return;
        }
        fail(`expected ',' or ']' in array, found ${describe()}`);
      }
    } else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) number();
    else fail(`unexpected ${describe()}`);
  };

  let message = 'invalid JSON';
  let at = text.length;
  try {
    value();
    ws();
    if (pos < text.length) fail(`unexpected ${describe()} after the JSON value`);
  } catch (e) {
    if (!(e instanceof JsonSyntax)) throw e;
    message = e.message;
    at = e.pos;
  }
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: at - lineStart + 1, message };
}
