// End-of-transmission lists (docs/protocols/cmd_tcp.md §8). An eot argument is a comma-separated list of patterns, split
// on `,` before the escapes are decoded (so a literal comma is written `\x2c`). The first pattern to end in
// the stream wins; on a tie, the first in list order (`\r\n,\n` on `…\r\n` removes `\r\n`).
// Fixed on purpose (Q14): an empty pattern is an error; Pyrame accepts it and then matches erratically.

import { InvalidEotError } from './errors';
import { decodeEscapes } from './escapes';

/** Pyrame's message for a missing eot (buses.py read_until). */
export const EOT_NEEDED_MESSAGE = 'End Of Transmission (eot) parameter needed';

/** An eot argument: a Pyrame list string, one literal pattern in bytes, or a list of single patterns. */
export type Eot = string | Uint8Array | readonly (string | Uint8Array)[];

/**
 * The byte patterns of an eot argument. A string is a Pyrame list (split on `,`, each piece unescaped); a
 * Uint8Array is one pattern as is; in an array, each string is one pattern (unescaped, not split).
 * `''` and `'undef'` (Pyrame's "no value") raise InvalidEotError, as does any empty pattern.
 */
export function parseEotList(eot: Eot): Uint8Array[] {
  if (eot === '' || eot === 'undef') {
    throw new InvalidEotError(EOT_NEEDED_MESSAGE, 'an eot (end of transmission) pattern list is needed');
  }
  let patterns: Uint8Array[];
  let pieces: readonly (string | Uint8Array)[];
  if (typeof eot === 'string') {
    pieces = eot.split(',');
    patterns = pieces.map((p) => decodeEscapes(p as string));
  } else if (eot instanceof Uint8Array) {
    pieces = [eot];
    patterns = [eot];
  } else {
    pieces = eot;
    patterns = eot.map((p) => (typeof p === 'string' ? decodeEscapes(p) : p));
  }
  if (patterns.length === 0) {
    throw new InvalidEotError(EOT_NEEDED_MESSAGE, 'an eot (end of transmission) pattern list is needed');
  }
  const empty = patterns.findIndex((p) => p.length === 0);
  if (empty >= 0) {
    throw new InvalidEotError(
      `empty pattern at position ${empty} of the eot list`,
      `pattern ${empty} of the eot list ${JSON.stringify(typeof eot === 'string' ? eot : pieces.map(String))} is empty; write a literal comma as \\x2c`,
    );
  }
  return patterns;
}
