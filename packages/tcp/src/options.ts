// Options, events and counters of TcpInterface.

import type { LookupFunction } from 'node:net';
import type { ByteReader, Logger, OperationOptions } from '@labwire/framing';
import type { BackoffOptions } from './backoff';

/** Lifecycle: idle → connecting → connected → (link drops) → backoff → connecting → … → closed. */
export type TcpState = 'idle' | 'connecting' | 'connected' | 'backoff' | 'closed';

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
  /** A request failed half way and the desync policy reconnects (or a drain never went quiet). */
  | 'desync'
  /** `maxConsecutiveTimeouts` requests in a row timed out: the peer is taken for half-open. */
  | 'timeouts'
  /** The heartbeat request failed. */
  | 'heartbeat'
  /** `recv(…, { resetOnError: true })` failed. */
  | 'resetOnError'
  /** `close()` was called. */
  | 'closed';

export interface ReconnectOptions extends BackoffOptions {
  /** The backoff attempt counter resets only after a link stayed up this long, in ms. Default 5 000. */
  stableAfterMs?: number;
  /** Source of the jitter, numbers in [0, 1). Default Math.random (tests pass a seeded one). */
  random?: () => number;
}

/** Reads the reply of a request from the connection's ByteReader, within `options` (pass them on). */
export type ReplyReader<T> = (reader: ByteReader, options: OperationOptions) => Promise<T>;

export interface HeartbeatOptions {
  /** Send the heartbeat after this many ms without a successful operation. */
  intervalMs: number;
  /** The request bytes; it must be harmless to repeat (it is sent as idempotent). */
  request: Uint8Array;
  /** Reads (and checks) the heartbeat reply. */
  read: ReplyReader<unknown>;
  /** Deadline of one heartbeat request. Default: the interface's `timeoutMs`. */
  timeoutMs?: number;
}

export interface TcpInterfaceOptions {
  /** Default deadline of every operation (queueing included), in ms. Default 10 000. */
  timeoutMs?: number;
  /** Deadline of one connect attempt (DNS included); the socket is destroyed when it passes. Default 5 000. */
  connectTimeoutMs?: number;
  /** 0 (any; both families are tried, spec F12), 4 or 6. Default 0. */
  family?: 0 | 4 | 6;
  /** A custom resolver (as `net.connect`'s `lookup`). Default: the system resolver. */
  lookup?: LookupFunction;
  /** TCP_NODELAY: small requests leave at once instead of waiting for an ACK (spec F7). Default true. */
  noDelay?: boolean;
  /** TCP keepalive probes on idle links (spec F4). Default true. */
  keepAlive?: boolean;
  /** Idle time before the first keepalive probe, in ms. Default 1 000 (then libuv probes every 1 s, 10 times). */
  keepAliveInitialDelayMs?: number;
  /** Start connecting in the constructor. Default true. */
  autoConnect?: boolean;
  /** Reconnect with backoff when the link drops, or `false` to reconnect only on the next operation. */
  reconnect?: false | ReconnectOptions;
  /** What to do with the line after a request failed half way. Default `'reconnect'`. */
  desync?: DesyncPolicy;
  /** Quiet period that ends a drain (desync `'drain'`), in ms. Default 50. */
  drainQuietMs?: number;
  /** Longest drain before giving up and reconnecting, in ms. Default 1 000. */
  drainTimeoutMs?: number;
  /** After this many request timeouts in a row the link is taken for half-open and dropped. Default 3. */
  maxConsecutiveTimeouts?: number;
  /** An optional application heartbeat (half-open detection on quiet links). */
  heartbeat?: HeartbeatOptions;
  /**
   * How many operations may wait while the interface is offline (state `backoff`). 0 (default) rejects them
   * at once with NotConnectedError; above the bound they reject with LimitExceededError.
   */
  offlineQueue?: number;
  /** Most operations queued at once (in flight included); more reject with LimitExceededError. Default 65 536. */
  maxQueued?: number;
  /** How often an idempotent operation is sent again on a new connection after the link dropped. Default 1. */
  maxReplays?: number;
  /** ByteReader buffer limit per connection. Default 1 MiB. */
  maxBuffer?: number;
  /** ByteReader limit for `readFrame`. Default 16 MiB. */
  maxFrame?: number;
  /** Where diagnostics go. Default: nowhere. */
  logger?: Logger;
  /** A name for this link, copied onto every error and log entry. */
  linkId?: string;
}

export interface SendOptions extends OperationOptions {
  /**
   * The bytes may be sent again on a new connection when the link drops before the operation completes.
   * Default false: a command never reaches the device twice.
   */
  idempotent?: boolean;
}

export type RequestOptions = SendOptions;

export interface RecvOptions extends OperationOptions {
  /** On any failure (timeout included) drop the connection and open a new one, then rethrow (SOCS `reset_on_error`). */
  resetOnError?: boolean;
}

export interface ConnectingEvent {
  /** 0 for the first connect, then the reconnect attempt number. */
  attempt: number;
  host: string;
  port: number;
}

export interface ConnectedEvent {
  localAddress: string | undefined;
  localPort: number | undefined;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  remoteFamily: string | undefined;
}

export interface DisconnectedEvent {
  reason: DisconnectReason;
  /** The error behind it, when there is one. */
  error?: Error | undefined;
}

export interface ReconnectScheduledEvent {
  /** 1 for the first reconnect after a drop, counting up until a link stays up for `stableAfterMs`. */
  attempt: number;
  delayMs: number;
}

/** Event map of TcpInterface (`on(name, listener)`). */
export interface TcpInterfaceEvents {
  connecting: [ConnectingEvent];
  connected: [ConnectedEvent];
  disconnected: [DisconnectedEvent];
  reconnectScheduled: [ReconnectScheduledEvent];
  /** Connect failures and socket errors. Emitted only when a listener is attached (never unhandled). */
  error: [Error];
}

/** Running totals since construction. */
export interface TcpCounters {
  bytesIn: number;
  bytesOut: number;
  /** Successful connects (the first one included). */
  connects: number;
  /** Successful connects after the first. */
  reconnects: number;
  connectFailures: number;
  disconnects: number;
  /** Operations that completed successfully. */
  completed: number;
  /** Operations that hit their deadline. */
  timeouts: number;
  /** Idempotent operations sent again on a new connection. */
  replays: number;
}
