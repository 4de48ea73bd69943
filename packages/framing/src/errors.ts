// The labwire error family. Every error a labwire package raises is a LabwireError with a stable `code`.
// Every class has a `Symbol.for` brand (`static readonly brand`); the first instance of a class marks its
// prototype (and those of its bases) with the brands, and `isInstance` looks for the mark, so it works
// across duplicate copies of a package (two versions in one node_modules) where `instanceof` would not.
// A subclass declares its own brand and nothing else.

import { hexExcerpt } from './bytes';

export interface LabwireErrorOptions {
  cause?: unknown;
}

function brandOf(name: string): symbol {
  return Symbol.for(`labwire.error.${name}`);
}

export class LabwireError extends Error {
  static readonly brand: symbol = brandOf('LabwireError');
  /** A stable machine-readable code, e.g. `Timeout`, `Eof`, `LimitExceeded`. */
  readonly code: string;
  /** Whether repeating the operation (possibly on a new connection) may succeed. */
  readonly isRetryable: boolean = false;

  constructor(code: string, message: string, options: LabwireErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    markBrands(new.target);
  }

  /** True when `value` is an instance of this class (or a subclass), from any copy of the package. */
  static isInstance<T extends abstract new (...args: never[]) => LabwireError>(
    this: T & { brand: symbol },
    value: unknown,
  ): value is InstanceType<T> {
    return (
      typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[this.brand] === true
    );
  }
}

/**
 * Marks the prototype of `cls` and of each base up to LabwireError with its brand, once per class: the
 * walk stops at the first prototype already marked (a chain is a handful of classes).
 */
function markBrands(cls: unknown): void {
  for (
    let c = cls as { brand?: unknown; prototype?: object } | null;
    c?.prototype !== undefined && typeof c.brand === 'symbol';
    c = Object.getPrototypeOf(c)
  ) {
    if (Object.hasOwn(c.prototype, c.brand)) return;
    Object.defineProperty(c.prototype, c.brand, { value: true, enumerable: false });
  }
}

/** An operation did not complete before its deadline. Nothing was consumed by a timed-out read. */
export class TimeoutError extends LabwireError {
  static override readonly brand: symbol = brandOf('TimeoutError');
  override readonly isRetryable = true;
  /** The deadline that expired, in milliseconds. */
  readonly timeoutMs: number;
  /** What had been buffered when the deadline passed (a copy; still unconsumed for reads). */
  readonly received: Uint8Array;
  constructor(
    operation: string,
    timeoutMs: number,
    received: Uint8Array = new Uint8Array(0),
    options?: LabwireErrorOptions & { code?: string },
  ) {
    super(
      options?.code ?? 'Timeout',
      `${operation} timed out after ${timeoutMs} ms` +
        (received.length > 0 ? `; buffered so far: ${hexExcerpt(received)}` : '; nothing received'),
      options,
    );
    this.timeoutMs = timeoutMs;
    this.received = received;
  }
}

/** The operation was cancelled through its AbortSignal. Nothing was consumed by an aborted read. */
export class AbortedError extends LabwireError {
  static override readonly brand: symbol = brandOf('AbortedError');
  constructor(operation: string, reason?: unknown) {
    super('Aborted', `${operation} was aborted`, { cause: reason });
  }
}

/** The stream ended before the operation could complete. `partial` holds the bytes that did arrive. */
export class EofError extends LabwireError {
  static override readonly brand: symbol = brandOf('EofError');
  override readonly isRetryable = true;
  readonly partial: Uint8Array;
  /** How many bytes the operation needed, when known. */
  readonly expected: number | undefined;
  constructor(operation: string, partial: Uint8Array, expected?: number, options?: LabwireErrorOptions) {
    super(
      'Eof',
      `${operation}: end of stream after ${partial.length} byte(s)` +
        (expected === undefined ? '' : ` of ${expected} expected`) +
        (partial.length > 0 ? `: ${hexExcerpt(partial)}` : ''),
      options,
    );
    this.partial = partial;
    this.expected = expected;
  }
}

/** A size limit was hit. For reads, the data stays buffered. */
export class LimitExceededError extends LabwireError {
  static override readonly brand: symbol = brandOf('LimitExceededError');
  readonly limit: number;
  readonly actual: number;
  constructor(what: string, limit: number, actual: number, options?: LabwireErrorOptions) {
    super('LimitExceeded', `${what}: ${actual} byte(s) exceed the limit of ${limit}`, options);
    this.limit = limit;
    this.actual = actual;
  }
}

/** Bytes that do not follow the format. `offset` is the position of the offending byte. */
export class DecodeError extends LabwireError {
  static override readonly brand: symbol = brandOf('DecodeError');
  readonly offset: number;
  readonly excerpt: string;
  constructor(
    message: string,
    offset: number,
    bytes?: Uint8Array,
    options?: LabwireErrorOptions & { code?: string },
  ) {
    const excerpt = bytes ? hexExcerpt(bytes.subarray(Math.max(0, offset - 8), offset + 24)) : '';
    super(
      options?.code ?? 'Decode',
      `${message} (at offset ${offset}${excerpt ? `, near ${excerpt}` : ''})`,
      options,
    );
    this.offset = offset;
    this.excerpt = excerpt;
  }
}

/** A hex string with an odd length or a non-hex character. */
export class InvalidHexError extends DecodeError {
  static override readonly brand: symbol = brandOf('InvalidHexError');
  constructor(message: string, offset: number) {
    super(message, offset, undefined, { code: 'InvalidHex' });
  }
}

/** The underlying stream failed (for sockets: reset, unreachable, …); `cause` is the original error. */
export class StreamError extends LabwireError {
  static override readonly brand: symbol = brandOf('StreamError');
  override readonly isRetryable = true;
  constructor(operation: string, cause: unknown) {
    super('Stream', `${operation}: stream failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** The object was closed while the operation was pending, or used after close. */
export class ClosedError extends LabwireError {
  static override readonly brand: symbol = brandOf('ClosedError');
  constructor(operation: string) {
    super('Closed', `${operation}: closed`);
  }
}
