import { toHex } from '@labwire/framing';
import {
  checkResponse,
  DeviceError,
  decodePacket,
  encodePacket,
  encodeReadBlockRequest,
  offsetOf,
} from '@labwire/optommp/codec';
import { describe, expect, it } from 'vitest';
import type { DecodedPacket } from '../src/codec/decode';
import {
  encodeReadQuadletRequest,
  encodeWriteBlockRequest,
  encodeWriteQuadletRequest,
} from '../src/codec/encode';
import { isRequest, type OptoMmpPacket, type OptoMmpRequest } from '../src/codec/packet';
import { expectationFor } from '../src/codec/validate';
import { readF32, readI32, readU32 } from '../src/codec/values';
import { type AnnotatedPacket, annotations, bytesOf, vector, vectors } from './vectors';

function expectMatches(packet: DecodedPacket, a: AnnotatedPacket, bytes: Uint8Array): void {
  expect(packet.tcode).toBe(a.tcode);
  expect(packet.tl).toBe(a.tl);
  expect(packet.sourceId).toBe(a.sourceId);
  expect(bytes.length).toBe(a.bytes);
  if (a.offset !== undefined) expect('offset' in packet && packet.offset).toBe(a.offset);
  if (a.rcode !== undefined) expect('rcode' in packet && packet.rcode).toBe(a.rcode);
  if (a.dataLength !== undefined) {
    const len =
      'dataLength' in packet ? packet.dataLength : 'data' in packet ? packet.data.length : undefined;
    expect(len).toBe(a.dataLength);
  }
  if (a.data !== undefined) expect('data' in packet && toHex(packet.data)).toBe(a.data);
}

describe('every shared vector: parse, generate, mirror', () => {
  it('has the vector file', () => {
    expect(vectors.length).toBeGreaterThan(20);
    // The annotation reader itself: fields of V01 and V36 as their meaning states them.
    expect(annotations(vector('V01'))).toEqual({
      request: { tcode: 5, tl: 0, sourceId: 0, offset: 0xfffff030010c, dataLength: 4, bytes: 16 },
      response: { tcode: 7, tl: 0, sourceId: 0, rcode: 0, dataLength: 4, data: '00000001', bytes: 20 },
    });
    expect(annotations(vector('V36')).request).toMatchObject({ tcode: 4, tl: 5, bytes: 12 });
  });

  for (const v of vectors) {
    describe(v.name, () => {
      const a = annotations(v);
      const request = bytesOf(v.request_hex);

      it('parses the request into the fields its meaning states', () => {
        const packet = decodePacket(request, { undefinedTcodes: 'header' });
        expectMatches(packet, a.request, request);
        expect(packet.destinationId).toBe(0);
      });

      it('mirrors the request byte for byte', () => {
        expect(toHex(encodePacket(decodePacket(request, { undefinedTcodes: 'header' })))).toBe(v.request_hex);
      });

      if (v.response_hex !== null) {
        const response = bytesOf(v.response_hex);
        it('parses the response into the fields its meaning states', () => {
          const packet = decodePacket(response);
          expectMatches(packet, a.response!, response);
        });
        it('mirrors the response byte for byte', () => {
          expect(toHex(encodePacket(decodePacket(response)))).toBe(v.response_hex);
        });
        it('validates the response against its request as docs/protocols/optommp.md §2.11 says', () => {
          const req = decodePacket(request, { undefinedTcodes: 'header' });
          const res = decodePacket(response);
          if (!('undefinedTcode' in req) && isRequest(req)) {
            const expectation = expectationFor(req as OptoMmpRequest);
            if ('rcode' in res && res.rcode !== 0) {
              const err = (() => {
                try {
                  checkResponse(res, expectation);
                } catch (e) {
                  return e;
                }
                return undefined;
              })();
              expect(DeviceError.isInstance(err)).toBe(true);
              expect((err as DeviceError).deviceCode).toBe(0xe000 + res.rcode);
            } else {
              const data = checkResponse(res, expectation);
              expect(data.length).toBe('data' in res ? res.data.length : 0);
            }
          }
        });
      }
    });
  }
});

// Annotated fixtures: a comment per field, built with the generators (generate) and compared with the
// shared bytes; the decoder must give the same objects back (parse).
describe('annotated fixtures', () => {
  const fixtures: { name: string; packet: OptoMmpPacket; bytes: (p: OptoMmpPacket) => Uint8Array }[] = [
    {
      name: 'V01',
      packet: {
        destinationId: 0, // bytes 0–1
        tl: 0, // byte 2 bits 7–2
        rt: 0, // byte 2 bits 1–0
        tcode: 5, // byte 3 bits 7–4: read block request
        pri: 0, // byte 3 bits 3–0
        sourceId: 0, // bytes 4–5
        offset: offsetOf(0xf030010c), // bytes 6–11: FFFF F030010C (uptime)
        dataLength: 4, // bytes 12–13
        extendedTcode: 0, // bytes 14–15
      },
      bytes: (p) => encodeReadBlockRequest(p as Parameters<typeof encodeReadBlockRequest>[0]),
    },
    {
      name: 'V36',
      packet: {
        destinationId: 0,
        tl: 5, // 0x14 = 5 << 2
        rt: 0,
        tcode: 4, // read quadlet request: 12 bytes, no data_length
        pri: 0,
        sourceId: 0,
        offset: offsetOf(0xf030010c),
      },
      bytes: (p) => encodeReadQuadletRequest(p as Parameters<typeof encodeReadQuadletRequest>[0]),
    },
    {
      name: 'V39',
      packet: {
        destinationId: 0,
        tl: 3,
        rt: 0,
        tcode: 0, // write quadlet request
        pri: 0,
        sourceId: 0,
        offset: offsetOf(0xf0380000), // status-write operation code
        data: Uint8Array.of(0, 0, 0, 1), // 1 = Powerup Clear
      },
      bytes: (p) => encodeWriteQuadletRequest(p as Parameters<typeof encodeWriteQuadletRequest>[0]),
    },
    {
      name: 'V42',
      packet: {
        destinationId: 0,
        tl: 6,
        rt: 0,
        tcode: 1, // write block request
        pri: 0,
        sourceId: 0,
        offset: offsetOf(0xf0d82000), // float scratch pad [0]
        extendedTcode: 0,
        data: Uint8Array.of(0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0), // 1.0, -2.0
      },
      bytes: (p) => encodeWriteBlockRequest(p as Parameters<typeof encodeWriteBlockRequest>[0]),
    },
  ];
  for (const f of fixtures) {
    it(`${f.name}: generate gives the shared request bytes, parse gives the fixture`, () => {
      const v = vector(f.name);
      expect(toHex(f.bytes(f.packet))).toBe(v.request_hex);
      expect(decodePacket(bytesOf(v.request_hex))).toEqual(f.packet);
    });
  }
});

describe('the correct interpretations of the vectors', () => {
  const data = (name: string) => {
    const v = vector(name);
    const res = decodePacket(bytesOf(v.response_hex!));
    return checkResponse(res, expectationFor(decodePacket(bytesOf(v.request_hex)) as OptoMmpRequest));
  };
  it('reads numbers big-endian (V13 12.5, V14 -1.25, V17 4242, V23 3.14)', () => {
    expect(readF32(data('V13'))).toBe(12.5);
    expect(readF32(data('V14'))).toBe(-1.25);
    expect(readI32(data('V17'))).toBe(4242);
    expect(readF32(data('V23'))).toBeCloseTo(3.14, 6);
    expect(readU32(data('A2'))).toBe(501699);
    expect(readU32(data('R3'))).toBe(0xf030024c);
  });
  it('gives the NAKs as device errors 0xE00n', () => {
    for (const [name, code] of [
      ['V30', 0xe005],
      ['V33', 0xe004],
      ['V34', 0xe004],
      ['V43', 0xe005],
    ] as const) {
      expect(() => data(name)).toThrowError(expect.objectContaining({ deviceCode: code, code: 'DeviceNak' }));
    }
  });
});
