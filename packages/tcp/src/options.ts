// Options, events and counters of Connection, RequestQueue and TcpInterface.

import type { LookupFunction } from 'node:net';
import type { ByteReader, OperationOptions } from '@labwire/framing';
import type { BackoffOptions } from './backoff';
import type { Link } from './link';
import type { LoggerLike } from './logger';

/** Lifecycle: idle → connecting → connected → (link ends) → backoff → connecting → … → closed. */
export type TcpState = 'idle' | 'connecting' | 'connected' | 'backoff' | 'closed';
export type ConnectionState = TcpState;

/**
 * What to do with the line after a request failed half way (timed out, aborted, or left bytes behind):
 * `'reconnect'` drops the connection and opens a new one, so no late byte can ever reach the next caller;
 * `'drain'` discards input until the line has been quiet for `drainQuietMs` and keeps the connection
 * (falls back to a reconnect when the line never goes quiet within `drainTimeoutMs`).
 */
export type DesyncPolicy = 'reconnect' | 'drain';

/** Why a link went down, as reported by the `disconnected` event. */
export type DisconnectReason =
  /** The peer closed the connection (FIN). */
  | 'eof'
  /** The peer reset the connection, or the socket failed. */
  | 'reset'
  /** `maxConsecutiveTimeouts` requests in a row timed out: the peer is taken for half-open. */
  | 'timeouts'
  /** The heartbeat failed. */
  | 'heartbeat'
  /** A request failed half way and the desync policy replaced the line (or a drain never went quiet). */
  | 'desync'
  /** `recv(…, { resetOnError: true })` failed. */
  | 'resetOnError'
  /** The owner dropped the link: `drop()`, `reconnect()`. */
  | 'dropped'
  /** `close()` was called. */
  | 'closed';

/** The reasons an owner may give when it takes a link down itself. */
export type DropReason = Exclude<DisconnectReason, 'closed'>;

export interface ReconnectOptions extends BackoffOptions {
  /** Give up after this many retries in a row without a healthy link. Default Infinity. */
  maxAttempts?: number;
  /**
   * Decides the delay of every backoff row: return a number of ms, or `null`/`false` (any non-number) to
   * stop reconnecting. `attempt` is 1 for the first retry in a row; `delayMs` is what the built-in
   * schedule would wait, so a strategy can change only what it cares about.
   */
  retryStrategy?: (attempt: number, lastError: Error | undefined, delayMs: number) => unknown;
  /** Source of the jitter, numbers in [0, 1). Default Math.random. */
  random?: () => number;
  /**
   * Reconnect on its own after a link ends or a connect fails (default true). With false, a new link
   * comes only when asked for (`connect()`, `reconnect()`, a queued operation), and still no sooner than
   * the backoff window allows.
   */
  auto?: boolean;
}

/** Reads the reply of a request from the connection's ByteReader, within `options` (pass them on). */
export type ReplyReader<T> = (reader: ByteReader, options: OperationOptions) => Promise<T>;

/**
 * A request's fast path for a reply that arrives whole (`request(data, read, { atHand })`): instead of
 * starting `read` after the write, the queue calls `take` synchronously, inside the socket's read
 * callback, each time bytes arrive for the request (no queued read, promise or turn of the event loop
 * per reply). Deadline, abort, desync and close work as for `read`: after a timeout the line is
 * resynchronised before the next request, so late bytes never reach it. While a request waits this way,
 * the queue owns the reader's arrival listener (`ByteReader.onArrival`).
 */
export interface ReplyAtHand<T> {
  /**
   * Looks at the buffered bytes (`reader.peekView()`, not kept beyond the call) and returns
   * - `'taken'` after it consumed the whole reply (`reader.discard(n)`) and stored its value in `value`;
   * - `'wait'` when the reply is not whole yet and nothing is wrong so far (called again on more bytes);
   * - `'read'` for anything else (a reply it does not handle, an error to report, bytes beyond the
   *   reply): nothing consumed, and the queue runs `read` on the same bytes, which reports it as usual.
   * What it throws rejects the request like a failed `read`.
   */
  take(reader: ByteReader): 'taken' | 'wait' | 'read';
  /** The reply's value, set by `take` before it returns `'taken'`. */
  value: T;
}

export interface ConnectionOptions {
  /** Default deadline of `send` and of the reader's reads, in ms. Default 10 000. */
  timeoutMs?: number;
  /** Deadline of one connect attempt (DNS included); the socket is destroyed when it passes. Default 5 000. */
  connectTimeoutMs?: number;
  /** 0 (any; both families are tried, docs/protocols/tcpinterface.md F12), 4 or 6. Default 0. */
  family?: 0 | 4 | 6;
  /** A custom resolver (as `net.connect`'s `lookup`). Default: the system resolver. */
  lookup?: LookupFunction;
  /** TCP_NODELAY: small requests leave at once instead of waiting for an ACK (docs/protocols/tcpinterface.md F7). Default true. */
  noDelay?: boolean;
  /** TCP keepalive probes on idle links (docs/protocols/tcpinterface.md F4). Default true. */
  keepAlive?: boolean;
  /** Idle time before the first keepalive probe, in ms. Default 1 000 (then libuv probes every 1 s, 10 times). */
  keepAliveInitialDelayMs?: number;
  /** Start connecting in the constructor. Default true. */
  autoConnect?: boolean;
  /**
   * The reconnect policy's numbers and hooks, or `false`: no reconnect on its own (the same as
   * `{ auto: false }` with the default backoff, which still paces every connect that is asked for).
   */
  reconnect?: false | ReconnectOptions;
  /** An application heartbeat (half-open detection on quiet links). */
  /** An application heartbeat run on a quiet link. */
  heartbeat?: {
    /** Probe after this many ms in which no byte arrived. */
    intervalMs: number;
    /**
     * Asks the peer whether it is alive; a rejection takes the link down (reason `heartbeat`). It is not a
     * proof of health by itself: call `link.markHealthy()` when the answer proves the peer.
     */
    probe: (link: Link, options: OperationOptions) => Promise<unknown>;
    /** Deadline of one probe. Default: the connection's `timeoutMs`. */
    timeoutMs?: number;
  };
  /** ByteReader buffer limit per connection. Default 1 MiB. */
  maxBuffer?: number;
  /** ByteReader limit for `readFrame`. Default 16 MiB. */
  maxFrame?: number;
  /** Where diagnostics go: `{ debug, info, warn, error }` taking `(message, fields)`, or pino/bunyan. */
  logger?: LoggerLike;
  /** A name for this link, copied onto every error and log entry. */
  linkId?: string;
}

export interface RequestQueueOptions {
  /** Default deadline of every operation (queueing included), in ms. Default: the connection's, 10 000. */
  timeoutMs?: number;
  /** What to do with the line after a request failed half way. Default `'reconnect'`. */
  desync?: DesyncPolicy;
  /** Quiet period that ends a drain (desync `'drain'`), in ms. Default 50. */
  drainQuietMs?: number;
  /** Longest drain before giving up and reconnecting, in ms. Default 1 000. */
  drainTimeoutMs?: number;
  /** After this many request timeouts in a row the link is taken for half-open and dropped. Default 3. */
  maxConsecutiveTimeouts?: number;
  /**
   * How many operations may wait for a link while the connection is reconnecting, each within its own
   * deadline. Default 1 000. Above the bound, and with 0, they reject at once with NotConnectedError.
   */
  offlineQueue?: number;
  /**
   * When a link ended and none is coming (the connection does not reconnect on its own), an operation
   * asks for one (SOCS: `send` reconnects), paced by the backoff. Default true; false rejects it with
   * NotConnectedError and leaves the next link to the owner (the queue's own desync still replaces
   * the line).
   */
  connectOnDemand?: boolean;
  /** Most operations queued at once (in flight included); more reject with LimitExceededError. Default 65 536. */
  maxQueued?: number;
  /** How often an idempotent operation is sent again on a new connection after the link dropped. Default 1. */
  maxReplays?: number;
  /** Where the queue's diagnostics go. Default: the connection's logger. */
  logger?: LoggerLike;
}

export interface TcpInterfaceOptions
  extends Omit<ConnectionOptions, 'heartbeat'>,
    Omit<RequestQueueOptions, 'logger' | 'timeoutMs'> {
  /** Default deadline of every operation (queueing included), in ms. Default 10 000. */
  timeoutMs?: number;
  /** An optional application heartbeat: an idempotent request sent when the link was quiet for `intervalMs`. */
  heartbeat?: {
    /** Send the heartbeat after this many ms in which no byte arrived. */
    intervalMs: number;
    /** The request bytes; it must be harmless to repeat (it is sent as idempotent). */
    request: Uint8Array;
    /** Reads (and checks) the heartbeat reply. */
    read: ReplyReader<unknown>;
    /** Deadline of one heartbeat request. Default: the interface's `timeoutMs`. */
    timeoutMs?: number;
  };
}

export interface SendOptions extends OperationOptions {
  /**
   * The bytes may be sent again on a new connection when the link drops before the operation completes.
   * Default false: a command never reaches the device twice.
   */
  idempotent?: boolean;
}

/** Event map of Connection, RequestQueue and TcpInterface (`on(name, listener)`). */
export interface ConnectionEvents {
  connecting: [
    {
      /** 0 for the first connect, then the attempt counter (retries in a row without a healthy link). */
      attempt: number;
      host: string;
      port: number;
    },
  ];
  connected: [
    {
      /** The new link (its reader, `send`, `markHealthy`, `drop`). */
      link: Link;
      localAddress: string | undefined;
      localPort: number | undefined;
      remoteAddress: string | undefined;
      remotePort: number | undefined;
      remoteFamily: string | undefined;
    },
  ];
  disconnected: [
    {
      reason: DisconnectReason;
      /** The error behind it, when there is one. */
      error?: Error | undefined;
      /** Whether the link had proved healthy before it ended. */
      healthy?: boolean;
      /** Bytes that arrived and that no read took (nothing was waiting for them). */
      unread?: Uint8Array | undefined;
    },
  ];
  reconnectScheduled: [
    {
      /**
       * The attempt counter: 1 for the first retry after a failure, counting up until a link proves healthy;
       * 0 for the immediate reconnect after a healthy link was dropped on purpose.
       */
      attempt: number;
      delayMs: number;
    },
  ];
  /** The policy gave up (`maxAttempts`, `retryStrategy`); `connect()` starts over. */
  reconnectStopped: [
    {
      /** Retries made in a row. */
      attempt: number;
      /** `maxAttempts` was reached, or `retryStrategy` returned a non-number. */
      reason: 'maxAttempts' | 'retryStrategy';
      error?: Error | undefined;
    },
  ];
  /** The state changed (after the event that caused it). */
  state: [TcpState];
  /** Connect failures and socket errors. Emitted only when a listener is attached (never unhandled). */
  error: [Error];
}
export type TcpInterfaceEvents = ConnectionEvents;

/** Running totals of a Connection since construction. */
export interface ConnectionCounters {
  bytesIn: number;
  bytesOut: number;
  /** Successful connects (the first one included). */
  connects: number;
  /** Successful connects after the first. */
  reconnects: number;
  connectFailures: number;
  disconnects: number;
}

/** Running totals of a RequestQueue since construction. */
export interface QueueCounters {
  /** Operations that completed successfully. */
  completed: number;
  /** Operations that hit their deadline. */
  timeouts: number;
  /** Idempotent operations sent again on a new connection. */
  replays: number;
}

/** An application heartbeat run by a Connection on a quiet link. */
export type ConnectionHeartbeat = NonNullable<ConnectionOptions['heartbeat']>;
/** The heartbeat of a TcpInterface / RequestQueue: an idempotent request sent on a quiet link. */
export type HeartbeatOptions = NonNullable<TcpInterfaceOptions['heartbeat']>;
/** What the `disconnected` event carries. */
export type DisconnectedEvent = ConnectionEvents['disconnected'][0];
