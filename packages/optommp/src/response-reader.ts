// Reads and checks one OptoMMP response from a TCP stream (spec §2.11): 12 bytes first (the shortest
// response), then the rest according to the tcode; tl, tcode partner, optional source_ID, rcode, and the
// data_length of block reads are checked before any data is read.

import { type ByteReader, EofError, type OperationOptions } from '@labwire/framing';
import { DeviceError, ResponseMismatchError } from './codec/errors';
import type { ResponseExpectation } from './codec/validate';

const EMPTY = new Uint8Array(0);

/** After a mismatch the line is out of step: discard what follows until it is quiet (bounded). */
async function resynchronise(reader: ByteReader, options: OperationOptions): Promise<void> {
  const timeoutMs = Math.min(options.timeoutMs ?? 200, 200);
  try {
    await reader.drain({ quietMs: 20, timeoutMs, signal: options.signal });
  } catch {
    // A peer that keeps talking: the next request will fail its checks again and drain again.
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

async function mismatch(
  reader: ByteReader,
  options: OperationOptions,
  field: 'tcode' | 'tl' | 'sourceId' | 'dataLength',
  expected: number,
  actual: number,
  packet: Uint8Array,
): Promise<ResponseMismatchError> {
  await resynchronise(reader, options);
  return new ResponseMismatchError(field, expected, actual, packet);
}

function nak(rcode: number, expect: ResponseExpectation): DeviceError {
  return new DeviceError(rcode, { address: expect.address, requestTcode: expect.requestTcode });
}

/**
 * Adds `n` more bytes to `have`. `have` is already consumed, so a failure here must carry it: EOF is raised
 * again with every byte of the response that arrived, and `progress` tells the transport what came when the
 * request's deadline ends the wait.
 */
async function more(
  reader: ByteReader,
  have: Uint8Array,
  n: number,
  options: OperationOptions,
  progress: ResponseProgress | undefined,
): Promise<Uint8Array> {
  let next: Uint8Array;
  try {
    next = await reader.readExactly(n, options);
  } catch (error) {
    if (EofError.isInstance(error)) {
      throw new EofError('OptoMMP response', concat(have, error.partial), have.length + n, { cause: error });
    }
    throw error;
  }
  const packet = concat(have, next);
  if (progress !== undefined) progress.received = packet;
  return packet;
}

/** What the reader has consumed of an incomplete response, for the error if the request times out. */
export interface ResponseProgress {
  received: Uint8Array;
}

/**
 * Reads the response to one request. The first read takes whatever has arrived, up to the size of the
 * expected ACK, so a whole response usually costs one read (measured: a second read per response costs
 * about a quarter of the client's throughput); missing bytes are then read exactly. Nothing past the
 * response is ever consumed.
 */
export async function readResponse(
  reader: ByteReader,
  expect: ResponseExpectation,
  options: OperationOptions,
  progress?: ResponseProgress,
): Promise<Uint8Array> {
  const want = expect.requestTcode === 4 ? 6 : expect.requestTcode === 5 ? 7 : 2;
  const wanted = expect.dataLength ?? 0;
  const ackBytes = want === 2 ? 12 : want === 6 ? 16 : 16 + wanted;
  let packet = await reader.readAvailable(ackBytes, options);
  if (progress !== undefined) progress.received = packet;
  if (packet.length < 12) packet = await more(reader, packet, 12 - packet.length, options, progress);
  const tcode = packet[3]! >> 4;
  if (tcode !== want) throw await mismatch(reader, options, 'tcode', want, tcode, packet);
  const tl = packet[2]! >> 2;
  if (tl !== expect.tl) throw await mismatch(reader, options, 'tl', expect.tl, tl, packet);
  if (expect.sourceId !== undefined) {
    const sourceId = (packet[4]! << 8) | packet[5]!;
    if (sourceId !== expect.sourceId) {
      throw await mismatch(reader, options, 'sourceId', expect.sourceId, sourceId, packet);
    }
  }
  const rcode = packet[6]! >> 4;
  if (tcode === 2) {
    if (rcode !== 0) throw nak(rcode, expect);
    return EMPTY;
  }
  if (packet.length < 16) packet = await more(reader, packet, 16 - packet.length, options, progress);
  if (tcode === 6) {
    // A NAKed quadlet response carries zero data (spec §2.6): do not read a value from it.
    if (rcode !== 0) throw nak(rcode, expect);
    return packet.subarray(12, 16);
  }
  const dataLength = (packet[12]! << 8) | packet[13]!;
  if (rcode !== 0) {
    // Real NAKed block reads are a bare 16-byte header (data_length 0). One that states data is read to
    // its end, to stay in step, as long as it is no longer than what was asked for.
    if (dataLength > wanted) throw await mismatch(reader, options, 'dataLength', 0, dataLength, packet);
    if (packet.length > 16 + dataLength) await resynchronise(reader, options);
    else if (packet.length < 16 + dataLength)
      await more(reader, packet, 16 + dataLength - packet.length, options, progress);
    throw nak(rcode, expect);
  }
  if (dataLength !== wanted) throw await mismatch(reader, options, 'dataLength', wanted, dataLength, packet);
  if (packet.length < 16 + dataLength)
    packet = await more(reader, packet, 16 + dataLength - packet.length, options, progress);
  return packet.subarray(16, 16 + dataLength);
}
