// Hex ("bin") data of the `_bin` functions (docs/protocols/cmd_tcp.md §7.3). Reads encode each byte as two lowercase hex
// digits, high nibble first, in stream order (the docstrings' "little endian" phrase describes exactly this).
// Writes are strict (Q13): an even number of hex digits, nothing else; Pyrame's `int(pair, 16)` also takes
// " 1" and "+1", and Node's Buffer.from(s, 'hex') silently stops at the first bad pair.

import { fromHex, InvalidHexError, toHex } from '@labwire/framing';
import { InvalidBinDataError } from './errors';

/** Decodes the hex data of a `_bin` write. Throws InvalidBinDataError with Pyrame's message. */
export function decodeBinData(hex: string): Uint8Array {
  try {
    return fromHex(hex);
  } catch (e) {
    if (!InvalidHexError.isInstance(e)) throw e;
    if (hex.length % 2 !== 0) {
      // buses.py decode_bin_string
      throw new InvalidBinDataError(
        `data must have a length multiple of 2. Current length: ${hex.length}`,
        hex.length,
        { cause: e },
      );
    }
    const pair = e.offset & ~1;
    // Python's int(pair, 16) message for the pair that holds the bad digit.
    throw new InvalidBinDataError(
      `invalid literal for int() with base 16: '${hex.slice(pair, pair + 2)}'`,
      e.offset,
      { cause: e },
    );
  }
}

/** Lowercase hex, two digits per byte, high nibble first. */
export function encodeBinData(bytes: Uint8Array): string {
  return toHex(bytes);
}
