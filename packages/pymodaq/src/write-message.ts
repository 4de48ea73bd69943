// One PyMoDAQ message (command + payload values) leaves as one unit and in order. Small parts are
// written under cork() so Node hands them to the kernel in one writev; a large part (array data) is
// written from where the encoder put it, never copied into a joint buffer.

import { type OperationOptions, SEND_SLICE_BYTES, sendAll, type WritableLike } from '@labwire/framing';

export async function writeMessage(
  writable: WritableLike,
  parts: readonly Uint8Array[],
  options: OperationOptions = {},
): Promise<void> {
  let i = 0;
  while (i < parts.length) {
    // sendAll performs the write() of a part up to SEND_SLICE_BYTES synchronously, so a run of small
    // parts keeps its order even though their promises settle later.
    const batch: Promise<void>[] = [];
    writable.cork?.();
    try {
      while (i < parts.length && parts[i]!.length <= SEND_SLICE_BYTES) {
        batch.push(sendAll(writable, parts[i++]!, options));
      }
    } finally {
      writable.uncork?.();
    }
    await Promise.all(batch);
    // A larger part is written in slices across 'drain' events: nothing may follow until it is out.
    if (i < parts.length) await sendAll(writable, parts[i++]!, options);
  }
}
