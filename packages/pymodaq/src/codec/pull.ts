// The pull decoder. Every decoder is a generator that asks for the bytes it needs next, `ctx.take(n) ??
// (yield n)`, and receives exactly those bytes; it never sees more. The same decoder then runs
// - over a Uint8Array (sync; `decodeValue`, gen D frame payloads): every take succeeds, nothing yields;
// - over a ByteReader (async): takes are served from what the reader already holds (a peek, consumed
//   afterwards with one readExactly of exactly the bytes used); a request beyond that yields and becomes
//   one readExactly (or one atomic readFrame in gen D), so nothing is ever over-read;
// - pushed chunk by chunk (`MessageDecoder`, which can report how many bytes it still needs).

import {
  type ByteReader,
  concatBytes,
  EofError,
  encodeFrameHeader,
  LimitExceededError,
  type OperationOptions,
  readU32BE,
  withDeadline,
} from '@labwire/framing';
import {
  MessageInterruptedError,
  PymodaqDecodeError,
  type PymodaqDecodeErrorOptions,
  TruncatedError,
} from './errors';
import type { CodecLimits } from './limits';

/**
 * A decoder: yields a byte count, receives exactly that many bytes, returns the value. It may also yield
 * FRAME to receive the payload of one whole u32-length frame (gen D): over a ByteReader that is one atomic
 * `readFrame`, so a timeout never leaves half a frame consumed.
 */
export type Pull<T> = Generator<number, T, Uint8Array>;

/** Request for one u32-BE-length frame; the decoder receives its payload (ctx.offset moves by 4 + length). */
export const FRAME = -1;

function checkFrameLength(ctx: PullContext, length: number, at: number): void {
  if (length > ctx.limits.maxFrameBytes) {
    throw new LimitExceededError(
      `pymodaq gen D frame at offset ${at}: length prefix`,
      ctx.limits.maxFrameBytes,
      length,
    );
  }
}

/** One decoded field, for `explainFrame`. */
export interface TraceEntry {
  /** Offset of the field's first byte from the start of the message. */
  readonly offset: number;
  readonly length: number;
  /** Dotted path of the field, e.g. `DataToExport.data[0].timestamp`. */
  readonly field: string;
  /** What the bytes mean, e.g. `str "DataActuator"`, `u32 1 (items)`. */
  readonly meaning: string;
}

export class PullContext {
  /** Bytes delivered to the decoder so far, from the start of the message. */
  offset = 0;
  depth = 0;
  readonly path: string[] = [];
  readonly limits: CodecLimits;
  readonly trace: TraceEntry[] | undefined;
  /** Bytes available without yielding (take mode), and the read position in them. */
  src: Uint8Array | undefined = undefined;
  pos = 0;

  constructor(limits: CodecLimits, options: { offset?: number; trace?: boolean } = {}) {
    this.limits = limits;
    this.offset = options.offset ?? 0;
    this.trace = options.trace ? [] : undefined;
  }

  /** `n` bytes when they are at hand (take mode), else undefined: then the decoder yields `n`. */
  take(n: number): Uint8Array | undefined {
    const src = this.src;
    if (n === 0) return EMPTY;
    if (src === undefined || this.pos + n > src.length) return undefined;
    const out = src.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.offset += n;
    return out;
  }

  /** A whole u32-length frame's payload when it is at hand, else undefined: then the decoder yields FRAME. */
  takeFrame(): Uint8Array | undefined {
    const src = this.src;
    if (src === undefined || this.pos + 4 > src.length) return undefined;
    const length = readU32BE(src, this.pos);
    checkFrameLength(this, length, this.offset);
    if (this.pos + 4 + length > src.length) return undefined;
    const out = src.subarray(this.pos + 4, this.pos + 4 + length);
    this.pos += 4 + length;
    this.offset += 4 + length;
    return out;
  }

  /** Appends a field name to the path used by errors and traces. */
  enter(name: string): void {
    this.path.push(name);
  }

  leave(): void {
    this.path.pop();
  }

  /** Enters list item `i` (`[i]` in the path). */
  enterItem(i: number): void {
    this.path.push(i < ITEM_NAMES.length ? ITEM_NAMES[i]! : `[${i}]`);
  }

  /** Enters a container level, checking the nesting limit. */
  down(): void {
    if (this.depth >= this.limits.maxDepth) {
      throw this.error(`nesting deeper than the limit of ${this.limits.maxDepth}`, this.offset, {
        code: 'PymodaqTooDeep',
      });
    }
    this.depth++;
  }

  up(): void {
    this.depth--;
  }

  get field(): string {
    return this.path.join('.').replace(/\.\[/g, '[');
  }

  /** A decode error at `offset` naming the current field. */
  error(
    message: string,
    offset: number,
    options: Omit<PymodaqDecodeErrorOptions, 'field'> = {},
  ): PymodaqDecodeError {
    return new PymodaqDecodeError(message, offset, { ...options, field: this.field || undefined });
  }

  /** Records a field for explainFrame; `meaning` is only built when tracing. */
  note(offset: number, length: number, meaning: () => string): void {
    this.trace?.push({ offset, length, field: this.field, meaning: meaning() });
  }

  /**
   * The error for a request of `n` bytes (or FRAME) beyond the bytes at hand: what a decoder over a
   * complete buffer raises when the value runs past its end.
   */
  truncated(n: number): TruncatedError {
    const src = this.src ?? EMPTY;
    const left = src.length - this.pos;
    let needed = n - left;
    if (n === FRAME) {
      needed = left < 4 ? 4 - left : 4 + readU32BE(src, this.pos) - left;
    }
    return new TruncatedError(needed, this.offset, this.field || undefined);
  }
}

const EMPTY = new Uint8Array(0);
/** Path names of the first list items, made once. */
const ITEM_NAMES = Array.from({ length: 64 }, (_, i) => `[${i}]`);

/**
 * Runs a decoder to its end over the bytes at hand (take mode, `ctx.src` set); a request beyond them is a
 * TruncatedError. Sync decoders use it for the general path of a field whose fast path declined.
 */
export function pullNow<T>(ctx: PullContext, decoder: Pull<T>): T {
  const step = decoder.next();
  if (step.done) return step.value;
  decoder.return(undefined as never);
  throw ctx.truncated(step.value);
}

/**
 * Runs a sync decode over `bytes` from `start` (take mode). Returns the value and the offset after it; the
 * caller's bytes at hand are restored afterwards (a gen D payload is decoded inside a larger message).
 */
export function decodeAt<T>(
  ctx: PullContext,
  bytes: Uint8Array,
  start: number,
  decode: (ctx: PullContext) => T,
): { value: T; end: number } {
  const savedSrc = ctx.src;
  const savedPos = ctx.pos;
  ctx.src = bytes;
  ctx.pos = start;
  try {
    const value = decode(ctx);
    return { value, end: ctx.pos };
  } finally {
    ctx.src = savedSrc;
    ctx.pos = savedPos;
  }
}

/**
 * Runs a decoder over `bytes` from `start` (take mode: it never yields unless the bytes run out). Returns
 * the value and the offset after it; a decoder that wants more than is there raises TruncatedError.
 */
export function runSync<T>(
  decoder: Pull<T>,
  bytes: Uint8Array,
  ctx: PullContext,
  start = 0,
): { value: T; end: number } {
  return decodeAt(ctx, bytes, start, (c) => pullNow(c, decoder));
}

/**
 * Whether a message read could start on the reader at once: no message read holds its turn and no read
 * is queued. Then what is buffered is the start of the next message.
 */
export function readerIdle(reader: ByteReader): boolean {
  return reader.pending === 0 && !turns.has(reader);
}

/** Whether `n` bytes are buffered with no read queued before them: reading them cannot wait. */
export function bytesAtHand(reader: ByteReader, n: number): boolean {
  return reader.pending === 0 && reader.buffered >= n;
}

/**
 * Scratch memory for looking at the head of a reader without allocating (ByteReader.peekInto): small
 * messages (commands, positions: a gen D DataActuator frame is 265 bytes) are matched here on the hot
 * paths. Used synchronously only, and nothing decoded from it may refer to it.
 */
export const PEEK_SCRATCH = new Uint8Array(1024);
const HEADER_SCRATCH = new Uint8Array(4);

/** Whether a whole u32-length frame is buffered with no read queued before it. */
export function frameAtHand(reader: ByteReader): boolean {
  if (!bytesAtHand(reader, 4)) return false;
  reader.peekInto(HEADER_SCRATCH);
  return 4 + readU32BE(HEADER_SCRATCH) <= reader.buffered;
}

/** How much of the reader's buffer a decode looks at without consuming it (small messages need no more). */
const PEEK_BYTES = 1024;

/** The last message read queued on each reader: message reads take turns, never interleave. */
const turns = new WeakMap<ByteReader, Promise<void>>();

/** Waits for the previous message read on the reader, under the caller's deadline and signal. */
function waitTurn(
  previous: Promise<void>,
  operation: string,
  timeoutMs: number | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  return withDeadline(previous, operation, timeoutMs ?? Number.POSITIVE_INFINITY, signal);
}

/** Options of a message read. */
export interface ReadOnReaderOptions extends OperationOptions {
  /**
   * The first frame (gen D), or the first request of at least INTO_MIN_BYTES (an array block in A–C), is
   * received into this memory when it fits (see ReadDetectorOptions).
   */
  into?: Uint8Array;
}

/** Requests below this size are not worth caller memory (headers, small arrays): the reader's buffer. */
export const INTO_MIN_BYTES = 256 * 1024;

/** How a message read uses its reader (see runOnReader). */
export interface ReadPlan {
  /**
   * After what is buffered, the decoder makes at most one request of the reader (a gen D part of one
   * frame): it needs no turn of its own.
   */
  singleRead?: boolean;
}

/** A message read's place in the order of message reads on its reader, claimed only when needed. */
class Turn {
  #tail: Promise<void> | undefined;
  #release: (() => void) | undefined;

  constructor(readonly reader: ByteReader) {}

  /** Queues this read after `previous` (the reads already in line), so later ones wait for it. */
  claim(previous?: Promise<void>): void {
    if (this.#tail !== undefined) return;
    const mine = new Promise<void>((resolve) => {
      this.#release = resolve;
    });
    const tail = previous ? previous.then(() => mine) : mine;
    turns.set(this.reader, tail);
    this.#tail = tail;
  }

  release(): void {
    const tail = this.#tail;
    if (tail === undefined) return;
    this.#release!();
    // The chain settles once every earlier message read has too; only then may the entry go.
    void tail.then(() => {
      if (turns.get(this.reader) === tail) turns.delete(this.reader);
    });
  }
}

/** Where bytes already copied out with `peek` go when they are consumed: nothing ever reads it. */
const SINK = new Uint8Array(PEEK_BYTES);
const INTO_SINK = { timeoutMs: Number.POSITIVE_INFINITY, into: SINK };
const AT_ONCE = { timeoutMs: Number.POSITIVE_INFINITY };

/**
 * Consumes `n` buffered bytes the caller has already copied with `peek` (so the reader's copy of them
 * needs no allocation). With nothing queued before it, the reader takes them at once.
 */
export function consumePeeked(reader: ByteReader, n: number): Promise<Uint8Array> {
  // Taken at once and without a copy when nothing is in line (the usual case); else queued as a read.
  if (reader.discard(n)) return PEEKED;
  return reader.readExactly(n, n <= SINK.length ? INTO_SINK : AT_ONCE);
}

/** What consumePeeked returns when the reader took the bytes at once (nobody reads its value). */
const PEEKED: Promise<Uint8Array> = Promise.resolve(new Uint8Array(0));

/**
 * Runs a decoder over a ByteReader under one deadline (`timeoutMs` counts for the whole message, waiting
 * for an earlier message read included) and one signal. Message reads on one reader take turns in call
 * order: each is a sequence of reads that must not interleave with another message's. A read that makes
 * a single request of the reader cannot interleave (the reader's own queue keeps requests in order), so it
 * only takes a turn when another message read is in line before it.
 * What the reader already holds is decoded in place and then consumed with one readExactly of exactly the
 * bytes used (a message that has arrived whole is read without waiting for anything); further requests
 * wait for the stream (gen D: one atomic readFrame per frame). A failure before the first byte leaves the
 * stream untouched and is rethrown as is; EOF later becomes an EofError with every byte of the message
 * that arrived; any other failure later becomes a MessageInterruptedError (the stream is mid-message). A
 * decode error consumes the bytes decoded so far (in gen D: exactly the bad frame).
 */
export function runOnReader<T>(
  decoder: Pull<T>,
  reader: ByteReader,
  ctx: PullContext,
  operation: string,
  opts: ReadOnReaderOptions = {},
  plan: ReadPlan = {},
): Promise<T> {
  const previous = turns.get(reader);
  const read = new MessageRead(decoder, reader, ctx, operation, opts, plan);
  if (previous === undefined) {
    // First round at once: a message the reader holds whole is decoded and consumed right here.
    read.decodeAtHand();
    if (read.consumedAtOnce()) {
      if (read.failure !== undefined) return read.abandon(read.failure);
      if (read.step!.done) return Promise.resolve(read.step!.value);
    }
  }
  return read.finish(previous);
}

class MessageRead<T> {
  step: IteratorResult<number, T> | undefined;
  failure: unknown;
  readonly #turn: Turn;
  #started = false;
  #input: Uint8Array | undefined;
  /** Bytes of the message consumed so far, kept for the EofError of a later request. */
  readonly #received: Uint8Array[] = [];
  #consumed = 0;
  /** Bytes the last round decoded in place and their consumption, if the reader did not complete it at once. */
  #taken: Uint8Array | undefined;
  #consuming: Promise<Uint8Array> | undefined;
  /** Caller memory for the first frame, until a frame request used it. */
  #into: Uint8Array | undefined;

  constructor(
    readonly decoder: Pull<T>,
    readonly reader: ByteReader,
    readonly ctx: PullContext,
    readonly operation: string,
    readonly opts: ReadOnReaderOptions,
    readonly plan: ReadPlan,
  ) {
    this.#turn = new Turn(reader);
    this.#into = opts.into;
  }

  /** Steps the decoder, in place over what is buffered unless an earlier read queued on the reader owns it. */
  decodeAtHand(): void {
    const { reader, ctx } = this;
    if (this.opts.signal?.aborted !== true && reader.pending === 0 && reader.buffered > 0) {
      ctx.src = reader.peek(PEEK_BYTES);
      ctx.pos = 0;
    }
    this.step = undefined;
    this.failure = undefined;
    try {
      this.step = this.#started ? this.decoder.next(this.#input!) : this.decoder.next();
    } catch (e) {
      this.failure = e;
    }
    this.#started = true;
    // More requests follow: from now on no other message read may slip in between them.
    if (this.step?.done === false && !this.plan.singleRead) this.#turn.claim();
    const used = ctx.src === undefined ? 0 : ctx.pos;
    const taken = ctx.src?.subarray(0, used);
    ctx.src = undefined;
    ctx.pos = 0;
    if (used === 0) return;
    // Those bytes are buffered and this read is first in the queue: the reader hands them over at once.
    const before = reader.buffered;
    const consuming = consumePeeked(reader, used);
    if (reader.buffered === before - used) this.#took(taken!);
    else {
      this.#taken = taken;
      this.#consuming = consuming;
    }
  }

  /** Whether the last round's bytes are consumed (else the reader refused them, e.g. it was closed). */
  consumedAtOnce(): boolean {
    return this.#consuming === undefined;
  }

  #took(taken: Uint8Array): void {
    this.#received.push(taken);
    this.#consumed += taken.length;
  }

  abandon(e: unknown): Promise<never> {
    this.decoder.return(undefined as never);
    return Promise.reject(e);
  }

  /** The rest of the message: waits for its turn (after `previous`) and for the stream, round by round. */
  async finish(previous: Promise<void> | undefined): Promise<T> {
    try {
      let timeoutMs = this.opts.timeoutMs;
      if (previous !== undefined) {
        const start = Date.now();
        this.#turn.claim(previous);
        await waitTurn(previous, this.operation, timeoutMs, this.opts.signal);
        if (timeoutMs !== undefined) timeoutMs = Math.max(0, timeoutMs - (Date.now() - start));
        this.decodeAtHand();
      }
      const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
      for (;;) {
        if (this.#consuming !== undefined) {
          const consuming = this.#consuming;
          this.#consuming = undefined;
          try {
            await consuming;
          } catch (e) {
            this.#fail(e, 0);
          }
          this.#took(this.#taken!);
        }
        if (this.failure !== undefined) throw this.failure;
        if (this.step!.done) return this.step!.value;
        this.#input = await this.#request(this.step!.value, deadline);
        this.decodeAtHand();
      }
    } catch (e) {
      this.decoder.return(undefined as never);
      throw e;
    } finally {
      this.#turn.release();
    }
  }

  /** The decoder's request of `n` bytes (or a FRAME) from the stream. */
  async #request(n: number, deadline: number | undefined): Promise<Uint8Array> {
    const { reader, ctx } = this;
    // The whole message part stays within maxMessageBytes (checked before the bytes are read).
    const room = ctx.limits.maxMessageBytes - ctx.offset;
    if (n === FRAME ? room < 4 : n > room) {
      throw new LimitExceededError(
        `${this.operation}: message size`,
        ctx.limits.maxMessageBytes,
        ctx.offset + (n === FRAME ? 4 : n),
      );
    }
    try {
      // A request the buffer already satisfies completes at once: it needs no timer and no abort listener.
      const waits =
        this.opts.signal?.aborted === true || !(n === FRAME ? frameAtHand(reader) : bytesAtHand(reader, n));
      const timeoutMs = !waits
        ? Number.POSITIVE_INFINITY
        : deadline === undefined
          ? undefined
          : Math.max(0, deadline - Date.now());
      const signal = waits ? this.opts.signal : undefined;
      if (n === FRAME) {
        const maxBytes = Math.min(ctx.limits.maxFrameBytes, room - 4);
        const into = this.#into;
        this.#into = undefined;
        let input: Uint8Array | undefined;
        if (into !== undefined) {
          try {
            input = await reader.readFrame({ maxBytes, signal, timeoutMs, into });
          } catch (e) {
            // A frame larger than the caller's memory: nothing was consumed, read it the usual way.
            if (!(LimitExceededError.isInstance(e) && e.limit === into.length && into.length < maxBytes))
              throw e;
          }
        }
        input ??= await reader.readFrame({
          maxBytes,
          signal,
          timeoutMs:
            into === undefined || !waits || deadline === undefined
              ? timeoutMs
              : Math.max(0, deadline - Date.now()),
        });
        // Kept for the EofError of a later request (a single request has none).
        if (!this.plan.singleRead) this.#received.push(encodeFrameHeader(input.length), input);
        this.#consumed += 4 + input.length;
        ctx.offset += 4 + input.length;
        return input;
      }
      // A large block (gen A–C array data) lands straight in caller memory when it fits.
      const into =
        this.#into !== undefined && n >= INTO_MIN_BYTES && n <= this.#into.length ? this.#into : undefined;
      if (into !== undefined) this.#into = undefined;
      const input = await reader.readExactly(
        n,
        into === undefined ? { signal, timeoutMs } : { signal, timeoutMs, into },
      );
      this.#took(input);
      ctx.offset += n;
      return input;
    } catch (e) {
      return this.#fail(e, n);
    }
  }

  #fail(e: unknown, n: number): never {
    if (this.#consumed === 0 && !(EofError.isInstance(e) && e.partial.length > 0)) throw e;
    if (EofError.isInstance(e)) {
      const partial = concatBytes([...this.#received, e.partial]);
      throw new EofError(this.operation, partial, n < 0 ? undefined : this.#consumed + n, { cause: e });
    }
    throw new MessageInterruptedError(this.operation, this.#consumed, e);
  }
}
