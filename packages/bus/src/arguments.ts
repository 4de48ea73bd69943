// Pyrame passes every argument as a string (docs/protocols/cmd_tcp.md §1). These turn the string forms of timeouts and byte
// counts into numbers with Python's parsing rules, and refuse what would make an operation wait forever or
// behave oddly (Q21).

import { InvalidArgumentError } from './errors';

/** A per-call timeout in seconds: a number, a numeric string, or `'undef'`/`''`/undefined for the link default. */
export type TimeoutArg = number | string | undefined;

// Python float(): optional spaces, sign, digits with an optional point, optional exponent.
const FLOAT_LITERAL = /^[ \t\n\r\v\f]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[ \t\n\r\v\f]*$/;
const INT_LITERAL = /^[ \t\n\r\v\f]*[+-]?\d+[ \t\n\r\v\f]*$/;

/** Python float() of a string, or NaN when Python would raise ValueError (inf/nan spellings included). */
export function pythonFloat(text: string): number {
  return FLOAT_LITERAL.test(text) ? Number(text.trim()) : Number.NaN;
}

/** Python int() of a string in base 10, or NaN when Python would raise ValueError. */
export function pythonInt(text: string): number {
  return INT_LITERAL.test(text) ? Number(text.trim()) : Number.NaN;
}

/**
 * A per-call timeout in milliseconds. `'undef'`, `''` and undefined mean `defaultMs` (the link's timeout,
 * docs/protocols/cmd_tcp.md §6). 0 means "only bytes already buffered". Negative, infinite and non-numeric values raise
 * InvalidArgumentError.
 */
export function timeoutArgMs(timeout: TimeoutArg, defaultMs: number): number {
  if (timeout === undefined || timeout === '' || timeout === 'undef') return defaultMs;
  const seconds = typeof timeout === 'number' ? timeout : pythonFloat(timeout);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new InvalidArgumentError(
      `timeout must be a finite number of seconds >= 0 or "undef", got ${JSON.stringify(timeout)}`,
      typeof timeout === 'string' && Number.isNaN(seconds)
        ? `could not convert string to float: ${timeout}`
        : 'Timeout value out of range',
    );
  }
  return seconds * 1000;
}

/** A byte count for `read`/`wrnrd` (exactly n bytes, Q9). Whole numbers >= 0 only. */
export function byteCountArg(n: number | string): number {
  const value = typeof n === 'number' ? n : pythonInt(n);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(
      `the byte count must be a whole number >= 0, got ${JSON.stringify(n)}`,
      typeof n === 'string' && Number.isNaN(value)
        ? `invalid literal for int() with base 10: '${n}'`
        : `invalid byte count: ${String(n)}`,
    );
  }
  return value;
}
