// Generation B (PyMoDAQ 2.0.1–4.0.x, class `Socket` in tcp_server_client.py, and the LabVIEW example
// client; spec §4): N-d arrays with ndim + shape (squeezed by the receiver) and lists whose items carry a
// type tag `array`, `string` or `scalar`.

import { UnknownTagError, UnsupportedValueError } from './errors';
import { NdArray } from './nd-array';
import {
  asScalar,
  isPythonScalar,
  plainItemNow,
  readArrayND,
  readBytes,
  readCount,
  readNumeric,
  readStr,
  writeArrayND,
  writeNumeric,
} from './primitives';
import type { Pull, PullContext } from './pull';
import { type PyScalar, type PyValue, pyTypeName } from './values';
import type { ValueKind } from './wire-profile';
import { strRuns, type WireWriter } from './wire-writer';

export const TAGS_B = ['array', 'string', 'scalar'] as const;
const TAG = strRuns(TAGS_B);

export function* readTaggedB(ctx: PullContext): Pull<PyValue> {
  const at = ctx.offset;
  const tag = yield* readStr(ctx);
  switch (tag) {
    case 'array':
      return yield* readArrayND(ctx, 'squeeze');
    case 'string':
      return yield* readStr(ctx);
    case 'scalar':
      return yield* readNumeric(ctx);
    default:
      throw new UnknownTagError(tag, at, TAGS_B, ctx.field || undefined);
  }
}

export function* readListB(ctx: PullContext): Pull<PyValue[]> {
  ctx.down();
  const count = yield* readCount(ctx);
  const items: PyValue[] = [];
  for (let i = 0; i < count; i++) {
    ctx.enterItem(i);
    items.push(plainItemNow(ctx, 'squeeze') ?? (yield* readTaggedB(ctx)));
    ctx.leave();
  }
  ctx.up();
  return items;
}

export function* readValueB(ctx: PullContext, kind: ValueKind | undefined): Pull<PyValue> {
  switch (kind) {
    case 'string':
      return yield* readStr(ctx);
    case 'bytes':
      return yield* readBytes(ctx);
    case 'scalar':
      return yield* readNumeric(ctx);
    case 'array':
      return yield* readArrayND(ctx, 'squeeze');
    case 'list':
      return yield* readListB(ctx);
    case 'tagged':
    case undefined:
      return yield* readTaggedB(ctx);
    default:
      throw new UnsupportedValueError(
        `gen B has no ${kind}: use string, bytes, scalar, array, list or tagged`,
      );
  }
}

/** send_scalar accepts only Python int and float (bool is an int): numpy scalars and complex raise. */
function scalarB(value: PyValue): PyScalar | undefined {
  const scalar = asScalar(value);
  if (scalar === undefined) return undefined;
  if (!isPythonScalar(scalar) || scalar.dtype.includes('c')) {
    throw new UnsupportedValueError(
      `gen B send_scalar takes a Python int or float, not a ${scalar.dtype} scalar`,
    );
  }
  return scalar;
}

export function writeValueB(w: WireWriter, value: PyValue): void {
  if (typeof value === 'string') {
    w.str(value);
    return;
  }
  if (value instanceof NdArray) {
    writeArrayND(w, value);
    return;
  }
  if (value instanceof Uint8Array) {
    w.lengthPrefixed(value);
    return;
  }
  const scalar = scalarB(value);
  if (scalar) {
    writeNumeric(w, scalar);
    return;
  }
  if (Array.isArray(value)) {
    const list = value as readonly PyValue[];
    w.u32(list.length, 'list length');
    for (const item of list) writeTaggedB(w, item);
    return;
  }
  throw new UnsupportedValueError(`gen B cannot encode ${pyTypeName(value)}`);
}

/** send_list item: the tag, then the item (arrays, strings and scalars only; anything else raises upstream). */
export function writeTaggedB(w: WireWriter, value: PyValue): void {
  if (value instanceof NdArray) {
    writeArrayND(w.run(TAG.array), value);
    return;
  }
  if (typeof value === 'string') {
    w.run(TAG.string).str(value);
    return;
  }
  const scalar = scalarB(value);
  if (scalar) {
    writeNumeric(w.run(TAG.scalar), scalar);
    return;
  }
  throw new UnsupportedValueError(
    `gen B list items are arrays, strings or scalars, not ${pyTypeName(value)}`,
  );
}
