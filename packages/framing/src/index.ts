// @labwire/framing: bytes on a stream. What a user of the labwire layers writes: ByteReader and its read
// options, OnreadSource, sendAll / writeFrame / encodeFrame / FrameDecoder, hex and Latin-1 text, the
// deadline helpers `delay` and `withDeadline`, a Logger, and the LabwireError family.

export {
  ByteReader,
  type DrainOptions,
  type ExpectOptions,
  type ReadExactlyOptions,
  type ReadFrameOptions,
  type ReadUntilOptions,
  type ReadUntilResult,
} from './byte-reader';
export { fromLatin1, latin1 } from './bytes';
export { delay, type OperationOptions, withDeadline } from './deadline';
export {
  AbortedError,
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
export { encodeFrame, FrameDecoder, writeFrame } from './frame';
export { fromHex, toHex } from './hex';
/** @internal */
export * from './internal';
export type { Logger } from './logger';
export { OnreadSource } from './onread-source';
export { SendTimeoutError, sendAll, type WritableLike } from './send-all';
