// @labwire/tcp: one resilient TCP connection to an instrument. The errors it shares with every labwire
// package (TimeoutError, EofError, AbortedError, ClosedError, LimitExceededError, …) live in
// @labwire/framing.

export { type BackoffOptions, backoffDelay } from './backoff';
export { Connection } from './connection';
export type { TcpErrorOptions } from './errors';
export {
  ConnectFailedError,
  ConnectionError,
  ConnectionLostError,
  ConnectionResetError,
  ConnectRefusedError,
  ConnectTimeoutError,
  NotConnectedError,
  TcpError,
} from './errors';
export { Link } from './link';
export type { FieldsFirstLogger } from './logger';
export { fieldsFirst, type LoggerLike, toLogger } from './logger';
export type {
  ConnectionCounters,
  ConnectionEvents,
  ConnectionHeartbeat,
  ConnectionOptions,
  DesyncPolicy,
  DisconnectedEvent,
  DisconnectReason,
  DropReason,
  HeartbeatOptions,
  QueueCounters,
  ReconnectOptions,
  ReplyAtHand,
  ReplyReader,
  RequestQueueOptions,
  SendOptions,
  TcpCounters,
  TcpInterfaceOptions,
  TcpState,
} from './options';
export type { ReconnectPolicyOptions, RetryStrategy } from './reconnect-policy';
export { DELIBERATE_REASONS } from './reconnect-policy';
export { RequestQueue } from './request-queue';
export { TcpInterface } from './tcp-interface';
