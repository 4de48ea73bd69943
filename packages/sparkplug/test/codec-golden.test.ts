// Golden bytes, one annotated fixture driving three tests (parse, generate, mirror), plus the array
// encodings of Sparkplug B 3.0 §6.4.17 and the signed/64-bit cases that Tahu JS gets wrong.

import { fromHex, toHex } from '@labwire/framing';
import {
  DataType,
  decodePayload,
  encodePayload,
  type Payload,
  PayloadDecodeError,
} from '@labwire/sparkplug/codec';
import { describe, expect, it } from 'vitest';

/** A DDATA-like payload, byte by byte. */
const FIXTURE_HEX = [
  '08 e8 07', //                 Payload.timestamp (1, varint) = 1000
  '12 11', //                    Payload.metrics (2, len 17): Metric {
  '  0a 02 69 38', //              name (1) = "i8"
  '  10 07', //                    alias (2) = 7
  '  18 e9 07', //                 timestamp (3) = 1001
  '  20 01', //                    datatype (4) = 1 Int8
  '  50 ff ff ff ff 0f', //        int_value (10, uint32) = 0xFFFFFFFF: Int8 −1 as 32-bit two's complement
  '12 14', //                    Payload.metrics (2, len 20): Metric {
  '  0a 03 75 36 34', //           name = "u64"
  '  20 08', //                    datatype = 8 UInt64
  '  28 01', //                    is_historical (5) = true
  '  58 ff ff ff ff ff ff ff ff ff 01', // long_value (11) = 2^64 − 1
  '12 0e', //                    Payload.metrics (2, len 14): Metric {
  '  0a 01 64', //                 name = "d"
  '  20 0a', //                    datatype = 10 Double
  '  69 00 00 00 00 00 00 f8 3f', // double_value (13, fixed64 LE) = 1.5
  '12 07', //                    Payload.metrics (2, len 7): Metric {
  '  0a 01 6e', //                 name = "n"
  '  20 0c', //                    datatype = 12 String
  '  38 01', //                    is_null (7) = true
  '18 2a', //                    Payload.seq (3) = 42
].join(' ');

const FIXTURE: Payload = {
  timestamp: 1000,
  metrics: [
    { name: 'i8', alias: 7, timestamp: 1001, datatype: DataType.Int8, value: -1 },
    { name: 'u64', datatype: DataType.UInt64, isHistorical: true, value: 18446744073709551615n },
    { name: 'd', datatype: DataType.Double, value: 1.5 },
    { name: 'n', datatype: DataType.String, value: null },
  ],
  seq: 42,
};

const bytes = fromHex(FIXTURE_HEX.replace(/\s+/g, ''));

describe('annotated fixture', () => {
  it('parses to the payload', () => {
    expect(decodePayload(bytes)).toEqual(FIXTURE);
  });
  it('generates the bytes', () => {
    expect(toHex(encodePayload(FIXTURE))).toBe(toHex(bytes));
  });
  it('mirrors (decode ∘ encode)', () => {
    expect(encodePayload(decodePayload(bytes))).toEqual(encodePayload(FIXTURE));
  });
});

const oneMetric = (datatype: number, value: unknown): Payload => ({
  metrics: [{ name: 'x', datatype: datatype as DataType, value: value as never }],
});

/** bytes_value of the single metric, found through the decoder-independent wire layout. */
function bytesValue(p: Uint8Array): string {
  // 12 <len> 0a 01 78 20 <type> 82 01 <len> <bytes>
  const at = p.indexOf(0x82);
  const len = p[at + 2]!;
  return toHex(p.subarray(at + 3, at + 3 + len));
}

describe('array datatypes (§6.4.17)', () => {
  const cases: Array<[string, number, unknown[], string]> = [
    // The specification's example prints EF for −23; −23 is E9 in two's complement (EF would be −17).
    ['Int8Array', DataType.Int8Array, [-23, 123], 'e97b'],
    ['Int16Array', DataType.Int16Array, [-30000, 30000], 'd08a3075'],
    ['Int32Array', DataType.Int32Array, [-1, 315338746], 'fffffffffaafcb12'],
    [
      'Int64Array',
      DataType.Int64Array,
      [-4270929666821191986n, -3601064768563266876n],
      'ce0672ac189cbac4c4ba9c18ac7206ce',
    ],
    ['UInt8Array', DataType.UInt8Array, [23, 250], '17fa'],
    ['UInt16Array', DataType.UInt16Array, [30, 52360], '1e0088cc'],
    ['UInt32Array', DataType.UInt32Array, [52, 3293969225], '3400000049fb55c4'],
    ['UInt64Array', DataType.UInt64Array, [52, 16444743074749521625n], '3400000000000000d99e02d1b27637e4'],
    // Little-endian as the text says (the specification's own FloatArray/DoubleArray examples are big-endian).
    ['FloatArray', DataType.FloatArray, [Math.fround(1.23), Math.fround(89.341)], 'a4709d3f98aeb242'],
    ['DoubleArray', DataType.DoubleArray, [12.354213, 1022.9123213], 'd7a205685bb528408e171c6f4cf78f40'],
    [
      'BooleanArray',
      DataType.BooleanArray,
      [false, false, true, true, false, true, false, false, true, true, false, true],
      '0c00000034d0',
    ],
    ['StringArray', DataType.StringArray, ['ABC', 'hello'], '41424300' + '68656c6c6f00'],
    [
      'DateTimeArray',
      DataType.DateTimeArray,
      [1256102875335, 1656107875000],
      'c7d0907524010000b8bab89781010000',
    ],
  ];
  for (const [name, type, values, hex] of cases) {
    it(`${name}: ${JSON.stringify(values, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))} ⇄ ${hex}`, () => {
      const encoded = encodePayload(oneMetric(type, values));
      expect(bytesValue(encoded)).toBe(hex);
      const expected = values.map((v) =>
        typeof v === 'bigint' && v >= -(2n ** 53n) && v < 2n ** 53n ? Number(v) : v,
      );
      expect(decodePayload(encoded).metrics[0]!.value).toEqual(expected);
    });
  }

  it('rejects a BooleanArray whose count disagrees with its bytes', () => {
    const p = encodePayload(oneMetric(DataType.BooleanArray, [true, false, true]));
    const bad = new Uint8Array(p);
    bad[bad.indexOf(0x03, bad.indexOf(0x82))] = 0x20; // count 3 → 32 needs 4 bytes of bits
    expect(() => decodePayload(bad)).toThrow(PayloadDecodeError);
  });

  it('rejects a StringArray without its final NUL and an Int32Array of 7 bytes', () => {
    const s = encodePayload({
      metrics: [{ name: 'x', datatype: DataType.Bytes, value: new Uint8Array([0x41, 0x42]) }],
    });
    // Same wire form, reinterpreted through the datatype: patch datatype 17 → 33 (StringArray), then 24.
    const asString = new Uint8Array(s);
    asString[asString.indexOf(0x11)] = 33;
    expect(() => decodePayload(asString)).toThrow(/NUL/);
    const seven = encodePayload({
      metrics: [{ name: 'x', datatype: DataType.Bytes, value: new Uint8Array(7) }],
    });
    seven[seven.indexOf(0x11)] = 24;
    expect(() => decodePayload(seven)).toThrow(/whole number of 4-byte values/);
  });
});

describe('signed and 64-bit values are exact', () => {
  const exact: Array<[string, number, unknown]> = [
    ['Int8 −1', DataType.Int8, -1],
    ['Int8 −128', DataType.Int8, -128],
    ['Int16 −1', DataType.Int16, -1],
    ['Int16 −32768', DataType.Int16, -32768],
    ['Int32 −1', DataType.Int32, -1],
    ['Int32 −2^31', DataType.Int32, -2147483648],
    ['Int64 −1', DataType.Int64, -1],
    ['Int64 −2^63', DataType.Int64, -(2n ** 63n)],
    ['Int64 2^63 − 1', DataType.Int64, 2n ** 63n - 1n],
    ['Int64 −2^53 + 1 (still a number)', DataType.Int64, -(2 ** 53) + 1],
    ['UInt32 2^32 − 1', DataType.UInt32, 4294967295],
    ['UInt64 2^53 + 1', DataType.UInt64, 2n ** 53n + 1n],
    ['UInt64 2^64 − 1', DataType.UInt64, 2n ** 64n - 1n],
    ['DateTime', DataType.DateTime, 1700000000123],
    ['Float', DataType.Float, Math.fround(-0.1)],
    ['Double −0', DataType.Double, -0],
    ['Double NaN', DataType.Double, Number.NaN],
    ['Boolean', DataType.Boolean, true],
    ['Text', DataType.Text, 'ünïcødé ✓'],
    ['UUID', DataType.UUID, '123e4567-e89b-12d3-a456-426614174000'],
    ['Bytes', DataType.Bytes, new Uint8Array([0, 1, 254, 255])],
    ['File', DataType.File, new Uint8Array([9, 8, 7])],
  ];
  for (const [name, type, value] of exact) {
    it(name, () => {
      expect(decodePayload(encodePayload(oneMetric(type, value))).metrics[0]!.value).toEqual(value);
    });
  }

  it('Int8 −1 is written as int_value 0xFFFFFFFF and read back as −1, never 4294967295', () => {
    const p = encodePayload(oneMetric(DataType.Int8, -1));
    expect(toHex(p)).toContain('50ffffffff0f');
    expect(decodePayload(p).metrics[0]!.value).toBe(-1);
  });

  it('accepts the narrow pattern (0xFF for Int8 −1) and a sign-extended long_value for Int32', () => {
    // metric { name "x", datatype 1 Int8, int_value 0xFF }
    const hand = fromHex('12080a0178200150ff01');
    expect(decodePayload(hand).metrics[0]!.value).toBe(-1);
    // metric { name "x", datatype 3 Int32, long_value 2^64 − 5 } → −5
    const ext = fromHex('12100a0178200358fbffffffffffffffff01');
    expect(decodePayload(ext).metrics[0]!.value).toBe(-5);
  });

  it('rejects an Int8 value that is no int8 pattern (300)', () => {
    // metric { name "x", datatype 1 Int8, int_value 300 }
    const bad = fromHex('12080a017820015' + '0ac02');
    expect(() => decodePayload(bad)).toThrow(/not a signed 8-bit integer/);
  });

  it('without a datatype, values decode raw by wire field; a lookup types them', () => {
    const p = encodePayload({ metrics: [{ alias: 3, datatype: DataType.Int16, value: -2 }] });
    // drop the datatype field (20 02) to get what a DDATA carries
    const hex = toHex(p).replace('2002', '');
    const data = fromHex(
      hex.replace(
        /^12(..)/,
        (_, l: string) => `12${(Number.parseInt(l, 16) - 2).toString(16).padStart(2, '0')}`,
      ),
    );
    expect(decodePayload(data).metrics[0]!.value).toBe(0xfffffffe);
    expect(
      decodePayload(data, { datatypes: (m) => (m.alias === 3 ? DataType.Int16 : undefined) }).metrics[0]!
        .value,
    ).toBe(-2);
  });
});

describe('DataSet, Template, properties, metadata', () => {
  it('round-trips a DataSet with typed columns and null cells', () => {
    const ds = {
      columns: ['i8', 'u64', 'f', 'b', 's', 't'],
      types: [
        DataType.Int8,
        DataType.UInt64,
        DataType.Float,
        DataType.Boolean,
        DataType.String,
        DataType.DateTime,
      ],
      rows: [
        [-7, 2n ** 60n, 0.5, true, 'a', 1],
        [null, 0, null, false, '', null],
      ],
    };
    const out = decodePayload(encodePayload(oneMetric(DataType.DataSet, ds))).metrics[0]!.value;
    expect(out).toEqual(ds);
  });

  it('round-trips a Template definition and instance with parameters', () => {
    const def = {
      isDefinition: true,
      version: '1.0',
      metrics: [{ name: 'speed', datatype: DataType.Int32, value: -3 }],
      parameters: [{ name: 'max', type: DataType.Int16, value: -100 }],
    };
    const inst = {
      isDefinition: false,
      templateRef: 'Motor',
      metrics: [{ name: 'speed', datatype: DataType.Int32, value: 4 }],
    };
    const out = decodePayload(
      encodePayload({
        metrics: [
          { name: 'Motor', datatype: DataType.Template, value: def },
          { name: 'm1', datatype: DataType.Template, value: inst },
        ],
      }),
    );
    expect(out.metrics.map((m) => m.value)).toEqual([def, inst]);
  });

  it('round-trips properties (quality, nested sets, lists) and metadata', () => {
    const metric = {
      name: 'file',
      datatype: DataType.File,
      value: new Uint8Array([1, 2, 3]),
      isTransient: true,
      metadata: {
        isMultiPart: false,
        contentType: 'text/plain',
        size: 3,
        seq: 0,
        fileName: 'a.txt',
        fileType: 'txt',
        md5: 'x',
        description: 'd',
      },
      properties: {
        Quality: { type: DataType.Int32, value: 192 },
        engUnit: { type: DataType.String, value: 'V' },
        empty: { type: DataType.Double, value: null },
        nested: { type: DataType.PropertySet, value: { a: { type: DataType.Int64, value: -1 } } },
        list: { type: DataType.PropertySetList, value: [{ b: { type: DataType.Boolean, value: true } }] },
      },
    } as const;
    const out = decodePayload(encodePayload({ metrics: [metric] })).metrics[0]!;
    expect(out).toEqual(metric);
  });
});
