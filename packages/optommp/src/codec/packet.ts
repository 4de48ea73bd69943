// The seven OptoMMP packets as data (docs/protocols/optommp.md §2). Field names follow the Wireshark dissector and the 1394
// heritage: destination_ID, tl, rt, tcode, pri, source_ID, destination_offset, data_length, extended_tcode,
// rcode.

/** Bytes 0–5, shared by every packet. */
export interface PacketHeader {
  /** Bytes 0–1. 0 in every known request; real devices answer 0, the labwire simulator the source_ID. */
  readonly destinationId: number;
  /** Transaction label, byte 2 bits 7–2 (0–63). Echoed by the device. */
  readonly tl: number;
  /** Retry code, byte 2 bits 1–0 (always 0 in practice). */
  readonly rt: number;
  /** Priority, byte 3 bits 3–0 (always 0 in practice). */
  readonly pri: number;
  /** Bytes 4–5. 0 by default; devices are expected to echo it. */
  readonly sourceId: number;
}

/** tcode 0, 16 bytes: one quadlet written at `offset`. */
export interface WriteQuadletRequest extends PacketHeader {
  readonly tcode: 0;
  /** The 48-bit destination offset: `FFFF` followed by the 32-bit memory-map address. */
  readonly offset: number;
  /** Exactly 4 bytes. */
  readonly data: Uint8Array;
}

/** tcode 1, 16 + N bytes: `data` written from `offset` on. */
export interface WriteBlockRequest extends PacketHeader {
  readonly tcode: 1;
  readonly offset: number;
  /** Bytes 14–15; 0 in requests. */
  readonly extendedTcode: number;
  /** `data_length` (bytes 12–13) is `data.length`, 0–65 535. */
  readonly data: Uint8Array;
}

/** tcode 2, 12 bytes: answers both write requests. */
export interface WriteResponse extends PacketHeader {
  readonly tcode: 2;
  /** Byte 6 bits 7–4: 0 = ACK, else NAK. */
  readonly rcode: number;
}

/** tcode 4, 12 bytes: the packet ends after the offset. */
export interface ReadQuadletRequest extends PacketHeader {
  readonly tcode: 4;
  readonly offset: number;
}

/** tcode 5, 16 bytes. */
export interface ReadBlockRequest extends PacketHeader {
  readonly tcode: 5;
  readonly offset: number;
  /** Bytes 12–13: how many bytes to read, 0–65 535 (any length, not only multiples of 4). */
  readonly dataLength: number;
  /** Bytes 14–15; 0 in requests. */
  readonly extendedTcode: number;
}

/** tcode 6, 16 bytes. A NAKed quadlet read carries zero data. */
export interface ReadQuadletResponse extends PacketHeader {
  readonly tcode: 6;
  readonly rcode: number;
  /** Exactly 4 bytes. */
  readonly data: Uint8Array;
}

/** tcode 7, 16 + N bytes. A NAKed block read is a bare 16-byte header with data_length 0. */
export interface ReadBlockResponse extends PacketHeader {
  readonly tcode: 7;
  readonly rcode: number;
  /** Bytes 14–15: don't-care in responses (a B3000-ENET put junk there), kept for byte-exact re-encoding. */
  readonly extendedTcode: number;
  readonly data: Uint8Array;
}

/**
 * A packet with a tcode OptoMMP does not define (3, 8–15). Its length is unknowable; labwire reads it as a
 * 12-byte header + offset, the simulator's convention (docs/protocols/optommp.md §2.6, vector V46). Decoded only on request.
 */
export interface UndefinedTcodePacket extends PacketHeader {
  /** One of the tcodes OptoMMP leaves undefined. */
  readonly tcode: 3 | 8 | 9 | 10 | 11 | 12 | 13 | 14 | 15;
  readonly offset: number;
  readonly undefinedTcode: true;
}

/** The tcodes OptoMMP leaves undefined. */
export type UndefinedTcode = UndefinedTcodePacket['tcode'];

export type OptoMmpRequest = WriteQuadletRequest | WriteBlockRequest | ReadQuadletRequest | ReadBlockRequest;
export type OptoMmpResponse = WriteResponse | ReadQuadletResponse | ReadBlockResponse;
export type OptoMmpPacket = OptoMmpRequest | OptoMmpResponse;

/** Header fields every builder accepts; all default to 0. */
export type HeaderInit = Partial<PacketHeader>;

/** The high 16 bits of every destination offset real clients send (docs/protocols/optommp.md §2.3). */
export const OFFSET_PREFIX = 0xffff_0000_0000;
/** The largest 48-bit offset. */
export const MAX_OFFSET = 0xffff_ffff_ffff;

/** The 48-bit destination offset of a 32-bit memory-map address (`FFFF` + address). */
export function offsetOf(address: number): number {
  if (!Number.isInteger(address) || address < 0 || address > 0xffff_ffff) {
    throw new RangeError(`address must be a 32-bit unsigned integer, got ${address}`);
  }
  return OFFSET_PREFIX + address;
}

/** The 32-bit memory-map address inside a 48-bit offset (its low 32 bits). */
export function addressOf(offset: number): number {
  return offset % 0x1_0000_0000;
}

/** The high 16 bits of a 48-bit offset (0xFFFF for every mapped address). */
export function offsetPrefixOf(offset: number): number {
  return Math.floor(offset / 0x1_0000_0000);
}

/** The Wireshark reading of destination_ID: bit 15 a flag, bits 14–0 a boot_ID (meaning unknown). */
export function splitDestinationId(destinationId: number): { flag: boolean; bootId: number } {
  return { flag: (destinationId & 0x8000) !== 0, bootId: destinationId & 0x7fff };
}

export function isRequest(packet: OptoMmpPacket): packet is OptoMmpRequest {
  return packet.tcode === 0 || packet.tcode === 1 || packet.tcode === 4 || packet.tcode === 5;
}

export function isResponse(packet: OptoMmpPacket): packet is OptoMmpResponse {
  return packet.tcode === 2 || packet.tcode === 6 || packet.tcode === 7;
}
