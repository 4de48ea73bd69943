// Errors of the PyMoDAQ codec. Every one is a LabwireError (framing) with a stable `code`; decode failures
// are DecodeErrors, so `DecodeError.isInstance(e)` catches them all and `e.offset` points into the message.

import { DecodeError, hexExcerpt, LabwireError, type LabwireErrorOptions } from '@labwire/framing';

/** Bytes that do not follow the configured generation's format. `offset` counts from the message start. */
export class PymodaqDecodeError extends DecodeError {
  static override readonly brand: symbol = Symbol.for('labwire.error.PymodaqDecodeError');
  /** Where in the value the failure happened (empty at top level). */
  readonly field: string;
  constructor(
    message: string,
    offset: number,
    options: LabwireErrorOptions & {
      /** Stable code; default `PymodaqDecode`. */
      code?: string;
      /** The bytes of the offending field, shown in the message in hex. */
      got?: Uint8Array;
      /** Where in the value the failure happened, e.g. `DataToExport.data[0].labels`. */
      field?: string;
    } = {},
  ) {
    const where = options.field ? `${options.field}: ` : '';
    const got = options.got ? `; got ${hexExcerpt(options.got)}` : '';
    super(`${where}${message}${got}`, offset, undefined, {
      code: options.code ?? 'PymodaqDecode',
      cause: options.cause,
    });
    this.field = options.field ?? '';
    if (options.got) (this as { excerpt: string }).excerpt = hexExcerpt(options.got);
  }
}

/** What a PymodaqDecodeError is made with (see its constructor). */
export type PymodaqDecodeErrorOptions = NonNullable<ConstructorParameters<typeof PymodaqDecodeError>[2]>;

/**
 * A type tag this profile does not know (docs/protocols/pymodaq.md §5.3, §6.2). labwire matches tags exactly, where PyMoDAQ 5
 * does a substring test. In gen D the frame holding it has been consumed, so the stream stays in step.
 */
export class UnknownTagError extends PymodaqDecodeError {
  static override readonly brand: symbol = Symbol.for('labwire.error.UnknownTagError');
  readonly tag: string;
  constructor(tag: string, offset: number, expected: readonly string[], field?: string) {
    super(
      `unknown type tag ${JSON.stringify(tag)}; expected one of ${expected.map((t) => JSON.stringify(t)).join(', ')}`,
      offset,
      { code: 'PymodaqUnknownTag', field },
    );
    this.tag = tag;
  }
}

/** A well-formed value of the wrong type for what was asked (e.g. a `float` frame where a command `str` was expected). */
export class UnexpectedValueError extends PymodaqDecodeError {
  static override readonly brand: symbol = Symbol.for('labwire.error.UnexpectedValueError');
  constructor(expected: string, actual: string, offset: number, field?: string) {
    super(`expected ${expected}, got ${actual}`, offset, { code: 'PymodaqUnexpectedValue', field });
  }
}

/**
 * The value cannot be expressed in this generation, or PyMoDAQ's own encoder refuses it (e.g. a numpy
 * scalar in gen D, a 3-D array in gen A, a nested list in layout C1). Nothing is written.
 */
export class UnsupportedValueError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.UnsupportedValueError');
  constructor(message: string, options?: LabwireErrorOptions) {
    super('PymodaqUnsupported', message, options);
  }
}

/** `resolveProfile` got neither a generation letter nor a PyMoDAQ version it can place. */
export class UnknownProfileError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.UnknownProfileError');
  readonly spec: string;
  constructor(spec: string, reason: string) {
    super(
      'PymodaqUnknownProfile',
      `cannot choose a PyMoDAQ wire profile for ${JSON.stringify(spec)}: ${reason}`,
    );
    this.spec = spec;
  }
}

/**
 * A message read failed (timeout, abort, stream error) after part of the message had been consumed. In
 * generations A–C the stream has no frames, so it is now out of step: drop the connection. `cause` is the
 * original error; `consumed` the bytes of the message already taken from the stream.
 */
export class MessageInterruptedError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.MessageInterruptedError');
  override readonly isRetryable = true;
  readonly consumed: number;
  constructor(operation: string, consumed: number, cause: unknown) {
    super(
      'PymodaqMessageInterrupted',
      `${operation}: interrupted after ${consumed} byte(s) of the message: ${(cause as Error)?.message ?? String(cause)}; the stream is out of step`,
      { cause },
    );
    this.consumed = consumed;
  }
}

/**
 * The bytes end inside a value: a decode from a buffer (`decodeValue`) needs `needed` more bytes, or a gen D
 * frame is shorter than the value it announces (that frame has been consumed).
 */
export class TruncatedError extends PymodaqDecodeError {
  static override readonly brand: symbol = Symbol.for('labwire.error.TruncatedError');
  /** Bytes missing to complete the read that failed. */
  readonly needed: number;
  constructor(needed: number, offset: number, field?: string) {
    super(`truncated: ${needed} more byte(s) needed`, offset, { code: 'PymodaqTruncated', field });
    this.needed = needed;
  }
}
