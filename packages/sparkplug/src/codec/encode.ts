// Payload → protobuf bytes. Every value is checked against its datatype before anything is written
// (a PayloadEncodeError names the path of the bad value); the bytes are written by protobufjs.
//
// Wire facts (Sparkplug B 3.0 §6.4.16):
// - Int8, Int16, Int32 travel in the uint32 int_value as their 32-bit two's complement (−1 → 0xFFFFFFFF),
//   as Tahu's Java encoder writes them; UInt8, UInt16, UInt32 in int_value as they are.
// - Int64, UInt64 and DateTime travel in the uint64 long_value (Int64 as 64-bit two's complement).
// - Arrays travel in bytes_value (see arrays.ts); DataSet and Template in their own messages.

import { PayloadEncodeError } from '../errors';
import { describe, encodeArray } from './arrays';
import {
  DataType,
  dataTypeName,
  isArrayDataType,
  isBasicDataType,
  isDataType,
  isPropertyDataType,
} from './datatypes';
import { type LongBits, toLongBits, U64_MAX } from './int64';
import { PayloadType } from './schema';
import type { DataSet, Int64, MetaData, Metric, Payload, PropertySet, Template } from './types';

/** Tells the datatype of a metric that does not carry one (DATA and command messages omit it). */
export type DatatypeLookup = (metric: {
  name?: string | undefined;
  alias?: Int64 | undefined;
}) => number | undefined;

export interface EncodeOptions {
  /** Datatype of metrics without a `datatype` field; such metrics are written without one. */
  datatypes?: DatatypeLookup;
}

type Wire = Record<string, unknown>;

function u64(value: unknown, path: string): LongBits | number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'bigint' && value >= 0n && value <= U64_MAX) return toLongBits(value);
  if (value instanceof Date && Number.isFinite(value.getTime()) && value.getTime() >= 0)
    return value.getTime();
  throw new PayloadEncodeError(`expected an unsigned 64-bit integer, got ${describe(value)}`, path);
}

function intIn(value: unknown, min: number, max: number, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new PayloadEncodeError(`expected an integer in [${min}, ${max}], got ${describe(value)}`, path);
  }
  return value;
}

function i64(value: unknown, path: string): LongBits | number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return toLongBits(value);
  if (typeof value === 'bigint' && value >= -(1n << 63n) && value < 1n << 63n) return toLongBits(value);
  throw new PayloadEncodeError(`expected a signed 64-bit integer, got ${describe(value)}`, path);
}

/** The oneof field and wire value for a scalar of a basic type (1–14), or bytes for Bytes/File/UUID. */
function scalar(type: number, value: unknown, path: string): [string, unknown] {
  switch (type) {
    case DataType.Int8:
      return ['intValue', intIn(value, -128, 127, path) >>> 0];
    case DataType.Int16:
      return ['intValue', intIn(value, -32768, 32767, path) >>> 0];
    case DataType.Int32:
      return ['intValue', intIn(value, -2147483648, 2147483647, path) >>> 0];
    case DataType.UInt8:
      return ['intValue', intIn(value, 0, 255, path)];
    case DataType.UInt16:
      return ['intValue', intIn(value, 0, 65535, path)];
    case DataType.UInt32:
      return ['intValue', intIn(value, 0, 4294967295, path)];
    case DataType.Int64:
      return ['longValue', i64(value, path)];
    case DataType.UInt64:
    case DataType.DateTime:
      return ['longValue', u64(value, path)];
    case DataType.Float:
    case DataType.Double:
      if (typeof value !== 'number')
        throw new PayloadEncodeError(`expected a number, got ${describe(value)}`, path);
      return [type === DataType.Float ? 'floatValue' : 'doubleValue', value];
    case DataType.Boolean:
      if (typeof value !== 'boolean')
        throw new PayloadEncodeError(`expected a boolean, got ${describe(value)}`, path);
      return ['booleanValue', value];
    case DataType.String:
    case DataType.Text:
    case DataType.UUID:
      if (typeof value !== 'string')
        throw new PayloadEncodeError(`expected a string, got ${describe(value)}`, path);
      return ['stringValue', value];
    case DataType.Bytes:
    case DataType.File:
      if (!(value instanceof Uint8Array)) {
        throw new PayloadEncodeError(`expected a Uint8Array, got ${describe(value)}`, path);
      }
      return ['bytesValue', value];
    default:
      throw new PayloadEncodeError(`datatype ${dataTypeName(type)} cannot hold a scalar value`, path);
  }
}

function object(value: unknown, what: string, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PayloadEncodeError(`expected ${what}, got ${describe(value)}`, path);
  }
  return value as Record<string, unknown>;
}

function dataSet(value: unknown, path: string): Wire {
  const ds = object(value, 'a DataSet', path) as unknown as DataSet;
  const { columns, types, rows } = ds;
  if (!Array.isArray(columns) || !Array.isArray(types) || !Array.isArray(rows)) {
    throw new PayloadEncodeError('a DataSet needs columns, types and rows arrays', path);
  }
  if (columns.length !== types.length) {
    throw new PayloadEncodeError(`${columns.length} column name(s) but ${types.length} type(s)`, path);
  }
  types.forEach((t, i) => {
    if (!isBasicDataType(t))
      throw new PayloadEncodeError(
        `column type ${dataTypeName(t)} is not a basic type`,
        `${path}.types[${i}]`,
      );
  });
  return {
    numOfColumns: columns.length,
    columns,
    types,
    rows: rows.map((row, r) => {
      if (!Array.isArray(row) || row.length !== columns.length) {
        throw new PayloadEncodeError(
          `row of ${Array.isArray(row) ? row.length : 'no'} cell(s) for ${columns.length} column(s)`,
          `${path}.rows[${r}]`,
        );
      }
      return {
        elements: row.map((cell, c) => {
          if (cell === null || cell === undefined) return {};
          const [field, wire] = scalar(types[c]!, cell, `${path}.rows[${r}][${c}]`);
          return { [field]: wire };
        }),
      };
    }),
  };
}

function template(value: unknown, path: string, options: EncodeOptions): Wire {
  const t = object(value, 'a Template', path) as unknown as Template;
  if (!Array.isArray(t.metrics)) throw new PayloadEncodeError('a Template needs a metrics array', path);
  if (typeof t.isDefinition !== 'boolean')
    throw new PayloadEncodeError('a Template needs isDefinition', path);
  if (t.isDefinition && t.templateRef !== undefined) {
    throw new PayloadEncodeError('a Template definition must not have a templateRef', path);
  }
  if (!t.isDefinition && typeof t.templateRef !== 'string') {
    throw new PayloadEncodeError('a Template instance needs a templateRef (the definition name)', path);
  }
  const out: Wire = {
    isDefinition: t.isDefinition,
    metrics: t.metrics.map((m, i) => metric(m, `${path}.metrics[${i}]`, options)),
  };
  if (t.version !== undefined) out.version = str(t.version, `${path}.version`);
  if (t.templateRef !== undefined) out.templateRef = t.templateRef;
  if (t.parameters !== undefined) {
    out.parameters = t.parameters.map((p, i) => {
      const pp = `${path}.parameters[${i}]`;
      if (!isBasicDataType(p.type))
        throw new PayloadEncodeError(`parameter type ${dataTypeName(p.type)} is not a basic type`, pp);
      const w: Wire = { name: str(p.name, `${pp}.name`), type: p.type };
      if (p.value !== null && p.value !== undefined) {
        const [field, wire] = scalar(p.type, p.value, `${pp}.value`);
        w[field] = wire;
      }
      return w;
    });
  }
  return out;
}

function str(value: unknown, path: string): string {
  if (typeof value !== 'string')
    throw new PayloadEncodeError(`expected a string, got ${describe(value)}`, path);
  return value;
}

function propertySet(value: unknown, path: string, depth = 0): Wire {
  if (depth > 32) throw new PayloadEncodeError('property sets nested deeper than 32', path);
  const set = object(value, 'a PropertySet', path) as PropertySet;
  const keys = Object.keys(set);
  return {
    keys,
    values: keys.map((k) => {
      const pp = `${path}.${k}`;
      const pv = object(set[k], 'a PropertyValue', pp) as unknown as PropertySet[string];
      if (!isPropertyDataType(pv.type)) {
        throw new PayloadEncodeError(`property type ${dataTypeName(pv.type)} is not allowed`, pp);
      }
      // §6.4.11 Quality Codes: the `Quality` property is an Int32 holding 0 (BAD), 192 (GOOD) or 500 (STALE).
      if (
        k === 'Quality' &&
        depth === 0 &&
        (pv.type !== DataType.Int32 || ![0, 192, 500].includes(pv.value as number))
      ) {
        throw new PayloadEncodeError(
          `the Quality property must be an Int32 of 0, 192 or 500, got ${dataTypeName(pv.type)} ${String(pv.value)}`,
          pp,
        );
      }
      const w: Wire = { type: pv.type };
      if (pv.value === null || pv.value === undefined) w.isNull = true;
      else if (pv.type === DataType.PropertySet) w.propertysetValue = propertySet(pv.value, pp, depth + 1);
      else if (pv.type === DataType.PropertySetList) {
        if (!Array.isArray(pv.value)) throw new PayloadEncodeError('expected an array of PropertySets', pp);
        w.propertysetsValue = {
          propertyset: pv.value.map((s, i) => propertySet(s, `${pp}[${i}]`, depth + 1)),
        };
      } else {
        const [field, wire] = scalar(pv.type, pv.value, pp);
        w[field] = wire;
      }
      return w;
    }),
  };
}

function metaData(value: unknown, path: string): Wire {
  const md = object(value, 'MetaData', path) as MetaData;
  const out: Wire = {};
  if (md.isMultiPart !== undefined) out.isMultiPart = md.isMultiPart;
  for (const k of ['contentType', 'fileName', 'fileType', 'md5', 'description'] as const) {
    if (md[k] !== undefined) out[k] = str(md[k], `${path}.${k}`);
  }
  if (md.size !== undefined) out.size = u64(md.size, `${path}.size`);
  if (md.seq !== undefined) out.seq = u64(md.seq, `${path}.seq`);
  return out;
}

function metric(m: Metric, path: string, options: EncodeOptions): Wire {
  if (typeof m !== 'object' || m === null)
    throw new PayloadEncodeError(`expected a metric, got ${describe(m)}`, path);
  const out: Wire = {};
  if (m.name !== undefined) out.name = str(m.name, `${path}.name`);
  if (m.alias !== undefined) out.alias = u64(m.alias, `${path}.alias`);
  if (m.timestamp !== undefined) out.timestamp = u64(m.timestamp, `${path}.timestamp`);
  let type: number | undefined = m.datatype;
  if (type !== undefined) {
    if (!isDataType(type))
      throw new PayloadEncodeError(
        `datatype ${String(type)} is not a Sparkplug datatype`,
        `${path}.datatype`,
      );
    out.datatype = type;
  }
  if (m.isHistorical !== undefined) out.isHistorical = m.isHistorical;
  if (m.isTransient !== undefined) out.isTransient = m.isTransient;
  if (m.metadata !== undefined) out.metadata = metaData(m.metadata, `${path}.metadata`);
  if (m.properties !== undefined) out.properties = propertySet(m.properties, `${path}.properties`);
  if (m.value === null) {
    out.isNull = true;
  } else if (m.value !== undefined) {
    type ??= options.datatypes?.(m);
    if (type === undefined) {
      throw new PayloadEncodeError(
        'a metric value needs a datatype (in the metric or from options.datatypes)',
        path,
      );
    }
    const vp = `${path}.value`;
    if (type === DataType.DataSet) out.datasetValue = dataSet(m.value, vp);
    else if (type === DataType.Template) out.templateValue = template(m.value, vp, options);
    else if (isArrayDataType(type)) out.bytesValue = encodeArray(type, m.value, vp);
    else {
      const [field, wire] = scalar(type, m.value, vp);
      out[field] = wire;
    }
  }
  return out;
}

/** The protobufjs message object of `payload` (validated). Exposed for tests and tools. */
export function toWirePayload(payload: Payload, options: EncodeOptions = {}): Wire {
  if (typeof payload !== 'object' || payload === null || !Array.isArray(payload.metrics)) {
    throw new PayloadEncodeError('a payload needs a metrics array');
  }
  const out: Wire = { metrics: payload.metrics.map((m, i) => metric(m, `metrics[${i}]`, options)) };
  if (payload.timestamp !== undefined) out.timestamp = u64(payload.timestamp, 'timestamp');
  if (payload.seq !== undefined) out.seq = u64(payload.seq, 'seq');
  if (payload.uuid !== undefined) out.uuid = str(payload.uuid, 'uuid');
  if (payload.body !== undefined) {
    if (!(payload.body instanceof Uint8Array))
      throw new PayloadEncodeError('body must be a Uint8Array', 'body');
    out.body = payload.body;
  }
  return out;
}

/** Encodes a Sparkplug B payload. Throws a PayloadEncodeError naming the first bad field. */
export function encodePayload(payload: Payload, options: EncodeOptions = {}): Uint8Array {
  return PayloadType.encode(toWirePayload(payload, options)).finish();
}
