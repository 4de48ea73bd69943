// `pymodaq decode`: a captured frame explained as JSON, field by field.

import { fromHex } from '@labwire/framing';
import { type ExplainOptions, type Explanation, explainFrame, resolveProfile } from '@labwire/pymodaq/codec';

/** Parses hex (spaces, colons and a 0x prefix allowed) and explains it under the generation's profile. */
export function decodeHex(protocol: string, hex: string, options: ExplainOptions = {}): Explanation {
  const cleaned = hex.replace(/^0x/i, '').replace(/[\s:]/g, '');
  return explainFrame(fromHex(cleaned), resolveProfile(protocol), options);
}
