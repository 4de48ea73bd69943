import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeControl, quote, safeText } from '../src/index';

// Anything a terminal acts on: C0, DEL, C1, and the bidi/zero-width format characters.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const ACTIVE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/u;

describe('escapeControl', () => {
  it('shows terminal controls as escapes and leaves printable text alone', () => {
    expect(escapeControl('odd = \x00\x00')).toBe('odd = \\x00\\x00');
    expect(escapeControl('\x1b[2J\x1b]0;owned\x07')).toBe('\\x1b[2J\\x1b]0;owned\\x07');
    expect(escapeControl('a\tb\r\nc')).toBe('a\\tb\\r\\nc');
    expect(escapeControl('\u009b31m C1 CSI')).toBe('\\x9b31m C1 CSI');
    expect(escapeControl('abc\u202edcba')).toBe('abc\\u{202e}dcba');
    expect(escapeControl('25 µm · Ω ✓ 日本')).toBe('25 µm · Ω ✓ 日本');
  });

  it('never lets a control character through, and changes nothing else (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = escapeControl(s);
        expect(ACTIVE.test(out)).toBe(false);
        if (!ACTIVE.test(s)) expect(out).toBe(s);
      }),
    );
  });

  it('safeText keeps line breaks; quote is unambiguous', () => {
    expect(safeText('line 1\nline\x1b 2')).toBe('line 1\nline\\x1b 2');
    expect(quote('say "hi"\\')).toBe('"say \\"hi\\"\\\\"');
    expect(quote('plain')).toBe(JSON.stringify('plain'));
  });
});
