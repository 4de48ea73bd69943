// Backslash escapes in write data, eot patterns and expect patterns (docs/protocols/cmd_tcp.md §7.1). Pyrame decodes them
// with Python 2's `string_escape` codec; this is the same decoder, plus `\e` = 0x1B, which Pyrame documents
// but does not implement (Q7: labwire is a superset). Characters that are not part of an escape are written
// as UTF-8 (identical to ASCII for instrument commands).

import { InvalidEscapeError } from './errors';

const encoder = new TextEncoder();

/** Python's messages for the two escapes `string_escape` refuses. */
export const INVALID_X_ESCAPE_MESSAGE = 'invalid \\x escape';
export const TRAILING_BACKSLASH_MESSAGE = 'Trailing \\ in string';

// Single-character escapes -> byte (Python 2 string_escape, plus \e).
const SIMPLE: Readonly<Record<string, number>> = {
  '\\': 0x5c,
  "'": 0x27,
  '"': 0x22,
  a: 0x07,
  b: 0x08,
  t: 0x09,
  n: 0x0a,
  v: 0x0b,
  f: 0x0c,
  r: 0x0d,
  e: 0x1b,
};

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function isOctal(c: number): boolean {
  return c >= 48 && c <= 55;
}

/**
 * Decodes backslash escapes into bytes:
 * `\\ \' \" \a \b \t \n \v \f \r \e`, `\xHH` (exactly two hex digits), `\o`…`\ooo` (octal, modulo 256 as in
 * Python 2), backslash-newline (removed); any other `\c` stays as the two characters. `\x` without two hex
 * digits and a trailing lone `\` raise InvalidEscapeError with Python's message.
 */
export function decodeEscapes(text: string): Uint8Array {
  if (!text.includes('\\')) return encoder.encode(text);
  const out: number[] = [];
  let run = 0; // start of the current run of literal characters
  const flush = (to: number) => {
    if (to > run) for (const b of encoder.encode(text.slice(run, to))) out.push(b);
  };
  let i = 0;
  while (i < text.length) {
    if (text.charCodeAt(i) !== 0x5c) {
      i++;
      continue;
    }
    flush(i);
    const at = i;
    i++;
    if (i >= text.length) throw new InvalidEscapeError(TRAILING_BACKSLASH_MESSAGE, text, at);
    const c = text[i]!;
    const code = text.charCodeAt(i);
    i++;
    const simple = SIMPLE[c];
    if (simple !== undefined) {
      out.push(simple);
    } else if (c === '\n') {
      // line continuation: nothing
    } else if (isOctal(code)) {
      let value = code - 48;
      for (let k = 0; k < 2 && i < text.length && isOctal(text.charCodeAt(i)); k++, i++) {
        value = (value << 3) + text.charCodeAt(i) - 48;
      }
      out.push(value & 0xff);
    } else if (c === 'x') {
      const hi = i < text.length ? hexDigit(text.charCodeAt(i)) : -1;
      const lo = i + 1 < text.length ? hexDigit(text.charCodeAt(i + 1)) : -1;
      if (hi < 0 || lo < 0) throw new InvalidEscapeError(INVALID_X_ESCAPE_MESSAGE, text, at);
      out.push((hi << 4) | lo);
      i += 2;
    } else {
      // Unknown escape: Python keeps the backslash and the character as they are.
      run = at;
      continue;
    }
    run = i;
  }
  flush(text.length);
  return Uint8Array.from(out);
}

export interface EscapeOptions {
  /** Also escape `,` (as `\x2c`), for a pattern inside an eot list. Default false. */
  comma?: boolean;
}

/**
 * The inverse of `decodeEscapes`: printable ASCII stays, `\` becomes `\\`, TAB/LF/CR become `\t` `\n` `\r`, every
 * other byte `\xHH`. `decodeEscapes(encodeEscapes(b))` gives back `b` for any bytes.
 */
export function encodeEscapes(bytes: Uint8Array, options: EscapeOptions = {}): string {
  let s = '';
  for (const b of bytes) {
    if (b === 0x5c) s += '\\\\';
    else if (b === 0x0a) s += '\\n';
    else if (b === 0x0d) s += '\\r';
    else if (b === 0x09) s += '\\t';
    else if (b === 0x2c && options.comma) s += '\\x2c';
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return s;
}
