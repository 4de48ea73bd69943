// Generation D (PyMoDAQ 5.x, pymodaq_utils `SerializableFactory`, spec §6): every message is a u32-length
// frame holding one tagged object; the tag is the Python class name and every field inside carries its
// own tag. labwire matches tags exactly (upstream does a substring test) and a frame that fails to decode
// is consumed whole, so the stream stays in step.

import {
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
import { UnknownTagError, UnsupportedValueError } from './errors';
import { NdArray } from './nd-array';
import {
  asScalar,
  isPythonScalar,
  readArrayND,
  readBytes,
  readCount,
  readNumeric,
  readStr,
  writeArrayND,
  writeNumeric,
} from './primitives';
import { FRAME, field, nested, type Pull, type PullContext, runSync } from './pull';
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
import type { WireWriter } from './wire-writer';

const SCALAR_TAGS = ['int', 'float', 'bool', 'complex'];
/** Every tag labwire registers eagerly (upstream registers some lazily, spec §9 c). */
export const TAGS_D: readonly string[] = [
  'str',
  'bytes',
  ...SCALAR_TAGS,
  'ndarray',
  'list',
  'tuple',
  'dict',
  'NoneType',
  'Axis',
  ...DWA_CLASSES,
  ...DTE_CLASSES,
  'ParameterWithPath',
];

// --- decoding ---------------------------------------------------------------------------------------------

export function* readTaggedD(ctx: PullContext): Pull<PyValue> {
  const at = ctx.offset;
  const tag = yield* readStr(ctx);
  switch (tag) {
    case 'str':
      return yield* readStr(ctx);
    case 'bytes':
      return yield* readBytes(ctx);
    case 'int':
    case 'float':
    case 'bool':
    case 'complex':
      return yield* readNumeric(ctx);
    case 'ndarray':
      return yield* readArrayND(ctx, 'atleast1d');
    case 'list':
      return yield* readItemsD(ctx);
    case 'tuple':
      return { type: 'tuple', items: yield* readItemsD(ctx) };
    case 'dict':
      return yield* readDictD(ctx);
    case 'NoneType':
      return null;
    case 'Axis':
      return yield* readAxisD(ctx);
    case 'ParameterWithPath':
      return yield* readParameterD(ctx);
    default:
      if ((DWA_CLASSES as readonly string[]).includes(tag)) return yield* readDwaD(ctx, tag as DwaClass);
      if ((DTE_CLASSES as readonly string[]).includes(tag)) return yield* readDteD(ctx, tag as DteClass);
      throw new UnknownTagError(tag, at, TAGS_D, ctx.field || undefined);
  }
}

function* readItemsD(ctx: PullContext): Pull<PyValue[]> {
  return yield* nested(
    ctx,
    (function* () {
      const count = yield* readCount(ctx);
      const items: PyValue[] = [];
      for (let i = 0; i < count; i++) items.push(yield* field(ctx, `[${i}]`, readTaggedD(ctx)));
      return items;
    })(),
  );
}

/** A tagged field that must pass `check`. */
function* typed<T>(
  ctx: PullContext,
  name: string,
  check: (ctx: PullContext, v: PyValue, at: number) => T,
): Pull<T> {
  ctx.path.push(name);
  const at = ctx.offset;
  const value = check(ctx, yield* readTaggedD(ctx), at);
  ctx.path.pop();
  return value;
}

/** A tagged `list` field whose items must all pass `check`. */
function listOf<T>(check: (ctx: PullContext, v: PyValue, at: number) => T) {
  return (ctx: PullContext, value: PyValue, at: number): T[] =>
    expectList(ctx, value, at).map((item) => check(ctx, item, at));
}

function* readDictD(ctx: PullContext): Pull<PyValue> {
  return yield* nested(
    ctx,
    (function* () {
      const keys = yield* typed(ctx, 'keys', expectList);
      const entries: (readonly [PyValue, PyValue])[] = [];
      for (let i = 0; i < keys.length; i++)
        entries.push([keys[i]!, yield* field(ctx, `[${i}]`, readTaggedD(ctx))]);
      return { type: 'dict' as const, entries };
    })(),
  );
}

function* readAxisD(ctx: PullContext): Pull<Axis> {
  return yield* nested(
    ctx,
    (function* (): Pull<Axis> {
      ctx.path.push('Axis');
      const label = yield* typed(ctx, 'label', expectStr);
      const units = yield* typed(ctx, 'units', expectStr);
      const data = yield* typed(ctx, 'data', expectArray);
      const index = yield* typed(ctx, 'index', expectInt);
      const spreadOrder = yield* typed(ctx, 'spread_order', expectInt);
      ctx.path.pop();
      return { type: 'Axis', label, units, data, index, spreadOrder };
    })(),
  );
}

function* readExtrasD(ctx: PullContext): Pull<ExtraAttribute[]> {
  const names = yield* typed(ctx, 'extra_attributes', listOf(expectStr));
  const out: ExtraAttribute[] = [];
  for (const name of names) out.push({ name, value: yield* field(ctx, name, readTaggedD(ctx)) });
  return out;
}

function* readDwaD(ctx: PullContext, type: DwaClass): Pull<DataWithAxes> {
  return yield* nested(
    ctx,
    (function* (): Pull<DataWithAxes> {
      ctx.path.push(type);
      const timestamp = yield* typed(ctx, 'timestamp', expectNumber);
      const name = yield* typed(ctx, 'name', expectStr);
      const source = yield* typed(ctx, 'source', (c, v, at) => expectSource(c, expectStr(c, v, at), at));
      const dim = yield* typed(ctx, 'dim', (c, v, at) => expectDim(c, expectStr(c, v, at), at));
      const distribution = yield* typed(ctx, 'distribution', (c, v, at) =>
        expectDistribution(c, expectStr(c, v, at), at),
      );
      const data = yield* typed(ctx, 'data', listOf(expectArray));
      // Spec §6.3: units moved after data in gen D.
      const units = yield* typed(ctx, 'units', expectStr);
      const labels = yield* typed(ctx, 'labels', listOf(expectStr));
      const origin = yield* typed(ctx, 'origin', expectStr);
      const navIndexes = yield* typed(ctx, 'nav_indexes', listOf(expectInt));
      const axes = yield* typed(ctx, 'axes', listOf(expectAxis));
      const errors = yield* typed(ctx, 'errors', listOf(expectArray));
      const extraAttributes = yield* readExtrasD(ctx);
      ctx.path.pop();
      return {
        type,
        timestamp,
        name,
        units,
        source,
        dim,
        distribution,
        data,
        labels,
        origin,
        navIndexes,
        axes,
        errors,
        extraAttributes,
      };
    })(),
  );
}

function* readDteD(ctx: PullContext, type: DteClass): Pull<DataToExport> {
  return yield* nested(
    ctx,
    (function* (): Pull<DataToExport> {
      ctx.path.push(type);
      const timestamp = yield* typed(ctx, 'timestamp', expectNumber);
      const name = yield* typed(ctx, 'name', expectStr);
      const data = yield* typed(ctx, 'data', listOf(expectDwa));
      const extraAttributes = yield* readExtrasD(ctx);
      ctx.path.pop();
      return { type, timestamp, name, data, extraAttributes };
    })(),
  );
}

function* readParameterD(ctx: PullContext): Pull<PyValue> {
  const path = yield* typed(ctx, 'path', listOf(expectStr));
  // parameter_to_xml_string returns bytes, so the XML travels tagged `bytes`; a `str` is accepted too.
  const xml = yield* typed(ctx, 'xml', (c, v, at) => {
    if (typeof v === 'string' || v instanceof Uint8Array) return v;
    throw unexpected(c, 'str or bytes', v, at);
  });
  return { type: 'ParameterWithPath' as const, path, xml };
}

/**
 * Decodes one frame payload (the bytes after the u32 length): exactly one tagged object, nothing after it.
 * `ctx.offset` should be 4 so that error offsets count from the frame's first byte.
 */
export function decodePayloadD(payload: Uint8Array, ctx: PullContext): PyValue {
  const { value, end } = runSync(readTaggedD(ctx), payload, ctx);
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
  const payload = yield FRAME;
  ctx.note(start, 4, `frame length ${payload.length}`);
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
function scalarTagD(scalar: PyScalar): string {
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
    w.str('NoneType');
  } else if (typeof value === 'string') {
    w.str('str').str(value);
  } else if (value instanceof NdArray) {
    writeArrayND(w.str('ndarray'), value);
  } else if (value instanceof Uint8Array) {
    w.str('bytes').lengthPrefixed(value);
  } else if (Array.isArray(value)) {
    writeItemsD(w.str('list'), value as readonly PyValue[]);
  } else if (isPyTuple(value)) {
    writeItemsD(w.str('tuple'), value.items);
  } else if (isPyDict(value)) {
    w.str('dict');
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
    w.str('ParameterWithPath');
    writeTaggedD(w, value.path);
    writeTaggedD(w, typeof value.xml === 'string' ? value.xml : value.xml);
  } else {
    const scalar = asScalar(value);
    if (!scalar) throw new UnsupportedValueError(`gen D cannot encode ${pyTypeName(value)}`);
    writeNumeric(w.str(scalarTagD(scalar)), scalar);
  }
}

function writeItemsD(w: WireWriter, items: readonly PyValue[]): void {
  w.u32(items.length, 'list length');
  for (const item of items) writeTaggedD(w, item);
}

function writeFloatD(w: WireWriter, value: number): void {
  writeNumeric(w.str('float'), { type: 'scalar', dtype: '<f8', value });
}

function writeIntD(w: WireWriter, value: number): void {
  writeNumeric(w.str('int'), { type: 'scalar', dtype: '<i8', value });
}

function writeAxisD(w: WireWriter, axis: Axis): void {
  w.str('Axis').str('str').str(axis.label).str('str').str(axis.units);
  writeArrayND(w.str('ndarray'), axis.data);
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
  w.str(dwa.type);
  writeFloatD(w, dwa.timestamp);
  w.str('str').str(dwa.name);
  w.str('str').str(dwa.source);
  w.str('str').str(dwa.dim);
  w.str('str').str(dwa.distribution);
  writeItemsD(w.str('list'), dwa.data);
  w.str('str').str(dwa.units);
  writeItemsD(w.str('list'), dwa.labels);
  w.str('str').str(dwa.origin);
  w.str('list').u32(dwa.navIndexes.length, 'nav_indexes length');
  for (const i of dwa.navIndexes) writeIntD(w, i);
  writeItemsD(w.str('list'), dwa.axes);
  writeItemsD(w.str('list'), dwa.errors);
  writeExtrasD(w, dwa.extraAttributes);
}

function writeDteD(w: WireWriter, dte: DataToExport): void {
  w.str(dte.type);
  writeFloatD(w, dte.timestamp);
  w.str('str').str(dte.name);
  w.str('list').u32(dte.data.length, 'DataToExport length');
  for (const dwa of dte.data) writeDwaD(w, dwa);
  writeExtrasD(w, dte.extraAttributes);
}
