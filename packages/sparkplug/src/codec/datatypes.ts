// Sparkplug B 3.0 §6.4.16 "Data Types": the numbers carried in Metric.datatype, PropertyValue.type,
// DataSet.types and Template.Parameter.type (all uint32 on the wire).

export const DataType = {
  Unknown: 0,
  Int8: 1,
  Int16: 2,
  Int32: 3,
  Int64: 4,
  UInt8: 5,
  UInt16: 6,
  UInt32: 7,
  UInt64: 8,
  Float: 9,
  Double: 10,
  Boolean: 11,
  String: 12,
  DateTime: 13,
  Text: 14,
  UUID: 15,
  DataSet: 16,
  Bytes: 17,
  File: 18,
  Template: 19,
  PropertySet: 20,
  PropertySetList: 21,
  Int8Array: 22,
  Int16Array: 23,
  Int32Array: 24,
  Int64Array: 25,
  UInt8Array: 26,
  UInt16Array: 27,
  UInt32Array: 28,
  UInt64Array: 29,
  FloatArray: 30,
  DoubleArray: 31,
  BooleanArray: 32,
  StringArray: 33,
  DateTimeArray: 34,
} as const;

export type DataType = (typeof DataType)[keyof typeof DataType];
export type DataTypeName = keyof typeof DataType;

const NAMES: readonly DataTypeName[] = Object.keys(DataType) as DataTypeName[];

/** The spec's name of a datatype number (`Int32`), or `Unknown(<n>)` for a number outside the enum. */
export function dataTypeName(type: number): string {
  return Number.isInteger(type) && type >= 0 && type < NAMES.length ? NAMES[type]! : `Unknown(${type})`;
}

/** True for the numbers 1…34 (0, Unknown, is not a usable datatype). */
export function isDataType(type: unknown): type is DataType {
  return typeof type === 'number' && Number.isInteger(type) && type >= 1 && type <= 34;
}

/** Types allowed for a DataSet column (§6.4.7: the basic types 1–14 only). */
export function isBasicDataType(type: number): boolean {
  return Number.isInteger(type) && type >= 1 && type <= 14;
}

/** Types allowed for a PropertyValue (§6.4.10: the basic types and PropertySet/PropertySetList). */
export function isPropertyDataType(type: number): boolean {
  return isBasicDataType(type) || type === DataType.PropertySet || type === DataType.PropertySetList;
}

/** Types allowed for a Template parameter (§6.4.13: scalar basic types). */
export function isParameterDataType(type: number): boolean {
  return isBasicDataType(type);
}

export function isArrayDataType(type: number): boolean {
  return type >= DataType.Int8Array && type <= DataType.DateTimeArray;
}
