// What OptoMmpClient needs from a transport: label a request, send what the codec encodes for it, and
// return the data of its response once the codec's validator accepted it. TCP (over @labwire/tcp) and UDP
// (one datagram each way) implement it; labels belong to the link, so the transport chooses them.

import type { OperationOptions } from '@labwire/framing';
import type { RequestInit } from './codec/encode';
import { encodeRequestWith } from './codec/encode';
import { expectationFor, type ResponseExpectation } from './codec/validate';

export interface ExchangeOptions extends OperationOptions {
  /** Reject a response whose source_ID is not the request's (SharpOpto22 does). Default false. */
  verifySourceId?: boolean;
}

export interface MmpTransport extends AsyncDisposable {
  readonly kind: 'tcp' | 'udp';
  /** Where the device is, for messages. */
  readonly endpoint: string;
  /**
   * Gives `request` a transaction label (its own `tl` is ignored), sends it, and once the response passed
   * the checks of docs/protocols/optommp.md §2.11 resolves with what `decode` makes of its data (empty for writes). `decode` runs
   * synchronously and `data` is valid only during that call (the transport may reuse the memory), so a
   * typed value costs no allocation for the bytes; return `data.slice()` to keep them. Reads (tcodes 4 and
   * 5) may be sent again on a new connection when the link drops; writes never are. Rejects with
   * DeviceError for a NAK, ResponseMismatchError, TimeoutError, AbortedError, or a connection error (and
   * with whatever `decode` throws).
   */
  exchange<T>(request: RequestInit, options: ExchangeOptions, decode: (data: Uint8Array) => T): Promise<T>;
  /** Resolves once the transport can send (TCP: connected). */
  connect(options?: OperationOptions): Promise<void>;
  /** Called after every (re)connection; the client re-checks Powerup Clear then. */
  onConnected(listener: () => void): void;
  close(): Promise<void>;
}

/** A request with its label: the bytes to send and what the response must match. */
export interface LabelledRequest {
  readonly bytes: Uint8Array;
  readonly expect: ResponseExpectation;
}

/** Encodes `request` with transaction label `tl` (codec encoder, into Node's pooled memory) and derives its expectation. */
export function labelRequest(request: RequestInit, tl: number, verifySourceId = false): LabelledRequest {
  // A literal rather than `{ ...request, tl }`: on Node 20 adding a property to a spread copy takes
  // microseconds (measured ~5 µs), more than everything else on the request path together.
  const r = request as Partial<Record<string, unknown>> & RequestInit;
  const packet = {
    tcode: request.tcode,
    tl,
    destinationId: request.destinationId,
    rt: request.rt,
    pri: request.pri,
    sourceId: request.sourceId,
    offset: request.offset,
    extendedTcode: r.extendedTcode,
    dataLength: r.dataLength,
    data: r.data,
  } as RequestInit;
  return { bytes: encodeRequestWith(packet, allocateUnsafe), expect: expectationFor(packet, verifySourceId) };
}

/** Node's pooled memory for small sizes: what a socket writes without moving it first. */
function allocateUnsafe(size: number): Uint8Array {
  return Buffer.allocUnsafe(size);
}

/** Transaction labels 1…63, then 0, like the C++ SDK (docs/protocols/optommp.md §2.9). */
export class LabelCounter {
  #tl = 0;

  next(): number {
    this.#tl = (this.#tl + 1) & 63;
    return this.#tl;
  }
}

/** Reads and quadlet reads do not change the device: they may be repeated on a new connection. */
export function isIdempotent(request: RequestInit): boolean {
  return request.tcode === 4 || request.tcode === 5;
}
