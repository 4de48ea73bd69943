// Length-prefixed frames: a u32 big-endian byte count, then that many payload bytes.

import { FRAME_HEADER_BYTES } from './byte-reader';
import { readU32BE, writeU32BE } from './bytes';
import type { OperationOptions } from './deadline';
import { EofError, LimitExceededError } from './errors';
import { sendAll, sendWithHead, type WritableLike } from './send-all';
import { COALESCE_BYTES } from './send-parts';

export const MAX_FRAME_LENGTH = 0xffff_ffff;

/** The 4-byte header for a payload of `length` bytes. */
export function encodeFrameHeader(length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > MAX_FRAME_LENGTH) {
    throw new RangeError(`frame length must be 0..${MAX_FRAME_LENGTH}, got ${length}`);
  }
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  writeU32BE(header, 0, length);
  return header;
}

/** Header and payload in one new buffer. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  writeU32BE(out, 0, payload.length);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/**
 * Writes one frame with backpressure and a deadline. Frames up to COALESCE_BYTES are copied into one
 * buffer and go out in a single write; larger ones as header + payload under cork(), so the payload is
 * never copied.
 */
export function writeFrame(
  writable: WritableLike,
  payload: Uint8Array,
  options: OperationOptions = {},
): Promise<void> {
  if (payload.length <= COALESCE_BYTES) return sendAll(writable, encodeFrame(payload), options);
  let header: Uint8Array;
  try {
    header = encodeFrameHeader(payload.length);
  } catch (e) {
    return Promise.reject(e);
  }
  return sendWithHead(writable, header, payload, options);
}

/**
 * Push-style decoder for stream pipelines: `push(chunk)` returns the frames completed by that chunk.
 * Payloads that lie inside one chunk are views of it (no copy); others are assembled in a buffer sized
 * exactly to the frame. A length above the limit throws LimitExceededError (after the frames completed
 * before it in the same chunk have been returned), and the decoder stays failed: the stream is unusable.
 */
export class FrameDecoder {
  readonly #maxBytes: number;
  #header = new Uint8Array(FRAME_HEADER_BYTES);
  #headerFill = 0;
  #payload: Uint8Array | undefined;
  #payloadFill = 0;
  #failed: Error | undefined;

  constructor(
    options: {
      /** The largest payload accepted. A larger prefix throws LimitExceededError before allocating. */
      maxBytes?: number;
    } = {},
  ) {
    this.#maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  }

  /** Bytes held for an incomplete frame. */
  get pendingBytes(): number {
    return this.#headerFill + this.#payloadFill;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failed) throw this.#failed;
    const frames: Uint8Array[] = [];
    try {
      this.#decode(chunk, frames);
    } catch (e) {
      // Frames completed before the bad header are delivered; the error comes with the next call.
      if (frames.length > 0) return frames;
      throw e;
    }
    return frames;
  }

  #decode(chunk: Uint8Array, frames: Uint8Array[]): void {
    let at = 0;
    const n = chunk.length;
    while (at < n) {
      if (this.#payload === undefined) {
        // Fast path: a whole header (and maybe the whole payload) inside this chunk.
        if (this.#headerFill === 0 && n - at >= FRAME_HEADER_BYTES) {
          const length = readU32BE(chunk, at);
          this.#checkLength(length);
          at += FRAME_HEADER_BYTES;
          if (n - at >= length) {
            frames.push(chunk.subarray(at, at + length));
            at += length;
            continue;
          }
          this.#startPayload(length);
          continue;
        }
        const take = Math.min(FRAME_HEADER_BYTES - this.#headerFill, n - at);
        this.#header.set(chunk.subarray(at, at + take), this.#headerFill);
        this.#headerFill += take;
        at += take;
        if (this.#headerFill < FRAME_HEADER_BYTES) break;
        const length = readU32BE(this.#header);
        this.#checkLength(length);
        this.#headerFill = 0;
        if (length === 0) {
          frames.push(new Uint8Array(0));
          continue;
        }
        this.#startPayload(length);
        continue;
      }
      const payload = this.#payload;
      const take = Math.min(payload.length - this.#payloadFill, n - at);
      payload.set(chunk.subarray(at, at + take), this.#payloadFill);
      this.#payloadFill += take;
      at += take;
      if (this.#payloadFill === payload.length) {
        frames.push(payload);
        this.#payload = undefined;
        this.#payloadFill = 0;
      }
    }
  }

  /** Declares the end of the stream: throws EofError when a frame is incomplete. */
  end(): void {
    if (this.#headerFill > 0 || this.#payload !== undefined) {
      const partial = this.#payload
        ? this.#payload.slice(0, this.#payloadFill)
        : this.#header.slice(0, this.#headerFill);
      const expected = this.#payload ? this.#payload.length : FRAME_HEADER_BYTES;
      this.#headerFill = 0;
      this.#payload = undefined;
      this.#payloadFill = 0;
      throw new EofError('FrameDecoder', partial, expected);
    }
  }

  #checkLength(length: number): void {
    if (length > this.#maxBytes) {
      this.#failed = new LimitExceededError('FrameDecoder: length prefix', this.#maxBytes, length);
      throw this.#failed;
    }
  }

  #startPayload(length: number): void {
    this.#payload = new Uint8Array(length);
    this.#payloadFill = 0;
  }
}
