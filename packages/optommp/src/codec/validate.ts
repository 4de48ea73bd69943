// The checks a client performs on every response (docs/protocols/optommp.md §2.11): tcode partner, tl, optional source_ID,
// rcode, and for block reads the data_length. Extended tcode, reserved bytes, pri, rt and destination_ID
// are ignored. One rule, two entry points: `checkResponseHeader` on the bytes of a header as it arrives
// (a stream reader calls it before reading any data), `checkResponse` on a decoded packet.

import type { DecodedPacket } from './decode';
import { encodePacket, type RequestInit } from './encode';
import { DeviceError, type ResponseField, ResponseMismatchError } from './errors';
import { addressOf, isResponse, type OptoMmpRequest } from './packet';
import { BLOCK_HEADER_BYTES, MIN_PACKET_BYTES, responseTcodeFor } from './tcode';

/** What a response must match: taken from the request that was sent. */
export interface ResponseExpectation {
  /** The request's tcode (0, 1, 4 or 5). */
  readonly requestTcode: 0 | 1 | 4 | 5;
  readonly tl: number;
  /** Checked only when set (devices are expected to echo it, docs/protocols/optommp.md §2.10). */
  readonly sourceId?: number | undefined;
  /** For read block requests: the data_length asked for. */
  readonly dataLength?: number | undefined;
  /** The 32-bit address of the request, for error messages. */
  readonly address?: number | undefined;
}

/** The expectation for a request: a decoded request packet or an encoder input (tl defaults to 0). */
export function expectationFor(
  request: OptoMmpRequest | RequestInit,
  checkSourceId = false,
): ResponseExpectation {
  return {
    requestTcode: request.tcode,
    tl: request.tl ?? 0,
    sourceId: checkSourceId ? (request.sourceId ?? 0) : undefined,
    dataLength: request.tcode === 5 ? request.dataLength : undefined,
    address: addressOf(request.offset),
  };
}

/** Size of the ACK that answers the request: 12 (write), 16 (read quadlet) or 16 + data_length (read block). */
export function expectedResponseBytes(expect: ResponseExpectation): number {
  const t = expect.requestTcode;
  return t === 5 ? BLOCK_HEADER_BYTES + (expect.dataLength ?? 0) : t === 4 ? 16 : MIN_PACKET_BYTES;
}

/**
 * The rule itself, on header fields: which field does not belong to the request, or undefined.
 * `dataLength` is -1 when it is not known yet (or the packet has none). A NAKed block read is a bare header
 * (data_length 0, docs/protocols/optommp.md §2.6); one that states data is accepted as long as it is not longer than what was
 * asked for, so a stream stays in step by reading it.
 */
function mismatchOf(
  expect: ResponseExpectation,
  tcode: number,
  tl: number,
  sourceId: number,
  rcode: number,
  dataLength: number,
): [ResponseField, number, number] | undefined {
  const want = responseTcodeFor(expect.requestTcode);
  if (tcode !== want) return ['tcode', want, tcode];
  if (tl !== expect.tl) return ['tl', expect.tl, tl];
  if (expect.sourceId !== undefined && sourceId !== expect.sourceId) {
    return ['sourceId', expect.sourceId, sourceId];
  }
  if (tcode !== 7 || dataLength < 0 || expect.dataLength === undefined) return undefined;
  if (rcode !== 0) return dataLength > expect.dataLength ? ['dataLength', 0, dataLength] : undefined;
  return dataLength === expect.dataLength ? undefined : ['dataLength', expect.dataLength, dataLength];
}

function nak(rcode: number, expect: ResponseExpectation): DeviceError {
  return new DeviceError(rcode, { address: expect.address, requestTcode: expect.requestTcode });
}

/**
 * Checks the header of a response at `bytes[at]` as soon as it has arrived, before any data is read:
 * tcode partner, tl, source_ID (when expected) and, once 14 bytes are there, a block read's data_length.
 * Needs at least 12 bytes. Throws ResponseMismatchError; the rcode is left to `checkResponse`, so that a
 * stream reads a NAK to its end and stays in step.
 */
export function checkResponseHeader(bytes: Uint8Array, at: number, expect: ResponseExpectation): void {
  const available = bytes.length - at;
  const tcode = bytes[at + 3]! >> 4;
  const m = mismatchOf(
    expect,
    tcode,
    bytes[at + 2]! >> 2,
    (bytes[at + 4]! << 8) | bytes[at + 5]!,
    bytes[at + 6]! >> 4,
    tcode === 7 && available >= 14 ? (bytes[at + 12]! << 8) | bytes[at + 13]! : -1,
  );
  if (m !== undefined) {
    const end = at + Math.min(available, tcode === 7 ? BLOCK_HEADER_BYTES : available);
    throw new ResponseMismatchError(m[0], m[1], m[2], bytes.slice(at, end));
  }
}

/**
 * The rule of `checkResponseHeader` and `checkResponse` for a response that may lie whole in a buffer,
 * without throwing or allocating (a stream reader's fast path, one request in flight). Returns the
 * response's length when `bytes[at, end)` is exactly the whole response to `expect`, it passes every check
 * and it is an ACK (rcode 0); 0 while it is shorter than that response and what has arrived passes the
 * checks so far; -1 for anything else (a field that does not belong to the request, a NAK, bytes beyond
 * the response), which the checked path must read and report.
 */
export function responseAtHand(
  bytes: Uint8Array,
  at: number,
  end: number,
  expect: ResponseExpectation,
): number {
  const available = end - at;
  if (available < MIN_PACKET_BYTES) return 0;
  const tcode = bytes[at + 3]! >> 4;
  const rcode = bytes[at + 6]! >> 4;
  if (rcode !== 0) return -1;
  const m = mismatchOf(
    expect,
    tcode,
    bytes[at + 2]! >> 2,
    (bytes[at + 4]! << 8) | bytes[at + 5]!,
    rcode,
    tcode === 7 && available >= 14 ? (bytes[at + 12]! << 8) | bytes[at + 13]! : -1,
  );
  if (m !== undefined) return -1;
  // The tcode and (once there) the data_length are the expected ones: so is the length.
  const length = expectedResponseBytes(expect);
  return available < length ? 0 : available === length ? length : -1;
}

const EMPTY = new Uint8Array(0);

/**
 * Checks a decoded response and returns its data (4 bytes for a read quadlet, data_length bytes for a read
 * block, empty for a write). Throws ResponseMismatchError, or DeviceError for a NAK (a NAKed response
 * carries no value: zero data for a quadlet, none for a block, docs/protocols/optommp.md §2.6).
 */
export function checkResponse(response: DecodedPacket, expect: ResponseExpectation): Uint8Array {
  if ('undefinedTcode' in response || !isResponse(response)) {
    const want = responseTcodeFor(expect.requestTcode);
    throw new ResponseMismatchError('tcode', want, response.tcode, encodePacket(response));
  }
  const m = mismatchOf(
    expect,
    response.tcode,
    response.tl,
    response.sourceId,
    response.rcode,
    response.tcode === 7 ? response.data.length : -1,
  );
  if (m !== undefined) throw new ResponseMismatchError(m[0], m[1], m[2], encodePacket(response));
  if (response.rcode !== 0) throw nak(response.rcode, expect);
  return response.tcode === 2 ? EMPTY : response.data;
}
