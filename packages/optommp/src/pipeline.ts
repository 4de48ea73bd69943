// Pipelined requests on one TCP connection (opt-in: a window above 1). Up to `window` requests are in
// flight at once, written together when they are made together; replies are read one by one by the
// codec's pull reader into one reused buffer, matched to their requests by transaction label and checked
// by the codec's validator (tcode partner, data_length, …).
//
// Labels belong to the link (docs/protocols/optommp.md §2.9). A request that ended without its reply (timeout, abort) keeps its
// label until the late reply arrives and is dropped, or the link is replaced, so a late reply is never
// taken for another request's. By default replies must come in the order the requests went out (what a
// correct device does, and the only way to notice a device that mislabels): a reply that answers no
// outstanding request, or not the oldest one, or with the wrong tcode, means the stream is out of step.
// Every request in flight then fails with PipelineDesyncError, nothing is delivered to another caller,
// and the connection is replaced before anything else is sent. With `ordered: false` replies are matched
// by label alone (devices that answer out of order).
//
// The writes go through the interface's queue (`send`), so they stay whole and in order; the replies are
// read from the connection's reader by one loop per connection.

import {
  AbortedError,
  type ByteReader,
  ClosedError,
  checkTimeout,
  DecodeError,
  LimitExceededError,
  type Logger,
  TimeoutError,
} from '@labwire/framing';
import { ConnectionLostError, type DisconnectedEvent, type TcpInterface } from '@labwire/tcp';
import { type DecodedPacket, decodePacketAt, packetLengthAt } from './codec/decode';
import { encodePacket, type RequestInit } from './codec/encode';
import { ResponseMismatchError } from './codec/errors';
import { addressOf, MAX_OFFSET, OFFSET_PREFIX } from './codec/packet';
import { readPacket } from './codec/read-packet';
import { BLOCK_HEADER_BYTES, MIN_PACKET_BYTES, tcodeName } from './codec/tcode';
import { checkResponse, expectedResponseBytes, type ResponseExpectation } from './codec/validate';
import { PipelineDesyncError } from './errors';
import { type ExchangeOptions, labelRequest } from './transport';

/** The most requests in flight on one link (labels are 6 bits; half stay free for late replies). */
export const MAX_WINDOW = 32;
/** Settled once: its reactions are the pipeline's microtask turns. */
const RESOLVED = Promise.resolve();
/** Requests in a row that time out before the link is taken for half-open and replaced. */
const MAX_CONSECUTIVE_TIMEOUTS = 3;

/** Running totals of a pipelined link. */
export interface PipelineStats {
  /** Requests sent. */
  sent: number;
  /** Writes that carried them (requests made together leave in one write). */
  writes: number;
  /** Replies delivered to their requests (NAKs included). */
  answered: number;
  /** Replies that came back in another order than their requests went out. */
  outOfOrder: number;
  /** Replies to requests that had already timed out or been aborted: dropped. */
  lateReplies: number;
  /** Requests that timed out. */
  timeouts: number;
  /** Times the link was replaced because it went out of step. */
  desyncs: number;
  /** The most requests that were in flight at once. */
  maxInFlight: number;
}

/** Requests that leave together in one write. */
interface Batch {
  readonly entries: Entry[];
}

/** One request of a batch (`exchangeInto`): its reply's data is copied to `into` at `at`. */
export interface IntoRequest {
  readonly request: RequestInit;
  readonly into: Uint8Array;
  readonly at: number;
}

/** The requests of one `exchangeInto` call: one promise for all of them. */
interface Group {
  /** Requests whose replies have not been delivered yet. */
  left: number;
  /** The promise has been rejected: nothing more is written into the caller's memory. */
  failed: boolean;
  readonly entries: Entry[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * One request (one packet) and its caller. A class, so that every request has one shape on the hot path;
 * a plain read (`isPlainRead`) keeps no request object: its fields are numbers here, written in place.
 */
class Entry {
  // Every field is assigned in the constructor, in one order (no class field initialisers): V8 then lays
  // them all out inside the object, with no separate property store per request.
  /** The request's tcode (0, 1, 4 or 5). */
  declare readonly tcode: number;
  /** The request's source_ID, offset and (read block) data_length. */
  declare readonly sourceId: number;
  declare readonly offset: number;
  declare readonly dataLength: number;
  /** A request that is not a plain read: encoded by the codec with its label. */
  declare readonly request: RequestInit | undefined;
  declare readonly verifySourceId: boolean;
  declare readonly timeoutMs: number;
  declare readonly deadlineAt: number;
  /** A single request's decoder (undefined for a request of a group). */
  declare decode: ((data: Uint8Array) => unknown) | undefined;
  /** Or one that reads the data where it lies, `bytes[from, to)`: no view of it per reply. */
  declare decodeAt: DecodeAt<unknown> | undefined;
  declare resolve: ((value: unknown) => void) | undefined;
  declare reject: ((error: unknown) => void) | undefined;
  /** The batch this request belongs to, whose caller gets the data in its own memory. */
  declare group: Group | undefined;
  declare into: Uint8Array | undefined;
  declare at: number;
  declare signal: AbortSignal | undefined;
  declare onAbort: (() => void) | undefined;
  /** -1 until sent. */
  declare tl: number;
  /** What the reply must match (made when first needed: the general path, or an encoded request). */
  declare expect: ResponseExpectation | undefined;
  /** The write that carries it (several requests leave in one write). */
  declare batch: Batch | undefined;
  /** The interface took the bytes: a reply is due (or the link goes down). */
  declare written: boolean;
  /** Its reply came (or the link that carried it is gone): no longer outstanding. */
  declare done: boolean;
  /** Order in which requests went out. */
  declare seq: number;
  /** The caller has its answer or error. */
  declare settled: boolean;

  constructor(
    request: RequestInit | undefined,
    tcode: number,
    offset: number,
    dataLength: number,
    sourceId: number,
    verifySourceId: boolean,
    timeoutMs: number,
    deadlineAt: number,
  ) {
    this.tcode = tcode;
    this.sourceId = sourceId;
    this.offset = offset;
    this.dataLength = dataLength;
    this.request = request;
    this.verifySourceId = verifySourceId;
    this.timeoutMs = timeoutMs;
    this.deadlineAt = deadlineAt;
    this.decode = undefined;
    this.decodeAt = undefined;
    this.resolve = undefined;
    this.reject = undefined;
    this.group = undefined;
    this.into = undefined;
    this.at = 0;
    this.signal = undefined;
    this.onAbort = undefined;
    this.tl = -1;
    this.expect = undefined;
    this.batch = undefined;
    this.written = false;
    this.done = false;
    this.seq = -1;
    this.settled = false;
  }

  static of(request: RequestInit, verifySourceId: boolean, timeoutMs: number, deadlineAt: number): Entry {
    const plain = isPlainRead(request);
    return new Entry(
      plain ? undefined : request,
      request.tcode,
      request.offset,
      request.tcode === 5 ? request.dataLength : 0,
      request.sourceId ?? 0,
      verifySourceId,
      timeoutMs,
      deadlineAt,
    );
  }

  /** What the reply must match (docs/protocols/optommp.md §2.11). */
  expectation(): ResponseExpectation {
    this.expect ??= {
      requestTcode: this.tcode as 0 | 1 | 4 | 5,
      tl: this.tl,
      sourceId: this.verifySourceId ? this.sourceId : undefined,
      dataLength: this.tcode === 5 ? this.dataLength : undefined,
      address: addressOf(this.offset),
    };
    return this.expect;
  }
}

/**
 * A decoder of a reply's data where it lies: `bytes[from, to)`, valid only while it runs.
 * @internal
 */
export type DecodeAt<T> = (bytes: Uint8Array, from: number, to: number) => T;

/** The entry whose promise is being made (`#startOne`): `takeResolvers` gives it its resolving functions. */
let forPromise: Entry | undefined;

/** The executor of every single request's promise. */
function takeResolvers(resolve: (value: never) => void, reject: (error: unknown) => void): void {
  const entry = forPromise!;
  entry.resolve = resolve as (value: unknown) => void;
  entry.reject = reject;
}

/** A block for `readBlocksInto` (checked by the client: span, memory). */
interface BlockSpan {
  readonly address: number;
  readonly length: number;
  readonly into: Uint8Array;
  readonly at?: number;
}

export interface PipelineOptions {
  /** Requests in flight at once: 2…32. */
  window: number;
  /** Replies must come in the order the requests went out. Default true. */
  ordered?: boolean;
  /** Deadline of a request that brings none of its own, ms. */
  timeoutMs: number;
  logger: Logger;
}

export class Pipeline {
  readonly #tcp: TcpInterface;
  readonly #window: number;
  readonly #ordered: boolean;
  readonly #defaultTimeoutMs: number;
  readonly #log: Logger;
  /** Every request with a reply due, by label: in flight, or ended early and waiting for its late reply. */
  readonly #byLabel: (Entry | undefined)[] = new Array<Entry | undefined>(64).fill(undefined);
  /** Labels held in #byLabel. */
  #held = 0;
  /** The same requests in the order they went out (done ones are skipped lazily). */
  readonly #order: Entry[] = [];
  #orderHead = 0;
  /** Requests in flight whose callers still wait (what the window counts). */
  #active = 0;
  readonly #queue: Entry[] = [];
  #queueHead = 0;
  #tl = 0;
  #seq = 0;
  #lastAnsweredSeq = -1;
  #generation = 0;
  #consecutiveTimeouts = 0;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #watchdogAt = Number.POSITIVE_INFINITY;
  #closed = false;
  #pumping = false;
  #pumpScheduled = false;
  #pumpImmediate: ReturnType<typeof setImmediate> | undefined;
  /** In the receive callback, delivering replies: it schedules the pump itself when it is done. */
  #delivering = false;
  /** The largest reply any request sent so far expects, bytes: the read buffer's size. */
  #largestReply = 4096;
  readonly #stats: PipelineStats = {
    sent: 0,
    writes: 0,
    answered: 0,
    outOfOrder: 0,
    lateReplies: 0,
    timeouts: 0,
    desyncs: 0,
    maxInFlight: 0,
  };
  readonly #onConnected = () => this.#startReading();
  readonly #onDisconnected = (e: DisconnectedEvent) => this.#linkDown(e);

  constructor(tcp: TcpInterface, options: PipelineOptions) {
    const window = options.window;
    if (!Number.isInteger(window) || window < 2 || window > MAX_WINDOW) {
      throw new RangeError(`a pipelined window must be 2..${MAX_WINDOW}, got ${window}`);
    }
    this.#tcp = tcp;
    this.#window = window;
    this.#ordered = options.ordered ?? true;
    this.#defaultTimeoutMs = options.timeoutMs;
    this.#log = options.logger;
    tcp.on('connected', this.#onConnected);
    tcp.on('disconnected', this.#onDisconnected);
    if (tcp.connected) this.#startReading();
  }

  get window(): number {
    return this.#window;
  }

  /** Requests sent whose callers wait for the reply. */
  get inFlight(): number {
    return this.#active;
  }

  get stats(): PipelineStats {
    return { ...this.#stats };
  }

  exchange<T>(request: RequestInit, options: ExchangeOptions, decode: (data: Uint8Array) => T): Promise<T> {
    const timeoutMs = this.#admit(options);
    if (typeof timeoutMs !== 'number') return Promise.reject(timeoutMs);
    const entry = Entry.of(request, options.verifySourceId === true, timeoutMs, this.#deadlineOf(timeoutMs));
    return this.#startOne(entry, options.signal, decode);
  }

  /**
   * `exchange` for one plain read block request (`OptoMmpClient`'s one-packet reads on a pipelined link),
   * made straight from its fields: no request or options object per call. The client has checked the
   * span (`offset` is the full 48-bit offset, `dataLength` 0…0xffff) and the timeout (a number ≥ 0 or
   * Infinity).
   * @internal
   */
  readBlock<T>(
    offset: number,
    dataLength: number,
    sourceId: number,
    verifySourceId: boolean,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    decode: ((data: Uint8Array) => T) | undefined,
    decodeAt?: DecodeAt<T>,
  ): Promise<T> {
    if (this.#closed) return Promise.reject(new ClosedError('request'));
    if (signal?.aborted) return Promise.reject(new AbortedError('request', signal.reason));
    const deadlineAt = this.#deadlineOf(timeoutMs);
    const entry = new Entry(
      undefined,
      5,
      offset,
      dataLength,
      sourceId,
      verifySourceId,
      timeoutMs,
      deadlineAt,
    );
    entry.decodeAt = decodeAt;
    return this.#startOne(entry, signal, decode);
  }

  /** Queues one request with its own promise. */
  #startOne<T>(
    entry: Entry,
    signal: AbortSignal | undefined,
    decode: ((data: Uint8Array) => T) | undefined,
  ): Promise<T> {
    // One executor for every call (no closure per request): it hands the resolving functions to the
    // entry set aside just before, synchronously, as the Promise constructor calls it.
    forPromise = entry;
    const promise = new Promise<T>(takeResolvers);
    forPromise = undefined;
    entry.decode = decode;
    if (signal !== undefined) {
      entry.signal = signal;
      entry.onAbort = () => this.#end(entry, new AbortedError('request', signal.reason));
      signal.addEventListener('abort', entry.onAbort, { once: true });
    }
    if (entry.deadlineAt < this.#watchdogAt) this.#armWatchdog(entry.deadlineAt);
    this.#queue.push(entry);
    this.#pump();
    return promise;
  }

  /**
   * Sends `parts` (all of them, in flight together up to the window) and copies each reply's data into
   * its part's memory (`into` at `at`, the caller checked that it fits); one promise for the lot,
   * resolved once every reply is in. Each request keeps its own label, checks and deadline (the same for
   * all: the call's timeout); the first failure rejects the promise, and nothing is written into the
   * caller's memory after that (requests not sent yet are dropped, those in flight end as usual).
   */
  exchangeInto(parts: readonly IntoRequest[], options: ExchangeOptions): Promise<void> {
    const timeoutMs = this.#admit(options);
    if (typeof timeoutMs !== 'number') return Promise.reject(timeoutMs);
    for (const part of parts) {
      // The reply's data must fit where it goes: checked here, never in the read loop.
      const r = part.request;
      const n = r.tcode === 5 ? r.dataLength : r.tcode === 4 ? 4 : 0;
      if (!Number.isInteger(part.at) || part.at < 0 || part.at + n > part.into.length) {
        return Promise.reject(
          new RangeError(`${n} byte(s) at ${part.at} do not fit into ${part.into.length} byte(s) of memory`),
        );
      }
    }
    const verifySourceId = options.verifySourceId === true;
    const deadlineAt = this.#deadlineOf(timeoutMs);
    const entries = new Array<Entry>(parts.length);
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const entry = Entry.of(part.request, verifySourceId, timeoutMs, deadlineAt);
      entry.into = part.into;
      entry.at = part.at;
      entries[i] = entry;
    }
    return this.#startGroup(entries, options.signal);
  }

  /**
   * `OptoMmpClient.readBlocksInto` on a pipelined link: `exchangeInto` for plain read block requests of
   * at most `maxBlock` bytes each, made straight from the blocks (no request object per packet). The
   * client has checked every span and that it fits its memory.
   * @internal
   */
  readBlocksInto(
    blocks: readonly BlockSpan[],
    maxBlock: number,
    sourceId: number,
    options: ExchangeOptions,
  ): Promise<void> {
    const timeoutMs = this.#admit(options);
    if (typeof timeoutMs !== 'number') return Promise.reject(timeoutMs);
    const verifySourceId = options.verifySourceId === true;
    const deadlineAt = this.#deadlineOf(timeoutMs);
    let count = 0;
    for (const block of blocks) count += Math.ceil(block.length / maxBlock);
    const entries = new Array<Entry>(count);
    let k = 0;
    for (const block of blocks) {
      const at = block.at ?? 0;
      for (let done = 0; done < block.length; done += maxBlock) {
        const n = Math.min(maxBlock, block.length - done);
        const offset = OFFSET_PREFIX + block.address + done;
        const entry = new Entry(undefined, 5, offset, n, sourceId, verifySourceId, timeoutMs, deadlineAt);
        entry.into = block.into;
        entry.at = at + done;
        entries[k++] = entry;
      }
    }
    return this.#startGroup(entries, options.signal);
  }

  /** The call's deadline, ms, or why it cannot start (closed, a bad timeout, aborted already). */
  #admit(options: ExchangeOptions): number | Error {
    if (this.#closed) return new ClosedError('request');
    let timeoutMs: number;
    try {
      timeoutMs = checkTimeout(options.timeoutMs, this.#defaultTimeoutMs);
    } catch (e) {
      return e as Error;
    }
    const signal = options.signal;
    if (signal?.aborted) return new AbortedError('request', signal.reason);
    return timeoutMs;
  }

  #deadlineOf(timeoutMs: number): number {
    return Number.isFinite(timeoutMs) ? performance.now() + timeoutMs : Number.POSITIVE_INFINITY;
  }

  /** Queues the requests of one call; its promise settles with the first error or the last reply. */
  #startGroup(entries: Entry[], signal: AbortSignal | undefined): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const group: Group = {
        left: entries.length,
        failed: false,
        entries,
        resolve,
        reject,
        signal,
        onAbort: undefined,
      };
      for (const entry of entries) {
        entry.group = group;
        this.#queue.push(entry);
      }
      if (signal !== undefined) {
        group.onAbort = () => {
          const error = new AbortedError('request', signal.reason);
          for (const entry of group.entries) this.#end(entry, error);
        };
        signal.addEventListener('abort', group.onAbort, { once: true });
      }
      const deadlineAt = entries[0]!.deadlineAt;
      if (deadlineAt < this.#watchdogAt) this.#armWatchdog(deadlineAt);
      this.#pump();
    });
  }

  /** Fails everything pending with ClosedError and lets go of the interface. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#generation++;
    this.#tcp.off('connected', this.#onConnected);
    this.#tcp.off('disconnected', this.#onDisconnected);
    if (this.#watchdog !== undefined) clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
    if (this.#pumpImmediate !== undefined) clearImmediate(this.#pumpImmediate);
    this.#pumpImmediate = undefined;
    const pending = [...this.#heldEntries(), ...this.#queue.slice(this.#queueHead)];
    this.#byLabel.fill(undefined);
    this.#held = 0;
    this.#order.length = 0;
    this.#orderHead = 0;
    this.#active = 0;
    this.#queue.length = 0;
    this.#queueHead = 0;
    for (const entry of pending) this.#settle(entry, new ClosedError('request'));
  }

  // --- sending -------------------------------------------------------------------------------------------

  /**
   * Sends what the window allows, soon: requests made in the same turn (concurrent calls, the chunks of a
   * long read, the callers freed by one batch of replies) leave together in one write.
   */
  #pump(): void {
    // A full window waits: the next request that ends (reply, timeout, abort, lost link) pumps again.
    if (this.#pumpScheduled || this.#closed || this.#active >= this.#window) return;
    this.#pumpScheduled = true;
    // An idle link sends at once (after this turn's synchronous calls). A busy one waits until the
    // replies that have arrived are all handled and their callers have asked again: one write then carries
    // every new request, instead of one write (and one wake-up of the device) per reply.
    // (A resolved promise's reaction, not queueMicrotask: Node makes an AsyncResource and a bound
    // function for every queueMicrotask call.)
    if (this.#active === 0) void RESOLVED.then(this.#pumpNow);
    else if (!this.#delivering) this.#pumpImmediate = setImmediate(this.#pumpNow);
  }

  /**
   * After a receive callback delivered replies, once their callers have resumed: sends at once when the
   * requests waiting fill every free slot of the window (nothing to wait for), or else in the scheduled
   * turn, which gathers the requests of callers that take longer to ask again.
   */
  readonly #pumpAfterCallers = (): void => {
    if (!this.#pumpScheduled || this.#closed || this.#pumpImmediate !== undefined) return;
    if (this.#active + this.#queue.length - this.#queueHead >= this.#window) this.#pumpNow();
    else this.#pumpImmediate = setImmediate(this.#pumpNow);
  };

  readonly #pumpNow = (): void => {
    this.#pumpScheduled = false;
    if (this.#pumpImmediate !== undefined) {
      // Sent sooner (from a receive callback): the scheduled turn has nothing left to do.
      clearImmediate(this.#pumpImmediate);
      this.#pumpImmediate = undefined;
    }
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      this.#send();
    } finally {
      this.#pumping = false;
    }
  };

  #send(): void {
    const entries: Entry[] = [];
    /** Per entry: its bytes when the codec's encoder made them (undefined: a plain read, written below). */
    let packets: (Uint8Array | undefined)[] | undefined;
    let size = 0;
    let lastDeadline = 0;
    const batch: Batch = { entries };
    while (this.#active < this.#window && this.#queueHead < this.#queue.length && !this.#closed) {
      const entry = this.#queue[this.#queueHead]!;
      if (entry.settled) {
        this.#queueHead++;
        continue;
      }
      let tl = this.#freeLabel();
      if (tl < 0) {
        // Every label is held by a request in flight or a reply that never came: only a fresh link frees
        // them (the requests in flight fail with the desync).
        this.#desync(`all 64 transaction labels held (${this.#held - this.#active} replies never came)`);
        tl = this.#freeLabel();
      }
      this.#queueHead++;
      entry.tl = tl;
      entry.expect = undefined;
      let reply: number;
      if (entry.request === undefined) {
        // A plain read: written straight into the batch's buffer below, no encoder objects.
        size += entry.tcode === 5 ? 16 : 12;
        reply = entry.tcode === 5 ? BLOCK_HEADER_BYTES + entry.dataLength : 16;
      } else {
        const labelled = labelRequest(entry.request, tl, entry.verifySourceId);
        entry.expect = labelled.expect;
        packets ??= [];
        packets[entries.length] = labelled.bytes;
        size += labelled.bytes.length;
        reply = expectedResponseBytes(labelled.expect);
      }
      if (reply > this.#largestReply) this.#largestReply = reply;
      entry.seq = this.#seq++;
      entry.batch = batch;
      this.#hold(entry);
      if (this.#order.length >= 256) this.#compactOrder();
      this.#order.push(entry);
      this.#active++;
      this.#stats.sent++;
      if (this.#active > this.#stats.maxInFlight) this.#stats.maxInFlight = this.#active;
      entries.push(entry);
      if (entry.deadlineAt > lastDeadline) lastDeadline = entry.deadlineAt;
    }
    if (this.#queueHead === this.#queue.length) {
      this.#queue.length = 0;
      this.#queueHead = 0;
    } else if (this.#queueHead > 1024) {
      this.#queue.splice(0, this.#queueHead);
      this.#queueHead = 0;
    }
    if (entries.length === 0) return;
    // From Node's pool (no memory of its own for a few hundred bytes), and a Buffer as the socket takes it.
    const bytes = Buffer.allocUnsafe(size);
    let at = 0;
    for (let i = 0; i < entries.length; i++) {
      const p = packets?.[i];
      const e = entries[i]!;
      if (p === undefined) at = writeRead(bytes, at, e.tcode, e.sourceId, e.offset, e.dataLength, e.tl);
      else {
        bytes.set(p, at);
        at += p.length;
      }
    }
    this.#stats.writes++;
    // With nothing queued in the interface, the bytes leave at once when the socket takes them without
    // waiting (what its own request path does): no queued write, no promise per batch.
    const link = this.#tcp.pending === 0 ? this.#tcp.connection.link : undefined;
    if (link?.trySend(bytes) === true) {
      for (const entry of entries) entry.written = true;
      return;
    }
    const left = lastDeadline - performance.now();
    this.#tcp.send(bytes, { timeoutMs: Number.isFinite(left) ? Math.max(1, left) : left }).then(
      () => {
        for (const entry of entries) if (entry.batch === batch) entry.written = true;
      },
      (error: unknown) => {
        // Requests moved to a new connection meanwhile are not concerned.
        for (const entry of entries) if (entry.batch === batch) this.#sendFailed(entry, error);
      },
    );
  }

  /** The next label (1…63, then 0) not held by an outstanding request; -1 when none is free. */
  #freeLabel(): number {
    for (let i = 0; i < 64; i++) {
      this.#tl = (this.#tl + 1) & 63;
      if (this.#byLabel[this.#tl] === undefined) return this.#tl;
    }
    return -1;
  }

  /** The request now holds its label until its reply comes or the link is replaced. */
  #hold(entry: Entry): void {
    if (this.#byLabel[entry.tl] === undefined) this.#held++;
    this.#byLabel[entry.tl] = entry;
  }

  /** Lets go of the label `entry` holds (if it still does). */
  #release(entry: Entry): void {
    if (entry.tl < 0 || this.#byLabel[entry.tl] !== entry) return;
    this.#byLabel[entry.tl] = undefined;
    this.#held--;
  }

  /** The requests holding a label. */
  #heldEntries(): Entry[] {
    const out: Entry[] = [];
    for (const entry of this.#byLabel) if (entry !== undefined) out.push(entry);
    return out;
  }

  /** The write failed or was cancelled before it left (a write that failed half way drops the link). */
  #sendFailed(entry: Entry, error: unknown): void {
    this.#retire(entry);
    this.#settle(entry, error);
  }

  // --- receiving -----------------------------------------------------------------------------------------

  #startReading(): void {
    const reader = this.#tcp.reader;
    if (reader === undefined || this.#closed) return;
    // Requests of the previous connection were settled when it went down; what is outstanding now was
    // queued for this one.
    const generation = ++this.#generation;
    void this.#readLoop(reader, generation);
  }

  /**
   * Reads the connection until it goes down (its reader closes) or is replaced. Replies whole in the
   * reader's buffer are delivered from its memory; a reply whose header is there but not all of its data
   * (the one cut by the end of a chunk) is read in one read into a reused buffer, the rest of it straight
   * from the socket's next chunk; anything less, or anything unusual, goes through the codec's pull reader.
   */
  async #readLoop(reader: ByteReader, generation: number): Promise<void> {
    const read = { timeoutMs: Number.POSITIVE_INFINITY, into: new Uint8Array(4096) };
    try {
      while (generation === this.#generation) {
        // Plain replies already whole in the reader's buffer are delivered from there.
        if (this.#deliverAtHand(reader, generation)) continue;
        let bytes: Uint8Array | undefined;
        let packet: DecodedPacket;
        try {
          const next = readBuffered(reader, read);
          if (next !== undefined) {
            bytes = next instanceof Uint8Array ? next : await next;
            packet = decodePacketAt(bytes, 0, bytes.length, false);
          } else if (!reader.ended) {
            // Not even a header at hand: wait for the next bytes without a read in line, so that the
            // replies in them are delivered from the memory they landed in.
            await this.#arrival(reader, generation);
            continue;
          } else {
            // The stream ended: the pull reader raises EofError with what arrived of the packet.
            packet = await readPacket(reader, read);
          }
        } catch (error) {
          if (!DecodeError.isInstance(error) && !LimitExceededError.isInstance(error)) throw error;
          if (generation === this.#generation) {
            this.#desync('bytes that do not start an OptoMMP packet', undefined, error);
          }
          return;
        }
        if (generation !== this.#generation) return;
        // The usual reply is taken as at hand; anything else is checked and reported in full.
        if (bytes === undefined || this.#takeAtHand(bytes, 0, bytes.length, generation) === 0) {
          this.#dispatch(packet);
        }
        // Room for the largest reply due (a larger one gets memory of its own).
        if (read.into.length < this.#largestReply) read.into = new Uint8Array(this.#largestReply);
      }
    } catch (error) {
      // The link went down; #linkDown fails what was in flight.
      this.#log.debug('optommp/pipeline: reader ended', { error: (error as Error).message });
    }
  }

  /**
   * Resolves when bytes arrive at `reader` with no read in line (or it ends or closes), having delivered
   * the replies that arrived whole right there, in the reader's arrival callback: from the memory the
   * socket read them into, with no promise or turn of the event loop per reply.
   */
  #arrival(reader: ByteReader, generation: number): Promise<void> {
    return new Promise<void>((resolve) => {
      reader.onArrival(() => {
        reader.onArrival(undefined);
        resolve();
        if (generation !== this.#generation) return;
        this.#delivering = true;
        try {
          this.#deliverAtHand(reader, generation);
        } finally {
          this.#delivering = false;
          this.#pumpAfterDelivery();
        }
      });
    });
  }

  /** Schedules the pump the receive callback's deliveries asked for (#pump left it to the callback). */
  #pumpAfterDelivery(): void {
    // A pump asked for and not under way yet (an idle link's microtask turn runs first and finds it done).
    if (!this.#pumpScheduled || this.#pumpImmediate !== undefined) return;
    // Requests already waiting for the window slots just freed leave now, from the receive callback,
    // as a plain Node client would send them.
    if (this.#queueHead < this.#queue.length) this.#pumpNow();
    // The callers just answered resume in the microtasks that follow this callback: once they have
    // asked again (one turn each), a window they fill leaves in this same receive turn, with no turn
    // of the event loop in between; otherwise in the next turn, which gathers more.
    else void RESOLVED.then(this.#pumpAfterCallers);
  }

  /**
   * Delivers the replies that are whole in the reader's buffer straight from its memory (no copy, no
   * packet object, no promise). True when something was delivered.
   */
  #deliverAtHand(reader: ByteReader, generation: number): boolean {
    if (reader.pending !== 0 || reader.buffered < MIN_PACKET_BYTES) return false;
    const bytes = reader.peekView();
    const at = this.#takeAtHand(bytes, 0, bytes.length, generation);
    if (at === 0) return false;
    // Nothing else reads this reader, so the bytes looked at are still the first ones buffered.
    reader.discard(at);
    return true;
  }

  /**
   * Takes the whole replies in `bytes[at, end)` one after the other, as long as each is a successful
   * reply to the oldest outstanding request (any request, unordered) that passes every check of
   * docs/protocols/optommp.md §2.11, and returns how many bytes it took. The first that is anything else
   * (a NAK, a late or unexpected label, a mismatch, a partial packet) stops it and is left to the general
   * path, which reads, checks and reports it.
   */
  #takeAtHand(bytes: Uint8Array, at: number, end: number, generation: number): number {
    const from0 = at;
    while (end - at >= MIN_PACKET_BYTES && generation === this.#generation) {
      const tcode = bytes[at + 3]! >> 4;
      let length: number;
      if (tcode === 7) {
        if (end - at < LENGTH_HEADER_BYTES) break;
        length = BLOCK_HEADER_BYTES + ((bytes[at + 12]! << 8) | bytes[at + 13]!);
      } else if (tcode === 6) length = 16;
      else if (tcode === 2) length = MIN_PACKET_BYTES;
      else break;
      if (length > end - at || bytes[at + 6]! >> 4 !== 0) break;
      const entry = this.#byLabel[bytes[at + 2]! >> 2];
      if (entry === undefined || entry.settled || (this.#ordered && this.#oldest() !== entry)) break;
      if (tcode !== (entry.tcode === 5 ? 7 : entry.tcode === 4 ? 6 : 2)) break;
      if (entry.verifySourceId && ((bytes[at + 4]! << 8) | bytes[at + 5]!) !== entry.sourceId) break;
      if (tcode === 7 && length - BLOCK_HEADER_BYTES !== entry.dataLength) break;
      this.#answered(entry);
      const from = at + (tcode === 7 ? BLOCK_HEADER_BYTES : MIN_PACKET_BYTES);
      const to = tcode === 2 ? from : at + length;
      at += length;
      this.#deliver(entry, bytes, from, to);
    }
    return at - from0;
  }

  /** Keeps only the outstanding requests in the send-order list (at most 64: one per label). */
  #compactOrder(): void {
    let j = 0;
    for (let i = this.#orderHead; i < this.#order.length; i++) {
      const e = this.#order[i]!;
      if (!e.done) this.#order[j++] = e;
    }
    this.#order.length = j;
    this.#orderHead = 0;
  }

  /** The oldest outstanding request, skipping ones already done. */
  #oldest(): Entry | undefined {
    while (this.#orderHead < this.#order.length) {
      const e = this.#order[this.#orderHead]!;
      if (!e.done) {
        if (this.#orderHead > 64) {
          // Drop the done ones from the front now and then: the list stays as long as what is outstanding.
          this.#order.splice(0, this.#orderHead);
          this.#orderHead = 0;
        }
        return e;
      }
      this.#orderHead++;
    }
    this.#order.length = 0;
    this.#orderHead = 0;
    return undefined;
  }

  #dispatch(packet: DecodedPacket): void {
    const entry = this.#byLabel[packet.tl];
    if (entry === undefined) {
      this.#desync(
        `a reply with transaction label ${packet.tl} answers no request outstanding`,
        encodePacket(packet),
      );
      return;
    }
    if (this.#ordered) {
      const oldest = this.#oldest();
      if (oldest !== entry) {
        this.#desync(
          `a reply with transaction label ${packet.tl} came before the reply to label ${oldest?.tl} (sent first)`,
          encodePacket(packet),
        );
        return;
      }
    }
    let data: Uint8Array | undefined;
    let error: unknown;
    try {
      data = checkResponse(packet, entry.expectation());
    } catch (e) {
      if (ResponseMismatchError.isInstance(e) && e.field === 'tcode') {
        this.#desync(
          `label ${packet.tl} answered with a ${tcodeName(packet.tcode)}, not the partner of a ${tcodeName(entry.tcode)}`,
          encodePacket(packet),
          e,
        );
        return;
      }
      // A NAK, or a data_length / source_ID that does not fit: that request fails, the stream is in step.
      error = e;
    }
    if (entry.settled) {
      this.#retire(entry);
      this.#stats.lateReplies++;
      this.#log.debug('optommp/pipeline: late reply dropped', { tl: packet.tl });
      return;
    }
    this.#answered(entry);
    if (error === undefined) this.#deliver(entry, data!, 0, data!.length);
    else this.#settle(entry, error);
  }

  /** A reply to `entry` came in step: its label and window slot are free. */
  #answered(entry: Entry): void {
    this.#retire(entry);
    this.#stats.answered++;
    this.#consecutiveTimeouts = 0;
    if (entry.seq < this.#lastAnsweredSeq) this.#stats.outOfOrder++;
    else this.#lastAnsweredSeq = entry.seq;
  }

  /**
   * A successful reply's data, `bytes[from, to)`, to its caller: into the caller's memory (a group) or
   * through its decoder.
   */
  #deliver(entry: Entry, bytes: Uint8Array, from: number, to: number): void {
    const group = entry.group;
    if (group !== undefined) {
      // Straight into the caller's memory (unless its promise has already been rejected).
      if (!group.failed) entry.into!.set(bytes.subarray(from, to), entry.at);
      this.#settle(entry, undefined);
      return;
    }
    let value: unknown;
    try {
      const decodeAt = entry.decodeAt;
      value = decodeAt !== undefined ? decodeAt(bytes, from, to) : entry.decode!(bytes.subarray(from, to));
    } catch (e) {
      this.#settle(entry, e);
      return;
    }
    this.#settle(entry, undefined, value);
  }

  // --- ending requests -----------------------------------------------------------------------------------

  /** The request is no longer outstanding: its label is free, its window slot too. */
  #retire(entry: Entry): void {
    if (entry.done || entry.tl < 0) return;
    entry.done = true;
    this.#release(entry);
    if (!entry.settled) this.#active--;
  }

  /** Ends a request without its reply (timeout, abort); once sent, it keeps its label until the late reply. */
  #end(entry: Entry, error: unknown): void {
    if (entry.settled) return;
    // Sent (or about to leave in its batch): the window slot is free, the label stays held until the late
    // reply comes (settled below).
    if (entry.tl >= 0 && !entry.done) this.#active--;
    const counts = TimeoutError.isInstance(error) && entry.tl >= 0;
    this.#settle(entry, error);
    if (TimeoutError.isInstance(error)) this.#stats.timeouts++;
    if (counts && ++this.#consecutiveTimeouts >= MAX_CONSECUTIVE_TIMEOUTS) {
      this.#consecutiveTimeouts = 0;
      this.#desync(`${MAX_CONSECUTIVE_TIMEOUTS} requests in a row timed out (half-open link?)`);
    }
  }

  #settle(entry: Entry, error: unknown, value?: unknown): void {
    if (entry.settled) return;
    entry.settled = true;
    const group = entry.group;
    if (group !== undefined) {
      this.#settleInGroup(group, error);
    } else {
      const resolve = entry.resolve!;
      const reject = entry.reject!;
      // A settled entry may stay referenced a while (the send-order list drops done entries lazily, a
      // timed-out one keeps its label until its late reply): it lets go of its caller's promise (and the
      // value that resolved it), decoder and signal now, so none of them outlives the call.
      entry.resolve = undefined;
      entry.reject = undefined;
      entry.decode = undefined;
      entry.decodeAt = undefined;
      if (entry.onAbort !== undefined) {
        entry.signal?.removeEventListener('abort', entry.onAbort);
        entry.onAbort = undefined;
        entry.signal = undefined;
      }
      if (error === undefined) resolve(value);
      else reject(error);
    }
    this.#pump();
  }

  /** One request of a group ended: the group's promise settles with the first error or the last reply. */
  #settleInGroup(group: Group, error: unknown): void {
    if (group.failed) return;
    if (error === undefined) {
      if (--group.left > 0) return;
      if (group.onAbort !== undefined) group.signal?.removeEventListener('abort', group.onAbort);
      group.resolve();
      return;
    }
    group.failed = true;
    if (group.onAbort !== undefined) group.signal?.removeEventListener('abort', group.onAbort);
    // Requests not sent yet are dropped; those in flight end as usual (their data goes nowhere).
    for (const sibling of group.entries) if (sibling.tl < 0) sibling.settled = true;
    group.reject(error);
  }

  /**
   * Forgets the outstanding requests whose bytes went out on the link that is gone or being replaced, and
   * returns those whose callers still wait. Requests not written yet either stay queued in the interface
   * for the next connection (`requeue` false: the link went down on its own), or are withdrawn and sent
   * again first once the connection has been replaced (`requeue` true: their writes would otherwise still
   * go out on the old one).
   */
  #forgetOutstanding(requeue: boolean): Entry[] {
    const lost: Entry[] = [];
    const again: Entry[] = [];
    for (let i = this.#orderHead; i < this.#order.length; i++) {
      const entry = this.#order[i]!;
      if (entry.done) continue;
      const unwritten = !entry.written;
      if (unwritten && !requeue) continue;
      this.#release(entry);
      // Not written yet, its write is queued ahead of the reconnect and will still leave on the old
      // connection: a read is sent again on the new one (reads are harmless to repeat); a write fails
      // below, since whether the device executed it cannot be known.
      if (unwritten && !entry.settled && (entry.tcode === 4 || entry.tcode === 5)) {
        entry.batch = undefined;
        this.#active--;
        entry.tl = -1;
        entry.seq = -1;
        again.push(entry);
        continue;
      }
      entry.batch = undefined;
      entry.done = true;
      if (!entry.settled) {
        this.#active--;
        lost.push(entry);
      }
    }
    const kept = this.#order.filter((e, i) => i >= this.#orderHead && !e.done && e.tl >= 0 && !e.written);
    this.#order.length = 0;
    this.#orderHead = 0;
    for (const e of kept) this.#order.push(e);
    if (again.length > 0) this.#queue.splice(this.#queueHead, 0, ...again);
    return lost;
  }

  /** The link is out of step: fail what is in flight, replace the connection, send the rest on the new one. */
  #desync(reason: string, packet?: Uint8Array, cause?: unknown): void {
    this.#stats.desyncs++;
    this.#log.warn('optommp/pipeline: link out of step, reconnecting', { reason });
    const error = new PipelineDesyncError(reason, packet, { cause });
    this.#generation++;
    const lost = this.#forgetOutstanding(true);
    if (this.#tcp.connected) {
      // The interface's queued reconnect: writes queued before it still leave on the old connection (the
      // reads among them were withdrawn above and are sent again), everything sent from here on waits
      // for the new one. The policy paces it (at once after a link that had proved healthy). A failure to
      // get the next link is left to the requests that wait for it (their own deadlines).
      this.#tcp
        .reconnect({ reason: 'desync', timeoutMs: Math.max(1000, this.#defaultTimeoutMs) })
        .catch((e: unknown) =>
          this.#log.debug('optommp/pipeline: reconnect after a desync failed', {
            error: (e as Error).message,
          }),
        );
    }
    for (const entry of lost) this.#settle(entry, error);
    // Reads withdrawn from the old connection go out again on the new one.
    this.#pump();
  }

  #linkDown(event: DisconnectedEvent): void {
    this.#generation++;
    const lost = this.#forgetOutstanding(false);
    if (lost.length === 0) return;
    const error = new ConnectionLostError({
      op: 'request',
      host: this.#tcp.host,
      port: this.#tcp.port,
      cause: event.error,
    });
    for (const entry of lost) this.#settle(entry, error);
  }

  // --- deadlines -----------------------------------------------------------------------------------------

  #armWatchdog(at: number): void {
    if (this.#watchdog !== undefined) clearTimeout(this.#watchdog);
    this.#watchdogAt = at;
    this.#watchdog = setTimeout(() => this.#checkDeadlines(), Math.max(1, Math.ceil(at - performance.now())));
  }

  /** One timer for every deadline: times out what has expired and re-arms for the next one. */
  #checkDeadlines(): void {
    this.#watchdog = undefined;
    this.#watchdogAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    const expired: Entry[] = [];
    let next = Number.POSITIVE_INFINITY;
    const look = (entry: Entry) => {
      if (entry.settled) return;
      if (entry.deadlineAt <= now) expired.push(entry);
      else if (entry.deadlineAt < next) next = entry.deadlineAt;
    };
    for (const entry of this.#byLabel) if (entry !== undefined) look(entry);
    for (let i = this.#queueHead; i < this.#queue.length; i++) look(this.#queue[i]!);
    for (const entry of expired) {
      const what = entry.tl >= 0 ? `OptoMMP request (label ${entry.tl})` : 'OptoMMP request (window full)';
      this.#end(entry, new TimeoutError(what, entry.timeoutMs));
    }
    if (next < this.#watchdogAt && !this.#closed) this.#armWatchdog(next);
  }
}

/**
 * A read quadlet or read block request with only the fields a client sets (source_ID, offset,
 * data_length), all in range: written by `writePlainRead`. Anything else goes through the codec's encoder
 * (and its RangeErrors).
 */
export function isPlainRead(request: RequestInit): request is RequestInit & { tcode: 4 | 5 } {
  const r = request as Partial<Record<string, unknown>> & RequestInit;
  if (request.tcode !== 4 && request.tcode !== 5) return false;
  if (r.destinationId !== undefined || r.rt !== undefined || r.pri !== undefined) return false;
  if (r.extendedTcode !== undefined) return false;
  const sourceId = request.sourceId ?? 0;
  if (!Number.isInteger(sourceId) || sourceId < 0 || sourceId > 0xffff) return false;
  const offset = request.offset;
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_OFFSET) return false;
  if (request.tcode === 4) return true;
  const n = request.dataLength;
  return Number.isInteger(n) && n >= 0 && n <= 0xffff;
}

/** Writes a request `isPlainRead` accepted, with label `tl`, at `out[at]`; returns where it ends. */
export function writePlainRead(out: Uint8Array, at: number, request: RequestInit, tl: number): number {
  const dataLength = request.tcode === 5 ? request.dataLength : 0;
  return writeRead(out, at, request.tcode, request.sourceId ?? 0, request.offset, dataLength, tl);
}

/** A plain read quadlet (tcode 4) or read block (tcode 5) request at `out[at]`; returns where it ends. */
function writeRead(
  out: Uint8Array,
  at: number,
  tcode: number,
  sourceId: number,
  offset: number,
  dataLength: number,
  tl: number,
): number {
  const high = Math.floor(offset / 0x1_0000_0000);
  const low = offset % 0x1_0000_0000;
  out[at] = 0;
  out[at + 1] = 0;
  out[at + 2] = tl << 2;
  out[at + 3] = tcode << 4;
  out[at + 4] = sourceId >>> 8;
  out[at + 5] = sourceId & 0xff;
  out[at + 6] = high >>> 8;
  out[at + 7] = high & 0xff;
  out[at + 8] = low >>> 24;
  out[at + 9] = (low >>> 16) & 0xff;
  out[at + 10] = (low >>> 8) & 0xff;
  out[at + 11] = low & 0xff;
  if (tcode !== 5) return at + 12;
  out[at + 12] = dataLength >>> 8;
  out[at + 13] = dataLength & 0xff;
  out[at + 14] = 0;
  out[at + 15] = 0;
  return at + 16;
}

/** Bytes of a packet's header that tell its length (a block packet's data_length ends at byte 14). */
const LENGTH_HEADER_BYTES = 14;

/**
 * The next packet, when no read is in line and enough of its header is buffered to know its length: read
 * with one read into `read.into` (a larger packet gets memory of its own), what has not arrived yet
 * straight from the socket's next chunks. At once (a view of `read.into`) when it is all buffered; a
 * promise of it otherwise; undefined when not even the header is there (the pull reader waits for it).
 * Throws DecodeError / LimitExceededError for a header that cannot start a packet, as readPacket does.
 * The bytes are valid until the next read.
 */
export function readBuffered(
  reader: ByteReader,
  read: { into: Uint8Array; timeoutMs: number },
): Uint8Array | Promise<Uint8Array> | undefined {
  const buffered = reader.buffered;
  if (buffered < MIN_PACKET_BYTES || reader.pending !== 0) return undefined;
  const length = packetLengthAt(reader.peekView(LENGTH_HEADER_BYTES), 0, {});
  if (length < 0) return undefined;
  const into = length > read.into.length ? new Uint8Array(length) : read.into;
  const taken = reader.readExactly(length, { into, timeoutMs: read.timeoutMs });
  // A reader takes buffered bytes at once when no read is in line.
  if (length <= buffered && reader.buffered === buffered - length) return into.subarray(0, length);
  return taken;
}
