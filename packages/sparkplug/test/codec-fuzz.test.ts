// fast-check properties of the codec: typed round trips of every datatype, and hostile input (random
// bytes, mutated payloads, deep nesting, huge length claims) that must end in a typed error or a payload,
// never anything else, and never an allocation the input claims before the limit is checked.

import { LabwireError, LimitExceededError } from '@labwire/framing';
import {
  DataType,
  decodePayload,
  encodePayload,
  type Metric,
  type Payload,
  PayloadDecodeError,
} from '@labwire/sparkplug/codec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const safeOr = (big: bigint): number | bigint =>
  big >= -(2n ** 53n) + 1n && big <= 2n ** 53n - 1n ? Number(big) : big;

const i64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(safeOr);
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(safeOr);
const f32 = fc.float({ noNaN: true }).map(Math.fround);
const f64 = fc.double({ noNaN: true });
const str = fc.string({ unit: 'grapheme', maxLength: 12 });
const noNul = str.filter((s) => !s.includes('\0'));
const ints = (min: number, max: number) => fc.integer({ min, max });

/** A value arbitrary per scalar basic type. */
const scalarOf: Record<number, fc.Arbitrary<unknown>> = {
  [DataType.Int8]: ints(-128, 127),
  [DataType.Int16]: ints(-32768, 32767),
  [DataType.Int32]: ints(-2147483648, 2147483647),
  [DataType.Int64]: i64,
  [DataType.UInt8]: ints(0, 255),
  [DataType.UInt16]: ints(0, 65535),
  [DataType.UInt32]: ints(0, 4294967295),
  [DataType.UInt64]: u64,
  [DataType.Float]: f32,
  [DataType.Double]: f64,
  [DataType.Boolean]: fc.boolean(),
  [DataType.String]: str,
  [DataType.DateTime]: u64,
  [DataType.Text]: str,
};
const basicTypes = Object.keys(scalarOf).map(Number);

const valueByType: Record<number, fc.Arbitrary<unknown>> = {
  ...scalarOf,
  [DataType.UUID]: fc.uuid(),
  [DataType.Bytes]: fc.uint8Array({ maxLength: 20 }),
  [DataType.File]: fc.uint8Array({ maxLength: 20 }),
  [DataType.Int8Array]: fc.array(ints(-128, 127), { maxLength: 9 }),
  [DataType.Int16Array]: fc.array(ints(-32768, 32767), { maxLength: 9 }),
  [DataType.Int32Array]: fc.array(ints(-2147483648, 2147483647), { maxLength: 9 }),
  [DataType.Int64Array]: fc.array(i64, { maxLength: 9 }),
  [DataType.UInt8Array]: fc.array(ints(0, 255), { maxLength: 9 }),
  [DataType.UInt16Array]: fc.array(ints(0, 65535), { maxLength: 9 }),
  [DataType.UInt32Array]: fc.array(ints(0, 4294967295), { maxLength: 9 }),
  [DataType.UInt64Array]: fc.array(u64, { maxLength: 9 }),
  [DataType.FloatArray]: fc.array(f32, { maxLength: 9 }),
  [DataType.DoubleArray]: fc.array(f64, { maxLength: 9 }),
  [DataType.BooleanArray]: fc.array(fc.boolean(), { maxLength: 20 }),
  [DataType.StringArray]: fc.array(noNul, { maxLength: 5 }),
  [DataType.DateTimeArray]: fc.array(u64, { maxLength: 9 }),
  [DataType.DataSet]: fc
    .array(fc.tuple(str, fc.constantFrom(...basicTypes)), { maxLength: 4 })
    .chain((cols) =>
      fc.record({
        columns: fc.constant(cols.map((c) => c[0])),
        types: fc.constant(cols.map((c) => c[1])),
        rows: fc.array(fc.tuple(...cols.map((c) => fc.option(scalarOf[c[1]]!, { nil: null }))), {
          maxLength: 3,
        }),
      }),
    ),
};
const valueTypes = Object.keys(valueByType).map(Number);

const propertyValue = fc
  .constantFrom(...basicTypes)
  .chain((type) => fc.record({ type: fc.constant(type), value: fc.option(scalarOf[type]!, { nil: null }) }));
const propertySet = fc.dictionary(
  str.filter((k) => k !== '__proto__'),
  propertyValue,
  { maxKeys: 3 },
);

const metric: fc.Arbitrary<Metric> = fc.constantFrom(...valueTypes).chain(
  (datatype) =>
    fc.record(
      {
        name: str,
        alias: u64,
        timestamp: u64,
        datatype: fc.constant(datatype),
        isHistorical: fc.boolean(),
        isTransient: fc.boolean(),
        value: fc.option(valueByType[datatype]!, { nil: null }),
        properties: propertySet,
      },
      { requiredKeys: ['datatype', 'value'] },
    ) as fc.Arbitrary<Metric>,
);

const templateMetric: fc.Arbitrary<Metric> = fc.record({
  name: str,
  datatype: fc.constant(DataType.Template),
  value: fc.record({
    isDefinition: fc.constant(false),
    templateRef: str,
    version: str,
    metrics: fc.array(metric, { maxLength: 3 }),
    parameters: fc.array(
      fc
        .constantFrom(...basicTypes)
        .chain((type) =>
          fc.record({ name: str, type: fc.constant(type), value: fc.option(scalarOf[type]!, { nil: null }) }),
        ),
      { minLength: 1, maxLength: 3 },
    ),
  }),
}) as fc.Arbitrary<Metric>;

const payload: fc.Arbitrary<Payload> = fc.record(
  {
    timestamp: u64,
    seq: ints(0, 255),
    uuid: str,
    body: fc.uint8Array({ maxLength: 8 }),
    metrics: fc.array(fc.oneof({ weight: 5, arbitrary: metric }, { weight: 1, arbitrary: templateMetric }), {
      maxLength: 6,
    }),
  },
  { requiredKeys: ['metrics'] },
);

/** What decoding gives back for a metric value: -0 stays, properties come back with a null prototype. */
function normalise(p: Payload): unknown {
  return JSON.parse(
    JSON.stringify(p, (_, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? [...v] : v)),
  );
}

describe('round trip', () => {
  it('decode(encode(p)) equals p for every datatype, nested templates and properties', () => {
    fc.assert(
      fc.property(payload, (p) => {
        const back = decodePayload(encodePayload(p));
        expect(normalise(back)).toEqual(normalise(p));
      }),
      { numRuns: 300 },
    );
  });

  it('encode(decode(bytes)) reproduces the bytes of our own encoding', () => {
    fc.assert(
      fc.property(payload, (p) => {
        const bytes = encodePayload(p);
        expect(encodePayload(decodePayload(bytes))).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
  });
});

function decodesOrTypedError(bytes: Uint8Array): void {
  try {
    decodePayload(bytes, { maxMetrics: 1000, maxElements: 10_000, maxDepth: 16, maxArrayLength: 10_000 });
  } catch (error) {
    if (!LabwireError.isInstance(error)) throw error;
    expect(PayloadDecodeError.isInstance(error) || LimitExceededError.isInstance(error)).toBe(true);
  }
}

describe('hostile input', () => {
  it('random bytes: a payload or a PayloadDecodeError / LimitExceededError, nothing else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), decodesOrTypedError), { numRuns: 3000 });
  });

  it('mutated valid payloads (byte flips, truncation, insertion)', () => {
    fc.assert(
      fc.property(
        payload,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (p, flips, cut) => {
          const bytes = new Uint8Array(encodePayload(p));
          if (bytes.length === 0) return;
          for (const [at, b] of flips) bytes[at % bytes.length] = b;
          decodesOrTypedError(bytes);
          decodesOrTypedError(bytes.subarray(0, cut % bytes.length));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('a length prefix claiming 2 GiB fails on the claim, before anything is allocated', () => {
    // Payload.body (5, bytes) with length 0x7fffffff and 3 bytes present
    const bytes = Uint8Array.from([0x2a, 0xff, 0xff, 0xff, 0xff, 0x07, 1, 2, 3]);
    expect(() => decodePayload(bytes)).toThrow(/length 2147483647 exceeds the 3 byte\(s\) that remain/);
  });

  it('templates nested 5 000 deep: LimitExceededError, no stack overflow', () => {
    const varint = (n: number) => {
      const out: number[] = [];
      do {
        out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
        n >>>= 7;
      } while (n > 0);
      return Buffer.from(out);
    };
    // From the inside out: Metric{template_value (18, LEN: 92 01): Template{metrics (2, LEN: 12): Metric{…}}}
    let metric: Buffer = Buffer.alloc(0);
    for (let i = 0; i < 5_000; i++) {
      const template = Buffer.concat([Buffer.from([0x12]), varint(metric.length), metric]);
      metric = Buffer.concat([Buffer.from([0x92, 0x01]), varint(template.length), template]);
    }
    const bytes = Buffer.concat([Buffer.from([0x12]), varint(metric.length), metric]);
    expect(() => decodePayload(bytes)).toThrow(LimitExceededError);
    expect(() => decodePayload(bytes)).toThrow(/nesting depth/);
  });

  it('groups nested deeply in an unknown field: LimitExceededError', () => {
    const bytes = new Uint8Array(20_000).fill(0x33); // field 6, start group, repeated
    expect(() => decodePayload(bytes)).toThrow(LimitExceededError);
  });

  it('more metrics than maxMetrics: LimitExceededError naming the limit', () => {
    const p = encodePayload({
      metrics: Array.from({ length: 11 }, () => ({ name: 'm', datatype: DataType.Boolean, value: true })),
    });
    expect(() => decodePayload(p, { maxMetrics: 10 })).toThrow(/exceed the limit of 10/);
    expect(decodePayload(p, { maxMetrics: 11 }).metrics).toHaveLength(11);
  });

  it('a payload larger than maxPayloadBytes is refused before decoding', () => {
    expect(() => decodePayload(new Uint8Array(101), { maxPayloadBytes: 100 })).toThrow(LimitExceededError);
  });

  it('an array metric longer than maxArrayLength is refused', () => {
    const p = encodePayload({
      metrics: [{ name: 'a', datatype: DataType.UInt8Array, value: new Array(50).fill(1) }],
    });
    expect(() => decodePayload(p, { maxArrayLength: 49 })).toThrow(/exceeds the limit of 49/);
  });

  it('a known field with the wrong wire type is a PayloadDecodeError with its offset', () => {
    // Payload.metrics (2) sent as a varint
    const error = (() => {
      try {
        decodePayload(Uint8Array.from([0x08, 0x01, 0x10, 0x05]));
      } catch (e) {
        return e as PayloadDecodeError;
      }
    })();
    expect(PayloadDecodeError.isInstance(error)).toBe(true);
    expect(error!.offset).toBe(2);
    expect(error!.code).toBe('SparkplugDecode');
  });

  it('semantic errors: unknown datatype, mismatched value field, PropertySet keys/values mismatch', () => {
    // metric { name "x", datatype 99 }
    expect(() => decodePayload(Uint8Array.from([0x12, 0x05, 0x0a, 0x01, 0x78, 0x20, 0x63]))).toThrow(
      /not a Sparkplug datatype/,
    );
    // metric { name "x", datatype 11 Boolean, string_value "a" }
    expect(() =>
      decodePayload(Uint8Array.from([0x12, 0x08, 0x0a, 0x01, 0x78, 0x20, 0x0b, 0x7a, 0x01, 0x61])),
    ).toThrow(/Boolean value carried in stringValue/);
    // metric { name "x", properties { keys ["k"] (no values) } }
    expect(() =>
      decodePayload(Uint8Array.from([0x12, 0x08, 0x0a, 0x01, 0x78, 0x4a, 0x03, 0x0a, 0x01, 0x6b])),
    ).toThrow(/1 key\(s\) and 0 value\(s\)/);
  });
});

describe('encoder checks', () => {
  const bad: Array<[string, Metric, RegExp]> = [
    ['Int8 200', { name: 'x', datatype: DataType.Int8, value: 200 }, /\[-128, 127\]/],
    ['UInt64 −1', { name: 'x', datatype: DataType.UInt64, value: -1 }, /unsigned 64-bit/],
    ['Int64 2^63', { name: 'x', datatype: DataType.Int64, value: 2n ** 63n }, /signed 64-bit/],
    ['Int32 1.5', { name: 'x', datatype: DataType.Int32, value: 1.5 }, /integer/],
    ['String 5', { name: 'x', datatype: DataType.String, value: 5 }, /expected a string/],
    ['no datatype', { name: 'x', value: 5 }, /needs a datatype/],
    ['StringArray with NUL', { name: 'x', datatype: DataType.StringArray, value: ['a\0b'] }, /NUL/],
    ['datatype 0', { name: 'x', datatype: 0 as DataType, value: 1 }, /not a Sparkplug datatype/],
  ];
  for (const [name, m, re] of bad) {
    it(`refuses ${name} with a PayloadEncodeError naming the path`, () => {
      expect(() => encodePayload({ metrics: [m] })).toThrow(re);
      try {
        encodePayload({ metrics: [m] });
      } catch (e) {
        expect((e as { code: string }).code).toBe('SparkplugEncode');
        expect((e as { path: string }).path).toMatch(/^metrics\[0\]/);
      }
    });
  }
});
