// OptoMMP over TCP: one TcpInterface, each request a write + the read of its response as one unit. The
// response is read by the codec's pull reader and checked by the codec's validator.

import { type ByteReader, type OperationOptions, TimeoutError } from '@labwire/framing';
import { TcpInterface, type TcpInterfaceOptions } from '@labwire/tcp';
import type { RequestInit } from './codec/encode';
import { ResponseMismatchError } from './codec/errors';
import { type ReadProgress, readPacket } from './codec/read-packet';
import { checkResponse, type ResponseExpectation } from './codec/validate';
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

/** Reads and checks the response to one request; resynchronises the line when it is out of step. */
async function readResponse(
  reader: ByteReader,
  expect: ResponseExpectation,
  options: OperationOptions,
  progress: ReadProgress,
): Promise<Uint8Array> {
  let data: Uint8Array;
  try {
    data = checkResponse(await readPacket(reader, { ...options, expect, progress }), expect);
  } catch (error) {
    if (ResponseMismatchError.isInstance(error) || progress.surplus > 0) {
      await resynchronise(reader, options);
    }
    throw error;
  }
  if (progress.surplus > 0) await resynchronise(reader, options);
  return data;
}

export class TcpTransport implements MmpTransport {
  readonly kind = 'tcp' as const;
  readonly endpoint: string;
  /** The underlying interface (state, counters, events). */
  readonly tcp: TcpInterface;
  readonly #labels = new LabelCounter();

  constructor(host: string, port: number, options: TcpInterfaceOptions = {}) {
    this.endpoint = `${host}:${port}`;
    this.tcp = new TcpInterface(host, port, options);
  }

  exchange(request: RequestInit, options: ExchangeOptions): Promise<Uint8Array> {
    const { bytes, expect } = labelRequest(request, this.#labels.next(), options.verifySourceId);
    const progress: ReadProgress = { received: EMPTY, surplus: 0 };
    return this.tcp
      .request(bytes, (reader, opts) => readResponse(reader, expect, opts, progress), {
        signal: options.signal,
        timeoutMs: options.timeoutMs,
        idempotent: isIdempotent(request),
      })
      .catch((error: unknown) => {
        // The request's own deadline fired while the response was incomplete: name the bytes that came.
        if (TimeoutError.isInstance(error) && progress.received.length > 0) {
          throw new TimeoutError('OptoMMP response', error.timeoutMs, progress.received, { cause: error });
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
    return this.tcp.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
