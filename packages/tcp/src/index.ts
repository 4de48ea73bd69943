// Errors from @labwire/framing that TcpInterface rejects with, re-exported so one import suffices.
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
  DEFAULT_INITIAL_DELAY_MS,
  DEFAULT_MAX_DELAY_MS,
} from './backoff';
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
export type {
  ConnectedEvent,
  ConnectingEvent,
  DesyncPolicy,
  DisconnectedEvent,
  DisconnectReason,
  HeartbeatOptions,
  ReconnectOptions,
  ReconnectScheduledEvent,
  RecvOptions,
  ReplyReader,
  RequestOptions,
  SendOptions,
  TcpCounters,
  TcpInterfaceEvents,
  TcpInterfaceOptions,
  TcpState,
} from './options';
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_INITIAL_DELAY_MS,
  DEFAULT_RECV_BYTES,
  DEFAULT_STABLE_AFTER_MS,
  DEFAULT_TIMEOUT_MS,
  TcpInterface,
} from './tcp-interface';
