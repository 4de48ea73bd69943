// fast-check arbitraries for OptoMMP packets.

import fc from 'fast-check';
import type { OptoMmpPacket } from '../src/codec/packet';

const header = {
  destinationId: fc.integer({ min: 0, max: 0xffff }),
  tl: fc.integer({ min: 0, max: 63 }),
  rt: fc.integer({ min: 0, max: 3 }),
  pri: fc.integer({ min: 0, max: 15 }),
  sourceId: fc.integer({ min: 0, max: 0xffff }),
};
const offset = fc.integer({ min: 0, max: 0xffff_ffff_ffff });
const rcode = fc.integer({ min: 0, max: 15 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const quadlet = fc.uint8Array({ minLength: 4, maxLength: 4 });
const block = fc.uint8Array({ maxLength: 300 });

export const packetArb: fc.Arbitrary<OptoMmpPacket> = fc.oneof(
  fc.record({ ...header, tcode: fc.constant(0 as const), offset, data: quadlet }),
  fc.record({ ...header, tcode: fc.constant(1 as const), offset, extendedTcode: u16, data: block }),
  fc.record({ ...header, tcode: fc.constant(2 as const), rcode }),
  fc.record({ ...header, tcode: fc.constant(4 as const), offset }),
  fc.record({ ...header, tcode: fc.constant(5 as const), offset, dataLength: u16, extendedTcode: u16 }),
  fc.record({ ...header, tcode: fc.constant(6 as const), rcode, data: quadlet }),
  fc.record({ ...header, tcode: fc.constant(7 as const), rcode, extendedTcode: u16, data: block }),
);

/** Cuts `bytes` into chunks at the given (sorted, deduplicated) split points. */
export function cut(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of at) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  out.push(bytes.subarray(from));
  return out;
}
