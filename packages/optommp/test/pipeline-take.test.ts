// readBuffered: the pipelined read loop takes a reply whose header is buffered with one read into its
// reused memory (at once when all of it is there, the rest straight from the next chunks otherwise), and
// leaves anything short of a header (or anything while a read is in line) to the pull reader.

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
import { isPlainRead, readBuffered, writePlainRead } from '../src/pipeline';

const tick = () => new Promise((resolve) => setImmediate(resolve));

function reply(tl: number, data: number[]): Uint8Array {
  return encodeReadBlockResponse({ tl, rcode: 0, data: Uint8Array.from(data) });
}

describe('readBuffered', () => {
  it('takes whole buffered packets at once, and a packet cut after its header with one read', async () => {
    const source = new PassThrough();
    const reader = new ByteReader(source);
    const third = reply(3, [7, 8, 9, 10]);
    const bytes = Uint8Array.from([
      ...reply(1, [1, 2, 3, 4]),
      ...encodeWriteResponse({ tl: 2, rcode: 0 }),
      ...third.subarray(0, 17),
    ]);
    source.write(bytes);
    await tick();
    const read = { into: new Uint8Array(64), timeoutMs: 1000 };
    const first = readBuffered(reader, read);
    if (!(first instanceof Uint8Array)) throw new Error('not at once');
    expect(toHex(first)).toBe(toHex(reply(1, [1, 2, 3, 4])));
    // A view of the reused memory, not a copy of its own.
    expect(first.buffer).toBe(read.into.buffer);
    const second = readBuffered(reader, read);
    if (!(second instanceof Uint8Array)) throw new Error('not at once');
    expect(toHex(second)).toBe(toHex(encodeWriteResponse({ tl: 2, rcode: 0 })));
    // 17 bytes of the third: its length is known, the rest comes with the next chunk.
    const last = readBuffered(reader, read);
    expect(last).toBeInstanceOf(Promise);
    expect(reader.pending).toBe(1);
    source.write(third.subarray(17));
    expect(toHex(await last!)).toBe(toHex(third));
    expect(reader.buffered).toBe(0);
    reader.close();
  });

  it('leaves a packet short of its length to the pull reader, and one behind a read in line', async () => {
    const source = new PassThrough();
    const reader = new ByteReader(source);
    const read = { into: new Uint8Array(64), timeoutMs: 1000 };
    // 13 bytes of a block reply: its data_length (bytes 12-13) has not arrived.
    source.write(reply(1, [1, 2, 3, 4]).subarray(0, 13));
    await tick();
    expect(readBuffered(reader, read)).toBeUndefined();
    expect(reader.buffered).toBe(13);
    const inLine = reader.readExactly(200, { timeoutMs: 1000 });
    source.write(reply(1, [1, 2, 3, 4]).subarray(13));
    await tick();
    expect(readBuffered(reader, read)).toBeUndefined();
    reader.close();
    await expect(inLine).rejects.toBeInstanceOf(Error);
  });

  it('gives a packet larger than the reused memory memory of its own', async () => {
    const source = new PassThrough();
    const reader = new ByteReader(source);
    const big = reply(
      1,
      Array.from({ length: 100 }, (_, i) => i),
    );
    source.write(big);
    await tick();
    const read = { into: new Uint8Array(64), timeoutMs: 1000 };
    const packet = readBuffered(reader, read);
    if (!(packet instanceof Uint8Array)) throw new Error('not at once');
    expect(packet.buffer).not.toBe(read.into.buffer);
    expect(toHex(packet)).toBe(toHex(big));
    expect(reader.buffered).toBe(0);
    reader.close();
  });

  it('a header that cannot start a packet raises DecodeError, as the pull reader does', async () => {
    const source = new PassThrough();
    const reader = new ByteReader(source);
    source.write(Uint8Array.from([0, 0, 4, 0xf0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    await tick();
    expect(() => readBuffered(reader, { into: new Uint8Array(64), timeoutMs: 1000 })).toThrow(DecodeError);
    expect(reader.buffered).toBe(14);
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
