// A pre-faulted buffer for the next large message. A fresh 32 MiB allocation is cheap, but the first
// write to each of its 8192 pages faults, and those faults (plus the garbage collection the external
// memory triggers) cost a streaming receiver as much as the transfer itself. Once two large frames of
// the same size arrived in a row (a stream), the next buffer of that size is allocated and touched in
// idle time (setImmediate), and the next frame is received straight into it. The buffer is then given away with the data, never reused, so no
// decoded array ever sees its memory overwritten.

/** Frames below this size are received into the reader's own buffer as usual. */
const MIN_SPARE_BYTES = 256 * 1024;

export class SpareBuffer {
  #spare: Uint8Array | undefined;
  #scheduled: ReturnType<typeof setImmediate> | undefined;
  #disposed = false;
  /** Length of the last large frame: a buffer is prepared only once a second one shows a stream. */
  #lastLength = 0;

  /** The prepared buffer, if any (the caller owns it from now on). */
  take(): Uint8Array | undefined {
    const spare = this.#spare;
    this.#spare = undefined;
    return spare;
  }

  /** Prepares a buffer of `length` bytes for the next frame, off the critical path. */
  prepare(length: number): void {
    if (this.#disposed || length < MIN_SPARE_BYTES || this.#scheduled !== undefined) return;
    // A lone large frame (a single grab) costs no second buffer; two of the same size in a row are a stream.
    const streaming = this.#lastLength === length;
    this.#lastLength = length;
    if (!streaming) return;
    if (this.#spare?.length === length) return;
    this.#scheduled = setImmediate(() => {
      this.#scheduled = undefined;
      if (this.#disposed) return;
      const b = Buffer.allocUnsafeSlow(length);
      b.fill(0);
      this.#spare = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    });
  }

  dispose(): void {
    this.#disposed = true;
    this.#spare = undefined;
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
  }
}
