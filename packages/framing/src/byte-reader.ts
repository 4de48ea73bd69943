// ByteReader: cancellation-safe reads over a byte stream, modelled on asyncio's StreamReader.
//
// - A read consumes bytes only when it succeeds. A read that times out, is aborted, or hits a limit leaves
//   every byte in place for the next read.
// - EOF raises EofError carrying the bytes that did arrive (consumed, as asyncio's IncompleteReadError).
// - Reads are queued in call order; only the head of the queue looks at the buffer, so concurrent readers
//   never interleave.
// - The buffer is one growable contiguous region: appends are amortised O(1) and searches resume where the
//   last one stopped, so a delimiter at the end of 1 MiB delivered in 1-byte chunks costs linear time.
// - Large reads (>= 64 KiB) are copied exactly once, from the socket's chunk into their final place: one
//   still on its way is received straight into memory of its own size (or the caller's `into`); one that
//   arrived whole is returned as a view of the buffer, and the reader moves on to a fresh one.

import { concatBytes, readU32BE, toBytes } from './bytes';
import { checkTimeout, type OperationOptions } from './deadline';
import { AbortedError, ClosedError, EofError, LimitExceededError, StreamError, TimeoutError } from './errors';
import { type ChunkSink, takeChunks } from './onread-source';

/** Where a ByteReader takes bytes from: any async iterable of chunks, or a Node Readable (net.Socket). */
type ByteSource = AsyncIterable<Uint8Array> | ReadableLike;

/** The part of a Node `Readable` a ByteReader uses. */
export type ReadableLike = Exclude<ConstructorParameters<typeof ByteReader>[0], AsyncIterable<Uint8Array>>;

export interface ReadUntilOptions extends OperationOptions {
  /** Keep the delimiter at the end of `data`. Default false. */
  include?: boolean;
  /** The most data bytes (delimiter excluded) to look through before LimitExceededError. Default maxBuffer. */
  maxBytes?: number;
}

export interface ReadUntilResult {
  /** The bytes before the delimiter (and the delimiter too with `include`). */
  data: Uint8Array;
  /** Which delimiter matched: its index in the list passed to readUntil. */
  index: number;
  /** The delimiter bytes that matched. */
  delimiter: Uint8Array;
}

export interface ReadFrameOptions extends OperationOptions {
  /** The largest payload accepted; a larger length prefix raises before anything is allocated. */
  maxBytes?: number;
  /**
   * Receive the payload into this caller-owned memory (the result is a view of it). Reusing one
   * destination across messages avoids faulting in fresh pages for every large message. A payload
   * longer than `into` raises LimitExceededError with nothing consumed.
   */
  into?: Uint8Array;
}

export interface ReadExactlyOptions extends OperationOptions {
  /** Receive into this caller-owned memory (at least `n` bytes); the result is a view of it. */
  into?: Uint8Array;
}

export interface ExpectOptions extends OperationOptions {
  /** Byte values skipped while matching (cmd_tcp skips NUL). Default none. */
  ignore?: readonly number[];
  /** The most bytes to look through before LimitExceededError. Default maxBuffer. */
  maxBytes?: number;
}

export interface DrainOptions extends OperationOptions {
  /** The line counts as quiet after this many ms without data. Default 50. */
  quietMs?: number;
}

/**
 * Reads at or above this size are received straight into memory of their own when they are still on
 * their way, and returned as a view of the buffer (not a second copy) when they arrived whole.
 */
const LARGE_READ = 64 * 1024;
/** Microtask turns lent bytes wait for a read before they are copied into the reader's memory. */
const ADOPT_TURNS = 4;
const MIN_CAPACITY = 16 * 1024;
export const FRAME_HEADER_BYTES = 4;
export const DEFAULT_READ_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BUFFER = 1024 * 1024;
export const DEFAULT_MAX_FRAME = 16 * 1024 * 1024;

const Kind = { Exactly: 0, Until: 1, Frame: 2, Available: 3, Expect: 4, Drain: 5 } as const;
type Kind = (typeof Kind)[keyof typeof Kind];

/** A read that fills caller memory directly. On cancel its bytes go back to the front of the buffer. */
interface DirectFill {
  readonly dest: Uint8Array;
  /** Bytes consumed from the stream before the payload (a frame header), restored on cancel. */
  readonly prefix: Uint8Array;
  filled: number;
  readonly want: number;
}

/**
 * One queued read. A single monomorphic class for every kind (no per-read closures besides the promise
 * executor): reads sit on the hot path of every request/response exchange.
 */
const NO_NEEDLES: readonly Buffer[] = Object.freeze([]);
const NO_DELIMITERS: readonly Uint8Array[] = Object.freeze([]);

class PendingRead {
  settled = false;
  resolve!: (value: never) => void;
  reject!: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  direct: DirectFill | undefined = undefined;
  // Parameters, by kind.
  n = 0;
  into: Uint8Array | undefined = undefined;
  maxBytes = 0;
  /** Until: delimiters as Buffers (native indexOf); Expect: the pattern in needles[0]. */
  // Shared empty lists until readUntil / expect set their own (no two arrays per read of another kind).
  needles: readonly Buffer[] = NO_NEEDLES;
  delimiters: readonly Uint8Array[] = NO_DELIMITERS;
  longest = 0;
  include = false;
  /** Until/Expect: bytes already searched, relative to the start of the buffer: a search resumes here. */
  scanned = 0;
  /** Frame: header + payload once the header is known. */
  total = FRAME_HEADER_BYTES;
  ignore: Set<number> | undefined = undefined;
  window: number[] | undefined = undefined;
  quietMs = 0;
  quietTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  discarded = 0;

  constructor(
    readonly kind: Kind,
    readonly name: string,
    readonly timeoutMs: number,
  ) {}
}

const EMPTY = new Uint8Array(0);
const NO_OPTIONS: OperationOptions = Object.freeze({});

/** Uninitialised memory (no zero fill): only bytes below #end are ever read. */
function allocate(size: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(size);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function isReadableLike(source: ByteSource): source is ReadableLike {
  const s = source as Partial<ReadableLike>;
  return typeof s.on === 'function' && typeof s.pause === 'function' && typeof s.resume === 'function';
}

/** The 'error' listener a detached reader leaves on its source (no unhandled 'error' event). */
function ignoreLateError(): void {}

export class ByteReader implements AsyncDisposable {
  readonly #timeoutMs: number;
  readonly #maxBuffer: number;
  readonly #maxFrame: number;

  // The buffered bytes are #buf[#start, #end). #view is a Buffer over the same memory, for native indexOf.
  // #buf is the reader's own memory (#own) or, while #lent, a chunk its source lent (see "buffer" below).
  #buf: Uint8Array = new Uint8Array(0);
  #view: Buffer = Buffer.alloc(0);
  #start = 0;
  #end = 0;
  #own: Uint8Array = this.#buf;
  #ownView: Buffer = this.#view;
  #lent = false;
  #lentFrom: Uint8Array | undefined;
  #lentView: Buffer = this.#view;
  #adoptTurns = 0;

  readonly #queue: PendingRead[] = [];
  #ended = false;
  #failure: unknown = undefined;
  #closed = false;
  #flowing = true;
  #flowWaiter: (() => void) | undefined;
  #detach: () => void = () => {};
  #pauseSource: () => void = () => {};
  #resumeSource: () => void = () => {};
  #bytesRead = 0;

  constructor(
    /** Any async iterable of chunks, or a Node Readable (net.Socket). */
    source:
      | AsyncIterable<Uint8Array>
      | {
          on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
          on(event: 'end' | 'close', listener: () => void): unknown;
          on(event: 'error', listener: (err: Error) => void): unknown;
          // biome-ignore lint/suspicious/noExplicitAny: must accept EventEmitter's own signature
          off(event: string, listener: (...args: any[]) => void): unknown;
          pause(): unknown;
          resume(): unknown;
          readonly readableEnded?: boolean;
          readonly destroyed?: boolean;
        },
    options: {
      /** Default deadline of every read, in ms. Default 10 000. `Infinity` disables it explicitly. */
      timeoutMs?: number;
      /** Default limit for readUntil/expect and how much is buffered ahead of readers. Default 1 MiB. */
      maxBuffer?: number;
      /** Default limit for readFrame payloads. Default 16 MiB. */
      maxFrame?: number;
    } = {},
  ) {
    this.#timeoutMs = checkTimeout(options.timeoutMs, DEFAULT_READ_TIMEOUT_MS);
    this.#maxBuffer = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
    this.#maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME;
    if (isReadableLike(source)) this.#attachReadable(source);
    else this.#attachIterable(source);
  }

  /** Bytes buffered and not yet consumed. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** True once the source has ended or failed. Buffered bytes may still be read. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Total bytes received from the source. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Reads waiting in the queue (including the one in progress). */
  get pending(): number {
    return this.#queue.length;
  }

  /** A copy of up to `max` buffered bytes, without consuming them. */
  peek(max = Number.POSITIVE_INFINITY): Uint8Array {
    const n = Math.min(max, this.buffered);
    return this.#buf.slice(this.#start, this.#start + n);
  }

  /**
   * Sets the one arrival listener (undefined clears it): called synchronously, inside the source's own
   * callback, whenever bytes arrive and no read is in line to take them, and once more when the stream
   * ends or fails or the reader is closed. A consumer that waits for the next message this way, instead
   * of with a queued read, can take a message that arrived whole (`peekInto`, `discard`) without a queued
   * read, a promise or a turn of the event loop. The listener must not throw (what it throws is
   * swallowed) and may start reads of its own.
   */
  onArrival(listener: (() => void) | undefined): void {
    this.#arrival = listener;
  }

  #arrival: (() => void) | undefined;

  #arrived(): void {
    const listener = this.#arrival;
    if (listener === undefined) return;
    try {
      listener();
    } catch {
      // Documented: an arrival listener must not throw; the reader's state is unaffected.
    }
  }

  /**
   * Copies up to `into.length` buffered bytes into `into`, without consuming them, and returns how many
   * it copied. Like `peek` without allocating: a decoder that looks at every small message reuses one
   * scratch buffer (a fresh copy of more than 64 bytes costs about a microsecond on Node 20).
   */
  peekInto(into: Uint8Array): number {
    const n = Math.min(into.length, this.#end - this.#start);
    into.set(this.#buf.subarray(this.#start, this.#start + n), 0);
    return n;
  }

  /**
   * Up to `max` buffered bytes without copying them: a view of the reader's memory, valid only until the
   * reader is used again or the current microtask queue has run (the memory may be the source's, reused
   * for its next read). Never write to it. For decoders that take several messages at hand in one go and
   * then `discard` them.
   */
  peekView(max = Number.POSITIVE_INFINITY): Uint8Array {
    const n = Math.min(max, this.buffered);
    return this.#buf.subarray(this.#start, this.#start + n);
  }

  /**
   * Consumes `n` buffered bytes at once, without copying them, when no read is in line and the reader is
   * open; returns false (nothing consumed) otherwise. For decoders that looked at the bytes with `peek`
   * and now take them.
   */
  discard(n: number): boolean {
    if (!Number.isInteger(n) || n < 0 || !this.#atHand(n, NO_OPTIONS)) return false;
    this.#start += n;
    if (this.#start === this.#end) this.#empty();
    this.#updateFlow();
    return true;
  }

  /** Reads exactly `n` bytes. EOF first raises EofError with the bytes that did arrive. */
  readExactly(n: number, options: ReadExactlyOptions = {}): Promise<Uint8Array> {
    if (!Number.isInteger(n) || n < 0)
      return Promise.reject(new RangeError(`readExactly: n must be a whole number >= 0, got ${n}`));
    const into = options.into;
    if (into && into.length < n) {
      return Promise.reject(new LimitExceededError('readExactly: destination too small', into.length, n));
    }
    // Buffered already with no read in line: taken at once (no queued read, no timer, no listener).
    if (this.#atHand(n, options)) {
      let out: Uint8Array;
      if (into === undefined) out = this.#consume(n);
      else {
        into.set(this.#buf.subarray(this.#start, this.#start + n), 0);
        this.#start += n;
        if (this.#start === this.#end) this.#empty();
        out = into.subarray(0, n);
      }
      this.#updateFlow();
      return Promise.resolve(out);
    }
    const op = this.#create(Kind.Exactly, 'readExactly', options);
    if (op === undefined) return this.#refuse('readExactly', options);
    op.n = n;
    op.into = into;
    return this.#enqueue<Uint8Array>(op, options);
  }

  /**
   * Reads up to the first delimiter. With several delimiters, the one whose match ends first wins; on a
   * tie, the earlier in the list. Raises LimitExceededError (data left in place) when no delimiter shows
   * up within `maxBytes` data bytes.
   */
  readUntil(
    delimiters: string | Uint8Array | readonly (string | Uint8Array)[],
    options: ReadUntilOptions = {},
  ): Promise<ReadUntilResult> {
    const list = (Array.isArray(delimiters) ? delimiters : [delimiters]).map((d) =>
      toBytes(d as string | Uint8Array),
    );
    if (list.length === 0 || list.some((d) => d.length === 0)) {
      return Promise.reject(new RangeError('readUntil: delimiters must be non-empty'));
    }
    const op = this.#create(Kind.Until, 'readUntil', options);
    if (op === undefined) return this.#refuse('readUntil', options);
    op.delimiters = list;
    op.needles = list.map((d) => Buffer.from(d.buffer, d.byteOffset, d.byteLength));
    op.longest = Math.max(...list.map((d) => d.length));
    op.include = options.include ?? false;
    op.maxBytes = options.maxBytes ?? this.#maxBuffer;
    return this.#enqueue<ReadUntilResult>(op, options);
  }

  /** Reads one frame with a u32 big-endian length prefix and returns its payload. */
  readFrame(options: ReadFrameOptions = {}): Promise<Uint8Array> {
    if (options.into === undefined && this.#atHand(FRAME_HEADER_BYTES, options)) {
      // A small frame buffered whole with no read in line: taken at once.
      const length = this.#view.readUInt32BE(this.#start);
      if (
        length <= (options.maxBytes ?? this.#maxFrame) &&
        length < LARGE_READ &&
        this.#atHand(FRAME_HEADER_BYTES + length, options)
      ) {
        this.#start += FRAME_HEADER_BYTES;
        const payload = this.#consume(length);
        this.#updateFlow();
        return Promise.resolve(payload);
      }
    }
    const op = this.#create(Kind.Frame, 'readFrame', options);
    if (op === undefined) return this.#refuse('readFrame', options);
    op.maxBytes = options.maxBytes ?? this.#maxFrame;
    op.into = options.into;
    return this.#enqueue<Uint8Array>(op, options);
  }

  /** Waits for at least one byte and returns what is buffered, at most `max` bytes (socket `recv` style). */
  readAvailable(max = 65_536, options: OperationOptions = {}): Promise<Uint8Array> {
    if (!(max >= 1)) return Promise.reject(new RangeError(`readAvailable: max must be >= 1, got ${max}`));
    const op = this.#create(Kind.Available, 'readAvailable', options);
    if (op === undefined) return this.#refuse('readAvailable', options);
    op.n = max;
    return this.#enqueue<Uint8Array>(op, options);
  }

  /**
   * Waits until `pattern` has arrived (bytes listed in `ignore` are skipped while matching) and consumes
   * everything up to and including it. Resolves with the consumed bytes. An empty pattern matches at once.
   */
  expect(pattern: string | Uint8Array, options: ExpectOptions = {}): Promise<Uint8Array> {
    const want = toBytes(pattern);
    const maxBytes = options.maxBytes ?? this.#maxBuffer;
    if (want.length === 0) return Promise.resolve(new Uint8Array(0));
    if (!options.ignore || options.ignore.length === 0) {
      return this.readUntil(want, { ...options, include: true, maxBytes }).then((r) => r.data);
    }
    const op = this.#create(Kind.Expect, 'expect', options);
    if (op === undefined) return this.#refuse('expect', options);
    op.delimiters = [want];
    op.ignore = new Set(options.ignore);
    op.window = [];
    op.maxBytes = maxBytes;
    return this.#enqueue<Uint8Array>(op, options);
  }

  /**
   * Discards input until the line has been quiet for `quietMs` and resolves with the number of bytes
   * discarded. Use it to resynchronise after a timed-out request. Rejects with TimeoutError when the
   * peer never goes quiet before the deadline. EOF ends the drain (there is nothing more to discard).
   */
  drain(options: DrainOptions = {}): Promise<number> {
    const op = this.#create(Kind.Drain, 'drain', options);
    if (op === undefined) return this.#refuse('drain', options);
    op.quietMs = options.quietMs ?? 50;
    return this.#enqueue<number>(op, options);
  }

  /**
   * Stops reading: every pending read rejects with ClosedError and the reader detaches from its source
   * (the source itself is not destroyed; its owner closes it). Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ended = true;
    this.#detach();
    const pending = this.#queue.splice(0);
    for (const op of pending) this.#reject(op, new ClosedError(op.name));
    this.#flowWaiter?.();
    this.#arrived();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  // --- queue -------------------------------------------------------------------------------------------

  /**
   * Whether a read of `n` bytes can complete at once: nothing queued, `n` bytes buffered, the reader
   * open, the options valid. Such a read needs no queue entry, deadline or abort listener.
   */
  #atHand(n: number, options: OperationOptions): boolean {
    if (this.#queue.length > 0 || this.#end - this.#start < n || this.#closed) return false;
    if (options.signal?.aborted) return false;
    const t = options.timeoutMs;
    return t === undefined || t >= 0;
  }

  /** A new read, or undefined when it must be refused at once (closed, aborted, bad timeout). */
  #create(kind: Kind, name: string, options: OperationOptions): PendingRead | undefined {
    if (this.#closed || options.signal?.aborted) return undefined;
    const t = options.timeoutMs ?? this.#timeoutMs;
    if (!(t >= 0)) return undefined;
    return new PendingRead(kind, name, t);
  }

  #refuse(name: string, options: OperationOptions): Promise<never> {
    if (this.#closed) return Promise.reject(new ClosedError(name));
    if (options.signal?.aborted) return Promise.reject(new AbortedError(name, options.signal.reason));
    try {
      checkTimeout(options.timeoutMs, this.#timeoutMs);
    } catch (e) {
      return Promise.reject(e);
    }
    return Promise.reject(new ClosedError(name));
  }

  #enqueue<T>(op: PendingRead, options: OperationOptions): Promise<T> {
    const promise = new Promise<T>((resolve, reject) => {
      op.resolve = resolve as (value: never) => void;
      op.reject = reject;
    });
    this.#queue.push(op);
    if (Number.isFinite(op.timeoutMs)) op.timer = setTimeout(ByteReader.#fireTimeout, op.timeoutMs, this, op);
    const signal = options.signal;
    if (signal) {
      op.signal = signal;
      op.onAbort = () => this.#cancel(op, new AbortedError(op.name, signal.reason));
      signal.addEventListener('abort', op.onAbort, { once: true });
    }
    if (this.#queue[0] === op) this.#process();
    return promise;
  }

  #settle(op: PendingRead): boolean {
    if (op.settled) return false;
    op.settled = true;
    if (op.timer !== undefined) clearTimeout(op.timer);
    if (op.quietTimer !== undefined) clearTimeout(op.quietTimer);
    if (op.onAbort) op.signal?.removeEventListener('abort', op.onAbort);
    return true;
  }

  #resolve(op: PendingRead, value: unknown): void {
    if (this.#settle(op)) op.resolve(value as never);
  }

  #reject(op: PendingRead, error: unknown): void {
    if (this.#settle(op)) op.reject(error);
  }

  // Timer callbacks are static so that arming a deadline creates no closure per read.
  static #fireTimeout(reader: ByteReader, op: PendingRead): void {
    op.timer = undefined;
    reader.#expire(op);
  }

  static #fireQuiet(reader: ByteReader, op: PendingRead): void {
    op.quietTimer = undefined;
    // Timers run before the event loop reads its sockets: after a stall (a busy process, a starved
    // machine) bytes may already wait in the kernel although none was read for `quietMs`. Judge the line
    // once this turn's reads have run; a byte read meanwhile started a new quiet period (a new timer).
    setImmediate(ByteReader.#checkQuiet, reader, op);
  }

  static #checkQuiet(reader: ByteReader, op: PendingRead): void {
    if (op.quietTimer === undefined) reader.#quiet(op);
  }

  /** The deadline of `op` passed. */
  #expire(op: PendingRead): void {
    if (op.settled) return;
    const received = this.#queue[0] === op ? this.peek(256) : EMPTY;
    this.#cancel(op, new TimeoutError(op.name, op.timeoutMs, received));
  }

  /** A drain's quiet period passed. */
  #quiet(op: PendingRead): void {
    if (op.settled || this.#queue[0] !== op) return;
    this.#resolve(op, op.discarded);
    this.#queue.shift();
    this.#process();
  }

  /** Timeout or abort: remove the read without consuming anything, then let the next one look. */
  #cancel(op: PendingRead, error: unknown): void {
    if (op.settled) return;
    const at = this.#queue.indexOf(op);
    this.#restoreDirect(op);
    this.#reject(op, error);
    if (at >= 0) this.#queue.splice(at, 1);
    if (at === 0) this.#process();
  }

  #process(): void {
    const queue = this.#queue;
    while (queue.length > 0) {
      const head = queue[0]!;
      if (head.settled) {
        queue.shift();
        continue;
      }
      let done: boolean;
      try {
        done = this.#attempt(head);
      } catch (e) {
        this.#reject(head, e);
        done = true;
      }
      if (done) {
        queue.shift();
        continue;
      }
      if (this.#ended) {
        queue.shift();
        this.#restoreDirect(head);
        this.#finish(head);
        continue;
      }
      break;
    }
    this.#updateFlow();
  }

  /** Tries to complete the head read from the buffer; true once it has settled (either way). */
  #attempt(op: PendingRead): boolean {
    switch (op.kind) {
      case Kind.Exactly: {
        if (op.direct) return this.#fillDirect(op, op.direct.dest, op.n, EMPTY);
        if (op.into) return this.#fillDirect(op, op.into, op.n, EMPTY);
        if (this.buffered < op.n) {
          // A large read still on its way goes straight into memory of its own, copied once.
          if (op.n >= LARGE_READ) return this.#fillDirect(op, allocate(op.n), op.n, EMPTY);
          this.#reserve(op.n);
          return false;
        }
        this.#resolve(op, this.#consume(op.n));
        return true;
      }
      case Kind.Until:
        return this.#attemptUntil(op);
      case Kind.Frame:
        return this.#attemptFrame(op);
      case Kind.Available: {
        if (this.buffered === 0) return false;
        this.#resolve(op, this.#consume(Math.min(op.n, this.buffered)));
        return true;
      }
      case Kind.Expect:
        return this.#attemptExpect(op);
      case Kind.Drain: {
        op.discarded += this.buffered;
        this.#discardAll();
        if (op.quietTimer !== undefined) clearTimeout(op.quietTimer);
        op.quietTimer = setTimeout(ByteReader.#fireQuiet, op.quietMs, this, op);
        return false;
      }
    }
  }

  #attemptUntil(op: PendingRead): boolean {
    const available = this.buffered;
    if (available === 0) return false;
    const view = this.#view.subarray(this.#start, this.#end);
    const needles = op.needles;
    let bestEnd = Number.POSITIVE_INFINITY;
    let bestAt = -1;
    let bestIndex = -1;
    for (let i = 0; i < needles.length; i++) {
      const needle = needles[i]!;
      const from = Math.max(0, op.scanned - needle.length + 1);
      const at = needle.length === 1 ? view.indexOf(needle[0]!, from) : view.indexOf(needle, from);
      if (at >= 0 && at + needle.length < bestEnd) {
        bestEnd = at + needle.length;
        bestAt = at;
        bestIndex = i;
      }
    }
    if (bestIndex < 0) {
      op.scanned = available;
      if (available >= op.maxBytes + op.longest) {
        this.#reject(op, new LimitExceededError('readUntil: no delimiter found', op.maxBytes, available));
        return true;
      }
      return false;
    }
    if (bestAt > op.maxBytes) {
      this.#reject(op, new LimitExceededError('readUntil: data before the delimiter', op.maxBytes, bestAt));
      return true;
    }
    const all = this.#consume(bestEnd);
    const result: ReadUntilResult = {
      data: op.include ? all : all.subarray(0, bestAt),
      index: bestIndex,
      delimiter: op.delimiters[bestIndex]!,
    };
    this.#resolve(op, result);
    return true;
  }

  #attemptFrame(op: PendingRead): boolean {
    if (op.direct) return this.#fillDirect(op, op.direct.dest, op.direct.want, op.direct.prefix);
    if (this.buffered < FRAME_HEADER_BYTES) return false;
    const length = readU32BE(this.#buf, this.#start);
    if (length > op.maxBytes) {
      // Checked before any allocation: a hostile prefix (0xFFFFFFFF) costs nothing.
      this.#reject(op, new LimitExceededError('readFrame: length prefix', op.maxBytes, length));
      return true;
    }
    op.total = FRAME_HEADER_BYTES + length;
    if (op.into) {
      if (op.into.length < length) {
        this.#reject(op, new LimitExceededError('readFrame: destination too small', op.into.length, length));
        return true;
      }
      const prefix = this.#consume(FRAME_HEADER_BYTES, true);
      return this.#fillDirect(op, op.into, length, prefix);
    }
    if (this.buffered < op.total) {
      if (length >= LARGE_READ) {
        // The payload goes straight into memory of its own size, copied once from the socket's chunks
        // (allocated only now that the length passed the limit).
        const prefix = this.#consume(FRAME_HEADER_BYTES, true);
        return this.#fillDirect(op, allocate(length), length, prefix);
      }
      this.#reserve(op.total);
      return false;
    }
    this.#start += FRAME_HEADER_BYTES;
    this.#resolve(op, this.#consume(length));
    return true;
  }

  #attemptExpect(op: PendingRead): boolean {
    // Look through at most maxBytes + k bytes (ignored ones included), however the data was chunked:
    // a match further out is a limit error whether it arrived at once or byte by byte.
    const want = op.delimiters[0]!;
    const k = want.length;
    const window = op.window!;
    const ignore = op.ignore!;
    const scanLimit = op.maxBytes + k;
    const end = Math.min(this.buffered, scanLimit);
    const buf = this.#buf;
    const base = this.#start;
    for (; op.scanned < end; op.scanned++) {
      const b = buf[base + op.scanned]!;
      if (ignore.has(b)) continue;
      window.push(b);
      if (window.length > k) window.shift();
      if (window.length === k && window.every((v, i) => v === want[i])) {
        this.#resolve(op, this.#consume(op.scanned + 1));
        return true;
      }
    }
    if (op.scanned >= scanLimit) {
      this.#reject(op, new LimitExceededError('expect: pattern not found', op.maxBytes, this.buffered));
      return true;
    }
    return false;
  }

  /** Bytes that must be buffered before the head read can progress (flow control). */
  #need(op: PendingRead): number {
    switch (op.kind) {
      case Kind.Exactly:
        return op.n;
      case Kind.Until:
        return op.maxBytes + op.longest;
      case Kind.Frame:
        return op.total;
      case Kind.Available:
        return 1;
      case Kind.Expect:
        return op.maxBytes + op.delimiters[0]!.length;
      case Kind.Drain:
        return this.#maxBuffer;
    }
  }

  /** The stream ended (or failed) and the head read could not complete. */
  #finish(op: PendingRead): void {
    if (op.kind === Kind.Drain) {
      op.discarded += this.buffered;
      this.#discardAll();
      this.#resolve(op, op.discarded);
      return;
    }
    const expected =
      op.kind === Kind.Exactly
        ? op.n
        : op.kind === Kind.Frame
          ? op.total
          : op.kind === Kind.Available
            ? 1
            : undefined;
    this.#reject(op, this.#endError(op.name, this.#failure, expected));
  }

  /** Moves buffered bytes into the head read's caller memory; resolves once `want` bytes are there. */
  #fillDirect(op: PendingRead, dest: Uint8Array, want: number, prefix: Uint8Array): boolean {
    if (op.direct === undefined) op.direct = { dest, prefix, filled: 0, want };
    const d = op.direct;
    const take = Math.min(this.buffered, d.want - d.filled);
    if (take > 0) {
      d.dest.set(this.#buf.subarray(this.#start, this.#start + take), d.filled);
      d.filled += take;
      this.#start += take;
      if (this.#start === this.#end) this.#empty();
    }
    if (d.filled < d.want) return false;
    op.direct = undefined;
    this.#resolve(op, d.dest.subarray(0, d.want));
    return true;
  }

  /** A direct read that did not complete gives its bytes back, so the next read sees them. */
  #restoreDirect(op: PendingRead): void {
    const d = op.direct;
    if (d === undefined) return;
    op.direct = undefined;
    const back = new Uint8Array(d.prefix.length + d.filled);
    back.set(d.prefix, 0);
    back.set(d.dest.subarray(0, d.filled), d.prefix.length);
    if (back.length === 0) return;
    const live = this.#buf.subarray(this.#start, this.#end);
    const next = allocate(Math.max(MIN_CAPACITY, back.length + live.length));
    next.set(back, 0);
    next.set(live, back.length);
    const length = back.length + live.length;
    this.#setBuffer(next);
    this.#end = length;
  }

  #endError(name: string, failure: unknown, expected?: number): Error {
    const partial = this.#consume(this.buffered, true);
    if (this.#closed) return new ClosedError(name);
    if (failure !== undefined) return new StreamError(name, failure);
    return new EofError(name, partial, expected);
  }

  // --- buffer ------------------------------------------------------------------------------------------
  //
  // The buffered bytes are #buf[#start, #end). Usually #buf is the reader's own memory. When a source
  // lends its chunks (an OnreadSource: one landing buffer that the socket fills again on its next read)
  // and nothing is buffered, #buf borrows the chunk itself: the reads that complete while it is lent copy
  // straight from it into their result (or their caller's memory), and what no read took is copied into
  // the reader's own memory before the socket can read again (#adoptSoon). Node runs the microtasks
  // queued by a socket read before it reads again, so a read issued by the code that awaited the previous
  // one (the next frame of a stream) still finds the bytes where they landed: they are copied once.

  #consume(n: number, forceCopy = false): Uint8Array {
    const from = this.#start;
    if (n >= LARGE_READ && !forceCopy && !this.#lent) {
      // Hand out a view and move the remainder (at most a chunk or two) to a fresh buffer, so the view's
      // memory is never written again.
      const out = this.#buf.subarray(from, from + n);
      const rest = this.#buf.subarray(from + n, this.#end);
      this.#setBuffer(allocate(Math.max(MIN_CAPACITY, rest.length)));
      this.#buf.set(rest, 0);
      this.#end = rest.length;
      return out;
    }
    const out = this.#buf.slice(from, from + n);
    this.#start += n;
    if (this.#start === this.#end) this.#empty();
    return out;
  }

  /** Nothing is buffered any more: start again at the front of the reader's own memory. */
  #empty(): void {
    if (this.#lent) {
      this.#lent = false;
      this.#buf = this.#own;
      this.#view = this.#ownView;
    }
    this.#start = this.#end = 0;
  }

  #discardAll(): void {
    this.#empty();
  }

  /** Replaces the reader's own memory (nothing buffered yet). */
  #setBuffer(buf: Uint8Array): void {
    this.#lent = false;
    this.#buf = this.#own = buf;
    this.#view = this.#ownView = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#start = 0;
    this.#end = 0;
  }

  /** Makes room for `total` bytes from #start, so a large read fills its final place directly. */
  #reserve(total: number): void {
    if (!this.#lent && this.#buf.length - this.#start >= total) return;
    this.#grow(total - this.buffered, total);
  }

  /** Room for `extra` more bytes (or `reserve` bytes in all) in the reader's own memory. */
  #grow(extra: number, reserve = 0): void {
    const live = this.buffered;
    const needed = Math.max(live + extra, reserve);
    if (this.#lent) {
      // Take the lent bytes home: into the reader's own memory when it is large enough.
      const home = this.#own.length >= needed ? this.#own : allocate(Math.max(needed, MIN_CAPACITY));
      home.set(this.#buf.subarray(this.#start, this.#end), 0);
      if (home === this.#own) {
        this.#lent = false;
        this.#buf = home;
        this.#view = this.#ownView;
      } else {
        this.#setBuffer(home);
      }
      this.#start = 0;
      this.#end = live;
      return;
    }
    if (needed <= this.#buf.length && live <= this.#buf.length >>> 1) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#start = 0;
      this.#end = live;
      return;
    }
    const capacity = Math.max(needed, MIN_CAPACITY, reserve > 0 ? 0 : this.#buf.length * 2);
    const old = this.#buf.subarray(this.#start, this.#end);
    const next = allocate(capacity);
    next.set(old, 0);
    this.#setBuffer(next);
    this.#end = live;
  }

  /** Copies lent bytes into the reader's own memory (the source is about to reuse the chunk). */
  #adopt(): void {
    if (this.#lent) this.#grow(0);
  }

  /**
   * Adopts the lent bytes at the end of the current microtask queue, a few turns late so that a read
   * issued by the code that awaited the last one (through an async function or two) can take its bytes
   * first. Every turn runs before the socket reads again.
   */
  #adoptSoon(): void {
    if (this.#adoptTurns > 0) return;
    this.#adoptTurns = ADOPT_TURNS;
    queueMicrotask(this.#adoptLater);
  }

  readonly #adoptLater = (): void => {
    if (this.#lent && --this.#adoptTurns > 0) {
      queueMicrotask(this.#adoptLater);
      return;
    }
    this.#adoptTurns = 0;
    this.#adopt();
  };

  /** A Buffer over a lent chunk, for native indexOf; sources lend the same landing buffer every time. */
  #viewOfLent(bytes: Uint8Array): Buffer {
    if (this.#lentFrom !== bytes) {
      this.#lentFrom = bytes;
      this.#lentView = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    return this.#lentView;
  }

  /**
   * New bytes: `bytes[0, length)`. `lent` when the memory is the source's and valid only until the
   * microtasks queued meanwhile have run (an OnreadSource's landing buffer); otherwise it is never
   * written again.
   */
  #push(bytes: Uint8Array, length: number, lent: boolean): void {
    if (this.#closed || length === 0) return;
    // A lent chunk is always adopted before the source reads again; this only guards a source that
    // breaks that promise from corrupting what is buffered.
    this.#adopt();
    this.#bytesRead += length;
    let at = 0;
    const direct = this.#queue[0]?.direct;
    if (direct !== undefined && this.#start === this.#end) {
      // The head read fills caller memory: copy the part of the chunk it wants straight there.
      at = Math.min(length, direct.want - direct.filled);
      direct.dest.set(at === bytes.length ? bytes : bytes.subarray(0, at), direct.filled);
      direct.filled += at;
      if (at === length) {
        this.#process();
        return;
      }
    }
    if (lent && this.#start === this.#end) {
      this.#lent = true;
      this.#buf = bytes;
      this.#view = this.#viewOfLent(bytes);
      this.#start = at;
      this.#end = length;
    } else {
      const n = length - at;
      if (this.#end + n > this.#buf.length) this.#grow(n);
      this.#buf.set(at === 0 && length === bytes.length ? bytes : bytes.subarray(at, length), this.#end);
      this.#end += n;
    }
    if (this.#queue.length > 0) this.#process();
    else {
      this.#updateFlow();
      this.#arrived();
    }
    if (this.#lent) this.#adoptSoon();
  }

  #finishSource(failure?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#failure = failure;
    this.#detach();
    this.#process();
    if (this.#queue.length === 0) this.#arrived();
  }

  // --- flow control ------------------------------------------------------------------------------------

  #updateFlow(): void {
    if (this.#ended) return;
    const head = this.#queue[0];
    const want = Math.max(this.#maxBuffer, head ? this.#need(head) : 0);
    const flowing = this.buffered < want;
    if (flowing === this.#flowing) return;
    this.#flowing = flowing;
    if (flowing) {
      this.#resumeSource();
      const w = this.#flowWaiter;
      this.#flowWaiter = undefined;
      w?.();
    } else {
      this.#pauseSource();
    }
  }

  #attachReadable(source: ReadableLike): void {
    const onData = (chunk: Uint8Array) => this.#push(chunk, chunk.length, false);
    const onEnd = () => this.#finishSource();
    const onError = (err: Error) => this.#finishSource(err);
    // An OnreadSource lends its landing buffer to the reader directly: no event, no view per read.
    const lender = (source as Partial<Record<typeof takeChunks, (sink: ChunkSink | undefined) => void>>)[
      takeChunks
    ];
    if (typeof lender === 'function') lender.call(source, (bytes, length) => this.#push(bytes, length, true));
    else source.on('data', onData);
    source.on('end', onEnd);
    source.on('close', onEnd);
    source.on('error', onError);
    this.#pauseSource = () => source.pause();
    this.#resumeSource = () => source.resume();
    this.#detach = () => {
      if (typeof lender === 'function') {
        // Bytes still lent are the reader's to keep (a pending peek or error may show them).
        this.#adopt();
        lender.call(source, undefined);
      }
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('close', onEnd);
      // A no-op listener stays so that a late 'error' never becomes an unhandled error event; the owner
      // of the source is told through its own listeners. One shared no-op, at most once per source: a
      // source read by one reader after another (drains after timeouts) must not collect listeners.
      source.off('error', onError);
      source.off('error', ignoreLateError);
      source.on('error', ignoreLateError);
    };
    if (source.readableEnded || source.destroyed) queueMicrotask(() => this.#finishSource());
  }

  #attachIterable(source: AsyncIterable<Uint8Array>): void {
    const iterator = source[Symbol.asyncIterator]();
    let stopped = false;
    this.#detach = () => {
      if (stopped) return;
      stopped = true;
      void Promise.resolve(iterator.return?.()).catch(() => {});
    };
    const pump = async () => {
      try {
        while (!stopped) {
          if (!this.#flowing) {
            await new Promise<void>((r) => {
              this.#flowWaiter = r;
            });
            continue;
          }
          const step = await iterator.next();
          if (step.done || stopped) break;
          this.#push(step.value, step.value.length, false);
        }
        this.#finishSource();
      } catch (e) {
        this.#finishSource(e);
      }
    };
    void pump();
  }
}

/** Concatenates all bytes until EOF (bounded by `maxBytes`). Mostly for tests and small payloads. */
export async function readAll(
  reader: ByteReader,
  options: { maxBytes?: number } & OperationOptions = {},
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const max = options.maxBytes ?? DEFAULT_MAX_BUFFER;
  for (;;) {
    try {
      const chunk = await reader.readAvailable(65_536, options);
      total += chunk.length;
      if (total > max) throw new LimitExceededError('readAll', max, total);
      parts.push(chunk);
    } catch (e) {
      if (EofError.isInstance(e)) return concatBytes(parts);
      throw e;
    }
  }
}
