// Pre-faulted buffers for the next large messages. A fresh 32 MiB allocation is cheap, but the first
// write to each of its 8192 pages faults, and those faults (plus the garbage collection the external
// memory triggers) cost a streaming receiver as much as the transfer itself. Once two large frames of
// the same size arrived in a row (a stream), the next buffer of that size is allocated and touched in
// idle time (setImmediate), and the next frame is received straight into it. A buffer is then given away
// with the data, never reused by the receiver, so no decoded array ever sees its memory overwritten; only
// the user of the data may hand it back (`PymodaqServer.release` → `recycle`) once nothing refers to it
// any more (a viewer that drew the frame, a bridge that forwarded it). Handed-back buffers cost no page
// faults at all: in this VM a fresh 32 MiB buffer costs about 130 ms of CPU in page faults, a reused one
// 2.5 ms to fill. Once a user has handed a buffer back, no buffer is prepared any more: the frames' own
// buffers come back (at most two: one being drawn or forwarded, one arriving), and a buffer prepared in
// the meantime would be faulted in for nothing.

import type { DataToExport } from './codec';

/** The largest array block of a gen A–C message (the part received into a prepared buffer). */
export function largestArrayBytes(data: DataToExport): number {
  let largest = 0;
  for (const dwa of data.data)
    for (const array of dwa.data) largest = Math.max(largest, array.data.byteLength);
  return largest;
}

/** Frames below this size are received into the reader's own buffer as usual. */
export const MIN_SPARE_BYTES = 256 * 1024;

/**
 * The memory behind the large arrays of `data` (each whole buffer once): what a handed-back frame gives
 * back. Arrays below MIN_SPARE_BYTES live in the reader's own memory and are never handed back.
 */
export function largeBuffers(data: DataToExport): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const dwa of data.data) {
    for (const array of dwa.data) {
      const bytes = array.data;
      if (bytes.byteLength < MIN_SPARE_BYTES) continue;
      const buffer = bytes.buffer;
      if (out.some((b) => b.buffer === buffer)) continue;
      out.push(new Uint8Array(buffer));
    }
  }
  return out;
}
/** Buffers kept ready at most (one being filled while the one before is still forwarded). */
const MAX_SPARES = 2;

export class SpareBuffer {
  readonly #spares: Uint8Array[] = [];
  #scheduled: ReturnType<typeof setImmediate> | undefined;
  #disposed = false;
  /** Length of the last large frame: a buffer is prepared only once a second one shows a stream. */
  #lastLength = 0;
  /** The owner hands buffers back: they feed the stream, none is prepared. */
  #recycling = false;

  /** A prepared buffer, if any (the caller owns it from now on). */
  take(): Uint8Array | undefined {
    return this.#spares.pop();
  }

  /** Prepares a buffer of `length` bytes for the next frame, off the critical path. */
  prepare(length: number): void {
    if (this.#disposed || length < MIN_SPARE_BYTES || this.#scheduled !== undefined) return;
    // A lone large frame (a single grab) costs no second buffer; two of the same size in a row are a stream.
    const streaming = this.#lastLength === length;
    this.#lastLength = length;
    if (!streaming) {
      this.#spares.length = 0;
      return;
    }
    if (this.#spares.length > 0 || this.#recycling) return;
    this.#scheduled = setImmediate(() => {
      this.#scheduled = undefined;
      // A buffer handed back meanwhile makes a new one unnecessary.
      if (this.#disposed || this.#spares.length > 0) return;
      const b = Buffer.allocUnsafeSlow(length);
      b.fill(0);
      this.#spares.push(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    });
  }

  /**
   * Takes back a buffer the data of an earlier frame lived in, once nothing refers to it any more: it
   * becomes a next frame's buffer when it fits the stream's frames (and is not too large to keep).
   * Returns whether it was kept.
   */
  recycle(buffer: Uint8Array): boolean {
    const want = this.#lastLength;
    this.#recycling = true;
    if (this.#disposed || this.#spares.length >= MAX_SPARES || want < MIN_SPARE_BYTES) return false;
    if (buffer.length < want || buffer.length > 2 * want) return false;
    this.#spares.push(buffer);
    return true;
  }

  dispose(): void {
    this.#disposed = true;
    this.#spares.length = 0;
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
  }
}
