// Errors of the PyMoDAQ roles (the codec raises its own DecodeError/LimitExceededError). Every one is a
// LabwireError with a stable `code`, so callers can branch without string matching.

import { hexExcerpt, LabwireError, type LabwireErrorOptions } from '@labwire/framing';
import type { Generation } from './codec';

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

/** Settings XML that is malformed, too large, or declares a DOCTYPE/ENTITY (never expanded, docs/protocols/pymodaq.md §9 i). */
export class XmlError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.XmlError');
  constructor(message: string, options?: LabwireErrorOptions) {
    super('Xml', message, options);
  }
}

/** A server call found no connected client of the type it needs (or not the one selected). */
export class NoClientError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.NoClientError');
  override readonly isRetryable = true;
  constructor(what: string) {
    super('NoClient', `no connected PyMoDAQ client: ${what}`);
  }
}

/** The peer went away (EOF, reset, `Quit`, or close) while a call was waiting for its reply. */
export class PeerGoneError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.PeerGoneError');
  override readonly isRetryable = true;
  constructor(operation: string, reason: string, options?: LabwireErrorOptions) {
    super('PeerGone', `${operation}: the peer is gone (${reason})`, options);
  }
}

/** A user handler (hardware code) threw or rejected; `cause` holds what it threw. */
export class HandlerError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.HandlerError');
  readonly handler: string;
  constructor(handler: string, cause: unknown) {
    super('Handler', `handler ${handler} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.handler = handler;
  }
}

/** A message that is well-formed but not allowed here (e.g. `x_axis` under gen C/D, docs/protocols/pymodaq.md §9 g). */
export class ProtocolError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.ProtocolError');
  constructor(message: string, options?: LabwireErrorOptions) {
    super('Protocol', message, options);
  }
}

const DESCRIBE: Record<Generation, string> = {
  A: 'A (PyMoDAQ 1.6.0-2.0.0)',
  B: 'B (PyMoDAQ 2.0.1-4.0.x)',
  C1: 'C1 (PyMoDAQ 4.1.0-4.1.2)',
  C2: 'C2 (PyMoDAQ 4.1.3-4.1.5)',
  C3: 'C3 (PyMoDAQ 4.2-4.3)',
  C4: 'C4 (PyMoDAQ 4.4)',
  D: 'D (PyMoDAQ 5)',
};

/**
 * The generations to try after a server rejected this generation's handshake. The type string is a bare
 * `str` in A–C and a tagged frame in D (docs/protocols/pymodaq.md §6.1, §8.1): the bytes differ only between those two families,
 * so a rejected D client should try the 4.x family (newest first) and a rejected A–C client should try D.
 */
export function generationsToTry(generation: Generation): Generation[] {
  return generation === 'D' ? ['C4', 'C3', 'C2', 'C1', 'B', 'A'] : ['D'];
}

/**
 * The server closed the connection right after this client identified, without sending a byte: what a
 * PyMoDAQ server does with a type string it does not accept (docs/protocols/pymodaq.md §8.5, §9 f: it logs "… is not a valid
 * type" and closes). Either the server speaks another generation (its reader sees a different string), or it
 * serves the other role (a DAQ_Viewer server takes GRABBER, a DAQ_Move server ACTUATOR), or it had no free
 * slot. Reported once per series of rejected links; the client backs off per the reconnect policy.
 */
export class HandshakeRejectedError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.HandshakeRejectedError');
  /** The type string this client sent. */
  readonly clientType: string;
  /** The generation this client speaks. */
  readonly generation: Generation;
  /** Generations worth trying, most likely first (see `generationsToTry`). */
  readonly suggestedGenerations: readonly Generation[];
  /** How the server ended the connection: it closed it (FIN, `eof`) or reset it (`reset`). */
  readonly closedBy: 'eof' | 'reset';
  constructor(
    init: { clientType: string; generation: Generation; closedBy: 'eof' | 'reset' },
    options?: LabwireErrorOptions,
  ) {
    const suggested = generationsToTry(init.generation);
    const other = init.clientType === 'ACTUATOR' ? 'a detector (DAQ_Viewer)' : 'an actuator (DAQ_Move)';
    super(
      'HandshakeRejected',
      `the PyMoDAQ server rejected the handshake: it ${init.closedBy === 'reset' ? 'reset' : 'closed'} the ` +
        `connection right after this ${init.clientType} client identified in generation ` +
        `${DESCRIBE[init.generation]}, without sending anything. It speaks another generation (try ` +
        `${suggested.map((g) => DESCRIBE[g]).join(', ')}), or it is ${other} server, or it is full ` +
        '(`pymodaq probe host:port` tells which generation and role it takes)',
      options,
    );
    this.clientType = init.clientType;
    this.generation = init.generation;
    this.suggestedGenerations = suggested;
    this.closedBy = init.closedBy;
  }
}

/**
 * A PymodaqBridge message the target generation cannot carry whole. `forwarded`: the message went on
 * without what is listed in `lost` (units before C4, axes or errors in A/B …); not forwarded: nothing of
 * it could go (a 3-D array for gen A, `Send Data ND` for a gen A instrument, a move in a unit the
 * instrument cannot be told). The session goes on either way.
 */
export class TranslationError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.TranslationError');
  /** The command of the message (`Done`, `move_abs`, `Info` …). */
  readonly command: string;
  readonly from: Generation;
  readonly to: Generation;
  /** Whether the message was forwarded (without `lost`) or dropped. */
  readonly forwarded: boolean;
  /** What the target generation could not carry, one short phrase each. */
  readonly lost: readonly string[];
  constructor(
    init: { command: string; from: Generation; to: Generation; forwarded: boolean; lost: readonly string[] },
    options?: LabwireErrorOptions,
  ) {
    super(
      'Translation',
      `${init.command} from generation ${init.from} to ${init.to}: ${init.forwarded ? 'forwarded without' : 'not forwarded:'} ${init.lost.join('; ')}`,
      options,
    );
    this.command = init.command;
    this.from = init.from;
    this.to = init.to;
    this.forwarded = init.forwarded;
    this.lost = [...init.lost];
  }
}
