// Link ids (docs/protocols/cmd_tcp.md §4). Pyrame's pool keys are `int(id)`, so "7", " 7", "+7" and "007" are one link.
// labwire also takes names ("dmm"): any other non-empty string is an id as it stands.

import { InvalidIdError } from './errors';

/** A link id as callers give it. */
export type LinkId = string | number;

// What Python's int() accepts for base 10 (no underscores in Python 2): spaces, a sign, digits.
const INT_LITERAL = /^[ \t\n\r\v\f]*([+-]?)([0-9]+)[ \t\n\r\v\f]*$/;

/** The canonical form of an id: a decimal integer string for whole numbers, else the string as given. */
export function canonicalLinkId(id: LinkId): string {
  if (typeof id === 'number') {
    if (!Number.isSafeInteger(id)) throw new InvalidIdError(id);
    return String(id);
  }
  if (typeof id !== 'string' || id.length === 0) throw new InvalidIdError(id);
  const m = INT_LITERAL.exec(id);
  if (m === null) return id;
  return BigInt(`${m[1]}${m[2]}`).toString();
}

/** The integer value of a canonical id, or undefined for a named id. */
export function integerLinkId(id: string): number | undefined {
  if (!/^-?\d+$/.test(id)) return undefined;
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : undefined;
}
