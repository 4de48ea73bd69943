// The checks a client performs on every response (spec §2.11): tcode partner, tl, optional source_ID,
// rcode, and for block reads the data_length. Extended tcode, reserved bytes, pri, rt and destination_ID
// are ignored.

import type { DecodedPacket } from './decode';
import { encodePacket } from './encode';
import { DeviceError, ResponseMismatchError } from './errors';
import { addressOf, isResponse, type OptoMmpRequest } from './packet';
import { responseTcodeFor } from './tcode';

/** What a response must match: taken from the request that was sent. */
export interface ResponseExpectation {
  /** The request's tcode (0, 1, 4 or 5). */
  readonly requestTcode: 0 | 1 | 4 | 5;
  readonly tl: number;
  /** Checked only when set (devices are expected to echo it, spec §2.10). */
  readonly sourceId?: number | undefined;
  /** For read block requests: the data_length asked for. */
  readonly dataLength?: number | undefined;
  /** The 32-bit address of the request, for error messages. */
  readonly address?: number | undefined;
}

/** The expectation for a request packet. */
export function expectationFor(request: OptoMmpRequest, checkSourceId = false): ResponseExpectation {
  return {
    requestTcode: request.tcode,
    tl: request.tl,
    sourceId: checkSourceId ? request.sourceId : undefined,
    dataLength: request.tcode === 5 ? request.dataLength : undefined,
    address: addressOf(request.offset),
  };
}

/**
 * Checks a decoded response and returns its data (4 bytes for a read quadlet, data_length bytes for a read
 * block, empty for a write). Throws ResponseMismatchError or DeviceError.
 */
export function checkResponse(response: DecodedPacket, expect: ResponseExpectation): Uint8Array {
  const raw = () => encodePacket(response);
  const tcode = responseTcodeFor(expect.requestTcode);
  if ('undefinedTcode' in response || !isResponse(response) || response.tcode !== tcode) {
    throw new ResponseMismatchError('tcode', tcode, response.tcode, raw());
  }
  if (response.tl !== expect.tl) throw new ResponseMismatchError('tl', expect.tl, response.tl, raw());
  if (expect.sourceId !== undefined && response.sourceId !== expect.sourceId) {
    throw new ResponseMismatchError('sourceId', expect.sourceId, response.sourceId, raw());
  }
  if (response.rcode !== 0) {
    throw new DeviceError(response.rcode, { address: expect.address, requestTcode: expect.requestTcode });
  }
  if (response.tcode === 2) return new Uint8Array(0);
  if (response.tcode === 7 && expect.dataLength !== undefined && response.data.length !== expect.dataLength) {
    throw new ResponseMismatchError('dataLength', expect.dataLength, response.data.length, raw());
  }
  return response.data;
}
