// The decoded (and encodable) shape of a Sparkplug B payload, in the spec's terms.
//
// 64-bit integers (Int64, UInt64, DateTime, timestamps, aliases, seq) are `number` while they are safe
// integers and `bigint` beyond (UInt64 above 2^53, Int64 below -2^53): nothing is rounded. The encoder
// takes either form.

import type { DataType } from './datatypes';

/** A 64-bit integer as decoded: a number when it is a safe integer, a bigint otherwise. */
export type Int64 = number | bigint;

/** The value of a metric, property, DataSet cell or template parameter, by datatype:
 * - Int8…UInt32, Float, Double: `number`; Int64, UInt64, DateTime: `number | bigint` (ms since epoch for DateTime)
 * - Boolean: `boolean`; String, Text, UUID: `string`; Bytes, File: `Uint8Array`
 * - DataSet: {@link DataSet}; Template: {@link Template}; PropertySet / PropertySetList (properties only)
 * - Int8Array…DoubleArray: `number[]`; Int64Array, UInt64Array, DateTimeArray: `(number | bigint)[]`;
 *   BooleanArray: `boolean[]`; StringArray: `string[]`
 * - `null` for a null value (`is_null`). */
export type MetricValue =
  | number
  | bigint
  | boolean
  | string
  | Uint8Array
  | DataSet
  | Template
  | readonly number[]
  | readonly Int64[]
  | readonly boolean[]
  | readonly string[]
  | null;

export interface MetaData {
  isMultiPart?: boolean;
  contentType?: string;
  size?: Int64;
  seq?: Int64;
  fileName?: string;
  fileType?: string;
  md5?: string;
  description?: string;
}

export interface PropertyValue {
  /** The datatype of the value (basic types, PropertySet, PropertySetList). */
  type: DataType;
  /** `null` when the property is null (`is_null`). */
  value: number | bigint | boolean | string | PropertySet | readonly PropertySet[] | null;
}

/** Property name → value (keys and values arrays of the wire form, kept in order). */
export type PropertySet = Record<string, PropertyValue>;

export interface DataSet {
  /** Column names; `types[i]` is the datatype of column `i` (basic types 1–14). */
  columns: readonly string[];
  types: readonly DataType[];
  /** Rows of cells, one per column; `null` for a cell without a value. */
  rows: ReadonlyArray<ReadonlyArray<number | bigint | boolean | string | null>>;
}

export interface TemplateParameter {
  name: string;
  type: DataType;
  value: number | bigint | boolean | string | null;
}

export interface Template {
  /** Template definitions (in NBIRTH) have `isDefinition: true` and no `templateRef`. */
  isDefinition: boolean;
  /** The definition's name, for an instance. */
  templateRef?: string;
  version?: string;
  metrics: readonly Metric[];
  parameters?: readonly TemplateParameter[];
}

export interface Metric {
  name?: string;
  alias?: Int64;
  /** Milliseconds since the epoch, UTC. */
  timestamp?: Int64;
  /** Required in births; omitted in DATA and commands (then the decoder needs a datatype lookup). */
  datatype?: DataType;
  isHistorical?: boolean;
  isTransient?: boolean;
  /** The value; `null` for a null metric, absent when the metric carries no value at all. */
  value?: MetricValue;
  metadata?: MetaData;
  properties?: PropertySet;
}

export interface Payload {
  /** Milliseconds since the epoch, UTC: when the message was sent. */
  timestamp?: Int64;
  metrics: readonly Metric[];
  /** 0–255 in every edge-node message except NDEATH; absent in commands. */
  seq?: Int64;
  uuid?: string;
  body?: Uint8Array;
}
