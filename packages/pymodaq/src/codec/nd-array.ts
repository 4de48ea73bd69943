// NdArray: a numpy array as it travels: the dtype string kept exactly, the shape, and the raw data bytes in
// C (row-major) order and in the dtype's byte order (docs/protocols/pymodaq.md §2). Elements are read through a DataView, so
// big-endian and unaligned data work; `typed()` gives a typed-array view when the layout allows one.

import { viewOf } from '@labwire/framing';
import {
  type Complex,
  type DtypeInfo,
  type Element,
  HOST_LITTLE_ENDIAN,
  parseDtype,
  readElement,
  toNumber,
  viewFor,
  writeElement,
} from './dtype';

export type TypedArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkShape(shape: readonly number[], what: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffff_ffff) {
      throw new RangeError(`${what}: dimensions must be whole numbers 0..2^32-1, got [${shape.join(', ')}]`);
    }
  }
}

function dtypeOf(dtype: string): DtypeInfo {
  const info = parseDtype(dtype);
  if (!info)
    throw new RangeError(
      `unsupported dtype ${JSON.stringify(dtype)} (expected e.g. <f8, >i4, |u1, |b1, <c16)`,
    );
  return info;
}

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);

const TYPED_BY_DTYPE: Record<string, (b: ArrayBuffer, o: number, n: number) => TypedArray> = {
  b1: (b, o, n) => new Uint8Array(b, o, n),
  u1: (b, o, n) => new Uint8Array(b, o, n),
  i1: (b, o, n) => new Int8Array(b, o, n),
  u2: (b, o, n) => new Uint16Array(b, o, n),
  i2: (b, o, n) => new Int16Array(b, o, n),
  u4: (b, o, n) => new Uint32Array(b, o, n),
  i4: (b, o, n) => new Int32Array(b, o, n),
  u8: (b, o, n) => new BigUint64Array(b, o, n),
  i8: (b, o, n) => new BigInt64Array(b, o, n),
  f4: (b, o, n) => new Float32Array(b, o, n),
  f8: (b, o, n) => new Float64Array(b, o, n),
  c8: (b, o, n) => new Float32Array(b, o, 2 * n),
  c16: (b, o, n) => new Float64Array(b, o, 2 * n),
};

/** dtype (little-endian, numpy spelling) of each typed-array type, for `NdArray.fromTyped`. */
function dtypeOfTyped(typed: TypedArray): string {
  const order = HOST_LITTLE_ENDIAN ? '<' : '>';
  if (typed instanceof Float64Array) return `${order}f8`;
  if (typed instanceof Float32Array) return `${order}f4`;
  if (typed instanceof Int32Array) return `${order}i4`;
  if (typed instanceof Uint32Array) return `${order}u4`;
  if (typed instanceof Int16Array) return `${order}i2`;
  if (typed instanceof Uint16Array) return `${order}u2`;
  if (typed instanceof Int8Array) return '|i1';
  if (typed instanceof BigInt64Array) return `${order}i8`;
  if (typed instanceof BigUint64Array) return `${order}u8`;
  return '|u1';
}

/**
 * Marks every NdArray, whichever copy of this module made it: the CommonJS builds of `@labwire/pymodaq`
 * and `@labwire/pymodaq/codec` are two bundles, each with its own class, and an array made through one
 * entry point must still be an NdArray to the other.
 */
const NDARRAY: unique symbol = Symbol.for('@labwire/pymodaq.NdArray');

export class NdArray {
  /** `value instanceof NdArray` holds for an NdArray from any copy of this module (see NDARRAY). */
  static [Symbol.hasInstance](value: unknown): value is NdArray {
    return (
      typeof value === 'object' && value !== null && (value as { [NDARRAY]?: unknown })[NDARRAY] === true
    );
  }

  /** Discriminator shared by every PyValue object. */
  readonly type = 'ndarray' as const;
  /** numpy dtype string exactly as on the wire (`<f8`, `>f8`, `|b1`, `<c16`, …). */
  readonly dtype: string;
  /** The shape PyMoDAQ's receiver sees (after `np.squeeze` in gen A/B, `np.atleast_1d` in gen C/D). */
  readonly shape: readonly number[];
  /** Raw element bytes, C order, dtype byte order. May be a view of a larger buffer. */
  readonly data: Uint8Array;
  /**
   * The shape on the wire when the receiver's squeeze/atleast_1d changed it (e.g. `[1]` for a value that
   * decodes 0-d in gen B, `[nrow, ncol]` in gen A). Encoders use it so a decoded array re-encodes byte for byte.
   */
  readonly wireShape: readonly number[] | undefined;
  readonly #info: DtypeInfo;
  readonly #size: number;
  /** A DataView over `data`, made on first element access. */
  #view: DataView | undefined;

  constructor(dtype: string, shape: readonly number[], data: Uint8Array, wireShape?: readonly number[]) {
    const info = dtypeOf(dtype);
    checkShape(shape, 'NdArray shape');
    const size = product(shape);
    if (data.length !== size * info.itemsize) {
      throw new RangeError(
        `NdArray: ${data.length} data byte(s) do not match shape [${shape.join(', ')}] of ${dtype} (${size * info.itemsize} expected)`,
      );
    }
    if (wireShape !== undefined) {
      checkShape(wireShape, 'NdArray wireShape');
    }
    this.dtype = dtype;
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze([...shape]);
    this.data = data;
    this.wireShape = wireShape === undefined ? undefined : Object.freeze([...wireShape]);
    this.#info = info;
    this.#size = size;
  }

  /** A view over the buffer behind `data` (element offsets add `data.byteOffset`). */
  #dataView(): DataView {
    this.#view ??= viewFor(this.data);
    return this.#view;
  }

  /** Builds an array from element values (numbers, bigints, booleans or `{re, im}`), C order. */
  static fromValues(
    values: ArrayLike<Element>,
    options: { dtype?: string; shape?: readonly number[] } = {},
  ): NdArray {
    const dtype = options.dtype ?? '<f8';
    const info = dtypeOf(dtype);
    const shape = options.shape ?? [values.length];
    checkShape(shape, 'NdArray.fromValues shape');
    if (product(shape) !== values.length) {
      throw new RangeError(
        `NdArray.fromValues: ${values.length} value(s) do not fill shape [${shape.join(', ')}]`,
      );
    }
    let data: Uint8Array;
    if (info.kind === 'f' && info.itemsize === 8 && info.littleEndian === HOST_LITTLE_ENDIAN) {
      // float64 in host order (what a JS number is), copied through a scratch element: a small array
      // stays on V8's heap (a DataView over it would move it out first).
      data = new Uint8Array(values.length * 8);
      for (let i = 0; i < values.length; i++) {
        F64[0] = toNumber(values[i]!, info);
        for (let b = 0; b < 8; b++) data[8 * i + b] = F64_BYTES[b]!;
      }
    } else {
      data = new Uint8Array(values.length * info.itemsize);
      const view = viewOf(data);
      for (let i = 0; i < values.length; i++) writeElement(view, i * info.itemsize, info, values[i]!);
    }
    return new NdArray(dtype, shape, data);
  }

  /** Wraps a typed array (host byte order; no copy). Complex data: use `fromValues` with a `<c16` dtype. */
  static fromTyped(typed: TypedArray, shape: readonly number[] = [typed.length], dtype?: string): NdArray {
    const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
    return new NdArray(dtype ?? dtypeOfTyped(typed), shape, bytes);
  }

  /** A 0-d array holding one value (what `np.array(x)` gives). */
  static scalar(value: Element, dtype = '<f8'): NdArray {
    return NdArray.fromValues([value], { dtype, shape: [] });
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  get size(): number {
    return this.#size;
  }

  get itemsize(): number {
    return this.#info.itemsize;
  }

  get kind(): 'b' | 'i' | 'u' | 'f' | 'c' {
    return this.#info.kind;
  }

  get byteOrder(): '<' | '>' | '|' {
    return this.#info.order;
  }

  /** Element at a flat (C-order) index. */
  get(index: number): Element {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new RangeError(`NdArray.get: index ${index} out of range 0..${this.size - 1}`);
    }
    return readElement(this.#dataView(), this.data.byteOffset + index * this.#info.itemsize, this.#info);
  }

  /** Element at an N-d index (one index per dimension). */
  at(...indices: number[]): Element {
    if (indices.length !== this.shape.length) {
      throw new RangeError(`NdArray.at: ${indices.length} indices for ${this.shape.length} dimensions`);
    }
    let flat = 0;
    for (let d = 0; d < indices.length; d++) {
      const i = indices[d]!;
      const n = this.shape[d]!;
      if (!Number.isInteger(i) || i < 0 || i >= n)
        throw new RangeError(`NdArray.at: index ${i} out of range 0..${n - 1}`);
      flat = flat * n + i;
    }
    return this.get(flat);
  }

  /** All elements, flat in C order. */
  toArray(): Element[] {
    const view = this.#dataView();
    const size = this.#info.itemsize;
    const base = this.data.byteOffset;
    const out = new Array<Element>(this.size);
    for (let i = 0; i < out.length; i++) out[i] = readElement(view, base + i * size, this.#info);
    return out;
  }

  /** All elements as JS numbers (bool 0/1; int64 beyond 2^53 lose precision; complex refuses). */
  toNumbers(): number[] {
    return this.toArray().map((v) => {
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      if (typeof v === 'boolean') return v ? 1 : 0;
      throw new RangeError(`NdArray.toNumbers: ${this.dtype} holds complex values; use toArray()`);
    });
  }

  /**
   * A typed array over the data: a view when the data is in host byte order and aligned, otherwise a
   * converted copy. `|b1` gives Uint8Array (0/1), complex types interleaved re/im Float32/64Array, `<f2` a
   * Float32Array copy, 64-bit ints BigInt64Array / BigUint64Array.
   */
  typed(): TypedArray {
    const info = this.#info;
    const n = this.size;
    const key = `${info.kind}${info.itemsize}`;
    const hostOrder = info.order === '|' || info.littleEndian === HOST_LITTLE_ENDIAN;
    const align = info.kind === 'c' ? info.itemsize / 2 : info.itemsize;
    const make = TYPED_BY_DTYPE[key];
    if (make && hostOrder && this.data.byteOffset % align === 0) {
      return make(this.data.buffer as ArrayBuffer, this.data.byteOffset, n);
    }
    if (key === 'f2') return Float32Array.from(this.toNumbers());
    // Converted copy: values swapped into host order through a DataView.
    const out = new Uint8Array(this.data.length);
    const dst = viewOf(out);
    const src = viewOf(this.data);
    const hostInfo: DtypeInfo = { ...info, littleEndian: HOST_LITTLE_ENDIAN };
    for (let i = 0; i < n; i++) {
      writeElement(dst, i * info.itemsize, hostInfo, readElement(src, i * info.itemsize, info));
    }
    return make!(out.buffer, 0, n);
  }

  /** The same data with another shape of the same size (no copy). */
  reshape(shape: readonly number[]): NdArray {
    checkShape(shape, 'NdArray.reshape');
    if (product(shape) !== this.size) {
      throw new RangeError(`NdArray.reshape: [${shape.join(', ')}] does not hold ${this.size} element(s)`);
    }
    return new NdArray(this.dtype, shape, this.data);
  }

  /** Same dtype, shape and bytes (wireShape is ignored: it is wire history, not content). */
  equals(other: NdArray): boolean {
    if (this.dtype !== other.dtype || this.shape.length !== other.shape.length) return false;
    for (let i = 0; i < this.shape.length; i++) if (this.shape[i] !== other.shape[i]) return false;
    if (this.data.length !== other.data.length) return false;
    for (let i = 0; i < this.data.length; i++) if (this.data[i] !== other.data[i]) return false;
    return true;
  }

  toString(): string {
    const values = this.size <= 8 ? this.toArray().map(formatElement).join(', ') : `${this.size} values`;
    return `NdArray(${this.dtype}, [${this.shape.join(', ')}], ${values})`;
  }
}
Object.defineProperty(NdArray.prototype, NDARRAY, { value: true });

export function formatElement(v: Element): string {
  if (typeof v === 'object') return `${v.re}${v.im < 0 || Object.is(v.im, -0) ? '-' : '+'}${Math.abs(v.im)}j`;
  return String(v);
}

export type { Complex, Element };
