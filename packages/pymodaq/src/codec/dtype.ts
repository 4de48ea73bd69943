// numpy dtype strings as PyMoDAQ sends them: `dtype.descr[0][1]`, i.e. a byte-order character (`<` little,
// `>` big, `|` not applicable), a kind character and the item size in bytes (docs/protocols/pymodaq.md §2). The string is kept
// exactly as received so that a value re-encodes byte for byte.

export type DtypeKind = 'b' | 'i' | 'u' | 'f' | 'c';

export interface DtypeInfo {
  /** The dtype string exactly as on the wire, e.g. `<f8`, `>f8`, `|b1`. */
  readonly dtype: string;
  readonly order: '<' | '>' | '|';
  readonly kind: DtypeKind;
  /** Bytes per item. */
  readonly itemsize: number;
  /** Byte order for DataView reads (`|` types are single bytes; the flag is irrelevant). */
  readonly littleEndian: boolean;
}

/**
 * One element of an array or a scalar: int kinds above 2^53 come back as bigint; a complex number (numpy
 * `complex64` / `complex128`, Python `complex`) is `{ re, im }`.
 */
export type Element = number | bigint | boolean | { readonly re: number; readonly im: number };

/** A complex element. */
export type Complex = Exclude<Element, number | bigint | boolean>;

const SIZES: Record<DtypeKind, readonly number[]> = {
  b: [1],
  i: [1, 2, 4, 8],
  u: [1, 2, 4, 8],
  f: [2, 4, 8],
  c: [8, 16],
};

const cache = new Map<string, DtypeInfo>();

/** Parses a dtype string; undefined when it is not one labwire can decode (e.g. `<U5`, `|O`, `<M8[ns]`). */
export function parseDtype(dtype: string): DtypeInfo | undefined {
  const hit = cache.get(dtype);
  if (hit) return hit;
  const m = /^([<>|])([biufc])(\d{1,2})$/.exec(dtype);
  if (!m) return undefined;
  const order = m[1] as '<' | '>' | '|';
  const kind = m[2] as DtypeKind;
  const itemsize = Number(m[3]);
  if (!SIZES[kind].includes(itemsize)) return undefined;
  // numpy writes `|` only for single-byte types; a multi-byte type needs an explicit byte order.
  if (order === '|' && itemsize !== 1) return undefined;
  const info: DtypeInfo = Object.freeze({ dtype, order, kind, itemsize, littleEndian: order !== '>' });
  if (cache.size < 256) cache.set(dtype, info);
  return info;
}

let cachedBuffer: ArrayBufferLike | undefined;
let cachedView: DataView | undefined;

/**
 * A DataView over the whole buffer behind `bytes` (add `bytes.byteOffset` to offsets). Cached: the fields
 * of a message share one buffer.
 */
export function viewFor(bytes: Uint8Array): DataView {
  // Large buffers are not cached, so the cache never keeps a big message alive.
  if (bytes.buffer.byteLength > 65_536) return new DataView(bytes.buffer);
  if (bytes.buffer !== cachedBuffer) {
    cachedBuffer = bytes.buffer;
    cachedView = new DataView(bytes.buffer);
  }
  return cachedView!;
}

/** Host byte order: typed-array views are only valid when the data uses it. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const TWO_53 = 2 ** 53;

function intValue(v: bigint): number | bigint {
  return v >= -BigInt(TWO_53) && v <= BigInt(TWO_53) ? Number(v) : v;
}

/** Reads one element at `at` (bytes) through a DataView, honouring the dtype's byte order. */
export function readElement(view: DataView, at: number, info: DtypeInfo): Element {
  const le = info.littleEndian;
  switch (info.kind) {
    case 'b':
      return view.getUint8(at) !== 0;
    case 'i':
      switch (info.itemsize) {
        case 1:
          return view.getInt8(at);
        case 2:
          return view.getInt16(at, le);
        case 4:
          return view.getInt32(at, le);
        default:
          return intValue(view.getBigInt64(at, le));
      }
    case 'u':
      switch (info.itemsize) {
        case 1:
          return view.getUint8(at);
        case 2:
          return view.getUint16(at, le);
        case 4:
          return view.getUint32(at, le);
        default:
          return intValue(view.getBigUint64(at, le));
      }
    case 'f':
      switch (info.itemsize) {
        case 2:
          return halfToFloat(view.getUint16(at, le));
        case 4:
          return view.getFloat32(at, le);
        default:
          return view.getFloat64(at, le);
      }
    case 'c':
      return info.itemsize === 8
        ? { re: view.getFloat32(at, le), im: view.getFloat32(at + 4, le) }
        : { re: view.getFloat64(at, le), im: view.getFloat64(at + 8, le) };
  }
}

function toBigInt(value: Element, info: DtypeInfo): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  throw new RangeError(`${info.dtype} needs an integer, got ${describe(value)}`);
}

/** A float dtype's value as a JS number (complex values are refused). */
export function toNumber(value: Element, info: DtypeInfo): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  throw new RangeError(`${info.dtype} cannot hold the complex value ${describe(value)}`);
}

function describe(value: Element): string {
  return typeof value === 'object' ? `(${value.re}+${value.im}j)` : String(value);
}

function checkIntRange(v: bigint, info: DtypeInfo): void {
  const bits = BigInt(info.itemsize * 8);
  const [lo, hi] =
    info.kind === 'u' ? [0n, (1n << bits) - 1n] : [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n];
  if (v < lo || v > hi) throw new RangeError(`${v} does not fit ${info.dtype}`);
}

/** Writes one element at `at`; integers are range-checked (numpy would wrap or refuse). */
export function writeElement(view: DataView, at: number, info: DtypeInfo, value: Element): void {
  const le = info.littleEndian;
  switch (info.kind) {
    case 'b':
      view.setUint8(at, value === true || (typeof value !== 'object' && Number(value) !== 0) ? 1 : 0);
      return;
    case 'i':
    case 'u': {
      const v = toBigInt(value, info);
      checkIntRange(v, info);
      if (info.itemsize === 8) {
        if (info.kind === 'i') view.setBigInt64(at, v, le);
        else view.setBigUint64(at, v, le);
        return;
      }
      const n = Number(v);
      if (info.itemsize === 1) view.setUint8(at, n & 0xff);
      else if (info.itemsize === 2) view.setUint16(at, n & 0xffff, le);
      else view.setUint32(at, n >>> 0, le);
      return;
    }
    case 'f': {
      const n = toNumber(value, info);
      if (info.itemsize === 2) view.setUint16(at, floatToHalf(n), le);
      else if (info.itemsize === 4) view.setFloat32(at, n, le);
      else view.setFloat64(at, n, le);
      return;
    }
    case 'c': {
      const c = typeof value === 'object' ? value : { re: toNumber(value, info), im: 0 };
      if (info.itemsize === 8) {
        view.setFloat32(at, c.re, le);
        view.setFloat32(at + 4, c.im, le);
      } else {
        view.setFloat64(at, c.re, le);
        view.setFloat64(at + 8, c.im, le);
      }
      return;
    }
  }
}

/** IEEE 754 binary16 to a JS number (numpy `float16`). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** A JS number to IEEE 754 binary16, rounding to nearest even (as numpy does). */
export function floatToHalf(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00;
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa rolls into the exponent, which is the correct rounding (up to infinity).
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}
