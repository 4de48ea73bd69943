// Generation A (PyMoDAQ 1.6.0–2.0.0, `tcpip_utils.py`, docs/protocols/pymodaq.md §3): strings, scalars, rows x cols arrays and
// lists whose items carry no type tag, so the receiver must be told the item kind.

import { anyValue } from './checks';
import { UnsupportedValueError } from './errors';
import {
  asScalar,
  readArrayA,
  readItems,
  readPlainKind,
  writeArrayA,
  writeItems,
  writeNumeric,
  writePlain,
} from './primitives';
import type { Pull, PullContext } from './pull';
import { type PyValue, pyTypeName } from './values';
import type { ValueKind } from './wire-profile';
import type { WireWriter } from './wire-writer';

export type ItemKindA = 'array' | 'string' | 'scalar';

function readItemA(ctx: PullContext, kind: ItemKindA): Pull<PyValue> {
  return kind === 'array' ? readArrayA(ctx) : readPlainKind(ctx, kind)!;
}

/** `get_list(sock, kind)`: u32 count, then `count` untagged items of the one kind. */
export function readListA(ctx: PullContext, itemKind: ItemKindA): Pull<PyValue[]> {
  return readItems(ctx, (c) => readItemA(c, itemKind), anyValue);
}

export function* readValueA(
  ctx: PullContext,
  kind: ValueKind | undefined,
  itemKind?: ItemKindA,
): Pull<PyValue> {
  const plain = readPlainKind(ctx, kind);
  if (plain !== undefined) return yield* plain;
  if (kind === 'array') return yield* readArrayA(ctx);
  if (kind === 'list') {
    if (!itemKind) {
      throw new UnsupportedValueError(
        'gen A lists carry no item tags: pass itemKind (array, string or scalar)',
      );
    }
    return yield* readListA(ctx, itemKind);
  }
  throw new UnsupportedValueError(
    `gen A has no self-describing values: pass kind string, bytes, scalar, array or list (got ${String(kind)})`,
  );
}

/** send_string / send_scalar / send_array / send_list, chosen by the value's type. */
export function writeValueA(w: WireWriter, value: PyValue, inList = false): void {
  // A list item is an array, a string or a scalar (bytes and nested lists are not list items).
  if (!(inList && value instanceof Uint8Array) && writePlain(w, value, writeArrayA)) return;
  const scalar = asScalar(value);
  if (scalar) {
    writeNumeric(w, scalar);
    return;
  }
  if (Array.isArray(value) && !inList) {
    writeItems(w, value as readonly PyValue[], (iw, item) => writeValueA(iw, item, true));
    return;
  }
  throw new UnsupportedValueError(
    `gen A cannot encode ${pyTypeName(value)}${inList ? ' as a list item (arrays, strings and scalars only)' : ''}`,
  );
}
