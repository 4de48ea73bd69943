// ByteReader: cancellation-safe reads over a byte stream, modelled on asyncio's StreamReader.
//
// - A read consumes bytes only when it succeeds. A read that times out, is aborted, or hits a limit leaves
//   every byte in place for the next read.
// - EOF raises EofError carrying the bytes that did arrive (consumed, as asyncio's IncompleteReadError).
// - Reads are queued in call order; only the head of the queue looks at the buffer, so concurrent readers
//   never interleave.
// - The buffer is one growable contiguous region: appends are amortised O(1) and searches resume where the
//   last one stopped, so a delimiter at the end of 1 MiB delivered in 1-byte chunks costs linear time.
// - Large reads (>= 64 KiB) return a view of the buffer and the reader moves on to a fresh one, so a big
//   frame is copied exactly once, from the socket's chunk into its final place.

import { concatBytes, toBytes } from './bytes';
import { armDeadline, checkTimeout, type Deadline, type OperationOptions } from './deadline';
import { AbortedError, ClosedError, EofError, LimitExceededError, StreamError, TimeoutError } from './errors';

/** Where a ByteReader takes bytes from: any async iterable of chunks, or a Node Readable (net.Socket). */
export type ByteSource = AsyncIterable<Uint8Array> | ReadableLike;

/** The part of a Node `Readable` a ByteReader uses. */
export interface ReadableLike {
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: must accept EventEmitter's own signature
  off(event: string, listener: (...args: any[]) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  readonly readableEnded?: boolean;
  readonly destroyed?: boolean;
}

export interface ByteReaderOptions {
  /** Default deadline of every read, in ms. Default 10 000. `Infinity` disables it explicitly. */
  timeoutMs?: number;
  /** Default limit for readUntil/expect and how much is buffered ahead of readers. Default 1 MiB. */
  maxBuffer?: number;
  /** Default limit for readFrame payloads. Default 16 MiB. */
  maxFrame?: number;
}

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

/** Reads at or above this size are returned as a view of the buffer instead of a copy. */
const ALIAS_THRESHOLD = 64 * 1024;
const MIN_CAPACITY = 16 * 1024;
export const FRAME_HEADER_BYTES = 4;
export const DEFAULT_READ_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BUFFER = 1024 * 1024;
export const DEFAULT_MAX_FRAME = 16 * 1024 * 1024;

interface PendingRead {
  readonly name: string;
  /** Tries to complete from the buffer; returns true once the read has settled (either way). */
  attempt(): boolean;
  /** Bytes that must be buffered before this read can progress (flow control). */
  need(): number;
  /** The stream ended (or failed) and attempt() could not complete. */
  finish(failure: unknown): void;
  fail(error: unknown): void;
  /** Direct fill: bytes arriving while this read is at the head go straight into caller memory. */
  direct?: DirectFill | undefined;
  deadline?: Deadline;
  settled: boolean;
}

/** A read that fills caller memory directly. On cancel its bytes go back to the front of the buffer. */
interface DirectFill {
  readonly dest: Uint8Array;
  /** Bytes consumed from the stream before the payload (a frame header), restored on cancel. */
  readonly prefix: Uint8Array;
  filled: number;
  readonly want: number;
}

const EMPTY = new Uint8Array(0);

/** Uninitialised memory (no zero fill): only bytes below #end are ever read. */
function allocate(size: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(size);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function isReadableLike(source: ByteSource): source is ReadableLike {
  const s = source as Partial<ReadableLike>;
  return typeof s.on === 'function' && typeof s.pause === 'function' && typeof s.resume === 'function';
}

export class ByteReader implements AsyncDisposable {
  readonly #timeoutMs: number;
  readonly #maxBuffer: number;
  readonly #maxFrame: number;

  // The buffered bytes are #buf[#start, #end). #view is a Buffer over the same memory, for native indexOf.
  #buf: Uint8Array = new Uint8Array(0);
  #view: Buffer = Buffer.alloc(0);
  #start = 0;
  #end = 0;

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

  constructor(source: ByteSource, options: ByteReaderOptions = {}) {
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

  /** Reads exactly `n` bytes. EOF first raises EofError with the bytes that did arrive. */
  readExactly(n: number, options: ReadExactlyOptions = {}): Promise<Uint8Array> {
    if (!Number.isInteger(n) || n < 0)
      return Promise.reject(new RangeError(`readExactly: n must be a whole number >= 0, got ${n}`));
    const into = options.into;
    if (into && into.length < n) {
      return Promise.reject(new LimitExceededError('readExactly: destination too small', into.length, n));
    }
    return this.#enqueue<Uint8Array>('readExactly', options, (resolve, reject, self) => ({
      attempt: () => {
        if (into) return this.#fillDirect(self, into, n, EMPTY, resolve);
        if (this.buffered < n) {
          this.#reserve(n);
          return false;
        }
        resolve(this.#consume(n));
        return true;
      },
      need: () => n,
      finish: (failure) => reject(this.#endError('readExactly', failure, n)),
    }));
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
    const maxBytes = options.maxBytes ?? this.#maxBuffer;
    const longest = Math.max(...list.map((d) => d.length));
    const include = options.include ?? false;
    const needles = list.map((d) => Buffer.from(d.buffer, d.byteOffset, d.byteLength));
    let scanned = 0; // data already searched, relative to #start: a search resumes here
    return this.#enqueue<ReadUntilResult>('readUntil', options, (resolve, reject) => ({
      attempt: () => {
        const available = this.buffered;
        if (available === 0) return false;
        const view = this.#view.subarray(this.#start, this.#end);
        let bestEnd = Number.POSITIVE_INFINITY;
        let bestAt = -1;
        let bestIndex = -1;
        for (let i = 0; i < needles.length; i++) {
          const needle = needles[i]!;
          const from = Math.max(0, scanned - needle.length + 1);
          const at = needle.length === 1 ? view.indexOf(needle[0]!, from) : view.indexOf(needle, from);
          if (at >= 0 && at + needle.length < bestEnd) {
            bestEnd = at + needle.length;
            bestAt = at;
            bestIndex = i;
          }
        }
        if (bestIndex < 0) {
          scanned = available;
          if (available >= maxBytes + longest) {
            reject(new LimitExceededError('readUntil: no delimiter found', maxBytes, available));
            return true;
          }
          return false;
        }
        if (bestAt > maxBytes) {
          reject(new LimitExceededError('readUntil: data before the delimiter', maxBytes, bestAt));
          return true;
        }
        const all = this.#consume(bestEnd);
        resolve({
          data: include ? all : all.subarray(0, bestAt),
          index: bestIndex,
          delimiter: list[bestIndex]!,
        });
        return true;
      },
      need: () => maxBytes + longest,
      finish: (failure) => reject(this.#endError('readUntil', failure)),
    }));
  }

  /** Reads one frame with a u32 big-endian length prefix and returns its payload. */
  readFrame(options: ReadFrameOptions = {}): Promise<Uint8Array> {
    const maxBytes = options.maxBytes ?? this.#maxFrame;
    let total = FRAME_HEADER_BYTES;
    const into = options.into;
    return this.#enqueue<Uint8Array>('readFrame', options, (resolve, reject, self) => ({
      attempt: () => {
        if (self.direct)
          return this.#fillDirect(self, self.direct.dest, self.direct.want, self.direct.prefix, resolve);
        if (this.buffered < FRAME_HEADER_BYTES) return false;
        const length = this.#view.readUInt32BE(this.#start);
        if (length > maxBytes) {
          // Checked before any allocation: a hostile prefix (0xFFFFFFFF) costs nothing.
          reject(new LimitExceededError('readFrame: length prefix', maxBytes, length));
          return true;
        }
        total = FRAME_HEADER_BYTES + length;
        if (into) {
          if (into.length < length) {
            reject(new LimitExceededError('readFrame: destination too small', into.length, length));
            return true;
          }
          const prefix = this.#consume(FRAME_HEADER_BYTES, true);
          return this.#fillDirect(self, into, length, prefix, resolve);
        }
        if (this.buffered < total) {
          this.#reserve(total);
          return false;
        }
        this.#start += FRAME_HEADER_BYTES;
        resolve(this.#consume(length));
        return true;
      },
      need: () => total,
      finish: (failure) => reject(this.#endError('readFrame', failure, total)),
    }));
  }

  /** Waits for at least one byte and returns what is buffered, at most `max` bytes (socket `recv` style). */
  readAvailable(max = 65_536, options: OperationOptions = {}): Promise<Uint8Array> {
    if (!(max >= 1)) return Promise.reject(new RangeError(`readAvailable: max must be >= 1, got ${max}`));
    return this.#enqueue<Uint8Array>('readAvailable', options, (resolve, reject) => ({
      attempt: () => {
        if (this.buffered === 0) return false;
        resolve(this.#consume(Math.min(max, this.buffered)));
        return true;
      },
      need: () => 1,
      finish: (failure) => reject(this.#endError('readAvailable', failure, 1)),
    }));
  }

  /**
   * Waits until `pattern` has arrived (bytes listed in `ignore` are skipped while matching) and consumes
   * everything up to and including it. Resolves with the consumed bytes. An empty pattern matches at once.
   */
  expect(pattern: string | Uint8Array, options: ExpectOptions = {}): Promise<Uint8Array> {
    const want = toBytes(pattern);
    const k = want.length;
    const ignore = new Set(options.ignore ?? []);
    const maxBytes = options.maxBytes ?? this.#maxBuffer;
    if (k === 0) return Promise.resolve(new Uint8Array(0));
    if (ignore.size === 0) {
      return this.readUntil(want, { ...options, include: true, maxBytes }).then((r) => r.data);
    }
    // Window of the last k kept (non-ignored) bytes, resumed across attempts.
    const window: number[] = [];
    let scanned = 0;
    return this.#enqueue<Uint8Array>('expect', options, (resolve, reject) => ({
      attempt: () => {
        // Look through at most maxBytes + k bytes (ignored ones included), however the data was
        // chunked: a match further out is a limit error whether it arrived at once or byte by byte.
        const scanLimit = maxBytes + k;
        const end = Math.min(this.buffered, scanLimit);
        const buf = this.#buf;
        const base = this.#start;
        for (; scanned < end; scanned++) {
          const b = buf[base + scanned]!;
          if (ignore.has(b)) continue;
          window.push(b);
          if (window.length > k) window.shift();
          if (window.length === k && window.every((v, i) => v === want[i])) {
            resolve(this.#consume(scanned + 1));
            return true;
          }
        }
        if (scanned >= scanLimit) {
          reject(new LimitExceededError('expect: pattern not found', maxBytes, this.buffered));
          return true;
        }
        return false;
      },
      need: () => maxBytes + k,
      finish: (failure) => reject(this.#endError('expect', failure)),
    }));
  }

  /**
   * Discards input until the line has been quiet for `quietMs` and resolves with the number of bytes
   * discarded. Use it to resynchronise after a timed-out request. Rejects with TimeoutError when the
   * peer never goes quiet before the deadline. EOF ends the drain (there is nothing more to discard).
   */
  drain(options: DrainOptions = {}): Promise<number> {
    const quietMs = options.quietMs ?? 50;
    let discarded = 0;
    let quiet: ReturnType<typeof setTimeout> | undefined;
    let op: PendingRead | undefined;
    return this.#enqueue<number>(
      'drain',
      options,
      (resolve, _reject, self) => {
        op = self;
        return {
          attempt: () => {
            discarded += this.buffered;
            this.#discardAll();
            if (quiet !== undefined) clearTimeout(quiet);
            quiet = setTimeout(() => {
              quiet = undefined;
              if (op && !op.settled) {
                resolve(discarded);
                this.#settleHead(op);
              }
            }, quietMs);
            return false;
          },
          need: () => this.#maxBuffer,
          finish: () => {
            if (quiet !== undefined) clearTimeout(quiet);
            discarded += this.buffered;
            this.#discardAll();
            resolve(discarded);
          },
        };
      },
      () => {
        if (quiet !== undefined) clearTimeout(quiet);
      },
    );
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
    for (const op of pending) op.fail(new ClosedError(op.name));
    this.#flowWaiter?.();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  // --- queue -------------------------------------------------------------------------------------------

  #enqueue<T>(
    name: string,
    options: OperationOptions,
    build: (
      resolve: (value: T) => void,
      reject: (error: unknown) => void,
      self: PendingRead,
    ) => Pick<PendingRead, 'attempt' | 'need' | 'finish'>,
    cleanup?: () => void,
  ): Promise<T> {
    if (this.#closed) return Promise.reject(new ClosedError(name));
    let timeoutMs: number;
    try {
      timeoutMs = checkTimeout(options.timeoutMs, this.#timeoutMs);
    } catch (e) {
      return Promise.reject(e);
    }
    if (options.signal?.aborted) return Promise.reject(new AbortedError(name, options.signal.reason));
    return new Promise<T>((resolvePromise, rejectPromise) => {
      const op = { name, settled: false } as PendingRead;
      const done = () => {
        op.settled = true;
        op.deadline?.clear();
        cleanup?.();
      };
      const resolve = (value: T) => {
        if (op.settled) return;
        done();
        resolvePromise(value);
      };
      const reject = (error: unknown) => {
        if (op.settled) return;
        done();
        rejectPromise(error);
      };
      Object.assign(op, build(resolve, reject, op), { fail: reject });
      this.#queue.push(op);
      op.deadline = armDeadline(
        timeoutMs,
        options.signal,
        () =>
          this.#cancel(op, new TimeoutError(name, timeoutMs, this.#queue[0] === op ? this.peek(256) : EMPTY)),
        (reason) => this.#cancel(op, new AbortedError(name, reason)),
      );
      if (this.#queue[0] === op) this.#process();
    });
  }

  /** Timeout or abort: remove the read without consuming anything, then let the next one look. */
  #cancel(op: PendingRead, error: unknown): void {
    if (op.settled) return;
    const at = this.#queue.indexOf(op);
    this.#restoreDirect(op);
    op.fail(error);
    if (at >= 0) this.#queue.splice(at, 1);
    if (at === 0) this.#process();
  }

  /** Called by an op that settled outside attempt() (drain's quiet timer). */
  #settleHead(op: PendingRead): void {
    if (this.#queue[0] === op) {
      this.#queue.shift();
      this.#process();
    }
  }

  #process(): void {
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      if (head.settled) {
        this.#queue.shift();
        continue;
      }
      let done: boolean;
      try {
        done = head.attempt();
      } catch (e) {
        head.fail(e);
        done = true;
      }
      if (done) {
        this.#queue.shift();
        continue;
      }
      if (this.#ended) {
        this.#queue.shift();
        this.#restoreDirect(head);
        head.finish(this.#failure);
        continue;
      }
      break;
    }
    this.#updateFlow();
  }

  /** Moves buffered bytes into the head read's caller memory; resolves once `want` bytes are there. */
  #fillDirect(
    op: PendingRead,
    dest: Uint8Array,
    want: number,
    prefix: Uint8Array,
    resolve: (value: Uint8Array) => void,
  ): boolean {
    if (op.direct === undefined) op.direct = { dest, prefix, filled: 0, want };
    const d = op.direct;
    const take = Math.min(this.buffered, d.want - d.filled);
    if (take > 0) {
      d.dest.set(this.#buf.subarray(this.#start, this.#start + take), d.filled);
      d.filled += take;
      this.#start += take;
      if (this.#start === this.#end) this.#start = this.#end = 0;
    }
    if (d.filled < d.want) return false;
    op.direct = undefined;
    resolve(d.dest.subarray(0, d.want));
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

  #consume(n: number, forceCopy = false): Uint8Array {
    const from = this.#start;
    if (n >= ALIAS_THRESHOLD && !forceCopy) {
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
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return out;
  }

  #discardAll(): void {
    this.#start = this.#end = 0;
  }

  #setBuffer(buf: Uint8Array): void {
    this.#buf = buf;
    this.#view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#start = 0;
    this.#end = 0;
  }

  /** Makes room for `total` bytes from #start, so a large read fills its final place directly. */
  #reserve(total: number): void {
    if (this.#buf.length - this.#start >= total) return;
    this.#grow(total - this.buffered, total);
  }

  #grow(extra: number, reserve = 0): void {
    const live = this.buffered;
    const needed = Math.max(live + extra, reserve);
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
    this.#buf = next;
    this.#view = Buffer.from(next.buffer, next.byteOffset, next.byteLength);
    this.#start = 0;
    this.#end = live;
  }

  #push(chunk: Uint8Array): void {
    if (this.#closed || chunk.length === 0) return;
    this.#bytesRead += chunk.length;
    const direct = this.#queue[0]?.direct;
    if (direct !== undefined && this.buffered === 0) {
      // The head read fills caller memory: copy the part of the chunk it wants straight there.
      const take = Math.min(chunk.length, direct.want - direct.filled);
      direct.dest.set(take === chunk.length ? chunk : chunk.subarray(0, take), direct.filled);
      direct.filled += take;
      chunk = chunk.subarray(take);
      if (chunk.length === 0) {
        this.#process();
        return;
      }
    }
    if (this.#end + chunk.length > this.#buf.length) this.#grow(chunk.length);
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
    if (this.#queue.length > 0) this.#process();
    else this.#updateFlow();
  }

  #finishSource(failure?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#failure = failure;
    this.#detach();
    this.#process();
  }

  // --- flow control ------------------------------------------------------------------------------------

  #updateFlow(): void {
    if (this.#ended) return;
    const head = this.#queue[0];
    const want = Math.max(this.#maxBuffer, head ? head.need() : 0);
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
    const onData = (chunk: Uint8Array) => this.#push(chunk);
    const onEnd = () => this.#finishSource();
    const onError = (err: Error) => this.#finishSource(err);
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('close', onEnd);
    source.on('error', onError);
    this.#pauseSource = () => source.pause();
    this.#resumeSource = () => source.resume();
    this.#detach = () => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('close', onEnd);
      // A no-op listener stays so that a late 'error' never becomes an unhandled error event; the owner
      // of the source is told through its own listeners.
      source.off('error', onError);
      source.on('error', () => {});
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
          this.#push(step.value);
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
