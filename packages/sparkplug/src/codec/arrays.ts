// Sparkplug B 3.0 array datatypes (§6.4.17 "Array Types"): all travel in Metric.bytes_value.
// - Int8…UInt64, Float, Double, DateTime arrays: the values packed little-endian, fixed width each.
//   (The specification's FloatArray and DoubleArray examples show big-endian bytes; its text, and the
//   Int/UInt/DateTime examples, say little-endian. We follow the text.)
// - BooleanArray: a 4-byte little-endian count, then the values bit-packed, first value in the most
//   significant bit of the first byte ([F,F,T,T,F,T,F,F, T,T,F,T] → 0C 00 00 00 34 D0).
// - StringArray: UTF-8 strings, each terminated by a NUL byte.

import { PayloadDecodeError, PayloadEncodeError } from '../errors';
import { DataType } from './datatypes';
import { I64_MAX, I64_MIN, U64_MAX } from './int64';
import type { Int64 } from './types';

const WIDTH: Partial<Record<number, number>> = {
  [DataType.Int8Array]: 1,
  [DataType.Int16Array]: 2,
  [DataType.Int32Array]: 4,
  [DataType.Int64Array]: 8,
  [DataType.UInt8Array]: 1,
  [DataType.UInt16Array]: 2,
  [DataType.UInt32Array]: 4,
  [DataType.UInt64Array]: 8,
  [DataType.FloatArray]: 4,
  [DataType.DoubleArray]: 8,
  [DataType.DateTimeArray]: 8,
};

const INT_RANGE: Partial<Record<number, [number, number]>> = {
  [DataType.Int8Array]: [-128, 127],
  [DataType.Int16Array]: [-32768, 32767],
  [DataType.Int32Array]: [-2147483648, 2147483647],
  [DataType.UInt8Array]: [0, 255],
  [DataType.UInt16Array]: [0, 65535],
  [DataType.UInt32Array]: [0, 4294967295],
};

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

function int64Of(value: unknown, type: number, path: string): bigint {
  let big: bigint;
  if (typeof value === 'bigint') big = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) big = BigInt(value);
  else if (type === DataType.DateTimeArray && value instanceof Date && Number.isFinite(value.getTime())) {
    big = BigInt(value.getTime());
  } else throw new PayloadEncodeError(`expected an integer, got ${describe(value)}`, path);
  const [min, max] = type === DataType.Int64Array ? [I64_MIN, I64_MAX] : [0n, U64_MAX];
  if (big < min || big > max) throw new PayloadEncodeError(`${big} is out of range`, path);
  return big;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'bytes';
  const t = typeof value;
  if (t === 'string') return `string ${JSON.stringify(String(value).slice(0, 40))}`;
  if (t === 'number' || t === 'bigint' || t === 'boolean') return `${t} ${String(value)}`;
  return t;
}

/** Packs an array value for `type` into bytes_value. */
export function encodeArray(type: number, value: unknown, path: string): Uint8Array {
  if (!Array.isArray(value) && !ArrayBuffer.isView(value)) {
    throw new PayloadEncodeError(`expected an array, got ${describe(value)}`, path);
  }
  const items = value as ArrayLike<unknown>;
  const n = items.length;
  if (type === DataType.BooleanArray) {
    const out = new Uint8Array(4 + Math.ceil(n / 8));
    new DataView(out.buffer).setUint32(0, n, true);
    for (let i = 0; i < n; i++) {
      const b = items[i];
      if (typeof b !== 'boolean')
        throw new PayloadEncodeError(`expected a boolean, got ${describe(b)}`, `${path}[${i}]`);
      if (b) out[4 + (i >> 3)]! |= 0x80 >> (i & 7);
    }
    return out;
  }
  if (type === DataType.StringArray) {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < n; i++) {
      const s = items[i];
      if (typeof s !== 'string')
        throw new PayloadEncodeError(`expected a string, got ${describe(s)}`, `${path}[${i}]`);
      if (s.includes('\0')) {
        throw new PayloadEncodeError(
          'a StringArray element cannot contain NUL (the separator)',
          `${path}[${i}]`,
        );
      }
      const bytes = utf8.encode(s);
      parts.push(bytes);
      total += bytes.length + 1;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length + 1; // the NUL is already 0
    }
    return out;
  }
  const width = WIDTH[type]!;
  const out = new Uint8Array(n * width);
  const view = new DataView(out.buffer);
  const range = INT_RANGE[type];
  for (let i = 0; i < n; i++) {
    const x = items[i];
    if (range !== undefined) {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < range[0] || x > range[1]) {
        throw new PayloadEncodeError(
          `expected an integer in [${range[0]}, ${range[1]}], got ${describe(x)}`,
          `${path}[${i}]`,
        );
      }
      if (width === 1) view.setUint8(i, x & 0xff);
      else if (width === 2) view.setUint16(i * 2, x & 0xffff, true);
      else view.setUint32(i * 4, x >>> 0, true);
    } else if (type === DataType.FloatArray || type === DataType.DoubleArray) {
      if (typeof x !== 'number')
        throw new PayloadEncodeError(`expected a number, got ${describe(x)}`, `${path}[${i}]`);
      if (width === 4) view.setFloat32(i * 4, x, true);
      else view.setFloat64(i * 8, x, true);
    } else {
      view.setBigUint64(i * 8, BigInt.asUintN(64, int64Of(x, type, `${path}[${i}]`)), true);
    }
  }
  return out;
}

function safe(big: bigint): Int64 {
  return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
}

/** Unpacks bytes_value for an array `type`. `offset` locates the bytes in the payload, for errors. */
export function decodeArray(
  type: number,
  bytes: Uint8Array,
  maxLength: number,
  offset: number,
  path: string,
): readonly number[] | readonly Int64[] | readonly boolean[] | readonly string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const limitError = (count: number) =>
    new PayloadDecodeError(
      `array of ${count} values exceeds the limit of ${maxLength}`,
      offset,
      undefined,
      path,
    );
  if (type === DataType.BooleanArray) {
    if (bytes.length < 4) {
      throw new PayloadDecodeError(
        `BooleanArray of ${bytes.length} byte(s) lacks its 4-byte count`,
        offset,
        undefined,
        path,
      );
    }
    const count = view.getUint32(0, true);
    if (Math.ceil(count / 8) !== bytes.length - 4) {
      throw new PayloadDecodeError(
        `BooleanArray count ${count} needs ${Math.ceil(count / 8)} byte(s) of bits, ${bytes.length - 4} present`,
        offset,
        undefined,
        path,
      );
    }
    if (count > maxLength) throw limitError(count);
    const out: boolean[] = new Array(count);
    for (let i = 0; i < count; i++) out[i] = (bytes[4 + (i >> 3)]! & (0x80 >> (i & 7))) !== 0;
    return out;
  }
  if (type === DataType.StringArray) {
    if (bytes.length > 0 && bytes[bytes.length - 1] !== 0) {
      throw new PayloadDecodeError('StringArray does not end with a NUL terminator', offset, undefined, path);
    }
    const out: string[] = [];
    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) {
        if (out.length >= maxLength) throw limitError(out.length + 1);
        out.push(utf8Decoder.decode(bytes.subarray(start, i)));
        start = i + 1;
      }
    }
    return out;
  }
  const width = WIDTH[type]!;
  if (bytes.length % width !== 0) {
    throw new PayloadDecodeError(
      `${bytes.length} byte(s) is not a whole number of ${width}-byte values`,
      offset,
      undefined,
      path,
    );
  }
  const count = bytes.length / width;
  if (count > maxLength) throw limitError(count);
  switch (type) {
    case DataType.Int8Array:
      return Array.from({ length: count }, (_, i) => view.getInt8(i));
    case DataType.Int16Array:
      return Array.from({ length: count }, (_, i) => view.getInt16(i * 2, true));
    case DataType.Int32Array:
      return Array.from({ length: count }, (_, i) => view.getInt32(i * 4, true));
    case DataType.UInt8Array:
      return Array.from({ length: count }, (_, i) => view.getUint8(i));
    case DataType.UInt16Array:
      return Array.from({ length: count }, (_, i) => view.getUint16(i * 2, true));
    case DataType.UInt32Array:
      return Array.from({ length: count }, (_, i) => view.getUint32(i * 4, true));
    case DataType.FloatArray:
      return Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true));
    case DataType.DoubleArray:
      return Array.from({ length: count }, (_, i) => view.getFloat64(i * 8, true));
    case DataType.Int64Array:
      return Array.from({ length: count }, (_, i) => safe(view.getBigInt64(i * 8, true)));
    default:
      // UInt64Array, DateTimeArray
      return Array.from({ length: count }, (_, i) => safe(view.getBigUint64(i * 8, true)));
  }
}
