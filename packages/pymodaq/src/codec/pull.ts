// The pull decoder. Every decoder is a generator that yields how many bytes it needs next and receives
// exactly those bytes; it never sees more. The same decoder then runs
// - over a ByteReader (async; each request is one readExactly, so nothing is ever over-read),
// - over a Uint8Array (sync; `decodeValue`, gen D frame payloads),
// - pushed chunk by chunk (`MessageDecoder`, which can report how many bytes it still needs).

import {
  type ByteReader,
  concatBytes,
  EofError,
  encodeFrameHeader,
  LimitExceededError,
  type OperationOptions,
} from '@labwire/framing';
import {
  MessageInterruptedError,
  PymodaqDecodeError,
  type PymodaqDecodeErrorOptions,
  TruncatedError,
} from './errors';
import type { CodecLimits } from './limits';

/**
 * A decoder: yields a byte count, receives exactly that many bytes, returns the value. It may also yield
 * FRAME to receive the payload of one whole u32-length frame (gen D): over a ByteReader that is one atomic
 * `readFrame`, so a timeout never leaves half a frame consumed.
 */
export type Pull<T> = Generator<number, T, Uint8Array>;

/** Request for one u32-BE-length frame; the decoder receives its payload (ctx.offset moves by 4 + length). */
export const FRAME = -1;

function frameLength(header: Uint8Array): number {
  return ((header[0]! << 24) | (header[1]! << 16) | (header[2]! << 8) | header[3]!) >>> 0;
}

function checkFrameLength(ctx: PullContext, length: number, at: number): void {
  if (length > ctx.limits.maxFrameBytes) {
    throw new LimitExceededError(
      `pymodaq gen D frame at offset ${at}: length prefix`,
      ctx.limits.maxFrameBytes,
      length,
    );
  }
}

/** One decoded field, for `explainFrame`. */
export interface TraceEntry {
  /** Offset of the field's first byte from the start of the message. */
  readonly offset: number;
  readonly length: number;
  /** Dotted path of the field, e.g. `DataToExport.data[0].timestamp`. */
  readonly field: string;
  /** What the bytes mean, e.g. `str "DataActuator"`, `u32 1 (items)`. */
  readonly meaning: string;
}

export class PullContext {
  /** Bytes delivered to the decoder so far, from the start of the message. */
  offset = 0;
  depth = 0;
  readonly path: string[] = [];
  readonly limits: CodecLimits;
  readonly trace: TraceEntry[] | undefined;

  constructor(limits: CodecLimits, options: { offset?: number; trace?: boolean } = {}) {
    this.limits = limits;
    this.offset = options.offset ?? 0;
    this.trace = options.trace ? [] : undefined;
  }

  get field(): string {
    return this.path.join('.').replace(/\.\[/g, '[');
  }

  /** A decode error at `offset` naming the current field. */
  error(
    message: string,
    offset: number,
    options: Omit<PymodaqDecodeErrorOptions, 'field'> = {},
  ): PymodaqDecodeError {
    return new PymodaqDecodeError(message, offset, { ...options, field: this.field || undefined });
  }

  note(offset: number, length: number, meaning: string): void {
    this.trace?.push({ offset, length, field: this.field, meaning });
  }
}

/** Runs `inner` with `name` appended to the field path (for errors and traces). */
export function* field<T>(ctx: PullContext, name: string, inner: Pull<T>): Pull<T> {
  ctx.path.push(name);
  const result = yield* inner;
  ctx.path.pop();
  return result;
}

/** Runs `inner` and checks its result with the field path still in place (so errors name the field). */
export function* checked<T, U>(
  ctx: PullContext,
  inner: Pull<T>,
  check: (ctx: PullContext, value: T, at: number) => U,
): Pull<U> {
  const at = ctx.offset;
  return check(ctx, yield* inner, at);
}

/** Enters a container level, checking the nesting limit. */
export function* nested<T>(ctx: PullContext, inner: Pull<T>): Pull<T> {
  if (ctx.depth >= ctx.limits.maxDepth) {
    throw ctx.error(`nesting deeper than the limit of ${ctx.limits.maxDepth}`, ctx.offset, {
      code: 'PymodaqTooDeep',
    });
  }
  ctx.depth++;
  const result = yield* inner;
  ctx.depth--;
  return result;
}

/**
 * Runs a decoder over `bytes` from `start`. Returns the value and the offset after it. A decoder that
 * wants more than is there raises TruncatedError.
 */
export function runSync<T>(
  decoder: Pull<T>,
  bytes: Uint8Array,
  ctx: PullContext,
  start = 0,
): { value: T; end: number } {
  let at = start;
  const truncated = (needed: number): never => {
    decoder.return(undefined as never);
    throw new TruncatedError(needed, ctx.offset, ctx.field || undefined);
  };
  let step = decoder.next();
  while (!step.done) {
    let n = step.value;
    let skip = 0;
    if (n === FRAME) {
      if (at + 4 > bytes.length) truncated(at + 4 - bytes.length);
      n = frameLength(bytes.subarray(at, at + 4));
      checkFrameLength(ctx, n, ctx.offset);
      skip = 4;
    }
    if (at + skip + n > bytes.length) truncated(at + skip + n - bytes.length);
    const chunk = bytes.subarray(at + skip, at + skip + n);
    at += skip + n;
    ctx.offset += skip + n;
    step = decoder.next(chunk);
  }
  return { value: step.value, end: at };
}

/**
 * Runs a decoder over a ByteReader: one `readExactly` per request, all under one deadline (`timeoutMs`
 * counts for the whole message) and one signal. A failure before the first byte leaves the stream
 * untouched and is rethrown as is; EOF later becomes an EofError with every byte of the message that
 * arrived; any other failure later becomes a MessageInterruptedError (the stream is mid-message).
 */
export async function runOnReader<T>(
  decoder: Pull<T>,
  reader: ByteReader,
  ctx: PullContext,
  operation: string,
  opts: OperationOptions = {},
): Promise<T> {
  const deadline = opts.timeoutMs === undefined ? undefined : Date.now() + opts.timeoutMs;
  const received: Uint8Array[] = [];
  let consumed = 0;
  let step = decoder.next();
  while (!step.done) {
    const n = step.value;
    let chunk: Uint8Array;
    let size: number;
    try {
      const timeoutMs = deadline === undefined ? undefined : Math.max(0, deadline - Date.now());
      if (n === FRAME) {
        chunk = await reader.readFrame({
          maxBytes: ctx.limits.maxFrameBytes,
          signal: opts.signal,
          timeoutMs,
        });
        received.push(encodeFrameHeader(chunk.length));
        size = 4 + chunk.length;
      } else {
        chunk = n === 0 ? new Uint8Array(0) : await reader.readExactly(n, { signal: opts.signal, timeoutMs });
        size = n;
      }
    } catch (e) {
      decoder.return(undefined as never);
      if (consumed === 0 && !(EofError.isInstance(e) && e.partial.length > 0)) throw e;
      if (EofError.isInstance(e)) {
        const partial = concatBytes([...received, e.partial]);
        throw new EofError(operation, partial, n === FRAME ? undefined : consumed + n, { cause: e });
      }
      throw new MessageInterruptedError(operation, consumed, e);
    }
    consumed += size;
    received.push(chunk);
    ctx.offset += size;
    step = decoder.next(chunk);
  }
  return step.value;
}
