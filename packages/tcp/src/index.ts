// @labwire/tcp: one resilient TCP connection to an instrument. The errors it shares with every labwire
// package (TimeoutError, EofError, AbortedError, ClosedError, LimitExceededError, …) live in
// @labwire/framing.

export type { BackoffOptions } from './backoff';
export { Connection } from './connection';
export type { TcpErrorOptions } from './errors';
// Errors: TcpError (every error of this package), ConnectionError (retryable: the link could not be made or
// was lost), and the two that carry fields of their own or that other layers raise: ConnectTimeoutError
// (`timeoutMs`), ConnectionLostError. The rest are ConnectionErrors told apart by `code`: `ConnectRefused`,
// `ConnectFailed`, `Reset`, `NotConnected`.
export { ConnectionError, ConnectionLostError, ConnectTimeoutError, TcpError } from './errors';
/** @internal */
export * from './internal';
export { Link } from './link';
export type { LoggerLike } from './logger';
export type {
  ConnectionCounters,
  ConnectionEvents,
  ConnectionOptions,
  DesyncPolicy,
  DisconnectReason,
  DropReason,
  ReconnectOptions,
  ReplyAtHand,
  ReplyReader,
  RequestQueueOptions,
  SendOptions,
  TcpInterfaceOptions,
  TcpState,
} from './options';
export { RequestQueue } from './request-queue';
export { TcpInterface } from './tcp-interface';
