// Connection: one TCP link to host:port and its whole life (docs/protocols/tcpinterface.md §1.7, goals G6, G10-G14).
//
// - One connect in flight at a time, with a deadline that destroys the socket (F11).
// - Every end of a link, and every failed connect, goes through the reconnect policy (reconnect-policy.ts):
//   it alone says how long to wait and how the attempt counter moves. No path connects sooner than the
//   policy allows: automatic reconnects, `connect()`, `reconnect()` and operations asking for a link all
//   wait for the same `notBefore` instant (F5).
// - Each link is a Link: its own ByteReader (closed when it goes down), ordered sends, health.
// - TCP keepalive on the socket, and an optional application heartbeat on quiet links (F4).
// - Full-duplex owners (a PyMoDAQ client) use it directly; RequestQueue puts FIFO requests on top.

import { EventEmitter } from 'node:events';
import net from 'node:net';
import {
  AbortedError,
  armDeadline,
  ByteReader,
  ClosedError,
  checkTimeout,
  DEFAULT_MAX_BUFFER,
  DEFAULT_MAX_FRAME,
  EofError,
  type LabwireError,
  type Logger,
  OnreadSource,
  type OperationOptions,
  TimeoutError,
  withDeadline,
} from '@labwire/framing';
import {
  ConnectFailedError,
  ConnectionResetError,
  ConnectRefusedError,
  ConnectTimeoutError,
  NotConnectedError,
  type TcpErrorContext,
  type TcpErrorOptions,
} from './errors';
import { Link, type LinkOwner, markDown } from './link';
import { toLogger } from './logger';
import type {
  ConnectionCounters,
  ConnectionEvents,
  ConnectionHeartbeat,
  ConnectionOptions,
  DisconnectReason,
  DropReason,
  TcpState,
} from './options';
import { decideReconnect, type LinkEnd, linkEndOf, type ReconnectPolicyOptions } from './reconnect-policy';

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_KEEPALIVE_INITIAL_DELAY_MS = 1_000;

const now = () => performance.now();
const noop = () => {};

function isRefused(error: unknown): boolean {
  if (error instanceof AggregateError) {
    return error.errors.length > 0 && error.errors.every((e) => isRefused(e));
  }
  return (error as NodeJS.ErrnoException)?.code === 'ECONNREFUSED';
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be waiting for this attempt: its failure is reported through events, never unhandled.
  promise.catch(noop);
  return { promise, resolve, reject };
}

export class Connection extends EventEmitter<ConnectionEvents> implements AsyncDisposable {
  readonly host: string;
  readonly port: number;
  readonly linkId: string | undefined;
  /** Default deadline of `send`, of the reader's reads and of the heartbeat, in ms. */
  readonly timeoutMs: number;

  readonly #connectTimeoutMs: number;
  readonly #family: 0 | 4 | 6;
  readonly #lookup: net.LookupFunction | undefined;
  readonly #noDelay: boolean;
  readonly #keepAlive: boolean;
  readonly #keepAliveInitialDelayMs: number;
  readonly #auto: boolean;
  readonly #policy: ReconnectPolicyOptions;
  #heartbeat: ConnectionHeartbeat | undefined;
  readonly #maxBuffer: number;
  readonly #maxFrame: number;
  /** The logger given in the options, adapted to `(message, fields)` calls (silent by default). */
  readonly logger: Logger;
  readonly #log: Logger;
  readonly #owner: LinkOwner;

  #state: TcpState = 'idle';
  #link: Link | undefined;
  #linkCount = 0;
  /** The reconnect policy's counter: retries in a row without a healthy link. */
  #attempt = 0;
  /** `performance.now()` before which no connect may start (the current backoff window). */
  #notBefore = 0;
  #gaveUp = false;
  #everConnected = false;
  /** The outcome of the next connect attempt, for everyone waiting on it. */
  #next: Deferred<Link> | undefined;
  #backoffTimer: ReturnType<typeof setTimeout> | undefined;
  /** Cancels the connect attempt in flight. */
  #cancelAttempt: ((error: Error) => void) | undefined;
  #heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  #lastError: Error | undefined;
  /** Set when the constructor was given an unusable endpoint: every operation rejects with it. */
  #invalid: Error | undefined;
  #closing: Promise<void> | undefined;
  readonly #sockets = new Set<net.Socket>();
  /** The counters, with bytesIn/bytesOut of closed links only: `counters` adds the live socket's. */
  readonly #totals: ConnectionCounters = {
    bytesIn: 0,
    bytesOut: 0,
    connects: 0,
    reconnects: 0,
    connectFailures: 0,
    disconnects: 0,
  };

  /**
   * Never throws: bad options and connect failures are reported through `state`, the `error` event and
   * the logger, and every later operation rejects with the reason. Starts connecting at once unless
   * `autoConnect: false`.
   */
  constructor(host: string, port: number, options: ConnectionOptions = {}) {
    super();
    this.host = host;
    this.port = port;
    this.linkId = options.linkId;
    this.#log = this.logger = toLogger(options.logger);
    this.timeoutMs = safeTimeout(options.timeoutMs, DEFAULT_TIMEOUT_MS);
    this.#connectTimeoutMs = safeTimeout(options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS);
    this.#family = options.family === 4 || options.family === 6 ? options.family : 0;
    this.#lookup = options.lookup;
    this.#noDelay = options.noDelay ?? true;
    this.#keepAlive = options.keepAlive ?? true;
    this.#keepAliveInitialDelayMs = options.keepAliveInitialDelayMs ?? DEFAULT_KEEPALIVE_INITIAL_DELAY_MS;
    const reconnect = options.reconnect === false ? { auto: false } : (options.reconnect ?? {});
    this.#auto = reconnect.auto ?? true;
    this.#policy = reconnect;
    this.#heartbeat = options.heartbeat;
    this.#maxBuffer = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
    this.#maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME;
    this.#owner = {
      timeoutMs: this.timeoutMs,
      context: (op, cause) => this.#context(op, cause),
      linkHealthy: (link) => this.#linkHealthy(link),
      dropLink: (link, reason, error, reconnect) => this.#linkDown(link, reason, error, reconnect),
      newReader: (source) =>
        new ByteReader(source, {
          timeoutMs: this.timeoutMs,
          maxBuffer: this.#maxBuffer,
          maxFrame: this.#maxFrame,
        }),
    };
    const problem =
      validatePort(port) ?? (typeof host === 'string' && host !== '' ? undefined : 'empty host');
    if (problem !== undefined) {
      // SOCS parity: the constructor does not throw; the connection stays unusable and says why.
      this.#lastError = new ConnectFailedError(this.#context('connect', new RangeError(problem)));
      this.#log.error('tcp: invalid endpoint', { host, port, problem, linkId: this.linkId });
      this.#invalid = this.#lastError;
      this.#state = 'closed';
      return;
    }
    if (options.autoConnect ?? true) {
      // Start in the next microtask so that listeners attached right after construction see `connecting`.
      queueMicrotask(() => {
        if (this.#state === 'idle' && this.#link === undefined) void this.#request();
      });
    }
  }

  /** Where the connection is in its life cycle. */
  get state(): TcpState {
    return this.#state;
  }

  /** True while a link is up. */
  get connected(): boolean {
    return this.#link !== undefined;
  }

  /** The current link, while one is up. */
  get link(): Link | undefined {
    return this.#link;
  }

  /**
   * The current link's ByteReader, for full-duplex protocols in which the peer speaks unprompted.
   * Undefined while not connected; every link has its own reader, closed when that link drops.
   */
  get reader(): ByteReader | undefined {
    return this.#link?.reader;
  }

  /** True when the current link proved the peer. */
  get healthy(): boolean {
    return this.#link?.healthy ?? false;
  }

  /** The reconnect policy's counter: retries in a row without a link that proved healthy. */
  get attempt(): number {
    return this.#attempt;
  }

  /** False when the connection reconnects only when asked (`reconnect: false` or `{ auto: false }`). */
  get autoReconnect(): boolean {
    return this.#auto;
  }

  /** The policy gave up (`maxAttempts`, `retryStrategy`): nothing reconnects until `connect()`. */
  get gaveUp(): boolean {
    return this.#gaveUp;
  }

  /** Set when the endpoint given to the constructor is unusable (state `closed` from the start). */
  get endpointError(): Error | undefined {
    return this.#invalid;
  }

  /**
   * Installs (or removes, with undefined) the application heartbeat; it applies from the next link on
   * (and to the current one when it is armed here).
   */
  setHeartbeat(heartbeat: ConnectionOptions['heartbeat']): void {
    this.#heartbeat = heartbeat;
    if (this.#heartbeatTimer !== undefined) {
      clearTimeout(this.#heartbeatTimer);
      this.#heartbeatTimer = undefined;
    }
    if (this.#link !== undefined) this.#armHeartbeat(this.#link);
  }

  /** The error that took the last link down or made the last connect fail, if any. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /** A snapshot of the running totals. */
  get counters(): ConnectionCounters {
    const t = this.#totals;
    const s = this.#link?.socket;
    return {
      ...t,
      bytesIn: t.bytesIn + (s?.bytesRead ?? 0),
      bytesOut: t.bytesOut + (s?.bytesWritten ?? 0),
    };
  }

  /**
   * Resolves with the link once connected. With a link up, at once; with a connect in flight or
   * scheduled (backoff), with the outcome of that attempt; otherwise starts one, no sooner than the
   * current backoff window allows. After the policy gave up, starts a new series. `opts.timeoutMs` and
   * `opts.signal` bound the wait, not the attempt (which has `connectTimeoutMs`). Rejects with
   * ConnectRefusedError, ConnectTimeoutError, ConnectFailedError, TimeoutError, AbortedError or ClosedError.
   */
  connect(opts: OperationOptions = {}): Promise<Link> {
    const link = this.#link;
    if (link !== undefined) return Promise.resolve(link);
    if (this.#state === 'closed') return Promise.reject(this.#closedError('connect'));
    let timeoutMs: number;
    try {
      timeoutMs = checkTimeout(opts.timeoutMs, this.timeoutMs);
    } catch (e) {
      return Promise.reject(e);
    }
    if (opts.signal?.aborted)
      return Promise.reject(this.#stamp(new AbortedError('connect', opts.signal.reason), 'connect'));
    if (this.#gaveUp) {
      this.#gaveUp = false;
      this.#attempt = 0;
      this.#notBefore = 0;
    }
    return this.#within(this.#request(), timeoutMs, opts.signal);
  }

  /** Writes `data` on the current link (see `Link.send`); NotConnectedError when none is up. */
  send(data: Uint8Array, opts: OperationOptions = {}): Promise<void> {
    const link = this.#link;
    if (link === undefined) {
      if (this.#state === 'closed') return Promise.reject(this.#closedError('send'));
      return Promise.reject(new NotConnectedError(this.#context('send', this.#lastError)));
    }
    return link.send(data, opts);
  }

  /** Marks the current link healthy (see `Link.markHealthy`). */
  markHealthy(): void {
    this.#link?.markHealthy();
  }

  /** Takes the current link down on purpose (see `Link.drop`); the policy decides what follows. */
  drop(reason: DropReason = 'dropped', error?: Error): void {
    this.#link?.drop(reason, error);
  }

  /**
   * Drops the current link on purpose and resolves with the next one: at once when the link had proved
   * healthy, after its backoff window otherwise (the policy decides), even when the connection does not
   * reconnect on its own. Without a link, the same as `connect()`.
   */
  reconnect(reason: DropReason = 'dropped', opts: OperationOptions = {}): Promise<Link> {
    const link = this.#link;
    if (link !== undefined) this.#linkDown(link, reason, undefined, true);
    return this.connect(opts);
  }

  /**
   * Closes the link and settles everything: connect waiters reject with ClosedError, timers are cleared,
   * and the promise resolves once every socket has closed. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // --- connecting ----------------------------------------------------------------------------------------

  /** The next attempt's outcome; starts or schedules one when none is in flight or scheduled. */
  #request(): Promise<Link> {
    this.#next ??= deferred<Link>();
    const next = this.#next;
    if (this.#state === 'idle') this.#schedule(Math.max(0, this.#notBefore - now()));
    return next.promise;
  }

  /** Starts the next attempt after `delayMs` (single flight: nothing happens when one is pending). */
  #schedule(delayMs: number): void {
    if (this.#state === 'closed' || this.#backoffTimer !== undefined || this.#cancelAttempt !== undefined) {
      return;
    }
    this.#next ??= deferred<Link>();
    if (delayMs <= 0) {
      this.#attemptConnect();
      return;
    }
    this.#setState('backoff');
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = undefined;
      if (this.#state === 'backoff') this.#attemptConnect();
    }, delayMs);
  }

  #attemptConnect(): void {
    this.#notBefore = 0;
    this.#setState('connecting');
    this.#emitSafe('connecting', { attempt: this.#attempt, host: this.host, port: this.port });
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
    const finish = (error: Error | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      this.#cancelAttempt = undefined;
      if (error === undefined) {
        this.#linkUp(socket, source);
        return;
      }
      socket.destroy();
      this.#connectFailed(error);
    };
    const onConnect = () => finish(undefined);
    const onError = (error: Error) =>
      finish(
        isRefused(error)
          ? new ConnectRefusedError(this.#context('connect', error))
          : new ConnectFailedError(this.#context('connect', error)),
      );
    // The deadline covers DNS and the handshake; Node has none of its own (docs/protocols/tcpinterface.md F11).
    const timer = setTimeout(
      () => finish(new ConnectTimeoutError(this.#connectTimeoutMs, this.#context('connect'))),
      this.#connectTimeoutMs,
    );
    this.#cancelAttempt = finish;
    socket.once('connect', onConnect);
    socket.on('error', onError);
  }

  #connectFailed(error: Error): void {
    const next = this.#next;
    this.#next = undefined;
    if (this.#state === 'closed') {
      next?.reject(this.#closedError('connect'));
      return;
    }
    this.#totals.connectFailures++;
    this.#lastError = error;
    this.#log.warn('tcp: connect failed', {
      host: this.host,
      port: this.port,
      code: (error as LabwireError).code,
      error: error.message,
      attempt: this.#attempt,
      linkId: this.linkId,
    });
    this.#emitError(error);
    // The policy runs before the waiters hear of the failure, so that they see the state it leads to
    // (backoff: another attempt is coming; idle: none is).
    this.#afterEnd('connectFailed', false, error, false);
    next?.reject(error);
  }

  #linkUp(socket: net.Socket, source: OnreadSource): void {
    const next = this.#next;
    this.#next = undefined;
    if (this.#state === 'closed') {
      socket.destroy();
      next?.reject(this.#closedError('connect'));
      return;
    }
    source.attach(socket);
    const link = new Link(++this.#linkCount, socket, source, this.#owner);
    // Taken down in a microtask: every listener of the event runs first, so the reader settles its pending
    // reads (EOF with the partial bytes) before the link goes down.
    socket.on('end', () =>
      queueMicrotask(() =>
        this.#linkDown(link, 'eof', this.#stamp(new EofError('connection', new Uint8Array(0)), 'read')),
      ),
    );
    socket.on('error', (error) =>
      queueMicrotask(() =>
        this.#linkDown(link, 'reset', new ConnectionResetError(this.#context('read', error))),
      ),
    );
    socket.on('close', () =>
      queueMicrotask(() =>
        this.#linkDown(
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
    this.#setState('connected');
    this.#log.debug('tcp: connected', {
      host: this.host,
      port: this.port,
      attempt: this.#attempt,
      linkId: this.linkId,
    });
    this.#emitSafe('connected', {
      link,
      localAddress: socket.localAddress,
      localPort: socket.localPort,
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
      remoteFamily: socket.remoteFamily,
    });
    next?.resolve(link);
    this.#armHeartbeat(link);
  }

  #linkHealthy(link: Link): void {
    if (link !== this.#link) return;
    if (this.#attempt !== 0) {
      this.#log.debug('tcp: link proved healthy, backoff reset', {
        attempt: this.#attempt,
        linkId: this.linkId,
      });
    }
    this.#attempt = 0;
  }

  /** Takes a link down once; then the policy decides what follows. */
  #linkDown(link: Link, reason: DisconnectReason, error?: Error, reconnect?: boolean): void {
    if (link.down) return;
    const healthy = link.healthy;
    const socket = link.socket;
    const reader = link.reader;
    let unread: Uint8Array | undefined;
    if (reason !== 'closed' && reader.buffered > 0 && reader.pending === 0) {
      // Bytes that arrived before the link went down, with no read waiting for them: reported with the
      // event (a queue hands them to its next read as an EofError, so nothing is lost silently).
      unread = reader.peek();
      if (reason === 'eof') error = this.#stamp(new EofError('connection', unread), 'read');
    }
    link[markDown](reason, error);
    this.#totals.bytesIn += socket.bytesRead;
    this.#totals.bytesOut += socket.bytesWritten;
    this.#totals.disconnects++;
    if (this.#link === link) this.#link = undefined;
    if (error !== undefined && reason !== 'closed') this.#lastError = error;
    if (this.#heartbeatTimer !== undefined) {
      clearTimeout(this.#heartbeatTimer);
      this.#heartbeatTimer = undefined;
    }
    socket.destroy();
    reader.close();
    this.#log.info('tcp: disconnected', { reason, healthy, error: error?.message, linkId: this.linkId });
    this.#emitSafe('disconnected', { reason, error, healthy, unread });
    if (reason === 'reset' && error !== undefined) this.#emitError(error);
    if (this.#state === 'closed' || reason === 'closed') return;
    this.#afterEnd(linkEndOf(reason), healthy, error, reconnect ?? false);
  }

  /** Applies the reconnect policy after a link ended or a connect failed. */
  #afterEnd(ended: LinkEnd, healthy: boolean, error: Error | undefined, requested: boolean): void {
    if (this.#state === 'closed') return;
    const decision = decideReconnect({ ended, healthy, attempt: this.#attempt, error }, this.#policy);
    if (decision.stop) {
      this.#attempt = decision.attempt;
      this.#gaveUp = true;
      this.#setState('idle');
      const next = this.#next;
      this.#next = undefined;
      next?.reject(new NotConnectedError(this.#context('connect', error)));
      this.#log.warn('tcp: reconnect stopped', {
        reason: decision.reason,
        attempt: decision.attempt,
        error: error?.message,
        linkId: this.linkId,
      });
      this.#emitSafe('reconnectStopped', { attempt: decision.attempt, reason: decision.reason, error });
      return;
    }
    this.#attempt = decision.attempt;
    this.#notBefore = now() + decision.delayMs;
    // Without automatic reconnects a new link comes only when asked for: by the caller that dropped this
    // one, or by whoever called connect() while the event above ran.
    if (!this.#auto && !requested && this.#next === undefined) {
      this.#setState('idle');
      return;
    }
    this.#log.debug('tcp: reconnect scheduled', {
      attempt: decision.attempt,
      delayMs: decision.delayMs,
      linkId: this.linkId,
    });
    this.#emitSafe('reconnectScheduled', { attempt: decision.attempt, delayMs: decision.delayMs });
    // A listener may have asked for a connect already; the single-flight check keeps it to one.
    this.#schedule(decision.delayMs);
  }

  // --- heartbeat -----------------------------------------------------------------------------------------

  /** Probes the peer when no byte arrived for `intervalMs` (any byte proves the peer's stack alive). */
  #armHeartbeat(link: Link): void {
    const heartbeat = this.#heartbeat;
    if (heartbeat === undefined || link.down || this.#link !== link) return;
    const seen = link.socket.bytesRead;
    this.#heartbeatTimer = setTimeout(() => {
      this.#heartbeatTimer = undefined;
      if (link.down || this.#link !== link) return;
      if (link.socket.bytesRead !== seen) {
        this.#armHeartbeat(link);
        return;
      }
      this.#probe(link, heartbeat);
    }, heartbeat.intervalMs);
  }

  #probe(link: Link, heartbeat: ConnectionHeartbeat): void {
    const timeoutMs = heartbeat.timeoutMs ?? this.timeoutMs;
    let done = false;
    const fail = (error: unknown) => {
      if (done) return;
      done = true;
      deadline.clear();
      if (!link.down) this.#linkDown(link, 'heartbeat', error as Error);
    };
    const deadline = armDeadline(
      timeoutMs,
      undefined,
      () => fail(this.#stamp(new TimeoutError('heartbeat', timeoutMs), 'heartbeat')),
      noop,
    );
    let probe: Promise<unknown>;
    try {
      probe = Promise.resolve(heartbeat.probe(link, { timeoutMs }));
    } catch (error) {
      probe = Promise.reject(error);
    }
    probe.then(() => {
      if (done) return;
      done = true;
      deadline.clear();
      this.#armHeartbeat(link);
    }, fail);
  }

  // --- close ---------------------------------------------------------------------------------------------

  async #shutdown(): Promise<void> {
    this.#setState('closed');
    for (const timer of [this.#backoffTimer, this.#heartbeatTimer]) {
      if (timer !== undefined) clearTimeout(timer);
    }
    this.#backoffTimer = this.#heartbeatTimer = undefined;
    const next = this.#next;
    this.#next = undefined;
    next?.reject(this.#closedError('connect'));
    this.#cancelAttempt?.(this.#closedError('connect'));
    const link = this.#link;
    if (link !== undefined) this.#linkDown(link, 'closed');
    const sockets = [...this.#sockets];
    for (const socket of sockets) socket.destroy();
    await Promise.all(sockets.filter((s) => !s.closed).map((s) => new Promise((r) => s.once('close', r))));
  }

  // --- helpers -------------------------------------------------------------------------------------------

  /** Waits for `attempt` within a deadline and a signal; the attempt itself goes on. */
  #within(attempt: Promise<Link>, timeoutMs: number, signal: AbortSignal | undefined): Promise<Link> {
    return withDeadline(attempt, 'connect', timeoutMs, signal).catch((error: unknown) => {
      throw this.#stamp(error, 'connect');
    });
  }

  /** Keeps an error listener on every socket for its whole life (no unhandled 'error', docs/protocols/tcpinterface.md F13). */
  #track(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on('error', noop);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  #setState(state: TcpState): void {
    if (this.#state === state || this.#state === 'closed') return;
    this.#state = state;
    this.#emitSafe('state', state);
  }

  #context(op: string, cause?: unknown): TcpErrorOptions {
    return { op, cause, linkId: this.linkId, host: this.host, port: this.port };
  }

  #closedError(op: string): Error {
    if (this.#invalid !== undefined && this.#closing === undefined) return this.#invalid;
    return this.#stamp(new ClosedError(op), op);
  }

  /**
   * Puts `op` and `linkId` on an error (framing errors do not have them). An error already stamped for
   * another operation (one connect failure shared by every operation waiting for it) is copied first.
   */
  #stamp<E>(error: E, op: string): E {
    return stampError(error, op, this.linkId);
  }

  #emitSafe<K extends Exclude<keyof ConnectionEvents, 'error'>>(
    event: K,
    payload: ConnectionEvents[K][0],
  ): void {
    try {
      (this.emit as (event: string, payload: unknown) => boolean)(event, payload);
    } catch (error) {
      this.#log.error('tcp: event listener threw', { event, error, linkId: this.linkId });
    }
  }

  /** 'error' is emitted only to listeners: without one, EventEmitter would throw (docs/protocols/tcpinterface.md F13). */
  #emitError(error: Error): void {
    if (this.listenerCount('error') === 0) return;
    try {
      this.emit('error', error);
    } catch (listenerError) {
      this.#log.error('tcp: error listener threw', { error: listenerError, linkId: this.linkId });
    }
  }
}

/**
 * Puts `op` and `linkId` on an error (framing errors do not have them). An error already stamped for
 * another operation is copied first, so one error shared by several operations names each correctly.
 */
export function stampError<E>(error: E, op: string, linkId: string | undefined): E {
  if (!(error instanceof Error)) return error;
  let e = error as Error & TcpErrorContext;
  if (e.op !== undefined && e.op !== op) {
    e = Object.create(Object.getPrototypeOf(e), Object.getOwnPropertyDescriptors(e)) as typeof e;
    e.op = op;
  }
  e.op ??= op;
  if (linkId !== undefined) e.linkId ??= linkId;
  return e as E;
}

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
