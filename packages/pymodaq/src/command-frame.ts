// Reading a command. A command is a `str` in gen A–C (u32 n + n bytes of UTF-8, which is exactly a
// length-prefixed frame) and a frame holding a tagged `str` in gen D, so in every generation it is read
// with one atomic readFrame: a read that times out or is aborted consumes nothing.

import type { ByteReader, OperationOptions } from '@labwire/framing';
import { decodeFramePayload, PymodaqDecodeError, type PymodaqProfile, pyTypeName } from './codec';
import { frameAtHand } from './codec/pull';

/** A command string is short: a longer first frame is not a command (checked before allocating). */
export const MAX_COMMAND_BYTES = 1024 * 1024;

const AT_HAND = { maxBytes: MAX_COMMAND_BYTES, timeoutMs: Number.POSITIVE_INFINITY };

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Reads one command; a frame that is not one raises PymodaqDecodeError (gen D: the frame is consumed). */
export async function readCommandFrame(
  reader: ByteReader,
  profile: PymodaqProfile,
  options: OperationOptions = {},
): Promise<string> {
  // A command already buffered is read at once: no deadline timer, no abort listener.
  const atHand = options.signal?.aborted !== true && frameAtHand(reader);
  const frame = await reader.readFrame(atHand ? AT_HAND : { ...options, maxBytes: MAX_COMMAND_BYTES });
  return commandOf(frame, profile);
}

/** The command held by a frame payload. */
export function commandOf(frame: Uint8Array, profile: PymodaqProfile): string {
  if (!profile.framed) {
    try {
      return UTF8.decode(frame);
    } catch (e) {
      throw new PymodaqDecodeError('command: invalid UTF-8', 4, {
        code: 'PymodaqInvalidUtf8',
        got: frame,
        cause: e,
      });
    }
  }
  const value = decodeFramePayload(frame, profile);
  if (typeof value !== 'string') {
    throw new PymodaqDecodeError(`expected a command (str), got ${pyTypeName(value)}`, 4, {
      code: 'PymodaqUnexpectedValue',
    });
  }
  return value;
}
