// Loggers as the ecosystem writes them. labwire logs `(message, fields)` (console, winston, the framing
// `Logger`); pino and bunyan take `(fields, message)` and treat a second argument as a printf value, so
// handed a labwire call they print the message and drop every field. `toLogger` detects those two by
// their shape and swaps the arguments; `fieldsFirst` does it for any other logger of that kind.

import { type Logger, silentLogger } from '@labwire/framing';

export type LogFields = Record<string, unknown>;

/** A logger whose methods take `(fields, message)`: pino, bunyan. */
export type FieldsFirstLogger = Exclude<LoggerLike, Logger>;

/** What the `logger` options accept: a labwire `Logger` (or console), pino, bunyan. */
export type LoggerLike =
  | Logger
  | {
      debug(fields: object, message?: string): void;
      info(fields: object, message?: string): void;
      warn(fields: object, message?: string): void;
      error(fields: object, message?: string): void;
    };

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/**
 * True for pino (`child`, `bindings()` and a `levels` table) and bunyan (`child`, `levels()` and
 * `fields`) loggers and their children.
 */
export function isFieldsFirstLogger(logger: unknown): logger is FieldsFirstLogger {
  if (typeof logger !== 'object' || logger === null) return false;
  const l = logger as Record<string, unknown>;
  if (typeof l.child !== 'function') return false;
  const pino = typeof l.bindings === 'function' && typeof l.levels === 'object' && l.levels !== null;
  const bunyan = typeof l.levels === 'function' && typeof l.fields === 'object' && l.fields !== null;
  return pino || bunyan;
}

/** Adapts a `(fields, message)` logger to labwire's `(message, fields)` calls. */
export function fieldsFirst(logger: FieldsFirstLogger): Logger {
  const adapted = {} as Logger;
  for (const level of LEVELS) {
    adapted[level] = (message: string, fields?: LogFields) => {
      logger[level](fields ?? {}, message);
    };
  }
  return adapted;
}

/** The logger to call: silent when none was given, adapted when it takes `(fields, message)`. */
export function toLogger(logger: LoggerLike | undefined): Logger {
  if (logger === undefined) return silentLogger;
  return isFieldsFirstLogger(logger) ? fieldsFirst(logger) : (logger as Logger);
}
