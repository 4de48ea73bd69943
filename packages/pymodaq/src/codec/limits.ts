// Size limits the decoder checks before it allocates what a length prefix claims (docs/protocols/pymodaq.md §2: every length
// is a u32, so a hostile peer can claim up to 4 GiB per field).

import { LimitExceededError } from '@labwire/framing';

export interface CodecLimits {
  /** Largest `str` / `bytes` body, in bytes. Default 16 MiB. */
  readonly maxStringBytes: number;
  /** Largest array or scalar data block, in bytes. Default 256 MiB. */
  readonly maxArrayBytes: number;
  /** Most items in one list (also tuples, dicts, DataWithAxes fields). Default 1 048 576. */
  readonly maxListItems: number;
  /** Most dimensions of one array (numpy allows 64). Default 64. */
  readonly maxDims: number;
  /** Deepest nesting of containers (lists in lists, DataToExport > DataWithAxes > Axis …). Default 32. */
  readonly maxDepth: number;
  /** Largest gen D frame payload, in bytes. Default 256 MiB + 64 KiB (room for one maximal array). */
  readonly maxFrameBytes: number;
  /**
   * Largest command (A–C: the `str`; D: the frame payload), in bytes. Commands are short constant
   * strings, so a larger length shows a stream out of step at once. Default 4 KiB.
   */
  readonly maxCommandBytes: number;
  /**
   * Largest message part read from a stream (a DataToExport after `Done`, an XML string …), in bytes,
   * all its blocks together: each request beyond it is refused before it is read. Gen A–C have no outer
   * frame, so without it a message of many blocks, each within its own limit, could grow without end.
   * Default 256 MiB + 64 KiB.
   */
  readonly maxMessageBytes: number;
}

export const DEFAULT_LIMITS: CodecLimits = Object.freeze({
  maxStringBytes: 16 * 1024 * 1024,
  maxArrayBytes: 256 * 1024 * 1024,
  maxListItems: 1024 * 1024,
  maxDims: 64,
  maxDepth: 32,
  maxFrameBytes: 256 * 1024 * 1024 + 64 * 1024,
  maxCommandBytes: 4 * 1024,
  maxMessageBytes: 256 * 1024 * 1024 + 64 * 1024,
});

export function resolveLimits(partial: Partial<CodecLimits> | undefined): CodecLimits {
  const limits = { ...DEFAULT_LIMITS, ...partial };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(`limits.${key} must be a whole number >= 0, got ${String(value)}`);
    }
  }
  return Object.freeze(limits);
}

/** Throws LimitExceededError when `actual` is above `limit`; nothing has been allocated yet. */
export function checkLimit(what: string, limit: number, actual: number): void {
  if (actual > limit) throw new LimitExceededError(what, limit, actual);
}
