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
export {
  type BackoffOptions,
  backoffCeiling,
  backoffDelay,
  backoffFloor,
  DEFAULT_INITIAL_DELAY_MS,
  DEFAULT_MAX_DELAY_MS,
  type Jitter,
} from './backoff';
export {
  Connection,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_INITIAL_DELAY_MS,
  DEFAULT_TIMEOUT_MS,
} from './connection';
export {
  ConnectFailedError,
  ConnectionError,
  ConnectionLostError,
  ConnectionResetError,
  ConnectRefusedError,
  ConnectTimeoutError,
  NotConnectedError,
  TcpError,
  type TcpErrorContext,
  type TcpErrorOptions,
} from './errors';
export { Link } from './link';
export {
  type FieldsFirstLogger,
  fieldsFirst,
  isFieldsFirstLogger,
  type LogFields,
  type LoggerLike,
  toLogger,
} from './logger';
export type {
  ConnectedEvent,
  ConnectingEvent,
  ConnectionCounters,
  ConnectionEvents,
  ConnectionHeartbeat,
  ConnectionOptions,
  ConnectionState,
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
  TcpInterfaceEvents,
  TcpInterfaceOptions,
  TcpState,
} from './options';
export {
  DELIBERATE_REASONS,
  decideReconnect,
  type LinkEnd,
  linkEndOf,
  RECONNECT_TABLE,
  type ReconnectDecision,
  type ReconnectInput,
  type ReconnectPolicyOptions,
  type RetryStrategy,
} from './reconnect-policy';
export { DEFAULT_OFFLINE_QUEUE, DEFAULT_RECV_BYTES, RequestQueue } from './request-queue';
export { TcpInterface } from './tcp-interface';
