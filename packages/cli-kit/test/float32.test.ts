import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { float32Shortest, formatFloat32 } from '../src/index';

describe('float32 at float32 precision', () => {
  it('drops the float64 digits a float32 never had', () => {
    expect(formatFloat32(Math.fround(3.476798))).toBe('3.476798');
    expect(formatFloat32(3.4767980575561523)).toBe('3.476798');
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat32(12.5)).toBe('12.5');
    expect(formatFloat32(Math.fround(6.978075))).toBe('6.978075');
    expect(formatFloat32(Math.fround(-2.5e-7))).toBe('-2.5e-7');
    expect(formatFloat32(Number.NaN)).toBe('NaN');
    expect(formatFloat32(Number.NEGATIVE_INFINITY)).toBe('-Infinity');
    expect(formatFloat32(3.4028234663852886e38)).toBe('3.4028235e+38');
  });

  it('round-trips every float32 and is never longer than 9 significant digits (property)', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true }), (f) => {
        const shortest = float32Shortest(f);
        expect(Object.is(Math.fround(shortest), Math.fround(f))).toBe(true);
        // Significant digits of the shortest decimal (toExponential() prints exactly those).
        const digits = shortest.toExponential().replace(/^-/, '').replace(/e.*$/, '').replace('.', '');
        expect(digits.length).toBeLessThanOrEqual(9);
        // No shorter decimal maps to the same float32.
        if (Number.isFinite(f) && f !== 0 && digits.length > 1) {
          const fewer = Number(Math.fround(f).toPrecision(digits.length - 1));
          expect(Math.fround(fewer)).not.toBe(Math.fround(f));
        }
      }),
    );
  });
});
