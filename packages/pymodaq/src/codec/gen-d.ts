// Generation D (PyMoDAQ 5.x, pymodaq_utils `SerializableFactory`, docs/protocols/pymodaq.md §6): every message is a u32-length
// frame holding one tagged object; the tag is the Python class name and every field inside carries its
// own tag. labwire matches tags exactly (upstream does a substring test) and a frame that fails to decode
// is consumed whole, so the stream stays in step.

import {
  anyValue,
  type Check,
  expectArray,
  expectAxis,
  expectDim,
  expectDistribution,
  expectDwa,
  expectInt,
  expectList,
  expectNumber,
  expectSource,
  expectStr,
  unexpected,
} from './checks';
import { UnexpectedValueError, UnknownTagError, UnsupportedValueError } from './errors';
import { NdArray } from './nd-array';
import {
  arraySync,
  asScalar,
  bytesSync,
  isPythonScalar,
  itemsSync,
  numericSync,
  strSync,
  tagNow,
  writeArrayND,
  writeItems,
  writeNumeric,
} from './primitives';
import { decodeAt, FRAME, type Pull, type PullContext } from './pull';
import {
  type Axis,
  type DataToExport,
  type DataWithAxes,
  DTE_CLASSES,
  type DteClass,
  DWA_CLASSES,
  type DwaClass,
  type ExtraAttribute,
  isAxis,
  isDataToExport,
  isDataWithAxes,
  isParameterWithPath,
  isPyDict,
  isPyTuple,
  type PyScalar,
  type PyValue,
  pyTypeName,
} from './values';
import { strRuns, type WireWriter } from './wire-writer';

/** Every tag labwire registers eagerly (upstream registers some lazily, docs/protocols/pymodaq.md §9 c). */
export const TAGS_D = [
  'str',
  'bytes',
  'int',
  'float',
  'bool',
  'complex',
  'ndarray',
  'list',
  'tuple',
  'dict',
  'NoneType',
  'Axis',
  ...DWA_CLASSES,
  ...DTE_CLASSES,
  'ParameterWithPath',
] as const;

/** The tags, as the bytes of a `str`. */
const TAG = strRuns(TAGS_D);

// --- decoding ---------------------------------------------------------------------------------------------
// A frame payload is always complete before it is decoded (readFrame, or the frame at hand), so gen D
// decodes synchronously: each field takes its fast path over the payload, or the general one.

const T_STR = TAG.str;
const T_FLOAT = TAG.float;
const T_LIST = TAG.list;
const T_INT = TAG.int;
const T_NDARRAY = TAG.ndarray;
const ndarraySync = (ctx: PullContext): PyValue => arraySync(ctx, 'atleast1d');

export function readTaggedD(ctx: PullContext): PyValue {
  const at = ctx.offset;
  const tag = strSync(ctx);
  switch (tag) {
    case 'str':
      return strSync(ctx);
    case 'bytes':
      return bytesSync(ctx);
    case 'int':
    case 'float':
    case 'bool':
    case 'complex':
      return numericSync(ctx);
    case 'ndarray':
      return ndarraySync(ctx);
    case 'list':
      return readItemsD(ctx);
    case 'tuple':
      return { type: 'tuple', items: readItemsD(ctx) };
    case 'dict':
      return readDictD(ctx);
    case 'NoneType':
      return null;
    case 'Axis':
      return readAxisD(ctx);
    case 'ParameterWithPath':
      return readParameterD(ctx);
    default:
      if ((DWA_CLASSES as readonly string[]).includes(tag)) return readDwaD(ctx, tag as DwaClass);
      if ((DTE_CLASSES as readonly string[]).includes(tag)) return readDteD(ctx, tag as DteClass);
      throw new UnknownTagError(tag, at, TAGS_D, ctx.field || undefined);
  }
}

/** The body of a `list` or `tuple`: u32 count, then tagged objects. */
function readItemsD(ctx: PullContext): PyValue[] {
  return itemsSync(ctx, readTaggedD, anyValue);
}

/**
 * A tagged field that must pass `check` (checked with the field still named). When it carries the usual
 * tag `tag`, its body is read directly with `body`; any other tag goes the general way (and `check` names
 * the mismatch).
 */
function typed<T>(
  ctx: PullContext,
  name: string,
  check: Check<T>,
  tag: Uint8Array = T_STR,
  body: (ctx: PullContext) => PyValue = strSync,
): T {
  ctx.enter(name);
  const at = ctx.offset;
  const value = check(ctx, tagNow(ctx, tag) ? body(ctx) : readTaggedD(ctx), at);
  ctx.leave();
  return value;
}

/** A field that must be a tagged `list` whose items all pass `check`. */
function typedList<T>(ctx: PullContext, name: string, check: Check<T>): T[] {
  ctx.enter(name);
  const at = ctx.offset;
  if (!tagNow(ctx, T_LIST)) {
    const tag = strSync(ctx);
    if (tag !== 'list')
      throw new UnexpectedValueError('a list', `a value tagged ${JSON.stringify(tag)}`, at, ctx.field);
  }
  const items = itemsSync(ctx, readTaggedD, check);
  ctx.leave();
  return items;
}

const sourceCheck: Check<DataWithAxes['source']> = (c, v, at) => expectSource(c, expectStr(c, v, at), at);
const dimCheck: Check<DataWithAxes['dim']> = (c, v, at) => expectDim(c, expectStr(c, v, at), at);
const distributionCheck: Check<DataWithAxes['distribution']> = (c, v, at) =>
  expectDistribution(c, expectStr(c, v, at), at);
const textOrBytes: Check<string | Uint8Array> = (c, v, at) => {
  if (typeof v === 'string' || v instanceof Uint8Array) return v;
  throw unexpected(c, 'str or bytes', v, at);
};
/** A `float` field (timestamps). */
const timestamp = (ctx: PullContext): number => typed(ctx, 'timestamp', expectNumber, T_FLOAT, numericSync);

function readDictD(ctx: PullContext): PyValue {
  ctx.down();
  const keys = typed(ctx, 'keys', expectList, T_LIST, readItemsD);
  const entries: (readonly [PyValue, PyValue])[] = [];
  for (let i = 0; i < keys.length; i++) {
    ctx.enterItem(i);
    entries.push([keys[i]!, readTaggedD(ctx)]);
    ctx.leave();
  }
  ctx.up();
  return { type: 'dict' as const, entries };
}

function readAxisD(ctx: PullContext): Axis {
  ctx.down();
  ctx.enter('Axis');
  const label = typed(ctx, 'label', expectStr);
  const units = typed(ctx, 'units', expectStr);
  const data = typed(ctx, 'data', expectArray, T_NDARRAY, ndarraySync);
  const index = typed(ctx, 'index', expectInt, T_INT, numericSync);
  const spreadOrder = typed(ctx, 'spread_order', expectInt, T_INT, numericSync);
  ctx.leave();
  ctx.up();
  return { type: 'Axis', label, units, data, index, spreadOrder };
}

/** The extra attributes: their names (a tagged list of `str`), then one tagged value per name. */
function readExtrasD(ctx: PullContext): ExtraAttribute[] {
  return typedList(ctx, 'extra_attributes', expectStr).map((name) => {
    ctx.enter(name);
    const value = readTaggedD(ctx);
    ctx.leave();
    return { name, value };
  });
}

function readDwaD(ctx: PullContext, type: DwaClass): DataWithAxes {
  ctx.down();
  ctx.enter(type);
  // The fields in wire order (docs/protocols/pymodaq.md §6.1): `units` comes after `data` in gen D (§6.3).
  const dwa: DataWithAxes = {
    type,
    timestamp: timestamp(ctx),
    name: typed(ctx, 'name', expectStr),
    source: typed(ctx, 'source', sourceCheck),
    dim: typed(ctx, 'dim', dimCheck),
    distribution: typed(ctx, 'distribution', distributionCheck),
    data: typedList(ctx, 'data', expectArray),
    units: typed(ctx, 'units', expectStr),
    labels: typedList(ctx, 'labels', expectStr),
    origin: typed(ctx, 'origin', expectStr),
    navIndexes: typedList(ctx, 'nav_indexes', expectInt),
    axes: typedList(ctx, 'axes', expectAxis),
    errors: typedList(ctx, 'errors', expectArray),
    extraAttributes: readExtrasD(ctx),
  };
  ctx.leave();
  ctx.up();
  return dwa;
}

function readDteD(ctx: PullContext, type: DteClass): DataToExport {
  ctx.down();
  ctx.enter(type);
  const dte: DataToExport = {
    type,
    timestamp: timestamp(ctx),
    name: typed(ctx, 'name', expectStr),
    data: typedList(ctx, 'data', expectDwa),
    extraAttributes: readExtrasD(ctx),
  };
  ctx.leave();
  ctx.up();
  return dte;
}

function readParameterD(ctx: PullContext): PyValue {
  const path = typedList(ctx, 'path', expectStr);
  // parameter_to_xml_string returns bytes, so the XML travels tagged `bytes`; a `str` is accepted too.
  const xml = typed(ctx, 'xml', textOrBytes);
  return { type: 'ParameterWithPath' as const, path, xml };
}

/**
 * Decodes one frame payload (the bytes after the u32 length): exactly one tagged object, nothing after it.
 * `ctx.offset` should be 4 so that error offsets count from the frame's first byte.
 */
export function decodePayloadD(payload: Uint8Array, ctx: PullContext): PyValue {
  const { value, end } = decodeAt(ctx, payload, 0, readTaggedD);
  if (end !== payload.length) {
    throw ctx.error(`frame holds ${payload.length - end} byte(s) after its tagged object`, ctx.offset, {
      code: 'PymodaqTrailingBytes',
      got: payload.subarray(end),
    });
  }
  return value;
}

/** One whole frame as a pull: the payload arrives complete, then decodes against its own bounds. */
export function* readFrameD(ctx: PullContext): Pull<PyValue> {
  const start = ctx.offset;
  const payload = ctx.takeFrame() ?? (yield FRAME);
  ctx.note(start, 4, () => `frame length ${payload.length}`);
  // A value claiming more bytes than the frame holds is a TruncatedError inside this frame, never a
  // read into the next one; either way the whole frame has been consumed.
  const end = ctx.offset;
  ctx.offset = start + 4;
  try {
    return decodePayloadD(payload, ctx);
  } finally {
    ctx.offset = end;
  }
}

// --- encoding ---------------------------------------------------------------------------------------------

/** The tag of a scalar: the Python type a numpy-free value came from. numpy scalars are refused (§6.2). */
function scalarTagD(scalar: PyScalar): 'int' | 'float' | 'bool' | 'complex' {
  if (!isPythonScalar(scalar)) {
    throw new UnsupportedValueError(
      `gen D cannot serialise a numpy ${scalar.dtype} scalar (PyMoDAQ 5 raises NotImplementedError; send a Python int/float/bool/complex or a 1-element array)`,
    );
  }
  const kind = scalar.dtype[1];
  return kind === 'f' ? 'float' : kind === 'b' ? 'bool' : kind === 'c' ? 'complex' : 'int';
}

export function writeTaggedD(w: WireWriter, value: PyValue): void {
  if (value === null) {
    w.run(TAG.NoneType);
  } else if (typeof value === 'string') {
    w.run(TAG.str).str(value);
  } else if (value instanceof NdArray) {
    writeArrayND(w.run(TAG.ndarray), value);
  } else if (value instanceof Uint8Array) {
    w.run(TAG.bytes).lengthPrefixed(value);
  } else if (Array.isArray(value)) {
    writeItemsD(w.run(TAG.list), value as readonly PyValue[]);
  } else if (isPyTuple(value)) {
    writeItemsD(w.run(TAG.tuple), value.items);
  } else if (isPyDict(value)) {
    w.run(TAG.dict);
    writeTaggedD(
      w,
      value.entries.map(([k]) => k),
    );
    for (const [, v] of value.entries) writeTaggedD(w, v);
  } else if (isAxis(value)) {
    writeAxisD(w, value);
  } else if (isDataWithAxes(value)) {
    writeDwaD(w, value);
  } else if (isDataToExport(value)) {
    writeDteD(w, value);
  } else if (isParameterWithPath(value)) {
    w.run(TAG.ParameterWithPath);
    writeTaggedD(w, value.path);
    // The XML as PyMoDAQ 5 sends it: tagged `bytes` for a Uint8Array, `str` for a string.
    writeTaggedD(w, value.xml);
  } else {
    const scalar = asScalar(value);
    if (!scalar) throw new UnsupportedValueError(`gen D cannot encode ${pyTypeName(value)}`);
    writeNumeric(w.run(TAG[scalarTagD(scalar)]), scalar);
  }
}

function writeItemsD(w: WireWriter, items: readonly PyValue[]): void {
  writeItems(w, items, writeTaggedD);
}

function writeFloatD(w: WireWriter, value: number): void {
  writeNumeric(w.run(TAG.float), { type: 'scalar', dtype: '<f8', value });
}

function writeIntD(w: WireWriter, value: number): void {
  writeNumeric(w.run(TAG.int), { type: 'scalar', dtype: '<i8', value });
}

function writeAxisD(w: WireWriter, axis: Axis): void {
  w.run(TAG.Axis).run(TAG.str).str(axis.label).run(TAG.str).str(axis.units);
  writeArrayND(w.run(TAG.ndarray), axis.data);
  writeIntD(w, axis.index);
  writeIntD(w, axis.spreadOrder);
}

function writeExtrasD(w: WireWriter, extras: readonly ExtraAttribute[]): void {
  writeTaggedD(
    w,
    extras.map((a) => a.name),
  );
  for (const a of extras) writeTaggedD(w, a.value);
}

function writeDwaD(w: WireWriter, dwa: DataWithAxes): void {
  w.run(TAG[dwa.type]);
  writeFloatD(w, dwa.timestamp);
  w.run(TAG.str).str(dwa.name);
  w.run(TAG.str).str(dwa.source);
  w.run(TAG.str).str(dwa.dim);
  w.run(TAG.str).str(dwa.distribution);
  writeItemsD(w.run(TAG.list), dwa.data);
  w.run(TAG.str).str(dwa.units);
  writeItemsD(w.run(TAG.list), dwa.labels);
  w.run(TAG.str).str(dwa.origin);
  w.run(TAG.list).u32(dwa.navIndexes.length, 'nav_indexes length');
  for (const i of dwa.navIndexes) writeIntD(w, i);
  writeItemsD(w.run(TAG.list), dwa.axes);
  writeItemsD(w.run(TAG.list), dwa.errors);
  writeExtrasD(w, dwa.extraAttributes);
}

function writeDteD(w: WireWriter, dte: DataToExport): void {
  w.run(TAG[dte.type]);
  writeFloatD(w, dte.timestamp);
  w.run(TAG.str).str(dte.name);
  w.run(TAG.list).u32(dte.data.length, 'DataToExport length');
  for (const dwa of dte.data) writeDwaD(w, dwa);
  writeExtrasD(w, dte.extraAttributes);
}
