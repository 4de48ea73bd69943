// Primitives shared by every generation (docs/protocols/pymodaq.md §2): u32 BE lengths, UTF-8 strings, numeric blocks and
// array blocks. Each decoder checks a length against its limit before requesting the bytes.
//
// Every read primitive comes in up to three forms:
// - `readX`, a pull (generator): the general path, with every check, error and trace note;
// - `xNow`, the fast path over the bytes at hand (take mode): indexes the buffer directly and makes no
//   intermediate objects; it takes only a well-formed field that is all there and declines (undefined,
//   nothing consumed) anything else, which then goes the general path, so errors stay those of `readX`;
// - `xSync` = `xNow ?? readX` over a complete buffer (gen D payloads), where running out is a TruncatedError.

import { hexExcerpt, LimitExceededError, readU32BE } from '@labwire/framing';
import type { Check } from './checks';
import { type DtypeInfo, parseDtype, readElement, viewFor } from './dtype';
import { UnsupportedValueError } from './errors';
import { checkLimit } from './limits';
import { NdArray } from './nd-array';
import { type Pull, type PullContext, pullNow } from './pull';
import { isPyScalar, type PyScalar, type PyValue, pyInt } from './values';
import { strBytes, strRuns, type WireWriter } from './wire-writer';

// numpy dtype strings are a few characters (`<c16`); anything long is not a dtype.
const MAX_DTYPE_BYTES = 32;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function u32At(src: Uint8Array, p: number): number {
  return ((src[p]! << 24) | (src[p + 1]! << 16) | (src[p + 2]! << 8) | src[p + 3]!) >>> 0;
}

// Short ASCII strings recur in every message (tags, class names, dtypes, `raw`, `Data0D`, `CH00`, units):
// each is made once and then found again by a hash of its bytes (and checked byte for byte).
const INTERN_MAX = 32;
const INTERN_SLOTS = 1024;
const interned: (string | undefined)[] = new Array<string | undefined>(INTERN_SLOTS);

/** `src[from, to)` as a string when every byte is ASCII, else undefined. */
export function asciiAt(src: Uint8Array, from: number, to: number): string | undefined {
  let h = to - from;
  for (let i = from; i < to; i++) {
    const c = src[i]!;
    if (c >= 0x80) return undefined;
    h = (Math.imul(h, 31) + c) | 0;
  }
  if (to - from > INTERN_MAX)
    return String.fromCharCode.apply(null, src.subarray(from, to) as unknown as number[]);
  const slot = h & (INTERN_SLOTS - 1);
  const hit = interned[slot];
  if (hit !== undefined && hit.length === to - from) {
    let same = true;
    for (let i = 0; same && i < hit.length; i++) same = hit.charCodeAt(i) === src[from + i];
    if (same) return hit;
  }
  const text = String.fromCharCode.apply(null, src.subarray(from, to) as unknown as number[]);
  interned[slot] = text;
  return text;
}

export function* readU32(ctx: PullContext, meaning = 'u32'): Pull<number> {
  const at = ctx.offset;
  const value = readU32BE(ctx.take(4) ?? (yield 4));
  ctx.note(at, 4, () => `${meaning} ${value}`);
  return value;
}

/** A list/container count, checked against maxListItems before anything is read. */
export function* readCount(ctx: PullContext, what = 'items'): Pull<number> {
  const at = ctx.offset;
  const count = readU32BE(ctx.take(4) ?? (yield 4));
  ctx.note(at, 4, () => `u32 ${count} (${what})`);
  if (count > ctx.limits.maxListItems) {
    throw new LimitExceededError(
      `pymodaq ${ctx.field || 'list'} at offset ${at}: ${what} count`,
      ctx.limits.maxListItems,
      count,
    );
  }
  return count;
}

/** `u32 n` + n raw bytes (gen A–C `bytes`, and the body of a `str`). */
export function* readLengthPrefixed(
  ctx: PullContext,
  maxBytes = ctx.limits.maxStringBytes,
): Pull<Uint8Array> {
  const at = ctx.offset;
  const n = readU32BE(ctx.take(4) ?? (yield 4));
  if (n > maxBytes) {
    throw new LimitExceededError(
      `pymodaq ${ctx.field || 'string'} at offset ${at}: length prefix`,
      maxBytes,
      n,
    );
  }
  return ctx.take(n) ?? (yield n);
}

/** UTF-8 as Python's `bytes.decode()`: invalid sequences are an error; short ASCII takes a fast path. */
export function decodeUtf8(bytes: Uint8Array, ctx: PullContext, at: number): string {
  if (bytes.length <= 64) {
    const ascii = asciiAt(bytes, 0, bytes.length);
    if (ascii !== undefined) return ascii;
  }
  try {
    return utf8.decode(bytes);
  } catch (e) {
    throw ctx.error('invalid UTF-8 in a str', at, { code: 'PymodaqInvalidUtf8', got: bytes, cause: e });
  }
}

export function* readStr(ctx: PullContext): Pull<string> {
  const at = ctx.offset;
  const n = readU32BE(ctx.take(4) ?? (yield 4));
  if (n > ctx.limits.maxStringBytes) {
    throw new LimitExceededError(
      `pymodaq ${ctx.field || 'string'} at offset ${at}: length prefix`,
      ctx.limits.maxStringBytes,
      n,
    );
  }
  const bytes = ctx.take(n) ?? (yield n);
  const text = decodeUtf8(bytes, ctx, at + 4);
  ctx.note(at, 4 + n, () => `str ${JSON.stringify(text)}`);
  return text;
}

export function* readBytes(ctx: PullContext): Pull<Uint8Array> {
  const at = ctx.offset;
  const bytes = yield* readLengthPrefixed(ctx);
  ctx.note(at, 4 + bytes.length, () => `bytes (${bytes.length}) ${hexExcerpt(bytes, 16)}`);
  return bytes;
}

function* readDtype(ctx: PullContext): Pull<DtypeInfo> {
  const at = ctx.offset;
  const raw = yield* readLengthPrefixed(ctx, MAX_DTYPE_BYTES);
  const text = decodeUtf8(raw, ctx, at + 4);
  const info = parseDtype(text);
  if (!info) {
    throw ctx.error(
      `unsupported numpy dtype ${JSON.stringify(text)} (expected e.g. <f8, >i4, |u1, |b1, <c16)`,
      at,
      {
        code: 'PymodaqBadDtype',
        got: raw,
      },
    );
  }
  ctx.note(at, 4 + raw.length, () => `dtype ${JSON.stringify(text)}`);
  return info;
}

/** Numeric block (docs/protocols/pymodaq.md §2): `str dtype` + `u32 nbytes` + the value. A `|b1` scalar becomes a boolean. */
export function* readNumeric(ctx: PullContext): Pull<PyScalar | boolean> {
  const info = yield* readDtype(ctx);
  const at = ctx.offset;
  const n = readU32BE(ctx.take(4) ?? (yield 4));
  ctx.note(at, 4, () => `nbytes ${n}`);
  if (n !== info.itemsize) {
    // numpy would take the first item of a longer block and fail on a shorter one; labwire wants exactly one.
    if (n > ctx.limits.maxArrayBytes)
      throw new LimitExceededError('pymodaq scalar nbytes', ctx.limits.maxArrayBytes, n);
    throw ctx.error(`a ${info.dtype} scalar has ${info.itemsize} byte(s), the block announces ${n}`, at, {
      code: 'PymodaqBadScalar',
    });
  }
  const vat = ctx.offset;
  const bytes = ctx.take(n) ?? (yield n);
  const value = readElement(viewFor(bytes), bytes.byteOffset, info);
  ctx.note(vat, n, () => `value ${formatValue(value)}`);
  if (info.dtype === '|b1') return value as boolean;
  return { type: 'scalar', dtype: info.dtype, value };
}

function formatValue(value: unknown): string {
  if (typeof value === 'object' && value !== null) {
    const c = value as { re: number; im: number };
    return `(${c.re}${c.im < 0 ? '-' : '+'}${Math.abs(c.im)}j)`;
  }
  return String(value);
}

function shapeProduct(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** np.squeeze: drop every dimension of length 1. */
export function squeeze(shape: readonly number[]): number[] {
  return shape.filter((d) => d !== 1);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Array block, gen B–D (docs/protocols/pymodaq.md §2): dtype, nbytes, ndim, dims, data. Gen B squeezes, gen C/D apply
 * atleast_1d; the wire shape is kept in `wireShape` when that changes it.
 */
export function* readArrayND(ctx: PullContext, receiver: 'squeeze' | 'atleast1d'): Pull<NdArray> {
  const start = ctx.offset;
  const info = yield* readDtype(ctx);
  const nbytes = yield* readU32(ctx, 'nbytes');
  checkLimit(`pymodaq array at offset ${start}: nbytes`, ctx.limits.maxArrayBytes, nbytes);
  const ndimAt = ctx.offset;
  const ndim = yield* readU32(ctx, 'ndim');
  if (ndim > ctx.limits.maxDims) {
    throw ctx.error(`array ndim ${ndim} exceeds the limit of ${ctx.limits.maxDims}`, ndimAt, {
      code: 'PymodaqBadShape',
    });
  }
  const shapeAt = ctx.offset;
  const dims = ctx.take(4 * ndim) ?? (yield 4 * ndim);
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(readU32BE(dims, 4 * i));
  ctx.note(shapeAt, 4 * ndim, () => `shape [${shape.join(', ')}]`);
  if (shapeProduct(shape) * info.itemsize !== nbytes) {
    throw ctx.error(
      `array of ${info.dtype} with shape [${shape.join(', ')}] needs ${shapeProduct(shape) * info.itemsize} byte(s), the block announces ${nbytes}`,
      ndimAt,
      { code: 'PymodaqBadShape' },
    );
  }
  const dataAt = ctx.offset;
  const data = ctx.take(nbytes) ?? (yield nbytes);
  const final = receiver === 'squeeze' ? squeeze(shape) : shape.length === 0 ? [1] : shape;
  const array = new NdArray(info.dtype, final, data, sameShape(final, shape) ? undefined : shape);
  ctx.note(dataAt, nbytes, () => `data ${array.toString()}`);
  return array;
}

/**
 * Array block, gen A (docs/protocols/pymodaq.md §3): dtype, nbytes, nrow, ncol, data. The receiver reshapes to (nrow, ncol)
 * when ncol is not 0, then squeezes.
 */
export function* readArrayA(ctx: PullContext): Pull<NdArray> {
  const start = ctx.offset;
  const info = yield* readDtype(ctx);
  const nbytes = yield* readU32(ctx, 'nbytes');
  checkLimit(`pymodaq array at offset ${start}: nbytes`, ctx.limits.maxArrayBytes, nbytes);
  const rowAt = ctx.offset;
  const nrow = yield* readU32(ctx, 'nrow');
  const ncol = yield* readU32(ctx, 'ncol');
  if (nbytes % info.itemsize !== 0 || (ncol !== 0 && nrow * ncol * info.itemsize !== nbytes)) {
    throw ctx.error(
      `gen A array of ${info.dtype}, ${nrow} x ${ncol}, does not match its ${nbytes} data byte(s)`,
      rowAt,
      { code: 'PymodaqBadShape' },
    );
  }
  const dataAt = ctx.offset;
  const data = ctx.take(nbytes) ?? (yield nbytes);
  const shape = ncol !== 0 ? [nrow, ncol] : [nbytes / info.itemsize];
  const final = squeeze(shape);
  const array = new NdArray(
    info.dtype,
    final,
    data,
    sameShape(final, [nrow, ncol]) ? undefined : [nrow, ncol],
  );
  ctx.note(dataAt, nbytes, () => `data ${array.toString()}`);
  return array;
}

// --- fast paths over the bytes at hand -----------------------------------------------------------------

/** The bytes at hand, unless tracing (explainFrame wants every field noted by the general path). */
function hand(ctx: PullContext): Uint8Array | undefined {
  return ctx.trace === undefined ? ctx.src : undefined;
}

function advance(ctx: PullContext, to: number): void {
  ctx.offset += to - ctx.pos;
  ctx.pos = to;
}

/** Consumes `run` (a constant from `strBytes`) when the next bytes are exactly it. */
export function tagNow(ctx: PullContext, run: Uint8Array): boolean {
  const src = hand(ctx);
  const p = ctx.pos;
  if (src === undefined || p + run.length > src.length) return false;
  for (let i = 0; i < run.length; i++) if (src[p + i] !== run[i]) return false;
  advance(ctx, p + run.length);
  return true;
}

export function strNow(ctx: PullContext): string | undefined {
  const src = hand(ctx);
  const p = ctx.pos;
  if (src === undefined || p + 4 > src.length) return undefined;
  const n = u32At(src, p);
  if (n > 64 || n > ctx.limits.maxStringBytes || p + 4 + n > src.length) return undefined;
  const text = asciiAt(src, p + 4, p + 4 + n);
  if (text !== undefined) advance(ctx, p + 4 + n);
  return text;
}

export function countNow(ctx: PullContext): number | undefined {
  const src = hand(ctx);
  const p = ctx.pos;
  if (src === undefined || p + 4 > src.length) return undefined;
  const count = u32At(src, p);
  if (count > ctx.limits.maxListItems) return undefined;
  advance(ctx, p + 4);
  return count;
}

/** The dtype at `p` and where it ends, when it is one labwire decodes. */
function dtypeAt(src: Uint8Array, p: number): { info: DtypeInfo; end: number } | undefined {
  if (p + 4 > src.length) return undefined;
  const n = u32At(src, p);
  if (n > MAX_DTYPE_BYTES || p + 4 + n > src.length) return undefined;
  const text = asciiAt(src, p + 4, p + 4 + n);
  const info = text === undefined ? undefined : parseDtype(text);
  return info === undefined ? undefined : { info, end: p + 4 + n };
}

export function numericNow(ctx: PullContext): PyScalar | boolean | undefined {
  const src = hand(ctx);
  if (src === undefined) return undefined;
  const dtype = dtypeAt(src, ctx.pos);
  if (dtype === undefined) return undefined;
  const { info, end: p } = dtype;
  if (p + 4 > src.length || u32At(src, p) !== info.itemsize || p + 4 + info.itemsize > src.length) {
    return undefined;
  }
  const value = readElement(viewFor(src), src.byteOffset + p + 4, info);
  advance(ctx, p + 4 + info.itemsize);
  if (info.dtype === '|b1') return value as boolean;
  return { type: 'scalar', dtype: info.dtype, value };
}

export function arrayNow(ctx: PullContext, receiver: 'squeeze' | 'atleast1d'): NdArray | undefined {
  const src = hand(ctx);
  if (src === undefined) return undefined;
  const dtype = dtypeAt(src, ctx.pos);
  if (dtype === undefined) return undefined;
  const { info } = dtype;
  let p = dtype.end;
  if (p + 8 > src.length) return undefined;
  const nbytes = u32At(src, p);
  const ndim = u32At(src, p + 4);
  p += 8;
  if (nbytes > ctx.limits.maxArrayBytes || ndim > ctx.limits.maxDims || p + 4 * ndim > src.length) {
    return undefined;
  }
  const shape = new Array<number>(ndim);
  let size = 1;
  for (let i = 0; i < ndim; i++) {
    shape[i] = u32At(src, p + 4 * i);
    size *= shape[i]!;
  }
  p += 4 * ndim;
  if (size * info.itemsize !== nbytes || p + nbytes > src.length) return undefined;
  const data = src.subarray(p, p + nbytes);
  const final = receiver === 'squeeze' ? squeeze(shape) : ndim === 0 ? [1] : shape;
  advance(ctx, p + nbytes);
  return new NdArray(info.dtype, final, data, sameShape(final, shape) ? undefined : shape);
}

/**
 * A list item with a plain tag (`string`, `scalar`, `array`: what gen B knows and every gen C layout
 * keeps) taken whole from the bytes at hand, else undefined with nothing consumed.
 */
export function plainItemNow(ctx: PullContext, receiver: 'squeeze' | 'atleast1d'): PyValue | undefined {
  const { pos, offset } = ctx;
  let value: PyValue | undefined;
  switch (strNow(ctx)) {
    case 'string':
      value = strNow(ctx);
      break;
    case 'scalar':
      value = numericNow(ctx);
      break;
    case 'array':
      value = arrayNow(ctx, receiver);
      break;
  }
  if (value === undefined) {
    ctx.pos = pos;
    ctx.offset = offset;
  }
  return value;
}

/** The kinds every generation reads alike (docs/protocols/pymodaq.md §2): `string`, `bytes`, `scalar`; undefined for others. */
export function readPlainKind(ctx: PullContext, kind: string | undefined): Pull<PyValue> | undefined {
  switch (kind) {
    case 'string':
      return readStr(ctx);
    case 'bytes':
      return readBytes(ctx);
    case 'scalar':
      return readNumeric(ctx);
    default:
      return undefined;
  }
}

// --- lists ----------------------------------------------------------------------------------------------

/** Thrown (and caught) inside itemsNow when an item is not at hand: nothing is consumed then. */
const DECLINED = Symbol('declined');
const decline = (): never => {
  throw DECLINED;
};

/**
 * The body of a list over a complete buffer: u32 count (checked against maxListItems), then each item
 * read by `item` and passed through `check` with its index in the path (gen D).
 */
export function itemsSync<T>(
  ctx: PullContext,
  item: (ctx: PullContext) => PyValue,
  check: Check<T>,
  count: (ctx: PullContext) => number = countSync,
): T[] {
  ctx.down();
  const n = count(ctx);
  const items: T[] = [];
  for (let i = 0; i < n; i++) {
    ctx.enterItem(i);
    const at = ctx.offset;
    items.push(check(ctx, item(ctx), at));
    ctx.leave();
  }
  ctx.up();
  return items;
}

/**
 * A list of plain items (see plainItemNow) taken whole from the bytes at hand; undefined, with nothing
 * consumed, when it is not all there or holds anything else.
 */
export function itemsNow<T>(
  ctx: PullContext,
  receiver: 'squeeze' | 'atleast1d',
  check: Check<T>,
): T[] | undefined {
  if (hand(ctx) === undefined) return undefined;
  const { pos, offset, depth } = ctx;
  const pathLength = ctx.path.length;
  try {
    return itemsSync(
      ctx,
      (c) => plainItemNow(c, receiver) ?? decline(),
      check,
      (c) => countNow(c) ?? decline(),
    );
  } catch (e) {
    if (e !== DECLINED) throw e;
    ctx.pos = pos;
    ctx.offset = offset;
    ctx.depth = depth;
    ctx.path.length = pathLength;
    return undefined;
  }
}

/**
 * The body of a list, streaming: u32 count, then each item read by `item` and passed through `check`.
 * With a `receiver` (tagged lists, gen B/C) the whole list is first tried from the bytes at hand, and so
 * is each item.
 */
export function* readItems<T>(
  ctx: PullContext,
  item: (ctx: PullContext) => Pull<PyValue>,
  check: Check<T>,
  receiver?: 'squeeze' | 'atleast1d',
): Pull<T[]> {
  if (receiver !== undefined) {
    const whole = itemsNow(ctx, receiver, check);
    if (whole !== undefined) return whole;
  }
  ctx.down();
  const count = yield* readCount(ctx);
  const items: T[] = [];
  for (let i = 0; i < count; i++) {
    ctx.enterItem(i);
    const at = ctx.offset;
    const plain = receiver === undefined ? undefined : plainItemNow(ctx, receiver);
    items.push(check(ctx, plain ?? (yield* item(ctx)), at));
    ctx.leave();
  }
  ctx.up();
  return items;
}

// --- complete buffers: the fast path, else the general one (running out is a TruncatedError) -----------

export const strSync = (ctx: PullContext): string => strNow(ctx) ?? pullNow(ctx, readStr(ctx));
export const countSync = (ctx: PullContext, what?: string): number =>
  countNow(ctx) ?? pullNow(ctx, readCount(ctx, what));
export const numericSync = (ctx: PullContext): PyScalar | boolean =>
  numericNow(ctx) ?? pullNow(ctx, readNumeric(ctx));
export const arraySync = (ctx: PullContext, receiver: 'squeeze' | 'atleast1d'): NdArray =>
  arrayNow(ctx, receiver) ?? pullNow(ctx, readArrayND(ctx, receiver));
export const bytesSync = (ctx: PullContext): Uint8Array => pullNow(ctx, readBytes(ctx));

// --- encoders ---------------------------------------------------------------------------------------------

export type ScalarRule = 'any' | 'python';

// What a Python int / float / bool / complex becomes through np.array([x]) (docs/protocols/pymodaq.md §2): numpy picks <i8
// (<i4 on Windows with numpy < 2) or <u8 for 2^63..2^64-1, <f8, |b1, <c16. Big-endian hosts give `>`.
const PYTHON_SCALAR_DTYPES = new Set([
  '<i8',
  '>i8',
  '<i4',
  '>i4',
  '<u8',
  '>u8',
  '<f8',
  '>f8',
  '|b1',
  '<c16',
  '>c16',
]);

/** The scalar a value stands for, or undefined when it is not a number. */
export function asScalar(value: PyValue): PyScalar | undefined {
  if (typeof value === 'number') return { type: 'scalar', dtype: '<f8', value };
  if (typeof value === 'bigint') return pyInt(value);
  if (typeof value === 'boolean') return { type: 'scalar', dtype: '|b1', value };
  if (isPyScalar(value)) return value;
  return undefined;
}

export function isPythonScalar(scalar: PyScalar): boolean {
  return PYTHON_SCALAR_DTYPES.has(scalar.dtype);
}

/** The start of a `<f8` numeric block (a Python float): `str "<f8"` + `u32 8`. */
const F8_BLOCK = (() => {
  const dtype = strBytes('<f8');
  const out = new Uint8Array(dtype.length + 4);
  out.set(dtype);
  out[out.length - 1] = 8;
  return out;
})();

/** Numeric block: `str dtype` + `u32 nbytes` + the value in the dtype's byte order. */
export function writeNumeric(w: WireWriter, scalar: PyScalar): void {
  const { dtype, value } = scalar;
  // Fast paths for what Python floats, ints and bools become.
  if (typeof value === 'number' && dtype === '<f8') {
    w.run(F8_BLOCK).f64(value, true);
    return;
  }
  if (typeof value === 'number' && dtype === '>f8') {
    w.str(dtype).u32(8).f64(value, false);
    return;
  }
  if (typeof value === 'number' && (dtype === '<i8' || dtype === '>i8') && Number.isSafeInteger(value)) {
    w.str(dtype)
      .u32(8)
      .i64(value, dtype[0] === '<');
    return;
  }
  if (typeof value === 'boolean' && dtype === '|b1') {
    w.str(dtype)
      .u32(1)
      .u8(value ? 1 : 0);
    return;
  }
  let array: NdArray;
  try {
    array = NdArray.fromValues([scalar.value], { dtype: scalar.dtype, shape: [] });
  } catch (e) {
    throw new UnsupportedValueError(
      `cannot encode scalar ${String(scalar.value)} as ${scalar.dtype}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  w.str(scalar.dtype).lengthPrefixed(array.data);
}

const DTYPE_RUNS = new Map<string, Uint8Array>();

/** A dtype as the bytes of a `str` (a handful of dtypes recur: each is encoded once). */
function dtypeRun(dtype: string): Uint8Array {
  let run = DTYPE_RUNS.get(dtype);
  if (run === undefined) {
    run = strBytes(dtype);
    if (DTYPE_RUNS.size < 64) DTYPE_RUNS.set(dtype, run);
  }
  return run;
}

/** What every generation writes alike: a `str`, `bytes` (the same on the wire) and an array block. */
export function writePlain(
  w: WireWriter,
  value: PyValue,
  writeArray: (w: WireWriter, a: NdArray) => void,
): boolean {
  if (typeof value === 'string') w.str(value);
  else if (value instanceof NdArray) writeArray(w, value);
  else if (value instanceof Uint8Array) w.lengthPrefixed(value);
  else return false;
  return true;
}

const PLAIN_TAG = strRuns(['array', 'string', 'scalar']);

/**
 * A list item tagged `array`, `string` or `scalar` (gen B, and C for those kinds); `toScalar` applies the
 * generation's rule for numbers. False for anything else.
 */
export function writePlainItem(
  w: WireWriter,
  value: PyValue,
  toScalar: (value: PyValue) => PyScalar | undefined,
): boolean {
  if (value instanceof NdArray) {
    writeArrayND(w.run(PLAIN_TAG.array), value);
    return true;
  }
  if (typeof value === 'string') {
    w.run(PLAIN_TAG.string).str(value);
    return true;
  }
  const scalar = toScalar(value);
  if (scalar === undefined) return false;
  writeNumeric(w.run(PLAIN_TAG.scalar), scalar);
  return true;
}

/** A list body: u32 count, then each item with `writeItem`. */
export function writeItems(
  w: WireWriter,
  items: readonly PyValue[],
  writeItem: (w: WireWriter, item: PyValue) => void,
): void {
  w.u32(items.length, 'list length');
  for (const item of items) writeItem(w, item);
}

/** The shape to send: `wireShape` when it describes the same data, else `shape`. */
export function shapeToSend(array: NdArray): readonly number[] {
  const w = array.wireShape;
  return w !== undefined && shapeProduct(w) === array.size ? w : array.shape;
}

/** Array block gen B–D: dtype, nbytes, ndim, dims, C-order data. */
export function writeArrayND(w: WireWriter, array: NdArray): void {
  const shape = shapeToSend(array);
  w.run(dtypeRun(array.dtype)).u32(array.data.length, 'array nbytes').u32(shape.length, 'ndim');
  for (const d of shape) w.u32(d, 'dimension');
  w.raw(array.data);
}

/**
 * Array block gen A: nrow = shape[0], ncol = shape[1] for 2-D and 1 for 1-D (PyMoDAQ 2.0.0 send_array).
 * A 0-d array goes as 1 x 1 (upstream fails on it; its receiver squeezes 1 x 1 back to 0-d). Arrays of 3
 * or more dimensions cannot be expressed.
 */
export function writeArrayA(w: WireWriter, array: NdArray): void {
  const ws = array.wireShape;
  let nrow: number;
  let ncol: number;
  if (ws !== undefined && ws.length === 2 && (ws[1] === 0 ? true : ws[0]! * ws[1]! === array.size)) {
    [nrow, ncol] = ws as [number, number];
  } else if (array.ndim === 0) {
    [nrow, ncol] = [1, 1];
  } else if (array.ndim === 1) {
    [nrow, ncol] = [array.shape[0]!, 1];
  } else if (array.ndim === 2) {
    [nrow, ncol] = array.shape as [number, number];
  } else {
    throw new UnsupportedValueError(
      `gen A carries arrays of at most 2 dimensions (nrow x ncol); got shape [${array.shape.join(', ')}]`,
    );
  }
  w.str(array.dtype)
    .u32(array.data.length, 'array nbytes')
    .u32(nrow, 'nrow')
    .u32(ncol, 'ncol')
    .raw(array.data);
}
