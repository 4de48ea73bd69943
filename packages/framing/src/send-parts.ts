// The coalescing writer: one message made of several parts leaves as one unit and in order. Runs of small
// parts are joined into one buffer and handed to write() once (a request leaves in one TCP segment);
// a large part (array data, a big frame payload) is written from where the encoder put it, never copied.

import { concatBytes } from './bytes';
import type { OperationOptions } from './deadline';
import { sendAll, type WritableLike } from './send-all';

/** Parts below this size are joined into one write; larger ones go by reference. */
export const COALESCE_BYTES = 64 * 1024;

/** Joins runs of small parts (up to COALESCE_BYTES per run); keeps large ones as they are (no copy). */
export function coalesce(parts: readonly Uint8Array[]): Uint8Array[] {
  if (parts.length <= 1) return [...parts];
  const out: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let runBytes = 0;
  const flush = () => {
    if (run.length === 1) out.push(run[0]!);
    else if (run.length > 1) out.push(concatBytes(run));
    run = [];
    runBytes = 0;
  };
  for (const part of parts) {
    if (part.length >= COALESCE_BYTES) {
      flush();
      out.push(part);
    } else {
      if (runBytes + part.length > COALESCE_BYTES) flush();
      run.push(part);
      runBytes += part.length;
    }
  }
  flush();
  return out;
}

/**
 * sendAll of a message made of `parts`, coalesced: each chunk waits for the one before it (a large one
 * goes in slices across 'drain' events), all under the caller's signal and the per-chunk deadline.
 */
export async function sendParts(
  writable: WritableLike,
  parts: readonly Uint8Array[],
  options: OperationOptions = {},
): Promise<void> {
  for (const chunk of coalesce(parts)) await sendAll(writable, chunk, options);
}
