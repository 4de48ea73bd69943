// RequestQueue: FIFO operations over a Connection, the half of the SOCS TCPInterface contract that is about
// requests (docs/protocols/tcpinterface.md §1.7, goals G3, G7-G9).
//
// - Every operation (send, recv, the reads, request, reconnect) is a Job in one FIFO: only the head
//   touches the link, so concurrent callers never interleave (F3). A request is its write plus the read
//   of its reply as one unit; the write is one `socket.write` (F7).
// - Every Job has one deadline covering queueing, waiting for a link, writing and reading (G3). While the
//   connection is reconnecting, Jobs wait for the next link within their deadline (bounded by
//   `offlineQueue`); they fail fast only when no link is coming.
// - A request that fails half way leaves the line desynchronised; the desync policy either replaces the
//   link or drains until quiet before the next Job may write, so a late reply never reaches the next
//   caller (F2).
// - A link that drops under a Job rejects it with ConnectionLostError; only Jobs marked idempotent are sent
//   again on the next link (F6, G7).
// - A completed request proves the link healthy (the reconnect policy's notion of health).

import { EventEmitter } from 'node:events';
import {
  AbortedError,
  type ByteReader,
  ClosedError,
  checkTimeout,
  type DrainOptions,
  EofError,
  type ExpectOptions,
  LimitExceededError,
  type Logger,
  type OperationOptions,
  type ReadExactlyOptions,
  type ReadFrameOptions,
  type ReadUntilOptions,
  type ReadUntilResult,
  StreamError,
  TimeoutError,
} from '@labwire/framing';
import { type Connection, stampError } from './connection';
import { ConnectionLostError, ConnectionResetError, NotConnectedError, type TcpErrorOptions } from './errors';
import { Job } from './job';
import type { Link } from './link';
import { toLogger } from './logger';
import type {
  ConnectionEvents,
  DesyncPolicy,
  DisconnectedEvent,
  DropReason,
  QueueCounters,
  ReplyAtHand,
  ReplyReader,
  RequestQueueOptions,
  SendOptions,
  TcpInterfaceOptions,
  TcpState,
} from './options';
import { DELIBERATE_REASONS } from './reconnect-policy';

export const DEFAULT_RECV_BYTES = 4096;
export const DEFAULT_OFFLINE_QUEUE = 1_000;

const now = () => performance.now();
const RESET_ON_ERROR = 1;
const HEARTBEAT = 2;
const RECONNECT = 4;

const FORWARDED = [
  'connecting',
  'connected',
  'disconnected',
  'reconnectScheduled',
  'reconnectStopped',
  'state',
] as const;

export class RequestQueue extends EventEmitter<ConnectionEvents> implements AsyncDisposable {
  /** The connection the queue runs on (owned: `close()` closes it). */
  readonly connection: Connection;

  readonly #timeoutMs: number;
  readonly #desync: DesyncPolicy;
  readonly #drainQuietMs: number;
  readonly #drainTimeoutMs: number;
  readonly #maxConsecutiveTimeouts: number;
  readonly #offlineQueue: number;
  readonly #connectOnDemand: boolean;
  readonly #maxQueued: number;
  readonly #maxReplays: number;
  readonly #log: Logger;

  readonly #queue: Job[] = [];
  #queueHead = 0;
  #active: Job | undefined;
  #pumping = false;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #watchdogAt = Number.POSITIVE_INFINITY;
  #resync: Promise<void> | undefined;
  #consecutiveTimeouts = 0;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Bytes a dropped link left unread, for the next read's EofError. */
  #orphan: { bytes: Uint8Array; cause: Error | undefined } | undefined;
  readonly #totals: QueueCounters = { completed: 0, timeouts: 0, replays: 0 };
  /**
   * The request whose reply is taken at hand (ReplyAtHand), its link and the reader whose arrival
   * listener it holds; undefined when none waits that way.
   */
  #atHandJob: Job | undefined;
  #atHandLink: Link | undefined;
  #atHandReader: ByteReader | undefined;
  /** The arrival listener: one function for every request (no closure per request). */
  readonly #onArrival = (): void => this.#arrival();

  constructor(
    connection: Connection,
    options: RequestQueueOptions & { heartbeat?: TcpInterfaceOptions['heartbeat'] } = {},
  ) {
    super();
    this.connection = connection;
    this.#log = options.logger === undefined ? connection.logger : toLogger(options.logger);
    this.#timeoutMs = safeTimeout(options.timeoutMs, connection.timeoutMs);
    this.#desync = options.desync === 'drain' ? 'drain' : 'reconnect';
    this.#drainQuietMs = options.drainQuietMs ?? 50;
    this.#drainTimeoutMs = options.drainTimeoutMs ?? 1_000;
    this.#maxConsecutiveTimeouts = Math.max(1, options.maxConsecutiveTimeouts ?? 3);
    this.#offlineQueue = Math.max(0, options.offlineQueue ?? DEFAULT_OFFLINE_QUEUE);
    this.#connectOnDemand = options.connectOnDemand ?? true;
    this.#maxQueued = Math.max(1, options.maxQueued ?? 65_536);
    this.#maxReplays = Math.max(0, options.maxReplays ?? 1);
    const events = connection as unknown as EventEmitter;
    for (const name of FORWARDED) {
      events.on(name, (payload: unknown) => {
        if (name === 'disconnected') this.#onDisconnected(payload as DisconnectedEvent);
        else if (name === 'state' && (payload as TcpState) === 'closed') this.#settleAll();
        (this.emit as (event: string, payload: unknown) => boolean)(name, payload);
      });
    }
    // Forwarded only to listeners: without one, EventEmitter would throw (docs/protocols/tcpinterface.md F13).
    connection.on('error', (error) => {
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
    const heartbeat = options.heartbeat;
    if (heartbeat !== undefined) {
      connection.setHeartbeat({
        intervalMs: heartbeat.intervalMs,
        timeoutMs: heartbeat.timeoutMs ?? this.#timeoutMs,
        // A link busy with operations is proving itself (their deadlines catch a dead peer).
        probe: (_link, o) =>
          this.pending > 0
            ? Promise.resolve()
            : this.#enqueue('heartbeat', heartbeat.request, heartbeat.read, o, true, HEARTBEAT),
      });
    }
  }

  /** Operations waiting in the queue, the one in progress included. */
  get pending(): number {
    return this.#queue.length - this.#queueHead + (this.#active === undefined ? 0 : 1);
  }

  /** A snapshot of the queue's running totals. */
  get counters(): {
    /** Operations that completed successfully. */
    completed: number;
    /** Operations that hit their deadline. */
    timeouts: number;
    /** Idempotent operations sent again on a new connection. */
    replays: number;
  } {
    return { ...this.#totals };
  }

  // --- operations ----------------------------------------------------------------------------------------

  /**
   * Writes `data` in one write (after a link is up) and resolves when the socket took every byte
   * (backpressure honoured). Sent again on a new link only with `{ idempotent: true }`.
   */
  send(data: Uint8Array, opts: SendOptions = {}): Promise<void> {
    return this.#enqueue('send', data, undefined, opts, opts.idempotent === true) as Promise<void>;
  }

  /**
   * Writes `data` (one write) and runs `read` for the reply, as one unit in FIFO order. `read` receives
   * the link's ByteReader and the options to pass to every read (what is left of the deadline and the
   * caller's signal). After a failure half way the desync policy runs before the next unit writes. A
   * completed request proves the link healthy. With `atHand`, a reply that arrives whole is taken by
   * `atHand.take` inside the socket's read callback, and `read` runs only for anything else (see
   * ReplyAtHand).
   */
  request<T>(
    data: Uint8Array,
    read: ReplyReader<T>,
    opts: SendOptions & { atHand?: ReplyAtHand<T> | undefined } = {},
  ): Promise<T> {
    return this.#enqueue(
      'request',
      data,
      read,
      opts,
      opts.idempotent === true,
      0,
      undefined,
      opts.atHand,
    ) as Promise<T>;
  }

  /**
   * Runs `read` on the link's ByteReader in FIFO order, without writing. The read gets the deadline
   * itself, so one that times out or is aborted consumes nothing.
   */
  read<T>(read: ReplyReader<T>, opts: OperationOptions = {}, op = 'read'): Promise<T> {
    return this.#enqueue(op, undefined, read as ReplyReader<unknown>, opts, false) as Promise<T>;
  }

  /**
   * Waits up to the deadline for data and returns what has arrived, at most `maxBytes` (SOCS `recv`).
   * EOF is an EofError, never empty bytes. With `resetOnError` a failure drops the link and opens a new
   * one before the error is rethrown (stale replies cannot pair with the next query).
   */
  recv(
    maxBytes: number = DEFAULT_RECV_BYTES,
    opts: OperationOptions & {
      /** On any failure (timeout included) drop the connection and open a new one, then rethrow (SOCS `reset_on_error`). */
      resetOnError?: boolean;
    } = {},
  ): Promise<Uint8Array> {
    if (!(maxBytes >= 1))
      return Promise.reject(new RangeError(`recv: maxBytes must be >= 1, got ${maxBytes}`));
    return this.#enqueue(
      'recv',
      undefined,
      (reader, o) => reader.readAvailable(maxBytes, o),
      opts,
      false,
      opts.resetOnError === true ? RESET_ON_ERROR : 0,
    ) as Promise<Uint8Array>;
  }

  /** `ByteReader.readExactly` on the link, in the queue. */
  readExactly(n: number, opts: ReadExactlyOptions = {}): Promise<Uint8Array> {
    return this.read((reader, o) => reader.readExactly(n, { ...opts, ...o }), opts, 'readExactly');
  }

  /** `ByteReader.readUntil` on the link, in the queue. */
  readUntil(
    delimiters: string | Uint8Array | readonly (string | Uint8Array)[],
    opts: ReadUntilOptions = {},
  ): Promise<ReadUntilResult> {
    return this.read((reader, o) => reader.readUntil(delimiters, { ...opts, ...o }), opts, 'readUntil');
  }

  /** `ByteReader.readFrame` (u32 BE length prefix) on the link, in the queue. */
  readFrame(opts: ReadFrameOptions = {}): Promise<Uint8Array> {
    return this.read((reader, o) => reader.readFrame({ ...opts, ...o }), opts, 'readFrame');
  }

  /** `ByteReader.readAvailable` on the link, in the queue. */
  readAvailable(max = 65_536, opts: OperationOptions = {}): Promise<Uint8Array> {
    return this.read((reader, o) => reader.readAvailable(max, o), opts, 'readAvailable');
  }

  /** `ByteReader.expect` on the link, in the queue. */
  expect(pattern: string | Uint8Array, opts: ExpectOptions = {}): Promise<Uint8Array> {
    return this.read((reader, o) => reader.expect(pattern, { ...opts, ...o }), opts, 'expect');
  }

  /** `ByteReader.drain` on the link, in the queue: discards input until quiet. */
  drain(opts: DrainOptions = {}): Promise<number> {
    return this.read((reader, o) => reader.drain({ ...opts, ...o }), opts, 'drain');
  }

  /**
   * In FIFO order: drops the current link on purpose (what it buffered is discarded) and resolves once the
   * next one is up, within the deadline. The reconnect policy paces it: at once when the link had proved
   * healthy, after the backoff window otherwise (SOCS `_reset()`, without the storm). `opts.reason` is what
   * the `disconnected` event reports (default `'dropped'`).
   */
  reconnect(
    opts: OperationOptions & {
      /**
       * Why the link is replaced, as the `disconnected` event reports it: `'dropped'` (default) or, say,
       * `'desync'` when the owner found the line out of step. Every reason an owner may give is a deliberate
       * drop for the reconnect policy.
       */
      reason?: DropReason;
    } = {},
  ): Promise<void> {
    return this.#enqueue(
      'reconnect',
      undefined,
      undefined,
      opts,
      false,
      RECONNECT,
      opts.reason,
    ) as Promise<void>;
  }

  /**
   * Closes the queue and its connection: queued and in-flight operations reject with ClosedError, timers
   * are cleared, and the promise resolves once every socket has closed. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // --- queue ---------------------------------------------------------------------------------------------

  #enqueue(
    op: string,
    data: Uint8Array | undefined,
    read: ReplyReader<unknown> | undefined,
    opts: OperationOptions,
    idempotent: boolean,
    flags = 0,
    dropReason?: DropReason,
    atHand?: ReplyAtHand<unknown>,
  ): Promise<unknown> {
    if (this.#closed || this.connection.state === 'closed') return Promise.reject(this.#closedError(op));
    let timeoutMs: number;
    try {
      timeoutMs = checkTimeout(opts.timeoutMs, this.#timeoutMs);
    } catch (e) {
      return Promise.reject(e);
    }
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(this.#stamp(new AbortedError(op, signal.reason), op));
    const waiting = this.pending;
    if (waiting >= this.#maxQueued) {
      return Promise.reject(
        this.#stamp(new LimitExceededError(`${op}: operations queued`, this.#maxQueued, waiting + 1), op),
      );
    }
    if (this.#orphan !== undefined && data === undefined && read !== undefined && waiting === 0) {
      // Bytes the dropped link left come first, whatever the link's state now.
      return Promise.reject(this.#orphanError(op));
    }
    if (flags !== RECONNECT && this.#reconnecting()) {
      // Offline rule: wait for the next link within the deadline, in a bounded queue.
      if (this.#offlineQueue === 0) return Promise.reject(this.#notConnected(op));
      if (waiting >= this.#offlineQueue) {
        return Promise.reject(this.#notConnected(op, `offline queue full: ${waiting} operations waiting`));
      }
    }
    const job = new Job(
      op,
      data,
      read,
      idempotent,
      signal,
      timeoutMs,
      Number.isFinite(timeoutMs) ? now() + timeoutMs : Number.POSITIVE_INFINITY,
    );
    if (flags !== 0) {
      job.resetOnError = (flags & RESET_ON_ERROR) !== 0;
      job.heartbeat = (flags & HEARTBEAT) !== 0;
      job.reconnect = (flags & RECONNECT) !== 0;
      if (dropReason !== undefined) job.dropReason = dropReason;
    }
    if (atHand !== undefined) job.atHand = atHand;
    const promise = new Promise<unknown>((resolve, reject) => {
      job.resolve = resolve;
      job.reject = reject;
    });
    if (job.deadlineAt < this.#watchdogAt) this.#armWatchdog(job.deadlineAt);
    if (signal !== undefined) {
      job.abortListener = () => this.#jobAborted(job);
      signal.addEventListener('abort', job.abortListener, { once: true });
    }
    this.#queue.push(job);
    if (this.#active === undefined) this.#pump();
    return promise;
  }

  /** The connection has no link and is getting the next one (backoff, or connecting after a link ended). */
  #reconnecting(): boolean {
    const c = this.connection;
    if (c.link !== undefined) return false;
    const state = c.state;
    if (state === 'backoff') return true;
    return state === 'connecting' && tried(c);
  }

  /** Starts the next Job when none is active. Re-entrant calls (a Job settling synchronously) just loop. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#active === undefined && this.#queueHead < this.#queue.length) {
        const job = this.#queue[this.#queueHead]!;
        this.#queue[this.#queueHead++] = undefined as unknown as Job;
        if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
          this.#queue.splice(0, this.#queueHead);
          this.#queueHead = 0;
        }
        if (job.settled) continue;
        this.#active = job;
        this.#start(job);
      }
      if (this.#queueHead === this.#queue.length && this.#queueHead > 0) {
        // pop() for the usual one or two slots: setting `length` is a runtime call in V8 (~10× slower).
        if (this.#queueHead <= 4) for (let i = this.#queueHead; i > 0; i--) this.#queue.pop();
        else this.#queue.length = 0;
        this.#queueHead = 0;
      }
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * The request path without an async frame: when the link is up, nothing is being resynchronised and the
   * bytes fit in the socket buffer (so write() cannot ask to wait), write and chain the read directly.
   * Anything else goes through #drive.
   */
  #start(job: Job): void {
    if (this.#orphan !== undefined && this.#takeOrphan(job)) return;
    const link = this.connection.link;
    const data = job.data;
    const read = job.read;
    if (
      link === undefined ||
      this.#resync !== undefined ||
      data === undefined ||
      read === undefined ||
      !link.trySend(data)
    ) {
      void this.#drive(job);
      return;
    }
    job.written = true;
    if (job.atHand !== undefined) this.#awaitAtHand(job, link);
    else this.#readReply(job, link, read);
  }

  /** Runs the reply reader of a written request (no deadline of its own: the watchdog has the Job's). */
  #readReply(job: Job, link: Link, read: ReplyReader<unknown>): void {
    let reply: Promise<unknown>;
    try {
      reply = read(link.reader, { signal: job.signal, timeoutMs: Number.POSITIVE_INFINITY });
    } catch (error) {
      if (this.#failed(job, link, error)) void this.#drive(job);
      return;
    }
    if (typeof (reply as Partial<Promise<unknown>> | undefined)?.then !== 'function') {
      this.#succeeded(job, reply, link);
      return;
    }
    reply.then(
      (value) => this.#succeeded(job, value, link),
      (error: unknown) => {
        if (this.#failed(job, link, error)) void this.#drive(job);
      },
    );
  }

  /**
   * A written request with a ReplyAtHand: its reply is taken from the reader's arrival listener, inside
   * the socket's read callback, once it is whole (no queued read, promise or event-loop turn). The
   * deadline, the signal and close() settle it as any other Job (see #releaseAtHand).
   */
  #awaitAtHand(job: Job, link: Link): void {
    const reader = link.reader;
    this.#atHandJob = job;
    this.#atHandLink = link;
    this.#atHandReader = reader;
    reader.onArrival(this.#onArrival);
    // Bytes already buffered (unsolicited, or a reply faster than this code) are looked at now.
    if (reader.buffered > 0 || reader.ended) this.#arrival();
  }

  /** Bytes arrived for the request waiting at hand (or its reader ended): take the reply, or hand over. */
  #arrival(): void {
    const job = this.#atHandJob;
    const link = this.#atHandLink;
    const reader = this.#atHandReader;
    if (job === undefined || link === undefined || reader === undefined) return;
    const atHand = job.atHand!;
    let result: 'taken' | 'wait' | 'read';
    try {
      result = atHand.take(reader);
    } catch (error) {
      this.#releaseAtHand();
      if (this.#failed(job, link, error)) void this.#drive(job);
      return;
    }
    // A stream that ended before the reply was whole: the reply reader reports it (EofError, partial bytes).
    if (result === 'wait' && !reader.ended) return;
    this.#releaseAtHand();
    if (result === 'taken') this.#succeeded(job, atHand.value, link);
    else this.#readReply(job, link, job.read!);
  }

  /**
   * The request waiting at hand no longer does (taken, handed over, or about to be failed by the queue):
   * its listener leaves the reader. Called before the queue times out, aborts or closes the Job, so that
   * the desync policy closing the reader cannot start the reply reader of a Job being failed.
   */
  #releaseAtHand(): void {
    const reader = this.#atHandReader;
    this.#atHandJob = undefined;
    this.#atHandLink = undefined;
    this.#atHandReader = undefined;
    reader?.onArrival(undefined);
  }

  async #drive(job: Job): Promise<void> {
    if (job.reconnect) {
      await this.#reconnectJob(job);
      return;
    }
    for (;;) {
      if (this.#resync !== undefined) await this.#resync;
      if (job.settled) return;
      const link = this.connection.link ?? (await this.#acquireLink(job));
      if (link === undefined || job.settled) return;
      if (link.down) continue;
      let value: unknown;
      try {
        if (job.data !== undefined) {
          job.written = true;
          if (!link.trySend(job.data)) {
            // Backpressure (docs/protocols/tcpinterface.md F8), large payloads in bounded slices (G5). No deadline here: the
            // watchdog enforces the Job's, and a Job that times out while writing drops the link.
            job.writing = true;
            await link.send(job.data, { timeoutMs: Number.POSITIVE_INFINITY });
            job.writing = false;
          }
        }
        if (job.read !== undefined) {
          // A request's reads run without a deadline of their own: the watchdog enforces the request's
          // deadline and the desync policy discards whatever the reads left (no timer per read). Reads
          // that wrote nothing must stay cancellation-safe, so they get the deadline themselves.
          if (job.written && job.atHand !== undefined) {
            // Settled from the reader's arrival listener from here on (failures and replays included).
            if (!job.settled) this.#awaitAtHand(job, link);
            return;
          }
          if (job.written) {
            value = await job.read(link.reader, { signal: job.signal, timeoutMs: Number.POSITIVE_INFINITY });
          } else {
            job.readerDeadline = true;
            value = await job.read(link.reader, {
              signal: job.signal,
              timeoutMs: Math.ceil(job.remaining(now())),
            });
          }
        }
      } catch (error) {
        if (this.#failed(job, link, error)) continue;
        return;
      }
      this.#succeeded(job, value, link);
      return;
    }
  }

  /** `reconnect()`: drop the link on purpose, then wait for the next one. */
  async #reconnectJob(job: Job): Promise<void> {
    if (this.#resync !== undefined) await this.#resync;
    if (job.settled) return;
    const link = this.connection.link;
    if (link !== undefined) link.drop(job.dropReason, undefined, true);
    const next = await this.#acquireLink(job);
    if (next !== undefined) this.#settle(job, undefined, undefined);
  }

  /**
   * The first operation after a link dropped with unread bytes: a pure read fails with EofError carrying
   * them; an operation that writes discards them (they cannot be the reply to a new request). Returns true
   * when the job was settled.
   */
  #takeOrphan(job: Job): boolean {
    if (job.data === undefined && job.read !== undefined) {
      this.#settle(job, this.#orphanError(job.op));
      return true;
    }
    this.#log.debug('tcp: discarded bytes left by the previous connection', {
      bytes: this.#orphan?.bytes.length,
      linkId: this.connection.linkId,
    });
    this.#orphan = undefined;
    return false;
  }

  /** Takes the dropped link's unread bytes as the EofError of the read `op`. */
  #orphanError(op: string): EofError {
    const orphan = this.#orphan!;
    this.#orphan = undefined;
    return this.#stamp(new EofError(op, orphan.bytes, undefined, { cause: orphan.cause }), op);
  }

  #onDisconnected(event: DisconnectedEvent): void {
    // Bytes a deliberate drop leaves behind are stale by definition: only a link the peer ended keeps them.
    if (event.unread !== undefined && !DELIBERATE_REASONS.has(event.reason) && event.reason !== 'closed') {
      this.#orphan = { bytes: event.unread, cause: event.error };
    }
  }

  #succeeded(job: Job, value: unknown, link: Link): void {
    if (job.settled) return;
    this.#consecutiveTimeouts = 0;
    this.#totals.completed++;
    // A reply read to the end proves the peer (the reconnect policy's health).
    if (job.data !== undefined && job.read !== undefined) link.markHealthy();
    this.#settle(job, undefined, value);
  }

  /** Handles a failed write or read; returns true when the Job is to be sent again (idempotent replay). */
  #failed(job: Job, link: Link, error: unknown): boolean {
    if (job.settled) return false;
    const lost = this.#linkFailure(link, error);
    if (lost === undefined) {
      this.#failInFlight(job, link, error);
      return false;
    }
    if (job.written && job.idempotent && job.replays < this.#maxReplays && !this.#closed) {
      job.replays++;
      job.written = false;
      job.writing = false;
      this.#totals.replays++;
      this.#log.debug('tcp: replaying idempotent operation on a new connection', {
        op: job.op,
        linkId: this.connection.linkId,
      });
      return true;
    }
    this.#afterFailure(job, link, lost);
    this.#settle(
      job,
      job.written ? new ConnectionLostError(this.#context(job.op, lost)) : this.#stamp(lost, job.op),
    );
    return false;
  }

  /** When `error` means the link is gone, takes it down and returns the error to report; else undefined. */
  #linkFailure(link: Link, error: unknown): Error | undefined {
    if (EofError.isInstance(error)) {
      link.drop('eof', error);
      return error;
    }
    if (StreamError.isInstance(error)) {
      const reset = new ConnectionResetError(this.#context('read', error.cause));
      link.drop('reset', reset);
      return reset;
    }
    if (!link.down) return undefined;
    if (ConnectionLostError.isInstance(error)) return (error.cause as Error | undefined) ?? error;
    return (
      link.downError ?? this.connection.lastError ?? new ConnectionResetError(this.#context('read', error))
    );
  }

  /** Waits for a usable link according to the state and the offline rule; settles the Job when none comes. */
  async #acquireLink(job: Job): Promise<Link | undefined> {
    const connection = this.connection;
    for (;;) {
      if (job.settled) return undefined;
      const link = connection.link;
      if (link !== undefined && !link.down) return link;
      const mayWait = this.#offlineQueue > 0 || job.replays > 0 || job.reconnect;
      const state = connection.state;
      if (state === 'closed' || this.#closed) {
        this.#settle(job, this.#closedError(job.op));
        return undefined;
      }
      if (state === 'backoff' && !mayWait) {
        this.#settle(job, this.#notConnected(job.op));
        return undefined;
      }
      if (
        state === 'idle' &&
        (connection.gaveUp || (!this.#connectOnDemand && !job.reconnect && tried(connection)))
      ) {
        // No link is coming: the policy gave up, or (connectOnDemand false) a link ended and the owner
        // decides when the next one comes. A first connect is not a reconnect: it may be asked for.
        this.#settle(job, this.#notConnected(job.op));
        return undefined;
      }
      try {
        await connection.connect({ timeoutMs: Number.POSITIVE_INFINITY });
      } catch (error) {
        if (job.settled) return undefined;
        if (connection.state === 'closed' || this.#closed) {
          this.#settle(job, this.#closedError(job.op));
          return undefined;
        }
        if (connection.gaveUp) {
          this.#settle(job, this.#notConnected(job.op));
          return undefined;
        }
        const coming = connection.state === 'backoff' || connection.state === 'connecting';
        if (!(mayWait && coming)) {
          this.#settle(job, this.#stamp(error, job.op));
          return undefined;
        }
      }
    }
  }

  /** A read or write failed without the link dropping: count timeouts, resynchronise, reject. */
  #failInFlight(job: Job, link: Link, error: unknown): void {
    let reported = error;
    const timedOut = TimeoutError.isInstance(error);
    if (timedOut) {
      this.#totals.timeouts++;
      reported = new TimeoutError(job.op, job.timeoutMs, (error as TimeoutError).received, { cause: error });
    }
    if (job.written) {
      if (timedOut) this.#consecutiveTimeouts++;
      const incomplete =
        timedOut ||
        AbortedError.isInstance(error) ||
        LimitExceededError.isInstance(error) ||
        link.reader.buffered > 0;
      if (incomplete) this.#desynchronised(job, link, reported);
    }
    this.#afterFailure(job, link, reported);
    this.#settle(job, this.#stamp(reported, job.op));
  }

  /** recv's resetOnError: a fresh link after any failure (SOCS PR #1064). */
  #afterFailure(job: Job, link: Link | undefined, error: unknown): void {
    if (!job.resetOnError || link === undefined) return;
    this.#replaceLine(link, 'resetOnError', error as Error);
  }

  /** Drops a link whose line is out of step and asks for the next one (the policy paces it). */
  #replaceLine(link: Link, reason: 'desync' | 'resetOnError' | 'dropped', error?: Error): void {
    link.drop(reason, error, true);
  }

  /** The line may hold part of a reply: heartbeat failure, too many timeouts, reconnect, or drain. */
  #desynchronised(job: Job, link: Link, error: unknown): void {
    if (link.down) return;
    if (job.heartbeat) {
      link.drop('heartbeat', error as Error);
      return;
    }
    if (this.#consecutiveTimeouts >= this.#maxConsecutiveTimeouts) {
      this.#log.warn('tcp: consecutive request timeouts, taking the link for half-open', {
        timeouts: this.#consecutiveTimeouts,
        linkId: this.connection.linkId,
      });
      this.#consecutiveTimeouts = 0;
      link.drop('timeouts', error as Error);
      return;
    }
    // A half-written request cannot be drained away: only a new link resynchronises the stream.
    if (this.#desync === 'reconnect' || job.writing) {
      this.#replaceLine(link, 'desync', error as Error);
      return;
    }
    // The failed request's reads may still be queued on the reader (they have no deadline of their own):
    // retire that reader with whatever it buffered and drain on a fresh one over the same socket.
    const stale = link.reader.buffered;
    const reader = link.renewReader();
    const drained = reader
      .drain({ quietMs: this.#drainQuietMs, timeoutMs: this.#drainTimeoutMs })
      .then((discarded) => discarded + stale);
    this.#resync = drained.then(
      (discarded) => {
        this.#resync = undefined;
        this.#log.debug('tcp: drained after a failed request', { discarded, linkId: this.connection.linkId });
      },
      (drainError: unknown) => {
        this.#resync = undefined;
        this.#replaceLine(link, 'desync', drainError as Error);
      },
    );
  }

  #armWatchdog(at: number): void {
    if (this.#watchdog !== undefined) clearTimeout(this.#watchdog);
    this.#watchdogAt = at;
    this.#watchdog = setTimeout(RequestQueue.#onWatchdog, Math.max(1, Math.ceil(at - now())), this);
  }

  static #onWatchdog(self: RequestQueue): void {
    self.#watchdog = undefined;
    self.#watchdogAt = Number.POSITIVE_INFINITY;
    self.#checkDeadlines();
  }

  /**
   * One timer for every deadline: armed for the earliest one, it times out what has expired and re-arms
   * for the next (cheaper than a timer per operation on the request path).
   */
  #checkDeadlines(): void {
    const t = now();
    let next = Number.POSITIVE_INFINITY;
    const expired: Job[] = [];
    for (let i = this.#queueHead; i < this.#queue.length; i++) {
      const job = this.#queue[i];
      if (job === undefined || job.settled) continue;
      if (job.deadlineAt <= t) expired.push(job);
      else if (job.deadlineAt < next) next = job.deadlineAt;
    }
    const active = this.#active;
    let activeExpired = false;
    if (active !== undefined && !active.settled) {
      if (active.deadlineAt <= t) activeExpired = true;
      else if (active.deadlineAt < next) next = active.deadlineAt;
    }
    // Queued ones first, so that the pump does not start a Job that is already late.
    for (const job of expired) this.#jobTimedOut(job);
    if (activeExpired && active !== undefined) this.#jobTimedOut(active);
    if (next < this.#watchdogAt && !this.#closed) this.#armWatchdog(next);
  }

  #jobTimedOut(job: Job): void {
    // A read that wrote nothing is cancelled by the reader at the same deadline, consuming nothing; settling
    // it here first would let the next operation start while that read is still queued on the reader.
    if (job.settled || (job.readerDeadline && this.#active === job)) return;
    if (this.#atHandJob === job) this.#releaseAtHand();
    this.#totals.timeouts++;
    const link = this.#active === job ? this.connection.link : undefined;
    const error = new TimeoutError(
      job.op,
      job.timeoutMs,
      link !== undefined && job.read !== undefined ? link.reader.peek(256) : new Uint8Array(0),
    );
    if (link !== undefined && job.written) {
      this.#consecutiveTimeouts++;
      this.#desynchronised(job, link, error);
    }
    this.#afterFailure(job, link, error);
    this.#settle(job, this.#stamp(error, job.op));
  }

  #jobAborted(job: Job): void {
    if (job.settled || (job.readerDeadline && this.#active === job)) return;
    if (this.#atHandJob === job) this.#releaseAtHand();
    const link = this.#active === job ? this.connection.link : undefined;
    const error = new AbortedError(job.op, job.signal?.reason);
    if (link !== undefined && job.written) this.#desynchronised(job, link, error);
    this.#settle(job, this.#stamp(error, job.op));
  }

  /** Settles a Job exactly once and lets the next one start. */
  #settle(job: Job, error: unknown, value?: unknown): void {
    if (job.settled) return;
    job.settled = true;
    if (this.#atHandJob === job) this.#releaseAtHand();
    if (job.abortListener !== undefined) job.signal?.removeEventListener('abort', job.abortListener);
    if (error === undefined) job.resolve(value);
    else job.reject(error);
    if (this.#active === job) {
      this.#active = undefined;
      this.#pump();
    }
  }

  // --- close ---------------------------------------------------------------------------------------------

  async #shutdown(): Promise<void> {
    this.#settleAll();
    await this.connection.close();
  }

  /** Rejects every queued and in-flight Job with ClosedError (the queue or its connection closed). */
  #settleAll(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#watchdog !== undefined) clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
    this.#watchdogAt = Number.POSITIVE_INFINITY;
    const active = this.#active;
    const queued = this.#queue.slice(this.#queueHead);
    this.#queue.length = 0;
    this.#queueHead = 0;
    if (active !== undefined) this.#settle(active, this.#closedError(active.op));
    for (const job of queued) this.#settle(job, this.#closedError(job.op));
  }

  // --- helpers -------------------------------------------------------------------------------------------

  #context(op: string, cause?: unknown): TcpErrorOptions {
    const c = this.connection;
    return { op, cause, linkId: c.linkId, host: c.host, port: c.port };
  }

  #closedError(op: string): Error {
    const invalid = this.connection.endpointError;
    if (invalid !== undefined && this.#closing === undefined) return invalid;
    return this.#stamp(new ClosedError(op), op);
  }

  #notConnected(op: string, detail?: string): Error {
    return new NotConnectedError({ ...this.#context(op, this.connection.lastError), detail });
  }

  #stamp<E>(error: E, op: string): E {
    return stampError(error, op, this.connection.linkId);
  }
}

/** The connection has had a link or a failed attempt: a new link would be a reconnect. */
function tried(connection: Connection): boolean {
  const n = connection.counters;
  return n.connects + n.connectFailures > 0;
}

function safeTimeout(value: number | undefined, fallback: number): number {
  try {
    return checkTimeout(value, fallback);
  } catch {
    return fallback;
  }
}
