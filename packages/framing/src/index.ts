export {
  ByteReader,
  DEFAULT_MAX_BUFFER,
  DEFAULT_MAX_FRAME,
  type DrainOptions,
  type ExpectOptions,
  type ReadExactlyOptions,
  type ReadFrameOptions,
  type ReadUntilOptions,
  type ReadUntilResult,
} from './byte-reader';
export {
  concatBytes,
  fromLatin1,
  hexExcerpt,
  latin1,
  readU32BE,
  splitAt,
  viewOf,
  writeU32BE,
} from './bytes';
export { type CombinedSignal, combineSignals } from './combined-signal';
export {
  armDeadline,
  checkTimeout,
  type Deadline,
  delay,
  type OperationOptions,
  withDeadline,
} from './deadline';
export { DeadlineTimer, type Expiring } from './deadline-timer';
export {
  AbortedError,
  brandError,
  ClosedError,
  DecodeError,
  EofError,
  InvalidHexError,
  LabwireError,
  type LabwireErrorOptions,
  LimitExceededError,
  StreamError,
  TimeoutError,
} from './errors';
export { encodeFrame, encodeFrameHeader, FrameDecoder, writeFrame } from './frame';
export { fromHex, toHex } from './hex';
export { OnreadSource } from './onread-source';
export { SEND_SLICE_BYTES, SendTimeoutError, sendAll, type WritableLike } from './send-all';
export { coalesce, sendParts } from './send-parts';

/** A logger a library may be given; labwire never writes to the console itself. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger that drops everything (the default). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
export type { ByteReaderOptions, ByteSource, ReadableLike } from './byte-reader';
export type { OnreadSocketLike } from './onread-source';
