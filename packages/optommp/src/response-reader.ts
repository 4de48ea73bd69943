// Reads and checks one OptoMMP response from a TCP stream (spec §2.11): 12 bytes first (the shortest
// response), then the rest according to the tcode; tl, tcode partner, optional source_ID, rcode, and the
// data_length of block reads are checked before any data is read.

import type { ByteReader, OperationOptions } from '@labwire/framing';
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

export async function readResponse(
  reader: ByteReader,
  expect: ResponseExpectation,
  options: OperationOptions,
): Promise<Uint8Array> {
  const head = await reader.readExactly(12, options);
  const tcode = head[3]! >> 4;
  const want = expect.requestTcode === 4 ? 6 : expect.requestTcode === 5 ? 7 : 2;
  const mismatch = async (
    field: 'tcode' | 'tl' | 'sourceId' | 'dataLength',
    expected: number,
    actual: number,
    packet: Uint8Array,
  ) => {
    await resynchronise(reader, options);
    return new ResponseMismatchError(field, expected, actual, packet);
  };
  if (tcode !== want) throw await mismatch('tcode', want, tcode, head);
  const tl = head[2]! >> 2;
  if (tl !== expect.tl) throw await mismatch('tl', expect.tl, tl, head);
  if (expect.sourceId !== undefined) {
    const sourceId = (head[4]! << 8) | head[5]!;
    if (sourceId !== expect.sourceId) throw await mismatch('sourceId', expect.sourceId, sourceId, head);
  }
  const rcode = head[6]! >> 4;
  const nak = () => new DeviceError(rcode, { address: expect.address, requestTcode: expect.requestTcode });
  if (tcode === 2) {
    if (rcode !== 0) throw nak();
    return EMPTY;
  }
  const tail = await reader.readExactly(4, options);
  if (tcode === 6) {
    // A NAKed quadlet response carries zero data (spec §2.6): do not read a value from it.
    if (rcode !== 0) throw nak();
    return tail;
  }
  const dataLength = (tail[0]! << 8) | tail[1]!;
  const wanted = expect.dataLength ?? 0;
  if (rcode !== 0) {
    // Real NAKed block reads state data_length 0; if one states more, consume it to stay in step.
    if (dataLength > wanted) throw await mismatch('dataLength', 0, dataLength, concat(head, tail));
    if (dataLength > 0) await reader.readExactly(dataLength, options);
    throw nak();
  }
  if (dataLength !== wanted) throw await mismatch('dataLength', wanted, dataLength, concat(head, tail));
  return dataLength === 0 ? EMPTY : reader.readExactly(dataLength, options);
}
