// Generation A (PyMoDAQ 1.6.0–2.0.0, `tcpip_utils.py`, spec §3): strings, scalars, rows x cols arrays and
// lists whose items carry no type tag, so the receiver must be told the item kind.

import { UnsupportedValueError } from './errors';
import { NdArray } from './nd-array';
import {
  asScalar,
  readArrayA,
  readBytes,
  readCount,
  readNumeric,
  readStr,
  writeArrayA,
  writeNumeric,
} from './primitives';
import type { Pull, PullContext } from './pull';
import { type PyValue, pyTypeName } from './values';
import type { ValueKind } from './wire-profile';
import type { WireWriter } from './wire-writer';

export type ItemKindA = 'array' | 'string' | 'scalar';

function readItemA(ctx: PullContext, kind: ItemKindA): Pull<PyValue> {
  if (kind === 'array') return readArrayA(ctx);
  if (kind === 'string') return readStr(ctx);
  return readNumeric(ctx);
}

/** `get_list(sock, kind)`: u32 count, then `count` untagged items of the one kind. */
export function* readListA(ctx: PullContext, itemKind: ItemKindA): Pull<PyValue[]> {
  ctx.down();
  const count = yield* readCount(ctx);
  const items: PyValue[] = [];
  for (let i = 0; i < count; i++) {
    ctx.enterItem(i);
    items.push(yield* readItemA(ctx, itemKind));
    ctx.leave();
  }
  ctx.up();
  return items;
}

export function* readValueA(
  ctx: PullContext,
  kind: ValueKind | undefined,
  itemKind?: ItemKindA,
): Pull<PyValue> {
  switch (kind) {
    case 'string':
      return yield* readStr(ctx);
    case 'bytes':
      return yield* readBytes(ctx);
    case 'scalar':
      return yield* readNumeric(ctx);
    case 'array':
      return yield* readArrayA(ctx);
    case 'list':
      if (!itemKind)
        throw new UnsupportedValueError(
          'gen A lists carry no item tags: pass itemKind (array, string or scalar)',
        );
      return yield* readListA(ctx, itemKind);
    default:
      throw new UnsupportedValueError(
        `gen A has no self-describing values: pass kind string, bytes, scalar, array or list (got ${String(kind)})`,
      );
  }
}

/** send_string / send_scalar / send_array / send_list, chosen by the value's type. */
export function writeValueA(w: WireWriter, value: PyValue, inList = false): void {
  if (typeof value === 'string') {
    w.str(value);
    return;
  }
  if (value instanceof NdArray) {
    writeArrayA(w, value);
    return;
  }
  if (value instanceof Uint8Array && !inList) {
    w.lengthPrefixed(value);
    return;
  }
  const scalar = asScalar(value);
  if (scalar) {
    writeNumeric(w, scalar);
    return;
  }
  if (Array.isArray(value) && !inList) {
    const list = value as readonly PyValue[];
    w.u32(list.length, 'list length');
    for (const item of list) writeValueA(w, item, true);
    return;
  }
  throw new UnsupportedValueError(
    `gen A cannot encode ${pyTypeName(value)}${inList ? ' as a list item (arrays, strings and scalars only)' : ''}`,
  );
}
