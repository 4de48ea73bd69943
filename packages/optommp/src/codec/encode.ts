// Encoders for every OptoMMP packet. Multi-byte fields are big-endian (docs/protocols/optommp.md §1); reserved response bytes
// are written as zero (docs/protocols/optommp.md §2.4).

import type {
  HeaderInit,
  OptoMmpPacket,
  PacketHeader,
  ReadBlockRequest,
  ReadBlockResponse,
  ReadQuadletRequest,
  ReadQuadletResponse,
  UndefinedTcodePacket,
  WriteBlockRequest,
  WriteQuadletRequest,
  WriteResponse,
} from './packet';
import { MAX_OFFSET } from './packet';
import { MAX_DATA_LENGTH } from './tcode';

function checkField(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer 0..${max}, got ${value}`);
  }
}

/** Writes bytes 0–5: destination_ID, `tl << 2 | rt`, `tcode << 4 | pri`, source_ID. */
function writeHeader(out: Uint8Array, tcode: number, h: HeaderInit): void {
  const destinationId = h.destinationId ?? 0;
  const tl = h.tl ?? 0;
  const rt = h.rt ?? 0;
  const pri = h.pri ?? 0;
  const sourceId = h.sourceId ?? 0;
  checkField('destinationId', destinationId, 0xffff);
  checkField('tl', tl, 63);
  checkField('rt', rt, 3);
  checkField('pri', pri, 15);
  checkField('sourceId', sourceId, 0xffff);
  out[0] = destinationId >>> 8;
  out[1] = destinationId & 0xff;
  out[2] = (tl << 2) | rt;
  out[3] = (tcode << 4) | pri;
  out[4] = sourceId >>> 8;
  out[5] = sourceId & 0xff;
}

/** Bytes 6–11: the 48-bit destination offset, big-endian. */
function writeOffset(out: Uint8Array, offset: number): void {
  checkField('offset', offset, MAX_OFFSET);
  const high = Math.floor(offset / 0x1_0000_0000);
  const low = offset % 0x1_0000_0000;
  out[6] = high >>> 8;
  out[7] = high & 0xff;
  out[8] = low >>> 24;
  out[9] = (low >>> 16) & 0xff;
  out[10] = (low >>> 8) & 0xff;
  out[11] = low & 0xff;
}

function writeU16(out: Uint8Array, at: number, name: string, value: number): void {
  checkField(name, value, 0xffff);
  out[at] = value >>> 8;
  out[at + 1] = value & 0xff;
}

function checkQuadlet(data: Uint8Array): void {
  if (data.length !== 4) throw new RangeError(`quadlet data must be 4 bytes, got ${data.length}`);
}

function checkBlock(data: Uint8Array): void {
  if (data.length > MAX_DATA_LENGTH) {
    throw new RangeError(
      `block data must be at most ${MAX_DATA_LENGTH} bytes (u16 data_length), got ${data.length}`,
    );
  }
}

export type Init<T extends PacketHeader> = Partial<PacketHeader> &
  Omit<T, keyof PacketHeader | 'tcode' | 'extendedTcode'> & {
    extendedTcode?: number;
  };

/** tcode 0: header, offset, 4 data bytes (16 bytes). */
export function encodeWriteQuadletRequest(p: Init<WriteQuadletRequest>): Uint8Array {
  return fillWriteQuadletRequest(p, new Uint8Array(16));
}

function fillWriteQuadletRequest(p: Init<WriteQuadletRequest>, out: Uint8Array): Uint8Array {
  checkQuadlet(p.data);
  writeHeader(out, 0, p);
  writeOffset(out, p.offset);
  out.set(p.data, 12);
  return out;
}

/** tcode 1: header, offset, data_length, extended_tcode, data (16 + N bytes). */
export function encodeWriteBlockRequest(p: Init<WriteBlockRequest>): Uint8Array {
  checkBlock(p.data);
  return fillWriteBlockRequest(p, new Uint8Array(16 + p.data.length));
}

/** Its callers check the data's length before allocating `out`. */
function fillWriteBlockRequest(p: Init<WriteBlockRequest>, out: Uint8Array): Uint8Array {
  writeHeader(out, 1, p);
  writeOffset(out, p.offset);
  writeU16(out, 12, 'data_length', p.data.length);
  writeU16(out, 14, 'extendedTcode', p.extendedTcode ?? 0);
  out.set(p.data, 16);
  return out;
}

/** tcode 2: header, rcode in byte 6 bits 7–4, reserved zeros (12 bytes). */
export function encodeWriteResponse(p: Init<WriteResponse>): Uint8Array {
  checkField('rcode', p.rcode, 15);
  const out = new Uint8Array(12);
  writeHeader(out, 2, p);
  out[6] = p.rcode << 4;
  return out;
}

/** tcode 4: header and offset only (12 bytes). */
export function encodeReadQuadletRequest(p: Init<ReadQuadletRequest>): Uint8Array {
  return fillReadQuadletRequest(p, new Uint8Array(12));
}

function fillReadQuadletRequest(p: Init<ReadQuadletRequest>, out: Uint8Array): Uint8Array {
  writeHeader(out, 4, p);
  writeOffset(out, p.offset);
  return out;
}

/** tcode 5: header, offset, data_length, extended_tcode (16 bytes). */
export function encodeReadBlockRequest(p: Init<ReadBlockRequest>): Uint8Array {
  return fillReadBlockRequest(p, new Uint8Array(16));
}

function fillReadBlockRequest(p: Init<ReadBlockRequest>, out: Uint8Array): Uint8Array {
  writeHeader(out, 5, p);
  writeOffset(out, p.offset);
  writeU16(out, 12, 'data_length', p.dataLength);
  writeU16(out, 14, 'extendedTcode', p.extendedTcode ?? 0);
  return out;
}

/** tcode 6: header, rcode, reserved, 4 data bytes (16 bytes). */
export function encodeReadQuadletResponse(p: Init<ReadQuadletResponse>): Uint8Array {
  checkField('rcode', p.rcode, 15);
  checkQuadlet(p.data);
  const out = new Uint8Array(16);
  writeHeader(out, 6, p);
  out[6] = p.rcode << 4;
  out.set(p.data, 12);
  return out;
}

/** tcode 7: header, rcode, reserved, data_length, extended_tcode, data (16 + N bytes). */
export function encodeReadBlockResponse(p: Init<ReadBlockResponse>): Uint8Array {
  checkField('rcode', p.rcode, 15);
  checkBlock(p.data);
  const out = new Uint8Array(16 + p.data.length);
  writeHeader(out, 7, p);
  out[6] = p.rcode << 4;
  writeU16(out, 12, 'data_length', p.data.length);
  writeU16(out, 14, 'extendedTcode', p.extendedTcode ?? 0);
  out.set(p.data, 16);
  return out;
}

/** A packet with an undefined tcode (3, 8–15): header and offset, 12 bytes (the simulator's reading). */
export function encodeUndefinedTcodePacket(p: HeaderInit & { tcode: number; offset: number }): Uint8Array {
  checkField('tcode', p.tcode, 15);
  const out = new Uint8Array(12);
  writeHeader(out, p.tcode, p);
  writeOffset(out, p.offset);
  return out;
}

/** A request to encode: one of the four request packets, header fields and `extendedTcode` defaulting to 0. */
export type RequestInit =
  | ({ tcode: 0 } & Init<WriteQuadletRequest>)
  | ({ tcode: 1 } & Init<WriteBlockRequest>)
  | ({ tcode: 4 } & Init<ReadQuadletRequest>)
  | ({ tcode: 5 } & Init<ReadBlockRequest>);

/** Encodes any of the four request packets (what a client sends). */
export function encodeRequest(request: RequestInit): Uint8Array {
  switch (request.tcode) {
    case 0:
      return encodeWriteQuadletRequest(request);
    case 1:
      return encodeWriteBlockRequest(request);
    case 4:
      return encodeReadQuadletRequest(request);
    case 5:
      return encodeReadBlockRequest(request);
  }
}

/** The size of the packet `encodeRequest` builds for `request`. */
export function requestBytes(request: RequestInit): number {
  return request.tcode === 1 ? 16 + request.data.length : request.tcode === 4 ? 12 : 16;
}

/**
 * `encodeRequest` into memory the caller allocated (`allocate(requestBytes(request))`): a transport
 * allocates where its socket writes from without another copy (Node's pooled memory: a small typed array
 * of V8's heap is moved to memory of its own on every socket write). Every byte of the packet is written.
 */
export function encodeRequestWith(request: RequestInit, allocate: (size: number) => Uint8Array): Uint8Array {
  // Checked before allocating: a block too long for data_length never gets memory.
  if (request.tcode === 1) checkBlock(request.data);
  const out = allocate(requestBytes(request));
  switch (request.tcode) {
    case 0:
      return fillWriteQuadletRequest(request, out);
    case 1:
      return fillWriteBlockRequest(request, out);
    case 4:
      return fillReadQuadletRequest(request, out);
    case 5:
      return fillReadBlockRequest(request, out);
  }
}

/** Encodes any packet. Header fields out of range throw RangeError; nothing is silently truncated. */
export function encodePacket(packet: OptoMmpPacket | UndefinedTcodePacket): Uint8Array {
  if ('undefinedTcode' in packet) return encodeUndefinedTcodePacket(packet);
  switch (packet.tcode) {
    case 0:
      return encodeWriteQuadletRequest(packet);
    case 1:
      return encodeWriteBlockRequest(packet);
    case 2:
      return encodeWriteResponse(packet);
    case 4:
      return encodeReadQuadletRequest(packet);
    case 5:
      return encodeReadBlockRequest(packet);
    case 6:
      return encodeReadQuadletResponse(packet);
    case 7:
      return encodeReadBlockResponse(packet);
  }
}
