export {
  ByteReader,
  type ByteReaderOptions,
  type ByteSource,
  DEFAULT_MAX_BUFFER,
  DEFAULT_MAX_FRAME,
  DEFAULT_READ_TIMEOUT_MS,
  type DrainOptions,
  type ExpectOptions,
  FRAME_HEADER_BYTES,
  type ReadableLike,
  type ReadExactlyOptions,
  type ReadFrameOptions,
  type ReadUntilOptions,
  type ReadUntilResult,
  readAll,
} from './byte-reader';
export {
  bytesEqual,
  concatBytes,
  fromLatin1,
  hexExcerpt,
  latin1,
  readU32BE,
  splitAt,
  toBytes,
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
export {
  encodeFrame,
  encodeFrameHeader,
  FrameDecoder,
  type FrameDecoderOptions,
  MAX_FRAME_LENGTH,
  writeFrame,
} from './frame';
export { type FromHexOptions, fromHex, isHex, toHex } from './hex';
export { DEFAULT_LANDING_BYTES, type OnreadSocketLike, OnreadSource } from './onread-source';
export {
  DEFAULT_SEND_TIMEOUT_MS,
  SEND_SLICE_BYTES,
  SendTimeoutError,
  sendAll,
  type WritableLike,
} from './send-all';
export { COALESCE_BYTES, coalesce, sendParts } from './send-parts';

/** A logger a library may be given; labwire never writes to the console itself. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger that drops everything (the default). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
