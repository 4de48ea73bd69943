// The bridge's translation between generations, without sockets: arrays cross by reference (never
// copied), values survive every pair of generations (fast-check), and what a generation cannot carry is
// listed.

import {
  axis,
  type DataToExport,
  dataFromPlugins,
  dataToExport,
  dataWithAxes,
  decodeMessage,
  type Generation,
  NdArray,
  resolveProfile,
} from '@labwire/pymodaq/codec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { translateDetectorData } from '../src/bridge-translate';
import { ALL } from './helpers';

/** What crosses the wire: encoded by `from`, decoded by `from` (views of the received bytes). */
function received(data: DataToExport, from: Generation): DataToExport {
  const p = resolveProfile(from);
  return decodeMessage(p.encodeDetectorData(data), p, 'detector').value;
}

function squeeze(shape: readonly number[]): number[] {
  return shape.filter((d) => d !== 1);
}

const PAIRS = ALL.flatMap((x) => ALL.map((y): [Generation, Generation] => [x, y]));

describe('arrays cross by reference', () => {
  it.each(PAIRS)('%s -> %s: the encoded message holds the received image bytes themselves', (x, y) => {
    const pixels = Float64Array.from({ length: 256 * 256 }, (_, i) => i);
    const sent = dataToExport({
      name: 'tcp',
      data: [dataFromPlugins({ name: 'camera', data: [NdArray.fromTyped(pixels, [256, 256])] })],
    });
    const got = received(sent, x);
    const source = got.data[0]!.data[0]!.data;
    const t = translateDetectorData(got, resolveProfile(x), resolveProfile(y));
    expect(t.lost).toEqual([]);
    const out = t.data!.data[0]!.data[0]!.data;
    expect(out.buffer).toBe(source.buffer);
    expect(out.byteOffset).toBe(source.byteOffset);
    const parts = resolveProfile(y).encodeDetectorDataParts(t.data!);
    expect(parts.some((p) => p.buffer === source.buffer && p.byteOffset === source.byteOffset)).toBe(true);
  });
});

const DTYPES = ['<f8', '>f8', '<f4', '>i4', '<i2', '|u1', '<u2', '|b1', '<c16', '<i8'];

/** A value that fits the dtype (and round-trips exactly). */
function element(dtype: string, n: number): number | boolean | { re: number; im: number } | bigint {
  if (dtype === '|b1') return n % 2 === 0;
  if (dtype === '<c16') return { re: n, im: -n };
  if (dtype === '<i8') return BigInt(n);
  if (dtype === '|u1') return n & 0xff;
  if (dtype === '<u2') return n & 0xffff;
  if (dtype === '<i2') return (n & 0x7fff) - 0x4000;
  if (dtype === '>i4') return n * 1000 - 7;
  return n / 4;
}

const arbArray = fc
  .record({
    dtype: fc.constantFrom(...DTYPES),
    shape: fc.oneof(
      fc.tuple(fc.integer({ min: 1, max: 5 })).map((s) => [...s]),
      fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).map((s) => [...s]),
    ),
    seed: fc.integer({ min: 0, max: 1000 }),
  })
  .map(({ dtype, shape, seed }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return NdArray.fromValues(
      Array.from({ length: size }, (_, i) => element(dtype, seed + i)),
      { dtype, shape },
    );
  });

const arbData = fc
  .array(
    fc.record({
      name: fc.string({ maxLength: 8 }),
      arrays: fc.array(arbArray, { minLength: 1, maxLength: 2 }),
    }),
    { minLength: 1, maxLength: 3 },
  )
  .map((channels) =>
    dataToExport({
      name: 'tcp',
      timestamp: 1_700_000_000,
      data: channels.map((c) => dataFromPlugins({ name: c.name, data: c.arrays, timestamp: 1_700_000_000 })),
    }),
  );

describe('values survive every pair of generations', () => {
  it('random DataToExport (dtypes, 1-D and 2-D, channels): the same arrays arrive', () => {
    fc.assert(
      fc.property(arbData, fc.constantFrom(...PAIRS), (data, [x, y]) => {
        const px = resolveProfile(x);
        const py = resolveProfile(y);
        const t = translateDetectorData(received(data, x), px, py);
        const arrived = received(t.data!, y);
        const arrays = (d: DataToExport) =>
          d.data.flatMap((w) =>
            w.data.map((a) => ({
              dtype: a.dtype,
              shape: squeeze(a.shape),
              hex: Buffer.from(a.data).toString('hex'),
            })),
          );
        expect(arrays(arrived)).toEqual(arrays(data));
      }),
      { numRuns: 300 },
    );
  });
});

describe('what a generation cannot carry is listed', () => {
  const full = dataToExport({
    name: 'tcp',
    type: 'DataScan',
    extraAttributes: { run: 'r1' },
    data: [
      dataWithAxes('DataFromRoi', {
        name: 'roi',
        units: 'V',
        data: [NdArray.fromValues([1, 2, 3, 4], { dtype: '<f8', shape: [2, 2] })],
        errors: [NdArray.fromValues([0, 0, 0, 0], { dtype: '<f8', shape: [2, 2] })],
        axes: [axis({ label: 'x', units: 'mm', data: [1, 2], index: 1 })],
        extraAttributes: { gain: 3, note: null },
      }),
    ],
  });
  const lostFor = (to: Generation, axesAsMessages = false) =>
    translateDetectorData(full, resolveProfile('D'), resolveProfile(to), { axesAsMessages }).lost.join('; ');

  it('C1: class, units, errors, attributes', () => {
    const lost = lostFor('C1');
    expect(lost).toMatch(/DataFromRoi/);
    expect(lost).toMatch(/units \(V\)/);
    expect(lost).toMatch(/error arrays/);
    expect(lost).toMatch(/C1 has none/);
    expect(lost).toMatch(/class DataScan/);
    expect(lost).toMatch(/extra attributes of the DataToExport/);
  });

  it('C3 keeps errors and attributes it can encode, not units nor None', () => {
    const lost = lostFor('C3');
    expect(lost).toMatch(/units \(V\)/);
    expect(lost).not.toMatch(/error arrays/);
    expect(lost).toMatch(/"note"/);
    expect(lost).not.toMatch(/"gain"/);
  });

  it('C4 and D', () => {
    expect(lostFor('C4')).not.toMatch(/units/);
    expect(lostFor('D')).toBe('');
  });

  it('B: units, errors, attributes; axes unless sent as x_axis / y_axis', () => {
    expect(lostFor('B')).toMatch(/axes of "roi"/);
    const t = translateDetectorData(full, resolveProfile('D'), resolveProfile('B'), { axesAsMessages: true });
    expect(t.lost.join('; ')).not.toMatch(/axes/);
    expect(t.axes.x?.label).toBe('x');
    expect(t.lost.join('; ')).toMatch(
      /units of "roi" \(V\).*error arrays.*extra attributes of "roi" \(gain, note\)/,
    );
  });

  it('A/B sources with declared axes: attached by dimension for C/D targets', () => {
    const image = NdArray.fromValues([1, 2, 3, 4, 5, 6], { dtype: '<f8', shape: [2, 3] });
    const line = NdArray.fromValues([1, 2, 3], { dtype: '<f8', shape: [3] });
    const data = received(
      dataToExport({ name: '', data: [dataFromPlugins({ name: 'a', data: [image, line] })] }),
      'B',
    );
    const x = { values: NdArray.fromValues([0, 1, 2]), label: 'x', units: 'mm' };
    const y = { values: NdArray.fromValues([5, 6]), label: 'y', units: 'mm' };
    const t = translateDetectorData(data, resolveProfile('B'), resolveProfile('D'), { declared: { x, y } });
    expect(t.data!.data.map((d) => d.axes.map((a) => `${a.label}${a.index}`))).toEqual([
      ['y0', 'x1'],
      ['x0'],
    ]);
  });
});
