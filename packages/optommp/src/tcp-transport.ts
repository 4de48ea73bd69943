// OptoMMP over TCP: one TcpInterface, each request a write + the read of its response as one unit. The
// response is read by the codec's pull reader and checked by the codec's validator.

import { type ByteReader, type OperationOptions, TimeoutError } from '@labwire/framing';
import { type ReplyAtHand, TcpInterface, type TcpInterfaceOptions, toLogger } from '@labwire/tcp';
import type { RequestInit } from './codec/encode';
import { ResponseMismatchError } from './codec/errors';
import { type ReadProgress, readPacket, takeResponseAtHand } from './codec/read-packet';
import { checkResponse, expectedResponseBytes, type ResponseExpectation } from './codec/validate';
import { MAX_WINDOW, Pipeline } from './pipeline';
import {
  type ExchangeOptions,
  isIdempotent,
  LabelCounter,
  labelRequest,
  type MmpTransport,
} from './transport';

const EMPTY = new Uint8Array(0);

/** After a response that does not belong to its request the line is out of step: discard until quiet. */
async function resynchronise(reader: ByteReader, options: OperationOptions): Promise<void> {
  const timeoutMs = Math.min(options.timeoutMs ?? 200, 200);
  try {
    await reader.drain({ quietMs: 20, timeoutMs, signal: options.signal });
  } catch {
    // A peer that keeps talking: the next request fails its checks again and drains again.
  }
}

/** Responses above this size are read into the transport's reusable memory (no allocation per response). */
const SCRATCH_ABOVE = 256;

/**
 * Reads and checks the response to one request and decodes its data; resynchronises the line when it is
 * out of step. No async frame on the way (one per request adds up).
 */
function readResponse<T>(
  reader: ByteReader,
  expect: ResponseExpectation,
  options: OperationOptions,
  progress: ReadProgress,
  into: Uint8Array | undefined,
  decode: (data: Uint8Array) => T,
): Promise<T> {
  const read = { signal: options.signal, timeoutMs: options.timeoutMs, expect, progress, into };
  return readPacket(reader, read).then(
    (packet) => {
      if (progress.surplus === 0) return decode(checkResponse(packet, expect));
      // Bytes after the response (a NAK followed by more): discard until quiet, then report.
      return resynchronise(reader, options).then(() => decode(checkResponse(packet, expect)));
    },
    (error: unknown) => {
      if (!ResponseMismatchError.isInstance(error) && progress.surplus === 0) throw error;
      return resynchronise(reader, options).then(() => {
        throw error;
      });
    },
  );
}

/**
 * A response taken as it arrives (the request queue's ReplyAtHand): a whole, checked ACK is decoded
 * straight from the reader's memory inside the socket's read callback; anything else goes to
 * `readResponse`.
 */
class ResponseAtHand<T> implements ReplyAtHand<T> {
  value: T = undefined as T;

  constructor(
    readonly expect: ResponseExpectation,
    readonly decode: (data: Uint8Array) => T,
  ) {}

  take(reader: ByteReader): 'taken' | 'wait' | 'read' {
    return takeResponseAtHand(reader, this.expect, this.decode, this);
  }
}

export class TcpTransport implements MmpTransport {
  readonly kind = 'tcp' as const;
  readonly endpoint: string;
  /** The underlying interface (state, counters, events). */
  readonly tcp: TcpInterface;
  /** The pipelined link when `window` > 1. */
  readonly pipeline: Pipeline | undefined;
  readonly #labels = new LabelCounter();
  /** Where large responses are read (one request in flight: the reply reader runs one at a time). */
  #scratch = new Uint8Array(0);

  constructor(
    host: string,
    port: number,
    options: TcpInterfaceOptions & {
      /**
       * Requests in flight at once on the connection. 1 (default): one at a time, as every known client and
       * device expects. 2…32: pipelined; replies are matched by transaction label, and a reply that matches no
       * request in flight replaces the connection (PipelineDesyncError). Use `probePipelining()` to find out
       * whether a device answers pipelined requests correctly. Not with `heartbeat`.
       */
      window?: number;
      /**
       * Pipelined only: replies must come in the order the requests went out (default true). A device that
       * answers out of order needs `false`; replies are then matched by label alone, and a device that
       * mislabels a reply with another outstanding label can no longer be told apart.
       */
      ordered?: boolean;
    } = {},
  ) {
    this.endpoint = `${host}:${port}`;
    const window = options.window ?? 1;
    if (!Number.isInteger(window) || window < 1 || window > MAX_WINDOW) {
      throw new RangeError(`window must be 1..${MAX_WINDOW}, got ${options.window}`);
    }
    if (window > 1 && options.heartbeat !== undefined) {
      throw new RangeError('a pipelined transport (window > 1) cannot use a heartbeat request');
    }
    const { window: _, ordered: __, ...tcpOptions } = options;
    // A pipelined link resynchronises by reconnecting: draining would leave its reader behind.
    this.tcp = new TcpInterface(host, port, window > 1 ? { ...tcpOptions, desync: 'reconnect' } : tcpOptions);
    this.pipeline =
      window > 1
        ? new Pipeline(this.tcp, {
            window,
            ordered: options.ordered,
            timeoutMs: options.timeoutMs ?? 10_000,
            logger: toLogger(options.logger),
          })
        : undefined;
  }

  exchange<T>(request: RequestInit, options: ExchangeOptions, decode: (data: Uint8Array) => T): Promise<T> {
    if (this.pipeline !== undefined) return this.pipeline.exchange(request, options, decode);
    const { bytes, expect } = labelRequest(request, this.#labels.next(), options.verifySourceId);
    const progress: ReadProgress = { received: EMPTY, surplus: 0 };
    // Small responses are read in one go into fresh memory (cheap below V8's on-heap limit); large ones
    // land in one reused buffer: a fresh 4 KiB buffer per response costs more than the read itself.
    const size = expectedResponseBytes(expect);
    let into: Uint8Array | undefined;
    if (size > SCRATCH_ABOVE) {
      if (this.#scratch.length < size) this.#scratch = new Uint8Array(size);
      into = this.#scratch;
    }
    return this.tcp
      .request(bytes, (reader, opts) => readResponse(reader, expect, opts, progress, into, decode), {
        signal: options.signal,
        timeoutMs: options.timeoutMs,
        idempotent: isIdempotent(request),
        atHand: new ResponseAtHand(expect, decode),
      })
      .catch((error: unknown) => {
        // The request's own deadline fired while the response was incomplete: name the bytes that came.
        if (TimeoutError.isInstance(error) && progress.received.length > 0) {
          throw new TimeoutError('OptoMMP response', error.timeoutMs, progress.received.slice(), {
            cause: error,
          });
        }
        throw error;
      });
  }

  connect(options: OperationOptions = {}): Promise<void> {
    return this.tcp.connect(options);
  }

  onConnected(listener: () => void): void {
    this.tcp.on('connected', listener);
  }

  close(): Promise<void> {
    this.pipeline?.close();
    return this.tcp.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
