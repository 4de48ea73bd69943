// The value model: what PyMoDAQ puts on the wire, in TypeScript. Decoders always return the explicit
// forms (a numeric scalar is a PyScalar that keeps its dtype), so a decoded value re-encodes byte for byte.
// Encoders also accept shorthands: a JS number is a Python float, a bigint a Python int.

import type { Complex, Element } from './dtype';
import { NdArray } from './nd-array';

/** A numpy / Python scalar with its dtype (`<i8` int, `<f8` float, `|b1` bool, `<c16` complex, `<f4` …). */
export interface PyScalar {
  readonly type: 'scalar';
  readonly dtype: string;
  /** number, or bigint for 64-bit ints beyond 2^53; boolean for `|b1`; `{re, im}` for complex. */
  readonly value: Element;
}

/** Python tuple (gen D only; tag `tuple`, unverified upstream). */
export interface PyTuple {
  readonly type: 'tuple';
  readonly items: readonly PyValue[];
}

/** Python dict (gen D only; tag `dict`, unverified upstream). Keys keep their order. */
export interface PyDict {
  readonly type: 'dict';
  readonly entries: readonly (readonly [PyValue, PyValue])[];
}

/** pymodaq `Axis` (docs/protocols/pymodaq.md §5.4, §6.1). */
export interface Axis {
  readonly type: 'Axis';
  readonly label: string;
  readonly units: string;
  /** The axis values (always materialised on the wire). */
  readonly data: NdArray;
  /** Which data dimension the axis describes. */
  readonly index: number;
  readonly spreadOrder: number;
}

/** DataWithAxes flavours, by Python class name (the name is what travels). DataFromRoi is gen D only. */
export type DwaClass =
  | 'DataWithAxes'
  | 'DataRaw'
  | 'DataActuator'
  | 'DataFromPlugins'
  | 'DataCalculated'
  | 'DataFromRoi';
export const DWA_CLASSES: readonly DwaClass[] = [
  'DataWithAxes',
  'DataRaw',
  'DataActuator',
  'DataFromPlugins',
  'DataCalculated',
  'DataFromRoi',
];

export type DataDim = 'Data0D' | 'Data1D' | 'Data2D' | 'DataND';
export const DATA_DIMS: readonly DataDim[] = ['Data0D', 'Data1D', 'Data2D', 'DataND'];
export type DataSource = 'raw' | 'calculated';
export const DATA_SOURCES: readonly DataSource[] = ['raw', 'calculated'];
export type DataDistribution = 'uniform' | 'spread';
export const DATA_DISTRIBUTIONS: readonly DataDistribution[] = ['uniform', 'spread'];

/** An extra attribute of a DataWithAxes / DataToExport: a name and any value, in order. */
export interface ExtraAttribute {
  readonly name: string;
  readonly value: PyValue;
}

/** pymodaq DataWithAxes and its flavours (docs/protocols/pymodaq.md §5.5, §6.1). */
export interface DataWithAxes {
  readonly type: DwaClass;
  /** Seconds since the epoch (a float on the wire). */
  readonly timestamp: number;
  readonly name: string;
  /** Units; '' when none. Layouts C1–C3 do not carry it (a decoded C1–C3 value has ''). */
  readonly units: string;
  /** `raw` or `calculated`. */
  readonly source: 'raw' | 'calculated';
  readonly dim: DataDim;
  /** `uniform` (a grid) or `spread` (scattered points). */
  readonly distribution: 'uniform' | 'spread';
  /** One array per channel. */
  readonly data: readonly NdArray[];
  readonly labels: readonly string[];
  readonly origin: string;
  readonly navIndexes: readonly number[];
  readonly axes: readonly Axis[];
  /** Error arrays, one per channel; empty when none. Layouts C1–C2 do not carry them. */
  readonly errors: readonly NdArray[];
  /** Layout C1 does not carry them. */
  readonly extraAttributes: readonly ExtraAttribute[];
}

/** DataToExport and its gen D subclasses. */
export type DteClass = 'DataToExport' | 'DataScan' | 'DataToActuators';
export const DTE_CLASSES: readonly DteClass[] = ['DataToExport', 'DataScan', 'DataToActuators'];

/** pymodaq DataToExport (docs/protocols/pymodaq.md §5.6, §6.1). */
export interface DataToExport {
  /** DataToExport or one of its gen D subclasses. */
  readonly type: 'DataToExport' | 'DataScan' | 'DataToActuators';
  readonly timestamp: number;
  readonly name: string;
  readonly data: readonly DataWithAxes[];
  /** Gen D only (4.x has none). */
  readonly extraAttributes: readonly ExtraAttribute[];
}

/** A parameter's path and its XML (tag `parameter` in C3/C4, `ParameterWithPath` in D). */
export interface ParameterWithPath {
  readonly type: 'ParameterWithPath';
  readonly path: readonly string[];
  /** The parameter XML. Gen D sends bytes (kept as Uint8Array so it re-encodes as `bytes`). */
  readonly xml: string | Uint8Array;
}

/**
 * Any value the codec handles. Decoders produce: string (str), Uint8Array (bytes), boolean (bool), null
 * (None), PyScalar (int/float/complex/numpy scalars), NdArray, arrays (list), PyTuple, PyDict, Axis,
 * DataWithAxes, DataToExport, ParameterWithPath. Encoders also take a JS number (Python float, `<f8`)
 * and a bigint (Python int, `<i8`).
 */
export type PyValue =
  | string
  | Uint8Array
  | boolean
  | number
  | bigint
  | null
  | PyScalar
  | NdArray
  | readonly PyValue[]
  | PyTuple
  | PyDict
  | Axis
  | DataWithAxes
  | DataToExport
  | ParameterWithPath;

// --- constructors -----------------------------------------------------------------------------------------

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;
const INT64_MAX = 2n ** 63n - 1n;

/** Python int: `<i8`, or `<u8` for 2^63..2^64-1 (what numpy picks); beyond that numpy cannot encode it. */
export function pyInt(value: number | bigint): PyScalar {
  const v = typeof value === 'bigint' ? value : BigInt(checkInteger(value));
  if (v < INT64_MIN || v > UINT64_MAX) throw new RangeError(`pyInt: ${v} does not fit 64 bits`);
  const dtype = v > INT64_MAX ? '<u8' : '<i8';
  return { type: 'scalar', dtype, value: normaliseInt(v) };
}

function checkInteger(value: number): number {
  if (!Number.isSafeInteger(value))
    throw new RangeError(`pyInt: ${value} is not a safe integer; pass a bigint`);
  return value;
}

function normaliseInt(v: bigint): number | bigint {
  return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v;
}

/** Python float (`<f8`). */
export function pyFloat(value: number): PyScalar {
  return { type: 'scalar', dtype: '<f8', value };
}

/** Python complex (`<c16`). */
export function pyComplex(re: number, im: number): PyScalar {
  return { type: 'scalar', dtype: '<c16', value: { re, im } satisfies Complex };
}

/** A numpy scalar of any dtype, e.g. `pyScalar(1.5, '<f4')` for `np.float32(1.5)`. */
export function pyScalar(value: Element, dtype: string): PyScalar {
  // Validate and normalise through a one-element array (range checks, dtype parsing).
  const v = NdArray.fromValues([value], { dtype, shape: [] }).get(0);
  return { type: 'scalar', dtype, value: v };
}

export function pyTuple(...items: PyValue[]): PyTuple {
  return { type: 'tuple', items };
}

export function pyDict(entries: Iterable<readonly [PyValue, PyValue]> | Record<string, PyValue>): PyDict {
  const list =
    Symbol.iterator in Object(entries)
      ? [...(entries as Iterable<readonly [PyValue, PyValue]>)]
      : Object.entries(entries as Record<string, PyValue>);
  return { type: 'dict', entries: list };
}

export function axis(init: {
  label?: string;
  units?: string;
  data: NdArray | readonly number[];
  index?: number;
  spreadOrder?: number;
}): Axis {
  return {
    type: 'Axis',
    label: init.label ?? '',
    units: init.units ?? '',
    data: init.data instanceof NdArray ? init.data : NdArray.fromValues(init.data),
    index: init.index ?? 0,
    spreadOrder: init.spreadOrder ?? 0,
  };
}

export interface DataWithAxesInit {
  name: string;
  /** Arrays (or plain numbers, each becoming a 1-element `<f8` array), one per channel. */
  data: readonly (NdArray | number)[];
  timestamp?: number;
  units?: string;
  source?: 'raw' | 'calculated';
  /** Default from the first array: size 1 -> Data0D, ndim 1 -> Data1D, 2 -> Data2D, else DataND. */
  dim?: DataDim;
  distribution?: 'uniform' | 'spread';
  /** Default `CH00`, `CH01`, … (PyMoDAQ's default labels). */
  labels?: readonly string[];
  origin?: string;
  navIndexes?: readonly number[];
  axes?: readonly Axis[];
  errors?: readonly NdArray[];
  extraAttributes?: readonly ExtraAttribute[] | Record<string, PyValue>;
}

/** PyMoDAQ's `dim` for an array: size 1 is 0-D, then by ndim. */
export function dimOf(array: NdArray): DataDim {
  if (array.size === 1 && array.ndim <= 1) return 'Data0D';
  if (array.ndim <= 1) return 'Data1D';
  if (array.ndim === 2) return 'Data2D';
  return 'DataND';
}

/** The first labels, made once (every DataWithAxes built without labels gets them). */
const LABELS = Array.from({ length: 16 }, (_, i) => `CH${String(i).padStart(2, '0')}`);

export function defaultLabels(n: number): string[] {
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = LABELS[i] ?? `CH${String(i).padStart(2, '0')}`;
  return out;
}

function extras(init: DataWithAxesInit['extraAttributes']): ExtraAttribute[] {
  if (init === undefined) return [];
  if (Array.isArray(init)) return [...(init as readonly ExtraAttribute[])];
  return Object.entries(init as Record<string, PyValue>).map(([name, value]) => ({ name, value }));
}

/** Now, in seconds since the epoch (PyMoDAQ's `time.time()`). */
export function nowSeconds(): number {
  return Date.now() / 1000;
}

/** Builds a DataWithAxes flavour with PyMoDAQ's defaults. */
export function dataWithAxes(type: DwaClass, init: DataWithAxesInit): DataWithAxes {
  const data = init.data.map((d) => (d instanceof NdArray ? d : NdArray.fromValues([d])));
  return {
    type,
    timestamp: init.timestamp ?? nowSeconds(),
    name: init.name,
    units: init.units ?? '',
    source: init.source ?? 'raw',
    dim: init.dim ?? (data[0] ? dimOf(data[0]) : 'Data0D'),
    distribution: init.distribution ?? 'uniform',
    data,
    labels: init.labels ? [...init.labels] : defaultLabels(data.length),
    origin: init.origin ?? '',
    navIndexes: [...(init.navIndexes ?? [])],
    axes: [...(init.axes ?? [])],
    errors: [...(init.errors ?? [])],
    extraAttributes: extras(init.extraAttributes),
  };
}

/** `DataActuator(data=value, units=…)`: name `actuator`, one 1-element `<f8` array (docs/protocols/pymodaq.md §5.5 byte walk). */
export function dataActuator(
  value: number | NdArray,
  init: Omit<Partial<DataWithAxesInit>, 'data'> = {},
): DataWithAxes {
  return dataWithAxes('DataActuator', { name: 'actuator', ...init, data: [value] });
}

/**
 * `DataFromPlugins`: PyMoDAQ always gives it the extra attributes `do_plot` and `do_save` (True), which
 * travel in layouts C2+ and D (docs/protocols/pymodaq.md §5.5, `v4_seq_done_dte`).
 */
export function dataFromPlugins(init: DataWithAxesInit): DataWithAxes {
  return dataWithAxes('DataFromPlugins', {
    ...init,
    extraAttributes: init.extraAttributes ?? [
      { name: 'do_plot', value: true },
      { name: 'do_save', value: true },
    ],
  });
}

/** A DataToExport. As in PyMoDAQ, every DataWithAxes inside gets `origin` = the DataToExport's name. */
export function dataToExport(init: {
  name: string;
  data: readonly DataWithAxes[];
  timestamp?: number;
  extraAttributes?: readonly ExtraAttribute[] | Record<string, PyValue>;
  type?: DataToExport['type'];
}): DataToExport {
  return {
    type: init.type ?? 'DataToExport',
    timestamp: init.timestamp ?? nowSeconds(),
    name: init.name,
    data: init.data.map((d) => ({ ...d, origin: init.name })),
    extraAttributes: extras(init.extraAttributes),
  };
}

export function parameterWithPath(path: readonly string[], xml: string | Uint8Array): ParameterWithPath {
  return { type: 'ParameterWithPath', path: [...path], xml };
}

// --- type guards ------------------------------------------------------------------------------------------

function hasType(value: unknown): value is { type: unknown } {
  return typeof value === 'object' && value !== null && 'type' in value;
}

export function isPyScalar(value: unknown): value is PyScalar {
  return hasType(value) && value.type === 'scalar';
}
export function isDataWithAxes(value: unknown): value is DataWithAxes {
  return hasType(value) && (DWA_CLASSES as readonly unknown[]).includes(value.type);
}
export function isDataToExport(value: unknown): value is DataToExport {
  return hasType(value) && (DTE_CLASSES as readonly unknown[]).includes(value.type);
}
export function isAxis(value: unknown): value is Axis {
  return hasType(value) && value.type === 'Axis';
}
export function isParameterWithPath(value: unknown): value is ParameterWithPath {
  return hasType(value) && value.type === 'ParameterWithPath';
}
export function isPyTuple(value: unknown): value is PyTuple {
  return hasType(value) && value.type === 'tuple';
}
export function isPyDict(value: unknown): value is PyDict {
  return hasType(value) && value.type === 'dict';
}

/** A short human name of a value's Python type, for error messages. */
export function pyTypeName(value: unknown): string {
  if (value === null) return 'None';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return 'float';
  if (typeof value === 'bigint') return 'int';
  if (value instanceof NdArray) return `ndarray(${value.dtype})`;
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'list';
  if (isPyScalar(value)) return `scalar(${value.dtype})`;
  if (hasType(value) && typeof value.type === 'string') return value.type;
  return typeof value;
}
