// TcpInterface: one TCP connection to an instrument and its whole life, the `socs.tcp.TCPInterface`
// contract done right (spec tcpinterface.md §1.7, goals G3–G16).
//
// - Every operation (send, recv, the reads, request) is a Job in one FIFO: only the head touches the
//   socket, so concurrent callers never interleave (F3). A request is its write plus the read of its
//   reply as one unit; the write is one `socket.write` (F7).
// - Every Job has one deadline covering queueing, connecting, writing and reading (G3).
// - A request that fails half way leaves the line desynchronised; the desync policy either reconnects
//   or drains until quiet before the next Job may write, so a late reply never reaches the next caller (F2).
// - A link that drops under a Job rejects it with ConnectionLostError; only Jobs marked idempotent are sent
//   again on the next connection (F6, G7).
// - One connect in flight at a time, a connect deadline that destroys the socket (F11), exponential
//   backoff with full jitter and a cap, reset only after a stable period (F5).

import { EventEmitter } from 'node:events';
import net from 'node:net';
import {
  AbortedError,
  ByteReader,
  ClosedError,
  checkTimeout,
  DEFAULT_MAX_BUFFER,
  DEFAULT_MAX_FRAME,
  type DrainOptions,
  EofError,
  type ExpectOptions,
  type LabwireError,
  LimitExceededError,
  type Logger,
  OnreadSource,
  type OperationOptions,
  type ReadExactlyOptions,
  type ReadFrameOptions,
  type ReadUntilOptions,
  type ReadUntilResult,
  SEND_SLICE_BYTES,
  StreamError,
  sendAll,
  silentLogger,
  TimeoutError,
} from '@labwire/framing';
import { backoffDelay } from './backoff';
import {
  ConnectFailedError,
  ConnectionLostError,
  ConnectionResetError,
  ConnectRefusedError,
  ConnectTimeoutError,
  NotConnectedError,
  type TcpErrorContext,
  type TcpErrorOptions,
} from './errors';
import { Job } from './job';
import type {
  DesyncPolicy,
  DisconnectReason,
  HeartbeatOptions,
  ReconnectOptions,
  RecvOptions,
  ReplyReader,
  RequestOptions,
  SendOptions,
  TcpCounters,
  TcpInterfaceEvents,
  TcpInterfaceOptions,
  TcpState,
} from './options';

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_STABLE_AFTER_MS = 5_000;
export const DEFAULT_KEEPALIVE_INITIAL_DELAY_MS = 1_000;
export const DEFAULT_RECV_BYTES = 4096;

/** One established connection. A Link never comes back once it is down; the next connect makes a new one. */
class Link {
  down = false;
  constructor(
    readonly id: number,
    readonly socket: net.Socket,
    readonly source: OnreadSource,
    public reader: ByteReader,
  ) {}
}

const now = () => performance.now();
const RESET_ON_ERROR = 1;
const HEARTBEAT = 2;

function isRefused(error: unknown): boolean {
  if (error instanceof AggregateError) {
    return error.errors.length > 0 && error.errors.every((e) => isRefused(e));
  }
  return (error as NodeJS.ErrnoException)?.code === 'ECONNREFUSED';
}

export class TcpInterface extends EventEmitter<TcpInterfaceEvents> implements AsyncDisposable {
  readonly host: string;
  readonly port: number;
  readonly linkId: string | undefined;

  readonly #timeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #family: 0 | 4 | 6;
  readonly #lookup: net.LookupFunction | undefined;
  readonly #noDelay: boolean;
  readonly #keepAlive: boolean;
  readonly #keepAliveInitialDelayMs: number;
  readonly #reconnect: (ReconnectOptions & { stableAfterMs: number }) | undefined;
  readonly #desync: DesyncPolicy;
  readonly #drainQuietMs: number;
  readonly #drainTimeoutMs: number;
  readonly #maxConsecutiveTimeouts: number;
  readonly #heartbeat: HeartbeatOptions | undefined;
  readonly #offlineQueue: number;
  readonly #maxQueued: number;
  readonly #maxReplays: number;
  readonly #maxBuffer: number;
  readonly #maxFrame: number;
  readonly #log: Logger;

  #state: TcpState = 'idle';
  #stateWaiters: (() => void)[] = [];
  #link: Link | undefined;
  #linkCount = 0;
  #connecting: Promise<void> | undefined;
  #rejectConnecting: ((error: unknown) => void) | undefined;
  #lastError: Error | undefined;
  #attempt = 0;
  #everConnected = false;
  #backoffTimer: ReturnType<typeof setTimeout> | undefined;
  #stableTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatSeen = -1;
  #closing: Promise<void> | undefined;
  /** Set when the constructor was given an unusable endpoint: every operation rejects with it. */
  #invalid: Error | undefined;
  #sockets = new Set<net.Socket>();
  /** Bytes a dropped link left unread, for the next read's EofError. */
  #orphan: { bytes: Uint8Array; cause: Error | undefined } | undefined;

  readonly #queue: Job[] = [];
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #watchdogAt = Number.POSITIVE_INFINITY;
  #queueHead = 0;
  #active: Job | undefined;
  #pumping = false;
  #resync: Promise<void> | undefined;
  #consecutiveTimeouts = 0;

  /** The counters, with bytesIn/bytesOut of closed links only: `counters` adds the live socket's. */
  readonly #totals: TcpCounters = {
    bytesIn: 0,
    bytesOut: 0,
    connects: 0,
    reconnects: 0,
    connectFailures: 0,
    disconnects: 0,
    completed: 0,
    timeouts: 0,
    replays: 0,
  };

  /**
   * Never throws: bad options and connect failures are reported through `state`, the `error` event and
   * the logger, and every later operation rejects with the reason. Starts connecting at once unless
   * `autoConnect: false`.
   */
  constructor(host: string, port: number, options: TcpInterfaceOptions = {}) {
    super();
    this.host = host;
    this.port = port;
    this.linkId = options.linkId;
    this.#log = options.logger ?? silentLogger;
    this.#timeoutMs = safeTimeout(options.timeoutMs, DEFAULT_TIMEOUT_MS);
    this.#connectTimeoutMs = safeTimeout(options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS);
    this.#family = options.family === 4 || options.family === 6 ? options.family : 0;
    this.#lookup = options.lookup;
    this.#noDelay = options.noDelay ?? true;
    this.#keepAlive = options.keepAlive ?? true;
    this.#keepAliveInitialDelayMs = options.keepAliveInitialDelayMs ?? DEFAULT_KEEPALIVE_INITIAL_DELAY_MS;
    this.#reconnect =
      options.reconnect === false
        ? undefined
        : {
            ...options.reconnect,
            stableAfterMs: options.reconnect?.stableAfterMs ?? DEFAULT_STABLE_AFTER_MS,
          };
    this.#desync = options.desync === 'drain' ? 'drain' : 'reconnect';
    this.#drainQuietMs = options.drainQuietMs ?? 50;
    this.#drainTimeoutMs = options.drainTimeoutMs ?? 1_000;
    this.#maxConsecutiveTimeouts = Math.max(1, options.maxConsecutiveTimeouts ?? 3);
    this.#heartbeat = options.heartbeat;
    this.#offlineQueue = Math.max(0, options.offlineQueue ?? 0);
    this.#maxQueued = Math.max(1, options.maxQueued ?? 65_536);
    this.#maxReplays = Math.max(0, options.maxReplays ?? 1);
    this.#maxBuffer = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
    this.#maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME;
    const problem =
      validatePort(port) ?? (typeof host === 'string' && host !== '' ? undefined : 'empty host');
    if (problem !== undefined) {
      // SOCS parity: the constructor does not throw; the interface stays unusable and says why.
      this.#lastError = new ConnectFailedError(this.#context('connect', new RangeError(problem)));
      this.#log.error('tcp: invalid endpoint', { host, port, problem, linkId: this.linkId });
      this.#invalid = this.#lastError;
      this.#setState('closed');
      return;
    }
    if (options.autoConnect ?? true) {
      // Start in the next microtask so that listeners attached right after construction see `connecting`.
      queueMicrotask(() => {
        if (this.#state === 'idle') void this.#startConnect().catch(noop);
      });
    }
  }

  /** Where the interface is in its life cycle. */
  get state(): TcpState {
    return this.#state;
  }

  /** True while a connection is up. */
  get connected(): boolean {
    return this.#link !== undefined;
  }

  /** The error that took the link down or made the last connect fail, if any. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /**
   * The current connection's ByteReader, for full-duplex protocols in which the peer speaks unprompted
   * (a PyMoDAQ client waits for whatever command its server sends next while it may also send data of its
   * own). Reads on it bypass the operation queue; writes still go through `send` or `request`. Do not mix
   * its reads with `recv`/`read*`/`request` replies on the same interface. Undefined while not connected;
   * every connection has a new reader, closed (pending reads reject) when that connection drops, so take it
   * again after each `connected` event.
   */
  get reader(): ByteReader | undefined {
    const link = this.#link;
    return link === undefined || link.down ? undefined : link.reader;
  }

  /** Operations waiting in the queue, the one in progress included. */
  get pending(): number {
    return this.#queue.length - this.#queueHead + (this.#active === undefined ? 0 : 1);
  }

  /** A snapshot of the running totals. */
  get counters(): TcpCounters {
    const t = this.#totals;
    const s = this.#link?.socket;
    return {
      ...t,
      bytesIn: t.bytesIn + (s?.bytesRead ?? 0),
      bytesOut: t.bytesOut + (s?.bytesWritten ?? 0),
    };
  }

  // --- public operations -------------------------------------------------------------------------------

  /**
   * Resolves once connected. With a connect already in flight, waits for it (one connect at a time);
   * while waiting out a backoff delay, connects at once. Rejects with ConnectRefusedError,
   * ConnectTimeoutError, ConnectFailedError, TimeoutError (`opts.timeoutMs`), AbortedError or ClosedError.
   */
  connect(opts: OperationOptions = {}): Promise<void> {
    if (this.#link !== undefined) return Promise.resolve();
    if (this.#state === 'closed') return Promise.reject(this.#closedError('connect'));
    let timeoutMs: number;
    try {
      timeoutMs = checkTimeout(opts.timeoutMs, this.#timeoutMs);
    } catch (e) {
      return Promise.reject(e);
    }
    if (opts.signal?.aborted)
      return Promise.reject(this.#stamp(new AbortedError('connect', opts.signal.reason), 'connect'));
    const attempt = this.#startConnect();
    return new Promise<void>((resolve, reject) => {
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => finish(this.#stamp(new TimeoutError('connect', timeoutMs), 'connect')), timeoutMs)
        : undefined;
      const onAbort = () => finish(this.#stamp(new AbortedError('connect', opts.signal?.reason), 'connect'));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      let done = false;
      const finish = (error?: unknown) => {
        if (done) return;
        done = true;
        if (timer !== undefined) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(this.#stamp(error, 'connect'));
      };
      attempt.then(() => finish(), finish);
    });
  }

  /**
   * Writes `data` in one write (after connecting when needed). Resolves when the socket accepted every
   * byte (backpressure honoured). Sent again on a new connection only with `{ idempotent: true }`.
   */
  send(data: Uint8Array, opts: SendOptions = {}): Promise<void> {
    return this.#enqueue('send', data, undefined, opts, opts.idempotent === true) as Promise<void>;
  }

  /**
   * Waits up to the deadline for data and returns what has arrived, at most `maxBytes` (SOCS `recv`).
   * EOF is an EofError, never empty bytes. With `resetOnError` a failure drops the connection and opens a
   * new one before the error is rethrown (stale replies cannot pair with the next query).
   */
  recv(maxBytes: number = DEFAULT_RECV_BYTES, opts: RecvOptions = {}): Promise<Uint8Array> {
    if (!(maxBytes >= 1))
      return Promise.reject(new RangeError(`recv: maxBytes must be >= 1, got ${maxBytes}`));
    return this.#enqueueRead(
      'recv',
      opts,
      (reader, o) => reader.readAvailable(maxBytes, o),
      opts.resetOnError,
    );
  }

  /** `ByteReader.readExactly` on the current connection, in the queue. */
  readExactly(n: number, opts: ReadExactlyOptions = {}): Promise<Uint8Array> {
    return this.#enqueueRead('readExactly', opts, (reader, o) => reader.readExactly(n, { ...opts, ...o }));
  }

  /** `ByteReader.readUntil` on the current connection, in the queue. */
  readUntil(
    delimiters: string | Uint8Array | readonly (string | Uint8Array)[],
    opts: ReadUntilOptions = {},
  ): Promise<ReadUntilResult> {
    return this.#enqueueRead('readUntil', opts, (reader, o) =>
      reader.readUntil(delimiters, { ...opts, ...o }),
    );
  }

  /** `ByteReader.readFrame` (u32 BE length prefix) on the current connection, in the queue. */
  readFrame(opts: ReadFrameOptions = {}): Promise<Uint8Array> {
    return this.#enqueueRead('readFrame', opts, (reader, o) => reader.readFrame({ ...opts, ...o }));
  }

  /** `ByteReader.readAvailable` on the current connection, in the queue. */
  readAvailable(max = 65_536, opts: OperationOptions = {}): Promise<Uint8Array> {
    return this.#enqueueRead('readAvailable', opts, (reader, o) => reader.readAvailable(max, o));
  }

  /** `ByteReader.expect` on the current connection, in the queue. */
  expect(pattern: string | Uint8Array, opts: ExpectOptions = {}): Promise<Uint8Array> {
    return this.#enqueueRead('expect', opts, (reader, o) => reader.expect(pattern, { ...opts, ...o }));
  }

  /** `ByteReader.drain` on the current connection, in the queue: discards input until quiet. */
  drain(opts: DrainOptions = {}): Promise<number> {
    return this.#enqueueRead('drain', opts, (reader, o) => reader.drain({ ...opts, ...o }));
  }

  /**
   * Writes `data` (one write) and runs `read` for the reply, as one unit in FIFO order. `read` receives
   * the connection's ByteReader and the options to pass to every read (what is left of the deadline and
   * the caller's signal). After a failure half way the desync policy runs before the next unit writes.
   */
  request<T>(data: Uint8Array, read: ReplyReader<T>, opts: RequestOptions = {}): Promise<T> {
    return this.#enqueue('request', data, read, opts, opts.idempotent === true) as Promise<T>;
  }

  /**
   * Closes the connection and settles everything: queued and in-flight operations reject with ClosedError,
   * timers are cleared, and the promise resolves once every socket has closed. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // --- queue ---------------------------------------------------------------------------------------------

  #enqueueRead<T>(
    op: string,
    opts: OperationOptions,
    read: ReplyReader<T>,
    resetOnError = false,
  ): Promise<T> {
    return this.#enqueue(op, undefined, read, opts, false, resetOnError ? RESET_ON_ERROR : 0) as Promise<T>;
  }

  #enqueue(
    op: string,
    data: Uint8Array | undefined,
    read: ReplyReader<unknown> | undefined,
    opts: OperationOptions,
    idempotent: boolean,
    flags = 0,
  ): Promise<unknown> {
    if (this.#state === 'closed') return Promise.reject(this.#closedError(op));
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
    if (this.#orphan !== undefined && data === undefined && read !== undefined && this.pending === 0) {
      // Bytes the dropped link left come first, whatever the link's state now.
      return Promise.reject(this.#orphanError(op));
    }
    if (this.#state === 'backoff') {
      // Offline policy (spec G4): reject at once, or wait in a bounded queue.
      if (this.#offlineQueue === 0) return Promise.reject(this.#notConnected(op));
      if (waiting >= this.#offlineQueue) {
        return Promise.reject(
          this.#stamp(
            new LimitExceededError(`${op}: offline queue`, this.#offlineQueue, waiting + 1, {
              cause: this.#lastError,
            }),
            op,
          ),
        );
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
    }
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
        this.#queue.length = 0;
        this.#queueHead = 0;
      }
    } finally {
      this.#pumping = false;
    }
  }

  async #drive(job: Job): Promise<void> {
    for (;;) {
      if (this.#resync !== undefined) await this.#resync;
      if (job.settled) return;
      const link = this.#link ?? (await this.#acquireLink(job));
      if (link === undefined || job.settled) return;
      if (link.down) continue;
      let value: unknown;
      try {
        if (job.data !== undefined) {
          job.written = true;
          if (job.data.length <= SEND_SLICE_BYTES) {
            // One write per request (spec F7); wait for 'drain' only when the socket buffer is full (F8).
            if (!link.socket.write(job.data)) {
              job.writing = true;
              await this.#awaitDrain(link, job);
              job.writing = false;
            }
          } else {
            // Large payloads go in bounded slices so user-space buffering stays capped (spec G5).
            job.writing = true;
            await sendAll(link.socket, job.data, { signal: job.signal, timeoutMs: job.remaining(now()) });
            job.writing = false;
          }
        }
        if (job.read !== undefined) {
          // A request's reads run without a deadline of their own: the watchdog enforces the request's
          // deadline and the desync policy discards whatever the reads left (no timer per read). Reads
          // that wrote nothing must stay cancellation-safe, so they get the deadline themselves.
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
      this.#succeeded(job, value);
      return;
    }
  }

  /**
   * The request path without an async frame: when the link is up, nothing is being resynchronised and the
   * bytes fit in the socket buffer (so write() cannot return false), write and chain the read directly.
   * Anything else goes through #drive.
   */
  #start(job: Job): void {
    if (this.#orphan !== undefined && this.#takeOrphan(job)) return;
    const link = this.#link;
    const data = job.data;
    const read = job.read;
    if (
      link === undefined ||
      link.down ||
      this.#resync !== undefined ||
      data === undefined ||
      read === undefined ||
      link.socket.writableLength !== 0 ||
      data.length >= link.socket.writableHighWaterMark
    ) {
      void this.#drive(job);
      return;
    }
    job.written = true;
    let reply: Promise<unknown>;
    try {
      link.socket.write(data);
      reply = read(link.reader, { signal: job.signal, timeoutMs: Number.POSITIVE_INFINITY });
    } catch (error) {
      if (this.#failed(job, link, error)) void this.#drive(job);
      return;
    }
    if (typeof (reply as Partial<Promise<unknown>> | undefined)?.then !== 'function') {
      this.#succeeded(job, reply);
      return;
    }
    reply.then(
      (value) => this.#succeeded(job, value),
      (error: unknown) => {
        if (this.#failed(job, link, error)) void this.#drive(job);
      },
    );
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
      linkId: this.linkId,
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

  #succeeded(job: Job, value: unknown): void {
    if (job.settled) return;
    this.#consecutiveTimeouts = 0;
    this.#totals.completed++;
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
    if (job.written && job.idempotent && job.replays < this.#maxReplays && this.#state !== 'closed') {
      job.replays++;
      job.written = false;
      this.#totals.replays++;
      this.#log.debug('tcp: replaying idempotent operation on a new connection', {
        op: job.op,
        linkId: this.linkId,
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

  /** Waits for a usable link according to the state and the offline policy; settles the Job when none comes. */
  async #acquireLink(job: Job): Promise<Link | undefined> {
    for (;;) {
      if (job.settled) return undefined;
      const link = this.#link;
      if (link !== undefined && !link.down) return link;
      const mayWait = this.#reconnect !== undefined && (job.replays > 0 || this.#offlineQueue > 0);
      switch (this.#state) {
        case 'closed':
          this.#settle(job, this.#closedError(job.op));
          return undefined;
        case 'backoff':
          if (!mayWait) {
            this.#settle(job, this.#notConnected(job.op));
            return undefined;
          }
          await this.#nextStateChange();
          break;
        default:
          try {
            await this.#startConnect();
          } catch (error) {
            if (job.settled) return undefined;
            if (this.#isClosed()) {
              this.#settle(job, this.#closedError(job.op));
              return undefined;
            }
            if (!mayWait) {
              this.#settle(job, this.#stamp(error, job.op));
              return undefined;
            }
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

  /** recv's resetOnError: a fresh connection after any failure (SOCS PR #1064). */
  #afterFailure(job: Job, link: Link | undefined, error: unknown): void {
    if (!job.resetOnError || link === undefined) return;
    this.#dropLink(link, 'resetOnError', error as Error);
  }

  /** The line may hold part of a reply: heartbeat failure, too many timeouts, reconnect, or drain. */
  #desynchronised(job: Job, link: Link, error: unknown): void {
    if (link.down) return;
    if (job.heartbeat) {
      this.#dropLink(link, 'heartbeat', error as Error);
      return;
    }
    if (this.#consecutiveTimeouts >= this.#maxConsecutiveTimeouts) {
      this.#log.warn('tcp: consecutive request timeouts, taking the link for half-open', {
        timeouts: this.#consecutiveTimeouts,
        linkId: this.linkId,
      });
      this.#consecutiveTimeouts = 0;
      this.#dropLink(link, 'timeouts', error as Error);
      return;
    }
    // A half-written request cannot be drained away: only a new connection resynchronises the stream.
    if (this.#desync === 'reconnect' || job.writing) {
      this.#dropLink(link, 'desync', error as Error);
      return;
    }
    // The failed request's reads may still be queued on the reader (they have no deadline of their own):
    // retire that reader with whatever it buffered and drain on a fresh one over the same socket.
    const stale = link.reader.buffered;
    link.reader.close();
    link.reader = this.#newReader(link.source);
    link.source.resume();
    const drained = link.reader
      .drain({ quietMs: this.#drainQuietMs, timeoutMs: this.#drainTimeoutMs })
      .then((discarded) => discarded + stale);
    this.#resync = drained.then(
      (discarded) => {
        this.#resync = undefined;
        this.#log.debug('tcp: drained after a failed request', { discarded, linkId: this.linkId });
      },
      (drainError: unknown) => {
        this.#resync = undefined;
        this.#dropLink(link, 'desync', drainError as Error);
      },
    );
  }

  #armWatchdog(at: number): void {
    if (this.#watchdog !== undefined) clearTimeout(this.#watchdog);
    this.#watchdogAt = at;
    this.#watchdog = setTimeout(TcpInterface.#onWatchdog, Math.max(1, Math.ceil(at - now())), this);
  }

  static #onWatchdog(self: TcpInterface): void {
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
    if (next < this.#watchdogAt && this.#state !== 'closed') this.#armWatchdog(next);
  }

  #jobTimedOut(job: Job): void {
    // A read that wrote nothing is cancelled by the reader at the same deadline, consuming nothing; settling
    // it here first would let the next operation start while that read is still queued on the reader.
    if (job.settled || (job.readerDeadline && this.#active === job)) return;
    this.#totals.timeouts++;
    const link = this.#active === job ? this.#link : undefined;
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
    const link = this.#active === job ? this.#link : undefined;
    const error = new AbortedError(job.op, job.signal?.reason);
    if (link !== undefined && job.written) this.#desynchronised(job, link, error);
    this.#settle(job, this.#stamp(error, job.op));
  }

  /** Settles a Job exactly once and lets the next one start. */
  #settle(job: Job, error: unknown, value?: unknown): void {
    if (job.settled) return;
    job.settled = true;
    if (job.abortListener !== undefined) job.signal?.removeEventListener('abort', job.abortListener);
    if (error === undefined) job.resolve(value);
    else job.reject(error);
    if (this.#active === job) {
      this.#active = undefined;
      this.#pump();
    }
  }

  #awaitDrain(link: Link, job: Job): Promise<void> {
    const socket = link.socket;
    return new Promise<void>((resolve, reject) => {
      const done = (error?: unknown) => {
        socket.off('drain', onDrain);
        socket.off('close', onClose);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onDrain = () => done();
      const onClose = () => done(new EofError(`${job.op}: write`, new Uint8Array(0)));
      socket.on('drain', onDrain);
      socket.on('close', onClose);
    });
  }

  /** When `error` means the link is gone, drops it and returns the error to report; otherwise undefined. */
  #linkFailure(link: Link, error: unknown): Error | undefined {
    if (EofError.isInstance(error)) {
      this.#dropLink(link, 'eof', error);
      return error;
    }
    if (StreamError.isInstance(error)) {
      const reset = new ConnectionResetError(this.#context('read', error.cause));
      this.#dropLink(link, 'reset', reset);
      return reset;
    }
    if (ClosedError.isInstance(error) && link.down) return this.#lastError ?? error;
    if (link.down) return this.#lastError ?? new ConnectionResetError(this.#context('read', error));
    return undefined;
  }

  // --- connection ----------------------------------------------------------------------------------------

  /** Starts a connect unless one is in flight (single flight, spec G6). The promise is safe to ignore. */
  #startConnect(): Promise<void> {
    if (this.#connecting !== undefined) return this.#connecting;
    if (this.#state === 'closed') return Promise.reject(this.#closedError('connect'));
    if (this.#link !== undefined) return Promise.resolve();
    if (this.#backoffTimer !== undefined) {
      clearTimeout(this.#backoffTimer);
      this.#backoffTimer = undefined;
    }
    this.#setState('connecting');
    this.#emitSafe('connecting', {
      attempt: this.#everConnected ? this.#attempt : 0,
      host: this.host,
      port: this.port,
    });
    const promise = new Promise<void>((resolve, reject) => {
      // Reads land in one reused buffer through `onread` (no Buffer per read, no stream machinery on the
      // receive path); the ByteReader copies each chunk out synchronously.
      const source = new OnreadSource();
      const socket = net.connect({
        onread: source.onread,
        host: this.host,
        port: this.port,
        ...(this.#family === 0 ? {} : { family: this.#family, autoSelectFamily: false }),
        ...(this.#lookup === undefined ? {} : { lookup: this.#lookup }),
        noDelay: this.#noDelay,
        keepAlive: this.#keepAlive,
        keepAliveInitialDelay: this.#keepAliveInitialDelayMs,
      });
      this.#track(socket);
      let settled = false;
      const finish = (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.off('connect', onConnect);
        socket.off('error', onError);
        this.#connecting = undefined;
        this.#rejectConnecting = undefined;
        if (error === undefined) {
          this.#linkUp(socket, source);
          resolve();
          return;
        }
        socket.destroy();
        this.#connectFailed(error as Error);
        reject(error);
      };
      const onConnect = () => finish(undefined);
      const onError = (error: Error) =>
        finish(
          isRefused(error)
            ? new ConnectRefusedError(this.#context('connect', error))
            : new ConnectFailedError(this.#context('connect', error)),
        );
      // The deadline covers DNS and the handshake; Node has none of its own (spec F11).
      const timer = setTimeout(
        () => finish(new ConnectTimeoutError(this.#connectTimeoutMs, this.#context('connect'))),
        this.#connectTimeoutMs,
      );
      this.#rejectConnecting = (error) => finish(error);
      socket.once('connect', onConnect);
      socket.on('error', onError);
    });
    promise.catch(noop);
    this.#connecting = promise;
    return promise;
  }

  #connectFailed(error: Error): void {
    if (this.#state === 'closed') return;
    this.#totals.connectFailures++;
    this.#lastError = error;
    this.#log.warn('tcp: connect failed', {
      host: this.host,
      port: this.port,
      code: (error as LabwireError).code,
      error: error.message,
      linkId: this.linkId,
    });
    this.#emitError(error);
    if (this.#reconnect !== undefined) this.#scheduleReconnect();
    else this.#setState('idle');
  }

  #linkUp(socket: net.Socket, source: OnreadSource): void {
    if (this.#state === 'closed') {
      socket.destroy();
      return;
    }
    source.attach(socket);
    const link = new Link(++this.#linkCount, socket, source, this.#newReader(source));
    // Dropped in a microtask: every listener of the event runs first, so the reader settles its pending
    // reads (EOF with the partial bytes) before the link goes down.
    socket.on('end', () =>
      queueMicrotask(() =>
        this.#dropLink(link, 'eof', this.#stamp(new EofError('connection', new Uint8Array(0)), 'read')),
      ),
    );
    socket.on('error', (error) =>
      queueMicrotask(() =>
        this.#dropLink(link, 'reset', new ConnectionResetError(this.#context('read', error))),
      ),
    );
    socket.on('close', () =>
      queueMicrotask(() =>
        this.#dropLink(
          link,
          'reset',
          new ConnectionResetError(this.#context('read', new Error('socket closed'))),
        ),
      ),
    );
    this.#link = link;
    this.#totals.connects++;
    if (this.#everConnected) this.#totals.reconnects++;
    this.#everConnected = true;
    const stableAfterMs = this.#reconnect?.stableAfterMs;
    if (stableAfterMs !== undefined) {
      // Backoff resets only once the link has proven stable (spec F5: links dropped right after
      // connecting must keep backing off).
      this.#stableTimer = setTimeout(() => {
        this.#stableTimer = undefined;
        this.#attempt = 0;
      }, stableAfterMs);
    }
    this.#setState('connected');
    this.#log.debug('tcp: connected', { host: this.host, port: this.port, linkId: this.linkId });
    this.#emitSafe('connected', {
      localAddress: socket.localAddress,
      localPort: socket.localPort,
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
      remoteFamily: socket.remoteFamily,
    });
    this.#armHeartbeat();
  }

  #newReader(source: OnreadSource): ByteReader {
    return new ByteReader(source, {
      timeoutMs: this.#timeoutMs,
      maxBuffer: this.#maxBuffer,
      maxFrame: this.#maxFrame,
    });
  }

  /** Takes a link down once; reconnects at once (deliberate drops) or after a backoff delay. */
  #dropLink(link: Link, reason: DisconnectReason, error?: Error): void {
    if (link.down) return;
    link.down = true;
    const socket = link.socket;
    this.#totals.bytesIn += socket.bytesRead;
    this.#totals.bytesOut += socket.bytesWritten;
    this.#totals.disconnects++;
    if (this.#link === link) this.#link = undefined;
    if (error !== undefined && reason !== 'closed') this.#lastError = error;
    if (this.#stableTimer !== undefined) {
      clearTimeout(this.#stableTimer);
      this.#stableTimer = undefined;
    }
    if (this.#heartbeatTimer !== undefined) {
      clearTimeout(this.#heartbeatTimer);
      this.#heartbeatTimer = undefined;
    }
    socket.destroy();
    if (reason !== 'closed' && link.reader.buffered > 0 && link.reader.pending === 0) {
      // Bytes that arrived before the peer went away, with no read waiting for them: keep them for the
      // next read, which fails with EofError carrying them (nothing is lost silently). The 'disconnected'
      // event's EofError carries them too, for owners that act on the event.
      const bytes = link.reader.peek();
      this.#orphan = { bytes, cause: error };
      if (reason === 'eof') error = this.#stamp(new EofError('connection', bytes), 'read');
    }
    link.reader.close();
    this.#log.info('tcp: disconnected', { reason, error: error?.message, linkId: this.linkId });
    this.#emitSafe('disconnected', error === undefined ? { reason } : { reason, error });
    if (reason === 'reset' && error !== undefined) this.#emitError(error);
    if (this.#state === 'closed') return;
    if (this.#reconnect === undefined) {
      this.#setState('idle');
      return;
    }
    const deliberate = reason === 'desync' || reason === 'resetOnError';
    if (deliberate && this.#attempt === 0) {
      // The peer is fine, the line is not: a fresh connection right away.
      void this.#startConnect().catch(noop);
      return;
    }
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const options = this.#reconnect;
    if (options === undefined || this.#state === 'closed') return;
    const delayMs = backoffDelay(this.#attempt, options, options.random);
    this.#attempt++;
    this.#setState('backoff');
    this.#log.debug('tcp: reconnect scheduled', { attempt: this.#attempt, delayMs, linkId: this.linkId });
    this.#emitSafe('reconnectScheduled', { attempt: this.#attempt, delayMs });
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = undefined;
      if (this.#state === 'backoff') void this.#startConnect().catch(noop);
    }, delayMs);
  }

  // --- heartbeat -----------------------------------------------------------------------------------------

  #armHeartbeat(): void {
    const heartbeat = this.#heartbeat;
    if (heartbeat === undefined || this.#state !== 'connected') return;
    this.#heartbeatSeen = this.#totals.completed;
    this.#heartbeatTimer = setTimeout(() => {
      this.#heartbeatTimer = undefined;
      const link = this.#link;
      if (link === undefined || this.#state === 'closed') return;
      // Any successful operation since the last tick proves the link alive; otherwise ask the device.
      if (this.#totals.completed !== this.#heartbeatSeen || this.pending > 0) {
        this.#armHeartbeat();
        return;
      }
      this.#sendHeartbeat(link, heartbeat);
    }, heartbeat.intervalMs);
  }

  #sendHeartbeat(link: Link, heartbeat: HeartbeatOptions): void {
    const promise = this.#enqueue(
      'heartbeat',
      heartbeat.request,
      heartbeat.read,
      { timeoutMs: heartbeat.timeoutMs ?? this.#timeoutMs },
      true,
      HEARTBEAT,
    );
    promise.then(
      () => {
        if (this.#link === link) this.#armHeartbeat();
      },
      (error: unknown) => {
        if (!link.down && this.#state !== 'closed') this.#dropLink(link, 'heartbeat', error as Error);
      },
    );
  }

  // --- close ---------------------------------------------------------------------------------------------

  async #shutdown(): Promise<void> {
    this.#setState('closed');
    for (const timer of [this.#backoffTimer, this.#stableTimer, this.#heartbeatTimer, this.#watchdog]) {
      if (timer !== undefined) clearTimeout(timer);
    }
    this.#backoffTimer = this.#stableTimer = this.#heartbeatTimer = this.#watchdog = undefined;
    this.#watchdogAt = Number.POSITIVE_INFINITY;
    const active = this.#active;
    const queued = this.#queue.slice(this.#queueHead);
    this.#queue.length = 0;
    this.#queueHead = 0;
    if (active !== undefined) this.#settle(active, this.#closedError(active.op));
    for (const job of queued) this.#settle(job, this.#closedError(job.op));
    this.#rejectConnecting?.(this.#closedError('connect'));
    const link = this.#link;
    if (link !== undefined) this.#dropLink(link, 'closed');
    const sockets = [...this.#sockets];
    for (const socket of sockets) socket.destroy();
    await Promise.all(sockets.filter((s) => !s.closed).map((s) => new Promise((r) => s.once('close', r))));
  }

  // --- helpers -------------------------------------------------------------------------------------------

  /** Keeps an error listener on every socket for its whole life (no unhandled 'error', spec F13). */
  #track(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on('error', noop);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #setState(state: TcpState): void {
    if (this.#state === state) return;
    if (this.#state === 'closed') return;
    this.#state = state;
    const waiters = this.#stateWaiters;
    this.#stateWaiters = [];
    for (const w of waiters) w();
  }

  #nextStateChange(): Promise<void> {
    return new Promise((resolve) => this.#stateWaiters.push(resolve));
  }

  #context(op: string, cause?: unknown): TcpErrorOptions {
    return { op, cause, linkId: this.linkId, host: this.host, port: this.port };
  }

  #closedError(op: string): Error {
    if (this.#invalid !== undefined && this.#closing === undefined) return this.#invalid;
    return this.#stamp(new ClosedError(op), op);
  }

  #notConnected(op: string): Error {
    return new NotConnectedError(this.#context(op, this.#lastError));
  }

  /**
   * Puts `op` and `linkId` on an error (framing errors do not have them). An error already stamped for
   * another operation (one connect failure shared by every operation waiting for it) is copied first.
   */
  #stamp<E>(error: E, op: string): E {
    if (!(error instanceof Error)) return error;
    let e = error as Error & TcpErrorContext;
    if (e.op !== undefined && e.op !== op) {
      e = Object.create(Object.getPrototypeOf(e), Object.getOwnPropertyDescriptors(e)) as typeof e;
      e.op = op;
    }
    e.op ??= op;
    if (this.linkId !== undefined) e.linkId ??= this.linkId;
    return e as E;
  }

  #emitSafe<K extends 'connecting' | 'connected' | 'disconnected' | 'reconnectScheduled'>(
    event: K,
    payload: TcpInterfaceEvents[K][0],
  ): void {
    try {
      (this.emit as (event: string, payload: unknown) => boolean)(event, payload);
    } catch (error) {
      this.#log.error('tcp: event listener threw', { event, error, linkId: this.linkId });
    }
  }

  /** 'error' is emitted only to listeners: without one, EventEmitter would throw (spec F13). */
  #emitError(error: Error): void {
    if (this.listenerCount('error') === 0) return;
    try {
      this.emit('error', error);
    } catch (listenerError) {
      this.#log.error('tcp: error listener threw', { error: listenerError, linkId: this.linkId });
    }
  }
}

function noop(): void {}

function safeTimeout(value: number | undefined, fallback: number): number {
  try {
    return checkTimeout(value, fallback);
  } catch {
    return fallback;
  }
}

function validatePort(port: number): string | undefined {
  return Number.isInteger(port) && port >= 1 && port <= 65_535 ? undefined : `invalid port ${port}`;
}
