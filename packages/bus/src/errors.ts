// The bus's error family. Every error carries a stable `code` (docs/protocols/cmd_tcp.md §11, docs/protocols/tcpinterface.md G13), the
// link and operation it happened on when there was one, and `pyrameMessage`: the text cmd_tcp would have
// answered (without the `tcp: ` prefix the façade adds), so the Pyrame façade never guesses.

import { hexExcerpt, LabwireError } from '@labwire/framing';

export interface BusErrorOptions {
  /** The link the operation ran on, when there was one. */
  linkId?: string | undefined;
  /** The bus operation, e.g. `wrnrdUntil`. */
  op?: string | undefined;
  cause?: unknown;
  /** Whether repeating the operation may succeed. Default false. */
  retryable?: boolean;
  /** Start the message with `link <id>: ` (default true when linkId is set). */
  prefixLink?: boolean;
}

/** Base of every error the bus raises. */
export class BusError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.BusError');
  /** The link id (canonical form), when the error belongs to a link. */
  readonly linkId: string | undefined;
  /** The bus operation that failed (`init`, `config`, `read`, `wrnrdUntil`, …). */
  readonly op: string | undefined;
  /** What Pyrame's cmd_tcp answers in the same situation, without the `tcp: ` prefix. */
  readonly pyrameMessage: string;
  override readonly isRetryable: boolean;

  constructor(code: string, message: string, pyrameMessage: string, options: BusErrorOptions = {}) {
    const prefix = options.linkId !== undefined && options.prefixLink !== false;
    super(code, prefix ? `link ${options.linkId}: ${message}` : message, {
      cause: options.cause,
    });
    this.linkId = options.linkId;
    this.op = options.op;
    this.pyrameMessage = pyrameMessage;
    this.isRetryable = options.retryable ?? false;
  }
}

/** A conf_string that does not follow the grammar, or parameters the link kind refuses (docs/protocols/cmd_tcp.md §3). */
export class InvalidConfError extends BusError {
  static override readonly brand: symbol = Symbol.for('labwire.error.InvalidConfError');
  /** The conf_string as given. */
  readonly conf: string;
  constructor(pyrameMessage: string, conf: string, options: BusErrorOptions & { detail?: string } = {}) {
    super(
      'InvalidConf',
      `${pyrameMessage}${options.detail ? ` (${options.detail})` : ''}; conf_string: ${JSON.stringify(conf)}`,
      pyrameMessage,
      options,
    );
    this.conf = conf;
  }
}

/** No link with this id (docs/protocols/cmd_tcp.md §4: `id N has not been found in the pool`). */
export class UnknownIdError extends BusError {
  static override readonly brand: symbol = Symbol.for('labwire.error.UnknownIdError');
  constructor(linkId: string, options: BusErrorOptions = {}) {
    // The pool's message is glued to `link_` by cmd_tcp (cmd_tcp.py: `"link_%s" % str(e)`).
    const pyrame = `link_id ${linkId} has not been found in the pool`;
    super('UnknownId', `no link with id ${JSON.stringify(linkId)}`, pyrame, {
      ...options,
      linkId,
      prefixLink: false,
    });
  }
}

/** `init` with an id that is already registered (pools.py: `id N already existant in the pool`). */
export class IdInUseError extends BusError {
  static override readonly brand: symbol = Symbol.for('labwire.error.IdInUseError');
  constructor(linkId: string, options: BusErrorOptions = {}) {
    super(
      'IdInUse',
      `id ${JSON.stringify(linkId)} is already in use; deinit it first`,
      `id ${linkId} already existant in the pool`,
      { ...options, linkId, prefixLink: false },
    );
  }
}

/** An id that is neither a whole number nor a non-empty name. */
export class InvalidIdError extends BusError {
  static override readonly brand: symbol = Symbol.for('labwire.error.InvalidIdError');
  constructor(id: unknown, options: BusErrorOptions = {}) {
    const text = typeof id === 'string' ? id : String(id);
    super(
      'InvalidId',
      `a link id must be a safe integer or a non-empty string, got ${typeof id === 'string' ? JSON.stringify(id) : text}`,
      `link_invalid literal for int() with base 10: '${text}'`,
      options,
    );
  }
}

/** I/O on a link that has not been configured (or was invalidated). */
export class NotConfiguredError extends BusError {
  static override readonly brand: symbol = Symbol.for('labwire.error.NotConfiguredError');
  constructor(options: BusErrorOptions = {}) {
    super('NotConfigured', `not configured (call config first)`, 'not configured', options);
  }
}

/** `config` on a link that is configured (or being configured). */
export class AlreadyConfiguredError extends BusError {
  static override readonly brand: symbol = Symbol.for('labwire.error.AlreadyConfiguredError');
  constructor(options: BusErrorOptions = {}) {
    super('AlreadyConfigured', 'already configured (inval it first)', 'already configured', options);
  }
}

/** A backslash escape Python's `string_escape` refuses (docs/protocols/cmd_tcp.md §7.1). */
export class InvalidEscapeError extends BusError {
  static override readonly brand: symbol = Symbol.for('labwire.error.InvalidEscapeError');
  /** Index in the text of the backslash that starts the bad escape. */
  readonly offset: number;
  constructor(pyrameMessage: string, text: string, offset: number, options: BusErrorOptions = {}) {
    super(
      'InvalidEscape',
      `${pyrameMessage} at index ${offset} of ${JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text)}`,
      pyrameMessage,
      options,
    );
    this.offset = offset;
  }
}

/** Hex data for a `_bin` write that is not strict hex (docs/protocols/cmd_tcp.md §7.3, Q13). */
export class InvalidBinDataError extends BusError {
  static override readonly brand: symbol = Symbol.for('labwire.error.InvalidBinDataError');
  /** Index of the first offending character (or the length, for an odd length). */
  readonly offset: number;
  constructor(pyrameMessage: string, offset: number, options: BusErrorOptions = {}) {
    super('InvalidHex', `${pyrameMessage} (expected pairs of hex digits)`, pyrameMessage, options);
    this.offset = offset;
  }
}

/** An eot list that is missing or has an empty pattern (docs/protocols/cmd_tcp.md §8, Q14). */
export class InvalidEotError extends BusError {
  static override readonly brand: symbol = Symbol.for('labwire.error.InvalidEotError');
  constructor(pyrameMessage: string, detail: string, options: BusErrorOptions = {}) {
    super('InvalidEot', detail, pyrameMessage, options);
  }
}

/** An argument that is not what the operation takes (a byte count, a timeout, an expect pattern). */
export class InvalidArgumentError extends BusError {
  static override readonly brand: symbol = Symbol.for('labwire.error.InvalidArgumentError');
  constructor(message: string, pyrameMessage: string, options: BusErrorOptions = {}) {
    super('InvalidArgument', message, pyrameMessage, options);
  }
}

/** No link kind is registered under the conf_string's name. */
export class UnknownKindError extends BusError {
  static override readonly brand: symbol = Symbol.for('labwire.error.UnknownKindError');
  readonly kind: string;
  constructor(kind: string, known: readonly string[], pyrameMessage: string, options: BusErrorOptions = {}) {
    super(
      'InvalidConf',
      `no link kind ${JSON.stringify(kind)} is registered (known: ${known.join(', ') || 'none'})`,
      pyrameMessage,
      options,
    );
    this.kind = kind;
  }
}

/** The host name could not be resolved at `config`. */
export class ResolveError extends BusError {
  static override readonly brand: symbol = Symbol.for('labwire.error.ResolveError');
  constructor(host: string, cause: unknown, options: BusErrorOptions = {}) {
    const reason = (cause as Error)?.message ?? String(cause);
    super(
      'Resolve',
      `cannot resolve ${JSON.stringify(host)}: ${reason}`,
      `Error resolving hostname: ${reason}`,
      {
        ...options,
        cause,
        retryable: true,
      },
    );
  }
}

/** `config` could not open the connection; `code` is the transport's (`ConnectRefused`, `ConnectTimeout`, …). */
export class ConnectError extends BusError {
  static override readonly brand: symbol = Symbol.for('labwire.error.ConnectError');
  constructor(endpoint: string, cause: unknown, options: BusErrorOptions = {}) {
    const code = (cause as LabwireError)?.code ?? 'Connect';
    super(
      typeof code === 'string' ? code : 'Connect',
      `cannot connect to ${endpoint}: ${(cause as Error)?.message ?? String(cause)}`,
      `Error connecting to ${endpoint}`,
      { ...options, cause, retryable: true },
    );
  }
}

/** Two links to one endpoint with different default timeouts (docs/protocols/cmd_tcp.md §5, Q4: kept). */
export class TimeoutMismatchError extends BusError {
  static override readonly brand: symbol = Symbol.for('labwire.error.TimeoutMismatchError');
  constructor(key: string, existingMs: number, wantedMs: number, options: BusErrorOptions = {}) {
    super(
      'TimeoutMismatch',
      `the connection to ${key} is shared with a link whose timeout is ${existingMs / 1000} s, this link wants ${wantedMs / 1000} s`,
      'Existing socket found but with different timeout setting',
      options,
    );
  }
}

/**
 * An I/O operation on a configured link failed. `code` is the underlying condition (`Reset`,
 * `ConnectionLost`, `Stream`, `Closed`, `Aborted`, `LimitExceeded`, `Broken`, …); `cause` is the
 * transport's error.
 */
export class LinkIoError extends BusError {
  static override readonly brand: symbol = Symbol.for('labwire.error.LinkIoError');
  constructor(code: string, message: string, pyrameMessage: string, options: BusErrorOptions = {}) {
    super(code, message, pyrameMessage, options);
  }
}

/**
 * The operation's deadline passed (one deadline per operation, Q5). A read consumed nothing: `received`
 * holds a copy of what was buffered, and those bytes stay for the next read (Q10).
 */
export class LinkTimeoutError extends LinkIoError {
  static override readonly brand: symbol = Symbol.for('labwire.error.LinkTimeoutError');
  readonly timeoutMs: number;
  readonly received: Uint8Array;
  constructor(
    timeoutMs: number,
    received: Uint8Array,
    pyrameMessage: string,
    what: string,
    options: BusErrorOptions = {},
  ) {
    super(
      'Timeout',
      `${what} timed out after ${timeoutMs} ms; ` +
        (received.length > 0
          ? `${received.length} byte(s) buffered and kept for the next read: ${hexExcerpt(received)}`
          : 'nothing received'),
      pyrameMessage,
      { ...options, retryable: true },
    );
    this.timeoutMs = timeoutMs;
    this.received = received;
  }
}

/** The peer closed the connection before the operation completed (Q1: Pyrame spins forever). */
export class LinkEofError extends LinkIoError {
  static override readonly brand: symbol = Symbol.for('labwire.error.LinkEofError');
  /** The bytes that arrived before the end of the stream. */
  readonly partial: Uint8Array;
  constructor(partial: Uint8Array, pyrameMessage: string, what: string, options: BusErrorOptions = {}) {
    super(
      'Eof',
      `${what}: the peer closed the connection after ${partial.length} byte(s)` +
        (partial.length > 0 ? `: ${hexExcerpt(partial)}` : '') +
        '; inval and config the link to reconnect',
      pyrameMessage,
      options,
    );
    this.partial = partial;
  }
}
