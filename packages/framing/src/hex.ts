// Strict hex. Node's Buffer.from(s, 'hex') stops silently at the first bad pair and drops an odd last
// digit; a protocol tool must refuse such input instead.

import { InvalidHexError } from './errors';

const DIGITS = '0123456789abcdef';
const PAIRS: string[] = Array.from({ length: 256 }, (_, i) => DIGITS[i >> 4]! + DIGITS[i & 15]!);

/** Lowercase hex, two digits per byte, high nibble first, no separators. */
export function toHex(bytes: Uint8Array): string {
  if (bytes.length > 64) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += PAIRS[bytes[i]!];
  return s;
}

function nibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return -1;
}

/**
 * Parses hex (upper or lower case). Rejects an odd number of digits and any other character with an
 * InvalidHexError that names the offending position. The empty string is 0 bytes.
 */
export function fromHex(
  text: string,
  options: {
    /** Characters to ignore between digit pairs, e.g. ' ' or ' :\n'. Default: none (strict). */
    ignore?: string;
  } = {},
): Uint8Array {
  const ignore = options.ignore ?? '';
  let src = text;
  if (ignore !== '') {
    let kept = '';
    for (const ch of text) if (!ignore.includes(ch)) kept += ch;
    src = kept;
  }
  if (src.length % 2 !== 0) {
    throw new InvalidHexError(`hex string has an odd number of digits (${src.length})`, src.length - 1);
  }
  const out = new Uint8Array(src.length / 2);
  for (let i = 0; i < src.length; i += 2) {
    const hi = nibble(src.charCodeAt(i));
    const lo = nibble(src.charCodeAt(i + 1));
    if (hi < 0 || lo < 0) {
      const at = hi < 0 ? i : i + 1;
      throw new InvalidHexError(`invalid hex character ${JSON.stringify(src[at])}`, at);
    }
    out[i >> 1] = (hi << 4) | lo;
  }
  return out;
}

/** True when `text` is valid strict hex (even length, only hex digits). */
export function isHex(text: string): boolean {
  if (text.length % 2 !== 0) return false;
  for (let i = 0; i < text.length; i++) if (nibble(text.charCodeAt(i)) < 0) return false;
  return true;
}
