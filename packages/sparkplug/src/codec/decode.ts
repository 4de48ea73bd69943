// Protobuf bytes → Payload. Three steps: a structural scan with the hostile-input limits (scan.ts),
// protobufjs's decoder, then a typed conversion that applies the datatype of each value:
// - Int8/Int16/Int32 from the uint32 int_value: both the 32-bit two's complement written by Tahu's Java
//   encoder (0xFFFFFFFF) and the narrow pattern some encoders write (0xFF for Int8 −1) give −1; a value
//   that is neither is an error, never a silent 4294967295.
// - Int64 from long_value as 64-bit two's complement; UInt64 and DateTime unsigned; numbers while safe,
//   bigint beyond.
// - Integer types are also accepted from the other integer field (Tahu JS writes UInt32 in long_value).
// A metric without a datatype (DATA and commands omit it) is typed through `options.datatypes`, or
// decoded raw by its wire field (int_value as an unsigned number, long_value unsigned).

import type Long from 'long';
import { PayloadDecodeError } from '../errors';
import { decodeArray } from './arrays';
import {
  DataType,
  dataTypeName,
  isArrayDataType,
  isBasicDataType,
  isDataType,
  isPropertyDataType,
} from './datatypes';
import type { DatatypeLookup } from './encode';
import { i64FromLong, u64FromLong } from './int64';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits, scanPayload } from './scan';
import { PayloadType, valueMembers } from './schema';
import type {
  DataSet,
  Int64,
  MetaData,
  Metric,
  MetricValue,
  Payload,
  PropertySet,
  PropertyValue,
  Template,
} from './types';

export interface DecodeOptions extends DecodeLimits {
  /** Datatype of metrics that carry none (by name or alias, as learnt from the births). */
  datatypes?: DatatypeLookup;
}

// biome-ignore lint/suspicious/noExplicitAny: protobufjs message objects are untyped
type WireObject = any;

// schema.ts removes protobufjs's prototype defaults: an absent field reads as undefined.
const has = (o: WireObject, k: string): boolean => o[k] !== undefined;

// Members of each value oneof (from the schema), the common ones first. (protobufjs's own `value` getter
// scans them with hasOwnProperty on every read.)
const COMMON_FIRST = ['doubleValue', 'floatValue'];
const METRIC_VALUE = [
  ...COMMON_FIRST,
  ...valueMembers('Metric').filter((member) => !COMMON_FIRST.includes(member)),
];
const PROPERTY_VALUE = valueMembers('PropertyValue');
// Template.Parameter has the same members.
const SCALAR_VALUE = valueMembers('DataSet.DataSetValue');

function oneof(w: WireObject, members: readonly string[]): string | undefined {
  for (let i = 0; i < members.length; i++) if (w[members[i]!] !== undefined) return members[i];
  return undefined;
}

class Converter {
  constructor(
    readonly bytes: Uint8Array,
    readonly options: Required<DecodeLimits> & { datatypes?: DatatypeLookup | undefined },
  ) {}

  fail(message: string, path: string): never {
    // Offsets are known to the scan only; a semantic error points at the payload as a whole.
    throw new PayloadDecodeError(message, 0, undefined, path);
  }

  intFrom(w: WireObject, type: number, path: string, field: string | undefined): number | Int64 {
    let n: Int64;
    if (field === 'intValue') n = w.intValue as number;
    else if (field === 'longValue') {
      if (type === DataType.Int64) n = i64FromLong(w.longValue);
      else if (type === DataType.UInt64 || type === DataType.DateTime) n = u64FromLong(w.longValue);
      else {
        // A narrow type sign-extended to 64 bits (as C encoders write it) reads as signed.
        const s = i64FromLong(w.longValue);
        n = typeof s === 'number' && s < 0 ? s : u64FromLong(w.longValue);
      }
    } else
      return this.fail(
        `${dataTypeName(type)} value in ${field ?? 'no field'} (expected an integer field)`,
        path,
      );
    switch (type) {
      case DataType.Int8:
        return this.signed(n, 8, path);
      case DataType.Int16:
        return this.signed(n, 16, path);
      case DataType.Int32:
        return this.signed(n, 32, path);
      case DataType.UInt8:
        return this.unsigned(n, 0xff, path);
      case DataType.UInt16:
        return this.unsigned(n, 0xffff, path);
      case DataType.UInt32:
        return this.unsigned(n, 0xffffffff, path);
      case DataType.Int64:
        return field === 'intValue' ? (n as number) | 0 : n;
      default:
        return n; // UInt64, DateTime
    }
  }

  signed(n: Int64, bits: number, path: string): number {
    if (typeof n === 'number') {
      const half = 2 ** (bits - 1);
      if (n >= -half && n < half) return n;
      if (n >= half && n < 2 * half) return n - 2 * half; // the narrow two's complement pattern
      if (bits < 32 && n >= 2 ** 32 - half && n < 2 ** 32) return n - 2 ** 32; // sign-extended to 32 bits
    }
    return this.fail(`${String(n)} is not a signed ${bits}-bit integer`, path);
  }

  unsigned(n: Int64, max: number, path: string): number {
    if (typeof n === 'number' && n >= 0 && n <= max) return n;
    return this.fail(`${String(n)} is out of range [0, ${max}]`, path);
  }

  /** A scalar of a basic type (1–14) or Bytes/File/UUID, from a oneof holder `w`. */
  scalar(
    w: WireObject,
    type: number,
    path: string,
    // The set oneof field, found once by the caller.
    field: string | undefined = oneof(w, SCALAR_VALUE),
  ): number | bigint | boolean | string | Uint8Array {
    switch (type) {
      case DataType.Int8:
      case DataType.Int16:
      case DataType.Int32:
      case DataType.Int64:
      case DataType.UInt8:
      case DataType.UInt16:
      case DataType.UInt32:
      case DataType.UInt64:
      case DataType.DateTime:
        return this.intFrom(w, type, path, field);
      case DataType.Float:
        if (field === 'floatValue') return w.floatValue;
        break;
      case DataType.Double:
        if (field === 'doubleValue') return w.doubleValue;
        if (field === 'floatValue') return w.floatValue; // widening is exact
        break;
      case DataType.Boolean:
        if (field === 'booleanValue') return w.booleanValue;
        break;
      case DataType.String:
      case DataType.Text:
      case DataType.UUID:
        if (field === 'stringValue') return w.stringValue;
        break;
      case DataType.Bytes:
      case DataType.File:
        if (field === 'bytesValue') return new Uint8Array(w.bytesValue); // a copy: never alias the input
        break;
      default:
        return this.fail(`datatype ${dataTypeName(type)} is not a scalar type`, path);
    }
    return this.fail(`${dataTypeName(type)} value carried in ${field ?? 'no value field'}`, path);
  }

  /** A value without a known datatype, by its wire field. */
  raw(w: WireObject, field: string | undefined): MetricValue | undefined {
    switch (field) {
      case 'intValue':
        return w.intValue as number;
      case 'longValue':
        return u64FromLong(w.longValue);
      case 'floatValue':
        return w.floatValue as number;
      case 'doubleValue':
        return w.doubleValue as number;
      case 'booleanValue':
        return w.booleanValue as boolean;
      case 'stringValue':
        return w.stringValue as string;
      case 'bytesValue':
        return new Uint8Array(w.bytesValue);
      default:
        return undefined;
    }
  }

  checkType(type: number, path: string): void {
    if (!isDataType(type)) this.fail(`datatype ${type} is not a Sparkplug datatype`, path);
  }

  metric(w: WireObject, path: string): Metric {
    const m: Metric = {};
    if (has(w, 'name')) m.name = w.name;
    if (has(w, 'alias')) m.alias = u64FromLong(w.alias);
    if (has(w, 'timestamp')) m.timestamp = u64FromLong(w.timestamp);
    let type: number | undefined;
    if (has(w, 'datatype')) {
      type = w.datatype as number;
      this.checkType(type, `${path}.datatype`);
      m.datatype = type as DataType;
    } else if (this.options.datatypes) {
      type = this.options.datatypes(m);
    }
    if (has(w, 'isHistorical')) m.isHistorical = w.isHistorical;
    if (has(w, 'isTransient')) m.isTransient = w.isTransient;
    if (has(w, 'metadata')) m.metadata = this.metaData(w.metadata);
    if (has(w, 'properties')) m.properties = this.propertySet(w.properties, `${path}.properties`);
    if (w.isNull === true) {
      m.value = null;
      return m;
    }
    const field = oneof(w, METRIC_VALUE);
    if (field === undefined || field === 'extensionValue') return m;
    const vp = `${path}.value`;
    if (type === undefined) {
      if (field === 'datasetValue') m.value = this.dataSet(w.datasetValue, vp);
      else if (field === 'templateValue') m.value = this.template(w.templateValue, vp);
      else m.value = this.raw(w, field);
    } else if (type === DataType.DataSet) {
      if (field !== 'datasetValue') this.fail(`DataSet value carried in ${field}`, vp);
      m.value = this.dataSet(w.datasetValue, vp);
    } else if (type === DataType.Template) {
      if (field !== 'templateValue') this.fail(`Template value carried in ${field}`, vp);
      m.value = this.template(w.templateValue, vp);
    } else if (isArrayDataType(type)) {
      if (field !== 'bytesValue') this.fail(`${dataTypeName(type)} value carried in ${field}`, vp);
      m.value = decodeArray(type, w.bytesValue, this.options.maxArrayLength, 0, vp);
    } else {
      m.value = this.scalar(w, type, vp, field);
    }
    return m;
  }

  metaData(w: WireObject): MetaData {
    const md: MetaData = {};
    if (has(w, 'isMultiPart')) md.isMultiPart = w.isMultiPart;
    for (const k of ['contentType', 'fileName', 'fileType', 'md5', 'description'] as const) {
      if (has(w, k)) md[k] = w[k];
    }
    if (has(w, 'size')) md.size = u64FromLong(w.size);
    if (has(w, 'seq')) md.seq = u64FromLong(w.seq);
    return md;
  }

  propertySet(w: WireObject, path: string): PropertySet {
    const keys: string[] = w.keys;
    const values: WireObject[] = w.values;
    if (keys.length !== values.length) {
      this.fail(`PropertySet with ${keys.length} key(s) and ${values.length} value(s)`, path);
    }
    const out: PropertySet = Object.create(null);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const pp = `${path}.${key}`;
      if (Object.hasOwn(out, key)) this.fail(`duplicate property key ${JSON.stringify(key)}`, pp);
      out[key] = this.propertyValue(values[i], pp);
    }
    return out;
  }

  propertyValue(w: WireObject, path: string): PropertyValue {
    if (!has(w, 'type')) this.fail('property value without a type', path);
    const type = w.type as number;
    if (!isPropertyDataType(type)) this.fail(`property type ${dataTypeName(type)} is not allowed`, path);
    const field = oneof(w, PROPERTY_VALUE);
    if (w.isNull === true || field === undefined || field === 'extensionValue')
      return { type: type as DataType, value: null };
    if (type === DataType.PropertySet) {
      if (field !== 'propertysetValue') this.fail(`PropertySet value carried in ${field}`, path);
      return { type, value: this.propertySet(w.propertysetValue, path) };
    }
    if (type === DataType.PropertySetList) {
      if (field !== 'propertysetsValue') this.fail(`PropertySetList value carried in ${field}`, path);
      const sets: WireObject[] = w.propertysetsValue.propertyset;
      return { type, value: sets.map((s, i) => this.propertySet(s, `${path}[${i}]`)) };
    }
    return { type: type as DataType, value: this.scalar(w, type, path, field) as PropertyValue['value'] };
  }

  dataSet(w: WireObject, path: string): DataSet {
    const columns: string[] = w.columns;
    const types: number[] = w.types;
    if (columns.length !== types.length) {
      this.fail(`DataSet with ${columns.length} column name(s) and ${types.length} type(s)`, path);
    }
    if (has(w, 'numOfColumns')) {
      const n = u64FromLong(w.numOfColumns);
      if (n !== columns.length)
        this.fail(`DataSet num_of_columns ${String(n)} but ${columns.length} column(s)`, path);
    }
    types.forEach((t, i) => {
      if (!isBasicDataType(t))
        this.fail(`column type ${dataTypeName(t)} is not a basic type`, `${path}.types[${i}]`);
    });
    const rows = (w.rows as WireObject[]).map((row, r) => {
      const cells: WireObject[] = row.elements;
      if (cells.length !== columns.length) {
        this.fail(`row of ${cells.length} cell(s) for ${columns.length} column(s)`, `${path}.rows[${r}]`);
      }
      return cells.map((cell, c) => {
        const field = oneof(cell, SCALAR_VALUE);
        return field === undefined || field === 'extensionValue'
          ? null
          : (this.scalar(cell, types[c]!, `${path}.rows[${r}][${c}]`, field) as
              | number
              | bigint
              | boolean
              | string);
      });
    });
    return { columns, types: types as DataType[], rows };
  }

  template(w: WireObject, path: string): Template {
    const t: Template = {
      isDefinition: w.isDefinition === true,
      metrics: (w.metrics as WireObject[]).map((m, i) => this.metric(m, `${path}.metrics[${i}]`)),
    };
    if (has(w, 'version')) t.version = w.version;
    if (has(w, 'templateRef')) t.templateRef = w.templateRef;
    if (has(w, 'parameters') && w.parameters.length > 0) {
      t.parameters = (w.parameters as WireObject[]).map((p, i) => {
        const pp = `${path}.parameters[${i}]`;
        if (!has(p, 'type')) this.fail('template parameter without a type', pp);
        if (!isBasicDataType(p.type))
          this.fail(`parameter type ${dataTypeName(p.type)} is not a basic type`, pp);
        const field = oneof(p, SCALAR_VALUE);
        const value =
          field === undefined || field === 'extensionValue'
            ? null
            : (this.scalar(p, p.type, `${pp}.value`, field) as number | bigint | boolean | string);
        return { name: has(p, 'name') ? p.name : '', type: p.type as DataType, value };
      });
    }
    return t;
  }
}

/**
 * Decodes a Sparkplug B payload. Throws a PayloadDecodeError (malformed bytes, with the offset; or a value
 * that breaks the specification, with its path) or framing's LimitExceededError (a limit of
 * {@link DecodeLimits}, checked before anything is allocated).
 */
export function decodePayload(bytes: Uint8Array, options: DecodeOptions = {}): Payload {
  const limits = { ...DEFAULT_DECODE_LIMITS, ...definedOnly(options) };
  scanPayload(bytes, limits);
  let w: WireObject;
  try {
    w = PayloadType.decode(bytes);
  } catch (error) {
    // The scan has checked the framing; this is a safety net (protobufjs errors carry no offset).
    throw new PayloadDecodeError(`protobuf decoding failed: ${(error as Error).message}`, 0, bytes, '', {
      cause: error,
    });
  }
  const c = new Converter(bytes, { ...limits, datatypes: options.datatypes });
  const p: Payload = { metrics: (w.metrics as WireObject[]).map((m, i) => c.metric(m, `metrics[${i}]`)) };
  if (has(w, 'timestamp')) p.timestamp = u64FromLong(w.timestamp as Long);
  if (has(w, 'seq')) p.seq = u64FromLong(w.seq as Long);
  if (has(w, 'uuid')) p.uuid = w.uuid;
  if (has(w, 'body')) p.body = new Uint8Array(w.body);
  return p;
}

function definedOnly(o: DecodeOptions): DecodeLimits {
  const out: Record<string, number> = {};
  for (const k of Object.keys(DEFAULT_DECODE_LIMITS) as (keyof DecodeLimits)[]) {
    const v = o[k];
    if (v !== undefined) {
      if (!(v >= 0)) throw new RangeError(`${k} must be >= 0, got ${v}`);
      out[k] = v;
    }
  }
  return out;
}
