import {
  concatBytes,
  DecodeError,
  EofError,
  encodeFrame,
  encodeFrameHeader,
  FrameDecoder,
  fromHex,
  fromLatin1,
  hexExcerpt,
  InvalidHexError,
  LabwireError,
  LimitExceededError,
  latin1,
  TimeoutError,
  toHex,
  viewOf,
} from '@labwire/framing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual, splitAt } from '../src/bytes';
import { isHex } from '../src/hex';

describe('strict hex', () => {
  it('round-trips any bytes, lowercase, identical to Buffer for valid input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const h = toHex(b);
        expect(h).toBe(Buffer.from(b).toString('hex'));
        expect(fromHex(h)).toEqual(b);
        expect(fromHex(h.toUpperCase())).toEqual(b);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects odd lengths and non-hex characters with the position (Buffer.from truncates silently)', () => {
    expect(Buffer.from('abc', 'hex').length).toBe(1); // the trap fromHex avoids
    expect(() => fromHex('abc')).toThrow(InvalidHexError);
    const e = (() => {
      try {
        fromHex('12zz');
      } catch (err) {
        return err;
      }
    })();
    expect(InvalidHexError.isInstance(e)).toBe(true);
    expect(DecodeError.isInstance(e)).toBe(true);
    expect((e as InvalidHexError).offset).toBe(2);
    expect((e as InvalidHexError).code).toBe('InvalidHex');
    expect(() => fromHex(' 1')).toThrow(/invalid hex character/);
    expect(() => fromHex('+1')).toThrow(InvalidHexError);
    expect(fromHex('').length).toBe(0);
    expect(isHex('00ff')).toBe(true);
    expect(isHex('0g')).toBe(false);
    expect(isHex('0')).toBe(false);
  });

  it('accepts separators only when asked', () => {
    expect(Array.from(fromHex('de ad:be ef', { ignore: ' :' }))).toEqual([0xde, 0xad, 0xbe, 0xef]);
    fc.assert(
      fc.property(fc.string(), (s) => {
        // Any string: either valid bytes or a typed error, never a silent truncation.
        try {
          const b = fromHex(s);
          expect(b.length * 2).toBe(s.length);
        } catch (e) {
          expect(InvalidHexError.isInstance(e)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('byte helpers', () => {
  it('latin1 is lossless both ways; non-byte characters are refused', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(fromLatin1(latin1(all))).toEqual(all);
    expect(() => fromLatin1('€')).toThrow(RangeError);
  });
  it('concat, equality, DataView honouring byteOffset, excerpts', () => {
    const joined = concatBytes([Uint8Array.of(1), Uint8Array.of(2, 3)]);
    expect(Array.from(joined)).toEqual([1, 2, 3]);
    expect(bytesEqual(joined, Uint8Array.of(1, 2, 3))).toBe(true);
    expect(bytesEqual(joined, Uint8Array.of(1, 2))).toBe(false);
    const inner = Uint8Array.of(9, 0, 0, 1, 0).subarray(1);
    expect(viewOf(inner).getUint32(0)).toBe(256);
    expect(hexExcerpt(new Uint8Array(30), 4)).toBe('00 00 00 00 … (+26 bytes)');
    expect(hexExcerpt(new Uint8Array(0))).toBe('(empty)');
  });
});

describe('errors', () => {
  it('brands are recognised across the hierarchy, with stable codes and causes', () => {
    const cause = new Error('root');
    const e = new TimeoutError('readUntil', 50, Uint8Array.of(0x4f, 0x4b), { cause });
    expect(e).toBeInstanceOf(Error);
    expect(LabwireError.isInstance(e)).toBe(true);
    expect(TimeoutError.isInstance(e)).toBe(true);
    expect(EofError.isInstance(e)).toBe(false);
    expect(e.code).toBe('Timeout');
    expect(e.isRetryable).toBe(true);
    expect(e.cause).toBe(cause);
    expect(e.message).toContain('4f 4b');
    expect(e.name).toBe('TimeoutError');
    expect(LabwireError.isInstance(new Error('x'))).toBe(false);
    expect(LabwireError.isInstance(null)).toBe(false);
    // A structurally foreign copy of the class (another package version) is recognised by its brand.
    const foreign = Object.create({
      [Symbol.for('labwire.error.TimeoutError')]: true,
      [Symbol.for('labwire.error.LabwireError')]: true,
    });
    expect(TimeoutError.isInstance(foreign)).toBe(true);
  });
  it('DecodeError carries offset and a hex excerpt around it', () => {
    const e = new DecodeError('unknown tcode 0x7', 3, Uint8Array.of(0, 1, 2, 0x70, 4));
    expect(e.offset).toBe(3);
    expect(e.message).toContain('at offset 3');
    expect(e.excerpt).toContain('70');
  });
});

describe('FrameDecoder', () => {
  const frames = [Uint8Array.of(1, 2, 3), new Uint8Array(0), new Uint8Array(300).fill(5)];
  const stream = concatBytes(frames.map(encodeFrame));

  it('decodes a stream cut at every split point', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new FrameDecoder();
      const got = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      expect(got).toEqual(frames);
      expect(d.pendingBytes).toBe(0);
      d.end();
    }
  });

  it('property: any payloads, any chunking, same frames', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (payloads, cuts) => {
          const s = concatBytes(payloads.map(encodeFrame));
          const d = new FrameDecoder({ maxBytes: 64 });
          const got = splitAt(
            s,
            cuts.map((c) => c % (s.length + 1)),
          ).flatMap((c) => d.push(c));
          expect(got.map((x) => Array.from(x))).toEqual(payloads.map((x) => Array.from(x)));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('fuzz: arbitrary bytes give frames or a typed error, never a throw of anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (junk) => {
        const d = new FrameDecoder({ maxBytes: 32 });
        try {
          d.push(junk);
          d.end();
        } catch (e) {
          expect(LimitExceededError.isInstance(e) || EofError.isInstance(e)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a hostile length raises before allocating, and the decoder stays failed', () => {
    const d = new FrameDecoder({ maxBytes: 1 << 20 });
    expect(() => d.push(Uint8Array.of(0xff, 0xff))).not.toThrow();
    expect(() => d.push(Uint8Array.of(0xff, 0xff))).toThrow(LimitExceededError);
    expect(() => d.push(Uint8Array.of(0))).toThrow(LimitExceededError);
  });

  it('frames completed before a bad header in the same chunk are delivered first', () => {
    const d = new FrameDecoder({ maxBytes: 4 });
    const chunk = concatBytes([
      encodeFrame(Uint8Array.of(1)),
      encodeFrame(Uint8Array.of(2, 3)),
      encodeFrameHeader(100),
    ]);
    expect(d.push(chunk).map((f) => Array.from(f))).toEqual([[1], [2, 3]]);
    expect(() => d.push(Uint8Array.of(0))).toThrow(LimitExceededError);
  });

  it('end() in the middle of a frame is EOF with the partial payload', () => {
    const d = new FrameDecoder();
    d.push(Uint8Array.of(0, 0, 0, 4, 9, 8));
    try {
      d.end();
      expect.unreachable();
    } catch (e) {
      expect(EofError.isInstance(e)).toBe(true);
      expect(Array.from((e as EofError).partial)).toEqual([9, 8]);
      expect((e as EofError).expected).toBe(4);
    }
  });

  it('encodeFrameHeader refuses lengths that do not fit in 32 bits', () => {
    expect(() => encodeFrameHeader(2 ** 32)).toThrow(RangeError);
    expect(() => encodeFrameHeader(-1)).toThrow(RangeError);
    expect(Array.from(encodeFrameHeader(258))).toEqual([0, 0, 1, 2]);
  });
});
