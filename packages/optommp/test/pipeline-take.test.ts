// takeBuffered: the pipelined read loop takes replies that are whole in the reader's buffer at once, and
// leaves anything short of a whole packet (or anything while a read is in line) to the pull reader.

import { PassThrough } from 'node:stream';
import { ByteReader, DecodeError, toHex } from '@labwire/framing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeReadBlockResponse,
  encodeRequest,
  encodeWriteResponse,
  type RequestInit,
} from '../src/codec/encode';
import { isPlainRead, takeBuffered, writePlainRead } from '../src/pipeline';

const tick = () => new Promise((resolve) => setImmediate(resolve));

function reply(tl: number, data: number[]): Uint8Array {
  return encodeReadBlockResponse({ tl, rcode: 0, data: Uint8Array.from(data) });
}

describe('takeBuffered', () => {
  it('takes whole buffered packets one by one and leaves a partial one', async () => {
    const source = new PassThrough();
    const reader = new ByteReader(source);
    const third = reply(3, [7, 8, 9, 10]);
    const bytes = Uint8Array.from([
      ...reply(1, [1, 2, 3, 4]),
      ...encodeWriteResponse({ tl: 2, rcode: 0 }),
      ...third.subarray(0, 10),
    ]);
    source.write(bytes);
    await tick();
    const read = { into: new Uint8Array(64), timeoutMs: 1000 };
    const first = takeBuffered(reader, read);
    expect(first).toMatchObject({ tcode: 7, tl: 1 });
    if (first === undefined || first instanceof Promise || first.tcode !== 7) throw new Error('no packet');
    expect(toHex(first.data)).toBe('01020304');
    expect(takeBuffered(reader, read)).toMatchObject({ tcode: 2, tl: 2 });
    // 10 bytes of the third: not whole, nothing consumed.
    expect(takeBuffered(reader, read)).toBeUndefined();
    expect(reader.buffered).toBe(10);
    source.write(third.subarray(10));
    await tick();
    const last = takeBuffered(reader, read);
    if (last === undefined || last instanceof Promise || last.tcode !== 7) throw new Error('no packet');
    expect(last.tl).toBe(3);
    expect(toHex(last.data)).toBe('0708090a');
    expect(reader.buffered).toBe(0);
    reader.close();
  });

  it('leaves a packet larger than the destination, or one behind a read in line, to the pull reader', async () => {
    const source = new PassThrough();
    const reader = new ByteReader(source);
    source.write(
      reply(
        1,
        Array.from({ length: 100 }, (_, i) => i),
      ),
    );
    await tick();
    expect(takeBuffered(reader, { into: new Uint8Array(64), timeoutMs: 1000 })).toBeUndefined();
    expect(reader.buffered).toBe(116);
    const inLine = reader.readExactly(200, { timeoutMs: 1000 });
    expect(takeBuffered(reader, { into: new Uint8Array(256), timeoutMs: 1000 })).toBeUndefined();
    reader.close();
    await expect(inLine).rejects.toBeInstanceOf(Error);
  });

  it('a header that cannot start a packet raises DecodeError, as the pull reader does', async () => {
    const source = new PassThrough();
    const reader = new ByteReader(source);
    source.write(Uint8Array.from([0, 0, 4, 0xf0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    await tick();
    expect(() => takeBuffered(reader, { into: new Uint8Array(64), timeoutMs: 1000 })).toThrow(DecodeError);
    reader.close();
  });
});

describe('writePlainRead', () => {
  it('writes the bytes the codec encoder makes for any plain read request', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(4 as const, 5 as const),
        fc.integer({ min: 0, max: 63 }),
        fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
        fc.integer({ min: 0, max: 0xffff_ffff_ffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 8 }),
        (tcode, tl, sourceId, offset, dataLength, at) => {
          const request: RequestInit =
            tcode === 5 ? { tcode, offset, sourceId, dataLength } : { tcode, offset, sourceId };
          expect(isPlainRead(request)).toBe(true);
          const out = new Uint8Array(at + 16).fill(0xee);
          const end = writePlainRead(out, at, request, tl);
          const want = encodeRequest({ ...request, tl });
          expect(end).toBe(at + want.length);
          expect(toHex(out.subarray(at, end))).toBe(toHex(want));
        },
      ),
    );
  });

  it('leaves requests with other fields or values out of range to the encoder', () => {
    expect(isPlainRead({ tcode: 5, offset: 0, dataLength: 4, pri: 1 })).toBe(false);
    expect(isPlainRead({ tcode: 5, offset: 0, dataLength: 0x1_0000 })).toBe(false);
    expect(isPlainRead({ tcode: 4, offset: -1 })).toBe(false);
    expect(isPlainRead({ tcode: 4, offset: 0, sourceId: 0x1_0000 })).toBe(false);
    expect(isPlainRead({ tcode: 1, offset: 0, data: new Uint8Array(4) })).toBe(false);
  });
});
