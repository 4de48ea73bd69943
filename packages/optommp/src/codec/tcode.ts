// OptoMMP transaction codes (byte 3, bits 7–4) and the packet sizes they imply (docs/protocols/optommp.md §2.2).

/** The seven transaction codes OptoMMP defines. 3 and 8–15 are not used by the protocol. */
export const Tcode = {
  WriteQuadletRequest: 0,
  WriteBlockRequest: 1,
  WriteResponse: 2,
  ReadQuadletRequest: 4,
  ReadBlockRequest: 5,
  ReadQuadletResponse: 6,
  ReadBlockResponse: 7,
} as const;

export type Tcode = (typeof Tcode)[keyof typeof Tcode];
export type RequestTcode = 0 | 1 | 4 | 5;
export type ResponseTcode = 2 | 6 | 7;

/** Human names, as the developer tutorial and the Wireshark dissector call the packets. */
export const TCODE_NAMES: Readonly<Record<number, string>> = {
  0: 'write quadlet request',
  1: 'write block request',
  2: 'write response',
  4: 'read quadlet request',
  5: 'read block request',
  6: 'read quadlet response',
  7: 'read block response',
};

/** The name of a tcode, or `undefined tcode n` for the unused values. */
export function tcodeName(tcode: number): string {
  return TCODE_NAMES[tcode] ?? `undefined tcode ${tcode}`;
}

export function isDefinedTcode(tcode: number): tcode is Tcode {
  return tcode in TCODE_NAMES;
}

export function isRequestTcode(tcode: number): tcode is RequestTcode {
  return tcode === 0 || tcode === 1 || tcode === 4 || tcode === 5;
}

export function isResponseTcode(tcode: number): tcode is ResponseTcode {
  return tcode === 2 || tcode === 6 || tcode === 7;
}

/** The response tcode a request is answered with: 0/1 → 2 (one write response for both), 4 → 6, 5 → 7. */
export function responseTcodeFor(request: RequestTcode): ResponseTcode {
  return request === 4 ? 6 : request === 5 ? 7 : 2;
}

/** Bytes in the common header (destination_ID, tl/rt, tcode/pri, source_ID). */
export const COMMON_HEADER_BYTES = 6;
/** The shortest packets (write response, read quadlet request) end after the 48-bit offset / reserved bytes. */
export const MIN_PACKET_BYTES = 12;
/** Header size of the block packets (tcodes 1 and 7); `data_length` data bytes follow. */
export const BLOCK_HEADER_BYTES = 16;
/** Largest `data_length` a packet can state: the field is a u16 (docs/protocols/optommp.md §2.7). */
export const MAX_DATA_LENGTH = 0xffff;

/**
 * Fixed packet size for a tcode: 16 for 0, 5 and 6; 12 for 2 and 4; for 1 and 7 the 16-byte header (the
 * caller adds `data_length`). `undefined` for tcodes OptoMMP does not define.
 */
export function fixedPacketBytes(tcode: number): number | undefined {
  switch (tcode) {
    case 2:
    case 4:
      return 12;
    case 0:
    case 1:
    case 5:
    case 6:
    case 7:
      return 16;
    default:
      return undefined;
  }
}

/** True for the two tcodes whose packets carry `data_length` data bytes after a 16-byte header. */
export function hasDataBlock(tcode: number): tcode is 1 | 7 {
  return tcode === 1 || tcode === 7;
}
