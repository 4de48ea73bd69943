// Text mode of the non-bin reads (docs/protocols/cmd_tcp.md §7.2, Q11: kept): every NUL, LF and CR byte is deleted,
// wherever it is, not only at the ends. The bin forms return the exact bytes.

import { latin1 } from '@labwire/framing';

function isStripped(b: number): boolean {
  return b === 0x00 || b === 0x0a || b === 0x0d;
}

/** The bytes without any NUL (0x00), LF (0x0A) or CR (0x0D). Returns the input itself when none occurs. */
export function stripTextMode(bytes: Uint8Array): Uint8Array {
  let keep = 0;
  for (let i = 0; i < bytes.length; i++) if (!isStripped(bytes[i]!)) keep++;
  if (keep === bytes.length) return bytes;
  const out = new Uint8Array(keep);
  let j = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (!isStripped(b)) out[j++] = b;
  }
  return out;
}

/** Text mode as a string: stripped, then each byte as the character of the same code (latin1, lossless). */
export function textModeString(bytes: Uint8Array): string {
  return latin1(stripTextMode(bytes));
}
