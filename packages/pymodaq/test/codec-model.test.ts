// Profiles, layouts, refusals, the value model and explainFrame.

import { fromHex, toHex } from '@labwire/framing';
import {
  axis,
  dataToExport,
  decodeMessage,
  decodeValue,
  explainFrame,
  GENERATIONS,
  NdArray,
  resolveProfile,
  UnknownProfileError,
  UnknownTagError,
} from '@labwire/pymodaq/codec';
import { describe, expect, it } from 'vitest';
import { decodeFramePayload } from '../src/codec/decode';
import { parseDtype } from '../src/codec/dtype';
import { UnsupportedValueError } from '../src/codec/errors';
import {
  dataActuator,
  dataWithAxes,
  type PyScalar,
  pyDict,
  pyInt,
  pyScalar,
  pyTuple,
} from '../src/codec/values';
import { loadVectors } from './fixtures/codec-vectors';

const vectors = new Map(loadVectors().map((v) => [v.name, v]));
const hexOf = (name: string) => fromHex(vectors.get(name)!.hex!);

describe('resolveProfile', () => {
  it.each([
    ['1.6', 'A'],
    ['1.6.4', 'A'],
    ['2.0.0', 'A'],
    ['2.0.1', 'B'],
    ['3.6', 'B'],
    ['4.0.11', 'B'],
    ['4.1.0', 'C1'],
    ['4.1.2', 'C1'],
    ['4.1.3', 'C2'],
    ['4.1.5', 'C2'],
    ['4.2.0', 'C3'],
    ['4.3.7', 'C3'],
    ['4.4', 'C4'],
    ['4.4.5', 'C4'],
    ['v4.4.7', 'C4'],
    ['5', 'D'],
    ['5.0.2', 'D'],
    ['5.0.18.dev0', 'D'],
    ['c4', 'C4'],
    [' D ', 'D'],
  ])('%s -> %s', (spec, generation) => {
    const p = resolveProfile(spec);
    expect(p.generation).toBe(generation);
    expect(p.description).toContain(generation);
  });

  it.each(GENERATIONS)('generation letter %s', (g) => {
    expect(resolveProfile(g).generation).toBe(g);
    expect(resolveProfile(g).framed).toBe(g === 'D');
  });

  it.each(['C', '2.0', '4.1', '4', '1.5', '4.5', '6.0', 'latest', '', '4.4.x'])(
    '%j is refused with a reason',
    (spec) => {
      expect(() => resolveProfile(spec)).toThrow(UnknownProfileError);
    },
  );

  it('4.2.x has the C3 DataWithAxes but no bytes/parameter/dte list tags (they came in 4.3.0)', () => {
    const p42 = resolveProfile('4.2.1');
    const p43 = resolveProfile('4.3.0');
    expect(p42.generation).toBe('C3');
    expect(p42.listTags).not.toContain('bytes');
    expect(p43.listTags).toEqual(expect.arrayContaining(['bytes', 'parameter', 'dte', 'bool']));
    expect(() => p42.encodeTagged(Uint8Array.of(1))).toThrow(UnsupportedValueError);
    expect(toHex(p43.encodeTagged(Uint8Array.of(1)))).toBe(
      `00000005${Buffer.from('bytes').toString('hex')}0000000101`,
    );
    expect(() => decodeValue(p43.encodeTagged(Uint8Array.of(1)), p42, { kind: 'tagged' })).toThrow(
      UnknownTagError,
    );
  });
});

describe('DataWithAxes layouts C1–C4 and D', () => {
  const T = 1_700_000_000;
  const dwa = dataWithAxes('DataRaw', {
    name: 'spec',
    units: 'V',
    data: [NdArray.fromValues([1, 2])],
    errors: [NdArray.fromValues([0.1, 0.2])],
    extraAttributes: { gain: 2.5 },
    timestamp: T,
  });

  it('each layout sends only its fields; decoding gives them back and nothing else', () => {
    const back = (g: string) =>
      decodeValue(resolveProfile(g).encodeValue(dwa), resolveProfile(g), { kind: 'dwa' }) as typeof dwa;
    expect(back('C1')).toMatchObject({ units: '', errors: [], extraAttributes: [] });
    expect(back('C2')).toMatchObject({ units: '', errors: [], extraAttributes: [{ name: 'gain' }] });
    expect(back('C3')).toMatchObject({ units: '', extraAttributes: [{ name: 'gain' }] });
    expect(back('C3').errors).toHaveLength(1);
    expect(back('C4')).toMatchObject({ units: 'V', extraAttributes: [{ name: 'gain' }] });
    const d = decodeValue(resolveProfile('D').encodeValue(dwa), resolveProfile('D')) as typeof dwa;
    expect(d).toMatchObject({ units: 'V', name: 'spec', source: 'raw', dim: 'Data1D', labels: ['CH00'] });
    expect(d.errors[0]!.toNumbers()).toEqual([0.1, 0.2]);
    const sizes = ['C1', 'C2', 'C3', 'C4'].map((g) => resolveProfile(g).encodeValue(dwa).length);
    expect(sizes[0]! < sizes[1]! && sizes[1]! < sizes[2]! && sizes[2]! < sizes[3]!).toBe(true);
  });

  it('a position in C1–C3 has no units; in C4 and D it does', () => {
    for (const [g, units] of [
      ['C1', undefined],
      ['C3', undefined],
      ['C4', 'mm'],
      ['D', 'mm'],
    ] as const) {
      const p = resolveProfile(g);
      const pos = decodeMessage(p.encodePosition(-3.25, 'mm'), p, 'position').value;
      expect(pos.value).toBe(-3.25);
      expect(pos.units).toBe(units);
      expect(pos.data?.type).toBe('DataActuator');
    }
  });

  it('C1 knows no nested lists (the list tag came in 4.1.3)', () => {
    expect(() => resolveProfile('C1').encodeValue([['a']])).toThrow(UnsupportedValueError);
    const nested = resolveProfile('C2').encodeValue([['a']]);
    expect(() => decodeValue(nested, resolveProfile('C1'), { kind: 'list' })).toThrow(UnknownTagError);
    expect(decodeValue(nested, resolveProfile('C2'), { kind: 'list' })).toEqual([['a']]);
  });

  it('bad enum values and wrong field types are decode errors naming the field', () => {
    const bytes = resolveProfile('C4').encodeValue({ ...dwa, dim: 'Data9D' as never });
    expect(() => decodeValue(bytes, resolveProfile('C4'), { kind: 'dwa' })).toThrow(
      /DataRaw\.dim: dim "Data9D"/,
    );
    const d = resolveProfile('D');
    const withBadLabel = d.encodeValue({ ...dwa, labels: [pyInt(3) as never] });
    expect(() => decodeValue(withBadLabel, d)).toThrow(
      /DataRaw\.labels\[0\]: expected str, got scalar\(<i8\)/,
    );
  });
});

describe('encoders refuse what the generation cannot carry', () => {
  it.each([
    [
      'A',
      'a 3-D array',
      NdArray.fromValues([1, 2, 3, 4, 5, 6, 7, 8], { shape: [2, 2, 2] }),
      /at most 2 dimensions/,
    ],
    ['A', 'a list in a list', [['x']], /list item/],
    ['B', 'a complex scalar', pyScalar({ re: 1, im: 0 }, '<c16'), /Python int or float/],
    ['B', 'a numpy float32 scalar', pyScalar(1.5, '<f4'), /Python int or float/],
    ['B', 'bytes in a list', [Uint8Array.of(1)], /arrays, strings or scalars/],
    ['C4', 'None', null, /cannot encode None/],
    ['C4', 'a tuple', pyTuple('a'), /cannot encode tuple/],
    [
      'C4',
      'a DataFromRoi',
      dataWithAxes('DataFromRoi', { name: 'r', data: [1] }),
      /no DataWithAxes flavour DataFromRoi/,
    ],
    ['D', 'a numpy float32 scalar', pyScalar(1.5, '<f4'), /NotImplementedError/],
    ['D', 'a lone surrogate', 'a\ud800b', /lone surrogate/],
  ] as const)('%s: %s', (g, _what, value, message) => {
    expect(() => resolveProfile(g).encodeValue(value as never)).toThrow(UnsupportedValueError);
    expect(() => resolveProfile(g).encodeValue(value as never)).toThrow(message);
  });

  it('gen A Info carries a float; text that is no number is refused', () => {
    const a = resolveProfile('A');
    expect(toHex(a.encodeInfo('T', 1.5))).toBe('0000000154000000083ff8000000000000');
    expect(decodeMessage(a.encodeInfo('T', '21'), a, 'info').value).toEqual({ name: 'T', value: 21 });
    expect(() => a.encodeInfo('T', 'warm')).toThrow(UnsupportedValueError);
  });

  it('gen D: None, tuple, dict and ParameterWithPath round trip', () => {
    const d = resolveProfile('D');
    const value = pyDict([
      ['a', null],
      [pyInt(2), pyTuple('x', true)],
    ]);
    expect(decodeValue(d.encodeValue(value), d)).toEqual(value);
    expect(decodeFramePayload(d.encodeTagged('hi'), d)).toBe('hi');
    expect(() => decodeFramePayload(Uint8Array.of(1), resolveProfile('C4'))).toThrow(UnsupportedValueError);
  });
});

describe('numbers', () => {
  it('64-bit ints beyond 2^53 decode as bigint; smaller ones as numbers', () => {
    const d = resolveProfile('D');
    const big = decodeValue(d.encodeValue(2n ** 60n + 1n), d) as PyScalar;
    expect(big).toEqual({ type: 'scalar', dtype: '<i8', value: 2n ** 60n + 1n });
    expect((decodeValue(d.encodeValue(-(2n ** 40n)), d) as PyScalar).value).toBe(-(2 ** 40));
    expect(pyInt(2n ** 63n).dtype).toBe('<u8');
    expect(() => pyInt(2n ** 64n)).toThrow(RangeError);
    const u8 = NdArray.fromValues([2n ** 64n - 1n, 7n], { dtype: '>u8' });
    expect(u8.toArray()).toEqual([2n ** 64n - 1n, 7]);
  });

  it('dtype strings: byte order, kind and size; anything else is refused', () => {
    expect(parseDtype('>f8')).toMatchObject({ order: '>', kind: 'f', itemsize: 8, littleEndian: false });
    expect(parseDtype('|b1')).toMatchObject({ kind: 'b', itemsize: 1 });
    for (const bad of ['<U5', '|O', '<M8[ns]', '|f8', '<f16', '<i3', 'f8', ''])
      expect(parseDtype(bad)).toBeUndefined();
    const d = resolveProfile('C4');
    const weird = fromHex(`00000003${Buffer.from('<U5').toString('hex')}00000014`);
    expect(() => decodeValue(weird, d, { kind: 'scalar' })).toThrow(/unsupported numpy dtype "<U5"/);
  });
});

describe('NdArray', () => {
  it('typed(): a view for aligned host-order data, a converted copy otherwise', () => {
    const le = NdArray.fromValues([1.5, -2], { dtype: '<f8' });
    const view = le.typed();
    expect(view).toBeInstanceOf(Float64Array);
    expect(view.buffer).toBe(le.data.buffer);
    expect([...view]).toEqual([1.5, -2]);

    const be = decodeValue(hexOf('v4_arr_f8_big_endian'), resolveProfile('C4'), { kind: 'array' }) as NdArray;
    expect(be.dtype).toBe('>f8');
    expect([...(be.typed() as Float64Array)]).toEqual([1.5, -2]);
    expect(be.typed().buffer).not.toBe(be.data.buffer);

    const buf = new Uint8Array(17);
    buf.set(le.data, 1);
    const unaligned = new NdArray('<f8', [2], buf.subarray(1));
    expect([...(unaligned.typed() as Float64Array)]).toEqual([1.5, -2]);
  });

  it('complex, bool, half floats and N-d indexing', () => {
    const c = NdArray.fromValues([{ re: 1, im: -2 }], { dtype: '>c8' });
    expect(c.get(0)).toEqual({ re: 1, im: -2 });
    expect([...(c.typed() as Float32Array)]).toEqual([1, -2]);
    expect(() => c.toNumbers()).toThrow(RangeError);
    const b = NdArray.fromValues([true, false], { dtype: '|b1' });
    expect(b.toArray()).toEqual([true, false]);
    const h = NdArray.fromValues([1.5, -0.000061035156, 65504, 1e6], { dtype: '<f2' });
    expect(h.toNumbers()).toEqual([1.5, -0.00006103515625, 65504, Number.POSITIVE_INFINITY]);
    const m = NdArray.fromValues([0, 1, 2, 3, 4, 5], { dtype: '<i2', shape: [2, 3] });
    expect(m.at(1, 2)).toBe(5);
    expect(() => m.at(2, 0)).toThrow(RangeError);
    expect(m.reshape([3, 2]).at(2, 1)).toBe(5);
    expect(String(m)).toBe('NdArray(<i2, [2, 3], 0, 1, 2, 3, 4, 5)');
    expect(NdArray.fromTyped(new Int32Array([7, 8])).dtype).toBe('<i4');
    expect(NdArray.scalar(3).shape).toEqual([]);
  });

  it('refuses data that does not match the shape, and values that do not fit', () => {
    expect(() => new NdArray('<f8', [2], new Uint8Array(8))).toThrow(/do not match shape/);
    expect(() => NdArray.fromValues([300], { dtype: '|u1' })).toThrow(/does not fit/);
    expect(() => NdArray.fromValues([1.5], { dtype: '<i4' })).toThrow(/needs an integer/);
  });
});

describe('detector data', () => {
  it('B accepts scalar items as 0-d channels', () => {
    const b = resolveProfile('B');
    const data = decodeMessage(b.encodeValue([NdArray.fromValues([1, 2, 3]), 4.5]), b, 'detector').value;
    expect(data.data.map((c) => [c.dim, c.data[0]!.shape])).toEqual([
      ['Data1D', [3]],
      ['Data0D', []],
    ]);
  });

  it('C/D channels keep axes, units and flavour', () => {
    const d = resolveProfile('D');
    const ax = axis({ label: 'x', units: 'mm', data: [0, 1, 2] });
    const bytes = d.encodeDetectorData(
      dataToExport({
        name: 'cam',
        data: [
          dataWithAxes('DataRaw', {
            name: 'line',
            dim: 'Data1D',
            data: [NdArray.fromValues([5, 6, 7])],
            units: 'counts',
            axes: [ax],
          }),
        ],
      }),
    );
    const back = decodeMessage(bytes, d, 'detector').value;
    expect(back.name).toBe('cam');
    expect(back.data[0]).toMatchObject({
      name: 'line',
      units: 'counts',
      type: 'DataRaw',
      labels: ['CH00'],
      origin: 'cam',
    });
    expect(back.data[0]!.axes[0]!.label).toBe('x');
  });
});

describe('explainFrame', () => {
  it('C4 Done + DataToExport: two messages, every field annotated, JSON-able', () => {
    const e = explainFrame(hexOf('v4_seq_done_dte'), resolveProfile('C4'));
    expect(e.error).toBeUndefined();
    expect(e.unexplained).toBeUndefined();
    expect(e.messages.map((m) => [m.part, m.offset])).toEqual([
      ['command', 0],
      ['detector', 8],
    ]);
    expect(e.messages[0]!.value).toBe('Done');
    expect(e.fields[0]).toMatchObject({
      offset: 0,
      length: 8,
      hex: '00000004446f6e65',
      meaning: 'str "Done"',
    });
    expect(e.fields.some((f) => f.field === 'DataToExport.data[0].DataFromPlugins.timestamp')).toBe(true);
    expect(JSON.parse(JSON.stringify(e))).toEqual(e);
  });

  it('D frames explain themselves; a class-name start is read as that object in C', () => {
    const d = explainFrame(hexOf('v5_seq_move_abs'), resolveProfile('D'));
    expect(d.messages.map((m) => m.part)).toEqual(['value', 'value']);
    expect((d.messages[1]!.value as { units: string }).units).toBe('mm');
    const c = explainFrame(hexOf('v4_data_actuator'), resolveProfile('C4'));
    expect(c.messages[0]!.part).toBe('value:dwa');
    expect(c.fields.find((f) => f.field === 'DataActuator.units')?.meaning).toBe('str "mm"');
  });

  it('stops on an error or an unknown command and says where', () => {
    const bad = Uint8Array.from(hexOf('v5_data_actuator'));
    bad[11] = 0x41; // the tag "DataActuator" becomes "DataActuatAr"
    const e = explainFrame(bad, resolveProfile('D'));
    expect(e.error).toMatchObject({ name: 'UnknownTagError', code: 'PymodaqUnknownTag', offset: 4 });
    const c = resolveProfile('C4');
    const u = explainFrame(Uint8Array.from([...c.encodeCommand('frobnicate'), 1, 2, 3]), c);
    expect(u.messages[0]!.value).toBe('frobnicate');
    expect(u.unexplained).toEqual({ offset: 14, length: 3, hex: '010203' });
  });

  it('explicit parts: gen A Info, gen A lists with an item kind', () => {
    const a = resolveProfile('A');
    expect(explainFrame(a.encodeInfo('T', 2), a, { part: 'info' }).messages[0]!.value).toEqual({
      name: 'T',
      value: 2,
    });
    const list = explainFrame(hexOf('v1_list_of_arrays'), a, {
      part: 'value',
      kind: 'list',
      itemKind: 'array',
    });
    expect(list.messages[0]!.value).toEqual([
      { ndarray: '<f8', shape: [], wireShape: [1, 1], values: [0.5] },
      { ndarray: '<f8', shape: [2], wireShape: [2, 1], values: [1, 2] },
    ]);
    expect(explainFrame(a.encodePosition(1), a, { part: 'position' }).messages[0]!.value).toEqual({
      value: 1,
    });
    expect(dataActuator(1).name).toBe('actuator');
  });
});
