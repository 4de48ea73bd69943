// The pull reader: one OptoMMP packet from a framing ByteReader. The length comes from the header alone
// (`packetLengthAt`, the rule the push decoder uses too, docs/protocols/optommp.md §2.2); with an expectation the header is
// checked against the request (docs/protocols/optommp.md §2.11) before any data is read.

import { type ByteReader, EofError, type OperationOptions } from '@labwire/framing';
import { type DecodedPacket, type DecodeOptions, decodePacketAt, packetLengthAt } from './decode';
import { BLOCK_HEADER_BYTES, MIN_PACKET_BYTES } from './tcode';
import {
  checkResponseHeader,
  expectedResponseBytes,
  type ResponseExpectation,
  responseAtHand,
} from './validate';

/** Bytes up to the end of a block packet's data_length (bytes 12–13). */
const DATA_LENGTH_END = 14;

const EMPTY = new Uint8Array(0);

/**
 * The pull reader's fast path for one request in flight (@labwire/tcp's ReplyAtHand): when the reader
 * holds exactly the whole response to `expect` and it passes every check of the validator
 * (`responseAtHand`: tcode, tl, source_ID, data_length, rcode 0), consumes it and stores in `out.value`
 * what `decode` makes of its data (a view of the reader's memory, valid only during the call; empty for a
 * write): `'taken'`. `'wait'` while the response is not whole and nothing is wrong so far; `'read'` for
 * anything else, with nothing consumed: `readPacket` + `checkResponse` read it and report it. What
 * `decode` throws is thrown, the response consumed.
 */
export function takeResponseAtHand<T>(
  reader: ByteReader,
  expect: ResponseExpectation,
  decode: (data: Uint8Array) => T,
  out: { value: T },
): 'taken' | 'wait' | 'read' {
  if (reader.pending !== 0) return 'read';
  const bytes = reader.peekView();
  const length = responseAtHand(bytes, 0, bytes.length, expect);
  if (length === 0) return 'wait';
  if (length < 0) return 'read';
  const t = expect.requestTcode;
  try {
    out.value = decode(
      t === 5
        ? bytes.subarray(BLOCK_HEADER_BYTES, length)
        : t === 4
          ? bytes.subarray(MIN_PACKET_BYTES, length)
          : EMPTY,
    );
  } finally {
    reader.discard(length);
  }
  return 'taken';
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
/** The options of readPacket. */
type ReadPacketOptions = NonNullable<Parameters<typeof readPacket>[1]>;
/** What a read consumed, for the caller's error handling (readPacket's `progress`). */
export type ReadProgress = NonNullable<ReadPacketOptions['progress']>;

export function readPacket(
  reader: ByteReader,
  options: DecodeOptions &
    OperationOptions & {
      /**
       * The request this packet answers. Its header is checked as soon as it has arrived (ResponseMismatchError
       * before any data is read), and the first read takes up to the size of the expected response, so a whole
       * response costs one read. Use it only when nothing but this response is due on the stream (one request
       * in flight): a shorter packet may leave bytes after it consumed (see `ReadProgress.surplus`).
       */
      expect?: ResponseExpectation;
      /** Updated as bytes are consumed, so that an error raised from outside (a deadline) can name them. */
      progress?: {
        /** The bytes of the packet consumed so far (the whole packet once it is read). */
        received: Uint8Array;
        /**
         * Bytes consumed after the packet: only with `expect`, when the packet was shorter than the expected
         * response (a NAK followed by more bytes, or a packet that did not belong to the request). They are
         * discarded; the stream is out of step and its owner should resynchronise.
         */
        surplus: number;
      };
      /**
       * Memory to read the packet into (a packet that does not fit gets its own). No allocation per packet:
       * the packet's data is then a view of `into`, valid until `into` is written again. Reads take exact
       * sizes (12 bytes, the rest of a block header, the data), so nothing after the packet is consumed.
       */
      into?: Uint8Array;
    } = {},
): Promise<DecodedPacket> {
  if (options.into !== undefined) return readPacketInto(reader, options, options.into);
  const expect = options.expect;
  // Every packet is at least 12 bytes; with an expectation, the first read may take the whole response.
  const first =
    expect === undefined
      ? reader.readExactly(MIN_PACKET_BYTES, options)
      : reader.readAvailable(expectedResponseBytes(expect), options);
  return first.then((packet) => packetOrRest(reader, options, packet));
}

/** The packet when the first read brought all of it (the usual case), else the reads that complete it. */
function packetOrRest(
  reader: ByteReader,
  options: ReadPacketOptions,
  packet: Uint8Array,
): DecodedPacket | Promise<DecodedPacket> {
  const { expect, progress } = options;
  if (progress !== undefined) progress.received = packet;
  if (packet.length >= MIN_PACKET_BYTES) {
    if (expect !== undefined) checkResponseHeader(packet, 0, expect);
    const length = packetLengthAt(packet, 0, options);
    if (length >= 0 && packet.length >= length) {
      if (progress !== undefined) progress.surplus = packet.length - length;
      // `packet` is this call's own memory (the reader hands out copies, or views it never reuses).
      return decodePacketAt(packet, 0, length, false);
    }
  }
  return readRest(reader, options, packet);
}

async function readRest(
  reader: ByteReader,
  options: ReadPacketOptions,
  first: Uint8Array,
): Promise<DecodedPacket> {
  const { expect, progress } = options;
  let packet = first;
  // Header checks already done on the first bytes are repeated once more bytes are in (cheap).
  // At most three more reads: the rest of 12 bytes, the 16-byte block header, the data.
  for (let step = 0; step < 4; step++) {
    if (packet.length >= MIN_PACKET_BYTES && expect !== undefined) checkResponseHeader(packet, 0, expect);
    const length = packet.length < MIN_PACKET_BYTES ? -1 : packetLengthAt(packet, 0, options);
    if (length >= 0 && packet.length >= length) {
      if (progress !== undefined) progress.surplus = packet.length - length;
      return decodePacketAt(packet, 0, length, false);
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

/**
 * `readPacket` into caller memory: exact reads of 12 bytes, then the rest of the packet. A block packet's
 * data_length (bytes 12–13) is peeked when it has arrived with the first 12 bytes (the usual case: a
 * whole response lands at once), so a response costs two reads; otherwise the block header is read first.
 */
async function readPacketInto(
  reader: ByteReader,
  options: ReadPacketOptions,
  into: Uint8Array,
): Promise<DecodedPacket> {
  const { expect, progress } = options;
  const read = { signal: options.signal, timeoutMs: options.timeoutMs, into };
  let buf = into.length >= BLOCK_HEADER_BYTES ? into : new Uint8Array(BLOCK_HEADER_BYTES);
  let have = 0;
  let upTo = MIN_PACKET_BYTES;
  try {
    read.into = buf.subarray(0, upTo);
    await reader.readExactly(upTo, read);
    have = upTo;
    if (progress !== undefined) progress.received = buf.subarray(0, have);
    if (expect !== undefined) checkResponseHeader(buf.subarray(0, have), 0, expect);
    let length = packetLengthAt(buf.subarray(0, have), 0, options);
    if (length < 0) {
      if (reader.buffered >= 2) {
        // Copy bytes 12–13 without consuming them: the last read below reads them into place again.
        buf.set(reader.peek(2), MIN_PACKET_BYTES);
        upTo = DATA_LENGTH_END;
      } else {
        upTo = BLOCK_HEADER_BYTES;
        read.into = buf.subarray(have, upTo);
        await reader.readExactly(upTo - have, read);
        have = upTo;
        if (progress !== undefined) progress.received = buf.subarray(0, have);
      }
      if (expect !== undefined) checkResponseHeader(buf.subarray(0, upTo), 0, expect);
      length = packetLengthAt(buf.subarray(0, upTo), 0, options);
    }
    if (length > buf.length) {
      const bigger = new Uint8Array(length);
      bigger.set(buf.subarray(0, have));
      buf = bigger;
    }
    if (length > have) {
      upTo = length;
      read.into = buf.subarray(have, upTo);
      await reader.readExactly(upTo - have, read);
      have = upTo;
      if (progress !== undefined) progress.received = buf.subarray(0, have);
    }
    if (progress !== undefined) progress.surplus = 0;
    return decodePacketAt(buf, 0, length, false);
  } catch (error) {
    if (EofError.isInstance(error)) {
      throw new EofError('OptoMMP packet', concat(buf.subarray(0, have), error.partial), upTo, {
        cause: error,
      });
    }
    throw error;
  }
}
