// A JSON-able view of any decoded value (for `pymodaq decode`, logs and test diffs). Lossless for what a
// reader needs: dtypes and shapes are kept, bigints and non-finite floats become strings, bytes become hex.

import { toHex } from '@labwire/framing';
import type { Complex } from './dtype';
import { NdArray } from './nd-array';
import {
  isAxis,
  isDataToExport,
  isDataWithAxes,
  isParameterWithPath,
  isPyDict,
  isPyScalar,
  isPyTuple,
  type PyValue,
} from './values';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function number(n: number): JsonValue {
  return Number.isFinite(n) ? (Object.is(n, -0) ? 0 : n) : String(n);
}

function element(v: number | bigint | boolean | Complex): JsonValue {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return number(v);
  if (typeof v === 'boolean') return v;
  return { re: number(v.re), im: number(v.im) };
}

function arrayJson(a: NdArray, max: number): JsonValue {
  const out: { [key: string]: JsonValue } = { ndarray: a.dtype, shape: [...a.shape] };
  if (a.wireShape) out.wireShape = [...a.wireShape];
  const n = Math.min(a.size, max);
  const values: JsonValue[] = [];
  for (let i = 0; i < n; i++) values.push(element(a.get(i)));
  out.values = values;
  if (n < a.size) out.truncated = a.size - n;
  return out;
}

export function toJsonValue(
  value: PyValue,
  options: {
    /** Arrays with more elements show only the first ones (default 64). */
    maxArrayValues?: number;
  } = {},
): JsonValue {
  const max = options.maxArrayValues ?? 64;
  const rec = (v: PyValue): JsonValue => toJsonValue(v, options);
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return number(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof NdArray) return arrayJson(value, max);
  if (value instanceof Uint8Array) {
    const out: { [key: string]: JsonValue } = { bytes: toHex(value) };
    try {
      out.text = utf8.decode(value);
    } catch {
      // not text: hex only
    }
    return out;
  }
  if (Array.isArray(value)) return (value as readonly PyValue[]).map(rec);
  if (isPyScalar(value)) return { scalar: value.dtype, value: element(value.value) };
  if (isPyTuple(value)) return { tuple: value.items.map(rec) };
  if (isPyDict(value)) return { dict: value.entries.map(([k, v]) => [rec(k), rec(v)]) };
  if (isAxis(value)) {
    return {
      type: 'Axis',
      label: value.label,
      units: value.units,
      data: arrayJson(value.data, max),
      index: value.index,
      spreadOrder: value.spreadOrder,
    };
  }
  const extras = (list: readonly { name: string; value: PyValue }[]) =>
    Object.fromEntries(list.map((a) => [a.name, rec(a.value)]));
  if (isDataWithAxes(value)) {
    return {
      type: value.type,
      timestamp: number(value.timestamp),
      name: value.name,
      units: value.units,
      source: value.source,
      dim: value.dim,
      distribution: value.distribution,
      data: value.data.map((a) => arrayJson(a, max)),
      labels: [...value.labels],
      origin: value.origin,
      navIndexes: [...value.navIndexes],
      axes: value.axes.map(rec),
      errors: value.errors.map((a) => arrayJson(a, max)),
      extraAttributes: extras(value.extraAttributes),
    };
  }
  if (isDataToExport(value)) {
    return {
      type: value.type,
      timestamp: number(value.timestamp),
      name: value.name,
      data: value.data.map(rec),
      extraAttributes: extras(value.extraAttributes),
    };
  }
  if (isParameterWithPath(value)) {
    return { type: 'ParameterWithPath', path: [...value.path], xml: rec(value.xml) };
  }
  return String(value);
}
