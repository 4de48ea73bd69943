// Hex on the command line: spaces, colons and line breaks between the digits are ignored.

import { UsageError } from '@labwire/cli-kit';
import { fromHex } from '@labwire/framing';

export function parseHex(text: string): Uint8Array {
  try {
    return fromHex(text, { ignore: ' :\n\t' });
  } catch (error) {
    throw new UsageError(`bad hex: ${(error as Error).message}`);
  }
}
