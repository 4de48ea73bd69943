// Property tests: round trips of arbitrary packets under arbitrary chunking, and hostile input (any bytes)
// that must end in a packet or a typed error, never a hang or a crash.

import { ByteReader, concatBytes, LabwireError, toHex } from '@labwire/framing';
import { decodePacket, encodePacket, PacketDecoder, readPacket } from '@labwire/optommp/codec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cut, packetArb } from './arbitraries';

async function* chunks(parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}

describe('round trips', () => {
  it('encode → decode gives the packet back', () => {
    fc.assert(
      fc.property(packetArb, (p) => {
        expect(decodePacket(encodePacket(p))).toEqual(p);
      }),
      { numRuns: 300 },
    );
  });

  it('a stream of packets decodes the same under any chunking (push)', () => {
    fc.assert(
      fc.property(
        fc.array(packetArb, { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (ps, points) => {
          const stream = concatBytes(ps.map(encodePacket));
          const d = new PacketDecoder();
          const got = cut(stream, points).flatMap((c) => d.push(c));
          expect(got).toEqual(ps);
          expect(d.buffered).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a stream of packets decodes the same under any chunking (pull)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(packetArb, { maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (ps, points) => {
          const stream = concatBytes(ps.map(encodePacket));
          const reader = new ByteReader(chunks(cut(stream, points)));
          for (const p of ps) expect(await readPacket(reader, { timeoutMs: 1000 })).toEqual(p);
          reader.close();
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('hostile input', () => {
  const anyBytes = fc.uint8Array({ maxLength: 200 });

  it('decodePacket: any bytes give a packet or a typed LabwireError', () => {
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        try {
          const p = decodePacket(bytes, { undefinedTcodes: 'header' });
          expect(toHex(encodePacket(p))).toBe(toHex(bytes));
        } catch (e) {
          expect(LabwireError.isInstance(e)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('PacketDecoder: packets it returns re-encode to exactly the bytes consumed; errors are typed', () => {
    fc.assert(
      fc.property(
        anyBytes,
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.integer({ min: 0, max: 512 }),
        (bytes, points, max) => {
          const d = new PacketDecoder({ maxDataLength: max });
          const out: Uint8Array[] = [];
          let error: unknown;
          for (const c of cut(bytes, points)) {
            try {
              out.push(...d.push(c).map(encodePacket));
            } catch (e) {
              error = e;
              break;
            }
          }
          if (error !== undefined) expect(LabwireError.isInstance(error)).toBe(true);
          const consumed = concatBytes(out);
          expect(toHex(bytes.subarray(0, consumed.length))).toBe(toHex(consumed));
          // Nothing is lost: what was not returned is still buffered (unless an error stopped the feed early).
          if (error === undefined) expect(consumed.length + d.buffered).toBe(bytes.length);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('readPacket: any bytes then EOF settle with a packet or a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(anyBytes, fc.array(fc.nat(), { maxLength: 4 }), async (bytes, points) => {
        const reader = new ByteReader(chunks(cut(bytes, points)));
        for (let i = 0; i < 50; i++) {
          try {
            await readPacket(reader, { timeoutMs: 2000, maxDataLength: 256 });
          } catch (e) {
            expect(LabwireError.isInstance(e)).toBe(true);
            break;
          }
        }
        reader.close();
      }),
      { numRuns: 150 },
    );
  });

  it('never allocates what a hostile data_length claims beyond the limit', () => {
    // A write block request claiming 65 535 bytes, with a limit of 2048: refused from the header alone.
    const d = new PacketDecoder({ maxDataLength: 2048 });
    expect(() =>
      d.push(Uint8Array.from([0, 0, 0, 0x10, 0, 0, 0xff, 0xff, 0xf0, 0, 0, 0, 0xff, 0xff])),
    ).toThrowError(expect.objectContaining({ code: 'LimitExceeded', actual: 0xffff, limit: 2048 }));
  });
});
