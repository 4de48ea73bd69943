// Round trips per profile: decode(encode(v)) gives v back for generated values, and re-encoding the
// decoded value reproduces the bytes (also for shapes the receiver squeezes, thanks to wireShape).

import { concatBytes, toHex } from '@labwire/framing';
import {
  dataFromPlugins,
  dataToExport,
  decodeValue,
  GENERATIONS,
  type Generation,
  NdArray,
  resolveProfile,
  type WireProfile,
} from '@labwire/pymodaq/codec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  arbNdArray,
  arbTaggedC,
  arbValueA,
  arbValueB,
  arbValueD,
  canonical,
} from './fixtures/codec-arbitraries';

const RUNS = { numRuns: 150 };

describe('round trips: decode(encode(v)) = v', () => {
  it('A: strings, scalars, rows x cols arrays and untagged lists of one kind', () => {
    const p = resolveProfile('A');
    fc.assert(
      fc.property(arbValueA, ({ value, read }) => {
        const bytes = p.encodeValue(value);
        expect(canonical(decodeValue(bytes, p, read))).toEqual(canonical(value));
      }),
      RUNS,
    );
  });

  it('B: tagged items and lists', () => {
    const p = resolveProfile('B');
    fc.assert(
      fc.property(arbValueB, ({ value, read }) => {
        const bytes = read.kind === 'tagged' ? p.encodeTagged(value) : p.encodeValue(value);
        expect(canonical(decodeValue(bytes, p, read))).toEqual(canonical(value));
      }),
      RUNS,
    );
  });

  it.each(['C1', 'C2', 'C3', 'C4'] as const)('%s: tagged objects of that layout', (g) => {
    const p = resolveProfile(g);
    fc.assert(
      fc.property(arbTaggedC(g), (value) => {
        const bytes = p.encodeTagged(value);
        expect(canonical(decodeValue(bytes, p, { kind: 'tagged' }))).toEqual(canonical(value));
      }),
      { numRuns: 100 },
    );
  });

  it('D: any value, nested, in one frame', () => {
    const p = resolveProfile('D');
    fc.assert(
      fc.property(arbValueD, (value) => {
        const bytes = p.encodeValue(value);
        expect(new DataView(bytes.buffer).getUint32(0)).toBe(bytes.length - 4);
        expect(canonical(decodeValue(bytes, p))).toEqual(canonical(value));
      }),
      RUNS,
    );
  });
});

describe('re-encoding a decoded array reproduces the bytes, whatever its shape', () => {
  const anyShape = fc
    .record({
      dtype: fc.constantFrom('<f8', '>i4', '|u1'),
      shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 4 }),
    })
    .chain(({ dtype, shape }) => {
      const n = shape.reduce((a, b) => a * b, 1) * Number(dtype.slice(2));
      return fc.uint8Array({ minLength: n, maxLength: n }).map((data) => new NdArray(dtype, shape, data));
    });

  it.each(['B', 'C4', 'D'] as Generation[])('%s (squeeze or atleast_1d applied on decode)', (g) => {
    const p = resolveProfile(g);
    fc.assert(
      fc.property(anyShape, (array) => {
        const bytes = p.encodeValue(array);
        const decoded = decodeValue(bytes, p, { kind: 'array' }) as NdArray;
        expect(toHex(p.encodeValue(decoded))).toBe(toHex(bytes));
        const expectedShape =
          g === 'B' ? array.shape.filter((d) => d !== 1) : array.ndim === 0 ? [1] : array.shape;
        expect(decoded.shape).toEqual(expectedShape);
      }),
      RUNS,
    );
  });

  it('A (up to 2-D; nrow x ncol, squeezed on decode)', () => {
    const p = resolveProfile('A');
    fc.assert(
      fc.property(
        arbNdArray('CD').filter((a) => a.ndim <= 2),
        (array) => {
          const bytes = p.encodeValue(array);
          const decoded = decodeValue(bytes, p, { kind: 'array' }) as NdArray;
          expect(toHex(p.encodeValue(decoded))).toBe(toHex(bytes));
          expect(toHex(decoded.data)).toBe(toHex(array.data));
        },
      ),
      RUNS,
    );
  });
});

describe('encodeDetectorDataParts (part of WireProfile)', () => {
  it.each(GENERATIONS)('%s: the parts join to encodeDetectorData; large arrays are not copied', (g) => {
    const p: WireProfile = resolveProfile(g);
    const image = NdArray.fromTyped(
      new Float64Array(4096).map((_, i) => i),
      [64, 64],
    );
    const small = NdArray.fromValues([1, 2, 3]);
    const data = dataToExport({
      name: 'tcp',
      timestamp: 1_700_000_000,
      data: [
        dataFromPlugins({ name: 'camera', dim: 'Data2D', data: [image], timestamp: 1_700_000_000 }),
        dataFromPlugins({ name: 'line', dim: 'Data1D', data: [small], timestamp: 1_700_000_000 }),
      ],
    });
    const parts = p.encodeDetectorDataParts(data);
    expect(toHex(concatBytes(parts))).toBe(toHex(p.encodeDetectorData(data)));
    expect(parts).toContain(image.data);
  });
});
