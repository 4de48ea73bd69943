// The pull reader: one OptoMMP packet from a framing ByteReader. The length comes from the header alone
// (`packetLengthAt`, the rule the push decoder uses too, spec §2.2); with an expectation the header is
// checked against the request (spec §2.11) before any data is read.

import { type ByteReader, EofError, type OperationOptions } from '@labwire/framing';
import { type DecodedPacket, type DecodeOptions, decodePacketAt, packetLengthAt } from './decode';
import { BLOCK_HEADER_BYTES, MIN_PACKET_BYTES } from './tcode';
import { checkResponseHeader, expectedResponseBytes, type ResponseExpectation } from './validate';

/** Bytes up to the end of a block packet's data_length (bytes 12–13). */
const DATA_LENGTH_END = 14;

/** What a read consumed, for the caller's error handling. */
export interface ReadProgress {
  /** The bytes of the packet consumed so far (the whole packet once it is read). */
  received: Uint8Array;
  /**
   * Bytes consumed after the packet: only with `expect`, when the packet was shorter than the expected
   * response (a NAK followed by more bytes, or a packet that did not belong to the request). They are
   * discarded; the stream is out of step and its owner should resynchronise.
   */
  surplus: number;
}

export interface ReadPacketOptions extends DecodeOptions, OperationOptions {
  /**
   * The request this packet answers. Its header is checked as soon as it has arrived (ResponseMismatchError
   * before any data is read), and the first read takes up to the size of the expected response, so a whole
   * response costs one read. Use it only when nothing but this response is due on the stream (one request
   * in flight): a shorter packet may leave bytes after it consumed (see `ReadProgress.surplus`).
   */
  expect?: ResponseExpectation;
  /** Updated as bytes are consumed, so that an error raised from outside (a deadline) can name them. */
  progress?: ReadProgress;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * Reads one packet. Each read has the deadline of `options` (a fresh one per read call). EOF inside a packet
 * raises EofError whose `partial` holds every byte of the packet that arrived. A header that cannot start a
 * packet raises DecodeError / LimitExceededError after at most 14 bytes have been consumed: the stream is
 * out of step then, and its owner must drain or reset it.
 */
export async function readPacket(
  reader: ByteReader,
  options: ReadPacketOptions = {},
): Promise<DecodedPacket> {
  const { expect, progress } = options;
  // Every packet is at least 12 bytes; with an expectation, the first read may take the whole response.
  let packet =
    expect === undefined
      ? await reader.readExactly(MIN_PACKET_BYTES, options)
      : await reader.readAvailable(expectedResponseBytes(expect), options);
  if (progress !== undefined) progress.received = packet;
  let checked = false;
  // At most four reads after the first: the rest of 12 bytes, the 16-byte block header, the data.
  for (let step = 0; step < 4; step++) {
    if (packet.length >= MIN_PACKET_BYTES && expect !== undefined && !checked) {
      checkResponseHeader(packet, 0, expect);
      checked = packet[3]! >> 4 !== 7 || packet.length >= DATA_LENGTH_END;
    }
    const length = packet.length < MIN_PACKET_BYTES ? -1 : packetLengthAt(packet, 0, options);
    if (length >= 0 && packet.length >= length) {
      if (progress !== undefined) progress.surplus = packet.length - length;
      return decodePacketAt(packet, 0, length);
    }
    // Short of 12 bytes, of a block packet's data_length (read the whole 16-byte block header), or of data.
    const want =
      packet.length < MIN_PACKET_BYTES
        ? MIN_PACKET_BYTES - packet.length
        : length < 0
          ? BLOCK_HEADER_BYTES - packet.length
          : length - packet.length;
    let more: Uint8Array;
    try {
      more = await reader.readExactly(want, options);
    } catch (error) {
      if (EofError.isInstance(error)) {
        const partial = concat(packet, error.partial);
        throw new EofError('OptoMMP packet', partial, length >= 0 ? length : packet.length + want, {
          cause: error,
        });
      }
      throw error;
    }
    packet = concat(packet, more);
    if (progress !== undefined) progress.received = packet;
  }
  throw new RangeError('readPacket: a packet longer than its header says (internal error)');
}
