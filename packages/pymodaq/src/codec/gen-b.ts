// Generation B (PyMoDAQ 2.0.1–4.0.x, class `Socket` in tcp_server_client.py, and the LabVIEW example
// client; docs/protocols/pymodaq.md §4): N-d arrays with ndim + shape (squeezed by the receiver) and lists whose items carry a
// type tag `array`, `string` or `scalar`.

import { anyValue } from './checks';
import { UnknownTagError, UnsupportedValueError } from './errors';
import {
  asScalar,
  isPythonScalar,
  readArrayND,
  readItems,
  readPlainKind,
  readStr,
  writeArrayND,
  writeItems,
  writeNumeric,
  writePlain,
  writePlainItem,
} from './primitives';
import type { Pull, PullContext } from './pull';
import { type PyScalar, type PyValue, pyTypeName } from './values';
import type { ValueKind } from './wire-profile';
import type { WireWriter } from './wire-writer';

export const TAGS_B = ['array', 'string', 'scalar'] as const;

export function* readTaggedB(ctx: PullContext): Pull<PyValue> {
  const at = ctx.offset;
  const tag = yield* readStr(ctx);
  // The tags are named after the kinds they hold.
  if (!(TAGS_B as readonly string[]).includes(tag)) {
    throw new UnknownTagError(tag, at, TAGS_B, ctx.field || undefined);
  }
  return yield* readValueB(ctx, tag as ValueKind);
}

export function readListB(ctx: PullContext): Pull<PyValue[]> {
  return readItems(ctx, readTaggedB, anyValue, 'squeeze');
}

export function* readValueB(ctx: PullContext, kind: ValueKind | undefined): Pull<PyValue> {
  const plain = readPlainKind(ctx, kind);
  if (plain !== undefined) return yield* plain;
  switch (kind) {
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
  if (writePlain(w, value, writeArrayND)) return;
  const scalar = scalarB(value);
  if (scalar) {
    writeNumeric(w, scalar);
    return;
  }
  if (Array.isArray(value)) {
    writeItems(w, value as readonly PyValue[], writeTaggedB);
    return;
  }
  throw new UnsupportedValueError(`gen B cannot encode ${pyTypeName(value)}`);
}

/** send_list item: the tag, then the item (arrays, strings and scalars only; anything else raises upstream). */
export function writeTaggedB(w: WireWriter, value: PyValue): void {
  if (writePlainItem(w, value, scalarB)) return;
  throw new UnsupportedValueError(
    `gen B list items are arrays, strings or scalars, not ${pyTypeName(value)}`,
  );
}
