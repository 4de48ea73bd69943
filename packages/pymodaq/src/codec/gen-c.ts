// Generation C (PyMoDAQ 4.1.0–4.4.x, `pymodaq.utils.tcp_ip.serializer`, docs/protocols/pymodaq.md §5): no outer frame and no
// top-level tag (the command tells the receiver what follows); list items are tagged objects; Axis,
// DataWithAxes and DataToExport start with their class-name string. The DataWithAxes layout changed three
// times (C1–C4) and cannot be told apart from the bytes.

import {
  anyValue,
  type Check,
  expectArray,
  expectAxis,
  expectDim,
  expectDistribution,
  expectDwa,
  expectInt,
  expectNumber,
  expectSource,
  expectStr,
} from './checks';
import { UnknownTagError, UnsupportedValueError } from './errors';
import {
  asScalar,
  itemsNow,
  numericNow,
  readArrayND,
  readItems,
  readNumeric,
  readPlainKind,
  readStr,
  strNow,
  writeArrayND,
  writeItems,
  writeNumeric,
  writePlain,
  writePlainItem,
} from './primitives';
import type { Pull, PullContext } from './pull';
import {
  type Axis,
  type DataToExport,
  type DataWithAxes,
  DWA_CLASSES,
  type DwaClass,
  type ExtraAttribute,
  isAxis,
  isDataToExport,
  isDataWithAxes,
  isParameterWithPath,
  type ParameterWithPath,
  type PyValue,
  pyTypeName,
} from './values';
import type { ValueKind } from './wire-profile';
import { strRuns, type WireWriter } from './wire-writer';

/** What distinguishes the four gen C layouts (docs/protocols/pymodaq.md §5.3, §5.5). */
export interface LayoutC {
  readonly name: 'C1' | 'C2' | 'C3' | 'C4';
  /** Tags a list item may carry. */
  readonly tags: readonly string[];
  /** `units` after `name` (C4, 4.4.0+). */
  readonly units: boolean;
  /** `errors` list (C3+, 4.2.0+). */
  readonly errors: boolean;
  /** extra attribute names and values (C2+, 4.1.3+). */
  readonly extras: boolean;
}

const TAGS_410 = ['scalar', 'string', 'array', 'dwa', 'axis'];
const TAGS_413 = [...TAGS_410, 'list'];
const TAGS_430 = [...TAGS_413, 'bytes', 'parameter', 'dte', 'bool'];

export const LAYOUT_C1: LayoutC = { name: 'C1', tags: TAGS_410, units: false, errors: false, extras: false };
export const LAYOUT_C2: LayoutC = { name: 'C2', tags: TAGS_413, units: false, errors: false, extras: true };
/** 4.2.x: the C3 DataWithAxes, but lists do not know bytes/parameter/dte yet (those came in 4.3.0). */
export const LAYOUT_C3_42: LayoutC = { name: 'C3', tags: TAGS_413, units: false, errors: true, extras: true };
export const LAYOUT_C3: LayoutC = { name: 'C3', tags: TAGS_430, units: false, errors: true, extras: true };
export const LAYOUT_C4: LayoutC = { name: 'C4', tags: TAGS_430, units: true, errors: true, extras: true };

/** The list tags and class names, as the bytes of a `str`. */
const TAG = strRuns([...TAGS_430, 'Axis', 'DataToExport', ...DWA_CLASSES]);

/** DwaType.names() in 4.x (DataFromRoi exists only in gen D). */
const DWA_CLASSES_C: readonly DwaClass[] = [
  'DataWithAxes',
  'DataRaw',
  'DataActuator',
  'DataFromPlugins',
  'DataCalculated',
];

// --- decoding ---------------------------------------------------------------------------------------------

export function* readTaggedC(ctx: PullContext, layout: LayoutC): Pull<PyValue> {
  const at = ctx.offset;
  const tag = strNow(ctx) ?? (yield* readStr(ctx));
  if (!layout.tags.includes(tag)) throw new UnknownTagError(tag, at, layout.tags, ctx.field || undefined);
  if (tag === 'bool') {
    // Written by no 4.x encoder (Number is tested first) but read by 4.3+: bool(number).
    const v = yield* readNumeric(ctx);
    return typeof v === 'boolean'
      ? v
      : typeof v.value === 'object'
        ? v.value.re !== 0 || v.value.im !== 0
        : Number(v.value) !== 0;
  }
  if (tag === 'parameter') return yield* readParameterC(ctx, layout);
  // The other tags are named after the kinds they hold.
  return yield* readValueC(ctx, layout, tag as ValueKind);
}

export function readListC(ctx: PullContext, layout: LayoutC): Pull<PyValue[]> {
  return readItems(ctx, (c) => readTaggedC(c, layout), anyValue, 'atleast1d');
}

/** Field `name`: a list whose items must all pass `check` (data arrays, labels, axes …). */
function* listField<T>(ctx: PullContext, layout: LayoutC, name: string, check: Check<T>): Pull<T[]> {
  ctx.enter(name);
  const items = yield* readItems(ctx, (c) => readTaggedC(c, layout), check, 'atleast1d');
  ctx.leave();
  return items;
}

/** listField taken whole from the bytes at hand (plain items only), else undefined with nothing consumed. */
function listNow<T>(ctx: PullContext, name: string, check: Check<T>): T[] | undefined {
  ctx.enter(name);
  const items = itemsNow(ctx, 'atleast1d', check);
  ctx.leave();
  return items;
}

type StrCheck<T> = (ctx: PullContext, v: string, at: number) => T;

/** Field `name`: a `str`, checked with the field still named. */
function* strField<T = string>(ctx: PullContext, name: string, check?: StrCheck<T>): Pull<T> {
  ctx.enter(name);
  const at = ctx.offset;
  const text = strNow(ctx) ?? (yield* readStr(ctx));
  const value = check ? check(ctx, text, at) : (text as T);
  ctx.leave();
  return value;
}

/** strField from the bytes at hand, else undefined with nothing consumed. */
function strFieldNow<T = string>(ctx: PullContext, name: string, check?: StrCheck<T>): T | undefined {
  const at = ctx.offset;
  const text = strNow(ctx);
  if (text === undefined || check === undefined) return text as T | undefined;
  ctx.enter(name);
  const value = check(ctx, text, at);
  ctx.leave();
  return value;
}

/** Field `name`: a numeric block, checked with the field still named. */
function* numberField(ctx: PullContext, name: string, check: Check<number>): Pull<number> {
  ctx.enter(name);
  const at = ctx.offset;
  const value = check(ctx, numericNow(ctx) ?? (yield* readNumeric(ctx)), at);
  ctx.leave();
  return value;
}

function* className(ctx: PullContext, allowed: readonly string[]): Pull<string> {
  const at = ctx.offset;
  const name = strNow(ctx) ?? (yield* readStr(ctx));
  if (!allowed.includes(name)) throw new UnknownTagError(name, at, allowed, ctx.field || undefined);
  return name;
}

export function* readAxisC(ctx: PullContext): Pull<Axis> {
  ctx.down();
  yield* className(ctx, ['Axis']);
  ctx.enter('Axis');
  const label = yield* strField(ctx, 'label');
  const units = yield* strField(ctx, 'units');
  ctx.enter('data');
  const data = yield* readArrayND(ctx, 'atleast1d');
  ctx.leave();
  const index = yield* numberField(ctx, 'index', expectInt);
  const spreadOrder = yield* numberField(ctx, 'spread_order', expectInt);
  ctx.leave();
  ctx.up();
  return { type: 'Axis', label, units, data, index, spreadOrder };
}

export function* readDwaC(ctx: PullContext, layout: LayoutC): Pull<DataWithAxes> {
  ctx.down();
  const type = (yield* className(ctx, DWA_CLASSES_C)) as DwaClass;
  ctx.enter(type);
  // The fields in wire order (docs/protocols/pymodaq.md §5.5); a field the layout lacks takes its default. Each is taken from
  // the bytes at hand when it is there whole, else read the general way.
  const dwa: DataWithAxes = {
    type,
    timestamp: yield* numberField(ctx, 'timestamp', expectNumber),
    name: strFieldNow(ctx, 'name') ?? (yield* strField<string>(ctx, 'name')),
    units: layout.units ? (strFieldNow(ctx, 'units') ?? (yield* strField<string>(ctx, 'units'))) : '',
    source: strFieldNow(ctx, 'source', expectSource) ?? (yield* strField(ctx, 'source', expectSource)),
    dim: strFieldNow(ctx, 'dim', expectDim) ?? (yield* strField(ctx, 'dim', expectDim)),
    distribution:
      strFieldNow(ctx, 'distribution', expectDistribution) ??
      (yield* strField(ctx, 'distribution', expectDistribution)),
    data: listNow(ctx, 'data', expectArray) ?? (yield* listField(ctx, layout, 'data', expectArray)),
    labels: listNow(ctx, 'labels', expectStr) ?? (yield* listField(ctx, layout, 'labels', expectStr)),
    origin: strFieldNow(ctx, 'origin') ?? (yield* strField<string>(ctx, 'origin')),
    navIndexes:
      listNow(ctx, 'nav_indexes', expectInt) ?? (yield* listField(ctx, layout, 'nav_indexes', expectInt)),
    axes: listNow(ctx, 'axes', expectAxis) ?? (yield* listField(ctx, layout, 'axes', expectAxis)),
    errors: layout.errors
      ? (listNow(ctx, 'errors', expectArray) ?? (yield* listField(ctx, layout, 'errors', expectArray)))
      : [],
    extraAttributes: layout.extras ? yield* readExtrasC(ctx, layout) : [],
  };
  ctx.leave();
  ctx.up();
  return dwa;
}

/** The extra attributes (C2+): their names, then one tagged value per name. */
function* readExtrasC(ctx: PullContext, layout: LayoutC): Pull<ExtraAttribute[]> {
  const names =
    listNow(ctx, 'extra_attributes', expectStr) ??
    (yield* listField(ctx, layout, 'extra_attributes', expectStr));
  const extras: ExtraAttribute[] = [];
  for (const name of names) {
    ctx.enter(name);
    extras.push({ name, value: yield* readTaggedC(ctx, layout) });
    ctx.leave();
  }
  return extras;
}

export function* readDteC(ctx: PullContext, layout: LayoutC): Pull<DataToExport> {
  ctx.down();
  yield* className(ctx, ['DataToExport']);
  ctx.enter('DataToExport');
  // 4.x DataToExport carries no extra attributes.
  const dte: DataToExport = {
    type: 'DataToExport',
    timestamp: yield* numberField(ctx, 'timestamp', expectNumber),
    name: yield* strField(ctx, 'name'),
    data: yield* listField(ctx, layout, 'data', expectDwa),
    extraAttributes: [],
  };
  ctx.leave();
  ctx.up();
  return dte;
}

/** Tag `parameter` (4.3.0+): the path as a list of tagged strings, then the XML as a `str`. */
function* readParameterC(ctx: PullContext, layout: LayoutC): Pull<ParameterWithPath> {
  const path = yield* listField(ctx, layout, 'path', expectStr);
  const xml = yield* strField(ctx, 'xml');
  return { type: 'ParameterWithPath', path, xml };
}

export function* readValueC(ctx: PullContext, layout: LayoutC, kind: ValueKind | undefined): Pull<PyValue> {
  const plain = readPlainKind(ctx, kind);
  if (plain !== undefined) return yield* plain;
  switch (kind) {
    case 'array':
      return yield* readArrayND(ctx, 'atleast1d');
    case 'list':
      return yield* readListC(ctx, layout);
    case 'axis':
      return yield* readAxisC(ctx);
    case 'dwa':
      return yield* readDwaC(ctx, layout);
    case 'dte':
      return yield* readDteC(ctx, layout);
    default:
      return yield* readTaggedC(ctx, layout);
  }
}

// --- encoding ---------------------------------------------------------------------------------------------

/** Serializer.to_bytes(): bytes, Number, str, ndarray, Axis, DataWithAxes, DataToExport, list. */
export function writeValueC(w: WireWriter, layout: LayoutC, value: PyValue): void {
  if (writePlain(w, value, writeArrayND)) return;
  if (isAxis(value)) writeAxisC(w, value);
  else if (isDataWithAxes(value)) writeDwaC(w, layout, value);
  else if (isDataToExport(value)) writeDteC(w, layout, value);
  else if (Array.isArray(value)) writeListC(w, layout, value as readonly PyValue[]);
  else {
    const scalar = asScalar(value);
    if (!scalar) throw new UnsupportedValueError(`gen C (${layout.name}) cannot encode ${pyTypeName(value)}`);
    writeNumeric(w, scalar);
  }
}

export function writeListC(w: WireWriter, layout: LayoutC, list: readonly PyValue[]): void {
  writeItems(w, list, (iw, item) => writeTaggedC(iw, layout, item));
}

function requireTag(layout: LayoutC, tag: string, value: PyValue): void {
  if (!layout.tags.includes(tag)) {
    throw new UnsupportedValueError(
      `layout ${layout.name} has no list tag ${JSON.stringify(tag)} for ${pyTypeName(value)} (known: ${layout.tags.join(', ')})`,
    );
  }
}

/**
 * Serializer.type_and_object_serialization(): a tag, then the object. numbers.Number is tested before
 * bool upstream, so a bool travels as `scalar` (|b1).
 */
export function writeTaggedC(w: WireWriter, layout: LayoutC, value: PyValue): void {
  if (writePlainItem(w, value, asScalar)) return;
  if (isDataWithAxes(value)) {
    writeDwaC(w.run(TAG.dwa), layout, value);
  } else if (isAxis(value)) {
    writeAxisC(w.run(TAG.axis), value);
  } else if (Array.isArray(value)) {
    requireTag(layout, 'list', value);
    writeListC(w.run(TAG.list), layout, value as readonly PyValue[]);
  } else if (value instanceof Uint8Array) {
    requireTag(layout, 'bytes', value);
    w.run(TAG.bytes).lengthPrefixed(value);
  } else if (isParameterWithPath(value)) {
    requireTag(layout, 'parameter', value);
    w.run(TAG.parameter);
    writeListC(w, layout, value.path);
    if (typeof value.xml === 'string') w.str(value.xml);
    else w.lengthPrefixed(value.xml);
  } else if (isDataToExport(value)) {
    requireTag(layout, 'dte', value);
    writeDteC(w.run(TAG.dte), layout, value);
  } else {
    throw new UnsupportedValueError(`gen C (${layout.name}) list items cannot be ${pyTypeName(value)}`);
  }
}

function writeInt(w: WireWriter, n: number): void {
  writeNumeric(w, { type: 'scalar', dtype: '<i8', value: n });
}

export function writeAxisC(w: WireWriter, axis: Axis): void {
  w.run(TAG.Axis).str(axis.label).str(axis.units);
  writeArrayND(w, axis.data);
  writeInt(w, axis.index);
  writeInt(w, axis.spreadOrder);
}

/** Fields a layout does not have (units before C4, errors before C3, extras in C1) are not sent. */
export function writeDwaC(w: WireWriter, layout: LayoutC, dwa: DataWithAxes): void {
  if (!DWA_CLASSES_C.includes(dwa.type)) {
    throw new UnsupportedValueError(
      `gen C knows no DataWithAxes flavour ${dwa.type} (${DWA_CLASSES_C.join(', ')})`,
    );
  }
  w.run(TAG[dwa.type]);
  writeNumeric(w, { type: 'scalar', dtype: '<f8', value: dwa.timestamp });
  w.str(dwa.name);
  if (layout.units) w.str(dwa.units);
  w.str(dwa.source).str(dwa.dim).str(dwa.distribution);
  writeListC(w, layout, dwa.data);
  writeListC(w, layout, dwa.labels);
  w.str(dwa.origin);
  w.u32(dwa.navIndexes.length, 'nav_indexes length');
  for (const i of dwa.navIndexes) writeInt(w.run(TAG.scalar), i);
  writeListC(w, layout, dwa.axes);
  if (layout.errors) writeListC(w, layout, dwa.errors);
  if (layout.extras) {
    writeListC(
      w,
      layout,
      dwa.extraAttributes.map((a) => a.name),
    );
    for (const a of dwa.extraAttributes) writeTaggedC(w, layout, a.value);
  }
}

/** 4.x DataToExport has no extra attributes; they are not sent. */
export function writeDteC(w: WireWriter, layout: LayoutC, dte: DataToExport): void {
  if (dte.type !== 'DataToExport') {
    throw new UnsupportedValueError(`gen C decoders accept only DataToExport, not ${dte.type}`);
  }
  w.run(TAG.DataToExport);
  writeNumeric(w, { type: 'scalar', dtype: '<f8', value: dte.timestamp });
  w.str(dte.name);
  w.u32(dte.data.length, 'DataToExport length');
  for (const dwa of dte.data) writeDwaC(w.run(TAG.dwa), layout, dwa);
}
