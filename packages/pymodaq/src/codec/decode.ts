// Decoding without a ByteReader: from a complete buffer (`decodeValue`, `decodeMessage`) or chunk by chunk
// (`MessageDecoder`, which reports how many bytes it still needs). Same pull decoders as the stream path.

import { concatBytes, EofError, LimitExceededError } from '@labwire/framing';
import { UnsupportedValueError } from './errors';
import { decodePayloadD } from './gen-d';
import type { Position } from './messages';
import { implOf, type PymodaqProfile } from './profile';
import { FRAME, type Pull, type PullContext, runSync } from './pull';
import type { DataToExport, PyValue } from './values';
import type { ReadValueOptions, WireProfile } from './wire-profile';

/** The message parts of docs/protocols/pymodaq.md §7, as named by the WireProfile read methods. */
export interface MessageParts {
  command: string;
  string: string;
  path: string[];
  info: { name: string; value: string | number };
  position: Position;
  detector: DataToExport;
  value: PyValue;
}
export type MessagePart = keyof MessageParts;

export function pullFor<P extends MessagePart>(
  profile: PymodaqProfile,
  part: P,
  ctx: PullContext,
  opts: ReadValueOptions = {},
): Pull<MessageParts[P]> {
  const m = profile.messages;
  let pull: Pull<unknown>;
  switch (part) {
    case 'command':
      pull = m.command(ctx);
      break;
    case 'string':
      pull = m.string(ctx);
      break;
    case 'path':
      pull = m.path(ctx);
      break;
    case 'info':
      pull = m.info(ctx);
      break;
    case 'position':
      pull = m.position(ctx);
      break;
    case 'detector':
      pull = m.detector(ctx);
      break;
    default:
      pull = m.value(ctx, opts);
  }
  return pull as Pull<MessageParts[P]>;
}

/** Decodes one message part from the start of `bytes`; returns it and how many bytes it used. */
export function decodeMessage<P extends MessagePart>(
  bytes: Uint8Array,
  wireProfile: WireProfile,
  part: P,
  opts: ReadValueOptions = {},
): { value: MessageParts[P]; bytesUsed: number } {
  const profile = implOf(wireProfile);
  const ctx = profile.context({ command: part === 'command' });
  const { value, end } = runSync(pullFor(profile, part, ctx, opts), bytes, ctx);
  return { value, bytesUsed: end };
}

/**
 * Decodes exactly one value (gen D: one complete frame, length included). Bytes left over are an error;
 * use `decodeMessage(bytes, profile, 'value')` to decode a prefix. Arrays are views of `bytes`.
 */
export function decodeValue(
  bytes: Uint8Array,
  profile: PymodaqProfile,
  opts: ReadValueOptions = {},
): PyValue {
  const { value, bytesUsed } = decodeMessage(bytes, profile, 'value', opts);
  if (bytesUsed !== bytes.length) {
    throw profile.context().error(`${bytes.length - bytesUsed} byte(s) left after the value`, bytesUsed, {
      code: 'PymodaqTrailingBytes',
      got: bytes.subarray(bytesUsed),
    });
  }
  return value;
}

/** Gen D: decodes a frame payload (what `ByteReader.readFrame` / `TcpInterface.readFrame` return). */
export function decodeFramePayload(payload: Uint8Array, wireProfile: WireProfile): PyValue {
  const profile = implOf(wireProfile);
  if (!profile.framed) throw new UnsupportedValueError(`generation ${profile.generation} has no frames`);
  return decodePayloadD(payload, profile.context({ offset: 4 }));
}

/**
 * Push-style incremental decoder: `push()` chunks as they arrive, then call `next()` until it returns
 * undefined. `needed` says how many more bytes the message in progress needs. A decode error is thrown by
 * the `next()` that hits it and affects only that message: in gen D its frame has been consumed and the
 * following frames decode normally; in A–C the stream is out of step (there are no frames).
 */
export class MessageDecoder<P extends MessagePart> {
  readonly #profile: PymodaqProfile;
  readonly #part: P;
  readonly #opts: ReadValueOptions;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #pull: Pull<MessageParts[P]> | undefined;
  #ctx: PullContext | undefined;
  /** Request in progress: bytes wanted, and for FRAME whether the header has been read. */
  #want = 0;
  #frameBody = -1;

  constructor(profile: WireProfile, part: P, opts: ReadValueOptions = {}) {
    this.#profile = implOf(profile);
    this.#part = part;
    this.#opts = opts;
  }

  /** Bytes held and not yet decoded. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Bytes still missing before the message in progress can advance (0 when idle). */
  get needed(): number {
    if (this.#pull === undefined) return 0;
    return Math.max(0, this.#wanted() - this.#buffered);
  }

  #wanted(): number {
    if (this.#frameBody >= 0) return this.#frameBody;
    return this.#want === FRAME ? 4 : this.#want;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /** The next complete message part, or undefined when more bytes are needed. */
  next(): { value: MessageParts[P] } | undefined {
    if (this.#pull === undefined) {
      if (this.#buffered === 0) return undefined;
      this.#ctx = this.#profile.context({ command: this.#part === 'command' });
      this.#pull = pullFor(this.#profile, this.#part, this.#ctx, this.#opts);
      const first = this.#step(undefined);
      if (first) return first;
    }
    for (;;) {
      if (this.#buffered < this.#wanted()) return undefined;
      if (this.#want === FRAME && this.#frameBody < 0) {
        const header = this.#take(4);
        const length = ((header[0]! << 24) | (header[1]! << 16) | (header[2]! << 8) | header[3]!) >>> 0;
        if (length > this.#ctx!.limits.maxFrameBytes) {
          this.#reset();
          throw new LimitExceededError(
            'pymodaq gen D frame: length prefix',
            this.#ctx!.limits.maxFrameBytes,
            length,
          );
        }
        this.#frameBody = length;
        continue;
      }
      const n = this.#frameBody >= 0 ? this.#frameBody : this.#want;
      const bytes = this.#take(n);
      this.#ctx!.offset += this.#frameBody >= 0 ? n + 4 : n;
      this.#frameBody = -1;
      const done = this.#step(bytes);
      if (done) return done;
    }
  }

  /** Declares the end of input: throws EofError when a message is incomplete or bytes are left. */
  end(): void {
    if (this.#pull === undefined && this.#buffered === 0) return;
    const partial = concatBytes(this.#chunks);
    this.#reset();
    this.#chunks = [];
    this.#buffered = 0;
    throw new EofError(`pymodaq ${this.#part} decoder`, partial);
  }

  #step(input: Uint8Array | undefined): { value: MessageParts[P] } | undefined {
    let step: IteratorResult<number, MessageParts[P]>;
    try {
      step = input === undefined ? this.#pull!.next() : this.#pull!.next(input);
    } catch (e) {
      this.#reset();
      throw e;
    }
    if (step.done) {
      this.#reset();
      return { value: step.value };
    }
    this.#want = step.value;
    this.#frameBody = -1;
    return undefined;
  }

  #reset(): void {
    this.#pull = undefined;
    this.#ctx = undefined;
    this.#want = 0;
    this.#frameBody = -1;
  }

  #take(n: number): Uint8Array {
    this.#buffered -= n;
    if (n === 0) return new Uint8Array(0);
    const first = this.#chunks[0]!;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return out;
    }
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.#chunks[0]!;
      const k = Math.min(c.length, n - at);
      out.set(c.subarray(0, k), at);
      at += k;
      if (k === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    return out;
  }
}
