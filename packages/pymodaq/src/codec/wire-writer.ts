// Builds one message. Small fields accumulate in a scratch buffer; large raw blocks (array data) are kept
// by reference, so `finish()` copies every byte exactly once into the message buffer.

import { UnsupportedValueError } from './errors';

const SCRATCH = 256;
const MAX_SCRATCH = 64 * 1024;
const BY_REFERENCE = 1024;
const U32_MAX = 0xffff_ffff;
// A lone UTF-16 surrogate has no UTF-8 form; Python's str.encode() refuses it too.
const LONE_SURROGATE = /\p{Cs}/u;

export class WireWriter {
  readonly #parts: Uint8Array[] = [];
  #scratch = new Uint8Array(SCRATCH);
  #view = new DataView(this.#scratch.buffer);
  #pos = 0;
  #total = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.#total;
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#scratch.length) return;
    const next = Math.max(n, Math.min(this.#scratch.length * 2, MAX_SCRATCH));
    this.#flush(next);
  }

  /** Moves the filled part of the scratch buffer to the parts list (as a view: slots stay patchable). */
  #flush(nextSize = this.#scratch.length): void {
    if (this.#pos === 0 && nextSize <= this.#scratch.length) return;
    if (this.#pos > 0) this.#parts.push(this.#scratch.subarray(0, this.#pos));
    this.#scratch = new Uint8Array(nextSize);
    this.#view = new DataView(this.#scratch.buffer);
    this.#pos = 0;
  }

  /** Spec §2: every length, count and dimension is a u32 big-endian; negative values are refused. */
  u32(value: number, what = 'u32'): this {
    if (!Number.isInteger(value) || value < 0 || value > U32_MAX) {
      throw new UnsupportedValueError(`${what} ${value} does not fit a u32 (0..${U32_MAX})`);
    }
    this.#ensure(4);
    this.#view.setUint32(this.#pos, value, false);
    this.#pos += 4;
    this.#total += 4;
    return this;
  }

  /** Raw bytes, no prefix. */
  raw(bytes: Uint8Array): this {
    if (bytes.length >= BY_REFERENCE) {
      this.#flush();
      this.#parts.push(bytes);
    } else {
      this.#ensure(bytes.length);
      this.#scratch.set(bytes, this.#pos);
      this.#pos += bytes.length;
    }
    this.#total += bytes.length;
    return this;
  }

  /** `u32 n` + raw bytes (`bytes` in every generation; identical to `str` on the wire). */
  lengthPrefixed(bytes: Uint8Array): this {
    return this.u32(bytes.length, 'byte length').raw(bytes);
  }

  /** A float64 in the given byte order (numeric block data). */
  f64(value: number, littleEndian: boolean): this {
    this.#ensure(8);
    this.#view.setFloat64(this.#pos, value, littleEndian);
    this.#pos += 8;
    this.#total += 8;
    return this;
  }

  /** An int64 from a safe integer, in the given byte order. */
  i64(value: number, littleEndian: boolean): this {
    this.#ensure(8);
    const hi = Math.floor(value / 0x1_0000_0000);
    const lo = value - hi * 0x1_0000_0000;
    this.#view.setUint32(this.#pos + (littleEndian ? 0 : 4), lo, littleEndian);
    this.#view.setInt32(this.#pos + (littleEndian ? 4 : 0), hi, littleEndian);
    this.#pos += 8;
    this.#total += 8;
    return this;
  }

  u8(value: number): this {
    this.#ensure(1);
    this.#scratch[this.#pos++] = value;
    this.#total += 1;
    return this;
  }

  /** `str`: `u32 n` + UTF-8, where n counts bytes (spec §2). */
  str(text: string): this {
    const n = text.length;
    if (n <= 64) {
      // ASCII fast path: one byte per character.
      this.#ensure(4 + n);
      const at = this.#pos + 4;
      let i = 0;
      for (; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80) break;
        this.#scratch[at + i] = c;
      }
      if (i === n) {
        this.#view.setUint32(this.#pos, n, false);
        this.#pos += 4 + n;
        this.#total += 4 + n;
        return this;
      }
    }
    if (LONE_SURROGATE.test(text)) {
      throw new UnsupportedValueError(
        `string ${JSON.stringify(text.slice(0, 40))} holds a lone surrogate (no UTF-8 form)`,
      );
    }
    const worst = text.length * 3;
    if (worst >= BY_REFERENCE) return this.lengthPrefixed(Buffer.from(text, 'utf8'));
    this.#ensure(4 + worst);
    const written = encoder.encodeInto(text, this.#scratch.subarray(this.#pos + 4)).written;
    this.#view.setUint32(this.#pos, written, false);
    this.#pos += 4 + written;
    this.#total += 4 + written;
    return this;
  }

  /**
   * Gen D: starts a u32-length frame. The length slot stays in place (parts hold views, never copies of
   * the scratch buffer), so `endFrame` can fill it in once the payload is written.
   */
  beginFrame(): FrameMark {
    this.#ensure(4);
    const slot = this.#scratch.subarray(this.#pos, this.#pos + 4);
    this.#pos += 4;
    this.#total += 4;
    return { slot, start: this.#total };
  }

  endFrame(mark: FrameMark): this {
    const length = this.#total - mark.start;
    if (length > U32_MAX) throw new UnsupportedValueError(`frame of ${length} bytes exceeds a u32 length`);
    new DataView(mark.slot.buffer, mark.slot.byteOffset, 4).setUint32(0, length, false);
    return this;
  }

  /** The message as separate parts (large blocks by reference), for writev-style sending. */
  parts(): Uint8Array[] {
    this.#flush();
    return [...this.#parts];
  }

  /** The message in one buffer. */
  finish(): Uint8Array {
    if (this.#parts.length === 0) return this.#scratch.slice(0, this.#pos);
    return concat(this.parts(), this.#total);
  }
}

const encoder = new TextEncoder();

export interface FrameMark {
  readonly slot: Uint8Array;
  readonly start: number;
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
