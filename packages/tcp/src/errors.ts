// The @labwire/tcp error family. Every error has a stable `code` (docs/protocols/tcpinterface.md G13), the operation that failed
// (`op`), the endpoint, the link id when one was configured, and the original error as `cause`.
// Errors that come from @labwire/framing (TimeoutError, EofError, LimitExceededError, ClosedError, …)
// pass through unchanged except that TcpInterface stamps the same `op`/`linkId` fields on them.

import { LabwireError } from '@labwire/framing';

export interface TcpErrorOptions {
  cause?: unknown;
  /** The TcpInterface operation that failed: `connect`, `send`, `request`, `recv`, `readExactly`, … */
  op?: string | undefined;
  /** The link id given in the TcpInterface options, if any. */
  linkId?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  /** A few words on the circumstances, added to the message. */
  detail?: string | undefined;
}

/** Context fields TcpInterface puts on every error it rejects with. */
export interface TcpErrorContext {
  op?: string | undefined;
  linkId?: string | undefined;
}

/** Base of the errors raised by @labwire/tcp itself. */
export class TcpError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.TcpError');
  op: string | undefined;
  linkId: string | undefined;
  readonly host: string | undefined;
  readonly port: number | undefined;
  constructor(code: string, message: string, options: TcpErrorOptions = {}) {
    super(code, message, { cause: options.cause });
    this.op = options.op;
    this.linkId = options.linkId;
    this.host = options.host;
    this.port = options.port;
  }
}

/** The connection could not be made or was lost; repeating the operation later may succeed. */
export class ConnectionError extends TcpError {
  static override readonly brand: symbol = Symbol.for('labwire.error.ConnectionError');
  override readonly isRetryable: boolean = true;
}

function endpoint(options: TcpErrorOptions): string {
  return options.host === undefined ? 'the peer' : `${options.host}:${options.port}`;
}

function causeText(cause: unknown): string {
  if (cause instanceof AggregateError) {
    return cause.errors.map((e) => (e as Error)?.message ?? String(e)).join('; ');
  }
  return (cause as Error)?.message ?? String(cause);
}

/** Nothing listens at the endpoint (ECONNREFUSED on every address tried; `cause` keeps them all). */
export class ConnectRefusedError extends ConnectionError {
  static override readonly brand: symbol = Symbol.for('labwire.error.ConnectRefusedError');
  constructor(options: TcpErrorOptions = {}) {
    super(
      'ConnectRefused',
      `connect to ${endpoint(options)} refused` +
        (options.cause === undefined ? '' : ` (${causeText(options.cause)})`),
      options,
    );
  }
}

/** The connection was not established within `connectTimeoutMs`; the socket has been destroyed. */
export class ConnectTimeoutError extends ConnectionError {
  static override readonly brand: symbol = Symbol.for('labwire.error.ConnectTimeoutError');
  readonly timeoutMs: number;
  constructor(timeoutMs: number, options: TcpErrorOptions = {}) {
    super(
      'ConnectTimeout',
      `connect to ${endpoint(options)} not established within ${timeoutMs} ms`,
      options,
    );
    this.timeoutMs = timeoutMs;
  }
}

/** Any other connect failure (unreachable, name not found, …); `cause` is the system error. */
export class ConnectFailedError extends ConnectionError {
  static override readonly brand: symbol = Symbol.for('labwire.error.ConnectFailedError');
  constructor(options: TcpErrorOptions = {}) {
    super('ConnectFailed', `connect to ${endpoint(options)} failed: ${causeText(options.cause)}`, options);
  }
}

/** The peer reset the connection (ECONNRESET, EPIPE) or the socket failed while connected. */
export class ConnectionResetError extends ConnectionError {
  static override readonly brand: symbol = Symbol.for('labwire.error.ConnectionResetError');
  constructor(options: TcpErrorOptions = {}) {
    super('Reset', `connection to ${endpoint(options)} reset: ${causeText(options.cause)}`, options);
  }
}

/**
 * The link dropped while this operation was in flight (its bytes may or may not have reached the device).
 * It was not sent again because it was not marked idempotent. `cause` says why the link dropped.
 */
export class ConnectionLostError extends ConnectionError {
  static override readonly brand: symbol = Symbol.for('labwire.error.ConnectionLostError');
  constructor(options: TcpErrorOptions = {}) {
    super(
      'ConnectionLost',
      `connection to ${endpoint(options)} lost during ${options.op ?? 'the operation'}` +
        (options.cause === undefined ? '' : `: ${causeText(options.cause)}`),
      options,
    );
  }
}

/**
 * No link is up and none may be waited for: reconnecting is off (or gave up), the offline queue is full,
 * or `offlineQueue` is 0. `cause` is the last connection error.
 */
export class NotConnectedError extends ConnectionError {
  static override readonly brand: symbol = Symbol.for('labwire.error.NotConnectedError');
  constructor(options: TcpErrorOptions = {}) {
    super(
      'NotConnected',
      `not connected to ${endpoint(options)}` +
        (options.detail === undefined ? '' : `: ${options.detail}`) +
        (options.cause === undefined ? '' : ` (last error: ${causeText(options.cause)})`),
      options,
    );
  }
}
