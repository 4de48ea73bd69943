import { InvalidBinDataError, InvalidEscapeError } from '@labwire/bus';
import { fromLatin1, latin1 } from '@labwire/framing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byteCountArg, timeoutArgMs } from '../src/arguments';
import { decodeBinData, encodeBinData } from '../src/bin-data';
import { EOT_NEEDED_MESSAGE, parseEotList } from '../src/eot';
import { InvalidArgumentError, InvalidEotError, InvalidIdError } from '../src/errors';
import {
  decodeEscapes,
  encodeEscapes,
  INVALID_X_ESCAPE_MESSAGE,
  TRAILING_BACKSLASH_MESSAGE,
} from '../src/escapes';
import { classifyExpectPattern, ExpectWindow, pyrameExpect } from '../src/expect-window';
import { canonicalLinkId } from '../src/link-id';
import { stripTextMode, textModeString } from '../src/text-mode';

const bytes = (...b: number[]) => Uint8Array.from(b);
const ascii = (s: string) => fromLatin1(s);

describe('decodeEscapes: Python 2 string_escape (docs/protocols/cmd_tcp.md §7.1)', () => {
  it.each([
    ['TEST', 'TEST'],
    ['*IDN?\\n', '*IDN?\n'],
    ['a\\\\b', 'a\\b'],
    ['\\\'\\"', '\'"'],
    ['\\a\\b\\t\\n\\v\\f\\r', '\x07\x08\x09\x0a\x0b\x0c\x0d'],
    ['\\x41\\x7e\\xFF', 'A~\xff'],
    ['\\0', '\x00'],
    ['\\101', 'A'],
    ['\\1234', 'S4'],
    ['\\7', '\x07'],
    ['\\08', '\x008'],
    ['\\777', '\xff'], // octal modulo 256, as Python 2 stores it in one char
    ['a\\\nb', 'ab'], // backslash-newline: line continuation
    ['\\q\\8\\9\\z', '\\q\\8\\9\\z'], // unknown escapes stay as written
    ['\\\\n', '\\n'],
  ])('%j -> %j', (text, want) => {
    expect(latin1(decodeEscapes(text))).toBe(want);
  });

  it('\\e is ESC (0x1B): documented by Pyrame, not implemented there (Q7, a deliberate superset)', () => {
    expect(decodeEscapes('\\e[2J')).toEqual(bytes(0x1b, 0x5b, 0x32, 0x4a));
  });

  it('characters outside escapes are UTF-8', () => {
    expect(decodeEscapes('µ\\n')).toEqual(bytes(0xc2, 0xb5, 0x0a));
    expect(decodeEscapes('µ')).toEqual(bytes(0xc2, 0xb5));
  });

  it.each([
    ['\\x4', INVALID_X_ESCAPE_MESSAGE, 0],
    ['ab\\x', INVALID_X_ESCAPE_MESSAGE, 2],
    ['\\xg0', INVALID_X_ESCAPE_MESSAGE, 0],
    ['abc\\', TRAILING_BACKSLASH_MESSAGE, 3],
    ['\\\\\\', TRAILING_BACKSLASH_MESSAGE, 2],
  ])('%j is refused with %j (Q8: a typed error, not a crash)', (text, message, offset) => {
    try {
      decodeEscapes(text);
      expect.unreachable();
    } catch (e) {
      expect(InvalidEscapeError.isInstance(e)).toBe(true);
      expect((e as InvalidEscapeError).pyrameMessage).toBe(message);
      expect((e as InvalidEscapeError).offset).toBe(offset);
      expect((e as InvalidEscapeError).code).toBe('InvalidEscape');
    }
  });

  it('property: decodeEscapes(encodeEscapes(b)) == b for any bytes, commas included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (b, comma) => {
        const text = encodeEscapes(b, { comma });
        expect(decodeEscapes(text)).toEqual(b);
        if (comma) expect(text).not.toContain(',');
      }),
      { numRuns: 300 },
    );
  });

  it('property: text without a backslash is its own UTF-8 bytes', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 32 }).filter((s) => !s.includes('\\')),
        (s) => {
          expect(decodeEscapes(s)).toEqual(new TextEncoder().encode(s));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('property: any text decodes or raises InvalidEscapeError', () => {
    const text = fc.string({ unit: fc.constantFrom(...'\\x0a7Fe\nq'.split('')), maxLength: 12 });
    fc.assert(
      fc.property(text, (s) => {
        try {
          decodeEscapes(s);
        } catch (e) {
          expect(InvalidEscapeError.isInstance(e)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('bin data (docs/protocols/cmd_tcp.md §7.3, Q13)', () => {
  it('encodes lowercase, high nibble first, in stream order', () => {
    expect(encodeBinData(ascii('TESTTEST\n'))).toBe('54455354544553540a');
    expect(encodeBinData(bytes(0xab, 0x01))).toBe('ab01');
  });

  it('decodes upper and lower case; the empty string is 0 bytes', () => {
    expect(decodeBinData('544553540a')).toEqual(ascii('TEST\n'));
    expect(decodeBinData('ABcd')).toEqual(bytes(0xab, 0xcd));
    expect(decodeBinData('')).toEqual(bytes());
  });

  it("an odd length gives Pyrame's message", () => {
    const e = (() => {
      try {
        decodeBinData('abc');
      } catch (err) {
        return err as InvalidBinDataError;
      }
      throw new Error('no error');
    })();
    expect(InvalidBinDataError.isInstance(e)).toBe(true);
    expect(e.code).toBe('InvalidHex');
    expect(e.pyrameMessage).toBe('data must have a length multiple of 2. Current length: 3');
  });

  it.each([
    ['zz', "invalid literal for int() with base 16: 'zz'", 0],
    ['00g1', "invalid literal for int() with base 16: 'g1'", 2],
    [' 1', "invalid literal for int() with base 16: ' 1'", 0], // Python's int() takes it; labwire does not
    ['+1', "invalid literal for int() with base 16: '+1'", 0],
    ['0x', "invalid literal for int() with base 16: '0x'", 1],
  ])('%j is refused: %s', (hex, message, offset) => {
    try {
      decodeBinData(hex);
      expect.unreachable();
    } catch (e) {
      expect(InvalidBinDataError.isInstance(e)).toBe(true);
      expect((e as InvalidBinDataError).pyrameMessage).toBe(message);
      expect((e as InvalidBinDataError).offset).toBe(offset);
    }
  });

  it('property: decode(encode(b)) == b, also from upper case', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        const hex = encodeBinData(b);
        expect(hex).toMatch(/^([0-9a-f]{2})*$/);
        expect(decodeBinData(hex)).toEqual(b);
        expect(decodeBinData(hex.toUpperCase())).toEqual(b);
      }),
      { numRuns: 200 },
    );
  });

  it('property: any string is strict hex (decoded exactly) or refused; never truncated', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFgx +-'.split('')), maxLength: 12 }),
        (s) => {
          const strict = /^([0-9a-fA-F]{2})*$/.test(s);
          try {
            const b = decodeBinData(s);
            expect(strict).toBe(true);
            expect(b.length).toBe(s.length / 2);
            expect(encodeBinData(b)).toBe(s.toLowerCase());
          } catch (e) {
            expect(strict).toBe(false);
            expect(InvalidBinDataError.isInstance(e)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('text mode (docs/protocols/cmd_tcp.md §7.2, Q11)', () => {
  it('deletes every NUL, LF and CR, wherever they are', () => {
    expect(textModeString(ascii('\x00A\r\nB\nC\r\x00'))).toBe('ABC');
    expect(textModeString(ascii('TESTTEST\n'))).toBe('TESTTEST');
  });

  it('keeps every other byte, and returns the input when nothing is stripped', () => {
    const b = bytes(1, 9, 0x7f, 0xff);
    expect(stripTextMode(b)).toBe(b);
  });

  it('property: the result is the input without 00/0a/0d, in order', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect([...stripTextMode(b)]).toEqual([...b].filter((x) => x !== 0 && x !== 10 && x !== 13));
      }),
      { numRuns: 200 },
    );
  });
});

describe('eot lists (docs/protocols/cmd_tcp.md §8)', () => {
  it('splits on "," before unescaping; a literal comma is \\x2c', () => {
    expect(parseEotList('\\r\\n,\\n')).toEqual([bytes(13, 10), bytes(10)]);
    expect(parseEotList('E')).toEqual([ascii('E')]);
    expect(parseEotList('\\x2c,;')).toEqual([ascii(','), ascii(';')]);
  });

  it('takes bytes and arrays of single patterns too', () => {
    expect(parseEotList(bytes(0, 1))).toEqual([bytes(0, 1)]);
    expect(parseEotList(['a,b', bytes(3)])).toEqual([ascii('a,b'), bytes(3)]);
  });

  it('"" and "undef" need an eot (Pyrame message)', () => {
    for (const eot of ['', 'undef']) {
      try {
        parseEotList(eot);
        expect.unreachable();
      } catch (e) {
        expect(InvalidEotError.isInstance(e)).toBe(true);
        expect((e as InvalidEotError).pyrameMessage).toBe(EOT_NEEDED_MESSAGE);
        expect((e as InvalidEotError).code).toBe('InvalidEot');
      }
    }
  });

  it('an empty piece is an error (Q14: Pyrame accepts it and matches erratically)', () => {
    for (const eot of ['E,', ',E', 'a,,b', '\\\n']) expect(() => parseEotList(eot)).toThrow(InvalidEotError);
    expect(() => parseEotList([])).toThrow(InvalidEotError);
  });

  it('property: a list built with encodeEscapes(…, {comma}) parses back to its patterns', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }),
        (list) => {
          const text = list.map((p) => encodeEscapes(p, { comma: true })).join(',');
          fc.pre(text !== 'undef');
          expect(parseEotList(text)).toEqual(list);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("expect window: Pyrame's matcher (docs/protocols/cmd_tcp.md §9)", () => {
  it('an empty pattern and an all-NUL pattern match before reading', () => {
    expect(pyrameExpect(bytes(), ascii('xyz'))).toBe(0);
    expect(pyrameExpect(bytes(0, 0), ascii('xyz'))).toBe(0);
    expect(classifyExpectPattern(bytes())).toBe('immediate');
    expect(classifyExpectPattern(bytes(0))).toBe('immediate');
  });

  it('a NUL-free pattern is an exact tail match that skips NUL bytes in the stream', () => {
    expect(pyrameExpect(ascii('OK'), ascii('xxOKyy'))).toBe(4);
    expect(pyrameExpect(ascii('OK'), ascii('xxO\x00\x00Kyy'))).toBe(6);
    expect(pyrameExpect(ascii('OK'), ascii('ok'))).toBe(-1);
    expect(classifyExpectPattern(ascii('OK'))).toBe('tail');
  });

  it('a pattern mixing NUL and other bytes only matches through the initial padding', () => {
    expect(classifyExpectPattern(bytes(0, 0x41))).toBe('mixed');
    expect(pyrameExpect(bytes(0, 0x41), ascii('A'))).toBe(1);
    expect(pyrameExpect(bytes(0, 0x41), ascii('BA'))).toBe(-1);
    expect(pyrameExpect(bytes(0x41, 0, 0x42), ascii('A\x00B'))).toBe(-1);
  });

  it('ExpectWindow stays matched', () => {
    const w = new ExpectWindow(ascii('ab'));
    expect(w.push(0x61)).toBe(false);
    expect(w.push(0x62)).toBe(true);
    expect(w.push(0x63)).toBe(true);
  });

  it('property: for a NUL-free pattern, the match ends at the first occurrence in the NUL-free stream', () => {
    const small = fc.uint8Array({ maxLength: 40 }).map((b) => b.map((x) => x % 4));
    const pattern = fc.uint8Array({ minLength: 1, maxLength: 3 }).map((b) => b.map((x) => (x % 3) + 1));
    fc.assert(
      fc.property(pattern, small, (p, s) => {
        const consumed = pyrameExpect(p, s);
        const kept: number[] = [];
        let want = -1;
        for (let i = 0; i < s.length && want < 0; i++) {
          if (s[i] === 0) continue;
          kept.push(s[i]!);
          if (kept.length >= p.length && p.every((v, j) => kept[kept.length - p.length + j] === v))
            want = i + 1;
        }
        expect(consumed).toBe(want);
      }),
      { numRuns: 300 },
    );
  });
});

describe('arguments', () => {
  it('link ids: whole numbers in any Python int() spelling are one id; names stay as they are', () => {
    expect(canonicalLinkId(7)).toBe('7');
    expect(canonicalLinkId('007')).toBe('7');
    expect(canonicalLinkId(' +7 ')).toBe('7');
    expect(canonicalLinkId('-0')).toBe('0');
    expect(canonicalLinkId('dmm')).toBe('dmm');
    expect(canonicalLinkId('12345678901234567890')).toBe('12345678901234567890');
    expect(() => canonicalLinkId('')).toThrow(InvalidIdError);
    expect(() => canonicalLinkId(1.5)).toThrow(InvalidIdError);
  });

  it('timeouts: undef/empty mean the default; seconds otherwise; 0 allowed; junk refused', () => {
    expect(timeoutArgMs(undefined, 60_000)).toBe(60_000);
    expect(timeoutArgMs('undef', 2500)).toBe(2500);
    expect(timeoutArgMs('', 2500)).toBe(2500);
    expect(timeoutArgMs('0.25', 2500)).toBe(250);
    expect(timeoutArgMs(1, 2500)).toBe(1000);
    expect(timeoutArgMs(0, 2500)).toBe(0);
    for (const bad of ['x', '-1', 'inf', 'nan', Number.POSITIVE_INFINITY, -0.5]) {
      expect(() => timeoutArgMs(bad, 1)).toThrow(InvalidArgumentError);
    }
  });

  it('byte counts: Python int() spellings, whole numbers >= 0', () => {
    expect(byteCountArg('9')).toBe(9);
    expect(byteCountArg(' 9 ')).toBe(9);
    expect(byteCountArg(0)).toBe(0);
    for (const bad of ['x', '1.5', -1, 1.5, ''])
      expect(() => byteCountArg(bad)).toThrow(InvalidArgumentError);
    try {
      byteCountArg('x');
    } catch (e) {
      expect((e as InvalidArgumentError).pyrameMessage).toBe("invalid literal for int() with base 10: 'x'");
    }
  });
});
