// Errors of the PyMoDAQ roles (the codec raises its own DecodeError/LimitExceededError). Every one is a
// LabwireError with a stable `code`, so callers can branch without string matching.

import { brandError, hexExcerpt, LabwireError, type LabwireErrorOptions } from '@labwire/framing';

/**
 * The peer sent a command this side does not know, or one it may not send in this generation. In gen A–C
 * the payload of an unknown command cannot be skipped (there is no outer frame, docs/protocols/pymodaq.md §9 e), so the
 * connection is closed; in gen D the frame is skipped.
 */
export class UnknownCommandError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.UnknownCommandError');
  readonly command: string;
  constructor(command: string, expected: readonly string[], options?: LabwireErrorOptions) {
    super(
      'UnknownCommand',
      `unknown PyMoDAQ command ${JSON.stringify(command.slice(0, 80))}` +
        ` (${hexExcerpt(new TextEncoder().encode(command))}); expected one of ${expected.join(', ')}`,
      options,
    );
    this.command = command;
  }
}
brandError(UnknownCommandError);

/** A client identified itself with a type the server does not accept (docs/protocols/pymodaq.md §8.1, §9 f). */
export class ClientTypeError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.ClientTypeError');
  /** What the client sent instead of `GRABBER` / `ACTUATOR`. */
  readonly received: string;
  constructor(received: string, accepted: readonly string[]) {
    super(
      'ClientType',
      `client type ${JSON.stringify(received.slice(0, 80))} is not accepted; expected ${accepted.join(' or ')}`,
    );
    this.received = received;
  }
}
brandError(ClientTypeError);

/** Settings XML that is malformed, too large, or declares a DOCTYPE/ENTITY (never expanded, docs/protocols/pymodaq.md §9 i). */
export class XmlError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.XmlError');
  constructor(message: string, options?: LabwireErrorOptions) {
    super('Xml', message, options);
  }
}
brandError(XmlError);

/** A server call found no connected client of the type it needs (or not the one selected). */
export class NoClientError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.NoClientError');
  override readonly isRetryable = true;
  constructor(what: string) {
    super('NoClient', `no connected PyMoDAQ client: ${what}`);
  }
}
brandError(NoClientError);

/** The peer went away (EOF, reset, `Quit`, or close) while a call was waiting for its reply. */
export class PeerGoneError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.PeerGoneError');
  override readonly isRetryable = true;
  constructor(operation: string, reason: string, options?: LabwireErrorOptions) {
    super('PeerGone', `${operation}: the peer is gone (${reason})`, options);
  }
}
brandError(PeerGoneError);

/** A user handler (hardware code) threw or rejected; `cause` holds what it threw. */
export class HandlerError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.HandlerError');
  readonly handler: string;
  constructor(handler: string, cause: unknown) {
    super('Handler', `handler ${handler} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.handler = handler;
  }
}
brandError(HandlerError);

/** A message that is well-formed but not allowed here (e.g. `x_axis` under gen C/D, docs/protocols/pymodaq.md §9 g). */
export class ProtocolError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.ProtocolError');
  constructor(message: string, options?: LabwireErrorOptions) {
    super('Protocol', message, options);
  }
}
brandError(ProtocolError);
