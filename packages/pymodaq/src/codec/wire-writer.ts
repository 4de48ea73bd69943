// Builds one message. Fields are written through one DataView into a scratch region; `finish()` copies the
// message once into a buffer of exactly its size. Large raw blocks (array data) are kept by reference, so
// they too are copied exactly once (or not at all with `parts()`).
//
// Scratch regions come from a shared arena used as a stack: a writer reserves a region on creation and
// hands it back in `release()`, so encoding a small message allocates nothing but its result. Regions never
// overlap, so writers may be nested or interleaved (a writer abandoned without release() only strands its
// region until the arena is replaced); a message that outgrows its region moves to memory of its own.

import { writeU32BE } from '@labwire/framing';
import { UnsupportedValueError } from './errors';

const ARENA_BYTES = 64 * 1024;
/** Scratch reserved per writer; messages beyond it (large lists, detector data) grow into their own memory. */
const REGION_BYTES = 4096;
/** Raw blocks at least this long are kept by reference instead of copied into the scratch. */
const BY_REFERENCE = 1024;
const U32_MAX = 0xffff_ffff;
// A lone UTF-16 surrogate has no UTF-8 form; Python's str.encode() refuses it too.
const LONE_SURROGATE = /\p{Cs}/u;

let arena = new Uint8Array(ARENA_BYTES);
let arenaView = new DataView(arena.buffer);
let arenaTop = 0;

const encoder = new TextEncoder();

/** `str` bytes (u32 n + UTF-8) of a constant string, computed once by the caller and written by `run()`. */
export function strBytes(text: string): Uint8Array {
  const body = encoder.encode(text);
  const out = new Uint8Array(4 + body.length);
  writeU32BE(out, 0, body.length);
  out.set(body, 4);
  return out;
}

/** `strBytes` of each name, by name (tags and class names written on every message). */
export function strRuns<const K extends string>(names: readonly K[]): Record<K, Uint8Array> {
  return Object.fromEntries(names.map((n) => [n, strBytes(n)])) as Record<K, Uint8Array>;
}

export interface FrameMark {
  /** Where the u32 length slot is, from the start of the scratch region. */
  readonly slot: number;
  /** Message bytes written before the frame's payload. */
  readonly start: number;
}

export class WireWriter {
  /** Backing memory of the scratch region (the arena, or memory of this writer's own once it grew). */
  #buf: Uint8Array;
  #dv: DataView;
  /** The region is #buf[#base, #cap); #pos is where the next byte goes. */
  #base: number;
  #pos: number;
  #cap: number;
  /** Blocks kept by reference, each with the region offset it stands at. */
  #blocks: { at: number; bytes: Uint8Array }[] | undefined;
  #blockBytes = 0;
  /** Set by `recordValues()`: where each float64 and raw block went. */
  #values: number[] | undefined;

  constructor() {
    if (arenaTop + REGION_BYTES > ARENA_BYTES) {
      // Regions of writers never released (or more writers alive than fit): start a new arena; the old
      // one is freed once its last writer is gone.
      arena = new Uint8Array(ARENA_BYTES);
      arenaView = new DataView(arena.buffer);
      arenaTop = 0;
    }
    this.#buf = arena;
    this.#dv = arenaView;
    this.#base = arenaTop;
    this.#pos = arenaTop;
    this.#cap = arenaTop + REGION_BYTES;
    arenaTop = this.#cap;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#pos - this.#base + this.#blockBytes;
  }

  /** Room for `n` more bytes at #pos. */
  #ensure(n: number): void {
    if (this.#pos + n > this.#cap) this.#grow(n);
  }

  #grow(n: number): void {
    const used = this.#pos - this.#base;
    const size = Math.max(used + n, 2 * (this.#cap - this.#base));
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(this.#base, this.#pos), 0);
    this.release();
    this.#buf = next;
    this.#dv = new DataView(next.buffer);
    this.#base = 0;
    this.#pos = used;
    this.#cap = size;
  }

  /** Gives the scratch region back to the arena (when it is the top one). The writer is done. */
  release(): void {
    if (this.#buf === arena && arenaTop === this.#cap) arenaTop = this.#base;
    this.#cap = this.#pos;
  }

  /** docs/protocols/pymodaq.md §2: every length, count and dimension is a u32 big-endian; negative values are refused. */
  u32(value: number, what = 'u32'): this {
    if (!Number.isInteger(value) || value < 0 || value > U32_MAX) {
      throw new UnsupportedValueError(`${what} ${value} does not fit a u32 (0..${U32_MAX})`);
    }
    this.#ensure(4);
    this.#dv.setUint32(this.#pos, value, false);
    this.#pos += 4;
    return this;
  }

  /**
   * From now on, notes the message offset of every float64 and raw block written (array data, `bytes`
   * bodies): a template's variable fields (see position-template.ts).
   */
  recordValues(): number[] {
    this.#values = [];
    return this.#values;
  }

  /** Raw bytes, no prefix. */
  raw(bytes: Uint8Array): this {
    this.#values?.push(this.length);
    if (bytes.length >= BY_REFERENCE) {
      this.#blocks ??= [];
      this.#blocks.push({ at: this.#pos - this.#base, bytes });
      this.#blockBytes += bytes.length;
      return this;
    }
    return this.run(bytes);
  }

  /** A short constant run (a tag or class name from `strBytes`): copied into the scratch. */
  run(bytes: Uint8Array): this {
    const n = bytes.length;
    this.#ensure(n);
    const buf = this.#buf;
    const at = this.#pos;
    if (n <= 32) for (let i = 0; i < n; i++) buf[at + i] = bytes[i]!;
    else buf.set(bytes, at);
    this.#pos = at + n;
    return this;
  }

  /** `u32 n` + raw bytes (`bytes` in every generation; identical to `str` on the wire). */
  lengthPrefixed(bytes: Uint8Array): this {
    return this.u32(bytes.length, 'byte length').raw(bytes);
  }

  /** A float64 in the given byte order (numeric block data). */
  f64(value: number, littleEndian: boolean): this {
    this.#values?.push(this.length);
    this.#ensure(8);
    this.#dv.setFloat64(this.#pos, value, littleEndian);
    this.#pos += 8;
    return this;
  }

  /** An int64 from a safe integer, in the given byte order. */
  i64(value: number, littleEndian: boolean): this {
    this.#ensure(8);
    const hi = Math.floor(value / 0x1_0000_0000);
    const lo = value - hi * 0x1_0000_0000;
    this.#dv.setUint32(this.#pos + (littleEndian ? 0 : 4), lo, littleEndian);
    this.#dv.setInt32(this.#pos + (littleEndian ? 4 : 0), hi, littleEndian);
    this.#pos += 8;
    return this;
  }

  u8(value: number): this {
    this.#ensure(1);
    this.#buf[this.#pos++] = value;
    return this;
  }

  /** `str`: `u32 n` + UTF-8, where n counts bytes (docs/protocols/pymodaq.md §2). */
  str(text: string): this {
    const n = text.length;
    if (n <= 64) {
      // ASCII fast path: one byte per character.
      this.#ensure(4 + n);
      const buf = this.#buf;
      const at = this.#pos + 4;
      let i = 0;
      for (; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at + i] = c;
      }
      if (i === n) {
        this.#dv.setUint32(this.#pos, n, false);
        this.#pos = at + n;
        return this;
      }
    }
    if (LONE_SURROGATE.test(text)) {
      throw new UnsupportedValueError(
        `string ${JSON.stringify(text.slice(0, 40))} holds a lone surrogate (no UTF-8 form)`,
      );
    }
    const worst = n * 3;
    if (worst >= BY_REFERENCE) return this.lengthPrefixed(Buffer.from(text, 'utf8'));
    this.#ensure(4 + worst);
    const at = this.#pos;
    const written = encoder.encodeInto(text, this.#buf.subarray(at + 4, at + 4 + worst)).written;
    this.#dv.setUint32(at, written, false);
    this.#pos = at + 4 + written;
    return this;
  }

  /**
   * Gen D: starts a u32-length frame. The length slot stays in the scratch region (blocks kept by
   * reference never hold it), so `endFrame` can fill it in once the payload is written.
   */
  beginFrame(): FrameMark {
    this.#ensure(4);
    const slot = this.#pos - this.#base;
    this.#pos += 4;
    return { slot, start: this.length };
  }

  endFrame(mark: FrameMark): this {
    const length = this.length - mark.start;
    if (length > U32_MAX) throw new UnsupportedValueError(`frame of ${length} bytes exceeds a u32 length`);
    this.#dv.setUint32(this.#base + mark.slot, length, false);
    return this;
  }

  /** The message as separate parts (blocks kept by reference stay so), for writev-style sending. */
  parts(): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.#pieces((piece, scratch) => out.push(scratch ? piece.slice() : piece));
    return out;
  }

  /** The message in one buffer of its exact size. */
  finish(): Uint8Array {
    if (this.#blocks === undefined) return this.#buf.slice(this.#base, this.#pos);
    const out = new Uint8Array(this.length);
    let at = 0;
    this.#pieces((piece) => {
      out.set(piece, at);
      at += piece.length;
    });
    return out;
  }

  /**
   * The message in one buffer from Node's buffer pool: for bytes that are written to a socket and then
   * dropped (small ones cost no allocation of their own; `buffer` is shared with other pool users).
   */
  finishTransient(): Uint8Array {
    if (this.#blocks !== undefined) return this.finish();
    const out = Buffer.allocUnsafe(this.#pos - this.#base);
    out.set(this.#buf.subarray(this.#base, this.#pos), 0);
    return out;
  }

  /** The message in order: runs of the scratch region (`scratch` true) and the blocks between them. */
  #pieces(visit: (piece: Uint8Array, scratch: boolean) => void): void {
    let from = this.#base;
    for (const block of this.#blocks ?? []) {
      const to = this.#base + block.at;
      if (to > from) visit(this.#buf.subarray(from, to), true);
      visit(block.bytes, false);
      from = to;
    }
    if (this.#pos > from) visit(this.#buf.subarray(from, this.#pos), true);
  }
}
