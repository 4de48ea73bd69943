// One PyMoDAQ message (command + payload values) leaves as one unit and in order. Runs of small parts
// are joined into one buffer and written with one write(); a large part (array data) is written from
// where the encoder put it, never copied.

import { concatBytes, type OperationOptions, sendAll, type WritableLike } from '@labwire/framing';

/** Parts below this size are joined; larger blocks go by reference. */
export const COALESCE_BYTES = 64 * 1024;

/** Joins runs of small parts; keeps large ones as they are (no copy of array data). */
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

export async function writeMessage(
  writable: WritableLike,
  parts: readonly Uint8Array[],
  options: OperationOptions = {},
): Promise<void> {
  // sendAll writes each chunk in order; a large one is written in slices across 'drain' events, and
  // nothing is written after it until it is out.
  for (const chunk of coalesce(parts)) await sendAll(writable, chunk, options);
}
