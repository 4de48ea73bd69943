// Errors from @labwire/framing that the tcp classes reject with, re-exported so one import suffices.
export {
  AbortedError,
  ClosedError,
  EofError,
  LabwireError,
  LimitExceededError,
  StreamError,
  TimeoutError,
} from '@labwire/framing';
export type { Jitter } from './backoff';
export { type BackoffOptions, backoffCeiling, backoffDelay, backoffFloor } from './backoff';
export { Connection, DEFAULT_TIMEOUT_MS } from './connection';
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
export type { FieldsFirstLogger, FieldsFirstMethod } from './logger';
export { fieldsFirst, type LoggerLike, toLogger } from './logger';
export type {
  ConnectedEvent,
  ConnectingEvent,
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
  QueuedReconnectOptions,
  ReconnectOptions,
  ReconnectScheduledEvent,
  ReconnectStoppedEvent,
  RecvOptions,
  ReplyReader,
  RequestOptions,
  RequestQueueOptions,
  SendOptions,
  TcpCounters,
  TcpInterfaceOptions,
  TcpState,
} from './options';
export type {
  LinkEnd,
  ReconnectDecision,
  ReconnectInput,
  ReconnectPolicyOptions,
  RetryStrategy,
} from './reconnect-policy';
export { DELIBERATE_REASONS, decideReconnect } from './reconnect-policy';
export { RequestQueue } from './request-queue';
export { TcpInterface } from './tcp-interface';
